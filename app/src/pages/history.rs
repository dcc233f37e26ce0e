//! Past incidents, newest first, grouped by month, ten to a page.

use leptos::prelude::*;
use leptos_meta::{Html, Title};
use leptos_router::hooks::use_query_map;

use crate::dto::{HistoryItem, HistoryPageView, Lang};
use crate::i18n::{format_duration, impact_label, ui};
use crate::pages::common::{
    document_title, home_href, loaded, prefix, set_language_headers, Localized, PageFooter,
    PageHeader, Time,
};
use crate::server_fns::history_page;

#[component]
pub fn HistoryPage(lang: Option<Lang>) -> impl IntoView {
    let query = use_query_map();
    let page = Resource::new(
        move || {
            let page = query
                .read()
                .get("page")
                .and_then(|p| p.parse::<u32>().ok())
                .unwrap_or(1);
            (lang, page)
        },
        |(lang, page)| history_page(lang, page),
    );
    loaded(page, move |view| {
        view! { <HistoryBody page=view route_lang=lang/> }.into_any()
    })
}

#[component]
fn HistoryBody(page: HistoryPageView, route_lang: Option<Lang>) -> impl IntoView {
    let lang = page.lang;
    set_language_headers(lang);
    let t = ui(lang);
    let base = prefix(route_lang);
    let page_href = {
        let base = base.clone();
        move |n: u32| format!("{base}/history?page={n}")
    };
    let months = if page.months.is_empty() {
        view! { <p>{t.no_incidents}</p> }.into_any()
    } else {
        page.months
            .into_iter()
            .map(|month| {
                // The view macro may move attributes in any order: one string each.
                let heading_id = format!("month-{}", month.key);
                let labelled_by = heading_id.clone();
                let base = base.clone();
                view! {
                    <section class="history-month" aria-labelledby=labelled_by data-testid="history-month">
                        <h2 id=heading_id>{month.label}</h2>
                        <ul class="history-list">
                            {month
                                .incidents
                                .into_iter()
                                .map(|item| view! { <HistoryEntry item=item lang=lang base=base.clone()/> })
                                .collect_view()}
                        </ul>
                    </section>
                }
            })
            .collect_view()
            .into_any()
    };
    let newer = (page.page > 1).then(|| {
        view! { <a href=page_href(page.page - 1) rel="prev">"← " {t.newer}</a> }
    });
    let older = (page.page < page.total_pages).then(|| {
        view! { <a href=page_href(page.page + 1) rel="next">{t.older} " →"</a> }
    });
    view! {
        <Html attr:lang=lang.code()/>
        <Title text=document_title(format!("{} · {}", t.history, page.page_name))/>
        <PageHeader page_name=page.page_name.clone() lang=lang route_lang=route_lang/>
        <main id="main" tabindex="-1">
            <p class="crumbs">
                <a href=home_href(route_lang)>{t.back_to_status}</a>
            </p>
            <h1>{t.history}</h1>
            {months}
            <nav class="pagination" aria-label=t.pagination>
                {newer}
                <span aria-current="page">
                    {format!("{} {} {} {}", t.page, page.page, t.of, page.total_pages)}
                </span>
                {older}
            </nav>
        </main>
        <PageFooter lang=lang time_zone=page.time_zone/>
    }
    .into_any()
}

#[component]
fn HistoryEntry(item: HistoryItem, lang: Lang, base: String) -> impl IntoView {
    let t = ui(lang);
    let duration = item.duration_minutes.map(|m| {
        format!(
            " · {} {}",
            t.duration.to_lowercase(),
            format_duration(lang, m)
        )
    });
    view! {
        <li class=format!("history-item impact-{}", item.impact.as_str()) data-testid="history-item">
            <a href=format!("{base}/incidents/{}", item.id)>
                <Localized text=item.title lang=lang/>
            </a>
            <p class="meta">
                {impact_label(lang, item.impact)} " · "
                <Time ms=item.started_ms display=item.started_display/>
                {duration}
            </p>
        </li>
    }
}
