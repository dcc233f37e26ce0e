//! Importing `customers.csv` and `subscriptions.csv` (compensation.md §2):
//! streamed, an upsert, and all or nothing.
//!
//! **A file with any bad row is refused whole.** Every bad row is reported
//! by file, line, field and reason, and nothing of the import is written:
//! the rows are upserted inside one transaction that is rolled back on the
//! first fault found and never committed. Why not apply the good rows: the
//! customer table decides who is paid; a half-applied file would silently
//! turn the missing customers into "unknown" ones that are never paid, and
//! fixing the file and importing it again is cheap because it is an upsert.
//!
//! The bytes are parsed on a blocking thread by the engine's own reference
//! readers (the same checks `plaster compensation preview` makes) and handed
//! over in batches through a bounded channel, so a file of any size takes a
//! few batches of memory. Beyond the engine's checks an import requires an
//! e-mail address that looks like one: customers sign in with it.

use std::collections::HashSet;
use std::io::{BufReader, Read};
use std::ops::ControlFlow;

use plaster_engine::reference::{for_each_customer, for_each_subscription};
use plaster_engine::{CustomerRow, ReferenceError, RowFault, SubscriptionRow};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::kernel::audit::Actor;
use crate::kernel::email::parse_address;
use crate::store::customers::{self as table, BATCH_ROWS};
use crate::store::{audit, Store, StoreError};

/// Bad rows listed in full; beyond these only the count grows.
pub const LISTED_BAD_ROWS: usize = 1000;

/// What an import wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub customers: u64,
    pub subscriptions: u64,
}

/// One refused row: where it is and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BadRow {
    pub file: String,
    pub line: u64,
    pub field: String,
    pub reason: String,
}

impl std::fmt::Display for BadRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: line {}: {}: {}",
            self.file, self.line, self.field, self.reason
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Rows were bad; nothing was written.
    #[error("{} refused: nothing was imported", plural(*total, "bad row"))]
    Refused {
        /// The first [`LISTED_BAD_ROWS`] bad rows, in reading order.
        rows: Vec<BadRow>,
        total: u64,
    },
    /// The file as a whole: no header with the needed columns, not CSV.
    #[error("{0}; nothing was imported")]
    File(String),
    /// The bytes could not be read (the upload broke off, a disk error).
    #[error("{0}; nothing was imported")]
    Read(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ImportError {
    /// The input's fault, not Plaster's: shown at the form, exit 2 on the command line.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, ImportError::Refused { .. } | ImportError::File(_))
    }
}

fn plural(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

impl From<ReferenceError> for ImportError {
    fn from(e: ReferenceError) -> Self {
        match e {
            ReferenceError::Io { .. } => ImportError::Read(e.to_string()),
            ReferenceError::Invalid { .. } => ImportError::File(e.to_string()),
        }
    }
}

/// What the parsing thread hands over.
enum Parsed<T> {
    Rows(Vec<(u64, T)>),
    Bad(u64, RowFault),
}

/// Collects checked rows into batches and sends them; stops when the
/// importer has gone (its side failed).
struct Batcher<T> {
    batch: Vec<(u64, T)>,
    tx: mpsc::Sender<Parsed<T>>,
}

impl<T> Batcher<T> {
    fn push(&mut self, line: u64, row: Result<T, RowFault>) -> ControlFlow<()> {
        let sent = match row {
            Ok(row) => {
                self.batch.push((line, row));
                if self.batch.len() < BATCH_ROWS {
                    return ControlFlow::Continue(());
                }
                let full = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH_ROWS));
                self.tx.blocking_send(Parsed::Rows(full))
            }
            Err(fault) => {
                // The rows before it first, so that bad rows are listed in
                // file order whichever side finds them.
                let before = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH_ROWS));
                let sent = if before.is_empty() {
                    Ok(())
                } else {
                    self.tx.blocking_send(Parsed::Rows(before))
                };
                sent.and_then(|()| self.tx.blocking_send(Parsed::Bad(line, fault)))
            }
        };
        if sent.is_ok() {
            ControlFlow::Continue(())
        } else {
            ControlFlow::Break(())
        }
    }

    fn flush(self) {
        if !self.batch.is_empty() {
            // A closed channel means the importer stopped; nothing to tell it.
            let _ = self.tx.blocking_send(Parsed::Rows(self.batch));
        }
    }
}

/// Starts parsing `reader` on a blocking thread with `read` (one of the
/// engine's `for_each_*`); batches arrive on the receiver.
fn parse_in_background<T, F>(
    file: &str,
    reader: Box<dyn Read + Send>,
    read: F,
) -> (
    mpsc::Receiver<Parsed<T>>,
    tokio::task::JoinHandle<Result<(), ReferenceError>>,
)
where
    T: Send + 'static,
    F: FnOnce(&str, BufReader<Box<dyn Read + Send>>, &mut Batcher<T>) -> Result<(), ReferenceError>
        + Send
        + 'static,
{
    let (tx, rx) = mpsc::channel(4);
    let file = file.to_string();
    let handle = tokio::task::spawn_blocking(move || {
        let mut batcher = Batcher {
            batch: Vec::with_capacity(BATCH_ROWS),
            tx,
        };
        let result = read(
            &file,
            BufReader::with_capacity(256 * 1024, reader),
            &mut batcher,
        );
        batcher.flush();
        result
    });
    (rx, handle)
}

