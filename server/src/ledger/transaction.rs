//! A ledger transaction: its key, what it is for, and postings whose debits
//! equal their credits in each currency. [`Transaction::balanced`] is the
//! one place that rule is checked before anything is written.

use std::collections::BTreeMap;

use serde_json::json;

use crate::ledger::accounts::Account;

/// What a transaction records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxKind {
    /// A line of an approved revision.
    Line,
    /// A difference settled by finance (four eyes).
    Adjustment,
    /// A payout the receiver accepted: the customer's claim leaves.
    Payout,
}

impl TxKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TxKind::Line => "line",
            TxKind::Adjustment => "adjustment",
            TxKind::Payout => "payout",
        }
    }
}

/// The key of a run's line: `(plan id, rule position, customer id,
/// reference)`, the customer id empty for a jackpot line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LineKey {
    pub run_id: String,
    pub position: i64,
    pub customer_id: String,
    pub reference: String,
}

impl LineKey {
    /// The stored id of the line's transaction: the key as a JSON array,
    /// which no two keys share whatever characters their parts hold.
    pub fn line_id(&self) -> String {
        json!([self.run_id, self.position, self.customer_id, self.reference]).to_string()
    }

    /// The id of the key's `n`th adjustment (1, 2, ...).
    pub fn adjustment_id(&self, n: i64) -> String {
        json!([
            self.run_id,
            self.position,
            self.customer_id,
            self.reference,
            "adjust",
            n
        ])
        .to_string()
    }
}

/// The id of a settled payout's transaction.
pub fn payout_tx_id(payout_id: &str) -> String {
    json!(["payout", payout_id]).to_string()
}

/// One side of a transaction on one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    pub account: Account,
    pub currency: String,
    pub debit_minor: i64,
    pub credit_minor: i64,
}

impl Posting {
    pub fn debit(account: Account, currency: &str, minor: i64) -> Posting {
        Posting {
            account,
            currency: currency.to_string(),
            debit_minor: minor,
            credit_minor: 0,
        }
    }

    pub fn credit(account: Account, currency: &str, minor: i64) -> Posting {
        Posting {
            account,
            currency: currency.to_string(),
            debit_minor: 0,
            credit_minor: minor,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unbalanced {
    #[error("a transaction needs postings")]
    Empty,
    #[error("a posting is negative or both a debit and a credit ({0})")]
    Side(String),
    #[error("debits {debit} and credits {credit} differ in {currency}")]
    Currency {
        currency: String,
        debit: i128,
        credit: i128,
    },
}

/// Checks the double-entry rule: every posting is one non-negative side,
/// and per currency the debits equal the credits.
pub fn balanced(postings: &[Posting]) -> Result<(), Unbalanced> {
    if postings.is_empty() {
        return Err(Unbalanced::Empty);
    }
    let mut per: BTreeMap<&str, (i128, i128)> = BTreeMap::new();
    for p in postings {
        if p.debit_minor < 0 || p.credit_minor < 0 || (p.debit_minor > 0 && p.credit_minor > 0) {
            return Err(Unbalanced::Side(p.account.name()));
        }
        let e = per.entry(p.currency.as_str()).or_default();
        e.0 += i128::from(p.debit_minor);
        e.1 += i128::from(p.credit_minor);
    }
    for (currency, (debit, credit)) in per {
        if debit != credit {
            return Err(Unbalanced::Currency {
                currency: currency.to_string(),
                debit,
                credit,
            });
        }
    }
    Ok(())
}

/// The postings of a line of `rule` (or of an adjustment of one, signed):
/// a customer line moves the rule's expense to what the customer is owed,
/// a jackpot line moves the fund into the round's pool.
pub fn line_postings(
    rule: &str,
    customer_id: &str,
    jackpot_round: Option<&str>,
    amount_minor: i64,
    currency: &str,
) -> Vec<Posting> {
    let (from, to) = match jackpot_round {
        Some(round) => (
            Account::JackpotFund,
            Account::JackpotPool(round.to_string()),
        ),
        None => (
            Account::Expense(rule.to_string()),
            Account::Customer(customer_id.to_string()),
        ),
    };
    if amount_minor >= 0 {
        vec![
            Posting::debit(from, currency, amount_minor),
            Posting::credit(to, currency, amount_minor),
        ]
    } else {
        // A negative adjustment takes back: the sides swap.
        vec![
            Posting::debit(to, currency, -amount_minor),
            Posting::credit(from, currency, -amount_minor),
        ]
    }
}

/// The postings of a settled payout: the customer's claim leaves.
pub fn payout_postings(customer_id: &str, amount_minor: i64, currency: &str) -> Vec<Posting> {
    vec![
        Posting::debit(
            Account::Customer(customer_id.to_string()),
            currency,
            amount_minor,
        ),
        Posting::credit(Account::PayoutsSettled, currency, amount_minor),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unambiguous_json() {
        let a = LineKey {
            run_id: "r".into(),
            position: 1,
            customer_id: "c,1".into(),
            reference: "b".into(),
        };
        let b = LineKey {
            run_id: "r".into(),
            position: 1,
            customer_id: "c".into(),
            reference: "1,b".into(),
        };
        assert_ne!(a.line_id(), b.line_id());
        assert_eq!(a.line_id(), r#"["r",1,"c,1","b"]"#);
        assert_eq!(a.adjustment_id(2), r#"["r",1,"c,1","b","adjust",2]"#);
    }

    #[test]
    fn the_balance_rule() {
        assert!(balanced(&line_postings("goodwill_credit", "c", None, 500, "SEK")).is_ok());
        assert!(balanced(&line_postings("goodwill_credit", "c", None, -500, "SEK")).is_ok());
        assert!(balanced(&line_postings("jackpot_topup", "", Some("r1"), 9, "SEK")).is_ok());
        assert!(balanced(&payout_postings("c", 5, "NOK")).is_ok());
        assert_eq!(balanced(&[]), Err(Unbalanced::Empty));
        let mixed = vec![
            Posting::debit(Account::JackpotFund, "SEK", 5),
            Posting::credit(Account::PayoutsSettled, "NOK", 5),
        ];
        assert!(matches!(balanced(&mixed), Err(Unbalanced::Currency { .. })));
        let negative = vec![
            Posting::debit(Account::JackpotFund, "SEK", -5),
            Posting::credit(Account::PayoutsSettled, "SEK", -5),
        ];
        assert!(matches!(balanced(&negative), Err(Unbalanced::Side(_))));
    }
}
