//! The customer's pages besides `/me` itself (a Leptos page, see
//! `customers::me`): asking for a sign-in link, the link's button, signing
//! out, the data download, and the claim form.
//!
//! Customer forms carry the session's CSRF token, and every POST must come
//! from Plaster's own pages (`Sec-Fetch-Site` or `Origin`, where the browser
//! sends them; [`crate::kernel::origin`], a layer over every route here): a
//! forged sign-in could otherwise sign a victim into someone else's account.

use std::sync::Arc;

use app::dto::Lang;
use app::ports::StatusSource;
use askama::Template;
use axum::extract::{DefaultBodyLimit, FromRef, Multipart, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, REFERRER_POLICY};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use crate::claims::file::{file, ClaimError, ClaimForm, ReceiptSettings, MAX_SCREENSHOT_BYTES};
use crate::claims::words as claim_words;
use crate::customers::me::signed_in;
use crate::customers::sign_in::{self, LinkSettings, LinkState, SignInError, COOKIE};
use crate::kernel::client::ClientAddr;
use crate::kernel::forms::field;
use crate::kernel::ids::same_secret;
use crate::kernel::origin::{forbidden, refuse_cross_site};
use crate::kernel::texts::lang_for_locale;
use crate::staff::page::see_other;
use crate::state::{AppState, CookiePolicy, MailDomain};
use crate::status::snapshot::SnapshotHolder;
use crate::store::customers::CustomerRecord;
use crate::store::Store;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/me/sign-in", post(request_link))
        .route("/me/link", get(link_page).post(use_link))
        .route("/me/sign-out", post(sign_out))
        .route("/me/export.json", get(export))
        .route("/me/claims/new", get(claim_form))
        .route(
            "/me/claims",
            // The screenshot plus the form's few fields.
            post(submit_claim).layer(DefaultBodyLimit::max(MAX_SCREENSHOT_BYTES + (64 << 10))),
        )
        // Every POST above, before its handler reads a byte.
        .route_layer(axum::middleware::from_fn(refuse_cross_site))
}

/// What the customer pages read.
#[derive(Clone)]
pub struct Pages {
    store: Store,
    snapshot: Arc<SnapshotHolder>,
    mail: MailDomain,
    cookies: CookiePolicy,
}

impl FromRef<AppState> for Pages {
    fn from_ref(s: &AppState) -> Self {
        Pages {
            store: s.store.clone(),
            snapshot: s.snapshot.clone(),
            mail: s.mail.clone(),
            cookies: s.cookies,
        }
    }
}

impl Pages {
    fn page_name(&self, lang: Lang) -> String {
        self.snapshot
            .status_page(lang)
            .map_or_else(|| "Status".into(), |p| p.page_name.clone())
    }
}

fn server_error(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "a customer page failed");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "Something went wrong on our side; try again in a moment.",
    )
        .into_response()
}

fn me_path(lang: Lang, notice: &str) -> String {
    format!("/{}/me?notice={notice}", lang.code())
}

fn lang_field(body: &[(String, String)], default: Lang) -> Lang {
    field(body, "lang").parse().unwrap_or(default)
}

async fn request_link(
    State(p): State<Pages>,
    ClientAddr(client): ClientAddr,
    Form(body): Form<Vec<(String, String)>>,
) -> Response {
    let lang = lang_field(&body, p.snapshot.default_lang());
    let page_name = p.page_name(lang);
    let settings = LinkSettings {
        public_url: p.snapshot.public_url(),
        mail_domain: &p.mail.0,
        page_name: &page_name,
    };
    let notice =
        match sign_in::request_link(&p.store, field(&body, "email"), &client, &settings).await {
            Ok(()) => "sent",
            Err(SignInError::Email(_)) => "email",
            Err(SignInError::TooSoon { .. }) => "too_soon",
            Err(SignInError::TooManyForAddress | SignInError::TooManyFromClient) => "too_many",
            Err(e) => return server_error(e),
        };
    see_other(&me_path(lang, notice))
}