/// An import in progress: customers first, then subscriptions, then
/// [`Import::finish`]. Dropping it unfinished writes nothing.
pub struct Import {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    now_ms: i64,
    customer_ids: HashSet<String>,
    plans: HashSet<(String, String)>,
    files: Vec<String>,
    bad: Vec<BadRow>,
    bad_total: u64,
    report: ImportReport,
}

impl Import {
    pub async fn begin(store: &Store) -> Result<Import, ImportError> {
        Ok(Import {
            tx: store.begin_write().await.map_err(StoreError::from)?,
            now_ms: chrono::Utc::now().timestamp_millis(),
            customer_ids: HashSet::new(),
            plans: HashSet::new(),
            files: Vec::new(),
            bad: Vec::new(),
            bad_total: 0,
            report: ImportReport::default(),
        })
    }

    fn refuse(&mut self, file: &str, line: u64, fault: RowFault) {
        self.bad_total += 1;
        if self.bad.len() < LISTED_BAD_ROWS {
            self.bad.push(BadRow {
                file: file.to_string(),
                line,
                field: fault.field.to_string(),
                reason: fault.message,
            });
        }
    }

    /// The next batch of checked rows; the bad rows before it are recorded.
    async fn next_batch<T>(
        &mut self,
        file: &str,
        rx: &mut mpsc::Receiver<Parsed<T>>,
    ) -> Option<Vec<(u64, T)>> {
        while let Some(parsed) = rx.recv().await {
            match parsed {
                Parsed::Bad(line, fault) => self.refuse(file, line, fault),
                Parsed::Rows(batch) => return Some(batch),
            }
        }
        None
    }

    /// Reads a `customers.csv`, named `file` in messages.
    pub async fn customers(
        &mut self,
        file: &str,
        reader: impl Read + Send + 'static,
    ) -> Result<(), ImportError> {
        self.files.push(file.to_string());
        let (mut rx, parser) = parse_in_background(file, Box::new(reader), |name, r, b| {
            for_each_customer(name, r, |line, row| b.push(line, row))
        });
        while let Some(batch) = self.next_batch(file, &mut rx).await {
            let mut good: Vec<CustomerRow> = Vec::with_capacity(batch.len());
            for (line, mut row) in batch {
                let Some(email) = parse_address(&row.email) else {
                    let fault =
                        RowFault::new("email", format!("{:?} is not an e-mail address", row.email));
                    self.refuse(file, line, fault);
                    continue;
                };
                if !self.customer_ids.insert(row.id.as_str().to_string()) {
                    let fault = RowFault::new(
                        "customer_id",
                        format!(
                            "{:?} appears twice (line {line} repeats it)",
                            row.id.as_str()
                        ),
                    );
                    self.refuse(file, line, fault);
                    continue;
                }
                row.email = email;
                good.push(row);
            }
            self.report.customers += good.len() as u64;
            // Once a row is bad the import is refused: keep reading to list
            // every bad row, but write no more.
            if self.bad_total == 0 {
                table::upsert_customers(&mut self.tx, &good, self.now_ms).await?;
            }
        }
        joined(parser).await
    }

    /// Reads a `subscriptions.csv`. As in the engine, a subscription may
    /// belong to a customer the table does not hold (billing knows more
    /// accounts than the customer file): it is kept, and pays nothing
    /// while its customer is unknown.
    pub async fn subscriptions(
        &mut self,
        file: &str,
        reader: impl Read + Send + 'static,
    ) -> Result<(), ImportError> {
        self.files.push(file.to_string());
        let (mut rx, parser) = parse_in_background(file, Box::new(reader), |name, r, b| {
            for_each_subscription(name, r, |line, row| b.push(line, row))
        });
        while let Some(batch) = self.next_batch(file, &mut rx).await {
            let mut good: Vec<SubscriptionRow> = Vec::with_capacity(batch.len());
            for (line, row) in batch {
                let id = row.customer_id.as_str();
                if !self.plans.insert((id.to_string(), row.plan.clone())) {
                    let fault = row.repeated_plan();
                    self.refuse(file, line, fault);
                    continue;
                }
                good.push(row);
            }
            self.report.subscriptions += good.len() as u64;
            if self.bad_total == 0 {
                table::upsert_subscriptions(&mut self.tx, &good, self.now_ms).await?;
            }
        }
        joined(parser).await
    }

    /// Commits what was read, with its audit entry, or refuses it all.
    pub async fn finish(mut self, actor: &Actor) -> Result<ImportReport, ImportError> {
        if self.bad_total > 0 {
            self.tx.rollback().await.map_err(StoreError::from)?;
            return Err(ImportError::Refused {
                rows: self.bad,
                total: self.bad_total,
            });
        }
        let after = serde_json::json!({
            "files": self.files,
            "customers": self.report.customers,
            "subscriptions": self.report.subscriptions,
        });
        // Whoever changes what a run's next preview reads counts as an
        // editor of it (four eyes on the inputs, not only on the plan).
        if let Some(account) = actor.id() {
            crate::store::compensation::add_editor_to_open_runs(&mut self.tx, account).await?;
        }
        audit::append(
            &mut self.tx,
            actor,
            "customers.import",
            "customers",
            None,
            Some(&after),
        )
        .await?;
        self.tx.commit().await.map_err(StoreError::from)?;
        Ok(self.report)
    }
}

/// The parsing thread's own verdict on the file (header, reading).
async fn joined(
    parser: tokio::task::JoinHandle<Result<(), ReferenceError>>,
) -> Result<(), ImportError> {
    parser
        .await
        .map_err(|e| ImportError::Read(format!("the parser stopped: {e}")))?
        .map_err(ImportError::from)
}
