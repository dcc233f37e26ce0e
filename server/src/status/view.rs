//! Turns stored status data into the public page's read model, per language.
//! Pure: time and time zone come in as arguments, so it is tested directly.

use std::collections::BTreeMap;

use app::dto::{
    AffectedComponentView, ComponentStatus, ComponentView, GroupView, HistoryItem, IncidentDetail,
    IncidentUpdateView, IncidentView, Lang, LocalText, StatusChangeView, StatusPageView,
    TimelineEntryView, UptimeSpan,
};
use app::i18n::month_name;
use chrono::{Datelike, Days, NaiveDate, TimeZone};
use chrono_tz::Tz;

use crate::store::status::{ComponentRecord, HistoryRecord, IncidentRecord, StatusData, Texts};

pub const UPTIME_DAYS: u32 = app::dto::UPTIME_BAR_DAYS;
const RECENT_INCIDENTS: usize = 10;
const MS_PER_MINUTE: i64 = 60_000;

/// The text in `lang`, else English, else any language there is.
pub fn localize(texts: &Texts, lang: Lang) -> Option<LocalText> {
    if let Some(text) = texts.get(&lang) {
        return Some(LocalText {
            text: text.clone(),
            fallback_from: None,
        });
    }
    texts
        .get(&Lang::En)
        .map(|t| (Lang::En, t))
        .or_else(|| texts.iter().next().map(|(l, t)| (*l, t)))
        .map(|(from, text)| LocalText {
            text: text.clone(),
            fallback_from: Some(from),
        })
}

/// An update's text in `lang` (or its fallback) as safe HTML from Markdown;
/// empty when the update has no text at all.
fn localize_body(bodies: &Texts, lang: Lang) -> LocalText {
    let mut text = localize(bodies, lang).unwrap_or(LocalText {
        text: String::new(),
        fallback_from: None,
    });
    text.text = crate::kernel::markdown::to_safe_html(&text.text);
    text
}

/// "2024-08-24 16:06 CEST": the zone is always named.
pub fn format_time(ms: i64, tz: Tz) -> String {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(t) => t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string(),
        None => String::from("—"),
    }
}

/// Milliseconds at local midnight starting `date` in `tz` (the earliest one
/// when a DST change makes midnight ambiguous).
fn day_start_ms(date: NaiveDate, tz: Tz) -> i64 {
    let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.timestamp_millis())
        // A zone that skips midnight: the first instant of that day in UTC terms.
        .unwrap_or_else(|| midnight.and_utc().timestamp_millis())
}

/// Status intervals `[from, to)` of one component, clipped to `[start, end)`.
fn intervals(history: &[&HistoryRecord], start: i64, end: i64) -> Vec<(i64, i64, ComponentStatus)> {
    let mut out = Vec::with_capacity(history.len());
    for (i, rec) in history.iter().enumerate() {
        let to = history.get(i + 1).map_or(end, |next| next.changed_at);
        let (from, to) = (rec.changed_at.max(start), to.min(end));
        if from < to {
            out.push((from, to, rec.status));
        }
    }
    out
}

/// When an incident touched a component: `[start, end)` and its title.
pub type IncidentSpan = (i64, i64, String);

/// The last [`UPTIME_DAYS`] days of a component, as the bar's spans (quiet
/// runs merged, see [`UptimeSpan`]), and its uptime over them.
pub fn uptime_days(
    history: &[&HistoryRecord],
    spans: &[IncidentSpan],
    today: NaiveDate,
    now_ms: i64,
    tz: Tz,
) -> (Vec<UptimeSpan>, u32) {
    let first = today
        .checked_sub_days(Days::new(u64::from(UPTIME_DAYS - 1)))
        .unwrap_or(today);
    let range_start = day_start_ms(first, tz);
    let ivs = intervals(history, range_start, now_ms);
    let mut days: Vec<UptimeSpan> = Vec::new();
    let mut offset = 0u16;
    let (mut total_outage, mut total) = (0i64, 0i64);
    let mut date = first;
    while date <= today {
        let start = day_start_ms(date, tz);
        let end = date
            .succ_opt()
            .map_or(now_ms, |d| day_start_ms(d, tz))
            .min(now_ms);
        let mut worst = ComponentStatus::Operational;
        let mut outage = 0i64;
        for &(from, to, status) in &ivs {
            let (a, b) = (from.max(start), to.min(end));
            if a < b {
                worst = worst.max(status);
                if status.is_outage() {
                    outage += b - a;
                }
            }
        }
        total_outage += outage;
        total += (end - start).max(0);
        let mut incidents: Vec<String> = Vec::new();
        for (from, to, title) in spans {
            if *from < end && *to > start && !incidents.contains(title) {
                incidents.push(title.clone());
            }
        }
        let ymd = date.format("%Y-%m-%d").to_string();
        let day = UptimeSpan {
            from: ymd.clone(),
            to: ymd,
            days: 1,
            offset,
            worst,
            outage_minutes: u32::try_from((outage + MS_PER_MINUTE - 1) / MS_PER_MINUTE)
                .unwrap_or(u32::MAX),
            incidents,
        };
        offset = offset.saturating_add(1);
        match days.last_mut() {
            Some(run) if run.is_quiet() && day.is_quiet() => {
                run.to = day.to;
                run.days += 1;
            }
            _ => days.push(day),
        }
        match date.succ_opt() {
            Some(next) => date = next,
            None => break,
        }
    }
    let basis_points = if total > 0 {
        let up = total - total_outage;
        // Round down: never claim more uptime than there was.
        u32::try_from(up * 10_000 / total).unwrap_or(10_000)
    } else {
        10_000
    };
    (days, basis_points)
}

