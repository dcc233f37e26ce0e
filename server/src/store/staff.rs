//! Staff accounts, their sessions and failed sign-ins.

use sqlx::{AnyConnection, Row};

use crate::store::{Store, StoreError};

#[derive(Debug, Clone, PartialEq)]
pub struct NewStaffAccount {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub roles: Vec<String>,
    pub created_at: i64,
}

/// An account as the console sees it (never with its password hash).
#[derive(Debug, Clone, PartialEq)]
pub struct StaffAccountRecord {
    pub id: String,
    pub email: String,
    /// Comma-separated role names, as stored.
    pub roles: String,
    pub must_change_password: bool,
    pub disabled: bool,
    pub created_at: i64,
    /// A one-time password stops working at this time (ms); `None` once
    /// the member chose their own.
    pub password_expires_at: Option<i64>,
    /// Signs in with a TOTP code after the password.
    pub totp_enabled: bool,
}

/// A live session joined with its account.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub account: StaffAccountRecord,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    /// The password was right; the second factor has not come yet.
    pub awaiting_code: bool,
    pub stepped_up_at: Option<i64>,
}

/// A member's TOTP state: the confirmed secret, the newest step used, and
/// a secret being enrolled.
#[derive(Debug, Clone, Default)]
pub struct TotpRecord {
    pub secret: Option<String>,
    pub last_step: Option<i64>,
    pub pending_secret: Option<String>,
    pub enabled_at: Option<i64>,
    pub recovery_codes_left: i64,
}

const ACCOUNT_COLUMNS: &str = "a.id, a.email, a.roles, a.must_change_password, a.disabled, a.created_at,
     a.password_expires_at, CAST(CASE WHEN a.totp_secret IS NULL THEN 0 ELSE 1 END AS BIGINT) AS totp_on";

/// How long a one-time password opens the password page.
pub const ONE_TIME_PASSWORD_MS: i64 = 72 * 3_600_000;

fn account(row: &sqlx::any::AnyRow) -> Result<StaffAccountRecord, StoreError> {
    Ok(StaffAccountRecord {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        roles: row.try_get("roles")?,
        must_change_password: row.try_get::<i64, _>("must_change_password")? != 0,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
        created_at: row.try_get("created_at")?,
        password_expires_at: row.try_get("password_expires_at")?,
        totp_enabled: row.try_get::<i64, _>("totp_on")? != 0,
    })
}

