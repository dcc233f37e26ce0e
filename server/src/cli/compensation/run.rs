//! `plaster compensation run ...` (runs.md §4): the console's moves on a
//! run, scripted. `--by EMAIL` names the staff member; the console's roles
//! and four-eyes rules apply, and the audit log says "(command line)".

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};

use crate::cli::error::CliError;
use crate::compensation::execution_job::{self, NoticeSettings};
use crate::compensation::logs::{self, CheckedLog};
use crate::compensation::preview_job;
use crate::compensation::revision::write_lines_csv;
use crate::compensation::runs;
use crate::compensation::what_if::WhatIfCache;
use crate::kernel::audit::Actor;
use crate::kernel::ids::AccountId;
use crate::staff::roles::{Access, Roles, RUNS_APPROVE, RUNS_EDIT};
use crate::store::compensation::{self as table, LineFilter};
use crate::store::executions;
use crate::store::Store;

/// The staff member `--by` names, if their account may do what `access` allows.
pub async fn staff_by(store: &Store, email: &str, access: Access) -> Result<Actor, CliError> {
    let email = email.trim().to_lowercase();
    let Some((account, _)) = store.staff_for_sign_in(&email).await? else {
        return Err(CliError::By(format!(
            "no staff account has the e-mail {email:?}"
        )));
    };
    if account.disabled {
        return Err(CliError::By(format!("the account of {email} is disabled")));
    }
    if !access.allows(&Roles::from_stored(&account.roles)) {
        let needed = match access {
            Access::AnyOf(roles) => roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(" or "),
            _ => "staff".into(),
        };
        return Err(CliError::By(format!(
            "{email} has the roles {:?}; this needs {needed}",
            account.roles
        )));
    }
    Ok(Actor::staff_cli(
        AccountId::from(account.id.as_str()),
        &email,
    ))
}

fn read_file(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|error| CliError::Open {
        path: path.display().to_string(),
        error,
    })
}

