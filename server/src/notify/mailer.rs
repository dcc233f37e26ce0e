//! Where messages go: an SMTP server through lettre (pooled connections,
//! plain, STARTTLS or TLS), or, with no SMTP configured, Plaster's own
//! mailbox table, so the demo's mail can be read in the staff console.

use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{SmtpSettings, SmtpTls};
use crate::store::mailbox;
use crate::store::outbox::Outgoing;
use crate::store::{Store, StoreError};

/// Messages of a batch in flight at once. lettre writes a message's end
/// marker separately, so each message waits for the receiver's delayed
/// ACK (about 40 ms); overlapping sends on pooled connections hides that.
pub const SEND_CONCURRENCY: usize = 16;

/// The sender used for the embedded mailbox and when SMTP sets none.
pub const DEFAULT_FROM: &str = "Plaster <status@plaster.local>";

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("PLASTER_SMTP_FROM: {0}")]
    From(String),
    #[error("SMTP settings: {0}")]
    Smtp(String),
    #[error("recipient {0:?} is not an e-mail address")]
    Recipient(String),
    #[error("building the message: {0}")]
    Build(String),
    #[error("SMTP: {0}")]
    Send(String),
    #[error("webhook: {0}")]
    Webhook(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl MailError {
    /// Retrying cannot help (a malformed address or message).
    pub fn is_permanent(&self) -> bool {
        matches!(self, MailError::Recipient(_) | MailError::Build(_))
    }
}

pub enum Mailer {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
    /// No SMTP server: delivered into the `mailbox` table.
    Embedded { store: Store, from: Mailbox },
}

impl Mailer {
    pub fn new(smtp: Option<&SmtpSettings>, store: &Store) -> Result<Mailer, MailError> {
        let Some(smtp) = smtp else {
            let from = DEFAULT_FROM
                .parse()
                .map_err(|e: lettre::address::AddressError| MailError::From(e.to_string()))?;
            return Ok(Mailer::Embedded {
                store: store.clone(),
                from,
            });
        };
        let from: Mailbox = smtp
            .from
            .parse()
            .map_err(|e: lettre::address::AddressError| {
                MailError::From(format!("{:?}: {e}", smtp.from))
            })?;
        let builder = match smtp.tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
            SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
                .map_err(|e| MailError::Smtp(e.to_string()))?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)
                .map_err(|e| MailError::Smtp(e.to_string()))?,
        };
        let mut builder = builder
            .port(smtp.port)
            .timeout(Some(std::time::Duration::from_secs(20)))
            .pool_config(
                lettre::transport::smtp::PoolConfig::new()
                    .max_size(u32::try_from(SEND_CONCURRENCY).unwrap_or(16)),
            );
        if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose().to_string(),
            ));
        }
        Ok(Mailer::Smtp {
            transport: builder.build(),
            from,
        })
    }

    /// The domain in Message-IDs: the sender's.
    pub fn domain(&self) -> String {
        let from = match self {
            Mailer::Smtp { from, .. } | Mailer::Embedded { from, .. } => from,
        };
        from.email.domain().to_string()
    }

    /// Sends one message; Ok carries the server's reply for the record.
    pub async fn send(&self, message: &Outgoing) -> Result<String, MailError> {
        match self {
            Mailer::Smtp { transport, from } => {
                let email = build(message, from)?;
                let response = transport
                    .send(email)
                    .await
                    .map_err(|e| MailError::Send(e.to_string()))?;
                Ok(format!(
                    "{} {}",
                    response.code(),
                    response.message().collect::<Vec<_>>().join(" ")
                ))
            }
            Mailer::Embedded { store, from } => {
                // Checked the same way as for SMTP, so the demo fails alike.
                build(message, from)?;
                mailbox::deliver(store, message, chrono::Utc::now().timestamp_millis()).await?;
                Ok("250 stored in Plaster's mailbox".to_string())
            }
        }
    }
}

/// `List-Unsubscribe: <https://…>` (RFC 2369).
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(s.trim_matches(['<', '>']).to_string()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
#[derive(Debug, Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_string())
    }
}

/// The MIME message: text and HTML alternatives, a stable Message-ID, and
/// the one-click unsubscribe headers for subscriber mail.
pub fn build(message: &Outgoing, from: &Mailbox) -> Result<Message, MailError> {
    let to: Mailbox = message
        .recipient
        .parse()
        .map_err(|_| MailError::Recipient(message.recipient.clone()))?;
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(message.subject.clone())
        .message_id(Some(message.message_id.clone()));
    if let Some(url) = &message.unsubscribe_url {
        builder = builder
            .header(ListUnsubscribe(url.clone()))
            .header(ListUnsubscribePost);
    }
    builder
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(message.body_text.clone()),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(message.body_html.clone()),
                ),
        )
        .map_err(|e| MailError::Build(e.to_string()))
}
