//! Values the server and the browser share: the status vocabulary and the
//! read models the public pages render. They carry pre-formatted times so the
//! page renders identically on the server and during hydration.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A language Plaster speaks, for the interface and for incident texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Sv,
    Nb,
    En,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::Sv, Lang::Nb, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Sv => "sv",
            Lang::Nb => "nb",
            Lang::En => "en",
        }
    }

    /// The language's own name, for the language switcher.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::Sv => "Svenska",
            Lang::Nb => "Norsk bokmål",
            Lang::En => "English",
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
    pub expected: &'static str,
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown {} {:?} (expected one of: {})",
            self.what, self.value, self.expected
        )
    }
}

impl std::error::Error for UnknownValue {}

impl FromStr for Lang {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "sv" => Ok(Lang::Sv),
            // Bokmål is "nb"; plain "no" is what many browsers send for Norwegian.
            "nb" | "no" => Ok(Lang::Nb),
            "en" => Ok(Lang::En),
            _ => Err(UnknownValue {
                what: "language",
                value: s.to_string(),
                expected: "sv, nb, en",
            }),
        }
    }
}

/// Statuspage's five component levels, in order of severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentStatus {
    Operational,
    UnderMaintenance,
    DegradedPerformance,
    PartialOutage,
    MajorOutage,
}

impl ComponentStatus {
    pub const ALL: [ComponentStatus; 5] = [
        ComponentStatus::Operational,
        ComponentStatus::DegradedPerformance,
        ComponentStatus::PartialOutage,
        ComponentStatus::MajorOutage,
        ComponentStatus::UnderMaintenance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ComponentStatus::Operational => "operational",
            ComponentStatus::DegradedPerformance => "degraded_performance",
            ComponentStatus::PartialOutage => "partial_outage",
            ComponentStatus::MajorOutage => "major_outage",
            ComponentStatus::UnderMaintenance => "under_maintenance",
        }
    }

    /// A text symbol shown beside the colour, so status never relies on colour alone.
    pub fn icon(self) -> &'static str {
        match self {
            ComponentStatus::Operational => "✓",
            ComponentStatus::DegradedPerformance => "◐",
            ComponentStatus::PartialOutage => "▲",
            ComponentStatus::MajorOutage => "✕",
            ComponentStatus::UnderMaintenance => "🔧",
        }
    }

    /// Whether this level counts as downtime in the uptime bars.
    pub fn is_outage(self) -> bool {
        matches!(
            self,
            ComponentStatus::PartialOutage | ComponentStatus::MajorOutage
        )
    }
}

impl FromStr for ComponentStatus {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ComponentStatus::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownValue {
                what: "component status",
                value: s.to_string(),
                expected: "operational, degraded_performance, partial_outage, major_outage, under_maintenance",
            })
    }
}

/// Statuspage's incident impact levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Impact {
    None,
    Minor,
    Major,
    Critical,
    Maintenance,
}

impl Impact {
    pub const ALL: [Impact; 5] = [
        Impact::None,
        Impact::Minor,
        Impact::Major,
        Impact::Critical,
        Impact::Maintenance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Impact::None => "none",
            Impact::Minor => "minor",
            Impact::Major => "major",
            Impact::Critical => "critical",
            Impact::Maintenance => "maintenance",
        }
    }
}

impl FromStr for Impact {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Impact::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownValue {
                what: "impact",
                value: s.to_string(),
                expected: "none, minor, major, critical, maintenance",
            })
    }
}

/// Statuspage's incident stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IncidentStage {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
    Postmortem,
}

impl IncidentStage {
    pub const ALL: [IncidentStage; 5] = [
        IncidentStage::Investigating,
        IncidentStage::Identified,
        IncidentStage::Monitoring,
        IncidentStage::Resolved,
        IncidentStage::Postmortem,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStage::Investigating => "investigating",
            IncidentStage::Identified => "identified",
            IncidentStage::Monitoring => "monitoring",
            IncidentStage::Resolved => "resolved",
            IncidentStage::Postmortem => "postmortem",
        }
    }

    pub fn is_closed(self) -> bool {
        matches!(self, IncidentStage::Resolved | IncidentStage::Postmortem)
    }
}

