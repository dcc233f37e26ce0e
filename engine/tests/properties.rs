//! Invariants of the rules, on random logs.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, FixedOffset, SecondsFormat, TimeZone, Utc};
use plaster_engine::{
    blocked_attos, Currency, CustomerId, Customers, Engine, EventSource, Format, Instant, Options,
    Plan, Preview, Subscriptions,
};
use proptest::prelude::*;

const PLAN: &str = r#"
id = "prop"
components = ["login", "betting", "streaming"]
started_at = "2024-08-24T16:00:00+02:00"
resolved_at = "2024-08-24T17:00:00+02:00"

[[rules]]
kind = "refund_failed_debits"
games = ["V75"]

[[rules]]
kind = "goodwill_credit"
deadline = "2024-08-24T16:20:00+02:00"
amount_minor = { SEK = 5000 }

[[rules]]
kind = "subscription_credit"
percent_of_monthly_fee = 25
min_blocked_minutes = 10

[[rules]]
kind = "jackpot_topup"
round_id = "r"
currency = "SEK"
target_minor = 10
current_minor = 3
"#;

const WINDOW_SECS: i64 = 3600;
const CUSTOMERS: u32 = 8;

fn started() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 8, 24, 14, 0, 0).unwrap()
}

#[derive(Clone, Debug)]
struct Ev {
    cust: u32,
    kind: u8,
    outcome: u8,
    /// Milliseconds from started_at.
    at_ms: i64,
    zone: u8,
    bet: u32,
}

fn ev() -> impl Strategy<Value = Ev> {
    (
        0..CUSTOMERS + 2,
        0u8..3,
        0u8..3,
        prop_oneof![
            (-600_000i64..(WINDOW_SECS * 1000 + 600_000)),
            Just(0i64),
            Just(WINDOW_SECS * 1000),
            Just(1_200_000i64)
        ],
        0u8..3,
        0u32..12,
    )
        .prop_map(|(cust, kind, outcome, at_ms, zone, bet)| Ev {
            cust,
            kind,
            outcome,
            at_ms,
            zone,
            bet,
        })
}

impl Ev {
    fn ts(&self) -> String {
        let t = started() + Duration::milliseconds(self.at_ms);
        let offset = FixedOffset::east_opt([0, 3600, 7200][self.zone as usize]).unwrap();
        t.with_timezone(&offset)
            .to_rfc3339_opts(SecondsFormat::AutoSi, self.zone == 0)
    }

    /// A bet's customer, game and stake follow from its id, so retries agree.
    fn bet_fields(&self) -> (String, &'static str, i64) {
        (
            format!("c{}", self.bet % (CUSTOMERS + 2)),
            ["V75", "V5"][(self.bet % 2) as usize],
            100 * (self.bet as i64 + 1),
        )
    }

    fn bet_outcome(&self) -> &'static str {
        ["placed", "failed_after_debit", "rejected"][self.outcome as usize]
    }

    fn access_outcome(&self) -> &'static str {
        ["success", "failure", "failure"][self.outcome as usize]
    }

    fn json(&self) -> String {
        match self.kind {
            0 | 1 => format!(
                r#"{{"ts":"{}","kind":"{}","customer_id":"c{}","outcome":"{}"}}"#,
                self.ts(),
                ["login", "stream"][self.kind as usize],
                self.cust,
                self.access_outcome()
            ),
            _ => {
                let (c, g, s) = self.bet_fields();
                format!(
                    r#"{{"ts":"{}","kind":"bet","customer_id":"{c}","outcome":"{}","bet_id":"b{}","game":"{g}","round_id":"r","stake_minor":{s},"currency":"SEK"}}"#,
                    self.ts(),
                    self.bet_outcome(),
                    self.bet
                )
            }
        }
    }

    fn csv(&self) -> String {
        match self.kind {
            0 | 1 => format!(
                "{},{},c{},{},,,,,\n",
                self.ts(),
                ["login", "stream"][self.kind as usize],
                self.cust,
                self.access_outcome()
            ),
            _ => {
                let (c, g, s) = self.bet_fields();
                format!(
                    "{},bet,{c},{},b{},{g},\"r,1\",{s},SEK\n",
                    self.ts(),
                    self.bet_outcome(),
                    self.bet
                )
            }
        }
    }
}

const CSV_HEADER: &str = "ts,kind,customer_id,outcome,bet_id,game,round_id,stake_minor,currency\n";

fn engine() -> Engine {
    engine_for(PLAN)
}

fn engine_for(plan: &str) -> Engine {
    let plan = Plan::parse(plan).unwrap();
    let mut customers = Customers::default();
    let mut subs = Subscriptions::default();
    // c0..c7 are known (c7 in NOK, without a goodwill amount); c8, c9 are unknown.
    for c in 0..CUSTOMERS {
        let cur = if c == 7 { "NOK" } else { "SEK" };
        let id = CustomerId::parse(&format!("c{c}")).unwrap();
        customers.insert(id.clone(), Currency::parse(cur).unwrap());
        subs.insert_active(
            id,
            plaster_engine::reference::Subscription {
                plan: "p".into(),
                monthly_fee_minor: 9900,
                currency: Currency::parse(cur).unwrap(),
            },
        );
    }
    Engine::new(plan, customers, subs)
}

fn run(engine: &Engine, files: Vec<(String, Format, String)>, threads: usize) -> Preview {
    let sources = files
        .into_iter()
        .map(|(name, format, text)| EventSource::new(name, format, std::io::Cursor::new(text)))
        .collect();
    engine
        .preview(
            sources,
            &Options {
                threads,
                chunk_bytes: 4096,
                ..Options::default()
            },
        )
        .unwrap()
}

