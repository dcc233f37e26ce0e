//! The report of spec §4 and the `--details` lines.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use crate::record::Currency;

/// One payable line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Position of the rule in the plan.
    pub rule_position: usize,
    /// The rule's `kind`.
    pub rule: &'static str,
    /// Empty for a jackpot line (paid to the pool).
    pub customer_id: String,
    pub reference: String,
    pub amount_minor: i128,
    pub currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub plan: String,
    pub window: Window,
    pub events: EventCounts,
    pub malformed_examples: Vec<MalformedExample>,
    pub affected_customers: u64,
    pub unknown_customers: u64,
    pub rules: Vec<RuleReport>,
    pub total_minor: BTreeMap<String, i128>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Window {
    pub started_at: String,
    pub resolved_at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EventCounts {
    pub records: u64,
    pub malformed: u64,
    pub in_window: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MalformedExample {
    pub file: String,
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleReport {
    pub kind: &'static str,
    pub lines: u64,
    pub customers: u64,
    pub total_minor: BTreeMap<String, i128>,
    pub skipped: Skipped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Skipped {
    pub unknown_customer: u64,
    pub no_amount_for_currency: u64,
}

/// The outcome of a preview: the report and every issued line, in details order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    pub report: Report,
    pub lines: Vec<Line>,
    /// Failure records of the plan's components per minute (Unix minutes,
    /// ascending), from an hour before the window to an hour after the last
    /// deadline: for charts, not part of the report.
    pub failures_per_minute: Vec<(i64, u64)>,
}

impl Preview {
    /// Writes the `--details` CSV: `rule,customer_id,reference,amount_minor,currency`.
    pub fn write_details(&self, mut out: impl Write) -> io::Result<()> {
        out.write_all(b"rule,customer_id,reference,amount_minor,currency\n")?;
        for l in &self.lines {
            write_cell(&mut out, l.rule)?;
            out.write_all(b",")?;
            write_cell(&mut out, &l.customer_id)?;
            out.write_all(b",")?;
            write_cell(&mut out, &l.reference)?;
            writeln!(out, ",{},{}", l.amount_minor, l.currency)?;
        }
        out.flush()
    }
}

/// RFC 4180: quote a cell that holds a comma, quote or line break.
pub fn write_cell(out: &mut impl Write, s: &str) -> io::Result<()> {
    if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        out.write_all(b"\"")?;
        out.write_all(s.replace('"', "\"\"").as_bytes())?;
        out.write_all(b"\"")
    } else {
        out.write_all(s.as_bytes())
    }
}
