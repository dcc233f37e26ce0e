//! Shared fixtures on a running `TestApp`: staff members signed in with
//! one call, background work run on demand, sent mail read back.
//!
//! `app.staff(&[Role::Finance]).await` twice gives two different finance
//! members, each with a cookie client and the session's CSRF token.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use plaster_server::kernel::audit::Actor;
use plaster_server::staff::accounts::create_account;
use plaster_server::staff::roles::{Role, Roles};
use reqwest::Client;
use sqlx::Row;

use crate::helpers::{get_with, TestApp};

/// Every fixture account's password (its one-time password is replaced).
pub const PASSWORD: &str = "a long enough password";
/// The TOTP secret of every fixture member whose roles need a second
/// factor (admins, finance): 20 bytes in base32, as an app would hold it.
pub const TOTP_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

/// A signed-in staff member: their cookie client and CSRF token.
pub struct StaffClient {
    pub email: String,
    pub account_id: String,
    pub client: Client,
    pub csrf: String,
    base: String,
}

impl StaffClient {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        get_with(&self.client, &self.base, path).await
    }

    /// A form POST with the session's CSRF token added.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        fields.push(("csrf", &self.csrf));
        self.client
            .post(self.url(path))
            .form(&fields)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path} failed: {e}"))
    }
}

/// A form POST from `client` as it is (the caller adds any CSRF field).
pub async fn post_form(
    app: &TestApp,
    client: &Client,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client
        .post(app.url(path))
        .form(form)
        .send()
        .await
        .expect("POST")
}

/// A client that keeps cookies and does not follow redirects.
pub fn cookie_client() -> Client {
    browser_like().build().expect("client")
}

/// Keeps cookies and follows no redirect, as the tests read them.
fn browser_like() -> reqwest::ClientBuilder {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
}

/// A client that connects from `ip` (any 127.x address reaches the test
/// server), as another machine would.
pub fn client_from(ip: [u8; 4]) -> Client {
    browser_like()
        .local_address(std::net::IpAddr::from(ip))
        .build()
        .expect("client")
}

