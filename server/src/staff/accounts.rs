//! Staff accounts (admins): list, add with a one-time password, change
//! roles, disable. `plaster staff add` uses the same [`create_account`].

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::{Extension, Form};
use rand::distr::{Alphanumeric, SampleString};
use serde_json::json;

use crate::kernel::audit::Actor;
use crate::kernel::forms::field;
use crate::kernel::ids::new_id;
use crate::staff::error::StaffError;
use crate::staff::page::Words as _;
use crate::staff::page::{form_page, see_other, utc, Frame};
use crate::staff::password::{argon2_work, hash_password};
use crate::staff::roles::Roles;
use crate::staff::session::StaffSession;
use crate::state::MailDomain;
use crate::status::snapshot::SnapshotHolder;
use crate::store::audit;
use crate::store::staff::{insert_staff, NewStaffAccount, StaffAccountRecord, StaffRequest};
use crate::store::{Store, StoreError};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("email: {0:?} is not an e-mail address")]
    Email(String),
    #[error("email: an account for {0} exists already")]
    Exists(String),
    #[error("role: {0}")]
    Role(String),
    #[error("cannot hash the password: {0}")]
    Hash(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A checked, lower-cased e-mail address.
pub fn parse_email(raw: &str) -> Result<String, AccountError> {
    crate::notify::email::parse_address(raw).ok_or_else(|| AccountError::Email(raw.to_string()))
}

/// A random one-time password and its argon2id hash: the password is shown
/// once, only the hash is stored.
async fn one_time_password(store: &Store) -> Result<(String, String), AccountError> {
    let password = Alphanumeric.sample_string(&mut rand::rng(), 20);
    let to_hash = password.clone();
    let hashed = argon2_work(store.password_work(), move || hash_password(&to_hash))
        .await
        .map_err(|e| AccountError::Hash(e.to_string()))?
        .map_err(|e| AccountError::Hash(e.to_string()))?;
    Ok((password, hashed))
}

/// Where a one-time password is mailed and who is named as its sender.
pub struct Invite<'a> {
    pub public_url: &'a str,
    pub mail_domain: &'a str,
    pub page_name: &'a str,
    /// The admin who added the member or asked for the reset.
    pub by: &'a str,
}

/// Message ids of one-time password mail start so: the console's mail
/// pages never show their bodies.
pub const PASSWORD_MAIL_PREFIX: &str = "staff-password-";

#[derive(Template)]
#[template(path = "email/staff_password.txt", escape = "none")]
struct PasswordText<'a> {
    by: &'a str,
    reset: bool,
    page_name: &'a str,
    login_url: &'a str,
    email: &'a str,
    password: &'a str,
    waiting: &'a str,
}

/// The same words as HTML, with the subject as its title.
#[derive(Template)]
#[template(path = "email/staff_password.html")]
struct PasswordHtml<'a> {
    subject: &'a str,
    m: &'a PasswordText<'a>,
}

/// Queues the one-time password for its owner alone, in the caller's
/// transaction: the console never shows another person's secret.
async fn mail_password(
    tx: &mut sqlx::AnyConnection,
    invite: &Invite<'_>,
    email: &str,
    password: &str,
    reset: bool,
    waiting: &Roles,
) -> Result<(), AccountError> {
    let login_url = format!("{}/staff/login", invite.public_url.trim_end_matches('/'));
    let waiting = waiting.to_stored().replace(',', " and ");
    let subject = if reset {
        format!(
            "A new one-time password for the {} console",
            invite.page_name
        )
    } else {
        format!("Your account on the {} console", invite.page_name)
    };
    let render = |e: askama::Error| AccountError::Hash(format!("rendering the mail: {e}"));
    let words = PasswordText {
        by: invite.by,
        reset,
        page_name: invite.page_name,
        login_url: &login_url,
        email,
        password,
        waiting: &waiting,
    };
    let body_text = words.render().map_err(render)?;
    let body_html = PasswordHtml {
        subject: &subject,
        m: &words,
    }
    .render()
    .map_err(render)?;
    let now = chrono::Utc::now().timestamp_millis();
    crate::store::outbox::enqueue(
        tx,
        &crate::store::outbox::NewMessage {
            id: format!("{PASSWORD_MAIL_PREFIX}{}", new_id()),
            kind: "staff_password".into(),
            recipient: email.to_string(),
            subject,
            body_text,
            body_html,
            unsubscribe_url: None,
        },
        invite.mail_domain,
        now,
    )
    .await?;
    Ok(())
}

