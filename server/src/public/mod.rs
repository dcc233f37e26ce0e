//! The public machine-readable side: the Statuspage-compatible `/api/v2`
//! JSON, RSS and Atom feeds, an embeddable badge and the API's OpenAPI
//! document. All of it is built from one `StatusData` read when the snapshot
//! is rebuilt, serialised and compressed once, and served as [`Asset`]s.
//!
//! Languages: `/api/v2/...` is English, because Statuspage clients expect
//! English descriptions; `/sv/api/v2/...`, `/nb/api/v2/...` and
//! `/en/api/v2/...` carry the texts in that language (falling back per text
//! as the page does). Feeds and the badge without a prefix use the page's
//! default language, like `/` does.

pub mod api_v2;
pub mod asset;
pub mod badge;
pub mod feeds;
pub mod front_door;
pub mod openapi;
pub mod page_cache;
pub mod subscribe;

use std::collections::HashMap;
use std::sync::Arc;

use app::dto::{ComponentStatus, Impact, Lang};
use chrono_tz::Tz;
use serde::Serialize;
use sha2::{Digest, Sha256};

pub use asset::{Asset, AssetError};

use crate::store::status::StatusData;

#[derive(Debug, thiserror::Error)]
pub enum PublicError {
    #[error(transparent)]
    Asset(#[from] AssetError),
    #[error("serialising a public document: {0}")]
    Json(#[from] serde_json::Error),
}

/// What the public documents need besides the data.
#[derive(Debug, Clone)]
pub struct PublicSettings {
    /// Without a trailing slash; empty makes links relative to the host.
    pub public_url: String,
    pub time_zone: Tz,
    pub default_lang: Lang,
}

impl PublicSettings {
    pub fn new(public_url: &str, time_zone: Tz, default_lang: Lang) -> Self {
        PublicSettings {
            public_url: public_url.trim_end_matches('/').to_string(),
            time_zone,
            default_lang,
        }
    }

    #[cfg(test)]
    pub fn for_tests() -> Self {
        PublicSettings::new(
            "https://status.example/",
            chrono_tz::Europe::Stockholm,
            Lang::Sv,
        )
    }
}

/// Statuspage's page-level indicator, worst last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Indicator {
    None,
    Minor,
    Major,
    Critical,
}

impl Indicator {
    pub fn as_str(self) -> &'static str {
        match self {
            Indicator::None => "none",
            Indicator::Minor => "minor",
            Indicator::Major => "major",
            Indicator::Critical => "critical",
        }
    }

    /// Planned maintenance is not a failure, so it raises no indicator.
    pub fn of_component(status: ComponentStatus) -> Indicator {
        match status {
            ComponentStatus::Operational | ComponentStatus::UnderMaintenance => Indicator::None,
            ComponentStatus::DegradedPerformance => Indicator::Minor,
            ComponentStatus::PartialOutage => Indicator::Major,
            ComponentStatus::MajorOutage => Indicator::Critical,
        }
    }

    pub fn of_impact(impact: Impact) -> Indicator {
        match impact {
            Impact::None | Impact::Maintenance => Indicator::None,
            Impact::Minor => Indicator::Minor,
            Impact::Major => Indicator::Major,
            Impact::Critical => Indicator::Critical,
        }
    }
}

/// The page's indicator (worst of the visible components and the unresolved
/// incidents' impacts), and whether maintenance is under way.
pub fn overall(data: &StatusData, now_ms: i64) -> (Indicator, bool) {
    let components = data.components.iter().filter(|c| !c.hidden);
    let indicator = components
        .clone()
        .map(|c| Indicator::of_component(c.status))
        .chain(
            data.incidents
                .iter()
                .filter(|i| !i.status.is_closed())
                .map(|i| Indicator::of_impact(i.impact)),
        )
        .max()
        .unwrap_or(Indicator::None);
    let maintenance = components
        .clone()
        .any(|c| c.status == ComponentStatus::UnderMaintenance)
        || data
            .maintenances
            .iter()
            .any(|m| api_v2::MaintenanceStatus::of(m, now_ms).is_active());
    (indicator, maintenance)
}

/// Statuspage's own phrases in English, since clients match on them; the
/// page's banner texts in the other languages.
pub fn indicator_description(lang: Lang, indicator: Indicator, maintenance: bool) -> &'static str {
    if lang == Lang::En {
        return match indicator {
            Indicator::None if maintenance => "Service Under Maintenance",
            Indicator::None => "All Systems Operational",
            Indicator::Minor => "Minor Service Outage",
            Indicator::Major => "Partial System Outage",
            Indicator::Critical => "Major System Outage",
        };
    }
    let as_status = match indicator {
        Indicator::None if maintenance => ComponentStatus::UnderMaintenance,
        Indicator::None => ComponentStatus::Operational,
        Indicator::Minor => ComponentStatus::DegradedPerformance,
        Indicator::Major => ComponentStatus::PartialOutage,
        Indicator::Critical => ComponentStatus::MajorOutage,
    };
    app::i18n::overall_label(lang, as_status)
}