/// The value of the first `name="csrf"` field in a page.
pub fn csrf_in(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a csrf field in the page");
    let rest = &html[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').expect("closing quote")].to_string()
}

/// A staff route's path (axum syntax) with a sample value in each
/// parameter, for the tests generated from the route table (the role
/// matrix, the CSRF refusals): the demo's incident and component,
/// `account_id`'s account, and ids that name nothing elsewhere (an
/// allowed request then gets a 404 or a form error, never a change).
pub fn concrete_path(route_path: &str, account_id: &str) -> String {
    let path = route_path
        .replace(
            "/staff/accounts/requests/{id}",
            "/staff/accounts/requests/no-such-request",
        )
        .replace(
            "/staff/payouts/inbox/{batch}",
            "/staff/payouts/inbox/no-such-batch",
        )
        .replace(
            "/staff/incidents/{id}",
            "/staff/incidents/atg-2024-08-24-v75",
        )
        .replace("/staff/components/{id}", "/staff/components/casino")
        .replace(
            "/staff/accounts/{id}",
            &format!("/staff/accounts/{account_id}"),
        )
        .replace("/staff/mail/{id}", "/staff/mail/no-such-message")
        .replace("/staff/webhooks/{id}", "/staff/webhooks/no-such-hook")
        .replace("/staff/payouts/{id}", "/staff/payouts/no-such-payout")
        .replace("/staff/claims/{id}", "/staff/claims/no-such-claim")
        .replace(
            "/staff/compensation/runs/{id}",
            "/staff/compensation/runs/no-such-run",
        )
        .replace("{n}", "1");
    assert!(!path.contains('{'), "no sample value for {route_path}");
    path
}

/// Waits until `f` is true, failing after `secs`.
pub async fn eventually<F, Fut>(secs: u64, what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !f().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits up to `secs` for `f` to give something.
pub async fn until<T, F, Fut>(secs: u64, what: &str, f: F) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Asks for a customer sign-in link for `email` from `client`; the
/// redirect's notice (`sent`, `too_soon`, `too_many`, `email`).
pub async fn ask_link(app: &TestApp, client: &Client, email: &str) -> String {
    let r = client
        .post(app.url("/me/sign-in"))
        .form(&[("email", email), ("lang", "sv")])
        .send()
        .await
        .expect("sign-in POST");
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    to.split("notice=").nth(1).unwrap_or_default().to_string()
}

/// The token of the newest sign-in link mailed to `email` that is not `old`.
pub async fn link_token(app: &TestApp, email: &str, old: &str) -> String {
    until(20, "the sign-in mail", || async {
        let mail = app.sent_mail(email).await;
        let (_, text) = mail
            .iter()
            .rev()
            .find(|(_, t)| t.contains("/me/link?token="))?;
        let at = text.find("/me/link?token=")? + "/me/link?token=".len();
        let token: String = text[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        (token != old).then_some(token)
    })
    .await
}

static NEXT_MEMBER: AtomicUsize = AtomicUsize::new(1);

impl TestApp {
    /// A new staff member with `roles` whose first password has already
    /// been replaced (so the guard does not send them to the password
    /// page); returns the account id.
    pub async fn staff_member(&self, email: &str, roles: &[Role]) -> String {
        let (id, _) = create_account(&self.store, &Actor::Cli, email, &Roles::new(roles.to_vec()))
            .await
            .expect("account created");
        let hash = plaster_server::staff::password::hash_password(PASSWORD).expect("hash");
        let mut conn = self.store.pool().acquire().await.expect("connection");
        plaster_server::store::staff::set_password(&mut conn, &id, &hash, false, None, 0)
            .await
            .expect("password set");
        if Roles::new(roles.to_vec()).need_second_factor() {
            plaster_server::store::staff::enable_totp(&mut conn, &id, TOTP_SECRET, 0, &[], 0)
                .await
                .expect("second factor set up");
        }
        id
    }

    /// The TOTP code for `account_id` that the server takes next: the
    /// current step's, or a later one within the allowed skew when this
    /// account used the current one already (waiting when it must).
    pub async fn next_code(&self, account_id: &str) -> String {
        self.next_code_of(account_id, TOTP_SECRET).await
    }

    /// [`TestApp::next_code`] for a member who enrolled their own `secret`.
    pub async fn next_code_of(&self, account_id: &str, secret: &str) -> String {
        use plaster_server::staff::totp::{code_at, step_at};
        loop {
            let last = self.store.totp(account_id).await.expect("totp").last_step;
            let now = step_at(chrono::Utc::now().timestamp());
            let step = last.map_or(now, |last| (last + 1).max(now - 1));
            if step <= now + 1 {
                return code_at(secret, step).expect("code");
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// The code page after a right password: types the next code.
    pub async fn enter_code(&self, client: &Client, email: &str) -> reqwest::Response {
        let (account, _) = self
            .store
            .staff_for_sign_in(email)
            .await
            .expect("account")
            .expect("exists");
        let page = client
            .get(self.url("/staff/login/code"))
            .send()
            .await
            .expect("code page");
        assert_eq!(page.status(), 200, "the code page of {email}");
        let csrf = csrf_in(&page.text().await.expect("html"));
        let code = self.next_code(&account.id).await;
        client
            .post(self.url("/staff/login/code"))
            .form(&[("code", code.as_str()), ("csrf", &csrf), ("next", "/staff")])
            .send()
            .await
            .expect("code POST")
    }

    /// A new staff member with `roles`, signed in.
    pub async fn staff(&self, roles: &[Role]) -> StaffClient {
        let n = NEXT_MEMBER.fetch_add(1, Ordering::Relaxed);
        let name = roles.first().map_or("staff", |r| r.as_str());
        let email = format!("{name}-{n}@example.se");
        let account_id = self.staff_member(&email, roles).await;
        let (client, csrf) = self.signed_in(&email).await;
        // Confirmed for the dangerous forms, as a member who just typed
        // their password again (the step-up tests use `signed_in`).
        let confirmed = client
            .post(self.url("/staff/step-up"))
            .form(&[("step_up", PASSWORD), ("csrf", &csrf)])
            .send()
            .await
            .expect("step-up");
        assert_eq!(confirmed.status(), 303, "step-up of {email}");
        StaffClient {
            email,
            account_id,
            client,
            csrf,
            base: self.address.clone(),
        }
    }

    /// One sign-in attempt through the login form, as a browser makes it.
    pub async fn try_sign_in(
        &self,
        client: &Client,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        let page = client
            .get(self.url("/staff/login"))
            .send()
            .await
            .expect("login page");
        let csrf = csrf_in(&page.text().await.expect("html"));
        client
            .post(self.url("/staff/login"))
            .form(&[
                ("email", email),
                ("password", password),
                ("csrf", &csrf),
                ("next", "/staff"),
            ])
            .send()
            .await
            .expect("sign-in POST")
    }

    /// Signs `email` in with [`PASSWORD`]: a cookie client and the
    /// session's CSRF token.
    pub async fn signed_in(&self, email: &str) -> (Client, String) {
        let client = cookie_client();
        let mut response = self.try_sign_in(&client, email, PASSWORD).await;
        assert_eq!(response.status(), 303, "sign-in of {email} redirects");
        let to_code = response
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .is_some_and(|l| l.starts_with("/staff/login/code"));
        if to_code {
            response = self.enter_code(&client, email).await;
            assert_eq!(response.status(), 303, "the code of {email} signs in");
        }
        let csrf = self.csrf_of(&client).await;
        (client, csrf)
    }

    /// The CSRF token of `client`'s session, from a console page.
    pub async fn csrf_of(&self, client: &Client) -> String {
        let page = client
            .get(self.url("/staff/password"))
            .send()
            .await
            .expect("page");
        assert_eq!(page.status(), 200);
        csrf_in(&page.text().await.expect("html"))
    }

    /// Runs the background work that is waiting now, instead of waiting for
    /// the workers' next turn: the subscriber fan-out of new status changes.
    /// Returns how many messages it queued. Delivery itself keeps running
    /// in the server; [`TestApp::sent_mail`] waits for its result.
    pub async fn run_jobs(&self) -> usize {
        let public = plaster_server::status::public::PublicSettings::new(
            &self.address,
            chrono_tz::Europe::Stockholm,
            app::dto::Lang::Sv,
        );
        plaster_server::notify::fan_out(&self.store, &public, "plaster.local")
            .await
            .expect("fan-out")
    }

    /// (subject, text) of the mail in the embedded mailbox to `to`, oldest first.
    pub async fn sent_mail(&self, to: &str) -> Vec<(String, String)> {
        sqlx::query("SELECT subject, body_text FROM mailbox WHERE recipient = $1 ORDER BY id")
            .bind(to)
            .fetch_all(self.store.pool())
            .await
            .expect("mailbox")
            .iter()
            .map(|r| (r.get::<String, _>(0), r.get::<String, _>(1)))
            .collect()
    }
}

/// Everything mailed to `to`, subjects and texts, once it holds `expect`.
pub async fn mail_with(app: &TestApp, to: &str, expect: &[&str]) -> String {
    until(20, "the mail", || async {
        let all: String = app
            .sent_mail(to)
            .await
            .into_iter()
            .map(|(s, t)| format!("{s}\n{t}\n"))
            .collect();
        expect.iter().all(|e| all.contains(e)).then_some(all)
    })
    .await
}

/// Once every payout has left in a delivered batch, finance marks each
/// inbox batch not yet marked as paid by another channel and a second
/// finance member confirms it (runs.md §3): the inbox itself pays nobody.
/// Returns how many batches were settled so.
pub async fn inbox_paid_by_two(app: &TestApp) -> usize {
    let ids: Vec<String> = until(30, "every payout delivered to the inbox", || async {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM payouts p LEFT JOIN payout_batches b ON b.id = p.batch_id
             WHERE p.state <> 'settled' AND (b.state IS NULL OR b.state <> 'delivered')",
        )
        .fetch_one(app.store.pool())
        .await
        .expect("payouts");
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT batch_id FROM payout_inbox WHERE paid_asked_by IS NULL ORDER BY batch_id",
        )
        .fetch_all(app.store.pool())
        .await
        .expect("inbox");
        (waiting == 0).then_some(ids)
    })
    .await;
    let asker = app.staff(&[Role::Finance]).await;
    let confirmer = app.staff(&[Role::Finance]).await;
    for id in &ids {
        let path = format!("/staff/payouts/inbox/{id}/paid");
        let r = asker
            .post(
                &path,
                &[("action", "ask"), ("note", "bank file 2024-08-26")],
            )
            .await;
        assert_eq!(r.status(), 303, "{id} marked paid");
        let r = asker.post(&path, &[("action", "confirm")]).await;
        assert_eq!(
            r.status(),
            422,
            "{id}: the one who marked it does not confirm"
        );
        let r = confirmer.post(&path, &[("action", "confirm")]).await;
        assert_eq!(r.status(), 303, "{id} confirmed");
    }
    ids.len()
}

/// How many ledger transactions carry `id` (a claim's or a line's key): 0 or 1.
pub async fn ledger_count(app: &TestApp, id: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM ledger_transactions WHERE id = $1")
        .bind(id)
        .fetch_one(app.store.pool())
        .await
        .expect("count")
}

/// Opens a minor incident titled `title` (English), touching no component,
/// as the CLI would; its id. Every subscriber and webhook hears of it.
pub async fn open_minor(app: &TestApp, title: &str) -> String {
    use app::dto::{Impact, IncidentStage, Lang};
    use plaster_server::status::commands::{open_incident, OpenIncident};
    let opened = open_incident(
        &app.store,
        &Actor::Cli,
        &OpenIncident {
            impact: Impact::Minor,
            stage: IncidentStage::Investigating,
            titles: [(Lang::En, title.to_string())].into(),
            bodies: [(Lang::En, "Looking into it.".to_string())].into(),
            components: vec![],
        },
    )
    .await
    .expect("opened");
    opened.subject_id.as_str().to_string()
}