impl FromStr for IncidentStage {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IncidentStage::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownValue {
                what: "incident stage",
                value: s.to_string(),
                expected: "investigating, identified, monitoring, resolved, postmortem",
            })
    }
}

/// A text in one language, with a note when it is a fallback from another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocalText {
    pub text: String,
    /// Set when the requested language was missing and this text is in another.
    pub fallback_from: Option<Lang>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentView {
    pub id: String,
    pub name: LocalText,
    pub description: Option<LocalText>,
    pub status: ComponentStatus,
    /// The uptime bar's days, oldest first, as spans: each day with
    /// something to say is a span of its own, and a run of quiet days
    /// (operational, no outage, no incident) is one span. One focusable
    /// cell per day made `/` 237 KiB and gave keyboard users 90 tab stops
    /// per component; a quiet quarter is now one stop and a few bytes.
    pub spans: Vec<UptimeSpan>,
    /// Uptime over the shown days, in hundredths of a percent (9995 = 99.95 %).
    pub uptime_basis_points: u32,
}

/// How many days an uptime bar shows.
pub const UPTIME_BAR_DAYS: u32 = 90;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UptimeSpan {
    /// The first and the last day in the page's time zone, `YYYY-MM-DD`
    /// (the same day for a span of one).
    pub from: String,
    pub to: String,
    /// How many days the span covers (1..=90), so the bar can draw them.
    pub days: u16,
    /// Where the span starts, counted in days from the bar's first day.
    pub offset: u16,
    pub worst: ComponentStatus,
    pub outage_minutes: u32,
    /// Titles of the incidents that touched this component in the span.
    #[serde(default)]
    pub incidents: Vec<String>,
}

impl UptimeSpan {
    /// A day that needs no span of its own.
    pub fn is_quiet(&self) -> bool {
        self.worst == ComponentStatus::Operational
            && self.outage_minutes == 0
            && self.incidents.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupView {
    pub id: Option<String>,
    pub name: Option<LocalText>,
    pub components: Vec<ComponentView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentUpdateView {
    pub stage: IncidentStage,
    pub body: LocalText,
    /// Display time, already formatted in the page's time zone with the zone named.
    pub at_display: String,
    /// Milliseconds since the Unix epoch, so the browser can re-render in its own zone.
    pub at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentView {
    pub id: String,
    pub title: LocalText,
    pub impact: Impact,
    pub stage: IncidentStage,
    pub started_display: String,
    pub resolved_display: Option<String>,
    /// Newest first, as status pages show them.
    pub updates: Vec<IncidentUpdateView>,
    pub affected_components: Vec<String>,
}

/// Everything the public front page shows, in one language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusPageView {
    pub lang: Lang,
    pub page_name: String,
    pub overall: ComponentStatus,
    pub groups: Vec<GroupView>,
    pub active_incidents: Vec<IncidentView>,
    pub recent_incidents: Vec<IncidentView>,
    pub time_zone: String,
    pub generated_display: String,
    /// The change the snapshot was built from, so an open page can tell
    /// whether a live event is news to it.
    #[serde(default)]
    pub version: i64,
}

/// One component's change of status within an incident update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusChangeView {
    pub component: String,
    pub old_status: ComponentStatus,
    pub new_status: ComponentStatus,
}

/// One entry of an incident's full timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntryView {
    pub stage: IncidentStage,
    pub body: LocalText,
    pub at_display: String,
    pub at_ms: i64,
    pub changes: Vec<StatusChangeView>,
}

/// A component an incident touched, with the worst level it reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AffectedComponentView {
    pub name: String,
    pub worst: ComponentStatus,
}

/// Everything the incident page shows about one incident, in one language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentDetail {
    pub id: String,
    pub title: LocalText,
    pub impact: Impact,
    pub stage: IncidentStage,
    pub started_display: String,
    pub started_ms: i64,
    pub resolved_display: Option<String>,
    pub resolved_ms: Option<i64>,
    /// Whole minutes from start to resolution; `None` while it is still open.
    pub duration_minutes: Option<i64>,
    /// Oldest first: a full timeline reads top to bottom.
    pub timeline: Vec<TimelineEntryView>,
    pub affected: Vec<AffectedComponentView>,
    /// The published apology as safe HTML, once there is one.
    #[serde(default)]
    pub apology: Option<LocalText>,
}