/// Checks a new account's address and roles.
async fn check_new(store: &Store, email: &str, roles: &Roles) -> Result<String, AccountError> {
    let email = parse_email(email)?;
    if roles.is_empty() {
        return Err(AccountError::Role(
            "give at least one of communications, support, finance, admin".into(),
        ));
    }
    if let Some(why) = roles.conflict() {
        return Err(AccountError::Role(why.into()));
    }
    if store.staff_for_sign_in(&email).await?.is_some() {
        return Err(AccountError::Exists(email));
    }
    Ok(email)
}

/// Inserts the account holding `roles` and audits it.
async fn insert_account(
    tx: &mut sqlx::AnyConnection,
    actor: &Actor,
    email: &str,
    hashed: String,
    roles: &Roles,
) -> Result<String, AccountError> {
    let id = new_id();
    insert_staff(
        tx,
        &NewStaffAccount {
            id: id.clone(),
            email: email.to_string(),
            password_hash: hashed,
            roles: roles.iter().map(|r| r.as_str().to_string()).collect(),
            created_at: chrono::Utc::now().timestamp_millis(),
        },
    )
    .await
    .map_err(|e| match e {
        // Two admins adding the same address at once.
        StoreError::Query(sqlx::Error::Database(d)) if d.is_unique_violation() => {
            AccountError::Exists(email.to_string())
        }
        other => AccountError::Store(other),
    })?;
    audit::append(
        tx,
        actor,
        "account.add",
        email,
        None,
        Some(&json!({ "roles": roles.to_stored() })),
    )
    .await?;
    Ok(id)
}

/// Creates an account with a random one-time password (returned once; only
/// its argon2id hash is stored). The first sign-in must replace it. This is
/// the operator's shell tool (`plaster staff add`, the first admin at
/// start): whoever runs it holds the database already. The console uses
/// [`invite_account`].
pub async fn create_account(
    store: &Store,
    actor: &Actor,
    email: &str,
    roles: &Roles,
) -> Result<(String, String), AccountError> {
    let email = check_new(store, email, roles).await?;
    let (password, hashed) = one_time_password(store).await?;
    let mut tx = store.begin_write().await.map_err(StoreError::from)?;
    let id = insert_account(&mut tx, actor, &email, hashed, roles).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok((id, password))
}

/// The console's way to add a member: the one-time password goes to them
/// by e-mail, and finance or admin waits for a second admin's approval
/// (the account starts with the other roles it was given).
pub async fn invite_account(
    store: &Store,
    session: &StaffSession,
    email: &str,
    roles: &Roles,
    invite: &Invite<'_>,
) -> Result<Invited, AccountError> {
    let email = check_new(store, email, roles).await?;
    let (password, hashed) = one_time_password(store).await?;
    let now_roles = roles.unprivileged();
    let waiting = Roles::new(roles.iter().filter(|r| r.is_privileged()).collect());
    let mut tx = store.begin_write().await.map_err(StoreError::from)?;
    let id = insert_account(&mut tx, &session.actor(), &email, hashed, &now_roles).await?;
    if !waiting.is_empty() {
        ask(&mut tx, session, &id, &email, "roles", roles).await?;
    }
    mail_password(&mut tx, invite, &email, &password, false, &waiting).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(Invited { email, waiting })
}

/// Who was added, and which roles wait for a second admin.
pub struct Invited {
    pub email: String,
    pub waiting: Roles,
}

