//! Reference files: `customers.csv` and `subscriptions.csv`.
//!
//! Unlike event logs, a bad row here is an error, not something to skip: a
//! customer silently dropped from the reference would be reported as unknown
//! and never paid.

use std::io::BufRead;
use std::ops::ControlFlow;

use compact_str::CompactString;
use rustc_hash::FxHashMap;

use crate::record::{last_csv_record_end, split_csv_row, Currency, CustomerId};

#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    #[error("{source_name}: cannot read: {error}")]
    Io {
        source_name: String,
        error: std::io::Error,
    },
    #[error("{source_name}: line {line}: {field}: {message}")]
    Invalid {
        source_name: String,
        line: u64,
        field: String,
        message: String,
    },
}

/// The customers the plan may pay, with each account's currency.
#[derive(Debug, Default, Clone)]
pub struct Customers {
    currency: FxHashMap<CompactString, Currency>,
}

impl Customers {
    pub fn currency_of(&self, id: &str) -> Option<Currency> {
        self.currency.get(id).copied()
    }

    pub fn contains(&self, id: &str) -> bool {
        self.currency.contains_key(id)
    }

    pub fn len(&self) -> usize {
        self.currency.len()
    }

    pub fn is_empty(&self) -> bool {
        self.currency.is_empty()
    }

    pub fn insert(&mut self, id: CustomerId, currency: Currency) {
        self.currency.insert(id.as_str().into(), currency);
    }

    pub fn read(source_name: &str, reader: impl BufRead) -> Result<Customers, ReferenceError> {
        let mut out = Customers::default();
        let mut first_error = None;
        for_each_customer(source_name, reader, |line, row| {
            let result = row.and_then(|c| {
                if out
                    .currency
                    .insert(c.id.as_str().into(), c.currency)
                    .is_some()
                {
                    return Err(RowFault::new(
                        "customer_id",
                        format!("{:?} appears twice (line {line} repeats it)", c.id.as_str()),
                    ));
                }
                Ok(())
            });
            stop_at_first(&mut first_error, source_name, line, result)
        })?;
        first_error.map_or(Ok(out), Err)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub plan: String,
    pub monthly_fee_minor: i64,
    pub currency: Currency,
}

/// Active subscriptions by customer; cancelled ones are dropped on reading.
#[derive(Debug, Default, Clone)]
pub struct Subscriptions {
    active: FxHashMap<CompactString, Vec<Subscription>>,
}

impl Subscriptions {
    pub fn active_for(&self, id: &str) -> &[Subscription] {
        self.active.get(id).map_or(&[], Vec::as_slice)
    }

    pub fn insert_active(&mut self, id: CustomerId, sub: Subscription) {
        self.active.entry(id.as_str().into()).or_default().push(sub);
    }

    pub fn read(source_name: &str, reader: impl BufRead) -> Result<Subscriptions, ReferenceError> {
        let mut out = Subscriptions::default();
        let mut seen: rustc_hash::FxHashSet<(CompactString, String)> = Default::default();
        let mut first_error = None;
        for_each_subscription(source_name, reader, |line, row| {
            let result = row.and_then(|s| {
                if !seen.insert((s.customer_id.as_str().into(), s.plan.clone())) {
                    return Err(s.repeated_plan());
                }
                if s.active {
                    out.insert_active(
                        s.customer_id,
                        Subscription {
                            plan: s.plan,
                            monthly_fee_minor: s.monthly_fee_minor,
                            currency: s.currency,
                        },
                    );
                }
                Ok(())
            });
            stop_at_first(&mut first_error, source_name, line, result)
        })?;
        first_error.map_or(Ok(out), Err)
    }
}

/// Why one row of a reference file is refused: the field and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowFault {
    pub field: &'static str,
    pub message: String,
}

impl RowFault {
    pub fn new(field: &'static str, message: impl Into<String>) -> RowFault {
        RowFault {
            field,
            message: message.into(),
        }
    }
}

/// One row of `customers.csv` (spec §2), checked field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRow {
    pub id: CustomerId,
    pub email: String,
    pub name: String,
    pub locale: String,
    pub currency: Currency,
    /// The optional `market` column: the ISO 3166-1 country of the licence
    /// the customer plays under (`SE`), upper-cased; `None` when absent or
    /// empty.
    pub market: Option<String>,
}

/// One row of `subscriptions.csv` (spec §2), cancelled ones included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRow {
    pub customer_id: CustomerId,
    pub plan: String,
    pub monthly_fee_minor: i64,
    pub currency: Currency,
    pub active: bool,
}

impl SubscriptionRow {
    /// The fault of a second row for the same customer and plan.
    pub fn repeated_plan(&self) -> RowFault {
        RowFault::new(
            "plan",
            format!(
                "customer {:?} has plan {:?} twice (one row per customer and plan)",
                self.customer_id.as_str(),
                self.plan
            ),
        )
    }
}

