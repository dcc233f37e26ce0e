//! Filing a claim: checked field by field, stored with its screenshot,
//! and a receipt queued in the same transaction.

use app::dto::Lang;
use chrono::TimeZone;

use crate::claims::words::KINDS;
use crate::kernel::ids::new_id;
use crate::notify::email::{claim_notice, ClaimMail};
use crate::store::claims::{self as table, NewClaim};
use crate::store::outbox::{self, NewMessage};
use crate::store::{Store, StoreError};

/// Enough for a long story; more is a sign of abuse.
pub const MAX_DESCRIPTION_CHARS: usize = 4_000;
/// A phone screenshot is 1–3 MB.
pub const MAX_SCREENSHOT_BYTES: usize = 5 << 20;
/// Claims one customer may file a day.
pub const CLAIMS_PER_DAY: i64 = 5;
pub const RECEIPT_KIND: &str = "claim_receipt";

#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    /// `field` names the form field; the message is the customer's.
    #[error("{field}: {message}")]
    Field {
        field: &'static str,
        message: String,
    },
    #[error("you have filed {CLAIMS_PER_DAY} claims today; try again tomorrow")]
    TooMany,
    #[error("rendering the receipt: {0}")]
    Render(#[from] askama::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn field(field: &'static str, message: impl Into<String>) -> ClaimError {
    ClaimError::Field {
        field,
        message: message.into(),
    }
}

/// What the customer filled in.
#[derive(Debug, Clone, Default)]
pub struct ClaimForm {
    pub incident_id: String,
    pub kind: String,
    pub bet_id: String,
    /// `YYYY-MM-DDTHH:MM` in the page's time zone, or empty.
    pub happened_at: String,
    pub description: String,
    /// The uploaded file's bytes, if any.
    pub screenshot: Option<Vec<u8>>,
}

/// The image type of a screenshot by its first bytes (the name and the
/// browser's type are not trusted), or `None` for anything not an image.
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else {
        None
    }
}

/// Where the receipt's link points and what it is signed with.
pub struct ReceiptSettings<'a> {
    pub public_url: &'a str,
    pub mail_domain: &'a str,
    pub page_name: &'a str,
}

