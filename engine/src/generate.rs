//! Deterministic demo logs for the three incidents of DESIGN.md.
//!
//! Every event is a pure function of `(seed, scenario, index)`, so any part of
//! the log can be written on its own, in parallel, in constant memory, and the
//! same seed always gives the same bytes. Writers are handed in: the generator
//! does no file I/O of its own.
//!
//! The awkward cases are all there, at fixed small rates: retransmitted lines,
//! retried bets with the same `bet_id`, equal timestamps, mixed offsets and
//! fraction lengths, instants exactly on the window's edges, malformed lines,
//! customers missing from `customers.csv`, CSV cells that need quoting.

use std::io::{self, Write};

use crate::report::write_cell;
use crate::time::{civil_from_days, days_from_civil};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// ATG, a V75 Saturday in September 2023: login and betting failed from
    /// about 20 minutes before the first race until about 17:30.
    V75_2023,
    /// ATG, 24 August 2024: a false close signal at 16:06, down until 20:41.
    V75_2024,
    /// TV 2 Sumo, 20 August 2018: login collapsed at the 21:00 kick-off.
    Sumo2018,
}

impl Scenario {
    pub const ALL: [Scenario; 3] = [Scenario::V75_2023, Scenario::V75_2024, Scenario::Sumo2018];

    /// `v75-2023`, `v75-2024`, `sumo-2018`, or `all`.
    pub fn parse_list(s: &str) -> Option<Vec<Scenario>> {
        match s {
            "all" => Some(Scenario::ALL.to_vec()),
            "v75-2023" => Some(vec![Scenario::V75_2023]),
            "v75-2024" => Some(vec![Scenario::V75_2024]),
            "sumo-2018" => Some(vec![Scenario::Sumo2018]),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Scenario::V75_2023 => "v75-2023",
            Scenario::V75_2024 => "v75-2024",
            Scenario::Sumo2018 => "sumo-2018",
        }
    }

    fn spec(self) -> &'static Spec {
        match self {
            Scenario::V75_2023 => &V75_2023,
            Scenario::V75_2024 => &V75_2024,
            Scenario::Sumo2018 => &SUMO_2018,
        }
    }
}

/// Local wall-clock times are CEST (+02:00) in all three incidents.
const LOCAL_OFFSET: i64 = 7200;

struct Spec {
    date: (i64, u32, u32),
    /// Local seconds of day.
    log_from: i64,
    log_to: i64,
    started: i64,
    resolved: i64,
    /// The V75 deadline (betting) or the kick-off (Sumo).
    deadline: i64,
    betting: bool,
    plan: &'static str,
}

const fn hm(h: i64, m: i64) -> i64 {
    h * 3600 + m * 60
}

static V75_2023: Spec = Spec {
    date: (2023, 9, 16),
    log_from: hm(12, 0),
    log_to: hm(22, 0),
    started: hm(16, 0),
    resolved: hm(17, 30),
    deadline: hm(16, 20),
    betting: true,
    plan: r#"# ATG, a V75 Saturday in September 2023 (the date here is illustrative): login and
# bet placement failed from about 20 minutes before the first race at Färjestad;
# systems came back around 17:30. Coupons could not be handed in before the deadline.
id = "atg-2023-09-16"
components = ["login", "betting"]
started_at = "2023-09-16T16:00:00+02:00"
resolved_at = "2023-09-16T17:30:00+02:00"

[title]
sv = "Inloggning och spel låg nere före V75 på Färjestad"
en = "Login and betting down before the V75 at Färjestad"

[[rules]]
kind = "refund_failed_debits"

[[rules]]
kind = "goodwill_credit"
games = ["V75"]
deadline = "2023-09-16T16:20:00+02:00"
amount_minor = { SEK = 2500, NOK = 2500 }
"#,
};

