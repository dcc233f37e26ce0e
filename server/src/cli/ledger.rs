//! `plaster ledger ...` and `plaster payouts export` (runs.md §4): the
//! ledger as finance scripts read it, CSV on stdout.

use std::io::Write;

use crate::cli::error::CliError;
use crate::compensation::ledger_csv;
use crate::compensation::runs;
use crate::store::{executions, ledger, payouts, Store};

fn stdout_error(error: std::io::Error) -> CliError {
    CliError::Open {
        path: "standard output".into(),
        error,
    }
}

/// Every line transaction posted for the run.
pub async fn lines(store: &Store, run: &str) -> Result<(), CliError> {
    runs::show(store, run).await?;
    let mut conn = store
        .pool()
        .acquire()
        .await
        .map_err(crate::store::StoreError::from)?;
    let keys = ledger::run_keys(&mut conn, run).await?;
    let out = std::io::BufWriter::new(std::io::stdout().lock());
    ledger_csv::posted_lines(&keys, out).map_err(stdout_error)
}

/// The run's open discrepancies.
pub async fn discrepancies(store: &Store, run: &str) -> Result<(), CliError> {
    runs::show(store, run).await?;
    let mut conn = store
        .pool()
        .acquire()
        .await
        .map_err(crate::store::StoreError::from)?;
    let found = executions::discrepancies(&mut conn, run).await?;
    let out = std::io::BufWriter::new(std::io::stdout().lock());
    ledger_csv::discrepancies(&found, out).map_err(stdout_error)
}

/// The trial balance; says on stderr, and fails, if a currency does not balance.
pub async fn balance(store: &Store) -> Result<(), CliError> {
    let rows = ledger::trial_balance(store).await?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    ledger_csv::balance(&rows, &mut out).map_err(stdout_error)?;
    out.flush().map_err(stdout_error)?;
    let mut per: std::collections::BTreeMap<&str, (i64, i64)> = Default::default();
    for r in &rows {
        let e = per.entry(r.currency.as_str()).or_default();
        e.0 += r.debit_minor;
        e.1 += r.credit_minor;
    }
    for (currency, (d, c)) in per {
        if d != c {
            return Err(CliError::Store(crate::store::StoreError::Corrupt(format!(
                "the ledger does not balance in {currency}: debits {d}, credits {c}"
            ))));
        }
    }
    Ok(())
}

/// The run's payouts.
pub async fn payouts_export(store: &Store, run: &str) -> Result<(), CliError> {
    runs::show(store, run).await?;
    let list = payouts::of_run(store, run, None).await?;
    let out = std::io::BufWriter::new(std::io::stdout().lock());
    ledger_csv::payouts(&list, out).map_err(stdout_error)
}