fn one_file(evs: &[Ev]) -> Vec<(String, Format, String)> {
    let text: String = evs.iter().map(|e| e.json() + "\n").collect();
    vec![("all.jsonl".into(), Format::JsonLines, text)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn refund_total_is_sum_of_failed_debits_in_window(evs in prop::collection::vec(ev(), 0..80)) {
        let preview = run(&engine(), one_file(&evs), 2);
        // Oracle: decide each bet by (ts, placed > failed_after_debit > rejected).
        let mut decided: HashMap<u32, (i64, u8, &Ev)> = HashMap::new();
        for e in evs.iter().filter(|e| e.kind == 2) {
            let prec = [2u8, 1, 0][e.outcome as usize];
            let key = (e.at_ms, prec);
            match decided.get(&e.bet) {
                Some((t, p, _)) if (*t, *p) >= key => {}
                _ => { decided.insert(e.bet, (e.at_ms, prec, e)); }
            }
        }
        let mut expected = 0i128;
        for (t, prec, e) in decided.values() {
            let (cust, game, stake) = e.bet_fields();
            let known = cust.trim_start_matches('c').parse::<u32>().unwrap() < CUSTOMERS;
            if *prec == 1 && *t >= 0 && *t < WINDOW_SECS * 1000 && game == "V75" && known {
                expected += stake as i128;
            }
        }
        let got: i128 = preview.report.rules[0].total_minor.values().sum();
        prop_assert_eq!(got, expected);
        let from_lines: i128 = preview.lines.iter().filter(|l| l.rule_position == 0).map(|l| l.amount_minor).sum();
        prop_assert_eq!(from_lines, expected);
    }

    #[test]
    fn no_customer_gets_two_goodwill_lines(evs in prop::collection::vec(ev(), 0..80)) {
        let preview = run(&engine(), one_file(&evs), 2);
        let mut seen = std::collections::HashSet::new();
        for l in preview.lines.iter().filter(|l| l.rule == "goodwill_credit") {
            prop_assert!(seen.insert(l.customer_id.clone()), "two goodwill lines for {}", l.customer_id);
        }
        prop_assert_eq!(preview.report.rules[1].customers, preview.report.rules[1].lines);
    }

    #[test]
    fn blocked_time_never_exceeds_the_window(
        mut fails in prop::collection::vec(0i64..WINDOW_SECS * 1000, 1..20),
        mut succs in prop::collection::vec(-600_000i64..WINDOW_SECS * 1000 + 600_000, 0..20),
    ) {
        let at = |ms: i64| {
            let t = started() + Duration::milliseconds(ms);
            Instant::parse_rfc3339(&t.to_rfc3339()).unwrap()
        };
        fails.sort();
        succs.sort();
        let f: Vec<Instant> = fails.iter().map(|&m| at(m)).collect();
        let s: Vec<Instant> = succs.iter().map(|&m| at(m)).collect();
        let resolved = at(WINDOW_SECS * 1000);
        let blocked = blocked_attos(&f, &s, resolved);
        prop_assert!(blocked > 0);
        prop_assert!(blocked <= resolved.attos_since(f[0]));
        prop_assert!(blocked <= resolved.attos_since(at(0)));
    }

    #[test]
    fn shuffling_and_splitting_changes_nothing(
        evs in prop::collection::vec(ev(), 0..80),
        perm_seed in any::<u64>(),
        parts in 1usize..5,
        threads in 1usize..4,
    ) {
        let engine = engine();
        let reference = run(&engine, one_file(&evs), 1);
        // Shuffle (Fisher-Yates with a fixed PRNG) and deal into files, some CSV.
        let mut order: Vec<usize> = (0..evs.len()).collect();
        let mut x = perm_seed | 1;
        for i in (1..order.len()).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            order.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let mut files: Vec<(String, Format, String)> = (0..parts)
            .map(|p| if p % 2 == 1 {
                (format!("p{p}.csv"), Format::Csv, CSV_HEADER.to_string())
            } else {
                (format!("p{p}.jsonl"), Format::JsonLines, String::new())
            })
            .collect();
        for (k, &i) in order.iter().enumerate() {
            let f = &mut files[k % parts];
            match f.1 {
                Format::Csv => f.2.push_str(&evs[i].csv()),
                Format::JsonLines => { f.2.push_str(&evs[i].json()); f.2.push('\n'); }
            }
        }
        let shuffled = run(&engine, files, threads);
        prop_assert_eq!(&shuffled.lines, &reference.lines);
        prop_assert_eq!(&shuffled.report, &reference.report);
        let totals: BTreeMap<String, i128> = shuffled.report.total_minor.clone();
        // The jackpot line alone is 7.
        prop_assert!(totals.get("SEK").copied().unwrap_or(0) >= 7);
    }

    #[test]
    fn blocked_time_over_the_window_pays_nothing(evs in prop::collection::vec(ev(), 0..80)) {
        let plan = PLAN.replace("min_blocked_minutes = 10", "min_blocked_minutes = 61");
        let preview = run(&engine_for(&plan), one_file(&evs), 2);
        prop_assert_eq!(preview.report.rules[2].lines, 0);
        prop_assert_eq!(preview.report.rules[2].skipped.unknown_customer, 0);
    }

    #[test]
    fn parser_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = plaster_engine::record::parse_json_line(&bytes);
        let engine = engine();
        let _ = run(&engine, vec![
            ("x.jsonl".into(), Format::JsonLines, String::from_utf8_lossy(&bytes).into_owned()),
            ("x.csv".into(), Format::Csv, String::from_utf8_lossy(&bytes).into_owned()),
        ], 2);
    }
}