/// A checked claim's fields.
#[derive(Debug)]
struct Checked {
    kind: &'static str,
    bet_id: String,
    happened_at: Option<i64>,
    description: String,
    screenshot: Option<(&'static str, Vec<u8>)>,
}

fn check(form: ClaimForm, tz: chrono_tz::Tz) -> Result<Checked, ClaimError> {
    let kind = KINDS
        .into_iter()
        .find(|k| *k == form.kind)
        .ok_or_else(|| field("kind", "choose what happened"))?;
    let bet_id = form.bet_id.trim().to_string();
    if bet_id.chars().count() > 64 || bet_id.chars().any(char::is_control) {
        return Err(field(
            "bet_id",
            "a bet id is at most 64 printable characters",
        ));
    }
    let happened_at = match form.happened_at.trim() {
        "" => None,
        t => {
            let naive = chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M")
                .map_err(|_| field("happened_at", "give the date and time as 2024-08-24 17:45"))?;
            let local = tz.from_local_datetime(&naive).earliest().ok_or_else(|| {
                field(
                    "happened_at",
                    "that time does not exist in the page's time zone",
                )
            })?;
            Some(local.timestamp_millis())
        }
    };
    let description = form.description.trim().to_string();
    if description.is_empty() {
        return Err(field("description", "tell us what happened"));
    }
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(field(
            "description",
            format!("at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    let screenshot = match form.screenshot {
        None => None,
        Some(bytes) if bytes.is_empty() => None,
        Some(bytes) if bytes.len() > MAX_SCREENSHOT_BYTES => {
            return Err(field(
                "screenshot",
                format!("at most {} MB", MAX_SCREENSHOT_BYTES >> 20),
            ))
        }
        Some(bytes) => {
            let kind = image_type(&bytes)
                .ok_or_else(|| field("screenshot", "only a picture (PNG, JPEG, WebP or GIF)"))?;
            Some((kind, bytes))
        }
    };
    Ok(Checked {
        kind,
        bet_id,
        happened_at,
        description,
        screenshot,
    })
}

/// Files a claim for `customer_id` about a public incident (the caller has
/// checked it exists) and queues the receipt; returns the claim's id.
#[allow(clippy::too_many_arguments)]
pub async fn file(
    store: &Store,
    customer_id: &str,
    email: &str,
    lang: Lang,
    form: ClaimForm,
    tz: chrono_tz::Tz,
    settings: &ReceiptSettings<'_>,
) -> Result<String, ClaimError> {
    let incident_id = form.incident_id.trim().to_string();
    let c = check(form, tz)?;
    let now = chrono::Utc::now().timestamp_millis();
    let mut tx = store.begin_write().await.map_err(StoreError::from)?;
    let today: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM claims WHERE customer_id = $1 AND created_at >= $2",
    )
    .bind(customer_id)
    .bind(now - 24 * 3_600_000)
    .fetch_one(&mut *tx)
    .await
    .map_err(StoreError::from)?;
    if today >= CLAIMS_PER_DAY {
        return Err(ClaimError::TooMany);
    }
    let id = new_id();
    table::insert(
        &mut tx,
        NewClaim {
            id: &id,
            customer_id,
            incident_id: &incident_id,
            kind: c.kind,
            bet_id: &c.bet_id,
            happened_at: c.happened_at,
            description: &c.description,
            screenshot: c.screenshot,
            now,
        },
    )
    .await?;
    let mail = claim_notice(&ClaimMail {
        lang,
        page_name: settings.page_name,
        reference: &id,
        decision: None,
        claim_url: &format!("{}/me", settings.public_url),
    })?;
    outbox::enqueue(
        &mut tx,
        &NewMessage {
            id: format!("claim-received-{id}"),
            kind: RECEIPT_KIND.into(),
            recipient: email.to_string(),
            subject: mail.subject,
            body_text: mail.text,
            body_html: mail.html,
            unsubscribe_url: None,
        },
        settings.mail_domain,
        now,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pictures_pass_as_screenshots() {
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(image_type(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(image_type(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(image_type(b"<svg onload=alert(1)>"), None);
        assert_eq!(image_type(b"%PDF-1.7"), None);
    }

    #[test]
    fn fields_are_checked_and_named() {
        let tz = chrono_tz::Europe::Stockholm;
        let ok = ClaimForm {
            incident_id: "i".into(),
            kind: "missed_bet".into(),
            bet_id: "b-1".into(),
            happened_at: "2024-08-24T17:45".into(),
            description: "Money gone".into(),
            screenshot: None,
        };
        let c = check(ok.clone(), tz).expect("valid");
        // 17:45 in Stockholm in August is 15:45 UTC.
        assert_eq!(c.happened_at, Some(1_724_514_300_000));
        for (form, named) in [
            (
                ClaimForm {
                    kind: "x".into(),
                    ..ok.clone()
                },
                "kind",
            ),
            (
                ClaimForm {
                    happened_at: "yesterday".into(),
                    ..ok.clone()
                },
                "happened_at",
            ),
            (
                ClaimForm {
                    description: " ".into(),
                    ..ok.clone()
                },
                "description",
            ),
            (
                ClaimForm {
                    screenshot: Some(b"MZ\x90".to_vec()),
                    ..ok.clone()
                },
                "screenshot",
            ),
            (
                ClaimForm {
                    bet_id: "b".repeat(65),
                    ..ok
                },
                "bet_id",
            ),
        ] {
            match check(form, tz) {
                Err(ClaimError::Field { field, .. }) => assert_eq!(field, named),
                other => panic!("{named}: {other:?}"),
            }
        }
    }
}