pub const CUSTOMER_COLUMNS: [&str; 5] = ["customer_id", "email", "name", "locale", "currency"];
/// Columns `customers.csv` may have; a file without them is read as if
/// each cell were empty.
pub const CUSTOMER_OPTIONAL_COLUMNS: [&str; 1] = ["market"];
pub const SUBSCRIPTION_COLUMNS: [&str; 5] = [
    "customer_id",
    "plan",
    "monthly_fee_minor",
    "currency",
    "status",
];

/// Reads `customers.csv`, handing every data row to `each` with its line,
/// checked or with its fault. `each` decides whether to go on (`Continue`)
/// or stop; an unreadable file or a header without the spec's columns is
/// the error.
pub fn for_each_customer(
    source_name: &str,
    reader: impl BufRead,
    mut each: impl FnMut(u64, Result<CustomerRow, RowFault>) -> ControlFlow<()>,
) -> Result<(), ReferenceError> {
    read_table(
        source_name,
        reader,
        &CUSTOMER_COLUMNS,
        &CUSTOMER_OPTIONAL_COLUMNS,
        |line, cells| each(line, cells.and_then(parse_customer)),
    )
}

/// Like [`for_each_customer`], for `subscriptions.csv`.
pub fn for_each_subscription(
    source_name: &str,
    reader: impl BufRead,
    mut each: impl FnMut(u64, Result<SubscriptionRow, RowFault>) -> ControlFlow<()>,
) -> Result<(), ReferenceError> {
    read_table(
        source_name,
        reader,
        &SUBSCRIPTION_COLUMNS,
        &[],
        |line, cells| each(line, cells.and_then(parse_subscription)),
    )
}

fn parse_customer_id(cell: &str) -> Result<CustomerId, RowFault> {
    CustomerId::parse(cell).ok_or_else(|| RowFault::new("customer_id", "must be 1-64 characters"))
}

fn parse_currency(cell: &str) -> Result<Currency, RowFault> {
    Currency::parse(cell).ok_or_else(|| RowFault::new("currency", "not an ISO 4217 currency code"))
}

fn parse_customer(cells: &[&str]) -> Result<CustomerRow, RowFault> {
    let id = parse_customer_id(cells[0])?;
    let currency = parse_currency(cells[4])?;
    if cells[3].is_empty() {
        return Err(RowFault::new("locale", "missing"));
    }
    let market = match cells[5].trim() {
        "" => None,
        m if m.len() == 2 && m.bytes().all(|b| b.is_ascii_alphabetic()) => {
            Some(m.to_ascii_uppercase())
        }
        m => {
            return Err(RowFault::new(
                "market",
                format!("{m:?} is not an ISO 3166 country code like SE"),
            ))
        }
    };
    Ok(CustomerRow {
        id,
        email: cells[1].to_string(),
        name: cells[2].to_string(),
        locale: cells[3].to_string(),
        currency,
        market,
    })
}

fn parse_subscription(cells: &[&str]) -> Result<SubscriptionRow, RowFault> {
    let customer_id = parse_customer_id(cells[0])?;
    if cells[1].is_empty() {
        return Err(RowFault::new("plan", "missing"));
    }
    let monthly_fee_minor = cells[2]
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| cells[2].parse::<i64>().ok())
        .flatten()
        .ok_or_else(|| RowFault::new("monthly_fee_minor", "must be an integer >= 0"))?;
    let currency = parse_currency(cells[3])?;
    let active = match cells[4] {
        "active" => true,
        "cancelled" => false,
        other => {
            return Err(RowFault::new(
                "status",
                format!("{other:?} is neither \"active\" nor \"cancelled\""),
            ))
        }
    };
    Ok(SubscriptionRow {
        customer_id,
        plan: cells[1].to_string(),
        monthly_fee_minor,
        currency,
        active,
    })
}

/// For readers that refuse a file at its first bad row: keeps that fault
/// as the error and stops.
fn stop_at_first(
    first_error: &mut Option<ReferenceError>,
    source_name: &str,
    line: u64,
    result: Result<(), RowFault>,
) -> ControlFlow<()> {
    match result {
        Ok(()) => ControlFlow::Continue(()),
        Err(fault) => {
            *first_error = Some(ReferenceError::Invalid {
                source_name: source_name.to_string(),
                line,
                field: fault.field.to_string(),
                message: fault.message,
            });
            ControlFlow::Break(())
        }
    }
}

