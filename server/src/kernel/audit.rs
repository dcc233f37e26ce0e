//! The audit log: who did what, when, and the state before and after.
//!
//! Entries are written in the same transaction as the change they describe,
//! so there is never a change without its entry or an entry without its
//! change. The table refuses UPDATE and DELETE (triggers in the migrations).
//! This module holds the entry's shape; `store::audit` writes and reads it.

use serde::Serialize;

use crate::kernel::csv_cell::inert;
use crate::kernel::ids::AccountId;

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Staff {
        id: AccountId,
        email: String,
    },
    /// The `plaster` command line, run by whoever has the database URL.
    Cli,
    /// A staff member acting through the command line (`--by EMAIL`): the
    /// console's role and four-eyes rules apply, and the log names the channel.
    StaffCli {
        id: AccountId,
        email: String,
        label: String,
    },
    /// A background job moving what a person set going (a preview finishing).
    Job(&'static str),
}

impl Actor {
    pub fn id(&self) -> Option<&str> {
        match self {
            Actor::Staff { id, .. } | Actor::StaffCli { id, .. } => Some(id),
            Actor::Cli | Actor::Job(_) => None,
        }
    }

    /// A staff member acting through the command line.
    pub fn staff_cli(id: AccountId, email: &str) -> Actor {
        Actor::StaffCli {
            id,
            email: email.to_string(),
            label: format!("{email} (command line)"),
        }
    }

    /// The staff member's e-mail, whatever the channel.
    pub fn email(&self) -> Option<&str> {
        match self {
            Actor::Staff { email, .. } | Actor::StaffCli { email, .. } => Some(email),
            Actor::Cli | Actor::Job(_) => None,
        }
    }

    pub fn label(&self) -> &str {
        match self {
            Actor::Staff { email, .. } => email,
            Actor::StaffCli { label, .. } => label,
            Actor::Cli => "command line",
            Actor::Job(name) => name,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// What an admin narrows the log to; empty fields match everything.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct AuditFilter {
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub action: String,
    /// `YYYY-MM-DD`, inclusive, UTC.
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
}

#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    #[error("{field}: {value:?} is not a date; use YYYY-MM-DD")]
    Date { field: &'static str, value: String },
}

fn day_start_ms(field: &'static str, value: &str) -> Result<Option<i64>, FilterError> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    chrono::NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| Some(t.and_utc().timestamp_millis()))
        .ok_or_else(|| FilterError::Date {
            field,
            value: value.to_string(),
        })
}

/// The bounds of a filter, checked: (from, to-exclusive) in ms.
pub fn bounds(filter: &AuditFilter) -> Result<(Option<i64>, Option<i64>), FilterError> {
    let from = day_start_ms("from", &filter.from)?;
    let to = day_start_ms("to", &filter.to)?.map(|t| t + 86_400_000);
    Ok((from, to))
}

/// The log as CSV (RFC 4180), with times in UTC ISO 8601. Texts in the log
/// are typed by staff and customers: every cell is made inert
/// ([`crate::kernel::csv_cell::inert`]) so a spreadsheet shows it, never
/// runs it.
pub fn to_csv(entries: &[AuditEntry]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["id", "at", "actor", "action", "target", "before", "after"])?;
    for e in entries {
        let at = chrono::DateTime::from_timestamp_millis(e.at)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_default();
        w.write_record([
            e.id.to_string(),
            at,
            inert(&e.actor).into_owned(),
            inert(&e.action).into_owned(),
            inert(&e.target).into_owned(),
            inert(e.before.as_deref().unwrap_or("")).into_owned(),
            inert(e.after.as_deref().unwrap_or("")).into_owned(),
        ])?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_fields_with_commas_quotes_and_newlines() {
        let entries = vec![AuditEntry {
            id: 7,
            at: 0,
            actor: "a@b.se".into(),
            action: "incident.update".into(),
            target: "x".into(),
            before: None,
            after: Some("{\"body\":\"a, \\\"b\\\"\nc\"}".into()),
        }];
        let out = String::from_utf8(to_csv(&entries).expect("csv")).expect("utf8");
        let mut r = csv::Reader::from_reader(out.as_bytes());
        let row = r.records().next().expect("row").expect("record");
        assert_eq!(&row[1], "1970-01-01T00:00:00.000Z");
        assert_eq!(&row[6], entries[0].after.as_deref().unwrap_or(""));
    }

    #[test]
    fn csv_cells_that_spreadsheets_would_run_are_made_inert() {
        let entries = vec![AuditEntry {
            id: 1,
            at: 0,
            actor: "=HYPERLINK(\"http://x\")".into(),
            action: "+1+1".into(),
            target: "@SUM(A1)".into(),
            before: Some("-2".into()),
            after: Some("plain".into()),
        }];
        let out = String::from_utf8(to_csv(&entries).expect("csv")).expect("utf8");
        let row = csv::Reader::from_reader(out.as_bytes())
            .records()
            .next()
            .expect("row")
            .expect("record");
        assert_eq!(&row[2], "'=HYPERLINK(\"http://x\")");
        assert_eq!(
            (&row[3], &row[4], &row[5], &row[6]),
            ("'+1+1", "'@SUM(A1)", "-2", "plain"),
            "a plain number stays a number"
        );
    }

    #[test]
    fn bad_dates_name_the_field() {
        let filter = AuditFilter {
            to: "21/11/2026".into(),
            ..AuditFilter::default()
        };
        let err = bounds(&filter).expect_err("bad date");
        assert!(err.to_string().starts_with("to:"), "{err}");
    }
}
