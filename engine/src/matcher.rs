//! What the rules need from the logs, and the rules themselves.
//!
//! An [`Accumulator`] folds records into the smallest state that still decides
//! every rule exactly:
//! - login/stream records only when relevant and in the window (failures for
//!   "affected" and goodwill; successes only when a subscription rule needs
//!   blocked time);
//! - per `bet_id` only the deciding record so far, and only for bets with a
//!   record at or after `started_at`: an earlier record can never decide a bet
//!   that matters. A record at or after the horizon (the later of
//!   `resolved_at` and every goodwill deadline) makes its bet irrelevant, so it
//!   is kept without customer or game.
//!
//! Accumulators merge associatively and commutatively (the deciding record is a
//! maximum under a total order), so the result never depends on how lines were
//! split across files or threads, or in which order they arrive.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;

use compact_str::CompactString;
use indexmap::IndexSet;
use rustc_hash::{FxBuildHasher, FxHashMap, FxHashSet};

use crate::plan::{Plan, Rule, SubscriptionAmount};
use crate::record::{Access, BetOutcome, Currency, Event, Record};
use crate::reference::{Customers, Subscriptions};
use crate::report::{
    EventCounts, Line, MalformedExample, Preview, Report, RuleReport, Skipped, Window,
};
use crate::time::Instant;

const NONE: u32 = u32::MAX;
const MAX_EXAMPLES: usize = 20;
const ATTOS_PER_MINUTE: i128 = 60 * 1_000_000_000_000_000_000;

#[derive(Clone, Copy, Debug)]
pub(crate) struct Params {
    started: Instant,
    resolved: Instant,
    horizon: Instant,
    login: bool,
    streaming: bool,
    keep_successes: bool,
}

