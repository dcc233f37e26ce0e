//! One revision as the run and approval pages show it: figures, rules,
//! charts, the largest lines and the diff from an earlier revision.

use super::shared::totals_text;
use crate::compensation::charts::{self, Chart};
use crate::compensation::revision::{self, parse_report, RevisionDiff, StoredReport};
use crate::staff::error::StaffError;
use crate::store::compensation::{self as table, LineFilter, RevisionRecord, StoredLine};
use crate::store::Store;

pub(crate) struct LineRow {
    pub(crate) rule: String,
    pub(crate) customer_id: String,
    pub(crate) reference: String,
    pub(crate) amount: String,
}

pub(crate) fn line_rows(lines: &[StoredLine]) -> Vec<LineRow> {
    lines
        .iter()
        .map(|l| LineRow {
            rule: l.rule.clone(),
            customer_id: if l.customer_id.is_empty() {
                "(the jackpot pool)".into()
            } else {
                l.customer_id.clone()
            },
            reference: l.reference.clone(),
            amount: charts::money(l.amount_minor, &l.currency),
        })
        .collect()
}

/// One revision shown in full.
pub(crate) struct RevisionView {
    pub(crate) record: RevisionRecord,
    pub(crate) report: StoredReport,
    pub(crate) rules: Vec<RuleRow>,
    pub(crate) totals: String,
    pub(crate) charts: Vec<Chart>,
    pub(crate) largest: Vec<LineRow>,
    pub(crate) diff: Option<DiffView>,
    /// Lines a market does not allow, in words: such a revision cannot be
    /// approved.
    pub(crate) blocked: Vec<String>,
}

pub(crate) struct RuleRow {
    pub(crate) position: usize,
    pub(crate) kind: String,
    pub(crate) lines: u64,
    pub(crate) customers: u64,
    pub(crate) totals: String,
    pub(crate) unknown: u64,
    pub(crate) no_amount: u64,
}

pub(crate) struct DiffView {
    pub(crate) against: i64,
    pub(crate) diff: RevisionDiff,
    pub(crate) totals: Vec<(String, String, String)>,
    pub(crate) examples: Vec<(String, String, String, String, String)>,
}

pub(crate) async fn revision_view(
    store: &Store,
    run_id: &str,
    record: RevisionRecord,
    previous: Option<&RevisionRecord>,
) -> Result<RevisionView, StaffError> {
    let report = parse_report(&record.report_json)
        .map_err(|e| StaffError::Internal(format!("revision {}: {e}", record.revision)))?;
    let rules = report
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| RuleRow {
            position: i + 1,
            kind: r.kind.clone(),
            lines: r.lines,
            customers: r.customers,
            totals: totals_text(&r.total_minor),
            unknown: r.skipped.unknown_customer,
            no_amount: r.skipped.no_amount_for_currency,
        })
        .collect();
    let amounts = table::amount_counts(store, run_id, record.revision).await?;
    let policy = crate::compensation::markets::MarketPolicy::load(store).await?;
    let blocked = {
        let mut conn = super::shared::connection(store).await?;
        crate::compensation::markets::blocked(&mut conn, &policy, run_id, record.revision)
            .await?
            .iter()
            .map(|b| crate::compensation::markets::describe(std::slice::from_ref(b)))
            .collect()
    };
    let mut charts = Vec::new();
    if let Ok(plan) = plaster_engine::Plan::parse(&record.plan_toml) {
        let per_minute: Vec<(i64, u64)> =
            serde_json::from_str(&record.failures_json).unwrap_or_default();
        charts.push(charts::failures_over_time(
            &per_minute,
            &charts::Marks::of(&plan),
        ));
    }
    charts.push(charts::totals_by_rule(&report));
    charts.extend(charts::amount_distribution(&amounts));
    let largest =
        line_rows(&table::lines(store, run_id, record.revision, LineFilter::Largest(20)).await?);
    let diff = match previous {
        Some(p) => Some(diff_view(store, run_id, p.revision, record.revision).await?),
        None => None,
    };
    Ok(RevisionView {
        totals: totals_text(&report.total_minor),
        report,
        rules,
        charts,
        largest,
        diff,
        record,
        blocked,
    })
}

pub(crate) async fn diff_view(
    store: &Store,
    run_id: &str,
    before: i64,
    after: i64,
) -> Result<DiffView, StaffError> {
    let old = table::lines(store, run_id, before, LineFilter::All).await?;
    let new = table::lines(store, run_id, after, LineFilter::All).await?;
    let diff = revision::diff(&old, &new);
    let amount =
        |v: Option<i64>, c: &str| v.map_or_else(|| "—".to_string(), |v| charts::money(v, c));
    Ok(DiffView {
        against: before,
        totals: diff
            .totals
            .iter()
            .map(|(c, b, a)| (c.clone(), charts::money(*b, c), charts::money(*a, c)))
            .collect(),
        examples: diff
            .examples
            .iter()
            .map(|x| {
                (
                    x.rule.clone(),
                    x.customer_id.clone(),
                    x.reference.clone(),
                    amount(x.before, &x.currency),
                    amount(x.after, &x.currency),
                )
            })
            .collect(),
        diff,
    })
}
