//! A new run: the plan form prefilled from its incident, or a whole plan as
//! TOML, with the spec's errors shown at their field.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::Extension;
use plaster_engine::PlanError;

use super::shared::{english_title, outline};
use crate::compensation::runs::{self, RunError};
use crate::staff::error::StaffError;
use crate::staff::page::{form_page, page, see_other, Frame};
use crate::staff::session::StaffSession;
use crate::staff::upload::Upload;
use crate::store::status::IncidentOutline;
use crate::store::Store;

/// The plan form's fields, as typed (or prefilled from the incident).
#[derive(Debug, Clone, Default)]
pub(crate) struct PlanDraft {
    pub(crate) incident: String,
    pub(crate) id: String,
    pub(crate) started_at: String,
    pub(crate) resolved_at: String,
    pub(crate) login: bool,
    pub(crate) betting: bool,
    pub(crate) streaming: bool,
    pub(crate) title_sv: String,
    pub(crate) title_nb: String,
    pub(crate) title_en: String,
    pub(crate) rules: String,
    /// A whole plan pasted or uploaded; used instead of the fields when given.
    pub(crate) toml: String,
}

pub(crate) const DEFAULT_RULES: &str = r#"# Rules run in order; see compensation.md §3.
[[rules]]
kind = "refund_failed_debits"

# [[rules]]
# kind = "goodwill_credit"
# amount_minor = { SEK = 5000, NOK = 5000, EUR = 500 }
"#;

pub(crate) fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// A run id from the incident's: lower case, `[a-z0-9-]`, at most 64.
pub(crate) fn plan_id_for(incident: &str) -> String {
    let id: String = incident
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    id.trim_matches('-').chars().take(64).collect()
}

impl PlanDraft {
    /// The plan an incident suggests: its window (open end: now), the engine
    /// components its status components stand for, its titles.
    fn from_incident(i: &IncidentOutline) -> PlanDraft {
        // A status component stands for an engine component when it, or
        // its group, has that name (the demo's `login`; `bet-placement` in
        // the `betting` group); others are left for finance to tick.
        let stands_for = |name: &str| {
            i.components
                .iter()
                .any(|(c, g)| c == name || g.as_deref() == Some(name))
        };
        let title = |lang: app::dto::Lang| i.titles.get(&lang).cloned().unwrap_or_default();
        PlanDraft {
            incident: i.id.clone(),
            id: plan_id_for(&i.id),
            started_at: rfc3339(i.started_at),
            resolved_at: i
                .resolved_at
                .map(rfc3339)
                .unwrap_or_else(|| rfc3339(chrono::Utc::now().timestamp_millis())),
            login: stands_for("login"),
            betting: stands_for("betting"),
            streaming: stands_for("streaming"),
            title_sv: title(app::dto::Lang::Sv),
            title_nb: title(app::dto::Lang::Nb),
            title_en: title(app::dto::Lang::En),
            rules: DEFAULT_RULES.to_string(),
            toml: String::new(),
        }
    }

    /// The plan's TOML: the pasted plan, or one composed from the fields.
    /// A rules block that is not TOML is named at its field.
    fn to_toml(&self) -> Result<String, PlanError> {
        if !self.toml.trim().is_empty() {
            return Ok(self.toml.clone());
        }
        let mut plan = toml::Table::new();
        plan.insert("id".into(), self.id.trim().into());
        let components: Vec<toml::Value> = [
            ("login", self.login),
            ("betting", self.betting),
            ("streaming", self.streaming),
        ]
        .into_iter()
        .filter(|(_, on)| *on)
        .map(|(c, _)| c.into())
        .collect();
        plan.insert("components".into(), toml::Value::Array(components));
        plan.insert("started_at".into(), self.started_at.trim().into());
        plan.insert("resolved_at".into(), self.resolved_at.trim().into());
        let mut title = toml::Table::new();
        for (lang, t) in [
            ("sv", &self.title_sv),
            ("nb", &self.title_nb),
            ("en", &self.title_en),
        ] {
            if !t.trim().is_empty() {
                title.insert(lang.into(), t.trim().into());
            }
        }
        if !title.is_empty() {
            plan.insert("title".into(), toml::Value::Table(title));
        }
        let rules: toml::Table = self.rules.parse().map_err(|e: toml::de::Error| PlanError {
            field: "rules".into(),
            message: format!("not TOML: {}", e.message()),
        })?;
        for (key, value) in rules {
            if key != "rules" {
                return Err(PlanError {
                    field: "rules".into(),
                    message: format!("only [[rules]] tables belong here, not {key:?}"),
                });
            }
            plan.insert(key, value);
        }
        toml::to_string(&plan).map_err(|e| PlanError {
            field: String::new(),
            message: e.to_string(),
        })
    }
}

