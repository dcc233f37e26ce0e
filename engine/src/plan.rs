//! The compensation plan: TOML, validated once into typed rules.
//!
//! Every error names the offending field as a path (`rules[1].amount_minor`), so
//! the person who wrote the plan can find it without reading code. Unknown keys
//! are errors too: a misspelt `dedline` silently ignored would pay the wrong people.

use std::collections::BTreeMap;

use toml::{Table, Value};

use crate::record::Currency;
use crate::time::Instant;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct PlanError {
    /// Path of the offending field, e.g. `rules[1].amount_minor`; empty for a syntax error.
    pub field: String,
    pub message: String,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> PlanError {
    PlanError {
        field: field.into(),
        message: message.into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Components {
    pub login: bool,
    pub betting: bool,
    pub streaming: bool,
}

/// A `games` filter: `None` means every game.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Games(pub Option<Vec<String>>);

impl Games {
    pub fn contains(&self, game: &str) -> bool {
        match &self.0 {
            None => true,
            Some(list) => list.iter().any(|g| g == game),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionAmount {
    PercentOfMonthlyFee(u8),
    Days(u8),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    RefundFailedDebits {
        games: Games,
    },
    GoodwillCredit {
        amount_minor: BTreeMap<Currency, i64>,
        deadline: Option<Instant>,
        games: Games,
    },
    SubscriptionCredit {
        amount: SubscriptionAmount,
        min_blocked_minutes: u64,
    },
    JackpotTopup {
        round_id: String,
        currency: Currency,
        target_minor: i64,
        current_minor: i64,
    },
}

impl Rule {
    pub fn kind(&self) -> &'static str {
        match self {
            Rule::RefundFailedDebits { .. } => "refund_failed_debits",
            Rule::GoodwillCredit { .. } => "goodwill_credit",
            Rule::SubscriptionCredit { .. } => "subscription_credit",
            Rule::JackpotTopup { .. } => "jackpot_topup",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub id: String,
    pub components: Components,
    pub started_at: Instant,
    pub resolved_at: Instant,
    /// Language tag → title.
    pub title: BTreeMap<String, String>,
    pub rules: Vec<Rule>,
}

impl Plan {
    /// Is `ts` in the window `started_at <= ts < resolved_at`?
    pub fn in_window(&self, ts: Instant) -> bool {
        self.started_at <= ts && ts < self.resolved_at
    }

    /// The end of the span in which bet records can still matter: the later
    /// of `resolved_at` and every goodwill deadline.
    pub fn horizon(&self) -> Instant {
        self.rules
            .iter()
            .filter_map(|r| match r {
                Rule::GoodwillCredit {
                    deadline: Some(d), ..
                } => Some(*d),
                _ => None,
            })
            .fold(self.resolved_at, Instant::max)
    }

    pub fn parse(text: &str) -> Result<Plan, PlanError> {
        let table: Table = text.parse().map_err(|e: toml::de::Error| {
            let msg = e.message().to_string();
            let at = e
                .span()
                .map(|s| {
                    let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
                    format!(" (line {line})")
                })
                .unwrap_or_default();
            err("", format!("not valid TOML{at}: {msg}"))
        })?;
        let mut t = Fields::new(table, String::new());
        let id = t.string("id")?;
        if id.is_empty()
            || id.len() > 64
            || !id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(err("id", "must match [a-z0-9-]{1,64}"));
        }
        let mut components = Components {
            login: false,
            betting: false,
            streaming: false,
        };
        for (i, c) in t.string_list("components")?.into_iter().enumerate() {
            match c.as_str() {
                "login" => components.login = true,
                "betting" => components.betting = true,
                "streaming" => components.streaming = true,
                other => {
                    return Err(err(
                        format!("components[{i}]"),
                        format!(
                            "unknown component {other:?} (expected login, betting or streaming)"
                        ),
                    ))
                }
            }
        }
        let started_at = t.instant("started_at")?;
        let resolved_at = t.instant("resolved_at")?;
        if resolved_at <= started_at {
            return Err(err("resolved_at", "must be later than started_at"));
        }
        let mut title = BTreeMap::new();
        if let Some(v) = t.take("title") {
            let Value::Table(tt) = v else {
                return Err(err("title", "must be a table of language = text"));
            };
            for (lang, text) in tt {
                match text {
                    Value::String(s) => {
                        title.insert(lang, s);
                    }
                    _ => return Err(err(format!("title.{lang}"), "must be a string")),
                }
            }
        }
        let mut rules = Vec::new();
        match t.take("rules") {
            None => {}
            Some(Value::Array(items)) => {
                for (i, item) in items.into_iter().enumerate() {
                    let path = format!("rules[{i}]");
                    let Value::Table(rt) = item else {
                        return Err(err(path, "must be a table"));
                    };
                    rules.push(parse_rule(Fields::new(rt, path))?);
                }
            }
            Some(_) => return Err(err("rules", "must be an array of tables ([[rules]])")),
        }
        t.finish()?;
        Ok(Plan {
            id,
            components,
            started_at,
            resolved_at,
            title,
            rules,
        })
    }
}

fn parse_rule(mut t: Fields) -> Result<Rule, PlanError> {
    let kind = t.string("kind")?;
    let rule = match kind.as_str() {
        "refund_failed_debits" => Rule::RefundFailedDebits {
            games: t.games()?,
        },
        "goodwill_credit" => {
            let field = t.path("amount_minor");
            let amount_minor = match t.take("amount_minor") {
                None => return Err(err(field, "missing (a table currency = amount)")),
                Some(Value::Table(amounts)) => {
                    let mut out = BTreeMap::new();
                    for (code, v) in amounts {
                        let f = format!("{field}.{code}");
                        let cur = Currency::parse(&code)
                            .ok_or_else(|| err(&f, "not an ISO 4217 currency code"))?;
                        match v {
                            Value::Integer(n) if n >= 0 => {
                                out.insert(cur, n);
                            }
                            _ => return Err(err(f, "must be an integer >= 0")),
                        }
                    }
                    out
                }
                Some(_) => return Err(err(field, "must be a table currency = amount")),
            };
            let deadline = if t.has("deadline") {
                Some(t.instant("deadline")?)
            } else {
                None
            };
            Rule::GoodwillCredit {
                amount_minor,
                deadline,
                games: t.games()?,
            }
        }
        "subscription_credit" => {
            let percent = t.opt_int("percent_of_monthly_fee")?;
            let days = t.opt_int("days")?;
            let amount = match (percent, days) {
                (Some(p), None) => {
                    if !(1..=100).contains(&p) {
                        return Err(err(
                            t.path("percent_of_monthly_fee"),
                            "must be an integer from 1 to 100",
                        ));
                    }
                    SubscriptionAmount::PercentOfMonthlyFee(p as u8)
                }
                (None, Some(d)) => {
                    if !(1..=31).contains(&d) {
                        return Err(err(t.path("days"), "must be an integer from 1 to 31"));
                    }
                    SubscriptionAmount::Days(d as u8)
                }
                (Some(_), Some(_)) => {
                    return Err(err(
                        t.path("days"),
                        "give exactly one of percent_of_monthly_fee or days, not both",
                    ))
                }
                (None, None) => {
                    return Err(err(
                        t.path("percent_of_monthly_fee"),
                        "give exactly one of percent_of_monthly_fee or days",
                    ))
                }
            };
            let min_blocked_minutes = match t.opt_int("min_blocked_minutes")? {
                None => 0,
                Some(m) if m >= 0 => m as u64,
                Some(_) => {
                    return Err(err(
                        t.path("min_blocked_minutes"),
                        "must be an integer >= 0",
                    ))
                }
            };
            Rule::SubscriptionCredit {
                amount,
                min_blocked_minutes,
            }
        }
        "jackpot_topup" => {
            let round_id = t.string("round_id")?;
            let cf = t.path("currency");
            let currency = Currency::parse(&t.string("currency")?)
                .ok_or_else(|| err(cf, "not an ISO 4217 currency code"))?;
            let target_minor = t.int("target_minor")?;
            let current_minor = t.int("current_minor")?;
            for (name, v) in [("target_minor", target_minor), ("current_minor", current_minor)] {
                if v < 0 {
                    return Err(err(t.path(name), "must be an integer >= 0"));
                }
            }
            Rule::JackpotTopup {
                round_id,
                currency,
                target_minor,
                current_minor,
            }
        }
        other => {
            return Err(err(
                t.path("kind"),
                format!(
                    "unknown rule kind {other:?} (expected refund_failed_debits, goodwill_credit, subscription_credit or jackpot_topup)"
                ),
            ))
        }
    };
    t.finish()?;
    Ok(rule)
}

/// A TOML table being taken apart, remembering its path for error messages.
struct Fields {
    table: Table,
    prefix: String,
}

impl Fields {
    fn new(table: Table, prefix: String) -> Fields {
        Fields { table, prefix }
    }

    fn path(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.prefix)
        }
    }

    fn has(&self, key: &str) -> bool {
        self.table.contains_key(key)
    }

    fn take(&mut self, key: &str) -> Option<Value> {
        self.table.remove(key)
    }

    fn string(&mut self, key: &str) -> Result<String, PlanError> {
        match self.take(key) {
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(err(self.path(key), "must be a string")),
            None => Err(err(self.path(key), "missing")),
        }
    }

    fn string_list(&mut self, key: &str) -> Result<Vec<String>, PlanError> {
        match self.take(key) {
            Some(Value::Array(items)) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::String(s) => Ok(s),
                    _ => Err(err(format!("{}[{i}]", self.path(key)), "must be a string")),
                })
                .collect(),
            Some(_) => Err(err(self.path(key), "must be an array of strings")),
            None => Err(err(self.path(key), "missing")),
        }
    }

    fn games(&mut self) -> Result<Games, PlanError> {
        if !self.has("games") {
            return Ok(Games(None));
        }
        let list = self.string_list("games")?;
        // Absent or empty: all games.
        Ok(Games(if list.is_empty() { None } else { Some(list) }))
    }

    fn opt_int(&mut self, key: &str) -> Result<Option<i64>, PlanError> {
        match self.take(key) {
            Some(Value::Integer(n)) => Ok(Some(n)),
            Some(_) => Err(err(self.path(key), "must be an integer")),
            None => Ok(None),
        }
    }

    fn int(&mut self, key: &str) -> Result<i64, PlanError> {
        self.opt_int(key)?
            .ok_or_else(|| err(self.path(key), "missing"))
    }

    fn instant(&mut self, key: &str) -> Result<Instant, PlanError> {
        let text = match self.take(key) {
            Some(Value::String(s)) => s,
            Some(Value::Datetime(d)) => d.to_string(),
            Some(_) => return Err(err(self.path(key), "must be an RFC 3339 timestamp")),
            None => return Err(err(self.path(key), "missing")),
        };
        Instant::parse_rfc3339(&text).map_err(|e| {
            err(
                self.path(key),
                match e {
                    crate::time::TsError::NoOffset => {
                        format!("{text:?} has no offset (add Z or ±hh:mm)")
                    }
                    crate::time::TsError::Bad => format!("{text:?} is not an RFC 3339 timestamp"),
                },
            )
        })
    }

    /// Anything left over is a key this plan format does not know.
    fn finish(self) -> Result<(), PlanError> {
        match self.table.keys().next() {
            Some(k) => Err(err(self.path(k), "unknown field")),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
id = "p-1"
components = ["login", "betting"]
started_at = "2024-08-24T16:06:00+02:00"
resolved_at = 2024-08-24T20:41:00+02:00
"#;

    fn field_of(extra: &str) -> String {
        Plan::parse(&format!("{BASE}{extra}")).unwrap_err().field
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(field_of("[[rules]]\nkind = \"refund_failed_debits\"\n[[rules]]\nkind = \"goodwill_credit\"\namount_minor = { SEK = -1 }\n"), "rules[1].amount_minor.SEK");
        assert_eq!(field_of("[[rules]]\nkind = \"nope\"\n"), "rules[0].kind");
        assert_eq!(field_of("[[rules]]\nkind = \"subscription_credit\"\ndays = 7\npercent_of_monthly_fee = 10\n"), "rules[0].days");
        assert_eq!(
            field_of("[[rules]]\nkind = \"subscription_credit\"\ndays = 32\n"),
            "rules[0].days"
        );
        assert_eq!(field_of("[[rules]]\nkind = \"goodwill_credit\"\namount_minor = { SEK = 1 }\ndedline = \"x\"\n"), "rules[0].dedline");
        assert_eq!(
            Plan::parse(&BASE.replace("p-1", "P_1")).unwrap_err().field,
            "id"
        );
        assert_eq!(
            Plan::parse(&BASE.replace("20:41", "15:41"))
                .unwrap_err()
                .field,
            "resolved_at"
        );
        assert_eq!(
            Plan::parse(&BASE.replace("+02:00\"", "\""))
                .unwrap_err()
                .field,
            "started_at"
        );
        assert_eq!(
            Plan::parse(&BASE.replace("\"betting\"", "\"casino\""))
                .unwrap_err()
                .field,
            "components[1]"
        );
    }

    #[test]
    fn native_toml_datetimes_work() {
        let p = Plan::parse(BASE).unwrap();
        assert_eq!(p.resolved_at.to_utc_string(), "2024-08-24T18:41:00Z");
    }
}
