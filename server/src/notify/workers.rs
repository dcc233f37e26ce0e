//! The background work of notifications: delivery workers that claim and
//! send due messages, and the fan-out from status changes to subscribers.

use std::sync::Arc;
use std::time::Duration;

use app::dto::Lang;
use futures_util::StreamExt;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::kernel::change::ChangeKind;
use crate::kernel::outgoing::OutgoingPolicy;
use crate::notify::mailer::{Mailer, SEND_CONCURRENCY};
use crate::notify::subscribers::Links;
use crate::notify::{mailer, webhooks};
use crate::status::public::PublicSettings;
use crate::status::view::localize;
use crate::store::fan_out::{changes_after, lock_subscribers_cursor, set_subscribers_cursor};
use crate::store::outbox::{self, NewMessage};
use crate::store::status::StatusData;
use crate::store::{Backend, Store, StoreError};

/// A claimed message is someone's for this long; a worker that dies
/// releases it by letting the lease run out.
const LEASE_MS: i64 = 60_000;
const BATCH: i64 = 100;
const IDLE_POLL: Duration = Duration::from_millis(500);
/// Messages still failing after two days are shown to admins instead.
pub const GIVE_UP_AFTER_MS: i64 = 48 * 3_600_000;
/// Changes younger than this wait, so a PostgreSQL transaction that took a
/// smaller id but committed later is not skipped by the cursor.
const SETTLE_MS: i64 = 1_000;
/// Delivery workers per node on PostgreSQL (one on SQLite, whose writes
/// serialise anyway).
const POSTGRES_WORKERS: usize = 4;

/// Starts the fan-out task and the delivery workers; they stop when the
/// handles are aborted.
pub fn spawn(
    store: Store,
    mailer: Arc<Mailer>,
    public: PublicSettings,
    outgoing: OutgoingPolicy,
) -> Vec<JoinHandle<()>> {
    let wake = Arc::new(Notify::new());
    let workers = match store.backend() {
        Backend::Sqlite => 1,
        Backend::Postgres => POSTGRES_WORKERS,
    };
    let mut tasks = Vec::with_capacity(workers + 1);
    {
        let (store, wake, domain) = (store.clone(), wake.clone(), mailer.domain());
        tasks.push(tokio::spawn(async move {
            loop {
                match fan_out(&store, &public, &domain).await {
                    Ok(0) => tokio::time::sleep(IDLE_POLL).await,
                    Ok(n) => {
                        tracing::info!(messages = n, "queued notifications for subscribers");
                        wake.notify_waiters();
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "notification fan-out failed; retrying");
                        tokio::time::sleep(IDLE_POLL * 4).await;
                    }
                }
            }
        }));
    }
    let http =
        crate::kernel::outgoing::client(&outgoing, "Plaster webhooks", Duration::from_secs(15));
    for _ in 0..workers {
        let (store, mailer, wake, http, outgoing) = (
            store.clone(),
            mailer.clone(),
            wake.clone(),
            http.clone(),
            outgoing.clone(),
        );
        tasks.push(tokio::spawn(async move {
            deliver(store, mailer, http, outgoing, wake).await
        }));
    }
    tasks
}

/// One delivery worker.
async fn deliver(
    store: Store,
    mailer: Arc<Mailer>,
    http: reqwest::Client,
    outgoing: OutgoingPolicy,
    wake: Arc<Notify>,
) {
    loop {
        let now = chrono::Utc::now().timestamp_millis();
        let batch = match outbox::claim(&store, now, BATCH, LEASE_MS).await {
            Ok(batch) => batch,
            Err(e) => {
                tracing::warn!(error = %e, "cannot claim outbox messages");
                tokio::time::sleep(IDLE_POLL * 4).await;
                continue;
            }
        };
        if batch.is_empty() {
            tokio::select! {
                () = wake.notified() => {},
                () = tokio::time::sleep(IDLE_POLL) => {},
            }
            continue;
        }
        // Sends overlap on the pooled connections; each outcome is written
        // as soon as it is known, so a crash can repeat at most the sends in
        // flight (each with its Message-ID, which receivers deduplicate on).
        futures_util::stream::iter(batch)
            .for_each_concurrent(SEND_CONCURRENCY, |message| {
                let (store, mailer, http, outgoing) = (&store, &mailer, &http, &outgoing);
                async move {
                    let result = if message.kind == webhooks::KIND {
                        webhooks::post(store, http, outgoing, &message).await
                    } else {
                        mailer.send(&message).await
                    };
                    if let Err(e) = record(store, &[(message, result)]).await {
                        // The lease runs out and the message is tried again.
                        tracing::warn!(error = %e, "cannot record a delivery");
                    }
                }
            })
            .await;
    }
}

