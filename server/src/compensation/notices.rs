//! The personal notice of an execution: what each compensated customer is
//! told, in their language, with each line in plain words and its
//! arithmetic. Queued in the outbox under `notice-<execution>-<customer>`,
//! so a restarted execution queues each once.

use std::collections::HashMap;

use app::dto::Lang;
use plaster_engine::plan::SubscriptionAmount;
use plaster_engine::{Plan, Rule};

use crate::kernel::money::{self, Currency, Money};
use crate::kernel::texts::lang_for_locale;
use crate::notify::email::{compensation_notice, CompensationMail, NoticeLine, RenderedEmail};
use crate::store::compensation::StoredLine;

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

/// What happened to the customer, from their lines.
fn what_happened(lang: Lang, lines: &[StoredLine]) -> String {
    let refunds = lines
        .iter()
        .filter(|l| l.rule == "refund_failed_debits")
        .count();
    let goodwill = lines.iter().any(|l| l.rule == "goodwill_credit");
    let blocked = lines.iter().any(|l| l.rule == "subscription_credit");
    let mut parts = Vec::new();
    match lang {
        Lang::Sv => {
            if refunds > 0 {
                parts.push(format!(
                    "Under störningen drogs pengar för {refunds} spel som aldrig registrerades."
                ));
            }
            if goodwill {
                parts.push("Du hindrades från att spela före deadline.".into());
            }
            if blocked {
                parts.push("Du kunde inte logga in eller titta under störningen.".into());
            }
        }
        Lang::Nb => {
            if refunds > 0 {
                parts.push(format!(
                    "Under feilen ble det trukket penger for {refunds} spill som aldri ble registrert."
                ));
            }
            if goodwill {
                parts.push("Du ble hindret i å spille før fristen.".into());
            }
            if blocked {
                parts.push("Du kunne ikke logge inn eller se under feilen.".into());
            }
        }
        Lang::En => {
            if refunds > 0 {
                parts.push(format!(
                    "During the outage, money was taken for {refunds} bet(s) that never registered."
                ));
            }
            if goodwill {
                parts.push("You were kept from betting before the deadline.".into());
            }
            if blocked {
                parts.push("You could not sign in or watch during the outage.".into());
            }
        }
    }
    parts.join(" ")
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
}

/// One customer's notice for their lines of an execution.
pub fn render(
    ctx: &NoticeContext<'_>,
    customer_id: &str,
    to: &Recipient<'_>,
    lines: &[StoredLine],
) -> Result<RenderedEmail, askama::Error> {
    let lang = lang_for_locale(to.locale);
    let worded: Vec<NoticeLine> = lines
        .iter()
        .filter_map(|l| {
            let fee = ctx
                .fees
                .get(&(customer_id.to_string(), l.reference.clone()))
                .copied();
            Some(NoticeLine {
                words: line_words(lang, ctx.plan, l, fee),
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
        what_happened: &what_happened(lang, lines),
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
        };
        let to = Recipient {
            email: "kari@example.no",
            name: "Kari",
            locale,
        };
        render(&ctx, "n-002", &to, &lines).expect("renders")
    }

    #[test]
    fn each_language_shows_the_lines_with_their_arithmetic() {
        let en = render_for("en-GB");
        for expect in [
            "Hello Kari,",
            "- 7 days of your NOK 399.00 monthly fee (sumo-sport): **NOK 93.10**",
            "- The stake of bet b-7, taken but never registered, back: **NOK 10.00**",
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
