//! The finance CSVs of runs.md §4, shared by the command line and the
//! console's downloads: a run's posted lines, its discrepancies, the trial
//! balance and a run's payouts. Every text cell is made inert
//! ([`crate::kernel::csv_cell`]): customer ids and bet ids come from
//! customers and their claims, and finance opens these in a spreadsheet.
//! Amounts are numbers and are written as they are.

use std::io::{self, Write};

use crate::compensation::revision::write_lines_download;
use crate::kernel::csv_cell::write_inert_cell;
use crate::store::compensation::StoredLine;
use crate::store::executions::Discrepancy;
use crate::store::ledger::{BalanceRow, PostedKey};
use crate::store::payouts::Payout;

/// Every line transaction posted for a run, in the --details format and order.
pub fn posted_lines(keys: &[PostedKey], out: impl Write) -> io::Result<()> {
    let lines: Vec<StoredLine> = keys
        .iter()
        .map(|k| StoredLine {
            position: k.position,
            rule: k.rule.clone(),
            customer_id: k.customer_id.clone(),
            reference: k.reference.clone(),
            amount_minor: k.line_minor,
            currency: k.currency.clone(),
        })
        .collect();
    write_lines_download(&lines, out)
}

/// `rule,customer_id,reference,posted_minor,newest_minor,currency`; a
/// vanished line has an empty `newest_minor`. Open ones only.
pub fn discrepancies(found: &[Discrepancy], mut out: impl Write) -> io::Result<()> {
    out.write_all(b"rule,customer_id,reference,posted_minor,newest_minor,currency\n")?;
    for d in found.iter().filter(|d| d.settled_at.is_none()) {
        write_inert_cell(&mut out, &d.rule)?;
        out.write_all(b",")?;
        write_inert_cell(&mut out, &d.customer_id)?;
        out.write_all(b",")?;
        write_inert_cell(&mut out, &d.reference)?;
        let newest = d.newest_minor.map(|n| n.to_string()).unwrap_or_default();
        write!(out, ",{},{newest},", d.posted_minor)?;
        write_inert_cell(&mut out, &d.currency)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

/// `account,currency,debit_minor,credit_minor`.
pub fn balance(rows: &[BalanceRow], mut out: impl Write) -> io::Result<()> {
    out.write_all(b"account,currency,debit_minor,credit_minor\n")?;
    for r in rows {
        write_inert_cell(&mut out, &r.account)?;
        out.write_all(b",")?;
        write_inert_cell(&mut out, &r.currency)?;
        writeln!(out, ",{},{}", r.debit_minor, r.credit_minor)?;
    }
    out.flush()
}

/// `payout_id,customer_id,currency,amount_minor,status,settled_at` (RFC
/// 3339, empty until settled).
pub fn payouts(list: &[Payout], mut out: impl Write) -> io::Result<()> {
    out.write_all(b"payout_id,customer_id,currency,amount_minor,status,settled_at\n")?;
    for p in list {
        write_inert_cell(&mut out, &p.id)?;
        out.write_all(b",")?;
        write_inert_cell(&mut out, &p.customer_id)?;
        let settled = p
            .settled_at
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default();
        out.write_all(b",")?;
        write_inert_cell(&mut out, &p.currency)?;
        write!(out, ",{},", p.amount_minor)?;
        write_inert_cell(&mut out, &p.state)?;
        writeln!(out, ",{settled}")?;
    }
    out.flush()
}
