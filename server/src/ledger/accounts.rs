//! The ledger's accounts as finance sees them (runs.md §2).

use std::fmt;

/// An account. Stored and shown by its name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Account {
    /// `compensation:<rule>`: what a rule of a run cost the operator.
    Expense(String),
    /// `jackpot:fund`: the operator's fund that tops up pools.
    JackpotFund,
    /// `jackpot:pool:<round_id>`: a round's pool.
    JackpotPool(String),
    /// `customer:<customer_id>`: what is owed to the customer.
    Customer(String),
    /// `payouts:settled`: money that has left.
    PayoutsSettled,
}

impl Account {
    pub fn name(&self) -> String {
        match self {
            Account::Expense(rule) => format!("compensation:{rule}"),
            Account::JackpotFund => "jackpot:fund".into(),
            Account::JackpotPool(round) => format!("jackpot:pool:{round}"),
            Account::Customer(id) => format!("customer:{id}"),
            Account::PayoutsSettled => "payouts:settled".into(),
        }
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}
