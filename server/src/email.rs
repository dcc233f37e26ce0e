//! E-mail bodies: askama templates, HTML with a plain-text alternative, in
//! Swedish, Norwegian and English. The staff console previews exactly what
//! these render, and the outbox sends the same bytes.

use app::dto::{IncidentStage, Lang};
use askama::Template;

/// A checked, lower-cased e-mail address, or `None`.
pub fn parse_address(raw: &str) -> Option<String> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.matches('@').count() == 1
        && !email.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, ',' | '<' | '>' | '"' | ';')
        })
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains("..")
        });
    valid.then_some(email)
}

/// One message, ready to send or to preview.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedEmail {
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// The fixed words around the texts staff write.
pub struct Words {
    pub apology: &'static str,
    pub read_more: &'static str,
    pub why_subscriber: &'static str,
    pub why_affected: &'static str,
    pub unsubscribe: &'static str,
    pub confirm_subject: &'static str,
    pub confirm_title: &'static str,
    pub confirm_body: &'static str,
    pub confirm_button: &'static str,
    pub confirm_why: &'static str,
    pub opened: &'static str,
}

pub fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Sv => &Words {
            apology: "Vi ber om ursäkt",
            read_more: "Läs mer på statussidan",
            why_subscriber: "Du får det här mejlet för att du prenumererar på driftinformation.",
            why_affected: "Du får det här mejlet för att du berördes av störningen.",
            unsubscribe: "Avsluta prenumerationen",
            confirm_subject: "Bekräfta din prenumeration",
            confirm_title: "Bekräfta att du vill få driftinformation",
            confirm_body: "Någon, förhoppningsvis du, bad om driftinformation till den här adressen. Inget skickas förrän du bekräftar.",
            confirm_button: "Bekräfta prenumerationen",
            confirm_why: "Om det inte var du kan du strunta i det här mejlet.",
            opened: "Ny störning",
        },
        Lang::Nb => &Words {
            apology: "Vi beklager",
            read_more: "Les mer på statussiden",
            why_subscriber: "Du får denne e-posten fordi du abonnerer på driftsinformasjon.",
            why_affected: "Du får denne e-posten fordi du ble berørt av hendelsen.",
            unsubscribe: "Avslutt abonnementet",
            confirm_subject: "Bekreft abonnementet ditt",
            confirm_title: "Bekreft at du vil få driftsinformasjon",
            confirm_body: "Noen, forhåpentligvis du, ba om driftsinformasjon til denne adressen. Ingenting sendes før du bekrefter.",
            confirm_button: "Bekreft abonnementet",
            confirm_why: "Hvis det ikke var deg, kan du se bort fra denne e-posten.",
            opened: "Ny hendelse",
        },
        Lang::En => &Words {
            apology: "Our apology",
            read_more: "Read more on the status page",
            why_subscriber: "You receive this e-mail because you subscribe to status updates.",
            why_affected: "You receive this e-mail because you were affected by the incident.",
            unsubscribe: "Unsubscribe",
            confirm_subject: "Confirm your subscription",
            confirm_title: "Confirm that you want status updates",
            confirm_body: "Someone, hopefully you, asked for status updates at this address. Nothing is sent until you confirm.",
            confirm_button: "Confirm the subscription",
            confirm_why: "If this was not you, ignore this e-mail.",
            opened: "New incident",
        },
    }
}

#[derive(Template)]
#[template(path = "email/notice.html")]
struct NoticeHtml<'a> {
    lang: &'a str,
    subject: &'a str,
    page_name: &'a str,
    kicker: &'a str,
    title: &'a str,
    body_html: &'a str,
    link_url: &'a str,
    button: Option<&'a str>,
    why: &'a str,
    unsubscribe_url: Option<&'a str>,
    words: &'a Words,
}

#[derive(Template)]
#[template(path = "email/notice.txt", escape = "none")]
struct NoticeText<'a> {
    page_name: &'a str,
    kicker: &'a str,
    title: &'a str,
    body_text: &'a str,
    link_url: &'a str,
    button: Option<&'a str>,
    why: &'a str,
    unsubscribe_url: Option<&'a str>,
    words: &'a Words,
}

