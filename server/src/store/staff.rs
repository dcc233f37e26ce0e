//! Staff accounts: just enough for the first admin; the staff console grows it.

use sqlx::Row;

use super::{Store, StoreError};

#[derive(Debug, Clone, PartialEq)]
pub struct NewStaffAccount {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub roles: Vec<String>,
    pub created_at: i64,
}

impl Store {
    pub async fn count_staff(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) FROM staff_accounts")
            .fetch_one(self.pool())
            .await?
            .try_get(0)?)
    }

    pub async fn insert_staff(&self, account: &NewStaffAccount) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO staff_accounts (id, email, password_hash, roles, must_change_password, created_at)
             VALUES ($1, $2, $3, $4, 1, $5)",
        )
        .bind(&account.id)
        .bind(&account.email)
        .bind(&account.password_hash)
        .bind(account.roles.join(","))
        .bind(account.created_at)
        .execute(self.pool())
        .await?;
        Ok(())
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
}
