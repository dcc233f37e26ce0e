//! The record parsers and the streaming pipeline must never panic, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plaster_engine::record::{parse_csv_row, parse_json_line, CsvHeader};
use plaster_engine::{Customers, Engine, EventSource, Format, Options, Plan, Subscriptions};

const PLAN: &str = r#"
id = "fuzz"
components = ["login", "betting", "streaming"]
started_at = "2024-08-24T16:00:00+02:00"
resolved_at = "2024-08-24T17:00:00+02:00"
[[rules]]
kind = "refund_failed_debits"
[[rules]]
kind = "goodwill_credit"
amount_minor = { SEK = 1 }
[[rules]]
kind = "subscription_credit"
days = 3
"#;

fuzz_target!(|data: &[u8]| {
    let _ = parse_json_line(data);
    if let Ok(h) = CsvHeader::parse(b"ts,kind,customer_id,outcome,bet_id,game,round_id,stake_minor,currency") {
        for row in data.split(|&b| b == b'\n') {
            let _ = parse_csv_row(&h, row);
        }
    }
    if let Ok(plan) = Plan::parse(PLAN) {
        let engine = Engine::new(plan, Customers::default(), Subscriptions::default());
        let opts = Options { threads: 1, chunk_bytes: 4096, ..Options::default() };
        let _ = engine.preview(
            vec![
                EventSource::new("f.jsonl", Format::JsonLines, data),
                EventSource::new("f.csv", Format::Csv, data),
            ],
            &opts,
        );
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Plan::parse(text);
        let _ = plaster_engine::Instant::parse_rfc3339(text);
    }
});