/// Every message Plaster sends has this shape: the page's name, a short
/// kicker ("Identified", "Our apology"), a title, a Markdown text, one link.
pub struct Notice<'a> {
    pub lang: Lang,
    pub page_name: &'a str,
    pub kicker: &'a str,
    pub title: &'a str,
    pub body_markdown: &'a str,
    pub link_url: &'a str,
    /// Shown as a button instead of "read more" (confirmation links).
    pub button: Option<&'a str>,
    pub why: &'a str,
    pub unsubscribe_url: Option<&'a str>,
}

pub fn notice(n: &Notice<'_>) -> Result<RenderedEmail, askama::Error> {
    let words = words(n.lang);
    let subject = format!("{}: {}", n.kicker, n.title);
    let body_html = crate::markdown::to_safe_html(n.body_markdown);
    let html = NoticeHtml {
        lang: n.lang.code(),
        subject: &subject,
        page_name: n.page_name,
        kicker: n.kicker,
        title: n.title,
        body_html: &body_html,
        link_url: n.link_url,
        button: n.button,
        why: n.why,
        unsubscribe_url: n.unsubscribe_url,
        words,
    }
    .render()?;
    let text = NoticeText {
        page_name: n.page_name,
        kicker: n.kicker,
        title: n.title,
        body_text: n.body_markdown,
        link_url: n.link_url,
        button: n.button,
        why: n.why,
        unsubscribe_url: n.unsubscribe_url,
        words,
    }
    .render()?;
    Ok(RenderedEmail {
        subject,
        html,
        text,
    })
}

/// What an apology e-mail is made of.
pub struct Apology<'a> {
    pub lang: Lang,
    pub page_name: &'a str,
    pub incident_title: &'a str,
    /// Markdown, as staff wrote it.
    pub body_markdown: &'a str,
    pub incident_url: &'a str,
    pub unsubscribe_url: Option<&'a str>,
}

pub fn apology(a: &Apology<'_>) -> Result<RenderedEmail, askama::Error> {
    let words = words(a.lang);
    notice(&Notice {
        lang: a.lang,
        page_name: a.page_name,
        kicker: words.apology,
        title: a.incident_title,
        body_markdown: a.body_markdown,
        link_url: a.incident_url,
        button: None,
        why: if a.unsubscribe_url.is_some() {
            words.why_subscriber
        } else {
            words.why_affected
        },
        unsubscribe_url: a.unsubscribe_url,
    })
}

/// An incident opened or updated, to subscribers.
pub struct IncidentMail<'a> {
    pub lang: Lang,
    pub page_name: &'a str,
    /// The first update (the incident was just opened).
    pub opened: bool,
    pub stage: IncidentStage,
    pub title: &'a str,
    pub body_markdown: &'a str,
    pub incident_url: &'a str,
    pub unsubscribe_url: &'a str,
}

pub fn incident_update(m: &IncidentMail<'_>) -> Result<RenderedEmail, askama::Error> {
    let words = words(m.lang);
    let stage_label = app::i18n::stage_label(m.lang, m.stage);
    let kicker = if m.opened {
        format!("{} · {stage_label}", words.opened)
    } else {
        stage_label.to_string()
    };
    notice(&Notice {
        lang: m.lang,
        page_name: m.page_name,
        kicker: &kicker,
        title: m.title,
        body_markdown: m.body_markdown,
        link_url: m.incident_url,
        button: None,
        why: words.why_subscriber,
        unsubscribe_url: Some(m.unsubscribe_url),
    })
}

