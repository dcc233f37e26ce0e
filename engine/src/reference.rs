//! Reference files: `customers.csv` and `subscriptions.csv`.
//!
//! Unlike event logs, a bad row here is an error, not something to skip: a
//! customer silently dropped from the reference would be reported as unknown
//! and never paid.

use std::io::BufRead;

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
        let cols = ["customer_id", "email", "name", "locale", "currency"];
        read_table(source_name, reader, &cols, |line, cells| {
            let id = CustomerId::parse(cells[0])
                .ok_or_else(|| ("customer_id", "must be 1-64 characters".to_string()))?;
            let currency = Currency::parse(cells[4])
                .ok_or_else(|| ("currency", "not an ISO 4217 currency code".to_string()))?;
            if cells[3].is_empty() {
                return Err(("locale", "missing".to_string()));
            }
            if out.currency.insert(id.as_str().into(), currency).is_some() {
                return Err((
                    "customer_id",
                    format!("{:?} appears twice (line {line} repeats it)", id.as_str()),
                ));
            }
            Ok(())
        })?;
        Ok(out)
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
        let cols = [
            "customer_id",
            "plan",
            "monthly_fee_minor",
            "currency",
            "status",
        ];
        read_table(source_name, reader, &cols, |_, cells| {
            let id = CustomerId::parse(cells[0])
                .ok_or_else(|| ("customer_id", "must be 1-64 characters".to_string()))?;
            if cells[1].is_empty() {
                return Err(("plan", "missing".to_string()));
            }
            let fee = cells[2]
                .bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| cells[2].parse::<i64>().ok())
                .flatten()
                .ok_or_else(|| ("monthly_fee_minor", "must be an integer >= 0".to_string()))?;
            let currency = Currency::parse(cells[3])
                .ok_or_else(|| ("currency", "not an ISO 4217 currency code".to_string()))?;
            let active = match cells[4] {
                "active" => true,
                "cancelled" => false,
                other => {
                    return Err((
                        "status",
                        format!("{other:?} is neither \"active\" nor \"cancelled\""),
                    ))
                }
            };
            if !seen.insert((id.as_str().into(), cells[1].to_string())) {
                return Err((
                    "plan",
                    format!(
                        "customer {:?} has plan {:?} twice (one row per customer and plan)",
                        id.as_str(),
                        cells[1]
                    ),
                ));
            }
            if active {
                out.insert_active(
                    id,
                    Subscription {
                        plan: cells[1].to_string(),
                        monthly_fee_minor: fee,
                        currency,
                    },
                );
            }
            Ok(())
        })?;
        Ok(out)
    }
}

type RowResult = Result<(), (&'static str, String)>;

/// Reads a CSV table with a header naming at least `cols`; calls `row` with
/// the cells in the order of `cols`.
fn read_table(
    source_name: &str,
    reader: impl BufRead,
    cols: &[&str],
    mut row: impl FnMut(u64, &[&str]) -> RowResult,
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
        let cells = split_csv_row(bytes).map_err(|m| invalid(line, "row", m.0.into_owned()))?;
        let mut texts = Vec::with_capacity(cells.len());
        for c in &cells {
            texts.push(
                std::str::from_utf8(c).map_err(|_| invalid(line, "row", "not UTF-8".into()))?,
            );
        }
        if first {
            first = false;
            if let Some(t) = texts.first_mut() {
                *t = t.strip_prefix('\u{feff}').unwrap_or(t);
            }
            for c in cols {
                let pos = texts
                    .iter()
                    .position(|t| t.trim() == *c)
                    .ok_or_else(|| invalid(line, c, format!("header has no column {c:?}")))?;
                index.push(pos);
            }
            width = texts.len();
            continue;
        }
        if texts.len() == 1 && texts[0].is_empty() {
            continue;
        }
        if texts.len() != width {
            return Err(invalid(
                line,
                "row",
                format!("expected {width} fields, found {}", texts.len()),
            ));
        }
        let picked: Vec<&str> = index.iter().map(|&i| texts[i]).collect();
        row(line, &picked).map_err(|(field, message)| invalid(line, field, message))?;
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
