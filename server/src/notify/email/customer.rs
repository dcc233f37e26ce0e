//! Mail to customers about what happened to them: compensation notices,
//! claim receipts and decisions, sign-in links. The features that send
//! them come with the compensation and claims work; the templates are here
//! so the console can preview them.

use app::dto::Lang;

use crate::kernel::money::{self, Money};
use crate::notify::email::layout::{notice, words, Notice, RenderedEmail};

/// One thing a customer gets, worded with its arithmetic ("7 days of your
/// 399,00 kr monthly fee (sumo-sport)") and its amount.
pub struct NoticeLine {
    pub words: String,
    pub amount: Money,
}

/// What one customer gets for one incident, in one e-mail per execution.
pub struct CompensationMail<'a> {
    pub lang: Lang,
    pub page_name: &'a str,
    pub customer_name: &'a str,
    pub incident_title: &'a str,
    /// What happened to this customer, from their own lines.
    pub what_happened: &'a str,
    pub lines: &'a [NoticeLine],
    /// A sentence about a jackpot top-up every affected customer is told of.
    pub jackpot: Option<&'a str>,
    /// When and how it reaches them.
    pub when: &'a str,
    pub incident_url: &'a str,
}

pub fn compensation_notice(m: &CompensationMail<'_>) -> Result<RenderedEmail, askama::Error> {
    let mut totals: std::collections::BTreeMap<&str, Money> = std::collections::BTreeMap::new();
    for l in m.lines {
        totals
            .entry(l.amount.currency.as_str())
            .and_modify(|t| t.minor += l.amount.minor)
            .or_insert(l.amount);
    }
    let total = totals
        .values()
        .map(|t| money::format(m.lang, *t))
        .collect::<Vec<_>>()
        .join(" + ");
    let items: String = m
        .lines
        .iter()
        .map(|l| format!("- {}: **{}**\n", l.words, money::format(m.lang, l.amount)))
        .collect();
    let jackpot = m.jackpot.map(|j| format!("\n{j}\n")).unwrap_or_default();
    let (kicker, hello, you_get, nothing) = match m.lang {
        Lang::Sv => (
            "Du får kompensation",
            "Hej",
            "Det här får du",
            "Du behöver inte göra något.",
        ),
        Lang::Nb => (
            "Du får kompensasjon",
            "Hei",
            "Dette får du",
            "Du trenger ikke gjøre noe.",
        ),
        Lang::En => (
            "You are being compensated",
            "Hello",
            "What you get",
            "There is nothing you need to do.",
        ),
    };
    let body = format!(
        "{hello} {},\n\n{}\n\n{you_get} (**{total}**):\n\n{items}{jackpot}\n{} {nothing}",
        m.customer_name, m.what_happened, m.when
    );
    notice(&Notice {
        lang: m.lang,
        page_name: m.page_name,
        kicker,
        title: m.incident_title,
        body_markdown: &body,
        link_url: m.incident_url,
        button: None,
        why: words(m.lang).why_affected,
        unsubscribe_url: None,
    })
}

/// A claim was received (`decision` None) or decided.
pub struct ClaimMail<'a> {
    pub lang: Lang,
    pub page_name: &'a str,
    pub reference: &'a str,
    /// `Some((approved, amount text or reason))` once decided.
    pub decision: Option<(bool, &'a str)>,
    pub claim_url: &'a str,
}