/// Files a change that waits for a second admin, with its audit entry.
async fn ask(
    tx: &mut sqlx::AnyConnection,
    session: &StaffSession,
    account_id: &str,
    account_email: &str,
    action: &str,
    roles: &Roles,
) -> Result<(), AccountError> {
    let request = StaffRequest {
        id: new_id(),
        account_id: account_id.to_string(),
        account_email: account_email.to_string(),
        action: action.to_string(),
        roles: roles.to_stored(),
        requested_by: session.account.id.clone(),
        requested_email: session.account.email.clone(),
        requested_at: chrono::Utc::now().timestamp_millis(),
        state: "waiting".into(),
    };
    crate::store::staff::insert_request(tx, &request).await?;
    audit::append(
        tx,
        &session.actor(),
        "account.request",
        account_email,
        None,
        Some(&json!({ "request": request.id, "action": action, "roles": request.roles })),
    )
    .await?;
    Ok(())
}

pub struct AccountRow {
    pub id: String,
    pub email: String,
    pub roles: Roles,
    pub disabled: bool,
    pub must_change_password: bool,
    pub created: String,
    /// When the one-time password stops working, and whether it has.
    pub password_expires: Option<String>,
    pub password_expired: bool,
    pub two_factor: bool,
}

impl From<StaffAccountRecord> for AccountRow {
    fn from(a: StaffAccountRecord) -> Self {
        let now = chrono::Utc::now().timestamp_millis();
        let expires = a.password_expires_at.filter(|_| a.must_change_password);
        AccountRow {
            roles: Roles::from_stored(&a.roles),
            created: utc(a.created_at),
            password_expires: expires.map(utc),
            password_expired: expires.is_some_and(|at| now >= at),
            two_factor: a.totp_enabled,
            id: a.id,
            email: a.email,
            disabled: a.disabled,
            must_change_password: a.must_change_password,
        }
    }
}

/// A new one-time password for an account (lost password, expired
/// one-time password): returned once, valid 72 hours, the account's
/// sessions end. `plaster staff reset` uses it too.
pub async fn reset_password(
    store: &Store,
    actor: &Actor,
    account: &StaffAccountRecord,
    second_factor_too: bool,
) -> Result<String, AccountError> {
    let (password, hashed) = one_time_password(store).await?;
    let mut tx = store.begin_write().await.map_err(StoreError::from)?;
    reset_in(&mut tx, actor, account, hashed, second_factor_too).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(password)
}

