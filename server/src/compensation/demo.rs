//! Demo runs for `make run`: the V75 2023 run executed and paid into the
//! payout inbox, with its notices queued for Sent mail, then corrected
//! (goodwill raised) so that its ledger shows discrepancies; the V75 2024 run
//! executed too, its jackpot top-up posted from the fund; the Sumo 2018 run
//! previewed and waiting for a second finance member's approval. Their
//! logs come from the engine's generator and go through the same checks,
//! storage, preview, approval, execution and payout as anyone's.

use std::io::BufWriter;

use plaster_engine::generate::{Generator, Scenario};

use crate::compensation::execution_job::{self, NoticeSettings};
use crate::compensation::logs::{self, CheckedLog};
use crate::compensation::{payouts, preview_job, runs};
use crate::customers::import::Import;
use crate::kernel::audit::Actor;
use crate::kernel::ids::random_token;
use crate::store::Store;

/// Events per demo run: small enough that every start of a test app stays
/// quick; the customers are a subset of the demo customer base.
const DEMO_EVENTS: u64 = 10_000;
/// Events of the executed demo runs: each compensated customer gets a
/// notice (and the apology), which every test app's outbox then delivers,
/// so these stay at about a hundred customers each.
const EXECUTED_DEMO_EVENTS: u64 = 2_500;

/// Seeds the demo runs; `drafter` and `approver` are two finance members.
pub async fn seed(
    store: &Store,
    drafter: &Actor,
    approver: &Actor,
    notices: &NoticeSettings,
) -> Result<(), String> {
    for (scenario, incident, execute) in [
        (Scenario::V75_2023, "atg-2023-09-16-v75", true),
        (Scenario::V75_2024, "atg-2024-08-24-v75", true),
        (Scenario::Sumo2018, "tv2-2018-08-20-sumo", false),
    ] {
        seed_run(store, drafter, approver, scenario, incident, execute)
            .await
            .map_err(|e| format!("the demo run for {incident}: {e}"))?;
        if !execute {
            continue;
        }
        let id = runs_id(store, incident).await?;
        execute_here(store, approver, &id, notices).await?;
        if scenario == Scenario::V75_2023 {
            // A late correction: goodwill raised after the run was paid.
            // Its execution posts nothing new and leaves a discrepancy per
            // raised line, for finance to settle with four eyes.
            let (run, _) = runs::show(store, &id).await.map_err(|e| e.to_string())?;
            let raised = run.plan_toml.replacen("SEK = 2500", "SEK = 3000", 1);
            runs::change_plan(store, drafter, &id, &raised)
                .await
                .map_err(|e| e.to_string())?;
            preview_and_approve(store, drafter, approver, &id).await?;
            execute_here(store, approver, &id, notices).await?;
        }
    }
    let now = chrono::Utc::now().timestamp_millis();
    let http = reqwest::Client::new();
    let policy = crate::kernel::outgoing::OutgoingPolicy::default();
    payouts::form_batches(store, now)
        .await
        .map_err(|e| e.to_string())?;
    while payouts::deliver_due(store, &http, &policy, now)
        .await
        .map_err(|e| e.to_string())?
    {}
    Ok(())
}

/// Executes a run in this process: the server's workers are not running yet.
async fn execute_here(
    store: &Store,
    by: &Actor,
    run_id: &str,
    notices: &NoticeSettings,
) -> Result<(), String> {
    runs::execute(store, by, run_id)
        .await
        .map_err(|e| e.to_string())?;
    while execution_job::run_next(store, notices)
        .await
        .map_err(|e| e.to_string())?
    {}
    Ok(())
}

