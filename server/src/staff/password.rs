//! Password hashing (argon2id) and the first admin account.

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Argon2, PasswordHash, PasswordVerifier};
use rand::distr::{Alphanumeric, SampleString};

use crate::kernel::ids::new_id;
use crate::kernel::slots::WorkSlots;
use crate::store::staff::NewStaffAccount;
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("cannot hash password: {0}")]
    Hash(String),
    #[error("Too many sign-ins are being checked at once. Try again in a moment.")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Runs password work (hashing, verifying) on the blocking pool, in
/// `slots` (the store's [`crate::store::Store::password_work`]: a couple at
/// once, a few dozen in line); `Busy` at once when the line is full.
pub async fn argon2_work<T: Send + 'static>(
    slots: &WorkSlots,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AuthError> {
    let slot = slots.enter().await.ok_or(AuthError::Busy)?;
    // The slot goes with the work: a request abandoned mid-way (timed out)
    // frees it only when the hashing really ends.
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        work()
    })
    .await
    .map_err(|e| AuthError::Hash(e.to_string()))
}

pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| AuthError::Hash(e.to_string()))?;
    // Argon2::default() is argon2id with the RFC 9106 second recommended parameters.
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

pub fn verify_password(password: &str, stored_hash: &str) -> bool {
    PasswordHash::new(stored_hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Credentials shown once, to whoever started Plaster for the first time.
#[derive(Clone)]
pub struct FirstAdmin {
    pub email: String,
    pub one_time_password: String,
}

impl std::fmt::Debug for FirstAdmin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirstAdmin")
            .field("email", &self.email)
            .field("one_time_password", &"***")
            .finish()
    }
}

/// Creates the first admin with a random one-time password when there is no
/// staff account at all; never a fixed default.
pub async fn ensure_first_admin(
    store: &Store,
    email: &str,
) -> Result<Option<FirstAdmin>, AuthError> {
    if store.count_staff().await? > 0 {
        return Ok(None);
    }
    let password = Alphanumeric.sample_string(&mut rand::rng(), 20);
    store
        .insert_staff(&NewStaffAccount {
            id: new_id(),
            email: email.to_string(),
            password_hash: hash_password(&password)?,
            // Admin for accounts and components, communications so the demo can run incidents.
            roles: vec!["communications".to_string(), "admin".to_string()],
            created_at: chrono::Utc::now().timestamp_millis(),
        })
        .await?;
    Ok(Some(FirstAdmin {
        email: email.to_string(),
        one_time_password: password,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn password_work_runs_at_most_its_slots_at_once() {
        use crate::kernel::slots::{PASSWORD_RUNNING, PASSWORD_WAITING};
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let slots = WorkSlots::for_passwords();
        let tasks: Vec<_> = (0..PASSWORD_RUNNING + PASSWORD_WAITING)
            .map(|_| {
                let (now, most, slots) = (now.clone(), most.clone(), slots.clone());
                tokio::spawn(async move {
                    argon2_work(&slots, move || {
                        let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(n, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(30));
                        now.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("joined").expect("a place in line");
        }
        assert_eq!(most.load(Ordering::SeqCst), PASSWORD_RUNNING);
    }

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let hash = hash_password("correct horse").expect("hash");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("x", "not a hash"));
    }
}
