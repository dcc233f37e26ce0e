//! `plaster`: the status page and compensation portal, and its command line.
//! Argument types live here; each subcommand calls a domain command.

pub mod compensation;
pub mod error;
pub mod ledger;

pub use error::CliError;

use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::Settings;
use crate::customers::import::{Import, ImportError, ImportReport};
use crate::kernel::audit::Actor;
use crate::startup::{Application, StartOptions};
use crate::status::commands::{self, WriteError, Written};
use crate::status::demo;
use crate::store::Store;
use crate::telemetry;
use clap::{Args, Parser, Subcommand};
use compensation::{GenerateLogsArgs, PreviewArgs};

/// Exit status for a bad setting or argument.
const EXIT_USAGE: u8 = 2;

#[derive(Parser)]
#[command(
    name = "plaster",
    version,
    about = "Status page and outage compensation portal"
)]
struct Cli {
    /// Configuration file (default: ./plaster.toml when it exists). Environment
    /// variables override it: DATABASE_URL, PLASTER_LISTEN, PLASTER_PUBLIC_URL,
    /// PLASTER_TIME_ZONE, PLASTER_DEFAULT_LANG, LEPTOS_SITE_ROOT, PLASTER_SMTP_HOST,
    /// PLASTER_SMTP_PORT, PLASTER_SMTP_TLS, PLASTER_SMTP_USERNAME, PLASTER_SMTP_PASSWORD,
    /// PLASTER_SMTP_FROM, PLASTER_OUTGOING_ALLOW.
    #[arg(long, global = true, env = "PLASTER_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database, create the first admin on first start, and serve HTTP.
    Serve {
        /// Seed the demo into an empty database: status content, customers,
        /// compensation runs, claims, and demo staff accounts whose one-time
        /// passwords are printed. Without it only the first admin is created.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Demo content and demo event logs.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// The compensation engine.
    #[command(subcommand)]
    Compensation(CompensationCommand),
    /// Change a component's status (announced to running servers).
    #[command(subcommand)]
    Component(ComponentCommand),
    /// Staff accounts for the console.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Notification tools.
    #[command(subcommand)]
    Notify(NotifyCommand),
    /// Open, update and list incidents (announced to running servers).
    #[command(subcommand)]
    Incident(IncidentCommand),
    /// The operator's customers, as compensation runs read them.
    #[command(subcommand)]
    Customers(CustomersCommand),
    /// The ledger of compensation: lines, discrepancies, balance (CSV).
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Payouts to customers.
    #[command(subcommand)]
    Payouts(PayoutsCommand),
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Every line transaction posted for a run, in the --details CSV format.
    Lines {
        #[arg(long)]
        run: String,
    },
    /// rule,customer_id,reference,posted_minor,newest_minor,currency
    Discrepancies {
        #[arg(long)]
        run: String,
    },
    /// account,currency,debit_minor,credit_minor
    Balance,
}

#[derive(Subcommand)]
enum PayoutsCommand {
    /// payout_id,customer_id,currency,amount_minor,status,settled_at
    Export {
        #[arg(long)]
        run: String,
    },
}

#[derive(Subcommand)]
enum CustomersCommand {
    /// Upsert customers (and subscriptions) from the engine's CSV files; a
    /// file with any bad row is refused whole, every bad row listed on stderr.
    /// Prints {"customers": N, "subscriptions": M}.
    Import {
        /// customers.csv: customer_id,email,name,locale,currency
        #[arg(long)]
        customers: PathBuf,
        /// subscriptions.csv: customer_id,plan,monthly_fee_minor,currency,status
        #[arg(long)]
        subscriptions: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum NotifyCommand {
    /// Benchmark: render and queue COUNT personalised compensation notices
    /// into the configured database's outbox; prints time and peak memory.
    BenchQueue {
        #[arg(long, default_value_t = 1_000_000)]
        count: usize,
    },
    /// Messages in the outbox by state.
    Status,
    /// The newest message in Plaster's own mailbox (where mail goes with no
    /// SMTP server) to an address, in full: how to follow a demo
    /// customer's sign-in link, whose token Sent mail masks.
    Read {
        #[arg(long)]
        to: String,
    },
}

#[derive(Subcommand)]
enum StaffCommand {
    /// Add an account and print its one-time password, e.g.
    /// `plaster staff add --email ada@example.se --role communications`.
    Add {
        #[arg(long)]
        email: String,
        /// communications, support, finance or admin (repeatable, or comma-separated).
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
    },
    /// Give an account a new one-time password (valid 72 hours; its
    /// sessions end), e.g. when the first admin's has expired:
    /// `plaster staff reset --email ada@example.se [--second-factor]`.
    Reset {
        #[arg(long)]
        email: String,
        /// Also remove its two-step sign-in (a lost phone); it is set up
        /// again at the next sign-in.
        #[arg(long)]
        second_factor: bool,
    },
}

#[derive(Subcommand)]
enum ComponentCommand {
    /// Set a component's status, e.g. `plaster component set-status login major_outage`.
    SetStatus {
        /// The component's id.
        id: String,
        /// operational, degraded_performance, partial_outage, major_outage or under_maintenance.
        status: String,
    },
}

#[derive(Subcommand)]
enum IncidentCommand {
    /// Open an incident with its first update.
    Open(IncidentOpenCli),
    /// Post an update to an incident; the stage resolved closes it.
    Update(IncidentUpdateCli),
    /// List incidents, newest first.
    List,
}

#[derive(Args)]
struct IncidentOpenCli {
    /// none, minor, major, critical or maintenance.
    #[arg(long)]
    impact: String,
    /// investigating, identified, monitoring, resolved or postmortem.
    #[arg(long, default_value = "investigating")]
    stage: String,
    /// The title per language: sv=...,nb=...,en=... (repeatable).
    #[arg(long, required = true)]
    title: Vec<String>,
    /// The first update's text per language: sv=...,en=... (repeatable).
    #[arg(long, required = true)]
    body: Vec<String>,
    /// An affected component and its new status: login=major_outage (repeatable).
    #[arg(long)]
    component: Vec<String>,
}

#[derive(Args)]
struct IncidentUpdateCli {
    /// The incident's id (see `plaster incident list`).
    id: String,
    /// investigating, identified, monitoring, resolved or postmortem.
    #[arg(long)]
    stage: String,
    /// The update's text per language: sv=...,en=... (repeatable).
    #[arg(long, required = true)]
    body: Vec<String>,
    /// A component and its new status: login=operational (repeatable).
    #[arg(long)]
    component: Vec<String>,
}

#[derive(Subcommand)]
enum DemoCommand {
    /// Replace all status content (components, incidents, history) with the demo.
    Reset,
    /// Write realistic event logs, customers, subscriptions and plans for the demo incidents.
    GenerateLogs(GenerateLogsCli),
}

#[derive(Args)]
struct GenerateLogsCli {
    /// Folder to write into (created when missing).
    #[arg(long, default_value = "data/demo-logs")]
    out: PathBuf,
    /// v75-2023, v75-2024, sumo-2018 or all.
    #[arg(long, default_value = "all")]
    scenario: String,
    /// Number of events to write in all.
    #[arg(long, default_value_t = 100_000)]
    events: u64,
    /// Seed for the pseudo-random generator: the same seed gives the same files.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Percentage of event files written gzip-compressed.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u8).range(0..=100))]
    gzip_percent: u8,
    /// Percentage of event files written as CSV instead of JSON Lines.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u8).range(0..=100))]
    csv_percent: u8,
}

#[derive(Subcommand)]
enum CompensationCommand {
    /// Read event logs and print the compensation report for a plan (writes nothing).
    Preview(PreviewCli),
    /// Compensation runs in the portal: create, add logs, preview, approve (runs.md §4).
    #[command(subcommand)]
    Run(RunCommand),
}

#[derive(Subcommand)]
enum RunCommand {
    /// Create a draft run for an incident; prints {"run": RUN_ID, "state": "draft"}.
    Create {
        /// The status page incident the run compensates (see `plaster incident list`).
        #[arg(long)]
        incident: String,
        /// The plan (TOML, compensation.md §3); its id names the run.
        #[arg(long)]
        plan: PathBuf,
        /// The staff member acting (finance or admin).
        #[arg(long)]
        by: String,
    },
    /// Store event log files and attach them to a run.
    AddLogs {
        run: String,
        /// .jsonl, .ndjson or .csv, each optionally .gz.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long)]
        by: String,
    },
    /// Preview the run and wait; prints the report with "revision" and "digest".
    Preview {
        run: String,
        #[arg(long)]
        by: String,
        /// Write every line of the new revision as CSV to this file.
        #[arg(long)]
        details: Option<PathBuf>,
    },
    /// Approve the newest revision, naming its digest (finance; not the drafter).
    Approve {
        run: String,
        #[arg(long)]
        digest: String,
        #[arg(long)]
        by: String,
    },
    /// Send a previewed run back to draft with a reason (finance; not the drafter).
    Reject {
        run: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        by: String,
    },
    /// Post the approved revision into the ledger and wait (finance); prints
    /// {"posted": N, "already_posted": N, "discrepancies": N}.
    Execute {
        run: String,
        #[arg(long)]
        by: String,
    },
    /// Print a run's state, newest revision and digest, and its approver.
    Show { run: String },
    /// Price plan variants over the run's logs without saving anything: the
    /// first reads the logs, the others reuse what that pass learned.
    /// Prints one report per plan with "priced_ms" and "full_pass".
    WhatIf {
        run: String,
        /// A plan to price (repeatable).
        #[arg(long, required = true)]
        plan: Vec<PathBuf>,
    },
}

#[derive(Args)]
struct PreviewCli {
    /// The plan (TOML).
    #[arg(long)]
    plan: PathBuf,
    /// customers.csv: customer_id,email,name,locale,currency
    #[arg(long)]
    customers: PathBuf,
    /// subscriptions.csv: customer_id,plan,monthly_fee_minor,currency,status
    #[arg(long)]
    subscriptions: Option<PathBuf>,
    /// Write every line as CSV to this file.
    #[arg(long)]
    details: Option<PathBuf>,
    /// Event files: .jsonl, .ndjson or .csv, each optionally .gz.
    #[arg(required = true)]
    events: Vec<PathBuf>,
}

/// Parses the command line and runs the subcommand; `main.rs` is only this call.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Compensation(CompensationCommand::Preview(p)) => {
            compensation::preview_command(PreviewArgs {
                plan: p.plan,
                customers: p.customers,
                subscriptions: p.subscriptions,
                details: p.details,
                events: p.events,
            })
        }
        Command::Ledger(command) => with_store(cli.config, |store| async move {
            match command {
                LedgerCommand::Lines { run } => ledger::lines(&store, &run).await,
                LedgerCommand::Discrepancies { run } => ledger::discrepancies(&store, &run).await,
                LedgerCommand::Balance => ledger::balance(&store).await,
            }
        }),
        Command::Payouts(PayoutsCommand::Export { run }) => {
            with_store(cli.config, |store| async move {
                ledger::payouts_export(&store, &run).await
            })
        }
        Command::Compensation(CompensationCommand::Run(RunCommand::Execute { run: id, by })) => {
            with_store_settings(cli.config, |store, settings| async move {
                let mail_domain =
                    crate::notify::mailer::Mailer::new(settings.smtp.as_ref(), &store)
                        .map(|m| m.domain())
                        .map_err(|e| CliError::By(format!("mail settings: {e}")))?;
                let notices = crate::compensation::execution_job::NoticeSettings {
                    public_url: settings.public_url.to_string(),
                    mail_domain,
                    time_zone: settings.time_zone,
                };
                compensation::run::execute(&store, &id, &by, &notices).await
            })
        }
        Command::Compensation(CompensationCommand::Run(command)) => {
            with_store(cli.config, |store| async move {
                use compensation::run;
                match command {
                    RunCommand::Create { incident, plan, by } => {
                        run::create(&store, &incident, &plan, &by).await
                    }
                    RunCommand::AddLogs { run: id, files, by } => {
                        run::add_logs(&store, &id, &files, &by).await
                    }
                    RunCommand::Preview {
                        run: id,
                        by,
                        details,
                    } => run::preview(&store, &id, &by, details.as_deref()).await,
                    RunCommand::Approve {
                        run: id,
                        digest,
                        by,
                    } => run::approve(&store, &id, &digest, &by).await,
                    RunCommand::Reject {
                        run: id,
                        reason,
                        by,
                    } => run::reject(&store, &id, &reason, &by).await,
                    RunCommand::Show { run: id } => run::show(&store, &id).await,
                    // Handled above: it needs the settings too.
                    RunCommand::Execute { .. } => Ok(()),
                    RunCommand::WhatIf { run: id, plan } => run::what_if(&store, &id, &plan).await,
                }
            })
        }
        Command::Demo(DemoCommand::GenerateLogs(g)) => {
            compensation::generate_logs_command(GenerateLogsArgs {
                out_dir: g.out,
                scenario: g.scenario,
                events: g.events,
                seed: g.seed,
                gzip_share_percent: g.gzip_percent,
                csv_share_percent: g.csv_percent,
            })
        }
        Command::Serve { demo: seed_demo } => with_settings(cli.config, |settings| async move {
            let app = Application::build(settings.clone(), StartOptions { seed_demo })
                .await
                .map_err(|e| e.to_string())?;
            print_welcome(&settings, &app);
            app.run_until_stopped().await.map_err(|e| e.to_string())
        }),
        Command::Migrate => with_settings(cli.config, |settings| async move {
            let store = Store::connect(&settings.database_url)
                .await
                .map_err(|e| e.to_string())?;
            store.migrate().await.map_err(|e| e.to_string())?;
            println!("migrated {}", settings.database_url);
            Ok(())
        }),
        Command::Component(ComponentCommand::SetStatus { id, status }) => {
            with_store(cli.config, |store| async move {
                let status = commands::parse_value("status", &status)?;
                let written = commands::set_component_status(
                    &store,
                    &Actor::Cli,
                    &id.as_str().into(),
                    status,
                )
                .await?;
                println!("component {id}:");
                print_written(&written);
                Ok(())
            })
        }
        Command::Notify(NotifyCommand::BenchQueue { count }) => {
            with_store(cli.config, |store| async move {
                let report = crate::notify::bench::queue_notices(&store, count).await?;
                println!(
                    "queued {} notices in {:.2} s ({:.0}/s), {:.1} MB of bodies, peak RSS {} MiB",
                    report.count,
                    report.seconds,
                    report.count as f64 / report.seconds.max(1e-9),
                    report.bytes as f64 / 1e6,
                    report
                        .peak_rss_kib
                        .map_or_else(|| "?".to_string(), |k| (k / 1024).to_string())
                );
                Ok(())
            })
        }
        Command::Notify(NotifyCommand::Read { to }) => with_store(cli.config, |store| async move {
            let to = to.trim().to_lowercase();
            match crate::store::mailbox::newest_to(&store, &to).await? {
                Some((subject, text, at)) => {
                    println!("To: {to}");
                    println!("Subject: {subject}");
                    println!("Delivered: {}", crate::staff::page::utc(at));
                    println!();
                    println!("{text}");
                    Ok(())
                }
                None => Err(CliError::Write(WriteError::Invalid {
                    field: "to",
                    message: format!("Plaster's mailbox has no message to {to}"),
                })),
            }
        }),
        Command::Notify(NotifyCommand::Status) => with_store(cli.config, |store| async move {
            let c = crate::store::outbox::counts(&store).await?;
            println!("queued {} sent {} failed {}", c.queued, c.sent, c.failed);
            Ok(())
        }),
        Command::Staff(StaffCommand::Add { email, roles }) => {
            with_store(cli.config, |store| async move {
                use crate::staff::accounts::{create_account, AccountError};
                let invalid = |field: &'static str, e: &AccountError| {
                    CliError::Write(WriteError::Invalid {
                        field,
                        message: e.to_string(),
                    })
                };
                let roles = crate::staff::roles::Roles::parse_all(roles.iter().map(String::as_str))
                    .map_err(|e| WriteError::Invalid {
                        field: "role",
                        message: e.to_string(),
                    })?;
                let (_, password) = create_account(&store, &Actor::Cli, &email, &roles)
                    .await
                    .map_err(|e| match e {
                        AccountError::Store(e) => CliError::Store(e),
                        AccountError::Role(_) => invalid("role", &e),
                        AccountError::Hash(_) => CliError::Hash(e.to_string()),
                        _ => invalid("email", &e),
                    })?;
                println!(
                    "added {} ({})",
                    email.trim().to_lowercase(),
                    roles.to_stored()
                );
                println!("one-time password, shown only now: {password}");
                println!("sign in at /staff/login within 72 hours; the first sign-in must choose a new password");
                Ok(())
            })
        }
        Command::Staff(StaffCommand::Reset {
            email,
            second_factor,
        }) => with_store(cli.config, |store| async move {
            use crate::staff::accounts::{parse_email, reset_password, AccountError};
            let invalid = |e: &AccountError| {
                CliError::Write(WriteError::Invalid {
                    field: "email",
                    message: e.to_string(),
                })
            };
            let email = parse_email(&email).map_err(|e| invalid(&e))?;
            let account = store
                .staff_accounts()
                .await?
                .into_iter()
                .find(|a| a.email == email)
                .ok_or_else(|| {
                    CliError::Write(WriteError::Invalid {
                        field: "email",
                        message: format!("no staff account has the address {email}"),
                    })
                })?;
            let password = reset_password(&store, &Actor::Cli, &account, second_factor)
                .await
                .map_err(|e| match e {
                    AccountError::Store(e) => CliError::Store(e),
                    other => CliError::Hash(other.to_string()),
                })?;
            println!("reset {email}");
            println!("one-time password, shown only now: {password}");
            if second_factor {
                println!("two-step sign-in removed; it is set up again at the next sign-in");
            }
            println!("sign in at /staff/login within 72 hours; the first sign-in must choose a new password");
            Ok(())
        }),
        Command::Incident(IncidentCommand::Open(o)) => with_store(cli.config, |store| async move {
            let cmd = commands::OpenIncident {
                impact: commands::parse_value("impact", &o.impact)?,
                stage: commands::parse_value("stage", &o.stage)?,
                titles: commands::parse_texts("title", &o.title)?,
                bodies: commands::parse_texts("body", &o.body)?,
                components: commands::parse_component_changes(&o.component)?,
            };
            let written = commands::open_incident(&store, &Actor::Cli, &cmd).await?;
            println!(
                "opened incident {} ({}, {})",
                written.subject_id,
                cmd.impact.as_str(),
                cmd.stage.as_str()
            );
            print_written(&written);
            Ok(())
        }),
        Command::Incident(IncidentCommand::Update(u)) => {
            with_store(cli.config, |store| async move {
                let cmd = commands::PostUpdate {
                    incident_id: u.id.into(),
                    stage: commands::parse_value("stage", &u.stage)?,
                    bodies: commands::parse_texts("body", &u.body)?,
                    components: commands::parse_component_changes(&u.component)?,
                };
                let written = commands::post_incident_update(&store, &Actor::Cli, &cmd).await?;
                println!(
                    "updated incident {} ({})",
                    written.subject_id,
                    cmd.stage.as_str()
                );
                print_written(&written);
                Ok(())
            })
        }
        Command::Incident(IncidentCommand::List) => with_store(cli.config, |store| async move {
            let incidents = commands::list_incidents(&store, app::dto::Lang::En).await?;
            if incidents.is_empty() {
                println!("no incidents");
            }
            for i in incidents {
                let started = chrono::DateTime::from_timestamp_millis(i.started_at)
                    .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                    .unwrap_or_default();
                println!(
                    "{}  {:<13}  {:<11}  {}  {}",
                    i.id,
                    i.stage.as_str(),
                    i.impact.as_str(),
                    started,
                    i.title
                );
            }
            Ok(())
        }),
        Command::Customers(CustomersCommand::Import {
            customers,
            subscriptions,
        }) => with_store(cli.config, |store| async move {
            let report = import_customers(&store, &customers, subscriptions.as_deref()).await?;
            println!(
                "{}",
                serde_json::json!({"customers": report.customers, "subscriptions": report.subscriptions})
            );
            Ok(())
        }),
        Command::Demo(DemoCommand::Reset) => with_settings(cli.config, |settings| async move {
            let store = Store::connect(&settings.database_url)
                .await
                .map_err(|e| e.to_string())?;
            store.migrate().await.map_err(|e| e.to_string())?;
            demo::seed(&store, true).await.map_err(|e| e.to_string())?;
            println!("demo content reset in {}", settings.database_url);
            Ok(())
        }),
    }
}