fn incident_view(
    incident: &IncidentRecord,
    lang: Lang,
    tz: Tz,
    component_names: &BTreeMap<&str, &Texts>,
) -> IncidentView {
    let mut affected: Vec<String> = incident
        .updates
        .iter()
        .flat_map(|u| u.components.iter().map(|c| c.component_id.as_str()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|id| {
            component_names
                .get(id)
                .and_then(|names| localize(names, lang))
                .map_or_else(|| id.to_string(), |t| t.text)
        })
        .collect();
    affected.sort();
    IncidentView {
        id: incident.id.clone(),
        title: localize(&incident.titles, lang).unwrap_or(LocalText {
            text: incident.id.clone(),
            fallback_from: None,
        }),
        impact: incident.impact,
        stage: incident.status,
        started_display: format_time(incident.started_at, tz),
        resolved_display: incident.resolved_at.map(|ms| format_time(ms, tz)),
        updates: incident
            .updates
            .iter()
            .rev()
            .map(|u| IncidentUpdateView {
                stage: u.status,
                body: localize_body(&u.bodies, lang),
                at_display: format_time(u.display_at, tz),
                at_ms: u.display_at,
            })
            .collect(),
        affected_components: affected,
    }
}

fn component_view(
    c: &ComponentRecord,
    lang: Lang,
    history: &[&HistoryRecord],
    spans: &[IncidentSpan],
    today: NaiveDate,
    now_ms: i64,
    tz: Tz,
) -> ComponentView {
    let (day_spans, uptime_basis_points) = uptime_days(history, spans, today, now_ms, tz);
    ComponentView {
        id: c.id.clone(),
        name: localize(&c.names, lang).unwrap_or(LocalText {
            text: c.id.clone(),
            fallback_from: None,
        }),
        description: localize(&c.descriptions, lang),
        status: c.status,
        spans: day_spans,
        uptime_basis_points,
    }
}

/// The front page in every language.
pub fn build_pages(data: &StatusData, now_ms: i64, tz: Tz) -> BTreeMap<Lang, StatusPageView> {
    let today = chrono::DateTime::from_timestamp_millis(now_ms)
        .unwrap_or_default()
        .with_timezone(&tz)
        .date_naive();
    let mut by_component: BTreeMap<&str, Vec<&HistoryRecord>> = BTreeMap::new();
    for h in &data.history {
        by_component
            .entry(h.component_id.as_str())
            .or_default()
            .push(h);
    }
    let visible: Vec<&ComponentRecord> = data.components.iter().filter(|c| !c.hidden).collect();
    let overall = visible
        .iter()
        .map(|c| c.status)
        .max()
        .unwrap_or(ComponentStatus::Operational);
    let component_names: BTreeMap<&str, &Texts> = data
        .components
        .iter()
        .map(|c| (c.id.as_str(), &c.names))
        .collect();

    Lang::ALL
        .into_iter()
        .map(|lang| {
            let spans = incident_spans(data, lang, now_ms);
            let row = |c: &ComponentRecord| {
                let history = by_component
                    .get(c.id.as_str())
                    .map_or(&[][..], Vec::as_slice);
                let spans = spans.get(c.id.as_str()).map_or(&[][..], Vec::as_slice);
                component_view(c, lang, history, spans, today, now_ms, tz)
            };
            let mut groups: Vec<GroupView> = data
                .groups
                .iter()
                .map(|g| GroupView {
                    id: Some(g.id.clone()),
                    name: localize(&g.names, lang),
                    components: visible
                        .iter()
                        .filter(|c| c.group_id.as_deref() == Some(g.id.as_str()))
                        .map(|c| row(c))
                        .collect(),
                })
                .filter(|g| !g.components.is_empty())
                .collect();
            let ungrouped: Vec<ComponentView> = visible
                .iter()
                .filter(|c| {
                    c.group_id
                        .as_deref()
                        .is_none_or(|gid| !data.groups.iter().any(|g| g.id == gid))
                })
                .map(|c| row(c))
                .collect();
            if !ungrouped.is_empty() {
                groups.push(GroupView {
                    id: None,
                    name: None,
                    components: ungrouped,
                });
            }
            let (active, past): (Vec<&IncidentRecord>, Vec<&IncidentRecord>) =
                data.incidents.iter().partition(|i| !i.status.is_closed());
            let page_name = data
                .settings
                .get(&format!("page_name.{}", lang.code()))
                .or_else(|| data.settings.get("page_name"))
                .cloned()
                .unwrap_or_else(|| "Status".to_string());
            let view = StatusPageView {
                lang,
                page_name,
                overall,
                groups,
                active_incidents: active
                    .into_iter()
                    .map(|i| incident_view(i, lang, tz, &component_names))
                    .collect(),
                recent_incidents: past
                    .into_iter()
                    .take(RECENT_INCIDENTS)
                    .map(|i| incident_view(i, lang, tz, &component_names))
                    .collect(),
                time_zone: tz.name().to_string(),
                generated_display: format_time(now_ms, tz),
                // Set by the snapshot, which knows which change it was read after.
                version: 0,
            };
            (lang, view)
        })
        .collect()
}

fn incident_title(incident: &IncidentRecord, lang: Lang) -> LocalText {
    localize(&incident.titles, lang).unwrap_or(LocalText {
        text: incident.id.clone(),
        fallback_from: None,
    })
}

/// For each component, the incidents that touched it, as time spans with
/// titles in `lang`; an open incident lasts until `now_ms`.
fn incident_spans(data: &StatusData, lang: Lang, now_ms: i64) -> BTreeMap<&str, Vec<IncidentSpan>> {
    let mut out: BTreeMap<&str, Vec<IncidentSpan>> = BTreeMap::new();
    for incident in &data.incidents {
        let start = incident.started_at;
        // At least a millisecond, so an incident opened and closed at once still shows.
        let end = incident.resolved_at.unwrap_or(now_ms).max(start + 1);
        let title = incident_title(incident, lang).text;
        let ids: std::collections::BTreeSet<&str> = incident
            .updates
            .iter()
            .flat_map(|u| u.components.iter().map(|c| c.component_id.as_str()))
            .collect();
        for id in ids {
            out.entry(id).or_default().push((start, end, title.clone()));
        }
    }
    out
}

fn component_name(id: &str, lang: Lang, component_names: &BTreeMap<&str, &Texts>) -> String {
    component_names
        .get(id)
        .and_then(|names| localize(names, lang))
        .map_or_else(|| id.to_string(), |t| t.text)
}

fn duration_minutes(incident: &IncidentRecord) -> Option<i64> {
    incident
        .resolved_at
        .map(|end| ((end - incident.started_at).max(0) + MS_PER_MINUTE / 2) / MS_PER_MINUTE)
}

/// Everything the incident page shows about `incident`, in `lang`.
pub fn incident_detail(
    incident: &IncidentRecord,
    lang: Lang,
    tz: Tz,
    component_names: &BTreeMap<&str, &Texts>,
) -> IncidentDetail {
    let mut affected: Vec<AffectedComponentView> = Vec::new();
    let mut affected_ids: Vec<&str> = Vec::new();
    for change in incident.updates.iter().flat_map(|u| u.components.iter()) {
        let worst = change.new_status.max(change.old_status);
        match affected_ids
            .iter()
            .position(|id| *id == change.component_id)
        {
            Some(i) => affected[i].worst = affected[i].worst.max(worst),
            None => {
                affected_ids.push(&change.component_id);
                affected.push(AffectedComponentView {
                    name: component_name(&change.component_id, lang, component_names),
                    worst,
                });
            }
        }
    }
    IncidentDetail {
        id: incident.id.clone(),
        title: incident_title(incident, lang),
        impact: incident.impact,
        stage: incident.status,
        started_display: format_time(incident.started_at, tz),
        started_ms: incident.started_at,
        resolved_display: incident.resolved_at.map(|ms| format_time(ms, tz)),
        resolved_ms: incident.resolved_at,
        duration_minutes: duration_minutes(incident),
        timeline: incident
            .updates
            .iter()
            .map(|u| TimelineEntryView {
                stage: u.status,
                body: localize_body(&u.bodies, lang),
                at_display: format_time(u.display_at, tz),
                at_ms: u.display_at,
                changes: u
                    .components
                    .iter()
                    .map(|c| StatusChangeView {
                        component: component_name(&c.component_id, lang, component_names),
                        old_status: c.old_status,
                        new_status: c.new_status,
                    })
                    .collect(),
            })
            .collect(),
        affected,
        apology: (!incident.apology.is_empty()).then(|| localize_body(&incident.apology, lang)),
    }
}

/// Every incident's page in every language, keyed by incident id.
pub fn build_incident_details(
    data: &StatusData,
    tz: Tz,
) -> BTreeMap<Lang, BTreeMap<String, IncidentDetail>> {
    let component_names: BTreeMap<&str, &Texts> = data
        .components
        .iter()
        .map(|c| (c.id.as_str(), &c.names))
        .collect();
    Lang::ALL
        .into_iter()
        .map(|lang| {
            let details = data
                .incidents
                .iter()
                .map(|i| (i.id.clone(), incident_detail(i, lang, tz, &component_names)))
                .collect();
            (lang, details)
        })
        .collect()
}

/// The closed incidents, newest first, in every language, each with the
/// month it started in the page's time zone.
pub fn build_history(data: &StatusData, tz: Tz) -> BTreeMap<Lang, Vec<HistoryItem>> {
    Lang::ALL
        .into_iter()
        .map(|lang| {
            let mut items: Vec<HistoryItem> = data
                .incidents
                .iter()
                .filter(|i| i.status.is_closed())
                .map(|i| {
                    let started = chrono::DateTime::from_timestamp_millis(i.started_at)
                        .unwrap_or_default()
                        .with_timezone(&tz);
                    HistoryItem {
                        id: i.id.clone(),
                        title: incident_title(i, lang),
                        impact: i.impact,
                        stage: i.status,
                        month_key: started.format("%Y-%m").to_string(),
                        month_label: format!(
                            "{} {}",
                            month_name(lang, started.month()),
                            started.year()
                        ),
                        started_display: format_time(i.started_at, tz),
                        started_ms: i.started_at,
                        duration_minutes: duration_minutes(i),
                    }
                })
                .collect();
            // The store already sorts newest first; grouping by month relies on it.
            items.sort_by(|a, b| b.started_ms.cmp(&a.started_ms).then(a.id.cmp(&b.id)));
            (lang, items)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(status: ComponentStatus, at: i64) -> HistoryRecord {
        HistoryRecord {
            component_id: "login".into(),
            status,
            changed_at: at,
        }
    }

    #[test]
    fn missing_translations_fall_back_to_english_then_any() {
        let mut t = Texts::new();
        t.insert(Lang::Nb, "Innlogging".into());
        let got = localize(&t, Lang::Sv).expect("some text");
        assert_eq!(got.fallback_from, Some(Lang::Nb));
        t.insert(Lang::En, "Login".into());
        assert_eq!(localize(&t, Lang::Sv).expect("text").text, "Login");
        assert_eq!(localize(&t, Lang::Nb).expect("text").fallback_from, None);
        assert!(localize(&Texts::new(), Lang::Sv).is_none());
    }

    #[test]
    fn times_name_their_zone() {
        // 2024-08-24T14:06:00Z is 16:06 in Stockholm summer time.
        let ms = 1_724_508_360_000;
        assert_eq!(
            format_time(ms, chrono_tz::Europe::Stockholm),
            "2024-08-24 16:06 CEST"
        );
    }

    #[test]
    fn uptime_counts_outage_minutes_per_local_day() {
        let tz = chrono_tz::Europe::Stockholm;
        let today = NaiveDate::from_ymd_opt(2026, 11, 21).expect("date");
        let now = day_start_ms(today, tz) + 12 * 3_600_000;
        let outage_start = day_start_ms(today, tz) + 3_600_000;
        let history = [
            rec(ComponentStatus::Operational, 0),
            rec(ComponentStatus::MajorOutage, outage_start),
            rec(ComponentStatus::Operational, outage_start + 30 * 60_000),
        ];
        let refs: Vec<&HistoryRecord> = history.iter().collect();
        let spans = vec![(
            outage_start,
            outage_start + 30 * 60_000,
            "Login down".to_string(),
        )];
        let (days, bp) = uptime_days(&refs, &spans, today, now, tz);
        // 89 quiet days are one span; today, with its outage, is another.
        assert_eq!(days.len(), 2);
        assert_eq!(
            days.iter().map(|d| u32::from(d.days)).sum::<u32>(),
            UPTIME_DAYS
        );
        let (quiet, last) = (&days[0], &days[1]);
        assert!(quiet.is_quiet());
        assert_eq!((quiet.days, quiet.offset), (89, 0));
        assert_eq!(quiet.to, "2026-11-20");
        assert_eq!((last.from.as_str(), last.offset), ("2026-11-21", 89));
        assert_eq!(last.outage_minutes, 30);
        assert_eq!(last.worst, ComponentStatus::MajorOutage);
        assert_eq!(last.incidents, vec!["Login down".to_string()]);
        assert!(bp < 10_000 && bp > 9_990, "{bp}");
    }
}