/// Everything one language variant of the documents is built from.
pub struct Context<'a> {
    pub data: &'a StatusData,
    pub now_ms: i64,
    pub tz: Tz,
    pub lang: Lang,
    pub page_id: String,
    pub page_name: String,
    /// The installation's public URL, without a trailing slash.
    pub public_url: String,
    /// The public URL plus the language prefix, if any: where this
    /// variant's pages live.
    pub link_base: String,
}

impl<'a> Context<'a> {
    pub fn new(
        data: &'a StatusData,
        now_ms: i64,
        settings: &PublicSettings,
        lang: Lang,
        prefix: &str,
    ) -> Self {
        let page_name = data
            .settings
            .get(&format!("page_name.{}", lang.code()))
            .or_else(|| data.settings.get("page_name"))
            .cloned()
            .unwrap_or_else(|| "Status".to_string());
        Context {
            data,
            now_ms,
            tz: settings.time_zone,
            lang,
            page_id: page_id(data, &settings.public_url),
            page_name,
            link_base: format!("{}{prefix}", settings.public_url),
            public_url: settings.public_url.clone(),
        }
    }

    /// Statuspage style: milliseconds and the offset in the page's zone.
    pub fn iso(&self, ms: i64) -> String {
        iso_time(ms, self.tz)
    }

    pub fn date(&self, ms: i64) -> Option<String> {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.with_timezone(&self.tz).format("%Y-%m-%d").to_string())
    }

    pub fn incident_link(&self, id: &str) -> String {
        format!("{}/incidents/{id}", self.link_base)
    }

    pub fn page_url(&self) -> String {
        if self.link_base.is_empty() {
            "/".to_string()
        } else {
            self.link_base.clone()
        }
    }

    /// When anything shown last changed, not when the snapshot was built, so
    /// an unchanged page keeps its ETag across rebuilds.
    pub fn updated_at_ms(&self) -> i64 {
        let d = self.data;
        d.components
            .iter()
            .filter(|c| !c.hidden)
            .map(|c| c.updated_at)
            .chain(d.incidents.iter().map(|i| i.updated_at))
            .chain(d.maintenances.iter().map(|m| m.updated_at))
            .max()
            .unwrap_or(0)
    }

    pub fn page(&self) -> api_v2::Page {
        api_v2::Page {
            id: self.page_id.clone(),
            name: self.page_name.clone(),
            url: self.page_url(),
            time_zone: self.tz.name().to_string(),
            updated_at: self.iso(self.updated_at_ms()),
        }
    }
}

pub fn iso_time(ms: i64, tz: Tz) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&tz)
        .format("%Y-%m-%dT%H:%M:%S%.3f%:z")
        .to_string()
}