impl Params {
    pub(crate) fn new(plan: &Plan) -> Params {
        Params {
            started: plan.started_at,
            resolved: plan.resolved_at,
            horizon: plan.horizon(),
            login: plan.components.login,
            streaming: plan.components.streaming,
            keep_successes: plan
                .rules
                .iter()
                .any(|r| matches!(r, Rule::SubscriptionCredit { .. })),
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct BetState {
    ts: Instant,
    stake: i64,
    cust: u32,
    game: u32,
    currency: Currency,
    outcome: BetOutcome,
}

#[derive(Clone, Copy, Debug)]
struct AccessEvent {
    ts: Instant,
    cust: u32,
    success: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct MalformedAt {
    pub(crate) source: u32,
    pub(crate) line: u64,
    pub(crate) reason: Cow<'static, str>,
}

type Interner = IndexSet<CompactString, FxBuildHasher>;

fn intern(set: &mut Interner, s: &str) -> u32 {
    match set.get_index_of(s) {
        Some(i) => i as u32,
        None => set.insert_full(CompactString::from(s)).0 as u32,
    }
}

fn name(set: &Interner, i: u32) -> &str {
    set.get_index(i as usize).map_or("", |s| s.as_str())
}

pub(crate) struct Accumulator {
    params: Params,
    pub(crate) records: u64,
    pub(crate) malformed: u64,
    pub(crate) in_window: u64,
    examples: Vec<MalformedAt>,
    customers: Interner,
    games: Interner,
    access: Vec<AccessEvent>,
    /// Deciding record so far per bet with a record in `[started_at, horizon)`.
    /// After a merge, one map per worker: their union is never built, which
    /// would double peak memory for nothing.
    bets: Vec<FxHashMap<CompactString, BetState>>,
    /// Bets with a record at or after the horizon: whatever else they have, they
    /// are decided outside every span a rule looks at.
    killed: Vec<FxHashSet<CompactString>>,
}

/// Does `new` decide the bet over `old`? Latest `ts`, then outcome precedence;
/// records equal on both are ordered by their content so that the winner never
/// depends on arrival order.
fn beats(new: &BetState, old: &BetState, customers: &Interner, games: &Interner) -> bool {
    match (new.ts, new.outcome).cmp(&(old.ts, old.outcome)) {
        Ordering::Greater => true,
        Ordering::Less => false,
        Ordering::Equal => {
            let key = |b: &BetState| {
                (
                    b.stake,
                    b.currency,
                    name(games, b.game).to_owned(),
                    name(customers, b.cust).to_owned(),
                )
            };
            key(new) > key(old)
        }
    }
}

impl Accumulator {
    pub(crate) fn new(params: Params) -> Accumulator {
        Accumulator {
            params,
            records: 0,
            malformed: 0,
            in_window: 0,
            examples: Vec::new(),
            customers: Interner::default(),
            games: Interner::default(),
            access: Vec::new(),
            bets: vec![FxHashMap::default()],
            killed: vec![FxHashSet::default()],
        }
    }

    pub(crate) fn add_malformed(&mut self, source: u32, line: u64, reason: Cow<'static, str>) {
        self.malformed += 1;
        if self.examples.len() == MAX_EXAMPLES {
            match self.examples.last() {
                Some(last) if (last.source, last.line) > (source, line) => {
                    self.examples.pop();
                }
                _ => return,
            }
        }
        let pos = self
            .examples
            .partition_point(|e| (e.source, e.line) < (source, line));
        self.examples.insert(
            pos,
            MalformedAt {
                source,
                line,
                reason,
            },
        );
    }

    pub(crate) fn add_record(&mut self, rec: &Record<'_>) {
        let p = &self.params;
        self.records += 1;
        let ts = rec.ts;
        let in_window = p.started <= ts && ts < p.resolved;
        if in_window {
            self.in_window += 1;
        }
        match &rec.event {
            Event::Login { outcome, .. } | Event::Stream { outcome, .. } => {
                let relevant = match rec.event {
                    Event::Login { .. } => p.login,
                    _ => p.streaming,
                };
                let success = *outcome == Access::Success;
                if in_window && relevant && (!success || p.keep_successes) {
                    let cust = intern(&mut self.customers, &rec.customer_id);
                    self.access.push(AccessEvent { ts, cust, success });
                }
            }
            Event::Bet(b) => {
                if ts < p.started {
                    return;
                }
                if ts >= p.horizon {
                    if !self.killed[0].contains(&*b.bet_id) {
                        self.killed[0].insert(CompactString::from(&*b.bet_id));
                    }
                    return;
                }
                let state = BetState {
                    ts,
                    stake: b.stake_minor,
                    cust: intern(&mut self.customers, &rec.customer_id),
                    game: intern(&mut self.games, &b.game),
                    currency: b.currency,
                    outcome: b.outcome,
                };
                match self.bets[0].get_mut(&*b.bet_id) {
                    Some(old) => {
                        if beats(&state, old, &self.customers, &self.games) {
                            *old = state;
                        }
                    }
                    None => {
                        self.bets[0].insert(CompactString::from(&*b.bet_id), state);
                    }
                }
            }
        }
    }

    /// Folds `other` into `self`.
    pub(crate) fn merge(&mut self, other: Accumulator) {
        self.records += other.records;
        self.malformed += other.malformed;
        self.in_window += other.in_window;
        for e in other.examples {
            let MalformedAt {
                source,
                line,
                reason,
            } = e;
            // add_malformed counts; undo that, the count came with `other`.
            self.add_malformed(source, line, reason);
            self.malformed -= 1;
        }
        let cust_map: Vec<u32> = other
            .customers
            .iter()
            .map(|c| intern(&mut self.customers, c))
            .collect();
        let game_map: Vec<u32> = other
            .games
            .iter()
            .map(|g| intern(&mut self.games, g))
            .collect();
        let remap = |map: &[u32], i: u32| {
            if i == NONE {
                NONE
            } else {
                map[i as usize]
            }
        };
        self.access.reserve(other.access.len());
        for mut a in other.access {
            a.cust = remap(&cust_map, a.cust);
            self.access.push(a);
        }
        for mut map in other.bets {
            for b in map.values_mut() {
                b.cust = remap(&cust_map, b.cust);
                b.game = remap(&game_map, b.game);
            }
            self.bets.push(map);
        }
        self.killed.extend(other.killed);
    }

    /// The deciding record of every bet that can matter, each bet once.
    fn decided_bets(&self) -> Vec<(&str, BetState)> {
        let mut out = Vec::with_capacity(self.bets.iter().map(|m| m.len()).sum());
        for (k, map) in self.bets.iter().enumerate() {
            'bets: for (id, b) in map {
                if self.bets[..k].iter().any(|m| m.contains_key(id)) {
                    continue;
                }
                if self.killed.iter().any(|s| s.contains(id)) {
                    continue;
                }
                let mut best = *b;
                for other in &self.bets[k + 1..] {
                    if let Some(o) = other.get(id) {
                        if beats(o, &best, &self.customers, &self.games) {
                            best = *o;
                        }
                    }
                }
                if best.cust == NONE {
                    continue 'bets;
                }
                out.push((id.as_str(), best));
            }
        }
        out
    }

    /// Applies the plan's rules.
    pub(crate) fn finish(
        mut self,
        plan: &Plan,
        customers: &Customers,
        subscriptions: &Subscriptions,
        source_names: &[String],
    ) -> Preview {
        let p = self.params;
        let n = self.customers.len();
        let known: Vec<Option<Currency>> = self
            .customers
            .iter()
            .map(|c| customers.currency_of(c))
            .collect();
        let mut affected = vec![false; n];

        // Login and stream: first failure and blocked time per customer.
        self.access
            .sort_unstable_by_key(|a| (a.cust, a.ts, a.success));
        let mut first_access_failure = vec![Instant::MAX; n];
        let mut blocked: Vec<i128> = vec![0; n];
        let mut fails: Vec<Instant> = Vec::new();
        let mut succs: Vec<Instant> = Vec::new();
        for group in self.access.chunk_by(|a, b| a.cust == b.cust) {
            let cust = group[0].cust as usize;
            fails.clear();
            succs.clear();
            for a in group {
                if a.success {
                    succs.push(a.ts);
                } else {
                    fails.push(a.ts);
                }
            }
            let Some(&first) = fails.first() else {
                continue;
            };
            affected[cust] = true;
            first_access_failure[cust] = first;
            blocked[cust] = blocked_attos(&fails, &succs, p.resolved);
        }

        // Bets: one pass over the deciding records.
        let rule_games: Vec<Vec<bool>> = plan
            .rules
            .iter()
            .map(|r| {
                let games = match r {
                    Rule::RefundFailedDebits { games } | Rule::GoodwillCredit { games, .. } => {
                        Some(games)
                    }
                    _ => None,
                };
                self.games
                    .iter()
                    .map(|g| games.is_none_or(|gs| gs.contains(g)))
                    .collect()
            })
            .collect();
        let goodwill_end: Vec<(Instant, Instant)> = plan
            .rules
            .iter()
            .map(|r| match r {
                Rule::GoodwillCredit { deadline, .. } => {
                    let deadline = deadline.unwrap_or(p.resolved);
                    (p.resolved.min(deadline), deadline)
                }
                _ => (Instant::MIN, Instant::MIN),
            })
            .collect();
        let mut goodwill_first: Vec<Vec<Instant>> = plan
            .rules
            .iter()
            .map(|r| match r {
                Rule::GoodwillCredit { .. } => vec![Instant::MAX; n],
                _ => Vec::new(),
            })
            .collect();
        let mut goodwill_placed: Vec<Vec<Instant>> = goodwill_first
            .iter()
            .map(|l| vec![Instant::MIN; l.len()])
            .collect();
        let decided = self.decided_bets();
        let mut refunds: Vec<Vec<(u32, &str, i64, Currency)>> = vec![Vec::new(); plan.rules.len()];
        for &(id, ref b) in &decided {
            if b.ts < p.started || b.ts >= p.horizon {
                continue;
            }
            let cust = b.cust as usize;
            let failed = b.outcome != BetOutcome::Placed;
            let in_window = b.ts < p.resolved;
            if failed && in_window && plan.components.betting {
                affected[cust] = true;
            }
            for (r, rule) in plan.rules.iter().enumerate() {
                let game_ok = rule_games[r].get(b.game as usize).copied().unwrap_or(false);
                match rule {
                    Rule::RefundFailedDebits { .. }
                        if b.outcome == BetOutcome::FailedAfterDebit && in_window && game_ok =>
                    {
                        refunds[r].push((b.cust, id, b.stake, b.currency));
                    }
                    Rule::GoodwillCredit { .. } => {
                        let (end, deadline) = goodwill_end[r];
                        if !game_ok {
                            continue;
                        }
                        if failed && plan.components.betting && b.ts < end {
                            let f = &mut goodwill_first[r][cust];
                            *f = (*f).min(b.ts);
                        }
                        if !failed && b.ts < deadline {
                            let m = &mut goodwill_placed[r][cust];
                            *m = (*m).max(b.ts);
                        }
                    }
                    _ => {}
                }
            }
        }

        // Lines, rule by rule.
        let mut lines: Vec<Line> = Vec::new();
        let mut rule_reports = Vec::with_capacity(plan.rules.len());
        let mut grand_total: BTreeMap<Currency, i128> = BTreeMap::new();
        let mut has_line = vec![false; n];
        for (r, rule) in plan.rules.iter().enumerate() {
            let kind = rule.kind();
            let mut skipped = Skipped::default();
            let mut rule_lines: Vec<Line> = Vec::new();
            let mut line_custs: Vec<u32> = Vec::new();
            let mut issue =
                |cust: u32, reference: String, amount_minor: i128, currency: Currency| {
                    line_custs.push(cust);
                    rule_lines.push(Line {
                        rule_position: r,
                        rule: kind,
                        customer_id: if cust == NONE {
                            String::new()
                        } else {
                            name(&self.customers, cust).to_string()
                        },
                        reference,
                        amount_minor,
                        currency,
                    });
                };
            match rule {
                Rule::RefundFailedDebits { .. } => {
                    for &(cust, bet_id, stake, currency) in &refunds[r] {
                        if known[cust as usize].is_none() {
                            skipped.unknown_customer += 1;
                        } else {
                            issue(cust, bet_id.to_string(), stake as i128, currency);
                        }
                    }
                }
                Rule::GoodwillCredit { amount_minor, .. } => {
                    let (end, _) = goodwill_end[r];
                    for c in 0..n {
                        let mut first = goodwill_first[r][c];
                        if first_access_failure[c] < end {
                            first = first.min(first_access_failure[c]);
                        }
                        if first == Instant::MAX || goodwill_placed[r][c] >= first {
                            continue;
                        }
                        match known[c] {
                            None => skipped.unknown_customer += 1,
                            Some(cur) => match amount_minor.get(&cur) {
                                None => skipped.no_amount_for_currency += 1,
                                Some(&a) => issue(c as u32, String::new(), a as i128, cur),
                            },
                        }
                    }
                }
                Rule::SubscriptionCredit {
                    amount,
                    min_blocked_minutes,
                } => {
                    let min = *min_blocked_minutes as i128 * ATTOS_PER_MINUTE;
                    for c in 0..n {
                        if first_access_failure[c] == Instant::MAX || blocked[c] < min {
                            continue;
                        }
                        let name_c = name(&self.customers, c as u32);
                        for sub in subscriptions.active_for(name_c) {
                            if known[c].is_none() {
                                skipped.unknown_customer += 1;
                                continue;
                            }
                            let fee = sub.monthly_fee_minor as i128;
                            let credit = match amount {
                                SubscriptionAmount::PercentOfMonthlyFee(pc) => {
                                    (fee * *pc as i128 + 50).div_euclid(100)
                                }
                                SubscriptionAmount::Days(d) => {
                                    (fee * *d as i128 + 15).div_euclid(30)
                                }
                            };
                            issue(c as u32, sub.plan.clone(), credit, sub.currency);
                        }
                    }
                }
                Rule::JackpotTopup {
                    round_id,
                    currency,
                    target_minor,
                    current_minor,
                } => {
                    let topup = *target_minor as i128 - *current_minor as i128;
                    if topup > 0 {
                        issue(NONE, round_id.clone(), topup, *currency);
                    }
                }
            }
            let mut customers_with_line = 0;
            for &c in &line_custs {
                if c != NONE && !has_line[c as usize] {
                    has_line[c as usize] = true;
                    customers_with_line += 1;
                }
            }
            for &c in &line_custs {
                if c != NONE {
                    has_line[c as usize] = false;
                }
            }
            let mut total: BTreeMap<Currency, i128> = BTreeMap::new();
            for l in &rule_lines {
                *total.entry(l.currency).or_default() += l.amount_minor;
                *grand_total.entry(l.currency).or_default() += l.amount_minor;
            }
            rule_reports.push(RuleReport {
                kind,
                lines: rule_lines.len() as u64,
                customers: customers_with_line,
                total_minor: by_code(total),
                skipped,
            });
            lines.append(&mut rule_lines);
        }
        lines.sort_unstable_by(|a, b| {
            (a.rule_position, &a.customer_id, &a.reference).cmp(&(
                b.rule_position,
                &b.customer_id,
                &b.reference,
            ))
        });

        let affected_known = (0..n)
            .filter(|&c| affected[c] && known[c].is_some())
            .count();
        let affected_unknown = (0..n)
            .filter(|&c| affected[c] && known[c].is_none())
            .count();
        let report = Report {
            plan: plan.id.clone(),
            window: Window {
                started_at: plan.started_at.to_utc_string(),
                resolved_at: plan.resolved_at.to_utc_string(),
            },
            events: EventCounts {
                records: self.records,
                malformed: self.malformed,
                in_window: self.in_window,
            },
            malformed_examples: self
                .examples
                .into_iter()
                .map(|e| MalformedExample {
                    file: source_names
                        .get(e.source as usize)
                        .cloned()
                        .unwrap_or_default(),
                    line: e.line,
                    reason: e.reason.into_owned(),
                })
                .collect(),
            affected_customers: affected_known as u64,
            unknown_customers: affected_unknown as u64,
            rules: rule_reports,
            total_minor: by_code(grand_total),
        };
        Preview { report, lines }
    }
}

fn by_code(m: BTreeMap<Currency, i128>) -> BTreeMap<String, i128> {
    m.into_iter().map(|(c, v)| (c.to_string(), v)).collect()
}

/// Total length of the union of `[f, min(resolved, first success > f))` over
/// the failures `f`. Both lists are sorted.
pub fn blocked_attos(fails: &[Instant], succs: &[Instant], resolved: Instant) -> i128 {
    let mut total: i128 = 0;
    let mut j = 0;
    let mut current: Option<(Instant, Instant)> = None;
    for &f in fails {
        while j < succs.len() && succs[j] <= f {
            j += 1;
        }
        let end = succs.get(j).map_or(resolved, |&s| s.min(resolved));
        current = match current {
            Some((start, cur_end)) if f < cur_end => Some((start, cur_end.max(end))),
            Some((start, cur_end)) => {
                total += cur_end.attos_since(start);
                Some((f, end))
            }
            None => Some((f, end)),
        };
    }
    if let Some((start, end)) = current {
        total += end.attos_since(start);
    }
    total
}
