//! Demo runs for `make run`: the V75 2023 run approved (ready for its
//! execution), the Sumo 2018 run previewed and waiting for a second finance
//! member's approval. Their logs come from the engine's generator and go
//! through the same checks, storage, preview and approval as anyone's.

use std::io::BufWriter;

use plaster_engine::generate::{Generator, Scenario};

use crate::compensation::logs::{self, CheckedLog};
use crate::compensation::{preview_job, runs};
use crate::customers::import::Import;
use crate::kernel::audit::Actor;
use crate::kernel::ids::random_token;
use crate::store::Store;

/// Events per demo run: small enough that every start of a test app stays
/// quick; the customers are a subset of the demo customer base.
const DEMO_EVENTS: u64 = 10_000;

/// Seeds the demo runs; `drafter` and `approver` are two finance members.
pub async fn seed(store: &Store, drafter: &Actor, approver: &Actor) -> Result<(), String> {
    for (scenario, incident, approve) in [
        (Scenario::V75_2023, "atg-2023-09-16-v75", true),
        (Scenario::Sumo2018, "tv2-2018-08-20-sumo", false),
    ] {
        seed_run(store, drafter, approver, scenario, incident, approve)
            .await
            .map_err(|e| format!("the demo run for {incident}: {e}"))?;
    }
    Ok(())
}

async fn seed_run(
    store: &Store,
    drafter: &Actor,
    approver: &Actor,
    scenario: Scenario,
    incident: &str,
    approve: bool,
) -> Result<(), String> {
    let generator = Generator::new(scenario, 7, DEMO_EVENTS, 0, 0);
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
    let plan = String::from_utf8(plan).map_err(|e| e.to_string())?;
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
    runs::request_preview(store, drafter, &run.id)
        .await
        .map_err(|e| e.to_string())?;
    // The server's workers are not running yet: preview here.
    let cache = crate::compensation::what_if::WhatIfCache::default();
    while preview_job::run_next(store, &cache)
        .await
        .map_err(|e| e.to_string())?
    {}
    if approve {
        let (_, newest) = runs::show(store, &run.id)
            .await
            .map_err(|e| e.to_string())?;
        let digest = newest
            .map(|r| r.digest)
            .ok_or_else(|| "the preview made no revision".to_string())?;
        runs::approve(store, approver, &run.id, &digest)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}
