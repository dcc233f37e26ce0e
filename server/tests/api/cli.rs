//! The `plaster` binary's own behaviour: help and bad settings.

use std::process::Command;

use crate::helpers::examples_dir;

fn plaster() -> Command {
    Command::new(env!("CARGO_BIN_EXE_plaster"))
}

#[test]
fn help_lists_every_subcommand() {
    let out = plaster().arg("--help").output().expect("run plaster");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in ["serve", "migrate", "demo", "compensation"] {
        assert!(text.contains(cmd), "{cmd} missing from --help:\n{text}");
    }
}

#[test]
fn a_bad_setting_exits_2_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = plaster()
        .current_dir(dir.path())
        .args(["serve"])
        .env("PLASTER_TIME_ZONE", "Mars/Olympus_Mons")
        .output()
        .expect("run plaster");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("PLASTER_TIME_ZONE"), "{err}");
}

#[test]
fn a_bad_config_file_exits_2_naming_file_and_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("plaster.toml");
    std::fs::write(&file, "listen = \"not an address\"\n").expect("write");
    let out = plaster()
        .current_dir(dir.path())
        .args(["migrate"])
        .env_remove("PLASTER_LISTEN")
        .output()
        .expect("run plaster");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("plaster.toml") && err.contains("listen"),
        "{err}"
    );
}

/// `plaster compensation preview` in `dir`, with its plan.toml and customers.csv.
fn preview_in(dir: &std::path::Path) -> Command {
    let mut cmd = plaster();
    cmd.current_dir(dir).args([
        "compensation",
        "preview",
        "--plan",
        "plan.toml",
        "--customers",
        "customers.csv",
    ]);
    cmd
}

fn assert_success(out: &std::process::Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The malformed examples are compared by file and line only: the reason's
/// wording is ours.
fn without_reasons(mut report: serde_json::Value) -> serde_json::Value {
    if let Some(list) = report["malformed_examples"].as_array_mut() {
        for m in list {
            if let Some(obj) = m.as_object_mut() {
                obj.remove("reason");
            }
        }
    }
    report
}

#[test]
fn compensation_preview_matches_the_shared_examples() {
    for (name, subscriptions) in [("v75", false), ("sumo", true)] {
        let dir = examples_dir(name);
        let details = tempfile::NamedTempFile::new().expect("temp file");
        let mut cmd = preview_in(&dir);
        if subscriptions {
            cmd.args(["--subscriptions", "subscriptions.csv"]);
        }
        let out = cmd
            .arg("--details")
            .arg(details.path())
            .arg("events.jsonl")
            .output()
            .expect("run plaster");
        assert_success(&out);
        let got: serde_json::Value = serde_json::from_slice(&out.stdout).expect("report is JSON");
        let want: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("expected-report.json")).expect("expected report"),
        )
        .expect("expected report is JSON");
        assert_eq!(without_reasons(got), without_reasons(want), "{name} report");
        let lines = std::fs::read_to_string(details.path()).expect("details");
        let want_lines =
            std::fs::read_to_string(dir.join("expected-lines.csv")).expect("expected lines");
        assert_eq!(lines, want_lines, "{name} details");
    }
}

#[test]
fn compensation_preview_exit_codes_name_the_problem() {
    let dir = examples_dir("v75");
    let tmp = tempfile::tempdir().expect("tempdir");
    let bad_plan = tmp.path().join("plan.toml");
    std::fs::write(
        &bad_plan,
        std::fs::read_to_string(dir.join("plan.toml"))
            .expect("plan")
            .replace("id = \"atg-2024-08-24\"", "id = \"Not Valid!\""),
    )
    .expect("write plan");
    let out = plaster()
        .current_dir(&dir)
        .args(["compensation", "preview", "--plan"])
        .arg(&bad_plan)
        .args(["--customers", "customers.csv", "events.jsonl"])
        .output()
        .expect("run plaster");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("plan.toml") && err.contains("id"), "{err}");

    let out = preview_in(&dir)
        .arg(tmp.path().join("missing.jsonl"))
        .output()
        .expect("run plaster");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.jsonl"));
}

#[test]
fn generated_logs_are_deterministic_and_preview_cleanly() {
    let run = |out: &std::path::Path| {
        let status = plaster()
            .args([
                "demo",
                "generate-logs",
                "--scenario",
                "v75-2024",
                "--events",
                "5000",
                "--seed",
                "7",
                "--out",
            ])
            .arg(out)
            .status()
            .expect("run plaster");
        assert!(status.success());
    };
    let (a, b) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    run(a.path());
    run(b.path());
    let mut files: Vec<_> = walk(a.path());
    files.sort();
    assert!(!files.is_empty());
    for rel in &files {
        assert_eq!(
            std::fs::read(a.path().join(rel)).expect("read a"),
            std::fs::read(b.path().join(rel)).expect("read b"),
            "{} differs between two runs with the same seed",
            rel.display()
        );
    }
    let scenario = files
        .iter()
        .find(|p| p.file_name().is_some_and(|n| n == "plan.toml"))
        .and_then(|p| p.parent())
        .map(|p| a.path().join(p))
        .expect("a plan was generated");
    let events: Vec<_> = std::fs::read_dir(&scenario)
        .expect("scenario dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            n.starts_with("events")
        })
        .collect();
    assert!(
        !events.is_empty(),
        "no event files in {}",
        scenario.display()
    );
    let out = preview_in(&scenario)
        .args(&events)
        .output()
        .expect("run plaster");
    assert_success(&out);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert!(
        report["events"]["records"].as_u64().unwrap_or(0) > 1000,
        "{report}"
    );
    assert!(
        report["events"]["malformed"].as_u64().unwrap_or(0) > 0,
        "generator writes malformed lines"
    );
}

fn walk(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(root) {
                out.push(rel.to_path_buf());
            }
        }
    }
    out
}
