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
use crate::store::audit;
use crate::store::staff::{insert_staff, NewStaffAccount, StaffAccountRecord};
use crate::store::{Store, StoreError};

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

/// Creates an account with a random one-time password (returned once; only
/// its argon2id hash is stored). The first sign-in must replace it.
pub async fn create_account(
    store: &Store,
    actor: &Actor,
    email: &str,
    roles: &Roles,
) -> Result<(String, String), AccountError> {
    let email = parse_email(email)?;
    if roles.is_empty() {
        return Err(AccountError::Role(
            "give at least one of communications, support, finance, admin".into(),
        ));
    }
    if store.staff_for_sign_in(&email).await?.is_some() {
        return Err(AccountError::Exists(email));
    }
    let (password, hashed) = one_time_password(store).await?;
    let id = new_id();
    let mut tx = store.begin_write().await.map_err(StoreError::from)?;
    insert_staff(
        &mut tx,
        &NewStaffAccount {
            id: id.clone(),
            email: email.clone(),
            password_hash: hashed,
            roles: roles.iter().map(|r| r.as_str().to_string()).collect(),
            created_at: chrono::Utc::now().timestamp_millis(),
        },
    )
    .await
    .map_err(|e| match e {
        // Two admins adding the same address at once.
        StoreError::Query(sqlx::Error::Database(d)) if d.is_unique_violation() => {
            AccountError::Exists(email.clone())
        }
        other => AccountError::Store(other),
    })?;
    audit::append(
        &mut tx,
        actor,
        "account.add",
        &email,
        None,
        Some(&json!({ "roles": roles.to_stored() })),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok((id, password))
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
    let now = chrono::Utc::now().timestamp_millis();
    let mut tx = store.begin_write().await.map_err(StoreError::from)?;
    crate::store::staff::set_password(&mut tx, &account.id, &hashed, true, None, now).await?;
    audit::append(
        &mut tx,
        actor,
        "account.password-reset",
        &account.email,
        None,
        None,
    )
    .await?;
    if second_factor_too {
        crate::staff::two_factor::reset_for(&mut tx, actor, account).await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(password)
}

#[derive(Template)]
#[template(path = "staff/accounts.html")]
struct AccountsPage {
    frame: Frame,
    accounts: Vec<AccountRow>,
    all_roles: [crate::staff::roles::Role; 4],
    created: Option<(String, String)>,
    error: Option<String>,
    back: &'static str,
}

async fn accounts_page(
    store: &Store,
    session: &StaffSession,
    created: Option<(String, String)>,
    error: Option<String>,
) -> Result<Response, StaffError> {
    let failed = error.is_some();
    let accounts = store
        .staff_accounts()
        .await?
        .into_iter()
        .map(AccountRow::from)
        .collect();
    Ok(form_page(
        &AccountsPage {
            frame: Frame::new(session, "/staff/accounts"),
            accounts,
            all_roles: crate::staff::roles::Role::ALL,
            created,
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

pub async fn add(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Form(body): Form<Vec<(String, String)>>,
) -> Result<Response, StaffError> {
    let result = match roles_of(&body) {
        Ok(roles) => create_account(&store, &session.actor(), field(&body, "email"), &roles).await,
        Err(e) => Err(e),
    };
    match result {
        Ok((_, password)) => {
            let email = parse_email(field(&body, "email")).unwrap_or_default();
            accounts_page(&store, &session, Some((email, password)), None).await
        }
        Err(AccountError::Store(e)) => Err(e.into()),
        Err(e) => accounts_page(&store, &session, None, Some(e.to_string())).await,
    }
}

/// `action=roles` (with `role` fields), `action=disable`, `action=enable`.
pub async fn edit(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
    Form(body): Form<Vec<(String, String)>>,
) -> Result<Response, StaffError> {
    let action = field(&body, "action").to_string();
    let Some(account) = store.staff_account(&id).await? else {
        return Err(StaffError::NotFound(format!("staff account {id}")));
    };
    let mut tx = store.begin_write().await.map_err(StoreError::from)?;
    match action.as_str() {
        "roles" => {
            let roles = match roles_of(&body) {
                Ok(roles) if !roles.is_empty() => roles,
                Ok(_) => {
                    return accounts_page(
                        &store,
                        &session,
                        None,
                        Some("role: keep at least one role, or disable the account".into()),
                    )
                    .await
                }
                Err(e) => return accounts_page(&store, &session, None, Some(e.to_string())).await,
            };
            if account.id == session.account.id && !roles.has(crate::staff::roles::Role::Admin) {
                return accounts_page(
                    &store,
                    &session,
                    None,
                    Some("role: you cannot take admin away from yourself".into()),
                )
                .await;
            }
            crate::store::staff::set_roles(&mut tx, &id, &roles.to_stored()).await?;
            audit::append(
                &mut tx,
                &session.actor(),
                "account.roles",
                &account.email,
                Some(&json!({ "roles": account.roles })),
                Some(&json!({ "roles": roles.to_stored() })),
            )
            .await?;
        }
        "reset-password" | "reset-two-factor" => {
            drop(tx);
            if account.id == session.account.id {
                return accounts_page(
                    &store,
                    &session,
                    None,
                    Some("Change your own password on the Password page, and your two-step sign-in on its own page.".into()),
                )
                .await;
            }
            if action == "reset-two-factor" {
                let mut tx = store.begin_write().await.map_err(StoreError::from)?;
                crate::staff::two_factor::reset_for(&mut tx, &session.actor(), &account).await?;
                tx.commit().await.map_err(StoreError::from)?;
                return Ok(see_other("/staff/accounts"));
            }
            let password = match reset_password(&store, &session.actor(), &account, false).await {
                Ok(password) => password,
                Err(AccountError::Store(e)) => return Err(e.into()),
                Err(e) => return Err(StaffError::Internal(e.to_string())),
            };
            return accounts_page(&store, &session, Some((account.email, password)), None).await;
        }
        "disable" | "enable" => {
            let disable = action == "disable";
            if disable && account.id == session.account.id {
                return accounts_page(
                    &store,
                    &session,
                    None,
                    Some("You cannot disable your own account.".into()),
                )
                .await;
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
