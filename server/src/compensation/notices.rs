//! The personal notice of an execution: what each compensated customer is
//! told, in their language, with each line in plain words and its
//! arithmetic. Queued in the outbox under `notice-<execution>-<customer>`,
//! so a restarted execution queues each once.

use std::collections::HashMap;

use app::dto::Lang;
use chrono_tz::Tz;
use plaster_engine::plan::SubscriptionAmount;
use plaster_engine::{Plan, Rule};

use crate::customers::evidence::{blocked_minutes, deciding_bet};
use crate::kernel::money::{self, Currency, Money};
use crate::kernel::texts::lang_for_locale;
use crate::notify::email::{compensation_notice, CompensationMail, NoticeLine, RenderedEmail};
use crate::status::view::format_time;
use crate::store::compensation::StoredLine;
use crate::store::evidence::EvidenceRecord;

/// The outbox kind of compensation notices.
pub const KIND: &str = "compensation_notice";

fn amount(minor: i64, currency: &str) -> Option<Money> {
    Some(Money {
        minor: i128::from(minor),
        currency: Currency::parse(currency)?,
    })
}

/// What the customer's line is, in plain words with its arithmetic.
/// `fee` is the monthly fee of the subscription a credit is for.
pub fn line_words(lang: Lang, plan: &Plan, line: &StoredLine, fee: Option<Money>) -> String {
    // Positions count from 0, as the engine numbers rules.
    let rule = usize::try_from(line.position)
        .ok()
        .and_then(|i| plan.rules.get(i));
    let r = line.reference.as_str();
    match rule {
        Some(Rule::RefundFailedDebits { .. }) => match lang {
            Lang::Sv => {
                format!("Insatsen för spel {r}, som drogs men aldrig registrerades, tillbaka")
            }
            Lang::Nb => {
                format!("Innsatsen for spill {r}, som ble trukket men aldri registrert, tilbake")
            }
            Lang::En => format!("The stake of bet {r}, taken but never registered, back"),
        },
        Some(Rule::GoodwillCredit { .. }) => match lang {
            Lang::Sv => "Kompensation för att du inte kunde spela i tid".into(),
            Lang::Nb => "Kompensasjon fordi du ikke kunne spille i tide".into(),
            Lang::En => "Goodwill for being kept from betting in time".into(),
        },
        Some(Rule::SubscriptionCredit { amount, .. }) => {
            let fee = fee
                .map(|f| money::format(lang, f))
                .unwrap_or_else(|| "?".into());
            match (lang, amount) {
                (Lang::Sv, SubscriptionAmount::Days(d)) => {
                    format!("{d} dagar av din månadsavgift på {fee} ({r})")
                }
                (Lang::Nb, SubscriptionAmount::Days(d)) => {
                    format!("{d} dager av månedsavgiften din på {fee} ({r})")
                }
                (Lang::En, SubscriptionAmount::Days(d)) => {
                    format!("{d} days of your {fee} monthly fee ({r})")
                }
                (Lang::Sv, SubscriptionAmount::PercentOfMonthlyFee(p)) => {
                    format!("{p}\u{a0}% av din månadsavgift på {fee} ({r})")
                }
                (Lang::Nb, SubscriptionAmount::PercentOfMonthlyFee(p)) => {
                    format!("{p}\u{a0}% av månedsavgiften din på {fee} ({r})")
                }
                (Lang::En, SubscriptionAmount::PercentOfMonthlyFee(p)) => {
                    format!("{p}\u{a0}% of your {fee} monthly fee ({r})")
                }
            }
        }
        // A customer never has a jackpot line; a rule the plan lost is named.
        Some(Rule::JackpotTopup { .. }) | None => format!("{} {r}", line.rule),
    }
}

/// What the logs say about the customer, for the notice's first lines.
struct Seen<'a> {
    records: &'a [EvidenceRecord],
    tz: Tz,
}

