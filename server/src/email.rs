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
