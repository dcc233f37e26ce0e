//! The worked examples (docs/examples): output must equal expected-report.json (as data;
//! malformed examples by file and line) and expected-lines.csv (exactly).

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use plaster_engine::{Customers, Engine, EventSource, Format, Options, Plan, Subscriptions};
use serde_json::Value;

fn examples() -> PathBuf {
    // The worked examples of docs/spec/compensation.md, kept in the repository.
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/examples")).to_path_buf()
}

fn run(name: &str, options: &Options) -> (String, String) {
    let dir = examples().join(name);
    let plan = Plan::parse(&std::fs::read_to_string(dir.join("plan.toml")).unwrap()).unwrap();
    let customers = Customers::read(
        "customers.csv",
        BufReader::new(File::open(dir.join("customers.csv")).unwrap()),
    )
    .unwrap();
    let subscriptions = match File::open(dir.join("subscriptions.csv")) {
        Ok(f) => Subscriptions::read("subscriptions.csv", BufReader::new(f)).unwrap(),
        Err(_) => Subscriptions::default(),
    };
    let engine = Engine::new(plan, customers, subscriptions);
    let events = File::open(dir.join("events.jsonl")).unwrap();
    let preview = engine
        .preview(
            vec![EventSource::new("events.jsonl", Format::JsonLines, events)],
            options,
        )
        .unwrap();
    let mut details = Vec::new();
    preview.write_details(&mut details).unwrap();
    (
        serde_json::to_string_pretty(&preview.report).unwrap(),
        String::from_utf8(details).unwrap(),
    )
}

/// Malformed examples are compared by file and line only: reasons are prose.
fn without_reasons(mut v: Value) -> Value {
    if let Some(list) = v
        .get_mut("malformed_examples")
        .and_then(Value::as_array_mut)
    {
        for e in list {
            if let Some(o) = e.as_object_mut() {
                o.remove("reason");
            }
        }
    }
    v
}

fn check(name: &str) {
    for options in [
        Options::default(),
        Options {
            threads: 1,
            chunk_bytes: 4096,
            ..Options::default()
        },
        Options {
            threads: 3,
            ..Options::default()
        },
    ] {
        let (report, lines) = run(name, &options);
        let report: Value = serde_json::from_str(&report).unwrap();
        let dir = examples().join(name);
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("expected-report.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(without_reasons(report.clone()), without_reasons(expected));
        for e in report["malformed_examples"].as_array().unwrap() {
            assert!(!e["reason"].as_str().unwrap().is_empty());
        }
        let expected_lines = std::fs::read_to_string(dir.join("expected-lines.csv")).unwrap();
        assert_eq!(lines, expected_lines);
    }
}

#[test]
fn sumo_matches_expected() {
    check("sumo");
}

#[test]
fn v75_matches_expected() {
    check("v75");
}

#[test]
fn report_keys_in_spec_order() {
    let (text, _) = run("v75", &Options::default());
    let order = [
        "\"plan\"",
        "\"window\"",
        "\"events\"",
        "\"malformed_examples\"",
        "\"affected_customers\"",
        "\"unknown_customers\"",
        "\"rules\"",
    ];
    let mut at = 0;
    for key in order {
        let pos = text[at..].find(key).map(|p| p + at).unwrap();
        at = pos;
    }
}

/// What-if: a plan priced over what one pass learned equals a full pass of
/// that plan, for changed amounts, games, an earlier deadline and an added
/// rule; a plan that needs records the pass did not keep is refused.
#[test]
fn a_learned_pass_reprices_changed_plans_exactly() {
    for name in ["v75", "sumo"] {
        let dir = examples().join(name);
        let text = std::fs::read_to_string(dir.join("plan.toml")).unwrap();
        let customers = Customers::read(
            "customers.csv",
            BufReader::new(File::open(dir.join("customers.csv")).unwrap()),
        )
        .unwrap();
        let subscriptions = match File::open(dir.join("subscriptions.csv")) {
            Ok(f) => Subscriptions::read("subscriptions.csv", BufReader::new(f)).unwrap(),
            Err(_) => Subscriptions::default(),
        };
        let events = || {
            vec![EventSource::new(
                "events.jsonl",
                Format::JsonLines,
                File::open(dir.join("events.jsonl")).unwrap(),
            )]
        };
        let engine = Engine::new(
            Plan::parse(&text).unwrap(),
            customers.clone(),
            subscriptions.clone(),
        );
        let (first, learned) = engine
            .preview_and_learn(events(), &Options::default())
            .unwrap();
        assert_eq!(
            first,
            engine.preview(events(), &Options::default()).unwrap()
        );
        let variants = [
            text.replace("5000", "7500"),
            text.replace("games = [\"V75\"]", "games = [\"V75\", \"V5\"]"),
            text.replace("16:20:00+02:00", "16:12:00+02:00"),
            format!("{text}\n[[rules]]\nkind = \"refund_failed_debits\"\n"),
        ];
        for variant in variants {
            let plan = Plan::parse(&variant).unwrap();
            let full = Engine::new(plan.clone(), customers.clone(), subscriptions.clone())
                .preview(events(), &Options::default())
                .unwrap();
            assert_eq!(
                learned.reprice(&plan).expect("repriced"),
                full,
                "{name}:\n{variant}"
            );
        }
        let moved = Plan::parse(
            &text
                .replace(
                    "started_at = \"2024-08-24T16:06",
                    "started_at = \"2024-08-24T16:00",
                )
                .replace("started_at = \"2018-08-20T", "started_at = \"2018-08-19T"),
        )
        .unwrap();
        assert_eq!(learned.reprice(&moved).unwrap_err(), "the window changed");
    }
}
