//! Password hashing (argon2id) and the first admin account.

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Argon2, PasswordHash, PasswordVerifier};
use rand::distr::{Alphanumeric, SampleString};

use crate::kernel::ids::new_id;
use crate::store::staff::NewStaffAccount;
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("cannot hash password: {0}")]
    Hash(String),
    #[error(transparent)]
    Store(#[from] StoreError),
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

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let hash = hash_password("correct horse").expect("hash");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("x", "not a hash"));
    }
}