fn print(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

pub async fn create(store: &Store, incident: &str, plan: &Path, by: &str) -> Result<(), CliError> {
    let actor = staff_by(store, by, RUNS_EDIT).await?;
    let toml = read_file(plan)?;
    let run = runs::create(store, &actor, incident, &toml)
        .await
        .map_err(|e| match e {
            runs::RunError::Plan(p) if p.field.is_empty() => {
                CliError::By(format!("{}: {}", plan.display(), p.message))
            }
            runs::RunError::Plan(p) => {
                CliError::By(format!("{}: {}: {}", plan.display(), p.field, p.message))
            }
            other => other.into(),
        })?;
    print(&json!({"run": run.id, "state": run.state}));
    Ok(())
}

/// Checks every file before storing any, so a bad one refuses the lot.
pub async fn add_logs(
    store: &Store,
    run: &str,
    files: &[PathBuf],
    by: &str,
) -> Result<(), CliError> {
    let actor = staff_by(store, by, RUNS_EDIT).await?;
    // A run that does not exist is refused before gigabytes are read.
    runs::show(store, run).await?;
    let mut checked: Vec<(CheckedLog, PathBuf)> = Vec::with_capacity(files.len());
    for path in files {
        let (name, p) = (path.display().to_string(), path.clone());
        let log = tokio::task::spawn_blocking(move || logs::check(&name, &p))
            .await
            .map_err(|e| CliError::By(format!("checking {}: {e}", path.display())))??;
        checked.push((log, path.clone()));
    }
    for (log, path) in &checked {
        logs::store_content(store, log, path).await?;
    }
    let logs: Vec<CheckedLog> = checked.into_iter().map(|(l, _)| l).collect();
    let added = runs::add_logs(store, &actor, run, &logs).await?;
    print(&json!({ "files": added }));
    Ok(())
}

/// Queues the preview and works on it here too (any node may claim it, and
/// this process is one), showing progress on a terminal; prints the report
/// with `revision` and `digest`.
pub async fn preview(
    store: &Store,
    run: &str,
    by: &str,
    details: Option<&Path>,
) -> Result<(), CliError> {
    let actor = staff_by(store, by, RUNS_EDIT).await?;
    // Fail before the long pass, not after it.
    let mut details_file = match details {
        Some(p) => Some((
            p,
            std::fs::File::create(p).map_err(|error| CliError::Open {
                path: p.display().to_string(),
                error,
            })?,
        )),
        None => None,
    };
    let job_id = runs::request_preview(store, &actor, run).await?;
    let worker = {
        let store = store.clone();
        let job_id = job_id.clone();
        tokio::spawn(async move {
            loop {
                match table::preview_job(&store, &job_id).await {
                    Ok(Some(j)) if j.state == "queued" || j.state == "running" => {}
                    _ => return,
                }
                match preview_job::run_next(&store, &WhatIfCache::default()).await {
                    Ok(true) => {}
                    Ok(false) => tokio::time::sleep(Duration::from_millis(200)).await,
                    Err(e) => {
                        tracing::warn!(error = %e, "preview worker failed; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        })
    };
    let terminal = std::io::stderr().is_terminal();
    let job = loop {
        let job = table::preview_job(store, &job_id)
            .await?
            .ok_or_else(|| CliError::By(format!("preview {job_id} vanished")))?;
        if !matches!(job.state.as_str(), "queued" | "running") {
            break job;
        }
        if terminal {
            eprint!(
                "\rpreview: {} of {} MB read, {} records   ",
                job.bytes_done >> 20,
                job.bytes_total >> 20,
                job.records_done
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    if terminal {
        eprintln!();
    }
    let _ = worker.await;
    let Some(revision) = job.revision.filter(|_| job.state == "done") else {
        return Err(CliError::Preview(format!(
            "the preview {}: {}",
            job.state,
            job.error.unwrap_or_default()
        )));
    };
    let (_, newest) = runs::show(store, run).await?;
    let newest = newest
        .filter(|r| r.revision == revision)
        .ok_or_else(|| CliError::Preview(format!("revision {revision} is not stored")))?;
    if let Some((path, file)) = details_file.take() {
        let lines = table::lines(store, run, revision, LineFilter::All).await?;
        write_lines_csv(&lines, std::io::BufWriter::new(file)).map_err(|error| CliError::Open {
            path: path.display().to_string(),
            error,
        })?;
    }
    let mut report: Value = serde_json::from_str(&newest.report_json)
        .map_err(|e| CliError::Preview(format!("the stored report does not parse: {e}")))?;
    if let Value::Object(map) = &mut report {
        map.insert("revision".into(), json!(revision));
        map.insert("digest".into(), json!(newest.digest));
    }
    print(&report);
    std::io::stdout().flush().ok();
    Ok(())
}

pub async fn approve(store: &Store, run: &str, digest: &str, by: &str) -> Result<(), CliError> {
    let actor = staff_by(store, by, RUNS_APPROVE).await?;
    let approved = runs::approve(store, &actor, run, digest).await?;
    print(&json!({"run": approved.id, "state": approved.state,
                  "revision": approved.approved_revision, "digest": digest.trim().to_ascii_lowercase(),
                  "approved_by": approved.approved_by}));
    Ok(())
}

pub async fn reject(store: &Store, run: &str, reason: &str, by: &str) -> Result<(), CliError> {
    let actor = staff_by(store, by, RUNS_APPROVE).await?;
    runs::reject(store, &actor, run, reason).await?;
    print(&json!({"run": run, "state": "draft"}));
    Ok(())
}

pub async fn show(store: &Store, run: &str) -> Result<(), CliError> {
    let (record, newest) = runs::show(store, run).await?;
    print(&json!({
        "run": record.id,
        "incident": record.incident_id,
        "state": record.state,
        "revision": newest.as_ref().map(|r| r.revision),
        "digest": newest.as_ref().map(|r| r.digest.clone()),
        "approved_revision": record.approved_revision,
        "approved_by": record.approved_by,
        "created_by": record.created_by_email,
    }));
    Ok(())
}

pub async fn what_if(store: &Store, run: &str, plans: &[PathBuf]) -> Result<(), CliError> {
    let cache = WhatIfCache::default();
    let mut out = Vec::with_capacity(plans.len());
    for path in plans {
        let toml = read_file(path)?;
        let priced = crate::compensation::what_if::price(store, &cache, run, &toml)
            .await
            .map_err(|e| match e {
                runs::RunError::Plan(p) => {
                    CliError::By(format!("{}: {}: {}", path.display(), p.field, p.message))
                }
                other => other.into(),
            })?;
        let mut report = serde_json::to_value(&priced.preview.report)
            .map_err(|e| CliError::Preview(e.to_string()))?;
        if let Value::Object(map) = &mut report {
            map.insert("plan_file".into(), json!(path.display().to_string()));
            map.insert("priced_ms".into(), json!(priced.millis as u64));
            map.insert("full_pass".into(), json!(priced.full_pass));
        }
        out.push(report);
    }
    print(&Value::Array(out));
    Ok(())
}

/// Queues the execution and works on it here too (any node may claim it,
/// and this process is one), showing progress on a terminal; prints what
/// it posted. Payouts leave from the server's payout sender.
pub async fn execute(
    store: &Store,
    run: &str,
    by: &str,
    settings: &NoticeSettings,
) -> Result<(), CliError> {
    let actor = staff_by(store, by, RUNS_APPROVE).await?;
    let job_id = runs::execute(store, &actor, run).await?;
    let worker = {
        let (store, job_id, settings) = (store.clone(), job_id.clone(), settings.clone());
        tokio::spawn(async move {
            loop {
                match executions::get(&store, &job_id).await {
                    Ok(Some(j)) if j.state == "queued" || j.state == "running" => {}
                    _ => return,
                }
                match execution_job::run_next(&store, &settings).await {
                    Ok(true) => {}
                    Ok(false) => tokio::time::sleep(Duration::from_millis(200)).await,
                    Err(e) => {
                        tracing::warn!(error = %e, "execution worker failed; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        })
    };
    let terminal = std::io::stderr().is_terminal();
    let started = std::time::Instant::now();
    let mut posted_after = None;
    let job = loop {
        let job = executions::get(store, &job_id)
            .await?
            .ok_or_else(|| CliError::By(format!("execution {job_id} vanished")))?;
        if job.stage != "posting" && posted_after.is_none() {
            posted_after = Some(started.elapsed());
        }
        if !matches!(job.state.as_str(), "queued" | "running") {
            break job;
        }
        if terminal {
            eprint!(
                "\rexecute: {} of {} lines, {} payouts   ",
                job.posted + job.already_posted + job.discrepancies,
                job.lines_total,
                job.payouts
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    if terminal {
        eprintln!();
    }
    let _ = worker.await;
    if job.state != "done" {
        return Err(CliError::Preview(format!(
            "the execution failed: {}",
            job.error.unwrap_or_default()
        )));
    }
    let all = started.elapsed();
    let posting = posted_after.unwrap_or(all);
    eprintln!(
        "execute: {} lines read and posted in {:.1} s; {} payouts and {} notices made in {:.1} s",
        job.posted + job.already_posted + job.discrepancies,
        posting.as_secs_f64(),
        job.payouts,
        job.notices,
        (all - posting).as_secs_f64()
    );
    print(
        &json!({"posted": job.posted, "already_posted": job.already_posted,
                  "discrepancies": job.discrepancies}),
    );
    Ok(())
}