/// The incident page: the page's frame plus the incident, or `None` when
/// no incident has the requested id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentPageView {
    pub lang: Lang,
    pub page_name: String,
    pub time_zone: String,
    pub incident: Option<IncidentDetail>,
    /// See [`StatusPageView::version`].
    #[serde(default)]
    pub version: i64,
}

/// One past incident in the history list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryItem {
    pub id: String,
    pub title: LocalText,
    pub impact: Impact,
    pub stage: IncidentStage,
    /// `YYYY-MM` in the page's time zone, to group by.
    pub month_key: String,
    /// "augusti 2024", in the page's language.
    pub month_label: String,
    pub started_display: String,
    pub started_ms: i64,
    pub duration_minutes: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryMonth {
    pub key: String,
    pub label: String,
    pub incidents: Vec<HistoryItem>,
}

/// One page of the incident history, newest first, grouped by month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryPageView {
    pub lang: Lang,
    pub page_name: String,
    pub time_zone: String,
    /// 1-based.
    pub page: u32,
    pub total_pages: u32,
    pub months: Vec<HistoryMonth>,
    /// See [`StatusPageView::version`].
    #[serde(default)]
    pub version: i64,
}

/// A page's data that knows which change it was built from.
pub trait Versioned {
    fn version(&self) -> i64;
}

impl Versioned for StatusPageView {
    fn version(&self) -> i64 {
        self.version
    }
}

impl Versioned for IncidentPageView {
    fn version(&self) -> i64 {
        self.version
    }
}

impl Versioned for HistoryPageView {
    fn version(&self) -> i64 {
        self.version
    }
}

// ------------------------------------------------ the customer's own page

/// `/me`: the sign-in form for a signed-out reader, else what Plaster
/// knows about one customer. Every text is worded by the server in `lang`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyPageView {
    pub lang: Lang,
    pub page_name: String,
    pub time_zone: String,
    pub me: Option<MyCompensation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyCompensation {
    pub name: String,
    /// For the page's own forms (sign out).
    pub csrf: String,
    pub incidents: Vec<MyIncident>,
    pub claims: Vec<MyClaim>,
}

/// Where a customer's compensation for one incident stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MyStage {
    /// The logs show them affected; not yet approved.
    Found,
    /// Approved (in the ledger, or about to be); not yet paid.
    Approved,
    /// Every payout settled.
    Paid,
}

impl MyStage {
    pub const ALL: [MyStage; 3] = [MyStage::Found, MyStage::Approved, MyStage::Paid];

    pub fn as_str(self) -> &'static str {
        match self {
            MyStage::Found => "found",
            MyStage::Approved => "approved",
            MyStage::Paid => "paid",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyIncident {
    pub incident_id: String,
    pub title: String,
    /// `None` when the logs show the customer but give them nothing.
    pub stage: Option<MyStage>,
    /// Their own records during the incident, oldest first.
    pub records: Vec<MyRecord>,
    /// How long they could not sign in or watch, where that counted.
    pub blocked: Option<String>,
    pub lines: Vec<MyLine>,
    pub total: Option<String>,
    pub payouts: Vec<MyPayout>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyRecord {
    pub ms: i64,
    pub display: String,
    /// "Bet b-17 on V75, 190,00 kr: money taken, bet not registered".
    pub what: String,
    pub failed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyLine {
    /// The rule in plain words with its arithmetic.
    pub words: String,
    pub amount: String,
    pub stage: MyStage,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyPayout {
    pub id: String,
    pub amount: String,
    /// Worded: "paid on 2024-08-26", "on its way".
    pub state: String,
    pub paid: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyClaim {
    pub id: String,
    pub incident_title: String,
    pub kind: String,
    pub filed: String,
    /// `open`, `awaiting_finance`, `approved` or `rejected`.
    pub state: String,
    pub state_words: String,
    /// The decision in words, once there is one.
    pub decision: Option<String>,
}
