//! The Statuspage-compatible `/api/v2` read model. Pure: status data, the
//! time and the page's settings in, serialisable documents out, so existing
//! Statuspage clients and widgets can read Plaster unchanged.
//!
//! Field names and value vocabularies follow Atlassian Statuspage's public
//! v2 API; where Plaster has no equivalent (tweets, subscriptions) the field
//! is left out rather than faked.

use std::collections::{BTreeMap, BTreeSet};

use app::dto::{ComponentStatus, Impact, IncidentStage, Lang};
use serde::Serialize;

pub use crate::status::public::context::MaintenanceStatus;
use crate::status::public::context::{indicator_description, overall, Context, Indicator};
use crate::status::view::localize;
use crate::store::status::{ComponentRecord, IncidentRecord, MaintenanceRecord, Texts};

/// Statuspage lists at most this many incidents and maintenances.
pub const LIST_LIMIT: usize = 50;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Page {
    pub id: String,
    pub name: String,
    pub url: String,
    pub time_zone: String,
    pub updated_at: String,
}

/// The `page` object every document starts with.
fn page(ctx: &Context<'_>) -> Page {
    Page {
        id: ctx.page_id.clone(),
        name: ctx.page_name.clone(),
        url: ctx.page_url(),
        time_zone: ctx.tz.name().to_string(),
        updated_at: ctx.iso(ctx.updated_at_ms()),
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Status {
    pub indicator: Indicator,
    pub description: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Component {
    pub id: String,
    pub name: String,
    pub status: ComponentStatus,
    pub created_at: String,
    pub updated_at: String,
    pub position: i64,
    pub description: Option<String>,
    pub showcase: bool,
    pub start_date: Option<String>,
    pub group_id: Option<String>,
    pub page_id: String,
    pub group: bool,
    pub only_show_if_degraded: bool,
    /// Only on groups: the ids of their components.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AffectedComponent {
    pub code: String,
    pub name: String,
    pub old_status: ComponentStatus,
    pub new_status: ComponentStatus,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IncidentUpdate {
    pub id: String,
    /// An incident stage, or a maintenance status on maintenances.
    pub status: String,
    pub body: String,
    pub incident_id: String,
    pub created_at: String,
    pub updated_at: String,
    pub display_at: String,
    pub affected_components: Vec<AffectedComponent>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Incident {
    pub id: String,
    pub name: String,
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
    pub monitoring_at: Option<String>,
    pub resolved_at: Option<String>,
    pub impact: &'static str,
    pub shortlink: String,
    pub started_at: String,
    pub page_id: String,
    /// Newest first, as Statuspage lists them.
    pub incident_updates: Vec<IncidentUpdate>,
    pub components: Vec<Component>,
    /// Only on scheduled maintenances.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_for: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_until: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StatusDoc {
    pub page: Page,
    pub status: Status,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ComponentsDoc {
    pub page: Page,
    pub components: Vec<Component>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IncidentsDoc {
    pub page: Page,
    pub incidents: Vec<Incident>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MaintenancesDoc {
    pub page: Page,
    pub scheduled_maintenances: Vec<Incident>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SummaryDoc {
    pub page: Page,
    pub components: Vec<Component>,
    pub incidents: Vec<Incident>,
    pub scheduled_maintenances: Vec<Incident>,
    pub status: Status,
}

/// Incidents carry Statuspage's four impact levels; `maintenance` belongs
/// to scheduled maintenances only.
fn incident_impact(impact: Impact) -> &'static str {
    match impact {
        Impact::Maintenance => Impact::None.as_str(),
        other => other.as_str(),
    }
}

fn text(texts: &Texts, lang: Lang, fallback: &str) -> String {
    localize(texts, lang).map_or_else(|| fallback.to_string(), |t| t.text)
}

fn visible<'a>(ctx: &Context<'a>) -> impl Iterator<Item = &'a ComponentRecord> {
    ctx.data.components.iter().filter(|c| !c.hidden)
}

fn component(ctx: &Context<'_>, c: &ComponentRecord) -> Component {
    let group_id = c
        .group_id
        .clone()
        .filter(|gid| ctx.data.groups.iter().any(|g| &g.id == gid));
    Component {
        id: c.id.clone(),
        name: text(&c.names, ctx.lang, &c.id),
        status: c.status,
        created_at: ctx.iso(c.created_at),
        updated_at: ctx.iso(c.updated_at),
        position: c.position,
        description: localize(&c.descriptions, ctx.lang).map(|t| t.text),
        showcase: true,
        start_date: ctx.date(c.created_at),
        group_id,
        page_id: ctx.page_id.clone(),
        group: false,
        only_show_if_degraded: false,
        components: None,
    }
}

/// Groups first, each followed by its components, then ungrouped components;
/// groups are components with `group: true`, as in Statuspage. A group with
/// no visible component is left out, as on the page.
pub fn components(ctx: &Context<'_>) -> Vec<Component> {
    let mut out = Vec::new();
    for g in &ctx.data.groups {
        let members: Vec<&ComponentRecord> = visible(ctx)
            .filter(|c| c.group_id.as_deref() == Some(g.id.as_str()))
            .collect();
        let (Some(created), Some(updated), Some(worst)) = (
            members.iter().map(|c| c.created_at).min(),
            members.iter().map(|c| c.updated_at).max(),
            members.iter().map(|c| c.status).max(),
        ) else {
            continue;
        };
        out.push(Component {
            id: g.id.clone(),
            name: text(&g.names, ctx.lang, &g.id),
            status: worst,
            created_at: ctx.iso(created),
            updated_at: ctx.iso(updated),
            position: g.position,
            description: None,
            showcase: false,
            start_date: None,
            group_id: None,
            page_id: ctx.page_id.clone(),
            group: true,
            only_show_if_degraded: false,
            components: Some(members.iter().map(|c| c.id.clone()).collect()),
        });
        out.extend(members.into_iter().map(|c| component(ctx, c)));
    }
    out.extend(
        visible(ctx)
            .filter(|c| {
                c.group_id
                    .as_deref()
                    .is_none_or(|gid| !ctx.data.groups.iter().any(|g| g.id == gid))
            })
            .map(|c| component(ctx, c)),
    );
    out
}

/// The page's rolled-up state: the worse of the visible components and the
/// unresolved incidents' impacts.
pub fn status(ctx: &Context<'_>) -> Status {
    let (indicator, under_maintenance) = overall(ctx.data, ctx.now_ms);
    Status {
        indicator,
        description: indicator_description(ctx.lang, indicator, under_maintenance).to_string(),
    }
}

fn visible_by_id<'a>(ctx: &Context<'a>) -> BTreeMap<&'a str, &'a ComponentRecord> {
    visible(ctx).map(|c| (c.id.as_str(), c)).collect()
}

pub fn incident(ctx: &Context<'_>, i: &IncidentRecord) -> Incident {
    let shown = visible_by_id(ctx);
    let affected_ids: BTreeSet<&str> = i
        .updates
        .iter()
        .flat_map(|u| u.components.iter().map(|c| c.component_id.as_str()))
        .filter(|id| shown.contains_key(id))
        .collect();
    let monitoring_at = i
        .updates
        .iter()
        .find(|u| u.status == IncidentStage::Monitoring)
        .map(|u| ctx.iso(u.display_at));
    Incident {
        id: i.id.clone(),
        name: text(&i.titles, ctx.lang, &i.id),
        status: i.status.as_str().to_string(),
        created_at: ctx.iso(i.created_at),
        updated_at: ctx.iso(i.updated_at),
        monitoring_at,
        resolved_at: i.resolved_at.map(|ms| ctx.iso(ms)),
        impact: incident_impact(i.impact),
        shortlink: ctx.incident_link(&i.id),
        started_at: ctx.iso(i.started_at),
        page_id: ctx.page_id.clone(),
        incident_updates: i
            .updates
            .iter()
            .rev()
            .map(|u| IncidentUpdate {
                id: u.id.clone(),
                status: u.status.as_str().to_string(),
                body: text(&u.bodies, ctx.lang, ""),
                incident_id: i.id.clone(),
                created_at: ctx.iso(u.created_at),
                updated_at: ctx.iso(u.created_at),
                display_at: ctx.iso(u.display_at),
                affected_components: u
                    .components
                    .iter()
                    .filter_map(|a| {
                        shown
                            .get(a.component_id.as_str())
                            .map(|c| AffectedComponent {
                                code: c.id.clone(),
                                name: text(&c.names, ctx.lang, &c.id),
                                old_status: a.old_status,
                                new_status: a.new_status,
                            })
                    })
                    .collect(),
            })
            .collect(),
        components: affected_ids
            .into_iter()
            .filter_map(|id| shown.get(id).map(|c| component(ctx, c)))
            .collect(),
        scheduled_for: None,
        scheduled_until: None,
    }
}

pub fn maintenance(ctx: &Context<'_>, m: &MaintenanceRecord) -> Incident {
    let shown = visible_by_id(ctx);
    let status = MaintenanceStatus::of(m, ctx.now_ms);
    let members: Vec<&ComponentRecord> = m
        .component_ids
        .iter()
        .filter_map(|id| shown.get(id.as_str()).copied())
        .collect();
    // Plaster keeps one text per maintenance; Statuspage readers expect it as
    // the first update.
    let updates = localize(&m.bodies, ctx.lang)
        .map(|body| IncidentUpdate {
            id: format!("{}-announcement", m.id),
            status: MaintenanceStatus::Scheduled.as_str().to_string(),
            body: body.text,
            incident_id: m.id.clone(),
            created_at: ctx.iso(m.created_at),
            updated_at: ctx.iso(m.updated_at),
            display_at: ctx.iso(m.created_at),
            affected_components: members
                .iter()
                .map(|c| AffectedComponent {
                    code: c.id.clone(),
                    name: text(&c.names, ctx.lang, &c.id),
                    old_status: c.status,
                    new_status: c.status,
                })
                .collect(),
        })
        .into_iter()
        .collect();
    Incident {
        id: m.id.clone(),
        name: text(&m.titles, ctx.lang, &m.id),
        status: status.as_str().to_string(),
        created_at: ctx.iso(m.created_at),
        updated_at: ctx.iso(m.updated_at),
        monitoring_at: None,
        resolved_at: (status == MaintenanceStatus::Completed).then(|| ctx.iso(m.updated_at)),
        impact: Impact::Maintenance.as_str(),
        shortlink: ctx.incident_link(&m.id),
        started_at: ctx.iso(m.scheduled_for),
        page_id: ctx.page_id.clone(),
        incident_updates: updates,
        components: members.into_iter().map(|c| component(ctx, c)).collect(),
        scheduled_for: Some(ctx.iso(m.scheduled_for)),
        scheduled_until: Some(ctx.iso(m.scheduled_until)),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaintenanceFilter {
    All,
    Upcoming,
    Active,
}

/// Most recent first, as Statuspage lists them.
pub fn maintenances(ctx: &Context<'_>, filter: MaintenanceFilter) -> Vec<Incident> {
    let mut list: Vec<&MaintenanceRecord> = ctx
        .data
        .maintenances
        .iter()
        .filter(|m| {
            let s = MaintenanceStatus::of(m, ctx.now_ms);
            match filter {
                MaintenanceFilter::All => true,
                MaintenanceFilter::Upcoming => s == MaintenanceStatus::Scheduled,
                MaintenanceFilter::Active => s.is_active(),
            }
        })
        .collect();
    list.sort_by(|a, b| b.scheduled_for.cmp(&a.scheduled_for).then(a.id.cmp(&b.id)));
    list.into_iter()
        .take(LIST_LIMIT)
        .map(|m| maintenance(ctx, m))
        .collect()
}

pub fn incidents(ctx: &Context<'_>, unresolved_only: bool) -> Vec<Incident> {
    ctx.data
        .incidents
        .iter()
        .filter(|i| !unresolved_only || !i.status.is_closed())
        .take(LIST_LIMIT)
        .map(|i| incident(ctx, i))
        .collect()
}

pub fn status_doc(ctx: &Context<'_>) -> StatusDoc {
    StatusDoc {
        page: page(ctx),
        status: status(ctx),
    }
}

pub fn components_doc(ctx: &Context<'_>) -> ComponentsDoc {
    ComponentsDoc {
        page: page(ctx),
        components: components(ctx),
    }
}

pub fn incidents_doc(ctx: &Context<'_>, unresolved_only: bool) -> IncidentsDoc {
    IncidentsDoc {
        page: page(ctx),
        incidents: incidents(ctx, unresolved_only),
    }
}

pub fn maintenances_doc(ctx: &Context<'_>, filter: MaintenanceFilter) -> MaintenancesDoc {
    MaintenancesDoc {
        page: page(ctx),
        scheduled_maintenances: maintenances(ctx, filter),
    }
}

/// Statuspage's summary: unresolved incidents, and maintenances that are
/// upcoming or under way.
pub fn summary_doc(ctx: &Context<'_>) -> SummaryDoc {
    let mut scheduled = maintenances(ctx, MaintenanceFilter::Active);
    scheduled.extend(maintenances(ctx, MaintenanceFilter::Upcoming));
    SummaryDoc {
        page: page(ctx),
        components: components(ctx),
        incidents: incidents(ctx, true),
        scheduled_maintenances: scheduled,
        status: status(ctx),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::public::assets::tests::{context, sample};
    use crate::status::public::PublicSettings;

    #[test]
    fn groups_list_their_components_and_hidden_ones_are_left_out() {
        let data = sample();
        let settings = PublicSettings::for_tests();
        let ctx = context(&data, &settings, Lang::En, "");
        let list = components(&ctx);
        let group = list.iter().find(|c| c.group).expect("a group");
        assert_eq!(
            group.components.as_deref(),
            Some(&["login".to_string()][..])
        );
        assert_eq!(group.status, ComponentStatus::PartialOutage);
        assert!(list.iter().all(|c| c.id != "secret"));
        let login = list.iter().find(|c| c.id == "login").expect("login");
        assert_eq!(login.group_id.as_deref(), Some("account"));
        assert_eq!(login.name, "Login");
    }

    #[test]
    fn times_are_iso_8601_with_the_page_zone_offset() {
        let data = sample();
        let settings = PublicSettings::for_tests();
        let ctx = context(&data, &settings, Lang::Sv, "/sv");
        let i = incident(&ctx, &data.incidents[0]);
        // 2024-08-24T14:06:00Z is 16:06 Stockholm summer time.
        assert_eq!(i.started_at, "2024-08-24T16:06:00.000+02:00");
        assert_eq!(i.name, "Spelstopp");
        assert_eq!(i.shortlink, "https://status.example/sv/incidents/v75");
        assert_eq!(i.impact, "critical");
        // The hidden component never shows, not even as affected.
        assert!(i.incident_updates[0]
            .affected_components
            .iter()
            .all(|a| a.code != "secret"));
    }
}
