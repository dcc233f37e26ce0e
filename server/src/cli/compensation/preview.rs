//! `plaster compensation preview`: one streaming pass, the report on stdout.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use plaster_engine::{
    Customers, Engine, EngineError, Options, Plan, ReferenceError, Subscriptions,
};

use crate::cli::compensation::exit;
use crate::cli::compensation::input::{open_event_file, OpenError};

pub struct PreviewArgs {
    pub plan: PathBuf,
    pub customers: PathBuf,
    pub subscriptions: Option<PathBuf>,
    pub details: Option<PathBuf>,
    pub events: Vec<PathBuf>,
}

pub fn preview_command(args: PreviewArgs) -> ExitCode {
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(msg)) => {
            eprintln!("error: {msg}");
            exit::usage()
        }
        Err(Failure::Unreadable(msg)) => {
            eprintln!("error: {msg}");
            exit::unreadable()
        }
    }
}

enum Failure {
    /// Exit 2: the plan, an argument or a reference file's content is wrong.
    Usage(String),
    /// Exit 1: a file could not be read or written.
    Unreadable(String),
}

fn reference_failure(e: ReferenceError) -> Failure {
    match e {
        ReferenceError::Io { .. } => Failure::Unreadable(e.to_string()),
        ReferenceError::Invalid { .. } => Failure::Usage(e.to_string()),
    }
}

fn open(path: &Path) -> Result<File, Failure> {
    File::open(path)
        .map_err(|e| Failure::Unreadable(format!("{}: cannot read: {e}", path.display())))
}

fn run(args: PreviewArgs) -> Result<(), Failure> {
    if args.events.is_empty() {
        return Err(Failure::Usage(
            "EVENTS: give at least one event file".into(),
        ));
    }
    let plan_text = std::fs::read_to_string(&args.plan)
        .map_err(|e| Failure::Unreadable(format!("{}: cannot read: {e}", args.plan.display())))?;
    let plan = Plan::parse(&plan_text).map_err(|e| {
        if e.field.is_empty() {
            Failure::Usage(format!("{}: {}", args.plan.display(), e.message))
        } else {
            Failure::Usage(format!(
                "{}: {}: {}",
                args.plan.display(),
                e.field,
                e.message
            ))
        }
    })?;
    let customers = Customers::read(
        &args.customers.display().to_string(),
        BufReader::new(open(&args.customers)?),
    )
    .map_err(reference_failure)?;
    let subscriptions = match &args.subscriptions {
        Some(p) => Subscriptions::read(&p.display().to_string(), BufReader::new(open(p)?))
            .map_err(reference_failure)?,
        None => Subscriptions::default(),
    };

    // Open every event file before reading any, so a typo fails fast.
    let bytes = Arc::new(AtomicU64::new(0));
    let mut sources = Vec::with_capacity(args.events.len());
    let mut total_bytes = 0;
    for path in &args.events {
        match open_event_file(path, bytes.clone()) {
            Ok((source, size)) => {
                total_bytes += size;
                sources.push(source);
            }
            Err(OpenError::UnknownExtension(name)) => {
                return Err(Failure::Usage(format!(
                    "EVENTS: {name}: unknown file type (expected .jsonl, .ndjson or .csv, optionally .gz)"
                )))
            }
            Err(OpenError::Io(name, e)) => {
                return Err(Failure::Unreadable(format!("{name}: cannot read: {e}")))
            }
        }
    }
    // Create the details file up front too: failing after the whole pass would waste it.
    let details = match &args.details {
        Some(p) => Some((
            p,
            File::create(p)
                .map_err(|e| Failure::Unreadable(format!("{}: cannot write: {e}", p.display())))?,
        )),
        None => None,
    };

    let records = Arc::new(AtomicU64::new(0));
    let options = Options {
        records_done: Some(records.clone()),
        ..Options::default()
    };
    let engine = Engine::new(plan, customers, subscriptions);
    let progress = Progress::start(total_bytes, bytes, records);
    let result = engine.preview(sources, &options);
    progress.finish();
    let preview = result.map_err(|e| match e {
        EngineError::Read { .. } => Failure::Unreadable(e.to_string()),
        EngineError::Worker => Failure::Unreadable(e.to_string()),
    })?;

    if let Some((path, file)) = details {
        preview
            .write_details(BufWriter::with_capacity(1 << 16, file))
            .map_err(|e| Failure::Unreadable(format!("{}: cannot write: {e}", path.display())))?;
    }
    let json = serde_json::to_string_pretty(&preview.report)
        .map_err(|e| Failure::Unreadable(format!("cannot render the report: {e}")))?;
    let mut out = io::stdout().lock();
    writeln!(out, "{json}")
        .and_then(|_| out.flush())
        .map_err(|e| Failure::Unreadable(format!("stdout: {e}")))?;
    Ok(())
}

/// A progress bar on stderr (bytes read, records per second), only when
/// stderr is a terminal: scripts reading stderr get no escape codes.
struct Progress {
    stop: Arc<AtomicBool>,
    ticker: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    fn start(total_bytes: u64, bytes: Arc<AtomicU64>, records: Arc<AtomicU64>) -> Progress {
        let stop = Arc::new(AtomicBool::new(false));
        if !io::stderr().is_terminal() {
            return Progress { stop, ticker: None };
        }
        let bar = ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] [{wide_bar}] {bytes}/{total_bytes} ({bytes_per_sec}) {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        let flag = stop.clone();
        let ticker = std::thread::spawn(move || {
            let started = Instant::now();
            while !flag.load(Ordering::Relaxed) {
                bar.set_position(bytes.load(Ordering::Relaxed));
                let n = records.load(Ordering::Relaxed);
                let secs = started.elapsed().as_secs_f64().max(1e-3);
                bar.set_message(format!("{n} records, {:.0} records/s", n as f64 / secs));
                std::thread::sleep(Duration::from_millis(100));
            }
            bar.finish_and_clear();
        });
        Progress {
            stop,
            ticker: Some(ticker),
        }
    }

    fn finish(self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.ticker {
            let _ = t.join();
        }
    }
}