/// Writes what happened to messages, in one transaction.
async fn record(
    store: &Store,
    outcomes: &[(outbox::Outgoing, Result<String, mailer::MailError>)],
) -> Result<(), StoreError> {
    let now = chrono::Utc::now().timestamp_millis();
    let mut tx = store.begin_write().await?;
    for (message, result) in outcomes {
        match result {
            Ok(reply) => outbox::mark_sent(&mut tx, &message.id, reply, now).await?,
            Err(e) => {
                let give_up_after = if e.is_permanent() {
                    0
                } else {
                    GIVE_UP_AFTER_MS
                };
                let gave_up = outbox::mark_failed_attempt(
                    &mut tx,
                    message,
                    &e.to_string(),
                    now,
                    give_up_after,
                )
                .await?;
                if gave_up {
                    tracing::error!(id = %message.id, error = %e, "giving up on a message");
                } else {
                    tracing::warn!(id = %message.id, attempt = message.attempts, error = %e, "sending failed; will retry");
                }
            }
        }
    }
    tx.commit().await?;
    Ok(())
}

/// The page's name in `lang`, as its settings give it.
pub fn page_name(data: &StatusData, lang: Lang) -> String {
    data.settings
        .get(&format!("page_name.{}", lang.code()))
        .or_else(|| data.settings.get("page_name"))
        .cloned()
        .unwrap_or_else(|| "Status".to_string())
}

/// Turns new status changes into messages for subscribers; returns how
/// many were queued.
pub async fn fan_out(
    store: &Store,
    public: &PublicSettings,
    domain: &str,
) -> Result<usize, FanOutError> {
    let public_url = public.public_url.as_str();
    let now = chrono::Utc::now().timestamp_millis();
    let mut tx = store.begin_write().await.map_err(StoreError::from)?;
    let last = lock_subscribers_cursor(&mut tx, store.backend()).await?;
    let changes = changes_after(&mut tx, last, now - SETTLE_MS).await?;
    let Some(newest) = changes.last().map(|c| c.id) else {
        return Ok(0);
    };
    let data = store.load_status_data(now).await?;
    let mut queued = 0;
    for change in &changes {
        let (id, at) = (change.id, change.changed_at);
        let kind = match &change.kind {
            Ok(kind) => *kind,
            Err(e) => {
                // A newer node wrote it. Skipped, not failed: a fan-out that
                // stopped on it would stop for good.
                tracing::warn!(change = id, error = %e, "skipping a change of an unknown kind");
                continue;
            }
        };
        let Some(incident) = data.incidents.iter().find(|i| i.id == change.subject_id) else {
            continue;
        };
        let opened = kind == ChangeKind::IncidentOpened;
        let update = incident.updates.iter().rev().find(|u| u.created_at <= at);
        let components: Vec<String> = incident
            .updates
            .iter()
            .flat_map(|u| u.components.iter().map(|c| c.component_id.clone()))
            .collect();
        let audience = crate::store::subscribers::audience(&mut tx, &components).await?;
        for s in audience {
            let lang = s.lang;
            let page_name = page_name(&data, lang);
            let links = Links {
                public_url,
                mail_domain: domain,
                page_name: &page_name,
            };
            let title = localize(&incident.titles, lang)
                .map(|t| t.text)
                .unwrap_or_default();
            let url = format!("{public_url}/{}/incidents/{}", lang.code(), incident.id);
            let unsubscribe = links.unsubscribe(&s.token);
            let mail = match kind {
                _ if kind.is_incident_news() => {
                    let Some(update) = update else { continue };
                    let body = localize(&update.bodies, lang)
                        .map(|t| t.text)
                        .unwrap_or_default();
                    crate::notify::email::incident_update(&crate::notify::email::IncidentMail {
                        lang,
                        page_name: &page_name,
                        opened,
                        stage: update.status,
                        title: &title,
                        body_markdown: &body,
                        incident_url: &url,
                        unsubscribe_url: &unsubscribe,
                    })?
                }
                ChangeKind::ApologyPublished => {
                    let body = localize(&incident.apology, lang)
                        .map(|t| t.text)
                        .unwrap_or_default();
                    crate::notify::email::apology(&crate::notify::email::Apology {
                        lang,
                        page_name: &page_name,
                        incident_title: &title,
                        body_markdown: &body,
                        incident_url: &url,
                        unsubscribe_url: Some(&unsubscribe),
                    })?
                }
                _ => continue,
            };
            let inserted = outbox::enqueue(
                &mut tx,
                &NewMessage {
                    id: format!("change-{id}-{}", s.id),
                    kind: kind.as_str().to_string(),
                    recipient: s.email.clone(),
                    subject: mail.subject,
                    body_text: mail.text,
                    body_html: mail.html,
                    unsubscribe_url: Some(unsubscribe),
                },
                domain,
                now,
            )
            .await?;
            queued += usize::from(inserted);
        }
        if kind == ChangeKind::ApologyPublished {
            queued +=
                apology_to_compensated(&mut tx, &data, public_url, incident, domain, now).await?;
        }
        if kind.is_incident_news() {
            let payload = webhook_payload(&data, now, public, incident);
            for hook in crate::store::webhooks::audience(&mut tx, &components).await? {
                let inserted = outbox::enqueue(
                    &mut tx,
                    &NewMessage {
                        id: format!("change-{id}-wh-{}", hook.id),
                        kind: webhooks::KIND.into(),
                        recipient: hook.url.clone(),
                        subject: hook.id.clone(),
                        body_text: payload.clone(),
                        body_html: String::new(),
                        unsubscribe_url: None,
                    },
                    domain,
                    now,
                )
                .await?;
                queued += usize::from(inserted);
            }
        }
    }
    set_subscribers_cursor(&mut tx, newest).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(queued)
}