pub fn claim_notice(m: &ClaimMail<'_>) -> Result<RenderedEmail, askama::Error> {
    let (kicker, title, body) = match (m.lang, m.decision) {
        (Lang::Sv, None) => (
            "Vi har fått ditt ärende",
            format!("Ärende {}", m.reference),
            "Vi går igenom det mot våra loggar och hör av oss, oftast inom två arbetsdagar."
                .to_string(),
        ),
        (Lang::Nb, None) => (
            "Vi har mottatt saken din",
            format!("Sak {}", m.reference),
            "Vi går gjennom den mot loggene våre og gir beskjed, som regel innen to virkedager."
                .to_string(),
        ),
        (Lang::En, None) => (
            "We have received your claim",
            format!("Claim {}", m.reference),
            "We check it against our logs and get back to you, usually within two working days."
                .to_string(),
        ),
        (Lang::Sv, Some((true, detail))) => (
            "Ditt ärende är godkänt",
            format!("Ärende {}", m.reference),
            format!("Du får {detail}."),
        ),
        (Lang::Nb, Some((true, detail))) => (
            "Saken din er godkjent",
            format!("Sak {}", m.reference),
            format!("Du får {detail}."),
        ),
        (Lang::En, Some((true, detail))) => (
            "Your claim is approved",
            format!("Claim {}", m.reference),
            format!("You get {detail}."),
        ),
        (Lang::Sv, Some((false, detail))) => (
            "Beslut om ditt ärende",
            format!("Ärende {}", m.reference),
            format!("Vi kan tyvärr inte godkänna det: {detail}"),
        ),
        (Lang::Nb, Some((false, detail))) => (
            "Avgjørelse i saken din",
            format!("Sak {}", m.reference),
            format!("Vi kan dessverre ikke godkjenne den: {detail}"),
        ),
        (Lang::En, Some((false, detail))) => (
            "A decision on your claim",
            format!("Claim {}", m.reference),
            format!("We cannot approve it: {detail}"),
        ),
    };
    notice(&Notice {
        lang: m.lang,
        page_name: m.page_name,
        kicker,
        title: &title,
        body_markdown: &body,
        link_url: m.claim_url,
        button: None,
        why: words(m.lang).why_affected,
        unsubscribe_url: None,
    })
}

/// A sign-in link for staff (valid for `minutes`).
pub fn sign_in_link(
    lang: Lang,
    page_name: &str,
    url: &str,
    minutes: u32,
) -> Result<RenderedEmail, askama::Error> {
    let (kicker, title, body, button) = match lang {
        Lang::Sv => (
            "Plaster",
            "Logga in",
            format!("Länken gäller i {minutes} minuter och kan användas en gång."),
            "Logga in",
        ),
        Lang::Nb => (
            "Plaster",
            "Logg inn",
            format!("Lenken gjelder i {minutes} minutter og kan brukes én gang."),
            "Logg inn",
        ),
        Lang::En => (
            "Plaster",
            "Sign in",
            format!("The link works for {minutes} minutes, once."),
            "Sign in",
        ),
    };
    notice(&Notice {
        lang,
        page_name,
        kicker,
        title,
        body_markdown: &body,
        link_url: url,
        button: Some(button),
        why: match lang {
            Lang::Sv => "Om du inte bad om det här kan du strunta i mejlet.",
            Lang::Nb => "Hvis du ikke ba om dette, kan du se bort fra e-posten.",
            Lang::En => "If you did not ask for this, ignore this e-mail.",
        },
        unsubscribe_url: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::email::samples::samples;

    #[test]
    fn every_template_renders_in_every_language_with_both_parts() {
        for lang in Lang::ALL {
            let samples = samples(lang).expect("renders");
            assert_eq!(samples.len(), 8);
            for (name, mail) in samples {
                assert!(
                    mail.html.contains(&format!("lang=\"{}\"", lang.code())),
                    "{name}"
                );
                assert!(!mail.text.is_empty() && !mail.subject.is_empty(), "{name}");
                assert!(
                    !mail.text.contains("&lt;") && !mail.text.contains("&amp;"),
                    "{name}: text is not escaped"
                );
            }
        }
        let lines = [
            NoticeLine {
                words: "Insatsen för spel b-1".into(),
                amount: money::sek(12_500),
            },
            NoticeLine {
                words: "7 dagar av din månadsavgift på 149,00 kr".into(),
                amount: money::sek(3_477),
            },
        ];
        let sv = compensation_notice(&CompensationMail {
            lang: Lang::Sv,
            page_name: "P",
            customer_name: "Ada",
            incident_title: "T",
            what_happened: "W",
            lines: &lines,
            jackpot: Some("J"),
            when: "Inom 3 dagar.",
            incident_url: "u",
        })
        .expect("renders");
        for expect in [
            "Det här får du (**159,77\u{a0}kr**)",
            "- Insatsen för spel b-1: **125,00\u{a0}kr**",
            "- 7 dagar av din månadsavgift på 149,00 kr: **34,77\u{a0}kr**",
            "Inom 3 dagar. Du behöver inte göra något.",
        ] {
            assert!(sv.text.contains(expect), "{expect:?} not in {}", sv.text);
        }
    }
}
