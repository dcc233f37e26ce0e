//! The frame every e-mail shares: the fixed words per language and the
//! notice layout (askama HTML and text).

use app::dto::Lang;
use askama::Template;

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
    pub manage_title: &'static str,
    pub manage_body: &'static str,
    pub manage_button: &'static str,
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
            manage_title: "Din prenumeration på driftinformation",
            manage_body: "Någon, förhoppningsvis du, fyllde i den här adressen i prenumerationsformuläret igen. Adressen prenumererar redan, och inget har ändrats. Vill du byta språk eller tjänster gör du det här.",
            manage_button: "Ändra prenumerationen",
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
            manage_title: "Abonnementet ditt på driftsinformasjon",
            manage_body: "Noen, forhåpentligvis du, fylte inn denne adressen i abonnementsskjemaet igjen. Adressen abonnerer allerede, og ingenting er endret. Vil du bytte språk eller tjenester, gjør du det her.",
            manage_button: "Endre abonnementet",
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
            manage_title: "Your status update subscription",
            manage_body: "Someone, hopefully you, entered this address in the subscription form again. It is already subscribed, and nothing has changed. To change its language or services, use this link.",
            manage_button: "Change the subscription",
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
    let body_html = crate::kernel::markdown::to_safe_html(n.body_markdown);
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
