//! One incident: its full timeline, what it touched, how long it lasted.

use leptos::prelude::*;
use leptos_meta::{Html, Title};
use leptos_router::hooks::use_params_map;

use crate::dto::{IncidentDetail, IncidentPageView, Lang, StatusChangeView, TimelineEntryView};
use crate::i18n::{format_duration, impact_label, stage_label, status_label, ui};
use crate::pages::common::{
    document_title, home_href, loaded, prefix, set_language_headers, set_not_found, Localized,
    LocalizedHtml, PageFooter, PageHeader, Time,
};
use crate::server_fns::incident_page;

#[component]
pub fn IncidentPage(lang: Option<Lang>) -> impl IntoView {
    let params = use_params_map();
    let page = Resource::new(
        move || (lang, params.read().get("id").unwrap_or_default()),
        |(lang, id)| incident_page(lang, id),
    );
    loaded(page, move |view| {
        view! { <IncidentBody page=view route_lang=lang/> }.into_any()
    })
}

#[component]
fn IncidentBody(page: IncidentPageView, route_lang: Option<Lang>) -> impl IntoView {
    let lang = page.lang;
    set_language_headers(lang);
    let t = ui(lang);
    let base = prefix(route_lang);
    let title = match &page.incident {
        Some(i) => format!("{} · {}", i.title.text, page.page_name),
        None => format!("{} · {}", t.incident_not_found, page.page_name),
    };
    let content = match page.incident {
        Some(incident) => view! { <IncidentArticle incident=incident lang=lang/> }.into_any(),
        None => {
            set_not_found();
            view! {
                <h1>{t.incident_not_found}</h1>
                <p data-testid="not-found">{t.incident_not_found_hint}</p>
            }
            .into_any()
        }
    };
    view! {
        <Html attr:lang=lang.code()/>
        <Title text=document_title(title)/>
        <PageHeader page_name=page.page_name.clone() lang=lang route_lang=route_lang/>
        <main id="main" tabindex="-1">
            <nav class="crumbs" aria-label=t.history>
                <a href=home_href(route_lang)>{t.back_to_status}</a>
                " · "
                <a href=format!("{base}/history")>{t.history}</a>
            </nav>
            {content}
        </main>
        <PageFooter lang=lang time_zone=page.time_zone/>
    }
    .into_any()
}

#[component]
fn IncidentArticle(incident: IncidentDetail, lang: Lang) -> impl IntoView {
    let t = ui(lang);
    let duration = match incident.duration_minutes {
        Some(minutes) => format_duration(lang, minutes),
        None => t.ongoing.to_string(),
    };
    view! {
        <article
            class=format!("incident-detail impact-{}", incident.impact.as_str())
            data-testid="incident-detail"
        >
            <h1><Localized text=incident.title.clone() lang=lang/></h1>
            <dl class="facts">
                <div>
                    <dt>{t.impact}</dt>
                    <dd data-testid="impact">{impact_label(lang, incident.impact)}</dd>
                </div>
                <div>
                    <dt>{t.started}</dt>
                    <dd><Time ms=incident.started_ms display=incident.started_display.clone()/></dd>
                </div>
                {incident
                    .resolved_ms
                    .zip(incident.resolved_display.clone())
                    .map(|(ms, display)| {
                        view! {
                            <div>
                                <dt>{t.resolved}</dt>
                                <dd><Time ms=ms display=display/></dd>
                            </div>
                        }
                    })}
                <div>
                    <dt>{t.duration}</dt>
                    <dd data-testid="duration">{duration}</dd>
                </div>
            </dl>
            {incident
                .apology
                .clone()
                .map(|apology| {
                    view! {
                        <section class="apology" aria-labelledby="apology-h" data-testid="apology">
                            <h2 id="apology-h">{t.apology}</h2>
                            <LocalizedHtml text=apology lang=lang/>
                        </section>
                    }
                })}
            <section aria-labelledby="affected-h">
                <h2 id="affected-h">{t.affected}</h2>
                <ul class="affected" data-testid="affected">
                    {incident
                        .affected
                        .into_iter()
                        .map(|a| {
                            view! {
                                <li>
                                    <span class="name">{a.name}</span>
                                    " "
                                    <StatusTag status=a.worst lang=lang/>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </section>
            <section class="claim-prompt" aria-labelledby="claim-h">
                <h2 id="claim-h">{t.were_you_affected}</h2>
                // The customer's pages are the server's, not the app's routes.
                <p>
                    <a href=format!("/me/claims/new?incident={}&lang={}", incident.id, lang.code()) rel="external" data-testid="claim-link">
                        {t.were_you_affected_hint}
                    </a>
                </p>
            </section>
            <section aria-labelledby="timeline-h">
                <h2 id="timeline-h">{t.timeline}</h2>
                <ol class="timeline full" data-testid="timeline">
                    {incident
                        .timeline
                        .into_iter()
                        .map(|entry| view! { <TimelineEntry entry=entry lang=lang/> })
                        .collect_view()}
                </ol>
            </section>
        </article>
    }
    .into_any()
}

#[component]
fn TimelineEntry(entry: TimelineEntryView, lang: Lang) -> impl IntoView {
    let changes = entry.changes;
    view! {
        <li class=format!("stage-{}", entry.stage.as_str())>
            <h3>
                {stage_label(lang, entry.stage)}
                " "
                <Time ms=entry.at_ms display=entry.at_display.clone()/>
            </h3>
            <LocalizedHtml text=entry.body.clone() lang=lang/>
            {(!changes.is_empty())
                .then(|| {
                    view! {
                        <ul class="changes">
                            {changes
                                .into_iter()
                                .map(|c| view! { <Change change=c lang=lang/> })
                                .collect_view()}
                        </ul>
                    }
                })}
        </li>
    }
}

#[component]
fn Change(change: StatusChangeView, lang: Lang) -> impl IntoView {
    view! {
        <li>
            <span class="name">{change.component}</span>
            ": "
            <StatusTag status=change.old_status lang=lang/>
            <span class="arrow" aria-hidden="true">" → "</span>
            <span class="visually-hidden">" – "</span>
            <StatusTag status=change.new_status lang=lang/>
        </li>
    }
}

#[component]
fn StatusTag(status: crate::dto::ComponentStatus, lang: Lang) -> impl IntoView {
    view! {
        <span class=format!("status status-{}", status.as_str())>
            <span class="icon" aria-hidden="true">{status.icon()}</span>
            {status_label(lang, status)}
        </span>
    }
}