/// Loads settings (exit 2 on a bad one), starts a runtime, runs `f` (exit 1 on error).
fn with_settings<F, Fut>(config: Option<PathBuf>, f: F) -> ExitCode
where
    F: FnOnce(Settings) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    telemetry::init();
    let settings = match Settings::load(config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("plaster: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("plaster: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(f(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("plaster: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `plaster customers import`: bad rows go to stderr, one per line.
async fn import_customers(
    store: &Store,
    customers: &std::path::Path,
    subscriptions: Option<&std::path::Path>,
) -> Result<ImportReport, CliError> {
    let open = |path: &std::path::Path| {
        std::fs::File::open(path).map_err(|error| CliError::Open {
            path: path.display().to_string(),
            error,
        })
    };
    let mut import = Import::begin(store).await?;
    import
        .customers(&customers.display().to_string(), open(customers)?)
        .await?;
    if let Some(path) = subscriptions {
        import
            .subscriptions(&path.display().to_string(), open(path)?)
            .await?;
    }
    match import.finish(&Actor::Cli).await {
        Err(ImportError::Refused { rows, total }) => {
            for row in &rows {
                eprintln!("{row}");
            }
            if total > rows.len() as u64 {
                eprintln!("... and {} more", total - rows.len() as u64);
            }
            Err(ImportError::Refused { rows, total }.into())
        }
        other => Ok(other?),
    }
}

fn print_written(written: &Written) {
    for c in &written.components {
        println!(
            "  {}: {} -> {}",
            c.component_id,
            c.old_status.as_str(),
            c.new_status.as_str()
        );
    }
    println!("  change {}", written.change_id);
}

/// Like [`with_settings`], with the database opened and migrated; input the
/// write refuses exits 2 like a bad argument.
fn with_store<F, Fut>(config: Option<PathBuf>, f: F) -> ExitCode
where
    F: FnOnce(Store) -> Fut,
    Fut: std::future::Future<Output = Result<(), CliError>>,
{
    with_store_settings(config, |store, _| f(store))
}

/// [`with_store`] for a command that also reads the settings.
fn with_store_settings<F, Fut>(config: Option<PathBuf>, f: F) -> ExitCode
where
    F: FnOnce(Store, Settings) -> Fut,
    Fut: std::future::Future<Output = Result<(), CliError>>,
{
    let mut bad_input = false;
    let code = with_settings(config, |settings| {
        let bad_input = &mut bad_input;
        async move {
            let store = Store::connect(&settings.database_url)
                .await
                .map_err(|e| e.to_string())?;
            store.migrate().await.map_err(|e| e.to_string())?;
            let result = f(store.clone(), settings).await;
            store.close().await;
            result.map_err(|e| {
                *bad_input = e.is_bad_input();
                e.to_string()
            })
        }
    });
    if bad_input {
        ExitCode::from(EXIT_USAGE)
    } else {
        code
    }
}

fn print_welcome(settings: &Settings, app: &Application) {
    let url = settings.public_url.as_str().trim_end_matches('/');
    println!();
    println!(
        "  Plaster is serving {url}/  (database: {})",
        settings.database_url
    );
    match app.first_admin() {
        Some(admin) => {
            println!();
            println!("  First admin, shown only this once:");
            println!("    sign in at  {url}/staff/login");
            println!("    e-mail      {}", admin.email);
            println!("    one-time password  {}", admin.one_time_password);
            println!(
                "  It works for 72 hours (`plaster staff reset --email ...` makes a new one)."
            );
            println!("  After signing in you choose your own password, then set up two-step");
            println!("  sign-in with an authenticator app (required for admins and finance).");
        }
        None => println!("  Staff sign in at {url}/staff/login"),
    }
    if !app.demo_staff().is_empty() {
        println!();
        println!("  Demo staff (finance: one drafts runs, the other approves; support: the claims queue;");
        println!(
            "  finance set up two-step sign-in with an authenticator app at their first sign-in):"
        );
        for member in app.demo_staff() {
            println!(
                "    {:<24} one-time password  {}",
                member.email, member.one_time_password
            );
        }
    }
    if !app.demo_customers().is_empty() {
        println!();
        println!("  Demo customers: enter one at {url}/me; the sign-in link lands in Plaster's");
        println!("  own mailbox: `plaster notify read --to ADDRESS` prints it, link included");
        println!("  (Sent mail in the console masks the link's token):");
        for (case, email) in app.demo_customers() {
            println!("    {case:<20} {email}");
        }
    }
    println!();
}
