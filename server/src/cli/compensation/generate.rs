//! `plaster demo generate-logs`: realistic event files for the three incidents.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use flate2::write::GzEncoder;
use flate2::Compression;
use plaster_engine::generate::{Generator, PartKind, Scenario};

use crate::cli::compensation::exit;

pub struct GenerateLogsArgs {
    pub out_dir: PathBuf,
    /// `v75-2023`, `v75-2024`, `sumo-2018` or `all`.
    pub scenario: String,
    /// Events in all (split evenly over the scenarios with `all`).
    pub events: u64,
    pub seed: u64,
    pub gzip_share_percent: u8,
    pub csv_share_percent: u8,
}

pub fn generate_logs_command(args: GenerateLogsArgs) -> ExitCode {
    let Some(scenarios) = Scenario::parse_list(&args.scenario) else {
        eprintln!(
            "error: --scenario: unknown scenario {:?} (expected v75-2023, v75-2024, sumo-2018 or all)",
            args.scenario
        );
        return exit::usage();
    };
    if args.gzip_share_percent as u32 + args.csv_share_percent as u32 > 100 {
        eprintln!("error: --gzip-percent plus --csv-percent must not exceed 100");
        return exit::usage();
    }
    let n = scenarios.len() as u64;
    for (k, scenario) in scenarios.into_iter().enumerate() {
        let events = args.events / n + u64::from((k as u64) < args.events % n);
        let gen = Generator::new(
            scenario,
            args.seed,
            events,
            args.gzip_share_percent,
            args.csv_share_percent,
        );
        let dir = args.out_dir.join(scenario.name());
        if let Err(msg) = write_scenario(&gen, &dir) {
            eprintln!("error: {msg}");
            return exit::unreadable();
        }
    }
    ExitCode::SUCCESS
}

fn create(path: &Path) -> Result<BufWriter<File>, String> {
    File::create(path)
        .map(|f| BufWriter::with_capacity(1 << 17, f))
        .map_err(|e| format!("{}: cannot write: {e}", path.display()))
}

fn write_scenario(gen: &Generator, dir: &Path) -> Result<(), String> {
    fs::create_dir_all(dir).map_err(|e| format!("{}: cannot create: {e}", dir.display()))?;
    let werr = |p: &Path| {
        let shown = p.display().to_string();
        move |e: std::io::Error| format!("{shown}: cannot write: {e}")
    };
    let plan = dir.join("plan.toml");
    gen.write_plan(create(&plan)?).map_err(werr(&plan))?;
    let customers = dir.join("customers.csv");
    gen.write_customers(create(&customers)?)
        .map_err(werr(&customers))?;
    let mut args = format!(
        "plaster compensation preview --plan {} --customers {}",
        plan.display(),
        customers.display()
    );
    if gen.has_subscriptions() {
        let subs = dir.join("subscriptions.csv");
        gen.write_subscriptions(create(&subs)?)
            .map_err(werr(&subs))?;
        args.push_str(&format!(" --subscriptions {}", subs.display()));
    }
    let parts = gen.parts();
    // Parts are independent, so they are written in parallel.
    let results: Vec<Result<PathBuf, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .iter()
            .map(|part| {
                let path = dir.join(part.file_name);
                s.spawn(move || -> Result<PathBuf, String> {
                    let out = create(&path)?;
                    let res = if part.kind == PartKind::GzipJsonLines {
                        let mut gz = GzEncoder::new(out, Compression::fast());
                        gen.write_events(part, &mut gz)
                            .and_then(|_| gz.finish())
                            .and_then(|mut w| w.flush())
                    } else {
                        gen.write_events(part, out)
                    };
                    res.map_err(werr(&path))?;
                    Ok(path)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a writer thread failed".into()))
            })
            .collect()
    });
    for r in results {
        let path = r?;
        args.push(' ');
        args.push_str(&path.display().to_string());
    }
    eprintln!("{}: wrote {}", gen.scenario().name(), dir.display());
    eprintln!("  try: {args}");
    Ok(())
}