static V75_2024: Spec = Spec {
    date: (2024, 8, 24),
    log_from: hm(12, 0),
    log_to: hm(23, 30),
    started: hm(16, 6),
    resolved: hm(20, 41),
    deadline: hm(16, 20),
    betting: true,
    plan: r#"# ATG, Saturday 24 August 2024: a false close signal stopped all betting at 16:06,
# 14 minutes before the V75 deadline (16:20); trotting, sport and casino stayed down
# until 20:41. Next week's V75 jackpot is topped up from the fund to 75 MSEK.
id = "atg-2024-08-24"
components = ["login", "betting"]
started_at = "2024-08-24T16:06:00+02:00"
resolved_at = "2024-08-24T20:41:00+02:00"

[title]
sv = "Spelstopp före V75"
en = "Betting unavailable before the V75 deadline"

[[rules]]
kind = "refund_failed_debits"
games = ["V75"]

[[rules]]
kind = "goodwill_credit"
games = ["V75"]
deadline = "2024-08-24T16:20:00+02:00"
amount_minor = { SEK = 5000, NOK = 5000 }

[[rules]]
kind = "jackpot_topup"
round_id = "2024-08-31-V75"
currency = "SEK"
target_minor = 7500000000
current_minor = 2700000000
"#,
};

static SUMO_2018: Spec = Spec {
    date: (2018, 8, 20),
    log_from: hm(19, 0),
    log_to: hm(23, 59),
    started: hm(20, 30),
    resolved: hm(22, 15),
    deadline: hm(21, 0),
    betting: false,
    plan: r#"# TV 2 Sumo, Monday 20 August 2018: login collapsed as Crystal Palace - Liverpool
# kicked off at 21:00. Viewers already signed in before 20:30 kept watching.
id = "sumo-2018-08-20"
components = ["login", "streaming"]
started_at = "2018-08-20T20:30:00+02:00"
resolved_at = "2018-08-20T22:15:00+02:00"

[title]
nb = "Innlogging til Sumo feilet ved kampstart"
en = "Sumo sign-in failed at kick-off"

[[rules]]
kind = "subscription_credit"
days = 7
min_blocked_minutes = 15
"#,
};

/// SplitMix64: tiny, fast, and fixed forever, so seeds stay reproducible.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }
    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        ((self.next() as u128 * n as u128) >> 64) as u64
    }
    /// True with probability `per_mille / 1000`.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Which file an event goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartKind {
    JsonLines,
    GzipJsonLines,
    Csv,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    pub file_name: &'static str,
    pub kind: PartKind,
}

/// One scenario's generator.
#[derive(Clone, Debug)]
pub struct Generator {
    scenario: Scenario,
    seed: u64,
    events: u64,
    customers: u64,
    gzip_percent: u64,
    csv_percent: u64,
    epoch_day: i64,
}

#[derive(Clone, Copy)]
enum Kind {
    Login,
    Stream,
    Bet,
}

/// The base event at one index; the emitted event may instead repeat or retry
/// the previous index's base event.
struct Base {
    ts: i64,
    nanos: u32,
    kind: Kind,
    customer: u64,
    failure: bool,
    outcome: &'static str,
    channel: &'static str,
    error: &'static str,
    game: &'static str,
    stake: u64,
    bet_index: u64,
}

const ERRORS_LOGIN: &[&str] = &["HTTP_503", "AUTH_UNAVAILABLE", "TIMEOUT", "HTTP_502"];
const ERRORS_BET: &[&str] = &[
    "POOL_CLOSED",
    "TIMEOUT",
    "GATEWAY_TIMEOUT, upstream \"sport\" closed",
    "HTTP_503",
];
const ERRORS_STREAM: &[&str] = &[
    "CDN_TIMEOUT",
    "DRM_LICENSE_FAILED",
    "HTTP_503, \"edge\" overloaded",
];
const GAMES: &[&str] = &[
    "V75", "V75", "V75", "V75", "V5", "V4", "DD", "vinnare", "plats", "trio",
];
const CHANNELS: &[&str] = &["web", "app", "app", "tv"];
const FIRST: &[&str] = &[
    "Anna", "Erik", "Maria", "Johan", "Karin", "Per", "Eva", "Nils", "Kari", "Ola", "Ingrid",
    "Lars", "Sofie", "Emil", "Nora", "Liisa",
];
const LAST: &[&str] = &[
    "Svensson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Larsson",
    "Olsson",
    "Persson",
    "Nordmann",
    "Hansen",
    "Berg",
    "Dahl",
    "Lie",
    "Strand",
    "Bakke",
    "Virtanen",
];