/// The console's reset: the new one-time password goes to the member by
/// e-mail, in the reset's own transaction.
async fn reset_and_mail(
    store: &Store,
    actor: &Actor,
    account: &StaffAccountRecord,
    invite: &Invite<'_>,
    request: Option<(&str, &str)>,
) -> Result<bool, AccountError> {
    let (password, hashed) = one_time_password(store).await?;
    let mut tx = store.begin_write().await.map_err(StoreError::from)?;
    if let Some((id, by)) = request {
        let now = chrono::Utc::now().timestamp_millis();
        if !crate::store::staff::close_request(&mut tx, id, "approved", by, now).await? {
            return Ok(false);
        }
    }
    reset_in(&mut tx, actor, account, hashed, false).await?;
    mail_password(
        &mut tx,
        invite,
        &account.email,
        &password,
        true,
        &Roles::default(),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(true)
}

async fn reset_in(
    tx: &mut sqlx::AnyConnection,
    actor: &Actor,
    account: &StaffAccountRecord,
    hashed: String,
    second_factor_too: bool,
) -> Result<(), AccountError> {
    let now = chrono::Utc::now().timestamp_millis();
    crate::store::staff::set_password(tx, &account.id, &hashed, true, None, now).await?;
    audit::append(
        tx,
        actor,
        "account.password-reset",
        &account.email,
        None,
        None,
    )
    .await?;
    if second_factor_too {
        crate::staff::two_factor::reset_for(tx, actor, account).await?;
    }
    Ok(())
}

#[derive(Template)]
#[template(path = "staff/accounts.html")]
struct AccountsPage {
    frame: Frame,
    accounts: Vec<AccountRow>,
    requests: Vec<RequestRow>,
    all_roles: [crate::staff::roles::Role; 4],
    notice: Option<String>,
    error: Option<String>,
    back: &'static str,
}

/// A change waiting for a second admin, as the accounts page lists it.
struct RequestRow {
    id: String,
    what: String,
    asked: String,
    /// The viewer may approve it: not the one who asked, not the one it is about.
    may_approve: bool,
}

fn request_words(r: &StaffRequest) -> String {
    match r.action.as_str() {
        "roles" => format!("{} to hold {}", r.account_email, r.roles.replace(',', ", ")),
        "reset-password" => format!("a new one-time password for {}", r.account_email),
        _ => format!("reset the two-step sign-in of {}", r.account_email),
    }
}

async fn accounts_page(
    store: &Store,
    session: &StaffSession,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, StaffError> {
    let failed = error.is_some();
    let accounts = store
        .staff_accounts()
        .await?
        .into_iter()
        .map(AccountRow::from)
        .collect();
    let requests = crate::store::staff::waiting_requests(store)
        .await?
        .into_iter()
        .map(|r| RequestRow {
            what: request_words(&r),
            asked: format!("{}, {}", r.requested_email, utc(r.requested_at)),
            may_approve: r.requested_by != session.account.id && r.account_id != session.account.id,
            id: r.id,
        })
        .collect();
    Ok(form_page(
        &AccountsPage {
            frame: Frame::new(session, "/staff/accounts"),
            accounts,
            requests,
            all_roles: crate::staff::roles::Role::ALL,
            notice,
            error,
            back: "/staff/accounts",
        },
        failed,
    ))
}

pub async fn list(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
) -> Result<Response, StaffError> {
    accounts_page(&store, &session, None, None).await
}

/// Repeated `role` fields arrive as one string each.
fn roles_of(body: &[(String, String)]) -> Result<Roles, AccountError> {
    Roles::parse_all(
        body.iter()
            .filter(|(k, _)| k == "role")
            .map(|(_, v)| v.as_str()),
    )
    .map_err(|e| AccountError::Role(e.to_string()))
}

/// What a one-time password mail says and where it points.
fn invite<'a>(
    snapshot: &'a SnapshotHolder,
    mail: &'a MailDomain,
    page_name: &'a str,
    session: &'a StaffSession,
) -> Invite<'a> {
    Invite {
        public_url: snapshot.public_url(),
        mail_domain: &mail.0,
        page_name,
        by: &session.account.email,
    }
}

fn page_name(snapshot: &SnapshotHolder) -> String {
    use app::ports::StatusSource as _;
    snapshot
        .status_page(app::dto::Lang::En)
        .map_or_else(|| "Status".into(), |p| p.page_name.clone())
}

const WAITS: &str = "waits for a second admin's approval (below)";