/// Reads a CSV table with a header naming at least `cols`; calls `row` with
/// each data row's cells in the order of `cols`, or with the reason the row
/// cannot be split into them (bad quoting, not UTF-8, a wrong field count).
/// `cols` must be in the header; `optional` may be, and read as empty
/// cells when not. A row hands over `cols` then `optional`, in that order.
fn read_table(
    source_name: &str,
    reader: impl BufRead,
    cols: &[&str],
    optional: &[&str],
    mut row: impl FnMut(u64, Result<&[&str], RowFault>) -> ControlFlow<()>,
) -> Result<(), ReferenceError> {
    let invalid = |line: u64, field: &str, message: String| ReferenceError::Invalid {
        source_name: source_name.to_string(),
        line,
        field: field.to_string(),
        message,
    };
    let mut records = CsvRecords::new(reader);
    let mut index = Vec::with_capacity(cols.len());
    let mut width = 0;
    let mut first = true;
    while let Some((line, bytes)) = records.next_record().map_err(|error| ReferenceError::Io {
        source_name: source_name.to_string(),
        error,
    })? {
        let cells = split_csv_row(bytes);
        let texts: Result<Vec<&str>, RowFault> = match &cells {
            Ok(cells) => cells
                .iter()
                .map(|c| std::str::from_utf8(c).map_err(|_| RowFault::new("row", "not UTF-8")))
                .collect(),
            Err(m) => Err(RowFault::new("row", m.0.clone().into_owned())),
        };
        if first {
            first = false;
            let mut texts = texts.map_err(|f| invalid(line, f.field, f.message))?;
            if let Some(t) = texts.first_mut() {
                *t = t.strip_prefix('\u{feff}').unwrap_or(t);
            }
            for c in cols {
                let pos = texts
                    .iter()
                    .position(|t| t.trim() == *c)
                    .ok_or_else(|| invalid(line, c, format!("header has no column {c:?}")))?;
                index.push(Some(pos));
            }
            for c in optional {
                index.push(texts.iter().position(|t| t.trim() == *c));
            }
            width = texts.len();
            continue;
        }
        let cells = match texts {
            Ok(texts) if texts.len() == 1 && texts[0].is_empty() => continue,
            Ok(texts) if texts.len() != width => Err(RowFault::new(
                "row",
                format!("expected {width} fields, found {}", texts.len()),
            )),
            Ok(texts) => Ok(index
                .iter()
                .map(|i| i.map_or("", |i| texts[i]))
                .collect::<Vec<&str>>()),
            Err(fault) => Err(fault),
        };
        let verdict = match cells {
            Ok(picked) => row(line, Ok(&picked)),
            Err(fault) => row(line, Err(fault)),
        };
        if verdict.is_break() {
            return Ok(());
        }
    }
    if first {
        return Err(invalid(1, "header", "file is empty".into()));
    }
    Ok(())
}

/// Splits a CSV stream into records (a quoted cell may span lines), with the
/// line number each record starts on.
pub(crate) struct CsvRecords<R> {
    reader: R,
    buf: Vec<u8>,
    line: u64,
}

impl<R: BufRead> CsvRecords<R> {
    pub(crate) fn new(reader: R) -> Self {
        CsvRecords {
            reader,
            buf: Vec::new(),
            line: 0,
        }
    }

    /// The next record without its line break, or `None` at the end.
    pub(crate) fn next_record(&mut self) -> std::io::Result<Option<(u64, &[u8])>> {
        self.buf.clear();
        let start = self.line + 1;
        loop {
            let n = self.reader.read_until(b'\n', &mut self.buf)?;
            if n == 0 {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                // Last record without a final newline (or with an open quote).
                self.line += 1;
                return Ok(Some((start, &self.buf[..])));
            }
            self.line += 1;
            if self.buf.last() == Some(&b'\n')
                && last_csv_record_end(&self.buf) == Some(self.buf.len())
            {
                let end = self.buf.len() - 1;
                return Ok(Some((start, &self.buf[..end])));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(csv: &str) -> Vec<Result<CustomerRow, RowFault>> {
        let mut out = Vec::new();
        for_each_customer("customers.csv", csv.as_bytes(), |_, r| {
            out.push(r);
            ControlFlow::Continue(())
        })
        .expect("readable");
        out
    }

    #[test]
    fn the_market_column_is_optional_checked_and_upper_cased() {
        let without = rows("customer_id,email,name,locale,currency\nc-1,a@x.se,A,sv,SEK\n");
        assert_eq!(without[0].as_ref().expect("row").market, None);
        let with = rows(
            "market,customer_id,email,name,locale,currency\nse,c-1,a@x.se,A,sv,SEK\n,c-2,b@x.se,B,nb,NOK\nSWE,c-3,c@x.se,C,sv,SEK\n",
        );
        assert_eq!(with[0].as_ref().expect("row").market.as_deref(), Some("SE"));
        assert_eq!(with[1].as_ref().expect("row").market, None);
        let fault = with[2].as_ref().expect_err("three letters");
        assert_eq!(fault.field, "market");
    }
}
