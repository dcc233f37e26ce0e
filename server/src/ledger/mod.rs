//! The double-entry ledger (runs.md §2): accounts, transactions and their
//! postings, and the rule that debits equal credits per currency in every
//! transaction. A pure core; `store::ledger` writes and reads it, and the
//! ledger refuses UPDATE, DELETE and TRUNCATE (triggers in the migrations).
//!
//! - `accounts`: the accounts finance sees, named once;
//! - `transaction`: a transaction's key and postings, and the balance check.

pub mod accounts;
pub mod transaction;
