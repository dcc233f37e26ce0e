//! What the public documents are built from: the settings, the page's
//! indicator, one language's context, and the catalogue of API documents.

use app::dto::{ComponentStatus, Impact, Lang};
use chrono_tz::Tz;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::status::public::asset::AssetError;

use crate::store::status::{MaintenanceRecord, StatusData};

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
            .any(|m| MaintenanceStatus::of(m, now_ms).is_active());
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
pub(crate) fn page_id(data: &StatusData, public_url: &str) -> String {
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

/// Statuspage's maintenance statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaintenanceStatus {
    Scheduled,
    InProgress,
    Verifying,
    Completed,
}

impl MaintenanceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MaintenanceStatus::Scheduled => "scheduled",
            MaintenanceStatus::InProgress => "in_progress",
            MaintenanceStatus::Verifying => "verifying",
            MaintenanceStatus::Completed => "completed",
        }
    }

    /// The stored status, or, for a value outside the vocabulary, what the
    /// clock says, so a bad row still reads sensibly.
    pub fn of(m: &MaintenanceRecord, now_ms: i64) -> MaintenanceStatus {
        match m.status.as_str() {
            "scheduled" => MaintenanceStatus::Scheduled,
            "in_progress" => MaintenanceStatus::InProgress,
            "verifying" => MaintenanceStatus::Verifying,
            "completed" => MaintenanceStatus::Completed,
            _ if now_ms < m.scheduled_for => MaintenanceStatus::Scheduled,
            _ if now_ms < m.scheduled_until => MaintenanceStatus::InProgress,
            _ => MaintenanceStatus::Completed,
        }
    }

    pub fn is_active(self) -> bool {
        matches!(
            self,
            MaintenanceStatus::InProgress | MaintenanceStatus::Verifying
        )
    }
}