/// The `page_id` setting, else a stable id derived from the public URL, so
/// every node of one installation reports the same id.
fn page_id(data: &StatusData, public_url: &str) -> String {
    if let Some(id) = data.settings.get("page_id") {
        return id.clone();
    }
    Sha256::digest(public_url.as_bytes())[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The eight Statuspage v2 documents, by path below `/api/v2/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiDoc {
    Summary,
    Status,
    Components,
    Incidents,
    UnresolvedIncidents,
    Maintenances,
    UpcomingMaintenances,
    ActiveMaintenances,
}

pub const API_DOCS: [(&str, ApiDoc); 8] = [
    ("summary.json", ApiDoc::Summary),
    ("status.json", ApiDoc::Status),
    ("components.json", ApiDoc::Components),
    ("incidents.json", ApiDoc::Incidents),
    ("incidents/unresolved.json", ApiDoc::UnresolvedIncidents),
    ("scheduled-maintenances.json", ApiDoc::Maintenances),
    (
        "scheduled-maintenances/upcoming.json",
        ApiDoc::UpcomingMaintenances,
    ),
    (
        "scheduled-maintenances/active.json",
        ApiDoc::ActiveMaintenances,
    ),
];

pub const OPENAPI_PATH: &str = "/api/v2/openapi.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Api(ApiDoc),
    Rss,
    Atom,
    Badge,
    OpenApi,
}

/// Every served path with what it holds and in which language.
/// Fourth: the language prefix ("" or "/sv"), for links.
fn targets(default_lang: Lang) -> Vec<(String, Target, Lang, String)> {
    let mut out = vec![(
        OPENAPI_PATH.to_string(),
        Target::OpenApi,
        Lang::En,
        String::new(),
    )];
    let prefixes =
        std::iter::once(("", None)).chain(Lang::ALL.into_iter().map(|l| (l.code(), Some(l))));
    for (code, lang) in prefixes {
        let prefix = if code.is_empty() {
            String::new()
        } else {
            format!("/{code}")
        };
        let api_lang = lang.unwrap_or(Lang::En);
        for (name, doc) in API_DOCS {
            out.push((
                format!("{prefix}/api/v2/{name}"),
                Target::Api(doc),
                api_lang,
                prefix.clone(),
            ));
        }
        let page_lang = lang.unwrap_or(default_lang);
        for (file, target) in [
            ("history.rss", Target::Rss),
            ("history.atom", Target::Atom),
            ("badge.svg", Target::Badge),
        ] {
            out.push((
                format!("{prefix}/{file}"),
                target,
                page_lang,
                prefix.clone(),
            ));
        }
    }
    out
}

/// The paths [`build_assets`] fills, for the router.
pub fn asset_paths() -> Vec<String> {
    targets(Lang::En).into_iter().map(|(p, ..)| p).collect()
}

const JSON: &str = "application/json; charset=utf-8";

fn json(body: &impl Serialize, now_ms: i64) -> Result<Asset, PublicError> {
    Ok(Asset::new(JSON, serde_json::to_vec(body)?, now_ms)?)
}

/// Every public document, serialised and compressed, keyed by request path.
pub fn build_assets(
    data: &StatusData,
    now_ms: i64,
    settings: &PublicSettings,
) -> Result<HashMap<String, Arc<Asset>>, PublicError> {
    let mut out = HashMap::new();
    for (path, target, lang, prefix) in targets(settings.default_lang) {
        let ctx = Context::new(data, now_ms, settings, lang, &prefix);
        let asset = match target {
            Target::Api(doc) => match doc {
                ApiDoc::Summary => json(&api_v2::summary_doc(&ctx), now_ms)?,
                ApiDoc::Status => json(&api_v2::status_doc(&ctx), now_ms)?,
                ApiDoc::Components => json(&api_v2::components_doc(&ctx), now_ms)?,
                ApiDoc::Incidents => json(&api_v2::incidents_doc(&ctx, false), now_ms)?,
                ApiDoc::UnresolvedIncidents => json(&api_v2::incidents_doc(&ctx, true), now_ms)?,
                ApiDoc::Maintenances => json(
                    &api_v2::maintenances_doc(&ctx, api_v2::MaintenanceFilter::All),
                    now_ms,
                )?,
                ApiDoc::UpcomingMaintenances => json(
                    &api_v2::maintenances_doc(&ctx, api_v2::MaintenanceFilter::Upcoming),
                    now_ms,
                )?,
                ApiDoc::ActiveMaintenances => json(
                    &api_v2::maintenances_doc(&ctx, api_v2::MaintenanceFilter::Active),
                    now_ms,
                )?,
            },
            Target::Rss => Asset::new(
                "application/rss+xml; charset=utf-8",
                feeds::rss(&ctx, &path),
                now_ms,
            )?,
            Target::Atom => Asset::new(
                "application/atom+xml; charset=utf-8",
                feeds::atom(&ctx, &path),
                now_ms,
            )?,
            Target::Badge => Asset::new("image/svg+xml", badge::svg(&ctx), now_ms)?,
            Target::OpenApi => json(&openapi::document(&ctx), now_ms)?,
        };
        out.insert(path, Arc::new(asset));
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::store::status::{
        AffectedComponent, ComponentRecord, GroupRecord, IncidentRecord, Texts, UpdateRecord,
    };
    use app::dto::IncidentStage;

    /// 2024-08-24T14:06:00Z.
    pub const V75: i64 = 1_724_508_360_000;

    fn texts(pairs: &[(Lang, &str)]) -> Texts {
        pairs.iter().map(|(l, t)| (*l, t.to_string())).collect()
    }

    fn component(
        id: &str,
        group: Option<&str>,
        status: ComponentStatus,
        hidden: bool,
    ) -> ComponentRecord {
        ComponentRecord {
            id: id.into(),
            group_id: group.map(Into::into),
            position: 1,
            status,
            hidden,
            names: texts(&[(Lang::En, "Login"), (Lang::Sv, "Inloggning")]),
            descriptions: Texts::new(),
            created_at: V75 - 86_400_000,
            updated_at: V75,
        }
    }

    /// One group with a visible and a hidden component, one resolved incident.
    pub fn sample() -> StatusData {
        StatusData {
            groups: vec![GroupRecord {
                id: "account".into(),
                position: 1,
                names: texts(&[(Lang::En, "Account")]),
            }],
            components: vec![
                component(
                    "login",
                    Some("account"),
                    ComponentStatus::PartialOutage,
                    false,
                ),
                component(
                    "secret",
                    Some("account"),
                    ComponentStatus::MajorOutage,
                    true,
                ),
            ],
            history: vec![],
            incidents: vec![IncidentRecord {
                id: "v75".into(),
                impact: Impact::Critical,
                status: IncidentStage::Resolved,
                started_at: V75,
                resolved_at: Some(V75 + 3_600_000),
                created_at: V75,
                updated_at: V75 + 3_600_000,
                apology: Texts::new(),
                apology_published_at: None,
                titles: texts(&[
                    (Lang::Sv, "Spelstopp"),
                    (Lang::En, "Betting stop <V75> & \"more\""),
                ]),
                updates: vec![UpdateRecord {
                    id: "u1".into(),
                    status: IncidentStage::Investigating,
                    display_at: V75,
                    created_at: V75,
                    bodies: texts(&[(Lang::En, "Looking <into> it & more")]),
                    components: vec![
                        AffectedComponent {
                            component_id: "login".into(),
                            old_status: ComponentStatus::Operational,
                            new_status: ComponentStatus::MajorOutage,
                        },
                        AffectedComponent {
                            component_id: "secret".into(),
                            old_status: ComponentStatus::Operational,
                            new_status: ComponentStatus::MajorOutage,
                        },
                    ],
                }],
            }],
            maintenances: vec![],
            settings: [("page_name.en".to_string(), "Service status".to_string())]
                .into_iter()
                .collect(),
        }
    }

    pub fn context<'a>(
        data: &'a StatusData,
        settings: &PublicSettings,
        lang: Lang,
        prefix: &str,
    ) -> Context<'a> {
        Context::new(data, V75 + 7_200_000, settings, lang, prefix)
    }

    #[test]
    fn indicator_is_the_worst_of_visible_components_and_open_incidents() {
        let mut data = sample();
        // The hidden component's major outage does not count.
        assert_eq!(overall(&data, 0), (Indicator::Major, false));
        data.components[0].status = ComponentStatus::Operational;
        assert_eq!(overall(&data, 0), (Indicator::None, false));
        data.incidents[0].status = IncidentStage::Monitoring;
        assert_eq!(overall(&data, 0), (Indicator::Critical, false));
        data.incidents[0].status = IncidentStage::Postmortem;
        data.components[0].status = ComponentStatus::UnderMaintenance;
        assert_eq!(overall(&data, 0), (Indicator::None, true));
        data.components[0].status = ComponentStatus::DegradedPerformance;
        assert_eq!(overall(&data, 0), (Indicator::Minor, false));
    }

    #[test]
    fn descriptions_use_statuspage_phrases_in_english_and_the_banner_elsewhere() {
        assert_eq!(
            indicator_description(Lang::En, Indicator::None, false),
            "All Systems Operational"
        );
        assert_eq!(
            indicator_description(Lang::En, Indicator::Critical, false),
            "Major System Outage"
        );
        assert_eq!(
            indicator_description(Lang::Sv, Indicator::None, false),
            "Alla system fungerar"
        );
        assert_eq!(
            indicator_description(Lang::Nb, Indicator::None, true),
            "Vedlikehold pågår"
        );
    }

    #[test]
    fn every_path_gets_an_asset_and_prefixes_pick_the_language() {
        let data = sample();
        let settings = PublicSettings::for_tests();
        let assets = build_assets(&data, V75, &settings).expect("assets");
        let paths = asset_paths();
        assert_eq!(assets.len(), paths.len());
        assert!(paths.iter().all(|p| assets.contains_key(p)));
        let en: serde_json::Value =
            serde_json::from_slice(&assets["/api/v2/status.json"].body).expect("json");
        assert_eq!(en["status"]["description"], "Partial System Outage");
        assert_eq!(en["page"]["url"], "https://status.example");
        let sv: serde_json::Value =
            serde_json::from_slice(&assets["/sv/api/v2/status.json"].body).expect("json");
        assert_eq!(sv["status"]["description"], "Delvis avbrott");
        assert_eq!(sv["page"]["url"], "https://status.example/sv");
    }

    #[test]
    fn an_unchanged_page_keeps_its_etags_across_rebuilds() {
        let data = sample();
        let settings = PublicSettings::for_tests();
        let a = build_assets(&data, V75, &settings).expect("assets");
        let b = build_assets(&data, V75 + 60_000, &settings).expect("assets");
        for (path, asset) in &a {
            assert_eq!(asset.etag, b[path].etag, "{path}");
        }
    }
}