/// The double opt-in message.
pub fn confirm_subscription(
    lang: Lang,
    page_name: &str,
    confirm_url: &str,
) -> Result<RenderedEmail, askama::Error> {
    let words = words(lang);
    let mut mail = notice(&Notice {
        lang,
        page_name,
        kicker: page_name,
        title: words.confirm_title,
        body_markdown: words.confirm_body,
        link_url: confirm_url,
        button: Some(words.confirm_button),
        why: words.confirm_why,
        unsubscribe_url: None,
    })?;
    mail.subject = format!("{}: {}", page_name, words.confirm_subject);
    Ok(mail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(lang: Lang, body: &'static str) -> RenderedEmail {
        apology(&Apology {
            lang,
            page_name: "Driftstatus",
            incident_title: "Spelstopp <V75>",
            body_markdown: body,
            incident_url: "https://status.example/sv/incidents/v75",
            unsubscribe_url: Some("https://status.example/unsubscribe?t=abc&x=1"),
        })
        .expect("renders")
    }

    #[test]
    fn both_parts_carry_the_text_in_the_reader_s_language() {
        let mail = sample(Lang::Sv, "Vi **ber om ursäkt** för stoppet.");
        assert_eq!(mail.subject, "Vi ber om ursäkt: Spelstopp <V75>");
        assert!(mail.html.contains("<strong>ber om ursäkt</strong>"));
        assert!(
            !mail.html.contains("Spelstopp <V75>"),
            "HTML escapes the title"
        );
        assert!(mail.html.contains("unsubscribe?t=abc&"), "{}", mail.html);
        assert!(mail.text.contains("Vi **ber om ursäkt** för stoppet."));
        assert!(mail
            .text
            .contains("Läs mer på statussidan: https://status.example/sv/incidents/v75"));
        assert!(
            mail.text.contains("Spelstopp <V75>"),
            "plain text is not HTML-escaped"
        );
        assert!(mail
            .text
            .contains("Avsluta prenumerationen: https://status.example/unsubscribe?t=abc&x=1"));
    }

    #[test]
    fn scripts_in_the_apology_do_not_reach_the_html_part() {
        let mail = sample(Lang::En, "<script>alert(1)</script> sorry");
        assert!(!mail.html.contains("<script>"));
    }

    #[test]
    fn the_confirmation_has_a_button_and_no_unsubscribe_link() {
        let mail = confirm_subscription(
            Lang::Nb,
            "Driftsstatus",
            "https://s.example/subscribe/confirm?token=t",
        )
        .expect("renders");
        assert_eq!(mail.subject, "Driftsstatus: Bekreft abonnementet ditt");
        assert!(mail
            .text
            .contains("Bekreft abonnementet: https://s.example/subscribe/confirm?token=t"));
        assert!(!mail.text.contains("Avslutt abonnementet"));
    }
}

/// Minor units and an ISO currency as readers of `lang` write money:
/// "1 250,50 kr" in Swedish and Norwegian, "SEK 1,250.50" in English.
pub fn money(lang: Lang, minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let (whole, cents) = (minor.unsigned_abs() / 100, minor.unsigned_abs() % 100);
    let digits = whole.to_string();
    let sep = if lang == Lang::En { ',' } else { '\u{a0}' };
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(sep);
        }
        grouped.push(c);
    }
    let kr = matches!(currency, "SEK" | "NOK" | "DKK");
    match lang {
        Lang::En => format!("{sign}{currency} {grouped}.{cents:02}"),
        _ if kr => format!("{sign}{grouped},{cents:02}\u{a0}kr"),
        _ => format!("{sign}{grouped},{cents:02}\u{a0}{currency}"),
    }
}

/// What one customer gets for one incident.
pub struct CompensationMail<'a> {
    pub lang: Lang,
    pub page_name: &'a str,
    pub customer_name: &'a str,
    pub incident_title: &'a str,
    /// What happened to this customer, from their own log lines.
    pub what_happened: &'a str,
    pub amount_minor: i64,
    pub currency: &'a str,
    /// "refund", "jackpot top-up" or "subscription credit", already worded.
    pub kind: &'a str,
    pub when: &'a str,
    pub incident_url: &'a str,
}