impl Seen<'_> {
    fn time(&self, ms: i64) -> String {
        format_time(ms, self.tz)
    }

    /// (failed sign-ins, first, last) inside the window.
    fn failed_sign_ins(&self) -> Option<(usize, String, String)> {
        let fails: Vec<i64> = self
            .records
            .iter()
            .filter(|r| r.kind == "login" && r.outcome == "failure")
            .map(|r| r.ts_ms)
            .collect();
        Some((
            fails.len(),
            self.time(*fails.first()?),
            self.time(*fails.last()?),
        ))
    }
}

/// What happened to the customer, from their lines and their own records
/// in the logs (when the logs were indexed).
fn what_happened(lang: Lang, plan: &Plan, lines: &[StoredLine], seen: &Seen<'_>) -> String {
    let refunds = lines
        .iter()
        .filter(|l| l.rule == "refund_failed_debits")
        .count();
    let goodwill = lines.iter().any(|l| l.rule == "goodwill_credit");
    let blocked = lines.iter().any(|l| l.rule == "subscription_credit");
    let window: Vec<&EvidenceRecord> = seen.records.iter().collect();
    let minutes = blocked
        .then(|| blocked_minutes(plan, &window))
        .flatten()
        .map(|m| app::i18n::format_duration(lang, m));
    let sign_ins = goodwill.then(|| seen.failed_sign_ins()).flatten();
    let mut parts = Vec::new();
    match lang {
        Lang::Sv => {
            if refunds > 0 {
                parts.push(format!(
                    "Under störningen drogs pengar för {refunds} spel som aldrig registrerades."
                ));
            }
            match (goodwill, &sign_ins) {
                (true, Some((1, at, _))) => parts.push(format!(
                    "Din inloggning {at} misslyckades, så du hindrades från att spela före deadline."
                )),
                (true, Some((n, first, last))) => parts.push(format!(
                    "{n} inloggningar mellan {first} och {last} misslyckades, så du hindrades från att spela före deadline."
                )),
                (true, None) => parts.push("Du hindrades från att spela före deadline.".into()),
                (false, _) => {}
            }
            match (blocked, &minutes) {
                (true, Some(m)) => parts.push(format!(
                    "Du kunde inte logga in eller titta i {m} under störningen."
                )),
                (true, None) => {
                    parts.push("Du kunde inte logga in eller titta under störningen.".into())
                }
                (false, _) => {}
            }
        }
        Lang::Nb => {
            if refunds > 0 {
                parts.push(format!(
                    "Under feilen ble det trukket penger for {refunds} spill som aldri ble registrert."
                ));
            }
            match (goodwill, &sign_ins) {
                (true, Some((1, at, _))) => parts.push(format!(
                    "Innloggingen din {at} mislyktes, så du ble hindret i å spille før fristen."
                )),
                (true, Some((n, first, last))) => parts.push(format!(
                    "{n} innlogginger mellom {first} og {last} mislyktes, så du ble hindret i å spille før fristen."
                )),
                (true, None) => parts.push("Du ble hindret i å spille før fristen.".into()),
                (false, _) => {}
            }
            match (blocked, &minutes) {
                (true, Some(m)) => parts.push(format!(
                    "Du kunne ikke logge inn eller se i {m} under feilen."
                )),
                (true, None) => parts.push("Du kunne ikke logge inn eller se under feilen.".into()),
                (false, _) => {}
            }
        }
        Lang::En => {
            if refunds > 0 {
                parts.push(format!(
                    "During the outage, money was taken for {refunds} bet(s) that never registered."
                ));
            }
            match (goodwill, &sign_ins) {
                (true, Some((1, at, _))) => parts.push(format!(
                    "Your sign-in at {at} failed, which kept you from betting before the deadline."
                )),
                (true, Some((n, first, last))) => parts.push(format!(
                    "{n} sign-ins between {first} and {last} failed, which kept you from betting before the deadline."
                )),
                (true, None) => parts.push("You were kept from betting before the deadline.".into()),
                (false, _) => {}
            }
            match (blocked, &minutes) {
                (true, Some(m)) => parts.push(format!(
                    "You could not sign in or watch for {m} during the outage."
                )),
                (true, None) => {
                    parts.push("You could not sign in or watch during the outage.".into())
                }
                (false, _) => {}
            }
        }
    }
    parts.join(" ")
}

