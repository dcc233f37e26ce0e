//! The public subscription pages: subscribe (double opt-in), confirm,
//! manage, and unsubscribe, including RFC 8058 one-click from mail clients.
//!
//! Links in e-mail only ever show a page with a button: mail scanners
//! follow links, and a GET must not confirm or cancel anything. The one
//! exception is the one-click POST that RFC 8058 defines for mail clients.
//! There is no session here, so no CSRF token either: the worst a forged
//! subscribe can do is send the owner of the address a confirmation. A
//! form from another site is refused all the same (the router's layer,
//! [`crate::kernel::origin`]), except the one-click unsubscribe, which
//! comes from the mail provider by design (see [`crate::notify::routes`]).
//!
//! A token opens its subscription only while [`link_works`] says so; an
//! unsubscribed one's links, an expired confirmation link and an unknown
//! token all get the same "not valid or has expired" page (404).

use std::sync::Arc;

use app::dto::Lang;
use app::ports::StatusSource;
use askama::Template;
use axum::extract::FromRef;
use axum::extract::{Query, State};
use axum::http::header::ACCEPT_LANGUAGE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

use crate::kernel::client::ClientAddr;
use crate::kernel::forms::field;
use crate::notify::subscribers::{link_works, retired_token, subscribe, Links, SubscribeError};
use crate::state::{AppState, MailDomain};
use crate::status::snapshot::SnapshotHolder;
use crate::store::subscribers::{self, Subscriber};

/// What the subscription pages read: subscribers and the page's settings.
#[derive(Clone)]
pub struct Pages {
    store: Store,
    snapshot: Arc<SnapshotHolder>,
}

impl FromRef<AppState> for Pages {
    fn from_ref(state: &AppState) -> Self {
        Pages {
            store: state.store.clone(),
            snapshot: state.snapshot.clone(),
        }
    }
}
use crate::store::Store;

pub struct Words {
    skip: &'static str,
    subscribe: &'static str,
    email: &'static str,
    language: &'static str,
    components: &'static str,
    components_hint: &'static str,
    sent: &'static str,
    confirm: &'static str,
    confirmed: &'static str,
    manage: &'static str,
    save: &'static str,
    saved: &'static str,
    unsubscribe: &'static str,
    unsubscribed: &'static str,
    unknown: &'static str,
    /// `{m}` is the minutes to wait.
    too_soon: &'static str,
    too_many: &'static str,
    too_many_here: &'static str,
}

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Sv => &Words {
            skip: "Hoppa till innehållet",
            subscribe: "Prenumerera på driftinformation",
            email: "E-postadress",
            language: "Språk",
            components: "Tjänster",
            components_hint: "Välj inga för att få besked om allt.",
            sent: "Kolla din inkorg: vi har skickat en länk för att bekräfta prenumerationen.",
            confirm: "Bekräfta prenumerationen",
            confirmed: "Klart! Du får nu besked om störningar.",
            manage: "Din prenumeration",
            save: "Spara",
            saved: "Sparat.",
            unsubscribe: "Avsluta prenumerationen",
            unsubscribed: "Du får inga fler mejl från oss.",
            unknown: "Länken är ogiltig eller för gammal.",
            too_soon: "Vi skickade nyss ett mejl till den här adressen. Titta i inkorgen (och skräpposten), eller försök igen om {m} minuter.",
            too_many: "Den här adressen har fått så många mejl från formuläret i dag som vi skickar. Försök igen i morgon.",
            too_many_here: "Formuläret har skickats väldigt många gånger från ditt nätverk den senaste timmen. Försök igen om en stund.",
        },
        Lang::Nb => &Words {
            skip: "Hopp til innholdet",
            subscribe: "Abonner på driftsinformasjon",
            email: "E-postadresse",
            language: "Språk",
            components: "Tjenester",
            components_hint: "Velg ingen for å få beskjed om alt.",
            sent: "Sjekk innboksen: vi har sendt en lenke for å bekrefte abonnementet.",
            confirm: "Bekreft abonnementet",
            confirmed: "Ferdig! Du får nå beskjed om hendelser.",
            manage: "Abonnementet ditt",
            save: "Lagre",
            saved: "Lagret.",
            unsubscribe: "Avslutt abonnementet",
            unsubscribed: "Du får ingen flere e-poster fra oss.",
            unknown: "Lenken er ugyldig eller for gammel.",
            too_soon: "Vi sendte nettopp en e-post til denne adressen. Se i innboksen (og søppelposten), eller prøv igjen om {m} minutter.",
            too_many: "Denne adressen har fått så mange e-poster fra skjemaet i dag som vi sender. Prøv igjen i morgen.",
            too_many_here: "Skjemaet er sendt svært mange ganger fra nettverket ditt den siste timen. Prøv igjen om en stund.",
        },
        Lang::En => &Words {
            skip: "Skip to content",
            subscribe: "Subscribe to status updates",
            email: "E-mail address",
            language: "Language",
            components: "Services",
            components_hint: "Choose none to hear about everything.",
            sent: "Check your inbox: we have sent a link to confirm the subscription.",
            confirm: "Confirm the subscription",
            confirmed: "Done! You will now hear about incidents.",
            manage: "Your subscription",
            save: "Save",
            saved: "Saved.",
            unsubscribe: "Unsubscribe",
            unsubscribed: "You will get no more e-mail from us.",
            unknown: "This link is not valid or has expired.",
            too_soon: "We sent a message to this address a moment ago. Look in your inbox (and spam folder), or try again in {m} minutes.",
            too_many: "This address has had as many messages from this form today as we send. Try again tomorrow.",
            too_many_here: "This form has been sent very many times from your network in the last hour. Try again in a while.",
        },
    }
}

