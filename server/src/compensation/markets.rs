//! Markets: which remedies may be paid to customers of a licence's country.
//! Swedish gambling law treats credit to a player's account as a bonus,
//! allowed only at the first gaming occasion (spellagen 14 kap. 9 §), so
//! by default `SE` allows refunds of failed debits, subscription credits
//! and jackpot top-ups and blocks goodwill credit; finance may change any
//! market's choices. A revision that pays a blocked line cannot be
//! approved until the plan changes.

use crate::store::customers::{self as table, MarketRemedy};
use crate::store::{Store, StoreError};

/// The remedies a market may allow or block (the engine's rule kinds that
/// pay a customer).
pub const REMEDIES: [&str; 3] = [
    "refund_failed_debits",
    "goodwill_credit",
    "subscription_credit",
];

/// Whether `rule` may be paid in `market` when finance has not said.
pub fn allowed_by_default(market: &str, rule: &str) -> bool {
    !(market == "SE" && rule == "goodwill_credit")
}

/// Finance's choices with the defaults under them.
#[derive(Debug, Clone, Default)]
pub struct MarketPolicy {
    set: Vec<MarketRemedy>,
}

impl MarketPolicy {
    pub async fn load(store: &Store) -> Result<MarketPolicy, StoreError> {
        Ok(MarketPolicy {
            set: table::market_remedies(store).await?,
        })
    }

    pub fn allows(&self, market: &str, rule: &str) -> bool {
        self.set
            .iter()
            .find(|m| m.market == market && m.rule == rule)
            .map_or_else(|| allowed_by_default(market, rule), |m| m.allowed)
    }

    /// Finance's own choices, for the page.
    pub fn choices(&self) -> &[MarketRemedy] {
        &self.set
    }
}

/// Lines of a revision a market blocks, per (market, rule, currency).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    pub market: String,
    pub rule: String,
    pub currency: String,
    pub lines: i64,
    pub total_minor: i64,
}

/// What of `revision` the markets block.
pub async fn blocked(
    conn: &mut sqlx::AnyConnection,
    policy: &MarketPolicy,
    run_id: &str,
    revision: i64,
) -> Result<Vec<Blocked>, StoreError> {
    Ok(table::lines_by_market(conn, run_id, revision)
        .await?
        .into_iter()
        .filter(|(market, rule, ..)| !policy.allows(market, rule))
        .map(|(market, rule, currency, lines, total_minor)| Blocked {
            market,
            rule,
            currency,
            lines,
            total_minor,
        })
        .collect())
}

/// The blocked lines in words, for a refusal or a warning.
pub fn describe(blocked: &[Blocked]) -> String {
    blocked
        .iter()
        .map(|b| {
            format!(
                "{} {} line(s) to {} customers ({})",
                b.lines,
                b.rule,
                b.market,
                crate::compensation::charts::money(b.total_minor, &b.currency)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweden_blocks_goodwill_by_default_and_finance_may_change_it() {
        let mut policy = MarketPolicy::default();
        assert!(!policy.allows("SE", "goodwill_credit"));
        assert!(policy.allows("SE", "refund_failed_debits"));
        assert!(policy.allows("NO", "goodwill_credit"));
        policy.set.push(MarketRemedy {
            market: "SE".into(),
            rule: "goodwill_credit".into(),
            allowed: true,
            updated_by: "f@example.se".into(),
            updated_at: 0,
        });
        assert!(policy.allows("SE", "goodwill_credit"));
    }
}
