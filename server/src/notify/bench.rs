//! `plaster notify bench-queue`: renders and queues personalised
//! compensation notices, as a run after a big outage would, and reports the
//! time and peak memory. The program for the notification benchmark (see
//! docs/benchmarks-notifications.md).

use std::time::Instant;

use app::dto::Lang;

use crate::notify::email::{compensation_notice, CompensationMail, NoticeLine};
use crate::store::outbox::{self, NewMessage};
use crate::store::{Store, StoreError};

/// Messages per transaction: big enough to amortise commits, small enough
/// that a crash loses little work.
const BATCH: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("rendering: {0}")]
    Render(#[from] askama::Error),
}

pub struct Report {
    pub count: usize,
    pub seconds: f64,
    pub peak_rss_kib: Option<u64>,
    pub bytes: u64,
}

/// Peak resident memory of this process (Linux), in KiB.
pub fn peak_rss_kib() -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

pub async fn queue_notices(store: &Store, count: usize) -> Result<Report, BenchError> {
    let started = Instant::now();
    let now = chrono::Utc::now().timestamp_millis();
    let mut bytes = 0u64;
    let mut done = 0;
    while done < count {
        let mut messages = Vec::with_capacity(BATCH);
        for i in done..(done + BATCH).min(count) {
            let lang = Lang::ALL[i % 3];
            let name = format!("Kund {i}");
            let happened = format!(
                "Your V75 coupon #{} could not be submitted at 15:{:02}.",
                1_000_000 + i,
                40 + i % 20
            );
            let lines = [NoticeLine {
                words: format!("The stake of bet b-{i}, taken but never registered, back"),
                amount: crate::kernel::money::sek(2_500 + (i as i128 % 400) * 25),
            }];
            let mail = compensation_notice(&CompensationMail {
                lang,
                page_name: "Driftstatus",
                customer_name: &name,
                incident_title: "Spelstopp inför V75",
                what_happened: &happened,
                lines: &lines,
                jackpot: None,
                when: "It is paid within 3 days.",
                incident_url: "https://status.example/incidents/atg-2024-08-24-v75",
            })?;
            bytes += (mail.html.len() + mail.text.len()) as u64;
            messages.push(NewMessage {
                id: format!("bench-{i}"),
                kind: "compensation".into(),
                recipient: format!("kund{i}@example.se"),
                subject: mail.subject,
                body_text: mail.text,
                body_html: mail.html,
                unsubscribe_url: None,
            });
        }
        let mut tx = store.begin_write().await.map_err(StoreError::from)?;
        outbox::enqueue_many(&mut tx, &messages, "plaster.bench", now).await?;
        tx.commit().await.map_err(StoreError::from)?;
        done = (done + BATCH).min(count);
    }
    Ok(Report {
        count,
        seconds: started.elapsed().as_secs_f64(),
        peak_rss_kib: peak_rss_kib(),
        bytes,
    })
}