#[derive(Deserialize, Default)]
struct TokenQuery {
    #[serde(default)]
    token: String,
    #[serde(default)]
    lang: Option<String>,
}

#[derive(Template)]
#[template(path = "public/me_link.html")]
struct LinkPage<'a> {
    lang: &'a str,
    page_name: String,
    heading: &'a str,
    token: String,
    button: &'a str,
}

/// A page with the token in its URL: sent nowhere else, kept nowhere.
fn private(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

async fn link_page(State(p): State<Pages>, Query(q): Query<TokenQuery>) -> Response {
    let lang = q
        .lang
        .and_then(|l| l.parse().ok())
        .unwrap_or_else(|| p.snapshot.default_lang());
    match sign_in::link_state(&p.store, &q.token).await {
        Ok(LinkState::Usable) => {}
        Ok(LinkState::Unusable) => return private(see_other(&me_path(lang, "link"))),
        Err(e) => return server_error(e),
    }
    let (heading, button) = match lang {
        Lang::Sv => ("Logga in", "Logga in"),
        Lang::Nb => ("Logg inn", "Logg inn"),
        Lang::En => ("Sign in", "Sign in"),
    };
    let page = LinkPage {
        lang: lang.code(),
        page_name: p.page_name(lang),
        heading,
        token: q.token,
        button,
    };
    match page.render() {
        Ok(html) => private(Html(html).into_response()),
        Err(e) => server_error(e),
    }
}

async fn use_link(State(p): State<Pages>, Form(body): Form<Vec<(String, String)>>) -> Response {
    let lang = lang_field(&body, p.snapshot.default_lang());
    match sign_in::sign_in(&p.store, field(&body, "token")).await {
        Ok(Some(session)) => {
            let mut response = see_other("/me");
            if let Some(c) =
                crate::kernel::cookies::set(COOKIE, Some(&session), p.cookies.secure, "/")
            {
                response
                    .headers_mut()
                    .append(axum::http::header::SET_COOKIE, c);
            }
            response
        }
        Ok(None) => see_other(&me_path(lang, "link")),
        Err(e) => server_error(e),
    }
}

/// The signed-in customer, or the answer to give instead.
async fn customer(
    p: &Pages,
    headers: &HeaderMap,
) -> Result<(sign_in::CustomerSession, CustomerRecord), Response> {
    match signed_in(&p.store, headers, p.cookies.secure).await {
        Ok(Some(me)) => Ok(me),
        Ok(None) => Err(see_other("/me")),
        Err(e) => Err(server_error(e)),
    }
}

async fn sign_out(
    State(p): State<Pages>,
    headers: HeaderMap,
    Form(body): Form<Vec<(String, String)>>,
) -> Response {
    let (session, _) = match customer(&p, &headers).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    if !same_secret(field(&body, "csrf"), &session.csrf_token) {
        return forbidden();
    }
    if let Err(e) = sign_in::sign_out(&p.store, &session).await {
        return server_error(e);
    }
    let mut response = see_other("/me");
    if let Some(c) = crate::kernel::cookies::set(COOKIE, None, p.cookies.secure, "/") {
        response
            .headers_mut()
            .append(axum::http::header::SET_COOKIE, c);
    }
    response
}

async fn export(State(p): State<Pages>, headers: HeaderMap) -> Response {
    let (_, c) = match customer(&p, &headers).await {
        Ok(me) => me,
        Err(_) => return (StatusCode::UNAUTHORIZED, "Sign in at /me first.").into_response(),
    };
    match crate::customers::me::export(&p.store, &c).await {
        Ok(json) => {
            let mut r = axum::Json(json).into_response();
            let h = r.headers_mut();
            h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            h.insert(
                CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"my-data.json\""),
            );
            r
        }
        Err(e) => server_error(e),
    }
}