/// Previews a run here and has `approver` approve the revision it made.
async fn preview_and_approve(
    store: &Store,
    previewer: &Actor,
    approver: &Actor,
    run_id: &str,
) -> Result<(), String> {
    runs::request_preview(store, previewer, run_id)
        .await
        .map_err(|e| e.to_string())?;
    let cache = crate::compensation::what_if::WhatIfCache::default();
    while preview_job::run_next(store, &cache)
        .await
        .map_err(|e| e.to_string())?
    {}
    let (_, newest) = runs::show(store, run_id).await.map_err(|e| e.to_string())?;
    let digest = newest
        .map(|r| r.digest)
        .ok_or_else(|| "the preview made no revision".to_string())?;
    runs::approve(store, approver, run_id, &digest)
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// The run of a demo incident.
async fn runs_id(store: &Store, incident: &str) -> Result<String, String> {
    crate::store::compensation::runs(store)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .find(|r| r.incident_id == incident)
        .map(|r| r.id)
        .ok_or_else(|| format!("no demo run for {incident}"))
}

async fn seed_run(
    store: &Store,
    drafter: &Actor,
    approver: &Actor,
    scenario: Scenario,
    incident: &str,
    approve: bool,
) -> Result<(), String> {
    let events = if approve {
        EXECUTED_DEMO_EVENTS
    } else {
        DEMO_EVENTS
    };
    let generator = Generator::new(scenario, 7, events, 0, 0);
    if generator.has_subscriptions() {
        let (mut customers, mut subscriptions) = (Vec::new(), Vec::new());
        generator
            .write_customers(&mut customers)
            .and_then(|_| generator.write_subscriptions(&mut subscriptions))
            .map_err(|e| e.to_string())?;
        let mut import = Import::begin(store).await.map_err(|e| e.to_string())?;
        import
            .customers("demo customers.csv", std::io::Cursor::new(customers))
            .await
            .map_err(|e| e.to_string())?;
        import
            .subscriptions(
                "demo subscriptions.csv",
                std::io::Cursor::new(subscriptions),
            )
            .await
            .map_err(|e| e.to_string())?;
        import
            .finish(&Actor::Cli)
            .await
            .map_err(|e| e.to_string())?;
    }
    let mut plan = Vec::new();
    generator.write_plan(&mut plan).map_err(|e| e.to_string())?;
    let mut plan = String::from_utf8(plan).map_err(|e| e.to_string())?;
    if scenario == Scenario::V75_2024 {
        // The shared examples use this incident's own plan id; the demo's
        // run leaves it free for them (plan ids are unique across runs).
        plan = plan.replacen("id = \"atg-2024-08-24\"", "id = \"atg-2024-08-24-demo\"", 1);
    }
    let run = runs::create(store, drafter, incident, &plan)
        .await
        .map_err(|e| e.to_string())?;

    let mut checked: Vec<CheckedLog> = Vec::new();
    for part in generator.parts() {
        let path = std::env::temp_dir().join(format!("plaster-demo-{}", random_token()));
        let written = std::fs::File::create(&path)
            .map_err(|e| e.to_string())
            .and_then(|f| {
                generator
                    .write_events(&part, BufWriter::new(f))
                    .map_err(|e| e.to_string())
            });
        let stored = match written {
            Ok(()) => match logs::check(part.file_name, &path) {
                Ok(log) => logs::store_content(store, &log, &path)
                    .await
                    .map(|()| log)
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            },
            Err(e) => Err(e),
        };
        let _ = std::fs::remove_file(&path);
        checked.push(stored?);
    }
    runs::add_logs(store, drafter, &run.id, &checked)
        .await
        .map_err(|e| e.to_string())?;
    if approve {
        preview_and_approve(store, drafter, approver, &run.id).await?;
    } else {
        runs::request_preview(store, drafter, &run.id)
            .await
            .map_err(|e| e.to_string())?;
        // The server's workers are not running yet: preview here.
        let cache = crate::compensation::what_if::WhatIfCache::default();
        while preview_job::run_next(store, &cache)
            .await
            .map_err(|e| e.to_string())?
        {}
    }
    Ok(())
}