impl Store {
    pub async fn count_staff(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) FROM staff_accounts")
            .fetch_one(self.pool())
            .await?
            .try_get(0)?)
    }

    pub async fn insert_staff(&self, account: &NewStaffAccount) -> Result<(), StoreError> {
        let mut conn = self.pool().acquire().await?;
        insert_staff(&mut conn, account).await
    }

    pub async fn staff_password_hash(&self, email: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query("SELECT password_hash FROM staff_accounts WHERE email = $1")
                .bind(email)
                .fetch_optional(self.pool())
                .await?
                .map(|row| row.try_get(0))
                .transpose()?,
        )
    }

    /// The account with this e-mail and its password hash, for signing in.
    pub async fn staff_for_sign_in(
        &self,
        email: &str,
    ) -> Result<Option<(StaffAccountRecord, String)>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS}, a.password_hash FROM staff_accounts a WHERE a.email = $1"
        ))
        .bind(email)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| Ok((account(&row)?, row.try_get("password_hash")?)))
            .transpose()
    }

    pub async fn staff_account(&self, id: &str) -> Result<Option<StaffAccountRecord>, StoreError> {
        sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM staff_accounts a WHERE a.id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .map(|row| account(&row))
        .transpose()
    }

    pub async fn staff_accounts(&self) -> Result<Vec<StaffAccountRecord>, StoreError> {
        sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM staff_accounts a ORDER BY a.email"
        ))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(account)
        .collect()
    }

    /// The session for a token hash, if it exists (expiry is the caller's call).
    pub async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS}, s.csrf_token, s.created_at AS s_created,
                    s.last_seen_at, s.expires_at, s.awaiting_code, s.stepped_up_at
             FROM staff_sessions s JOIN staff_accounts a ON a.id = s.account_id
             WHERE s.token_hash = $1"
        ))
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            Ok(SessionRecord {
                account: account(&row)?,
                csrf_token: row.try_get("csrf_token")?,
                created_at: row.try_get("s_created")?,
                last_seen_at: row.try_get("last_seen_at")?,
                expires_at: row.try_get("expires_at")?,
                awaiting_code: row.try_get::<i64, _>("awaiting_code")? != 0,
                stepped_up_at: row.try_get("stepped_up_at")?,
            })
        })
        .transpose()
    }

    pub async fn insert_session(
        &self,
        token_hash: &str,
        account_id: &str,
        csrf_token: &str,
        now: i64,
        expires_at: i64,
        awaiting_code: bool,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO staff_sessions (token_hash, account_id, csrf_token, created_at, last_seen_at, expires_at, awaiting_code)
             VALUES ($1, $2, $3, $4, $4, $5, $6)",
        )
        .bind(token_hash)
        .bind(account_id)
        .bind(csrf_token)
        .bind(now)
        .bind(expires_at)
        .bind(i64::from(awaiting_code))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn touch_session(&self, token_hash: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE staff_sessions SET last_seen_at = $2 WHERE token_hash = $1")
            .bind(token_hash)
            .bind(now)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The member confirmed it was them again, now.
    pub async fn step_up_session(&self, token_hash: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE staff_sessions SET stepped_up_at = $2 WHERE token_hash = $1")
            .bind(token_hash)
            .bind(now)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM staff_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// One sign-in attempt, counted and recorded under each of `keys` in one
    /// step, so parallel attempts cannot slip past a limit between the
    /// count and the record. `Ok(Err(i))` when `keys[i]` already had its
    /// maximum since `since_ms` (nothing is recorded then); `Ok(Ok(ids))`
    /// are the recorded rows, which a successful attempt takes back.
    pub async fn take_attempt(
        &self,
        keys: &[(&str, i64)],
        since_ms: i64,
        now_ms: i64,
    ) -> Result<Result<Vec<i64>, usize>, StoreError> {
        let mut tx = self.begin_write().await?;
        let names: Vec<&str> = keys.iter().map(|(k, _)| *k).collect();
        self.lock_keys(&mut tx, &names).await?;
        for (i, (key, max)) in keys.iter().enumerate() {
            let n: i64 = sqlx::query(
                "SELECT COUNT(*) FROM login_failures WHERE key = $1 AND failed_at >= $2",
            )
            .bind(*key)
            .bind(since_ms)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            if n >= *max {
                return Ok(Err(i));
            }
        }
        let mut ids = Vec::with_capacity(keys.len());
        for (key, _) in keys {
            ids.push(
                sqlx::query(
                    "INSERT INTO login_failures (key, failed_at) VALUES ($1, $2) RETURNING id",
                )
                .bind(*key)
                .bind(now_ms)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?,
            );
        }
        tx.commit().await?;
        Ok(Ok(ids))
    }

    /// Takes back attempts recorded by [`Store::take_attempt`].
    pub async fn totp(&self, account_id: &str) -> Result<TotpRecord, StoreError> {
        let row = sqlx::query(
            "SELECT a.totp_secret, a.totp_last_step, a.totp_pending_secret, a.totp_enabled_at,
                    (SELECT COUNT(*) FROM staff_recovery_codes r
                     WHERE r.account_id = a.id AND r.used_at IS NULL) AS codes_left
             FROM staff_accounts a WHERE a.id = $1",
        )
        .bind(account_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            return Ok(TotpRecord::default());
        };
        Ok(TotpRecord {
            secret: row.try_get("totp_secret")?,
            last_step: row.try_get("totp_last_step")?,
            pending_secret: row.try_get("totp_pending_secret")?,
            enabled_at: row.try_get("totp_enabled_at")?,
            recovery_codes_left: row.try_get("codes_left")?,
        })
    }

    /// Marks a TOTP step used; false when it (or a newer one) already was,
    /// so two requests with one code cannot both pass.
    pub async fn use_totp_step(&self, account_id: &str, step: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE staff_accounts SET totp_last_step = $2
             WHERE id = $1 AND totp_secret IS NOT NULL
               AND (totp_last_step IS NULL OR totp_last_step < $2)",
        )
        .bind(account_id)
        .bind(step)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Uses up a recovery code; false when it is not one of the account's
    /// unused codes.
    pub async fn use_recovery_code(
        &self,
        account_id: &str,
        code_hash: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE staff_recovery_codes SET used_at = $3
             WHERE account_id = $1 AND code_hash = $2 AND used_at IS NULL",
        )
        .bind(account_id)
        .bind(code_hash)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The secret shown on the enrolment page until a code confirms it.
    pub async fn set_totp_pending(
        &self,
        account_id: &str,
        secret: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE staff_accounts SET totp_pending_secret = $2 WHERE id = $1")
            .bind(account_id)
            .bind(secret)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn forget_attempts(&self, ids: &[i64]) -> Result<(), StoreError> {
        for id in ids {
            sqlx::query("DELETE FROM login_failures WHERE id = $1")
                .bind(*id)
                .execute(self.pool())
                .await?;
        }
        Ok(())
    }
}

pub async fn insert_staff(
    conn: &mut AnyConnection,
    account: &NewStaffAccount,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO staff_accounts (id, email, password_hash, roles, must_change_password, created_at, password_expires_at)
         VALUES ($1, $2, $3, $4, 1, $5, $6)",
    )
    .bind(&account.id)
    .bind(&account.email)
    .bind(&account.password_hash)
    .bind(account.roles.join(","))
    .bind(account.created_at)
    .bind(account.created_at + ONE_TIME_PASSWORD_MS)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Sets a new password hash and ends every session of the account but `keep`.
/// A password that must be changed (an admin's reset) is a one-time
/// password and expires like one.
pub async fn set_password(
    conn: &mut AnyConnection,
    account_id: &str,
    password_hash: &str,
    must_change: bool,
    keep_session: Option<&str>,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE staff_accounts SET password_hash = $2, must_change_password = $3, password_changed_at = $4,
                password_expires_at = $5
         WHERE id = $1",
    )
    .bind(account_id)
    .bind(password_hash)
    .bind(i64::from(must_change))
    .bind(now)
    .bind(must_change.then_some(now + ONE_TIME_PASSWORD_MS))
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM staff_sessions WHERE account_id = $1 AND token_hash <> $2")
        .bind(account_id)
        .bind(keep_session.unwrap_or(""))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn set_roles(
    conn: &mut AnyConnection,
    account_id: &str,
    roles: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE staff_accounts SET roles = $2 WHERE id = $1")
        .bind(account_id)
        .bind(roles)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Disabling also ends the account's sessions at once.
pub async fn set_disabled(
    conn: &mut AnyConnection,
    account_id: &str,
    disabled: bool,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE staff_accounts SET disabled = $2 WHERE id = $1")
        .bind(account_id)
        .bind(i64::from(disabled))
        .execute(&mut *conn)
        .await?;
    if disabled {
        sqlx::query("DELETE FROM staff_sessions WHERE account_id = $1")
            .bind(account_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Turns TOTP on with a confirmed secret (its first code's step already
/// used) and new recovery codes.
pub async fn enable_totp(
    conn: &mut AnyConnection,
    account_id: &str,
    secret: &str,
    step: i64,
    code_hashes: &[String],
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE staff_accounts SET totp_secret = $2, totp_last_step = $3,
                totp_pending_secret = NULL, totp_enabled_at = $4
         WHERE id = $1",
    )
    .bind(account_id)
    .bind(secret)
    .bind(step)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    set_recovery_codes(conn, account_id, code_hashes).await
}

/// Replaces the account's recovery codes (the old ones stop working).
pub async fn set_recovery_codes(
    conn: &mut AnyConnection,
    account_id: &str,
    code_hashes: &[String],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM staff_recovery_codes WHERE account_id = $1")
        .bind(account_id)
        .execute(&mut *conn)
        .await?;
    for hash in code_hashes {
        sqlx::query("INSERT INTO staff_recovery_codes (account_id, code_hash) VALUES ($1, $2)")
            .bind(account_id)
            .bind(hash)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Turns TOTP off (by the member, or an admin for a lost phone) and ends
/// the account's other sessions.
pub async fn disable_totp(
    conn: &mut AnyConnection,
    account_id: &str,
    keep_session: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE staff_accounts SET totp_secret = NULL, totp_last_step = NULL,
                totp_pending_secret = NULL, totp_enabled_at = NULL
         WHERE id = $1",
    )
    .bind(account_id)
    .execute(&mut *conn)
    .await?;
    set_recovery_codes(conn, account_id, &[]).await?;
    sqlx::query("DELETE FROM staff_sessions WHERE account_id = $1 AND token_hash <> $2")
        .bind(account_id)
        .bind(keep_session.unwrap_or(""))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A change to a finance or admin account that waits for a second admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRequest {
    pub id: String,
    pub account_id: String,
    pub account_email: String,
    pub action: String,
    pub roles: String,
    pub requested_by: String,
    pub requested_email: String,
    pub requested_at: i64,
    pub state: String,
}

const REQUEST_COLUMNS: &str = "id, account_id, account_email, action, roles, requested_by, \
     requested_email, requested_at, state";

fn request_row(r: &sqlx::any::AnyRow) -> Result<StaffRequest, StoreError> {
    Ok(StaffRequest {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        account_email: r.try_get("account_email")?,
        action: r.try_get("action")?,
        roles: r.try_get("roles")?,
        requested_by: r.try_get("requested_by")?,
        requested_email: r.try_get("requested_email")?,
        requested_at: r.try_get("requested_at")?,
        state: r.try_get("state")?,
    })
}

pub async fn insert_request(conn: &mut AnyConnection, r: &StaffRequest) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO staff_requests ({REQUEST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(&r.id)
    .bind(&r.account_id)
    .bind(&r.account_email)
    .bind(&r.action)
    .bind(&r.roles)
    .bind(&r.requested_by)
    .bind(&r.requested_email)
    .bind(r.requested_at)
    .bind(&r.state)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Requests waiting for a second admin, oldest first.
pub async fn waiting_requests(store: &Store) -> Result<Vec<StaffRequest>, StoreError> {
    sqlx::query(&format!(
        "SELECT {REQUEST_COLUMNS} FROM staff_requests WHERE state = 'waiting' ORDER BY requested_at, id"
    ))
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(request_row)
    .collect()
}

pub async fn request(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<StaffRequest>, StoreError> {
    sqlx::query(&format!(
        "SELECT {REQUEST_COLUMNS} FROM staff_requests WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .map(|r| request_row(&r))
    .transpose()
}

/// Closes a waiting request; false when someone closed it first.
pub async fn close_request(
    conn: &mut AnyConnection,
    id: &str,
    state: &str,
    by: &str,
    now: i64,
) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "UPDATE staff_requests SET state = $2, decided_by = $3, decided_at = $4
         WHERE id = $1 AND state = 'waiting'",
    )
    .bind(id)
    .bind(state)
    .bind(by)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}
