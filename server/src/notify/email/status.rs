//! Mail about the status page: incident updates, apologies, and the
//! subscription confirmation.

use app::dto::{IncidentStage, Lang};

use crate::notify::email::layout::{notice, words, Notice, RenderedEmail};

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
    let w = words(lang);
    let texts = (w.confirm_title, w.confirm_body, w.confirm_button);
    subscriber_link(lang, page_name, confirm_url, texts, w.confirm_subject)
}

/// To a confirmed subscriber whose address was entered in the form again:
/// the subscription is unchanged, and here is the link to change it.
pub fn manage_subscription(
    lang: Lang,
    page_name: &str,
    manage_url: &str,
) -> Result<RenderedEmail, askama::Error> {
    let w = words(lang);
    let texts = (w.manage_title, w.manage_body, w.manage_button);
    subscriber_link(lang, page_name, manage_url, texts, w.manage_title)
}

/// A mail the subscription form sends: (title, body, button) around one
/// link, with the "if this was not you" line.
fn subscriber_link(
    lang: Lang,
    page_name: &str,
    url: &str,
    (title, body_markdown, button): (&str, &str, &str),
    subject: &str,
) -> Result<RenderedEmail, askama::Error> {
    let mut mail = notice(&Notice {
        lang,
        page_name,
        kicker: page_name,
        title,
        body_markdown,
        link_url: url,
        button: Some(button),
        why: words(lang).confirm_why,
        unsubscribe_url: None,
    })?;
    mail.subject = format!("{page_name}: {subject}");
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