/// The incident's apology, to every customer a compensation run of it has
/// posted lines for, in their language, once per customer and incident
/// (whichever apology is published first reaches them).
async fn apology_to_compensated(
    tx: &mut sqlx::AnyConnection,
    data: &StatusData,
    public_url: &str,
    incident: &crate::store::status::IncidentRecord,
    domain: &str,
    now: i64,
) -> Result<usize, FanOutError> {
    let ids = crate::store::ledger::compensated_customers(tx, &incident.id).await?;
    let mut queued = 0;
    for chunk in ids.chunks(500) {
        let (contacts, _) = crate::store::customers::contacts(tx, chunk).await?;
        let messages = contacts
            .iter()
            .map(|(customer, contact)| {
                apology_message(data, public_url, incident, customer, contact)
            })
            .collect::<Result<Vec<_>, _>>()?;
        queued += outbox::enqueue_many(tx, &messages, domain, now).await?;
    }
    Ok(queued)
}

/// The apology of `incident` to one compensated customer, under an id
/// that the fan-out and an execution share, so it is queued once.
pub fn apology_message(
    data: &StatusData,
    public_url: &str,
    incident: &crate::store::status::IncidentRecord,
    customer_id: &str,
    contact: &crate::store::customers::Contact,
) -> Result<NewMessage, askama::Error> {
    let lang = crate::kernel::texts::lang_for_locale(&contact.locale);
    let title = localize(&incident.titles, lang)
        .map(|t| t.text)
        .unwrap_or_default();
    let body = localize(&incident.apology, lang)
        .map(|t| t.text)
        .unwrap_or_default();
    let mail = crate::notify::email::apology(&crate::notify::email::Apology {
        lang,
        page_name: &page_name(data, lang),
        incident_title: &title,
        body_markdown: &body,
        incident_url: &format!(
            "{}/{}/incidents/{}",
            public_url.trim_end_matches('/'),
            lang.code(),
            incident.id
        ),
        unsubscribe_url: None,
    })?;
    Ok(NewMessage {
        id: format!("apology-{}-{customer_id}", incident.id),
        kind: ChangeKind::ApologyPublished.as_str().to_string(),
        recipient: contact.email.clone(),
        subject: mail.subject,
        body_text: mail.text,
        body_html: mail.html,
        unsubscribe_url: None,
    })
}

/// Statuspage's webhook shape: `meta`, `page` and the incident as the v2
/// API shows it (English, like the unprefixed API).
fn webhook_payload(
    data: &StatusData,
    now: i64,
    public: &PublicSettings,
    incident: &crate::store::status::IncidentRecord,
) -> String {
    use crate::status::public::{api_v2, indicator_description, overall, Context};
    let ctx = Context::new(data, now, public, Lang::En, "");
    let (indicator, maintenance) = overall(data, now);
    serde_json::json!({
        "meta": {
            "unsubscribe": serde_json::Value::Null,
            "documentation": format!("{}/api/v2/openapi.json", public.public_url),
            "generated_at": ctx.iso(now),
        },
        "page": {
            "id": ctx.page_id,
            "status_indicator": indicator.as_str(),
            "status_description": indicator_description(Lang::En, indicator, maintenance),
        },
        "incident": api_v2::incident(&ctx, incident),
    })
    .to_string()
}

#[derive(Debug, thiserror::Error)]
pub enum FanOutError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("rendering a notification: {0}")]
    Render(#[from] askama::Error),
}