pub fn compensation_notice(m: &CompensationMail<'_>) -> Result<RenderedEmail, askama::Error> {
    let amount = money(m.lang, m.amount_minor, m.currency);
    let (kicker, body) = match m.lang {
        Lang::Sv => (
            "Du får kompensation",
            format!(
                "Hej {},\n\n{}\n\nDu får **{amount}** som {} – {}. Du behöver inte göra något.",
                m.customer_name, m.what_happened, m.kind, m.when
            ),
        ),
        Lang::Nb => (
            "Du får kompensasjon",
            format!(
                "Hei {},\n\n{}\n\nDu får **{amount}** som {} – {}. Du trenger ikke gjøre noe.",
                m.customer_name, m.what_happened, m.kind, m.when
            ),
        ),
        Lang::En => (
            "You are being compensated",
            format!(
                "Hello {},\n\n{}\n\nYou get **{amount}** as a {} – {}. There is nothing you need to do.",
                m.customer_name, m.what_happened, m.kind, m.when
            ),
        ),
    };
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

/// Every kind of message with sample data, for the staff preview.
pub fn samples(lang: Lang) -> Result<Vec<(&'static str, RenderedEmail)>, askama::Error> {
    let page = "Driftstatus";
    let url = "https://status.example/incidents/atg-2024-08-24-v75";
    Ok(vec![
        (
            "Incident opened",
            incident_update(&IncidentMail {
                lang,
                page_name: page,
                opened: true,
                stage: IncidentStage::Investigating,
                title: "Spelstopp inför V75",
                body_markdown: "Vi **undersöker** varför spel inte går att lämna in.",
                incident_url: url,
                unsubscribe_url: "https://status.example/unsubscribe?token=sample",
            })?,
        ),
        (
            "Incident updated",
            incident_update(&IncidentMail {
                lang,
                page_name: page,
                opened: false,
                stage: IncidentStage::Identified,
                title: "Spelstopp inför V75",
                body_markdown: "Felet är hittat; en rättning rullas ut.",
                incident_url: url,
                unsubscribe_url: "https://status.example/unsubscribe?token=sample",
            })?,
        ),
        (
            "Incident resolved",
            incident_update(&IncidentMail {
                lang,
                page_name: page,
                opened: false,
                stage: IncidentStage::Resolved,
                title: "Spelstopp inför V75",
                body_markdown: "Allt fungerar igen.",
                incident_url: url,
                unsubscribe_url: "https://status.example/unsubscribe?token=sample",
            })?,
        ),
        (
            "Apology",
            apology(&Apology {
                lang,
                page_name: page,
                incident_title: "Spelstopp inför V75",
                body_markdown: "Vi ber om ursäkt. **Alla som drabbades** får insatsen tillbaka.",
                incident_url: url,
                unsubscribe_url: Some("https://status.example/unsubscribe?token=sample"),
            })?,
        ),
        (
            "Compensation notice",
            compensation_notice(&CompensationMail {
                lang,
                page_name: page,
                customer_name: "Ada",
                incident_title: "Spelstopp inför V75",
                what_happened: "Your V75 coupon could not be submitted at 15:52.",
                amount_minor: 12_500,
                currency: "SEK",
                kind: "refund",
                when: "paid to your account within 3 days",
                incident_url: url,
            })?,
        ),
        (
            "Claim received",
            claim_notice(&ClaimMail {
                lang,
                page_name: page,
                reference: "C-1042",
                decision: None,
                claim_url: "https://status.example/claims/C-1042",
            })?,
        ),
        (
            "Claim decided",
            claim_notice(&ClaimMail {
                lang,
                page_name: page,
                reference: "C-1042",
                decision: Some((true, "125,00 kr")),
                claim_url: "https://status.example/claims/C-1042",
            })?,
        ),
        (
            "Sign-in link",
            sign_in_link(
                lang,
                page,
                "https://status.example/staff/login?token=sample",
                15,
            )?,
        ),
    ])
}

#[cfg(test)]
mod more_tests {
    use super::*;

    #[test]
    fn money_reads_as_each_language_writes_it() {
        assert_eq!(money(Lang::Sv, 125_050, "SEK"), "1\u{a0}250,50\u{a0}kr");
        assert_eq!(money(Lang::En, 125_050, "SEK"), "SEK 1,250.50");
        assert_eq!(money(Lang::Nb, -5, "EUR"), "-0,05\u{a0}EUR");
    }

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
        let sv = compensation_notice(&CompensationMail {
            lang: Lang::Sv,
            page_name: "P",
            customer_name: "Ada",
            incident_title: "T",
            what_happened: "W",
            amount_minor: 12_500,
            currency: "SEK",
            kind: "återbetalning",
            when: "inom 3 dagar",
            incident_url: "u",
        })
        .expect("renders");
        assert!(
            sv.text
                .contains("Du får **125,00\u{a0}kr** som återbetalning"),
            "{}",
            sv.text
        );
    }
}
