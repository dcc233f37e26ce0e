//! The public front page: overall banner, components with uptime bars,
//! active and recent incidents.

use leptos::prelude::*;
use leptos_meta::{Html, Title};

use crate::dto::{ComponentView, GroupView, IncidentView, Lang, StatusPageView, UptimeSpan};
use crate::i18n::{format_percent, overall_label, stage_label, status_label, ui};
use crate::islands::FoldToggle;
use crate::pages::common::{
    document_title, loaded, prefix, set_language_headers, Localized, LocalizedHtml, PageFooter,
    PageHeader, Time,
};
use crate::server_fns::status_page;

#[component]
pub fn StatusHome(lang: Option<Lang>) -> impl IntoView {
    let page = Resource::new(move || lang, status_page);
    loaded(page, move |view| {
        view! { <StatusBody page=view route_lang=lang/> }.into_any()
    })
}

#[component]
fn StatusBody(page: StatusPageView, route_lang: Option<Lang>) -> impl IntoView {
    let lang = page.lang;
    set_language_headers(lang);
    let t = ui(lang);
    let overall = page.overall;
    let active = page.active_incidents;
    let recent = page.recent_incidents;
    let base = prefix(route_lang);
    let history_href = format!("{base}/history");
    view! {
        <Html attr:lang=lang.code()/>
        <Title text=document_title(page.page_name.clone())/>
        <PageHeader page_name=page.page_name.clone() lang=lang route_lang=route_lang is_home=true/>
        <main id="main" tabindex="-1">
            // A `div`: the banner is one sentence, not a section with a heading.
            <div
                class=format!("banner status-{}", overall.as_str())
                aria-live="polite"
                data-testid="overall"
            >
                <span class="icon" aria-hidden="true">{overall.icon()}</span>
                <span>{overall_label(lang, overall)}</span>
            </div>
            {(!active.is_empty())
                .then(|| {
                    view! {
                        <section class="incidents active" aria-labelledby="active-h">
                            <h2 id="active-h">{t.active_incidents}</h2>
                            {active
                                .into_iter()
                                .map(|i| view! { <IncidentCard incident=i lang=lang base=base.clone()/> })
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
                        .map(|i| view! { <IncidentCard incident=i lang=lang base=base.clone()/> })
                        .collect_view()
                        .into_any()
                }}
                <p class="more">
                    <a href=history_href data-testid="history-link">{t.history}</a>
                </p>
            </section>
        </main>
        <PageFooter lang=lang time_zone=page.time_zone.clone() generated=page.generated_display.clone()/>
    }
    .into_any()
}

/// A group of components that the reader can fold away; folding is the
/// [`FoldToggle`] island, so it also shows that the page has hydrated.
#[component]
fn Group(group: GroupView, lang: Lang) -> impl IntoView {
    let t = ui(lang);
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
                            <FoldToggle list_id hide=t.hide.to_string() show=t.show.to_string()/>
                        </div>
                    }
                })}
            <ul class="component-list" id=list_id>
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
        "{} {}",
        format_percent(lang, component.uptime_basis_points),
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
            <UptimeBar spans=component.spans lang=lang/>
            <div class="uptime-legend">
                <span>{t.days_ago_90}</span>
                <span>{uptime}</span>
                <span>{t.today}</span>
            </div>
        </li>
    }
}

/// Ninety day cells, grouped into spans (a quiet run is one span, see
/// [`UptimeSpan`]); hovering or focusing a span shows its days, incidents
/// and downtime in a CSS-only tooltip, so it works without JavaScript.
#[component]
fn UptimeBar(spans: Vec<UptimeSpan>, lang: Lang) -> impl IntoView {
    let t = ui(lang);
    view! {
        <ol class="uptime-bar">
            {spans
                .into_iter()
                .map(|d| {
                    let dates = if d.days > 1 {
                        format!("{} – {}", d.from, d.to)
                    } else {
                        d.from.clone()
                    };
                    let summary = if d.outage_minutes == 0 && d.incidents.is_empty() {
                        format!("{dates}: {}, {}", status_label(lang, d.worst), t.no_outage)
                    } else {
                        format!(
                            "{dates}: {}, {} {}",
                            status_label(lang, d.worst),
                            d.outage_minutes,
                            t.minutes_down
                        )
                    };
                    let label = if d.incidents.is_empty() {
                        summary.clone()
                    } else {
                        format!("{summary}. {}", d.incidents.join("; "))
                    };
                    // Spans in the bar's second half open their tooltip leftwards.
                    let side = if u32::from(d.offset) * 2 >= crate::dto::UPTIME_BAR_DAYS {
                        " late"
                    } else {
                        ""
                    };
                    view! {
                        <li
                            class=format!("day status-{}{side}", d.worst.as_str())
                            tabindex="0"
                            aria-label=label
                        >
                            <span class="tip" aria-hidden="true">
                                <span class="tip-head">{summary}</span>
                                {d
                                    .incidents
                                    .into_iter()
                                    .map(|title| view! { <span class="tip-incident">{title}</span> })
                                    .collect_view()}
                            </span>
                            {(0..d.days).map(|_| view! { <i></i> }).collect_view()}
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
}

#[component]
fn IncidentCard(incident: IncidentView, lang: Lang, base: String) -> impl IntoView {
    let t = ui(lang);
    let href = format!("{base}/incidents/{}", incident.id);
    view! {
        <article class=format!("incident impact-{}", incident.impact.as_str()) data-testid="incident">
            <h3>
                <a href=href><Localized text=incident.title.clone() lang=lang/></a>
            </h3>
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
                                <Time ms=u.at_ms display=u.at_display.clone()/>
                                <LocalizedHtml text=u.body.clone() lang=lang/>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        </article>
    }
}
