//! The public front page: overall banner, components with uptime bars,
//! active and recent incidents.

use leptos::prelude::*;
use leptos_meta::{Html, Title};

use crate::dto::{
    ComponentView, GroupView, IncidentView, Lang, LocalText, StatusPageView, UptimeDay,
};
use crate::i18n::{overall_label, stage_label, status_label, ui};
use crate::server_fns::status_page;

#[component]
pub fn StatusHome(lang: Option<Lang>) -> impl IntoView {
    let page = Resource::new(move || lang, status_page);
    view! {
        <Suspense fallback=|| view! { <p class="loading">"…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(view) => view! { <StatusBody page=view/> }.into_any(),
                    Err(e) => {
                        view! {
                            <p class="error" role="alert">
                                {format!("The status page is unavailable: {e}")}
                            </p>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn StatusBody(page: StatusPageView) -> impl IntoView {
    let lang = page.lang;
    let t = ui(lang);
    let overall = page.overall;
    let active = page.active_incidents;
    let recent = page.recent_incidents;
    view! {
        <Html attr:lang=lang.code()/>
        <Title text=page.page_name.clone()/>
        <header class="page-header">
            <h1>{page.page_name.clone()}</h1>
            <LangSwitcher current=lang/>
        </header>
        <main id="main">
            <section
                class=format!("banner status-{}", overall.as_str())
                aria-live="polite"
                data-testid="overall"
            >
                <span class="icon" aria-hidden="true">{overall.icon()}</span>
                <span>{overall_label(lang, overall)}</span>
            </section>
            {(!active.is_empty())
                .then(|| {
                    view! {
                        <section class="incidents active" aria-labelledby="active-h">
                            <h2 id="active-h">{t.active_incidents}</h2>
                            {active
                                .into_iter()
                                .map(|i| view! { <IncidentCard incident=i lang=lang/> })
                                .collect_view()}
                        </section>
                    }
                })}
            <section class="components" aria-labelledby="components-h">
                <h2 id="components-h">{t.components}</h2>
                {page
                    .groups
                    .into_iter()
                    .map(|g| view! { <Group group=g lang=lang/> })
                    .collect_view()}
            </section>
            <section class="incidents recent" aria-labelledby="recent-h">
                <h2 id="recent-h">{t.recent_incidents}</h2>
                {if recent.is_empty() {
                    view! { <p>{t.no_incidents}</p> }.into_any()
                } else {
                    recent
                        .into_iter()
                        .map(|i| view! { <IncidentCard incident=i lang=lang/> })
                        .collect_view()
                        .into_any()
                }}
            </section>
        </main>
        <footer class="page-footer">
            <p>
                {t.times_in} " " <span data-testid="time-zone">{page.time_zone.clone()}</span>
                " · " {t.updated} " " {page.generated_display.clone()}
            </p>
        </footer>
    }
}

#[component]
fn LangSwitcher(current: Lang) -> impl IntoView {
    view! {
        <nav class="lang-switcher" aria-label=ui(current).language>
            <ul>
                {Lang::ALL
                    .into_iter()
                    .map(|l| {
                        let current_page = (l == current).then_some("page");
                        view! {
                            <li>
                                <a href=format!("/{}", l.code()) hreflang=l.code() aria-current=current_page>
                                    {l.native_name()}
                                </a>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </nav>
    }
}

/// A group of components that the reader can fold away; folding is a
/// client-side interaction, so it also shows that the page has hydrated.
#[component]
fn Group(group: GroupView, lang: Lang) -> impl IntoView {
    let t = ui(lang);
    let (open, set_open) = signal(true);
    let list_id = format!(
        "group-{}",
        group.id.clone().unwrap_or_else(|| "ungrouped".into())
    );
    let heading = group.name.clone();
    view! {
        <div class="group" data-testid="component-group">
            {heading
                .map(|name| {
                    let list_id = list_id.clone();
                    view! {
                        <div class="group-head">
                            <h3><Localized text=name lang=lang/></h3>
                            <button
                                type="button"
                                class="toggle"
                                aria-controls=list_id
                                aria-expanded=move || open.get().to_string()
                                on:click=move |_| set_open.update(|o| *o = !*o)
                            >
                                {move || if open.get() { t.hide } else { t.show }}
                            </button>
                        </div>
                    }
                })}
            <ul class="component-list" id=list_id hidden=move || !open.get()>
                {group
                    .components
                    .into_iter()
                    .map(|c| view! { <ComponentRow component=c lang=lang/> })
                    .collect_view()}
            </ul>
        </div>
    }
}

#[component]
fn ComponentRow(component: ComponentView, lang: Lang) -> impl IntoView {
    let t = ui(lang);
    let status = component.status;
    let uptime = format!(
        "{}.{:02} % {}",
        component.uptime_basis_points / 100,
        component.uptime_basis_points % 100,
        t.uptime
    );
    view! {
        <li class="component" data-testid="component" data-status=status.as_str()>
            <div class="component-head">
                <span class="name"><Localized text=component.name.clone() lang=lang/></span>
                <span class=format!("status status-{}", status.as_str())>
                    <span class="icon" aria-hidden="true">{status.icon()}</span>
                    {status_label(lang, status)}
                </span>
            </div>
            <UptimeBar days=component.days lang=lang/>
            <div class="uptime-legend">
                <span>{t.days_ago_90}</span>
                <span>{uptime}</span>
                <span>{t.today}</span>
            </div>
        </li>
    }
}

#[component]
fn UptimeBar(days: Vec<UptimeDay>, lang: Lang) -> impl IntoView {
    let t = ui(lang);
    view! {
        <ol class="uptime-bar">
            {days
                .into_iter()
                .map(|d| {
                    let label = format!(
                        "{}: {}, {} {}",
                        d.date,
                        status_label(lang, d.worst),
                        d.outage_minutes,
                        t.minutes_down
                    );
                    view! {
                        <li
                            class=format!("day status-{}", d.worst.as_str())
                            title=label.clone()
                            aria-label=label
                        ></li>
                    }
                })
                .collect_view()}
        </ol>
    }
}

#[component]
fn IncidentCard(incident: IncidentView, lang: Lang) -> impl IntoView {
    let t = ui(lang);
    view! {
        <article class=format!("incident impact-{}", incident.impact.as_str()) data-testid="incident">
            <h3><Localized text=incident.title.clone() lang=lang/></h3>
            <p class="meta">
                {stage_label(lang, incident.stage)} " · " {t.started} " " {incident.started_display.clone()}
                {incident.resolved_display.clone().map(|r| format!(" · {} {}", t.resolved, r))}
            </p>
            <ol class="timeline">
                {incident
                    .updates
                    .into_iter()
                    .map(|u| {
                        view! {
                            <li>
                                <strong>{stage_label(lang, u.stage)}</strong>
                                " "
                                <time data-ms=u.at_ms.to_string()>{u.at_display.clone()}</time>
                                <p><Localized text=u.body.clone() lang=lang/></p>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        </article>
    }
}

/// A text that says so when it is shown in another language than the page's.
#[component]
fn Localized(text: LocalText, lang: Lang) -> impl IntoView {
    match text.fallback_from {
        None => view! { <span>{text.text}</span> }.into_any(),
        Some(from) => view! {
            <span lang=from.code()>{text.text}</span>
            <small class="fallback-note">
                " (" {ui(lang).fallback_note} " " {from.native_name()} ")"
            </small>
        }
        .into_any(),
    }
}