/// A refunded bet as the logs have it: " (V75, 2024-08-24 16:52 CEST)".
fn bet_detail(seen: &Seen<'_>, line: &StoredLine) -> String {
    if line.rule != "refund_failed_debits" {
        return String::new();
    }
    match deciding_bet(seen.records, &line.reference) {
        Some(bet) if bet.game.is_empty() => format!(" ({})", seen.time(bet.ts_ms)),
        Some(bet) => format!(" ({}, {})", bet.game, seen.time(bet.ts_ms)),
        None => String::new(),
    }
}

fn jackpot_sentence(lang: Lang, jackpots: &[StoredLine]) -> Option<String> {
    let j = jackpots.first()?;
    let topped = money::format(lang, amount(j.amount_minor, &j.currency)?);
    let round = &j.reference;
    Some(match lang {
        Lang::Sv => format!("Jackpotten för omgång {round} fylls dessutom på med {topped}."),
        Lang::Nb => format!("Jackpoten for omgang {round} fylles i tillegg på med {topped}."),
        Lang::En => format!("The jackpot of round {round} is also topped up by {topped}."),
    })
}

fn when(lang: Lang) -> &'static str {
    match lang {
        Lang::Sv => "Beloppet sätts in på ditt spelkonto inom några dagar.",
        Lang::Nb => "Beløpet settes inn på spillkontoen din innen noen dager.",
        Lang::En => "It is paid into your account within a few days.",
    }
}

/// Who a notice goes to.
pub struct Recipient<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub locale: &'a str,
}

/// What every notice of one execution shares.
pub struct NoticeContext<'a> {
    pub plan: &'a Plan,
    pub page_name: &'a (dyn Fn(Lang) -> String + Sync),
    pub incident_title: &'a (dyn Fn(Lang) -> String + Sync),
    /// `https://status.example/<lang>/incidents/<id>` for a language.
    pub incident_url: &'a (dyn Fn(Lang) -> String + Sync),
    /// Monthly fees by (customer id, subscription plan).
    pub fees: &'a HashMap<(String, String), Money>,
    /// The run's jackpot lines, told to everyone.
    pub jackpots: &'a [StoredLine],
    /// The page's time zone, in which the customer's records are told.
    pub tz: Tz,
}