struct Words {
    title: &'static str,
    incident: &'static str,
    kind: &'static str,
    bet_id: &'static str,
    bet_hint: &'static str,
    when: &'static str,
    when_hint: &'static str,
    description: &'static str,
    screenshot: &'static str,
    screenshot_hint: &'static str,
    send: &'static str,
    back: &'static str,
    none: &'static str,
}

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Sv => &Words {
            title: "Anmäl ett ärende",
            incident: "Störning",
            kind: "Vad hände?",
            bet_id: "Spelets id (om du har det)",
            bet_hint: "Står i kvittot eller spelhistoriken, till exempel b-1234.",
            when: "När (ungefär)",
            when_hint: "Tider i",
            description: "Berätta vad som hände",
            screenshot: "Skärmbild (valfri)",
            screenshot_hint: "En bild, högst 5 MB.",
            send: "Skicka",
            back: "Tillbaka till min sida",
            none: "Det finns ingen störning att anmäla ett ärende om.",
        },
        Lang::Nb => &Words {
            title: "Meld inn en sak",
            incident: "Hendelse",
            kind: "Hva skjedde?",
            bet_id: "Spillets id (hvis du har den)",
            bet_hint: "Står på kvitteringen eller i spillhistorikken, for eksempel b-1234.",
            when: "Når (omtrent)",
            when_hint: "Tider i",
            description: "Fortell hva som skjedde",
            screenshot: "Skjermbilde (valgfritt)",
            screenshot_hint: "Et bilde, høyst 5 MB.",
            send: "Send",
            back: "Tilbake til min side",
            none: "Det finnes ingen hendelse å melde inn en sak om.",
        },
        Lang::En => &Words {
            title: "File a claim",
            incident: "Incident",
            kind: "What happened?",
            bet_id: "The bet's id (if you have it)",
            bet_hint: "On the receipt or in your bet history, for example b-1234.",
            when: "When (roughly)",
            when_hint: "Times in",
            description: "Tell us what happened",
            screenshot: "Screenshot (optional)",
            screenshot_hint: "A picture, at most 5 MB.",
            send: "Send",
            back: "Back to my page",
            none: "There is no incident to file a claim about.",
        },
    }
}

#[derive(Template)]
#[template(path = "public/claim_form.html")]
struct ClaimPage<'a> {
    lang: &'a str,
    page_name: String,
    w: &'a Words,
    csrf: String,
    incidents: Vec<(String, String, bool)>,
    kinds: Vec<(&'static str, &'static str, bool)>,
    form: ClaimForm,
    time_zone: String,
    error: Option<(String, String)>,
}

#[derive(Deserialize, Default)]
struct ClaimQuery {
    #[serde(default)]
    incident: String,
    #[serde(default)]
    lang: Option<String>,
}

/// Public incidents a claim can be about, newest first: those under way
/// and the closed ones of the history.
fn claimable(snapshot: &SnapshotHolder, lang: Lang) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    if let Some(front) = snapshot.status_page(lang) {
        out.extend(
            front
                .active_incidents
                .iter()
                .map(|i| (i.id.clone(), i.title.text.clone())),
        );
    }
    if let Some(history) = snapshot.history(lang) {
        out.extend(
            history
                .iter()
                .take(30)
                .map(|i| (i.id.clone(), i.title.text.clone())),
        );
    }
    out
}

fn claim_page(
    p: &Pages,
    lang: Lang,
    csrf: &str,
    form: ClaimForm,
    error: Option<(String, String)>,
) -> Response {
    let incidents = claimable(&p.snapshot, lang)
        .into_iter()
        .map(|(id, title)| {
            let chosen = id == form.incident_id;
            (id, title, chosen)
        })
        .collect();
    let kinds = claim_words::KINDS
        .into_iter()
        .map(|k| (k, claim_words::kind(lang, k), k == form.kind))
        .collect();
    let refused = error.is_some();
    let page = ClaimPage {
        lang: lang.code(),
        page_name: p.page_name(lang),
        w: words(lang),
        csrf: csrf.to_string(),
        incidents,
        kinds,
        form,
        time_zone: p.snapshot.time_zone().to_string(),
        error,
    };
    match page.render() {
        Ok(html) => {
            let status = if refused {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::OK
            };
            private((status, Html(html)).into_response())
        }
        Err(e) => server_error(e),
    }
}