impl Generator {
    /// `events` in all for this scenario; the customer base scales with it.
    pub fn new(
        scenario: Scenario,
        seed: u64,
        events: u64,
        gzip_percent: u8,
        csv_percent: u8,
    ) -> Generator {
        let gzip_percent = (gzip_percent as u64).min(100);
        let csv_percent = (csv_percent as u64).min(100 - gzip_percent);
        let (y, m, d) = scenario.spec().date;
        Generator {
            scenario,
            seed,
            events,
            customers: (events / 25).clamp(20, 5_000_000),
            gzip_percent,
            csv_percent,
            epoch_day: days_from_civil(y, m, d),
        }
    }

    pub fn scenario(&self) -> Scenario {
        self.scenario
    }

    /// The event files of this scenario (only those that get events).
    pub fn parts(&self) -> Vec<Part> {
        let mut parts = Vec::new();
        if self.gzip_percent + self.csv_percent < 100 {
            parts.push(Part {
                file_name: "events.jsonl",
                kind: PartKind::JsonLines,
            });
        }
        if self.gzip_percent > 0 {
            parts.push(Part {
                file_name: "events-archive.jsonl.gz",
                kind: PartKind::GzipJsonLines,
            });
        }
        if self.csv_percent > 0 {
            parts.push(Part {
                file_name: "events-export.csv",
                kind: PartKind::Csv,
            });
        }
        parts
    }

    fn part_of(&self, i: u64) -> PartKind {
        let bucket =
            mix(self.seed ^ 0xA5A5_0000_0000_0000 ^ i.wrapping_mul(0x2545_F491_4F6C_DD1D)) % 100;
        if bucket < self.gzip_percent {
            PartKind::GzipJsonLines
        } else if bucket < self.gzip_percent + self.csv_percent {
            PartKind::Csv
        } else {
            PartKind::JsonLines
        }
    }

    pub fn write_plan(&self, mut w: impl Write) -> io::Result<()> {
        w.write_all(self.scenario.spec().plan.as_bytes())
    }

    fn customer_id(&self, c: u64, out: &mut Vec<u8>) {
        // Ids past the customer base are "unknown": in the logs, not in customers.csv.
        let prefix: &[u8] = match self.scenario {
            Scenario::Sumo2018 => b"n-",
            _ => match currency_of(c) {
                "NOK" => b"n-",
                "EUR" => b"f-",
                _ => b"s-",
            },
        };
        out.extend_from_slice(prefix);
        push_padded(out, c, 7);
    }

    pub fn write_customers(&self, mut w: impl Write) -> io::Result<()> {
        let mut buf = Vec::with_capacity(1 << 16);
        buf.extend_from_slice(b"customer_id,email,name,locale,currency\n");
        let mut rng = Rng::new(self.seed ^ 0xC0FFEE);
        for c in 0..self.customers {
            let first = rng.pick(FIRST);
            let last = rng.pick(LAST);
            let cur = match self.scenario {
                Scenario::Sumo2018 => "NOK",
                _ => currency_of(c),
            };
            let (locale, tld) = match cur {
                "NOK" => ("nb", "no"),
                "EUR" => ("en", "fi"),
                _ => ("sv", "se"),
            };
            self.customer_id(c, &mut buf);
            buf.extend_from_slice(
                format!(
                    ",{}.{}{c}@example.{tld},",
                    first.to_lowercase(),
                    last.to_lowercase()
                )
                .as_bytes(),
            );
            // Some names are written "Last, First": a cell that needs quoting.
            if c % 17 == 3 {
                buf.extend_from_slice(format!("\"{last}, {first}\"").as_bytes());
            } else {
                buf.extend_from_slice(format!("{first} {last}").as_bytes());
            }
            buf.extend_from_slice(format!(",{locale},{cur}\n").as_bytes());
            if buf.len() > 60_000 {
                w.write_all(&buf)?;
                buf.clear();
            }
        }
        w.write_all(&buf)?;
        w.flush()
    }