/// One customer's notice for their lines of an execution; `records` are
/// the customer's own records inside the plan's window (none when the
/// logs were stored before records were indexed: the notice then tells
/// what the lines say).
pub fn render(
    ctx: &NoticeContext<'_>,
    customer_id: &str,
    to: &Recipient<'_>,
    lines: &[StoredLine],
    records: &[EvidenceRecord],
) -> Result<RenderedEmail, askama::Error> {
    let lang = lang_for_locale(to.locale);
    let seen = Seen {
        records,
        tz: ctx.tz,
    };
    let worded: Vec<NoticeLine> = lines
        .iter()
        .filter_map(|l| {
            let fee = ctx
                .fees
                .get(&(customer_id.to_string(), l.reference.clone()))
                .copied();
            Some(NoticeLine {
                words: line_words(lang, ctx.plan, l, fee) + &bet_detail(&seen, l),
                amount: amount(l.amount_minor, &l.currency)?,
            })
        })
        .collect();
    let jackpot = jackpot_sentence(lang, ctx.jackpots);
    compensation_notice(&CompensationMail {
        lang,
        page_name: &(ctx.page_name)(lang),
        customer_name: to.name,
        incident_title: &(ctx.incident_title)(lang),
        what_happened: &what_happened(lang, ctx.plan, lines, &seen),
        lines: &worded,
        jackpot: jackpot.as_deref(),
        when: when(lang),
        incident_url: &(ctx.incident_url)(lang),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = r#"id = "sumo-2018-08-20"
components = ["login", "streaming"]
started_at = "2018-08-20T20:30:00+02:00"
resolved_at = "2018-08-20T22:15:00+02:00"

[title]
nb = "Innlogging til Sumo feilet ved kampstart"
en = "Sumo sign-in failed at kick-off"

[[rules]]
kind = "subscription_credit"
days = 7
min_blocked_minutes = 15

[[rules]]
kind = "refund_failed_debits"
"#;

    fn render_for(locale: &str) -> RenderedEmail {
        let plan = Plan::parse(PLAN).expect("plan");
        let nok = |minor| Money {
            minor,
            currency: Currency::parse("NOK").expect("NOK"),
        };
        let fees = HashMap::from([(("n-002".to_string(), "sumo-sport".to_string()), nok(39_900))]);
        let lines = [
            StoredLine {
                position: 0,
                rule: "subscription_credit".into(),
                customer_id: "n-002".into(),
                reference: "sumo-sport".into(),
                amount_minor: 9_310,
                currency: "NOK".into(),
            },
            StoredLine {
                position: 1,
                rule: "refund_failed_debits".into(),
                customer_id: "n-002".into(),
                reference: "b-7".into(),
                amount_minor: 1_000,
                currency: "NOK".into(),
            },
        ];
        let name = |_: Lang| "Sumo".to_string();
        let title = |lang: Lang| plan.title.get(lang.code()).cloned().unwrap_or_default();
        let url = |lang: Lang| format!("https://status.example/{}/incidents/x", lang.code());
        let ctx = NoticeContext {
            plan: &plan,
            page_name: &name,
            incident_title: &title,
            incident_url: &url,
            fees: &fees,
            jackpots: &[],
            tz: chrono_tz::Europe::Oslo,
        };
        let to = Recipient {
            email: "kari@example.no",
            name: "Kari",
            locale,
        };
        // 2018-08-20 20:31 and 20:41 Oslo time; the bet at 20:35.
        let at = |minute: i64| 1_534_789_800_000 + minute * 60_000;
        let record = |ts_ms, kind: &str, outcome: &str, bet_id: &str| EvidenceRecord {
            sha256: "s".into(),
            line: ts_ms,
            customer_id: "n-002".into(),
            ts_ms,
            kind: kind.into(),
            outcome: outcome.into(),
            bet_id: bet_id.into(),
            game: if bet_id.is_empty() { "" } else { "Langodds" }.into(),
            round_id: String::new(),
            stake_minor: None,
            currency: String::new(),
            channel: String::new(),
            error: String::new(),
        };
        let records = [
            record(at(1), "login", "failure", ""),
            record(at(5), "bet", "failed_after_debit", "b-7"),
            record(at(11), "login", "failure", ""),
            record(at(48), "login", "success", ""),
        ];
        render(&ctx, "n-002", &to, &lines, &records).expect("renders")
    }

    #[test]
    fn each_language_shows_the_lines_with_their_arithmetic() {
        let en = render_for("en-GB");
        for expect in [
            "Hello Kari,",
            "- 7 days of your NOK 399.00 monthly fee (sumo-sport): **NOK 93.10**",
            "- The stake of bet b-7, taken but never registered, back (Langodds, 2018-08-20 20:35 CEST): **NOK 10.00**",
            "You could not sign in or watch for 47 min during the outage.",
            "What you get (**NOK 103.10**)",
            "It is paid into your account within a few days.",
        ] {
            assert!(en.text.contains(expect), "{expect:?} not in {}", en.text);
        }
        assert_eq!(
            en.subject,
            "You are being compensated: Sumo sign-in failed at kick-off"
        );
        let nb = render_for("nb");
        for expect in [
            "Hei Kari,",
            "- 7 dager av månedsavgiften din på 399,00\u{a0}kr (sumo-sport): **93,10\u{a0}kr**",
            "Dette får du (**103,10\u{a0}kr**)",
            "Du kunne ikke logge inn eller se i 47 min under feilen.",
        ] {
            assert!(nb.text.contains(expect), "{expect:?} not in {}", nb.text);
        }
        let sv = render_for("sv");
        assert!(
            sv.text.contains(
                "- 7 dagar av din månadsavgift på 399,00\u{a0}kr (sumo-sport): **93,10\u{a0}kr**"
            ),
            "{}",
            sv.text
        );
        // A Finnish customer reads English.
        assert!(render_for("fi").text.contains("What you get"));
    }
}