pub async fn add(
    State(store): State<Store>,
    State(snapshot): State<Arc<SnapshotHolder>>,
    State(mail): State<MailDomain>,
    Extension(session): Extension<StaffSession>,
    Form(body): Form<Vec<(String, String)>>,
) -> Result<Response, StaffError> {
    let name = page_name(&snapshot);
    let result = match roles_of(&body) {
        Ok(roles) => {
            let invite = invite(&snapshot, &mail, &name, &session);
            invite_account(&store, &session, field(&body, "email"), &roles, &invite).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(invited) => {
            let mut notice = format!(
                "Added {}. Their one-time password went to that address by e-mail; it works once, within 72 hours.",
                invited.email
            );
            if !invited.waiting.is_empty() {
                notice.push_str(&format!(
                    " {} {WAITS}.",
                    invited.waiting.to_stored().replace(',', " and ")
                ));
            }
            accounts_page(&store, &session, Some(notice), None).await
        }
        Err(AccountError::Store(e)) => Err(e.into()),
        Err(e) => accounts_page(&store, &session, None, Some(e.to_string())).await,
    }
}

/// `action=roles` (with `role` fields), `action=disable`, `action=enable`,
/// `action=reset-password`, `action=reset-two-factor`. Granting finance or
/// admin, and resetting the sign-in of one who holds it, waits for a
/// second admin; nobody grants themselves a role.
pub async fn edit(
    State(store): State<Store>,
    State(snapshot): State<Arc<SnapshotHolder>>,
    State(mail): State<MailDomain>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
    Form(body): Form<Vec<(String, String)>>,
) -> Result<Response, StaffError> {
    let action = field(&body, "action").to_string();
    let Some(account) = store.staff_account(&id).await? else {
        return Err(StaffError::NotFound(format!("staff account {id}")));
    };
    let before = Roles::from_stored(&account.roles);
    let refuse = |m: &str| accounts_page(&store, &session, None, Some(m.to_string()));
    let mut tx = store.begin_write().await.map_err(StoreError::from)?;
    let mut notice = None;
    match action.as_str() {
        "roles" => {
            let roles = match roles_of(&body) {
                Ok(roles) if !roles.is_empty() => roles,
                Ok(_) => return refuse("role: keep at least one role, or disable the account").await,
                Err(e) => return refuse(&e.to_string()).await,
            };
            let own = account.id == session.account.id;
            if own && !roles.has(crate::staff::roles::Role::Admin) {
                return refuse("role: you cannot take admin away from yourself").await;
            }
            if own && roles.iter().any(|r| !before.has(r)) {
                return refuse("role: nobody grants themselves a role; another admin does").await;
            }
            if let Some(why) = roles.conflict() {
                return refuse(&format!("role: {why}")).await;
            }
            // Removals and plain roles now; an added finance or admin waits.
            let now_roles = Roles::new(
                roles
                    .iter()
                    .filter(|r| !r.is_privileged() || before.has(*r))
                    .collect(),
            );
            if now_roles != before {
                crate::store::staff::set_roles(&mut tx, &id, &now_roles.to_stored()).await?;
                audit::append(
                    &mut tx,
                    &session.actor(),
                    "account.roles",
                    &account.email,
                    Some(&json!({ "roles": account.roles })),
                    Some(&json!({ "roles": now_roles.to_stored() })),
                )
                .await?;
            }
            if roles.adds_privilege(&before) {
                ask(&mut tx, &session, &id, &account.email, "roles", &roles)
                    .await
                    .map_err(account_error)?;
                notice = Some(format!(
                    "{} holding {} {WAITS}.",
                    account.email,
                    roles.to_stored().replace(',', ", ")
                ));
            }
        }
        "reset-password" | "reset-two-factor" => {
            if account.id == session.account.id {
                return refuse("Change your own password on the Password page, and your two-step sign-in on its own page.").await;
            }
            if before.is_privileged() {
                ask(&mut tx, &session, &id, &account.email, &action, &Roles::default())
                    .await
                    .map_err(account_error)?;
                notice = Some(format!(
                    "Resetting {} (finance or admin) {WAITS}.",
                    account.email
                ));
            } else if action == "reset-two-factor" {
                crate::staff::two_factor::reset_for(&mut tx, &session.actor(), &account).await?;
            } else {
                drop(tx);
                let name = page_name(&snapshot);
                let invite = invite(&snapshot, &mail, &name, &session);
                reset_and_mail(&store, &session.actor(), &account, &invite, None)
                    .await
                    .map_err(account_error)?;
                return accounts_page(
                    &store,
                    &session,
                    Some(format!(
                        "A new one-time password went to {} by e-mail; their sessions ended.",
                        account.email
                    )),
                    None,
                )
                .await;
            }
        }
        "disable" | "enable" => {
            let disable = action == "disable";
            if disable && account.id == session.account.id {
                return refuse("You cannot disable your own account.").await;
            }
            crate::store::staff::set_disabled(&mut tx, &id, disable).await?;
            audit::append(
                &mut tx,
                &session.actor(),
                if disable {
                    "account.disable"
                } else {
                    "account.enable"
                },
                &account.email,
                Some(&json!({ "disabled": account.disabled })),
                Some(&json!({ "disabled": disable })),
            )
            .await?;
        }
        other => {
            return Err(StaffError::BadInput(format!(
                "action: {other:?} is not one of roles, disable, enable, reset-password, reset-two-factor"
            )))
        }
    }
    tx.commit().await.map_err(StoreError::from)?;
    match notice {
        Some(n) => accounts_page(&store, &session, Some(n), None).await,
        None => Ok(see_other("/staff/accounts")),
    }
}

fn account_error(e: AccountError) -> StaffError {
    match e {
        AccountError::Store(e) => e.into(),
        other => StaffError::Internal(other.to_string()),
    }
}

/// `POST /staff/accounts/requests/{id}` with `action=approve` (a second
/// admin: not the one who asked, not the one it is about) or
/// `action=decline` (any admin, the one who asked included).
pub async fn decide_request(
    State(store): State<Store>,
    State(snapshot): State<Arc<SnapshotHolder>>,
    State(mail): State<MailDomain>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
    Form(body): Form<Vec<(String, String)>>,
) -> Result<Response, StaffError> {
    let now = chrono::Utc::now().timestamp_millis();
    let me = session.account.id.clone();
    let refuse = |m: &str| accounts_page(&store, &session, None, Some(m.to_string()));
    let mut tx = store.begin_write().await.map_err(StoreError::from)?;
    let Some(request) = crate::store::staff::request(&mut tx, &id).await? else {
        return Err(StaffError::NotFound(format!("request {id}")));
    };
    if request.state != "waiting" {
        return refuse(&format!("That request was {} already.", request.state)).await;
    }
    let action = field(&body, "action");
    if action == "decline" {
        crate::store::staff::close_request(&mut tx, &id, "declined", &me, now).await?;
        audit::append(
            &mut tx,
            &session.actor(),
            "account.request.decline",
            &request.account_email,
            None,
            Some(&json!({ "request": id })),
        )
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        return Ok(see_other("/staff/accounts"));
    }
    if action != "approve" {
        return Err(StaffError::BadInput(format!(
            "action: {action:?} is not one of approve, decline"
        )));
    }
    if request.requested_by == me {
        return refuse("You asked for this change: another admin approves it (four eyes).").await;
    }
    if request.account_id == me {
        return refuse("This change is about your own account: another admin approves it.").await;
    }
    let Some(account) = store.staff_account(&request.account_id).await? else {
        return Err(StaffError::NotFound(format!(
            "staff account {}",
            request.account_id
        )));
    };
    let decided = json!({ "request": id, "asked_by": request.requested_email });
    match request.action.as_str() {
        "roles" => {
            let roles = Roles::from_stored(&request.roles);
            if let Some(why) = roles.conflict() {
                return refuse(&format!("role: {why}")).await;
            }
            if !crate::store::staff::close_request(&mut tx, &id, "approved", &me, now).await? {
                return refuse("Someone decided that request a moment ago.").await;
            }
            crate::store::staff::set_roles(&mut tx, &account.id, &roles.to_stored()).await?;
            audit::append(
                &mut tx,
                &session.actor(),
                "account.roles",
                &account.email,
                Some(&json!({ "roles": account.roles })),
                Some(&json!({ "roles": roles.to_stored(), "approved": decided })),
            )
            .await?;
        }
        "reset-two-factor" => {
            if !crate::store::staff::close_request(&mut tx, &id, "approved", &me, now).await? {
                return refuse("Someone decided that request a moment ago.").await;
            }
            crate::staff::two_factor::reset_for(&mut tx, &session.actor(), &account).await?;
        }
        _ => {
            drop(tx);
            let name = page_name(&snapshot);
            let invite = invite(&snapshot, &mail, &name, &session);
            if !reset_and_mail(
                &store,
                &session.actor(),
                &account,
                &invite,
                Some((&id, &me)),
            )
            .await
            .map_err(account_error)?
            {
                return refuse("Someone decided that request a moment ago.").await;
            }
            return Ok(see_other("/staff/accounts"));
        }
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(see_other("/staff/accounts"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_and_lower_cased() {
        assert_eq!(
            parse_email(" Ada@Example.SE ").expect("ok"),
            "ada@example.se"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@x.se",
            "a b@x.se",
            "a@x",
            "a@@x.se",
            "a@x.se,b@y.se",
        ] {
            assert!(parse_email(bad).is_err(), "{bad}");
        }
    }
}
