//! E-mail bodies: askama templates, HTML with a plain-text alternative, in
//! Swedish, Norwegian and English. The staff console previews exactly what
//! these render; the notifications outbox will send the same bytes.

use app::dto::Lang;
use askama::Template;

/// One message, ready to send or to preview.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedEmail {
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// The fixed words around the incident texts.
pub struct Words {
    pub subject_prefix: &'static str,
    pub read_more: &'static str,
    pub why: &'static str,
    pub unsubscribe: &'static str,
}

pub fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Sv => &Words {
            subject_prefix: "Vi ber om ursäkt",
            read_more: "Läs mer på statussidan",
            why: "Du får det här mejlet för att du prenumererar på driftinformation eller berördes av störningen.",
            unsubscribe: "Avsluta prenumerationen",
        },
        Lang::Nb => &Words {
            subject_prefix: "Vi beklager",
            read_more: "Les mer på statussiden",
            why: "Du får denne e-posten fordi du abonnerer på driftsinformasjon eller ble berørt av hendelsen.",
            unsubscribe: "Avslutt abonnementet",
        },
        Lang::En => &Words {
            subject_prefix: "Our apology",
            read_more: "Read more on the status page",
            why: "You receive this e-mail because you subscribe to status updates or were affected by the incident.",
            unsubscribe: "Unsubscribe",
        },
    }
}

#[derive(Template)]
#[template(path = "email/apology.html")]
struct ApologyHtml<'a> {
    lang: &'a str,
    subject: &'a str,
    page_name: &'a str,
    incident_title: &'a str,
    body_html: &'a str,
    incident_url: &'a str,
    unsubscribe_url: Option<&'a str>,
    words: &'a Words,
}

#[derive(Template)]
#[template(path = "email/apology.txt", escape = "none")]
struct ApologyText<'a> {
    page_name: &'a str,
    incident_title: &'a str,
    body_text: &'a str,
    incident_url: &'a str,
    unsubscribe_url: Option<&'a str>,
    words: &'a Words,
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
    let subject = format!("{}: {}", words.subject_prefix, a.incident_title);
    let body_html = crate::markdown::to_safe_html(a.body_markdown);
    let html = ApologyHtml {
        lang: a.lang.code(),
        subject: &subject,
        page_name: a.page_name,
        incident_title: a.incident_title,
        body_html: &body_html,
        incident_url: a.incident_url,
        unsubscribe_url: a.unsubscribe_url,
        words,
    }
    .render()?;
    let text = ApologyText {
        page_name: a.page_name,
        incident_title: a.incident_title,
        body_text: a.body_markdown,
        incident_url: a.incident_url,
        unsubscribe_url: a.unsubscribe_url,
        words,
    }
    .render()?;
    Ok(RenderedEmail {
        subject,
        html,
        text,
    })
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
            mail.html.contains("Spelstopp &#60;V75&#62;")
                || mail.html.contains("Spelstopp &lt;V75&gt;")
        );
        assert!(
            mail.html
                .contains("href=\"https://status.example/unsubscribe?t=abc&#38;x=1\"")
                || mail.html.contains("t=abc&amp;x=1")
        );
        assert!(mail.text.contains("Vi **ber om ursäkt** för stoppet."));
        assert!(mail
            .text
            .contains("Läs mer på statussidan: https://status.example/sv/incidents/v75"));
        assert!(
            mail.text.contains("Spelstopp <V75>"),
            "plain text is not HTML-escaped"
        );
    }

    #[test]
    fn scripts_in_the_apology_do_not_reach_the_html_part() {
        let mail = sample(Lang::En, "<script>alert(1)</script> sorry");
        assert!(!mail.html.contains("<script>"));
    }
}
