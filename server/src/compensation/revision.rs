//! Reading a stored revision: its report, its lines as the `--details` CSV
//! (and as finance's download, with inert cells), and what changed from the
//! revision before.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

use plaster_engine::report::write_cell;
use serde::Deserialize;

use crate::kernel::csv_cell::write_inert_cell;
use crate::store::compensation::StoredLine;

/// The report of compensation.md §4 as stored (the engine's `Report`, read back).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StoredReport {
    pub plan: String,
    pub window: StoredWindow,
    pub events: StoredEvents,
    #[serde(default)]
    pub malformed_examples: Vec<StoredMalformed>,
    pub affected_customers: u64,
    pub unknown_customers: u64,
    #[serde(default)]
    pub rules: Vec<StoredRule>,
    #[serde(default)]
    pub total_minor: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct StoredWindow {
    pub started_at: String,
    pub resolved_at: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct StoredEvents {
    pub records: u64,
    pub malformed: u64,
    pub in_window: u64,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct StoredMalformed {
    pub file: String,
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct StoredRule {
    pub kind: String,
    pub lines: u64,
    pub customers: u64,
    #[serde(default)]
    pub total_minor: BTreeMap<String, i64>,
    pub skipped: StoredSkipped,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct StoredSkipped {
    pub unknown_customer: u64,
    pub no_amount_for_currency: u64,
}

pub fn parse_report(json: &str) -> Result<StoredReport, serde_json::Error> {
    serde_json::from_str(json)
}

/// Writes lines as `plaster compensation preview --details` does, byte for
/// byte: the bytes a revision's digest is over.
pub fn write_lines_csv(lines: &[StoredLine], out: impl Write) -> io::Result<()> {
    write_lines(lines, out, false)
}

/// The same lines for finance's spreadsheet (the console's downloads,
/// `plaster ledger lines`): every text cell made inert
/// ([`crate::kernel::csv_cell`]), so a customer's bet id such as
/// `=HYPERLINK(…)` shows as text. Byte for byte the `--details` CSV unless
/// a cell starts with `=`, `+`, `-`, `@`, a tab or a carriage return.
pub fn write_lines_download(lines: &[StoredLine], out: impl Write) -> io::Result<()> {
    write_lines(lines, out, true)
}

fn write_lines(lines: &[StoredLine], mut out: impl Write, inert: bool) -> io::Result<()> {
    fn cell(out: &mut impl Write, s: &str, inert: bool) -> io::Result<()> {
        if inert {
            write_inert_cell(out, s)
        } else {
            write_cell(out, s)
        }
    }
    out.write_all(b"rule,customer_id,reference,amount_minor,currency\n")?;
    for l in lines {
        cell(&mut out, &l.rule, inert)?;
        out.write_all(b",")?;
        cell(&mut out, &l.customer_id, inert)?;
        out.write_all(b",")?;
        cell(&mut out, &l.reference, inert)?;
        write!(out, ",{},", l.amount_minor)?;
        if inert {
            write_inert_cell(&mut out, &l.currency)?;
        } else {
            out.write_all(l.currency.as_bytes())?;
        }
        out.write_all(b"\n")?;
    }
    out.flush()
}

/// One line's change between two revisions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineChange {
    pub rule: String,
    pub customer_id: String,
    pub reference: String,
    pub currency: String,
    /// `None`: the line is new.
    pub before: Option<i64>,
    /// `None`: the line vanished.
    pub after: Option<i64>,
}

/// What changed from one revision's lines to the next's, keyed as the
/// ledger keys lines: (rule position, customer, reference).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevisionDiff {
    pub new: u64,
    pub changed: u64,
    pub vanished: u64,
    /// The first changes, in key order.
    pub examples: Vec<LineChange>,
    /// Totals per currency, before and after.
    pub totals: Vec<(String, i64, i64)>,
}

/// How many changed lines the page lists.
pub const DIFF_EXAMPLES: usize = 50;

pub fn diff(before: &[StoredLine], after: &[StoredLine]) -> RevisionDiff {
    type Key<'a> = (i64, &'a str, &'a str);
    fn key(l: &StoredLine) -> Key<'_> {
        (l.position, l.customer_id.as_str(), l.reference.as_str())
    }
    let old: HashMap<Key<'_>, &StoredLine> = before.iter().map(|l| (key(l), l)).collect();
    let new: HashMap<Key<'_>, &StoredLine> = after.iter().map(|l| (key(l), l)).collect();
    let mut out = RevisionDiff::default();
    let mut changes: Vec<(Key<'_>, LineChange)> = Vec::new();
    for l in after {
        match old.get(&key(l)) {
            None => {
                out.new += 1;
                changes.push((key(l), change(l, None, Some(l.amount_minor))));
            }
            Some(o) if o.amount_minor != l.amount_minor || o.currency != l.currency => {
                out.changed += 1;
                changes.push((
                    key(l),
                    change(l, Some(o.amount_minor), Some(l.amount_minor)),
                ));
            }
            Some(_) => {}
        }
    }
    for l in before {
        if !new.contains_key(&key(l)) {
            out.vanished += 1;
            changes.push((key(l), change(l, Some(l.amount_minor), None)));
        }
    }
    changes.sort_by(|a, b| a.0.cmp(&b.0));
    out.examples = changes
        .into_iter()
        .take(DIFF_EXAMPLES)
        .map(|(_, c)| c)
        .collect();
    let mut totals: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for l in before {
        totals.entry(&l.currency).or_default().0 += l.amount_minor;
    }
    for l in after {
        totals.entry(&l.currency).or_default().1 += l.amount_minor;
    }
    out.totals = totals
        .into_iter()
        .map(|(c, (b, a))| (c.to_string(), b, a))
        .collect();
    out
}

fn change(l: &StoredLine, before: Option<i64>, after: Option<i64>) -> LineChange {
    LineChange {
        rule: l.rule.clone(),
        customer_id: l.customer_id.clone(),
        reference: l.reference.clone(),
        currency: l.currency.clone(),
        before,
        after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(position: i64, customer: &str, reference: &str, amount: i64) -> StoredLine {
        StoredLine {
            position,
            rule: "refund_failed_debits".into(),
            customer_id: customer.into(),
            reference: reference.into(),
            amount_minor: amount,
            currency: "SEK".into(),
        }
    }

    #[test]
    fn a_diff_names_new_changed_and_vanished_lines_with_totals() {
        let before = [line(0, "c-1", "b-1", 100), line(0, "c-2", "b-2", 200)];
        let after = [line(0, "c-1", "b-1", 150), line(0, "c-3", "b-3", 50)];
        let d = diff(&before, &after);
        assert_eq!((d.new, d.changed, d.vanished), (1, 1, 1));
        assert_eq!(d.totals, vec![("SEK".to_string(), 300, 200)]);
        assert_eq!(d.examples[0].before, Some(100));
        assert_eq!(d.examples[0].after, Some(150));
        assert_eq!(d.examples[1].after, None);
        assert_eq!(d.examples[2].before, None);
        let mut csv = Vec::new();
        write_lines_csv(&[line(1, "c,1", "x", 5)], &mut csv).expect("csv");
        assert_eq!(
            String::from_utf8(csv).expect("utf8"),
            "rule,customer_id,reference,amount_minor,currency\nrefund_failed_debits,\"c,1\",x,5,SEK\n"
        );
    }

    #[test]
    fn the_download_makes_formulas_inert_and_the_details_csv_keeps_its_bytes() {
        let lines = [
            line(0, "c-1", "=HYPERLINK(\"http://evil.example\",\"x\")", -500),
            line(0, "c-2", "b-2", 1250),
        ];
        let text = |inert: bool| {
            let mut csv = Vec::new();
            if inert {
                write_lines_download(&lines, &mut csv).expect("csv");
            } else {
                write_lines_csv(&lines, &mut csv).expect("csv");
            }
            String::from_utf8(csv).expect("utf8")
        };
        let header = "rule,customer_id,reference,amount_minor,currency\n";
        assert_eq!(
            text(false),
            format!(
                "{header}refund_failed_debits,c-1,\"=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",-500,SEK\n\
                 refund_failed_debits,c-2,b-2,1250,SEK\n"
            )
        );
        assert_eq!(
            text(true),
            format!(
                "{header}refund_failed_debits,c-1,\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",-500,SEK\n\
                 refund_failed_debits,c-2,b-2,1250,SEK\n"
            )
        );
    }
}