    /// Sumo only: one or two plans per customer, some cancelled.
    pub fn has_subscriptions(&self) -> bool {
        self.scenario == Scenario::Sumo2018
    }

    pub fn write_subscriptions(&self, mut w: impl Write) -> io::Result<()> {
        let mut buf = Vec::with_capacity(1 << 16);
        buf.extend_from_slice(b"customer_id,plan,monthly_fee_minor,currency,status\n");
        let mut rng = Rng::new(self.seed ^ 0x5B5);
        // A few unknown customers hold subscriptions too (the billing system knows them).
        for c in 0..self.customers + self.customers / 200 {
            let r = rng.below(100);
            let plans: &[(&str, u32)] = match r {
                0..=49 => &[("sumo-basis", 9900)],
                50..=84 => &[("sumo-sport", 39900)],
                85..=94 => &[("sumo-basis", 9900), ("sumo-sport", 39900)],
                _ => &[],
            };
            for (plan, fee) in plans {
                let status = if rng.chance(100) {
                    "cancelled"
                } else {
                    "active"
                };
                self.customer_id(c, &mut buf);
                buf.extend_from_slice(format!(",{plan},{fee},NOK,{status}\n").as_bytes());
            }
            if buf.len() > 60_000 {
                w.write_all(&buf)?;
                buf.clear();
            }
        }
        w.write_all(&buf)?;
        w.flush()
    }

    /// Writes the events that belong to `part`, in index order (roughly by time).
    pub fn write_events(&self, part: &Part, mut w: impl Write) -> io::Result<()> {
        let mut buf: Vec<u8> = Vec::with_capacity(1 << 17);
        let csv = part.kind == PartKind::Csv;
        if csv {
            buf.extend_from_slice(
                b"ts,kind,customer_id,outcome,channel,error,bet_id,game,round_id,stake_minor,currency,event_id\n",
            );
        }
        for i in 0..self.events {
            if self.part_of(i) != part.kind {
                continue;
            }
            self.write_event(i, csv, &mut buf);
            if buf.len() > (1 << 17) - 1024 {
                w.write_all(&buf)?;
                buf.clear();
            }
        }
        w.write_all(&buf)?;
        w.flush()
    }

    fn rng_at(&self, i: u64) -> Rng {
        Rng::new(mix(self.seed.wrapping_mul(0x9E37_79B9)
            ^ (self.scenario as u64) << 56
            ^ i))
    }

    /// Local second of day for the event at index `i`: a piecewise-uniform
    /// spread with the incident's rush weighted up.
    fn time_of(&self, i: u64, rng: &mut Rng) -> i64 {
        let s = self.scenario.spec();
        // Segments (from, to, weight): before, the rush to the deadline or
        // kick-off, the rest of the incident, after.
        let segs = [
            (s.log_from, s.started, 2u64),
            (s.started, s.deadline.max(s.started + 60), 4),
            (s.deadline.max(s.started + 60), s.resolved, 3),
            (s.resolved, s.log_to, 2),
        ];
        let total: u64 = segs.iter().map(|x| x.2 * (x.1 - x.0).max(1) as u64).sum();
        // Position in the log by index, plus jitter so files are nearly, not strictly, sorted.
        let pos = ((i as u128 * total as u128) / self.events.max(1) as u128) as u64;
        let mut acc = 0u64;
        for (from, to, w) in segs {
            let len = w * (to - from).max(1) as u64;
            if pos < acc + len {
                let t = from + ((pos - acc) / w) as i64;
                return t + rng.below(5) as i64 - 2;
            }
            acc += len;
        }
        s.log_to
    }