#[derive(Template)]
#[template(path = "public/subscription.html")]
struct SubscriptionPage<'a> {
    lang: &'a str,
    page_name: String,
    heading: &'a str,
    notice: Option<&'a str>,
    error: Option<String>,
    form_action: Option<String>,
    show_fields: bool,
    show_email: bool,
    email: String,
    chosen_lang: &'a str,
    langs: Vec<(&'static str, &'static str)>,
    components: Vec<(String, String, bool)>,
    button: &'a str,
    unsubscribe_url: Option<String>,
    w: &'a Words,
}

#[derive(Deserialize, Default)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
    #[serde(default)]
    lang: Option<String>,
}

fn lang_of(query_lang: Option<&str>, headers: &HeaderMap, default: Lang) -> Lang {
    query_lang.and_then(|l| l.parse().ok()).unwrap_or_else(|| {
        headers
            .get(ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map_or(default, |h| app::i18n::negotiate(h, default))
    })
}

struct Base {
    lang: Lang,
    page_name: String,
    components: Vec<(String, String)>,
}

fn base(snapshot: &SnapshotHolder, lang: Lang) -> Base {
    let page = snapshot.status_page(lang);
    Base {
        lang,
        page_name: page
            .as_ref()
            .map_or_else(|| "Status".into(), |p| p.page_name.clone()),
        components: page
            .map(|p| {
                p.groups
                    .iter()
                    .flat_map(|g| g.components.iter())
                    .map(|c| (c.id.clone(), c.name.text.clone()))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

#[allow(clippy::too_many_arguments)]
fn render(
    b: &Base,
    heading: &str,
    notice: Option<&str>,
    error: Option<String>,
    form_action: Option<String>,
    show_fields: bool,
    show_email: bool,
    email: String,
    chosen: &[String],
    button: &str,
    unsubscribe_url: Option<String>,
    status: StatusCode,
) -> Response {
    let page = SubscriptionPage {
        lang: b.lang.code(),
        page_name: b.page_name.clone(),
        heading,
        notice,
        error,
        form_action,
        show_fields,
        show_email,
        email,
        chosen_lang: b.lang.code(),
        langs: Lang::ALL
            .into_iter()
            .map(|l| (l.code(), l.native_name()))
            .collect(),
        components: b
            .components
            .iter()
            .map(|(id, name)| (id.clone(), name.clone(), chosen.contains(id)))
            .collect(),
        button,
        unsubscribe_url,
        w: words(b.lang),
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering a subscription page");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

pub async fn form(
    State(snapshot): State<Arc<SnapshotHolder>>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Response {
    let b = base(
        &snapshot,
        lang_of(q.lang.as_deref(), &headers, snapshot.default_lang()),
    );
    let w = words(b.lang);
    render(
        &b,
        w.subscribe,
        None,
        None,
        Some("/subscribe".into()),
        true,
        true,
        String::new(),
        &[],
        w.subscribe,
        None,
        StatusCode::OK,
    )
}

fn chosen_components(body: &[(String, String)]) -> Vec<String> {
    body.iter()
        .filter(|(k, _)| k == "component")
        .map(|(_, v)| v.clone())
        .collect()
}

/// Form posts from one client address per hour, whatever addresses they
/// name, before that client is turned away (the per-address limits stop
/// mail bombing one inbox; this stops one sender working through many).
pub const POSTS_PER_CLIENT_PER_HOUR: i64 = 60;

pub async fn submit(
    State(Pages { store, snapshot }): State<Pages>,
    State(mail): State<MailDomain>,
    client: ClientAddr,
    headers: HeaderMap,
    Form(body): Form<Vec<(String, String)>>,
) -> Response {
    let lang = lang_of(
        Some(field(&body, "lang")),
        &headers,
        snapshot.default_lang(),
    );
    let b = base(&snapshot, lang);
    let w = words(lang);
    let components = chosen_components(&body);
    let email = field(&body, "email").to_string();
    let now = chrono::Utc::now().timestamp_millis();
    let key = format!("subscribe-client:{}", client.0);
    match store
        .take_attempt(&[(&key, POSTS_PER_CLIENT_PER_HOUR)], now - 3_600_000, now)
        .await
    {
        Ok(Ok(_)) => {}
        Ok(Err(_)) => {
            tracing::warn!(client = %client.0, "subscribe form throttled for a client address");
            return render(
                &b,
                w.subscribe,
                None,
                Some(w.too_many_here.to_string()),
                Some("/subscribe".into()),
                true,
                true,
                email,
                &components,
                w.subscribe,
                None,
                StatusCode::TOO_MANY_REQUESTS,
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "counting subscribe posts failed");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    }
    let links = Links {
        public_url: snapshot.public_url(),
        mail_domain: &mail.0,
        page_name: &b.page_name,
    };
    match subscribe(&store, &email, lang, &components, &links).await {
        Ok(()) => render(
            &b,
            w.subscribe,
            Some(w.sent),
            None,
            None,
            false,
            false,
            String::new(),
            &[],
            "",
            None,
            StatusCode::OK,
        ),
        Err(e @ (SubscribeError::TooSoon { .. } | SubscribeError::TooMany)) => {
            let message = match e {
                SubscribeError::TooSoon { wait_minutes, .. } => {
                    w.too_soon.replace("{m}", &wait_minutes.to_string())
                }
                _ => w.too_many.to_string(),
            };
            render(
                &b,
                w.subscribe,
                None,
                Some(message),
                Some("/subscribe".into()),
                true,
                true,
                email,
                &components,
                w.subscribe,
                None,
                StatusCode::TOO_MANY_REQUESTS,
            )
        }
        Err(
            e @ (SubscribeError::Email(_)
            | SubscribeError::Component(_)
            | SubscribeError::TooManyComponents(_)),
        ) => render(
            &b,
            w.subscribe,
            None,
            Some(e.to_string()),
            Some("/subscribe".into()),
            true,
            true,
            email,
            &components,
            w.subscribe,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => {
            tracing::error!(error = %e, "subscribing failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

fn unknown(snapshot: &SnapshotHolder, lang: Lang) -> Response {
    let b = base(snapshot, lang);
    let w = words(lang);
    render(
        &b,
        w.manage,
        None,
        Some(w.unknown.into()),
        None,
        false,
        false,
        String::new(),
        &[],
        "",
        None,
        StatusCode::NOT_FOUND,
    )
}

/// The subscriber a link's token opens, or the page to show instead.
async fn subscriber_for(
    store: &Store,
    snapshot: &SnapshotHolder,
    token: &str,
) -> Result<Subscriber, Response> {
    let now = chrono::Utc::now().timestamp_millis();
    match subscribers::by_token(store, token).await {
        Ok(Some(s)) if link_works(&s, now) => Ok(s),
        Ok(_) => Err(unknown(snapshot, snapshot.default_lang())),
        Err(e) => {
            tracing::error!(error = %e, "looking up a subscription link");
            Err(StatusCode::SERVICE_UNAVAILABLE.into_response())
        }
    }
}

/// What a link in mail leads to: a page with one button that POSTs back.
async fn button_page(
    store: &Store,
    snapshot: &SnapshotHolder,
    token: &str,
    path: &str,
    action: Action,
) -> Response {
    let s = match subscriber_for(store, snapshot, token).await {
        Ok(s) => s,
        Err(response) => return response,
    };
    let b = base(snapshot, s.lang);
    let label = action.label(words(s.lang));
    let form = format!("{path}?token={token}");
    render(
        &b,
        label,
        None,
        None,
        Some(form),
        false,
        false,
        String::new(),
        &[],
        label,
        None,
        StatusCode::OK,
    )
}

/// The button's POST: sets the subscription's state and says so.
async fn change_state(
    store: &Store,
    snapshot: &SnapshotHolder,
    token: &str,
    action: Action,
) -> Response {
    let s = match subscriber_for(store, snapshot, token).await {
        Ok(s) => s,
        Err(response) => return response,
    };
    let changed = match action {
        Action::Confirm => {
            subscribers::confirm(store, token, chrono::Utc::now().timestamp_millis()).await
        }
        // The token retires with the subscription: no link that went out
        // opens it again, and subscribing again issues a new one.
        Action::Unsubscribe => subscribers::unsubscribe(store, token, &retired_token()).await,
    };
    match changed {
        Ok(true) => {}
        // Unsubscribed in the meantime (a double click, the mail client's
        // one-click POST beside the page's button).
        Ok(false) => return unknown(snapshot, s.lang),
        Err(e) => {
            tracing::error!(error = %e, "changing a subscription");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    }
    let b = base(snapshot, s.lang);
    let w = words(s.lang);
    let (notice, manage) = match action {
        Action::Confirm => (
            w.confirmed,
            Some(format!(
                "{}/subscriptions?token={token}",
                snapshot.public_url()
            )),
        ),
        Action::Unsubscribe => (w.unsubscribed, None),
    };
    let heading = action.label(w);
    render(
        &b,
        heading,
        Some(notice),
        None,
        None,
        false,
        false,
        String::new(),
        &[],
        "",
        manage,
        StatusCode::OK,
    )
}

#[derive(Clone, Copy)]
enum Action {
    Confirm,
    Unsubscribe,
}

impl Action {
    fn label(self, w: &Words) -> &'static str {
        match self {
            Action::Confirm => w.confirm,
            Action::Unsubscribe => w.unsubscribe,
        }
    }
}

pub async fn confirm_page(
    State(Pages { store, snapshot }): State<Pages>,
    Query(q): Query<TokenQuery>,
) -> Response {
    button_page(
        &store,
        &snapshot,
        &q.token,
        "/subscribe/confirm",
        Action::Confirm,
    )
    .await
}

pub async fn confirm(
    State(Pages { store, snapshot }): State<Pages>,
    Query(q): Query<TokenQuery>,
) -> Response {
    change_state(&store, &snapshot, &q.token, Action::Confirm).await
}

pub async fn unsubscribe_page(
    State(Pages { store, snapshot }): State<Pages>,
    Query(q): Query<TokenQuery>,
) -> Response {
    button_page(
        &store,
        &snapshot,
        &q.token,
        "/unsubscribe",
        Action::Unsubscribe,
    )
    .await
}

/// The button on the page and RFC 8058's one-click POST from mail clients.
pub async fn unsubscribe(
    State(Pages { store, snapshot }): State<Pages>,
    Query(q): Query<TokenQuery>,
) -> Response {
    change_state(&store, &snapshot, &q.token, Action::Unsubscribe).await
}

pub async fn manage_page(
    State(Pages { store, snapshot }): State<Pages>,
    Query(q): Query<TokenQuery>,
) -> Response {
    let s = match subscriber_for(&store, &snapshot, &q.token).await {
        Ok(s) => s,
        Err(response) => return response,
    };
    let b = base(&snapshot, s.lang);
    let w = words(s.lang);
    let action = format!("/subscriptions?token={}", q.token);
    let unsubscribe = format!("/unsubscribe?token={}", q.token);
    render(
        &b,
        w.manage,
        None,
        None,
        Some(action),
        true,
        false,
        s.email,
        &s.components,
        w.save,
        Some(unsubscribe),
        StatusCode::OK,
    )
}

pub async fn manage(
    State(Pages { store, snapshot }): State<Pages>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
    Form(body): Form<Vec<(String, String)>>,
) -> Response {
    let lang = lang_of(
        Some(field(&body, "lang")),
        &headers,
        snapshot.default_lang(),
    );
    let components = chosen_components(&body);
    if let Err(e) = crate::notify::subscribers::check_chosen(&components) {
        return (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).into_response();
    }
    if let Err(response) = subscriber_for(&store, &snapshot, &q.token).await {
        return response;
    }
    match subscribers::update_choices(&store, &q.token, lang, &components).await {
        Ok(true) => {
            let b = base(&snapshot, lang);
            let w = words(lang);
            let action = format!("/subscriptions?token={}", q.token);
            let unsubscribe = format!("/unsubscribe?token={}", q.token);
            render(
                &b,
                w.manage,
                Some(w.saved),
                None,
                Some(action),
                true,
                false,
                String::new(),
                &components,
                w.save,
                Some(unsubscribe),
                StatusCode::OK,
            )
        }
        Ok(false) => unknown(&snapshot, lang),
        Err(e) => {
            tracing::error!(error = %e, "saving subscription choices");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