async fn claim_form(
    State(p): State<Pages>,
    headers: HeaderMap,
    Query(q): Query<ClaimQuery>,
) -> Response {
    let (session, c) = match signed_in(&p.store, &headers, p.cookies.secure).await {
        Ok(Some(me)) => me,
        // From an incident's "Were you affected?": sign in first.
        Ok(None) => {
            let lang = q
                .lang
                .and_then(|l| l.parse().ok())
                .unwrap_or_else(|| p.snapshot.default_lang());
            return see_other(&me_path(lang, "claim"));
        }
        Err(e) => return server_error(e),
    };
    let lang = q
        .lang
        .and_then(|l| l.parse().ok())
        .unwrap_or_else(|| lang_for_locale(&c.locale));
    claim_page(
        &p,
        lang,
        &session.csrf_token,
        ClaimForm {
            incident_id: q.incident,
            ..ClaimForm::default()
        },
        None,
    )
}

async fn submit_claim(
    State(p): State<Pages>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let (session, c) = match customer(&p, &headers).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    let mut form = ClaimForm::default();
    let mut csrf = String::new();
    let mut lang = lang_for_locale(&c.locale);
    loop {
        let next = match multipart.next_field().await {
            Ok(next) => next,
            Err(e) => {
                return claim_page(
                    &p,
                    lang,
                    &session.csrf_token,
                    form,
                    Some((
                        "screenshot".into(),
                        format!("the upload was cut short or too big: {e}"),
                    )),
                )
            }
        };
        let Some(f) = next else { break };
        let name = f.name().unwrap_or_default().to_string();
        if name == "screenshot" {
            match f.bytes().await {
                Ok(b) => form.screenshot = Some(b.to_vec()),
                Err(e) => {
                    return claim_page(
                        &p,
                        lang,
                        &session.csrf_token,
                        form,
                        Some(("screenshot".into(), format!("at most 5 MB ({e})"))),
                    )
                }
            }
            continue;
        }
        let value = match f.text().await {
            Ok(v) => v,
            Err(e) => {
                return claim_page(
                    &p,
                    lang,
                    &session.csrf_token,
                    form,
                    Some((name, e.to_string())),
                )
            }
        };
        match name.as_str() {
            "csrf" => csrf = value,
            "lang" => lang = value.parse().unwrap_or(lang),
            "incident" => form.incident_id = value,
            "kind" => form.kind = value,
            "bet_id" => form.bet_id = value,
            "happened_at" => form.happened_at = value,
            "description" => form.description = value,
            _ => {}
        }
    }
    if !same_secret(&csrf, &session.csrf_token) {
        return forbidden();
    }
    if p.snapshot.incident(lang, &form.incident_id).is_none() {
        return claim_page(
            &p,
            lang,
            &session.csrf_token,
            form,
            Some(("incident".into(), "choose the incident".into())),
        );
    }
    let page_name = p.page_name(lang);
    let settings = ReceiptSettings {
        public_url: p.snapshot.public_url(),
        mail_domain: &p.mail.0,
        page_name: &page_name,
    };
    let kept = ClaimForm {
        screenshot: None,
        ..form.clone()
    };
    match file(
        &p.store,
        &c.customer_id,
        &c.email,
        lang,
        form,
        p.snapshot.time_zone(),
        &settings,
    )
    .await
    {
        Ok(_) => see_other(&format!("/{}/me", lang.code())),
        Err(ClaimError::Field { field, message }) => claim_page(
            &p,
            lang,
            &session.csrf_token,
            kept,
            Some((field.to_string(), message)),
        ),
        Err(e @ ClaimError::TooMany) => claim_page(
            &p,
            lang,
            &session.csrf_token,
            kept,
            Some(("form".into(), e.to_string())),
        ),
        Err(e) => server_error(e),
    }
}