    fn base(&self, i: u64) -> Base {
        let s = self.scenario.spec();
        let mut rng = self.rng_at(i);
        let mut t = self.time_of(i, &mut rng);
        // Boundary instants: exactly on the window's edges or the deadline.
        if rng.chance(2) {
            t = rng.pick(&[s.started, s.resolved, s.deadline]);
        }
        let nanos = match rng.below(10) {
            0..=3 => 0,
            4..=5 => rng.below(1000) as u32 * 1_000_000,
            6..=7 => rng.below(1_000_000) as u32 * 1000,
            8 => rng.below(1_000_000_000) as u32,
            _ => rng.below(10) as u32 * 100_000_000,
        };
        let in_window = t >= s.started && t < s.resolved;
        let customer = if rng.chance(5) {
            self.customers + rng.below(self.customers / 50 + 5)
        } else {
            rng.below(self.customers)
        };
        let mut b = Base {
            ts: t,
            nanos,
            kind: Kind::Login,
            customer,
            failure: false,
            outcome: "success",
            channel: rng.pick(CHANNELS),
            error: "",
            game: "",
            stake: 0,
            bet_index: i,
        };
        if s.betting {
            if rng.below(100) < 35 {
                b.failure = rng.chance(if in_window { 600 } else { 10 });
            } else {
                b.kind = Kind::Bet;
                b.game = rng.pick(GAMES);
                if b.game == "V75" && t >= s.deadline && !in_window {
                    b.game = "vinnare";
                }
                // V75 rows cost 50 öre; other games are simple stakes.
                b.stake = if b.game == "V75" {
                    50 * (1 + rng.below(400)) * (1 + rng.below(6))
                } else {
                    100 * (1 + rng.below(200))
                };
                let r = rng.below(1000);
                let (outcome, failure) = if in_window {
                    match r {
                        0..=199 => ("placed", false),
                        200..=749 => ("rejected", true),
                        _ => ("failed_after_debit", true),
                    }
                } else {
                    match r {
                        0..=984 => ("placed", false),
                        985..=994 => ("rejected", true),
                        _ => ("failed_after_debit", true),
                    }
                };
                b.outcome = outcome;
                b.failure = failure;
                if failure {
                    b.error = rng.pick(ERRORS_BET);
                }
                return b;
            }
        } else {
            if rng.below(100) >= 60 {
                b.kind = Kind::Stream;
                b.channel = if rng.chance(500) { "tv" } else { "app" };
            }
            let p = if in_window {
                // The rush at kick-off is the worst of it.
                if (t - s.deadline).abs() < 1200 {
                    850
                } else {
                    450
                }
            } else {
                10
            };
            b.failure = rng.chance(p);
        }
        if b.failure {
            b.outcome = "failure";
            b.error = match b.kind {
                Kind::Stream => rng.pick(ERRORS_STREAM),
                _ => rng.pick(ERRORS_LOGIN),
            };
        }
        b
    }

    fn write_event(&self, i: u64, csv: bool, out: &mut Vec<u8>) {
        let mut rng = Rng::new(mix(self.rng_at(i).next() ^ 0x77));
        let roll = rng.below(1000);
        let ev = if i > 0 && roll < 5 {
            // A retransmitted line: the previous event, byte for byte.
            return self.write_event(i - 1, csv, out);
        } else if i > 0 && roll < 20 {
            let prev = self.base(i - 1);
            if let Kind::Bet = prev.kind {
                // A retry of the previous bet, same bet_id, a little later.
                let mut b = self.base(i);
                b.kind = Kind::Bet;
                b.customer = prev.customer;
                b.game = prev.game;
                b.stake = prev.stake;
                b.bet_index = i - 1;
                b.ts = prev.ts + rng.below(30) as i64;
                b.nanos = prev.nanos;
                let (o, f) = rng.pick(&[
                    ("placed", false),
                    ("placed", false),
                    ("failed_after_debit", true),
                    ("rejected", true),
                ]);
                b.outcome = o;
                b.failure = f;
                b.error = if f { ERRORS_BET[1] } else { "" };
                b
            } else {
                // Same instant as the previous event.
                let mut b = self.base(i);
                b.ts = prev.ts;
                b.nanos = prev.nanos;
                b
            }
        } else {
            self.base(i)
        };
        let malformed = if rng.chance(1) {
            Some(rng.below(6))
        } else {
            None
        };
        self.format(&ev, rng.next(), csv, malformed, out);
    }