/// Which form field a plan error belongs at.
pub(crate) fn field_of(e: &PlanError, pasted: bool) -> &'static str {
    if pasted {
        return "toml";
    }
    let f = e.field.as_str();
    for name in ["id", "started_at", "resolved_at", "components"] {
        if f == name {
            return name;
        }
    }
    if f.starts_with("title") {
        "title"
    } else if f.starts_with("rules") {
        "rules"
    } else {
        "form"
    }
}

#[derive(Template)]
#[template(path = "staff/compensation/new.html")]
pub(crate) struct NewRunPage {
    pub(crate) frame: Frame,
    pub(crate) incident_title: String,
    pub(crate) draft: PlanDraft,
    /// Field name → what is wrong there.
    pub(crate) errors: BTreeMap<&'static str, String>,
}

impl NewRunPage {
    fn error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct IncidentQuery {
    #[serde(default)]
    pub(crate) incident: String,
}

pub async fn new_form(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Query(q): Query<IncidentQuery>,
) -> Result<Response, StaffError> {
    let incident = outline(&store, q.incident.trim()).await?;
    Ok(page(&NewRunPage {
        frame: Frame::new(&session, "/staff/compensation"),
        incident_title: english_title(&incident),
        draft: PlanDraft::from_incident(&incident),
        errors: BTreeMap::new(),
    }))
}

/// The largest text field the plan form takes (a pasted or uploaded plan).
pub(crate) const MAX_FIELD_BYTES: usize = 1 << 20;

/// Multipart: `csrf` first, then the plan's fields, or `toml` / `plan_file`.
pub async fn create(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    mut upload: Upload,
) -> Result<Response, StaffError> {
    let mut draft = PlanDraft::default();
    while let Some(mut field) = upload.next_field().await? {
        let name = field.name().unwrap_or_default().to_string();
        let is_file = field.file_name().is_some_and(|f| !f.is_empty());
        // Read with a bound: this route takes uploads, so its body may be huge.
        let mut bytes = Vec::new();
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| StaffError::BadInput(format!("the form broke off: {}", e.body_text())))?
        {
            if bytes.len() + chunk.len() > MAX_FIELD_BYTES {
                return Err(StaffError::BadInput(format!(
                    "{name}: at most {MAX_FIELD_BYTES} bytes"
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| StaffError::BadInput(format!("{name}: not UTF-8 text")))?;
        match name.as_str() {
            "incident" => draft.incident = text,
            "id" => draft.id = text,
            "started_at" => draft.started_at = text,
            "resolved_at" => draft.resolved_at = text,
            "component" => match text.as_str() {
                "login" => draft.login = true,
                "betting" => draft.betting = true,
                "streaming" => draft.streaming = true,
                _ => {}
            },
            "title_sv" => draft.title_sv = text,
            "title_nb" => draft.title_nb = text,
            "title_en" => draft.title_en = text,
            "rules" => draft.rules = text,
            "toml" if !text.trim().is_empty() => draft.toml = text,
            "plan_file" if is_file && !text.trim().is_empty() => draft.toml = text,
            _ => {}
        }
    }
    let incident = outline(&store, draft.incident.trim()).await?;
    let pasted = !draft.toml.trim().is_empty();
    let refused = |e: PlanError, draft: PlanDraft| {
        let mut errors = BTreeMap::new();
        let message = if e.field.is_empty() {
            e.message.clone()
        } else {
            format!("{}: {}", e.field, e.message)
        };
        errors.insert(field_of(&e, pasted), message);
        form_page(
            &NewRunPage {
                frame: Frame::new(&session, "/staff/compensation"),
                incident_title: english_title(&incident),
                draft,
                errors,
            },
            true,
        )
    };
    let toml = match draft.to_toml() {
        Ok(t) => t,
        Err(e) => return Ok(refused(e, draft)),
    };
    match runs::create(&store, &session.actor(), &incident.id, &toml).await {
        Ok(run) => Ok(see_other(&format!("/staff/compensation/runs/{}", run.id))),
        Err(RunError::Plan(e)) => Ok(refused(e, draft)),
        Err(e @ RunError::Duplicate(_)) => Ok(refused(
            PlanError {
                field: "id".into(),
                message: e.to_string(),
            },
            draft,
        )),
        Err(e) => Err(e.into()),
    }
}