    fn format(&self, b: &Base, fmt: u64, csv: bool, malformed: Option<u64>, out: &mut Vec<u8>) {
        let mut ts = Vec::with_capacity(40);
        let offset = match fmt % 10 {
            0..=5 => LOCAL_OFFSET,
            6..=8 => 0,
            _ => 3600,
        };
        self.push_ts(&mut ts, b.ts, b.nanos, offset, malformed == Some(0));
        let (kind, outcome) = match (b.kind, malformed) {
            (_, Some(1)) => ("logout", b.outcome),
            (Kind::Login, Some(2)) => ("login", "maybe"),
            (Kind::Login, _) => ("login", b.outcome),
            (Kind::Stream, _) => ("stream", b.outcome),
            (Kind::Bet, _) => ("bet", b.outcome),
        };
        let mut cust = Vec::with_capacity(12);
        if malformed != Some(3) {
            self.customer_id(b.customer, &mut cust);
        }
        let (y, m, d) = self.scenario.spec().date;
        let is_bet = matches!(b.kind, Kind::Bet);
        let mut bet_id = Vec::with_capacity(24);
        let mut round = Vec::new();
        if is_bet {
            bet_id.extend_from_slice(match self.scenario {
                Scenario::V75_2023 => b"b23-",
                Scenario::V75_2024 => b"b24-",
                Scenario::Sumo2018 => b"b18-",
            });
            push_padded(&mut bet_id, b.bet_index, 9);
            round.extend_from_slice(format!("{y:04}-{m:02}-{d:02}-{}", b.game).as_bytes());
        }
        let stake_text = if malformed == Some(4) {
            "-100".to_string()
        } else {
            b.stake.to_string()
        };
        let currency = currency_of(b.customer);
        let event_id = "pl-2018-08-20-cry-liv";
        if csv {
            let start = out.len();
            out.extend_from_slice(&ts);
            out.push(b',');
            out.extend_from_slice(kind.as_bytes());
            out.push(b',');
            out.extend_from_slice(&cust);
            out.push(b',');
            out.extend_from_slice(outcome.as_bytes());
            out.push(b',');
            if !is_bet {
                out.extend_from_slice(b.channel.as_bytes());
            }
            out.push(b',');
            let _ = write_cell(out, b.error);
            out.push(b',');
            if is_bet {
                out.extend_from_slice(&bet_id);
                out.push(b',');
                out.extend_from_slice(b.game.as_bytes());
                out.push(b',');
                out.extend_from_slice(&round);
                out.push(b',');
                out.extend_from_slice(stake_text.as_bytes());
                out.push(b',');
                out.extend_from_slice(currency.as_bytes());
                out.push(b',');
            } else {
                out.extend_from_slice(b",,,,,");
                if matches!(b.kind, Kind::Stream) {
                    out.extend_from_slice(event_id.as_bytes());
                }
            }
            if malformed == Some(5) {
                // A row with a cell too few.
                if let Some(p) = out[start..].iter().rposition(|&c| c == b',') {
                    out.truncate(start + p);
                }
            }
            out.push(b'\n');
            return;
        }
        let start = out.len();
        out.extend_from_slice(b"{\"ts\":\"");
        out.extend_from_slice(&ts);
        out.extend_from_slice(b"\",\"kind\":\"");
        out.extend_from_slice(kind.as_bytes());
        if malformed != Some(3) {
            out.extend_from_slice(b"\",\"customer_id\":\"");
            out.extend_from_slice(&cust);
        }
        out.extend_from_slice(b"\",\"outcome\":\"");
        out.extend_from_slice(outcome.as_bytes());
        out.push(b'"');
        if is_bet {
            out.extend_from_slice(b",\"bet_id\":\"");
            out.extend_from_slice(&bet_id);
            out.extend_from_slice(b"\",\"game\":\"");
            out.extend_from_slice(b.game.as_bytes());
            out.extend_from_slice(b"\",\"round_id\":\"");
            out.extend_from_slice(&round);
            out.extend_from_slice(b"\",\"stake_minor\":");
            out.extend_from_slice(stake_text.as_bytes());
            out.extend_from_slice(b",\"currency\":\"");
            out.extend_from_slice(currency.as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(b",\"channel\":\"");
            out.extend_from_slice(b.channel.as_bytes());
            out.push(b'"');
            if matches!(b.kind, Kind::Stream) {
                out.extend_from_slice(b",\"event_id\":\"");
                out.extend_from_slice(event_id.as_bytes());
                out.push(b'"');
            }
        }
        if !b.error.is_empty() {
            out.extend_from_slice(b",\"error\":");
            out.extend_from_slice(
                serde_json::to_string(b.error)
                    .unwrap_or_default()
                    .as_bytes(),
            );
        }
        out.push(b'}');
        if malformed == Some(5) {
            // A line cut short by a crashed shipper: not JSON.
            let keep = (out.len() - start) / 2;
            out.truncate(start + keep);
        }
        out.push(b'\n');
    }

    fn push_ts(
        &self,
        out: &mut Vec<u8>,
        local_sod: i64,
        nanos: u32,
        offset: i64,
        drop_offset: bool,
    ) {
        let utc = (self.epoch_day * 86_400 + local_sod - LOCAL_OFFSET) + offset;
        let days = utc.div_euclid(86_400);
        let sod = utc.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        push_padded(out, y as u64, 4);
        out.push(b'-');
        push_padded(out, m as u64, 2);
        out.push(b'-');
        push_padded(out, d as u64, 2);
        out.push(if drop_offset { b' ' } else { b'T' });
        push_padded(out, (sod / 3600) as u64, 2);
        out.push(b':');
        push_padded(out, (sod / 60 % 60) as u64, 2);
        out.push(b':');
        push_padded(out, (sod % 60) as u64, 2);
        if nanos != 0 {
            out.push(b'.');
            let mut digits = 9;
            let mut n = nanos;
            while n.is_multiple_of(10) {
                n /= 10;
                digits -= 1;
            }
            push_padded(out, n as u64, digits);
        }
        if drop_offset {
            return;
        }
        match offset {
            0 => out.push(b'Z'),
            o => {
                out.push(b'+');
                push_padded(out, (o / 3600) as u64, 2);
                out.extend_from_slice(b":00");
            }
        }
    }
}

fn currency_of(c: u64) -> &'static str {
    if c % 20 == 7 {
        "NOK"
    } else if c % 50 == 11 {
        "EUR"
    } else {
        "SEK"
    }
}

fn push_padded(out: &mut Vec<u8>, mut v: u64, width: usize) {
    let mut tmp = [b'0'; 20];
    let mut i = 20;
    while v > 0 {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    let len = (20 - i).max(width);
    out.extend_from_slice(&tmp[20 - len..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_parseable() {
        let g = Generator::new(Scenario::V75_2024, 7, 2000, 20, 20);
        let mut a = Vec::new();
        let mut b = Vec::new();
        for p in g.parts() {
            g.write_events(&p, &mut a).unwrap();
            g.write_events(&p, &mut b).unwrap();
        }
        assert_eq!(a, b);
        crate::Plan::parse(V75_2024.plan).unwrap();
        crate::Plan::parse(V75_2023.plan).unwrap();
        crate::Plan::parse(SUMO_2018.plan).unwrap();
    }
}
