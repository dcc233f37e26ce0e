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

use crate::plan::{Games, Plan, Rule, SubscriptionAmount};
use crate::record::{Access, BetOutcome, Currency, Event, Record};
use crate::reference::{Customers, Subscriptions};
use crate::report::{
    EventCounts, Line, MalformedExample, Preview, Report, RuleReport, Skipped, Window,
};
use crate::time::Instant;

const NONE: u32 = u32::MAX;
const MAX_EXAMPLES: usize = 20;
const ATTOS_PER_MINUTE: i128 = 60 * 1_000_000_000_000_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Params {
    started: Instant,
    resolved: Instant,
    horizon: Instant,
    login: bool,
    streaming: bool,
    betting: bool,
    keep_successes: bool,
}

impl Params {
    /// Why a pass made with `self` cannot price a plan with `new`, if it cannot:
    /// the records it kept are those `self` needs, and no others.
    pub(crate) fn cannot_serve(&self, new: &Params) -> Option<&'static str> {
        if (self.started, self.resolved) != (new.started, new.resolved) {
            Some("the window changed")
        } else if (self.login, self.streaming, self.betting)
            != (new.login, new.streaming, new.betting)
        {
            Some("the components changed")
        } else if new.horizon > self.horizon {
            Some("a goodwill deadline moved past the latest one read")
        } else if new.keep_successes && !self.keep_successes {
            Some("a subscription credit needs the successful logins, which were not kept")
        } else {
            None
        }
    }

    pub(crate) fn new(plan: &Plan) -> Params {
        Params {
            started: plan.started_at,
            resolved: plan.resolved_at,
            horizon: plan.horizon(),
            login: plan.components.login,
            streaming: plan.components.streaming,
            betting: plan.components.betting,
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

#[derive(Clone)]
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
    /// Failure records of the plan's components per Unix minute, within
    /// [`CHART_MARGIN_MINUTES`] of the window and horizon: the picture of the
    /// incident the portal draws (records, not deduplicated bets).
    failures_per_minute: FxHashMap<i64, u64>,
}

/// How far before the window and after the horizon failures are tallied.
pub(crate) const CHART_MARGIN_MINUTES: i64 = 60;

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
            failures_per_minute: FxHashMap::default(),
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
        let failure = match &rec.event {
            Event::Login { outcome, .. } => p.login && *outcome == Access::Failure,
            Event::Stream { outcome, .. } => p.streaming && *outcome == Access::Failure,
            Event::Bet(b) => p.betting && b.outcome != BetOutcome::Placed,
        };
        if failure {
            let minute = ts.unix_seconds().div_euclid(60);
            let from = p.started.unix_seconds().div_euclid(60) - CHART_MARGIN_MINUTES;
            let to = p.horizon.unix_seconds().div_euclid(60) + CHART_MARGIN_MINUTES;
            if (from..=to).contains(&minute) {
                *self.failures_per_minute.entry(minute).or_default() += 1;
            }
        }
        let p = &self.params;
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
        for (minute, n) in other.failures_per_minute {
            *self.failures_per_minute.entry(minute).or_default() += n;
        }
    }

    /// The deciding record of every bet that can matter, each bet once.
    fn decided_bets(&self) -> Vec<(&str, BetState)> {
        let p = self.params;
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
                if best.cust == NONE || best.ts < p.started || best.ts >= p.horizon {
                    continue 'bets;
                }
                out.push((id.as_str(), best));
            }
        }
        out
    }

    /// Per customer: the first relevant login or stream failure in the window
    /// (`Instant::MAX` when there is none) and the blocked time in attoseconds.
    fn access_by_customer(&mut self) -> (Vec<Instant>, Vec<i128>) {
        let n = self.customers.len();
        self.access
            .sort_unstable_by_key(|a| (a.cust, a.ts, a.success));
        let mut first_failure = vec![Instant::MAX; n];
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
            first_failure[cust] = first;
            blocked[cust] = blocked_attos(&fails, &succs, self.params.resolved);
        }
        (first_failure, blocked)
    }

    /// The same records, read for another plan's parameters.
    pub(crate) fn with_params(&self, params: Params) -> Accumulator {
        let mut acc = self.clone();
        acc.params = params;
        acc
    }

    pub(crate) fn params(&self) -> &Params {
        &self.params
    }

    /// Applies the plan's rules.
    pub(crate) fn finish(
        mut self,
        plan: &Plan,
        customers: &Customers,
        subscriptions: &Subscriptions,
        source_names: &[String],
    ) -> Preview {
        let (first_access_failure, blocked) = self.access_by_customer();
        let facts = Facts {
            params: self.params,
            betting: plan.components.betting,
            names: &self.customers,
            games: &self.games,
            known: self
                .customers
                .iter()
                .map(|c| customers.currency_of(c))
                .collect(),
            first_access_failure,
            blocked,
            decided: self.decided_bets(),
        };

        let mut lines: Vec<Line> = Vec::new();
        let mut rule_reports = Vec::with_capacity(plan.rules.len());
        let mut grand_total: BTreeMap<Currency, i128> = BTreeMap::new();
        let mut has_line = vec![false; facts.known.len()];
        for (position, rule) in plan.rules.iter().enumerate() {
            let mut issued = Issued::new(position, rule.kind(), facts.names);
            match rule {
                Rule::RefundFailedDebits { games } => {
                    facts.refund_failed_debits(games, &mut issued);
                }
                Rule::GoodwillCredit {
                    amount_minor,
                    deadline,
                    games,
                } => facts.goodwill_credit(games, *deadline, amount_minor, &mut issued),
                Rule::SubscriptionCredit {
                    amount,
                    min_blocked_minutes,
                } => facts.subscription_credit(
                    subscriptions,
                    *amount,
                    *min_blocked_minutes,
                    &mut issued,
                ),
                Rule::JackpotTopup {
                    round_id,
                    currency,
                    target_minor,
                    current_minor,
                } => jackpot_topup(
                    round_id,
                    *currency,
                    *target_minor,
                    *current_minor,
                    &mut issued,
                ),
            }
            rule_reports.push(issued.into_report(&mut has_line, &mut grand_total, &mut lines));
        }
        lines.sort_unstable_by(|a, b| {
            (a.rule_position, &a.customer_id, &a.reference).cmp(&(
                b.rule_position,
                &b.customer_id,
                &b.reference,
            ))
        });
        let (affected_known, affected_unknown) = facts.affected_customers();

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
            malformed_examples: malformed_examples(self.examples, source_names),
            affected_customers: affected_known,
            unknown_customers: affected_unknown,
            rules: rule_reports,
            total_minor: by_code(grand_total),
        };
        let mut failures_per_minute: Vec<(i64, u64)> =
            self.failures_per_minute.into_iter().collect();
        failures_per_minute.sort_unstable();
        Preview {
            report,
            lines,
            failures_per_minute,
        }
    }
}

/// What the rules read, worked out once for all of them. Customers are
/// indices into `names`.
struct Facts<'a> {
    params: Params,
    betting: bool,
    names: &'a Interner,
    games: &'a Interner,
    /// The currency in `customers.csv`; `None` for an unknown customer.
    known: Vec<Option<Currency>>,
    first_access_failure: Vec<Instant>,
    blocked: Vec<i128>,
    decided: Vec<(&'a str, BetState)>,
}

impl Facts<'_> {
    /// Indexed by interned game: rules test every bet, so the name lookup is
    /// done once per game instead.
    fn game_mask(&self, games: &Games) -> Vec<bool> {
        self.games.iter().map(|g| games.contains(g)).collect()
    }

    fn refund_failed_debits(&self, games: &Games, out: &mut Issued<'_>) {
        let mask = self.game_mask(games);
        for &(bet_id, ref b) in &self.decided {
            let in_window = b.ts < self.params.resolved;
            if b.outcome != BetOutcome::FailedAfterDebit || !in_window || !in_mask(&mask, b) {
                continue;
            }
            if self.known[b.cust as usize].is_none() {
                out.skipped.unknown_customer += 1;
            } else {
                out.issue(b.cust, bet_id.to_string(), b.stake as i128, b.currency);
            }
        }
    }

    fn goodwill_credit(
        &self,
        games: &Games,
        deadline: Option<Instant>,
        amount_minor: &BTreeMap<Currency, i64>,
        out: &mut Issued<'_>,
    ) {
        let p = self.params;
        let deadline = deadline.unwrap_or(p.resolved);
        let end = p.resolved.min(deadline);
        let mask = self.game_mask(games);
        let n = self.known.len();
        let mut first_failure = vec![Instant::MAX; n];
        let mut last_placed = vec![Instant::MIN; n];
        for (_, b) in &self.decided {
            if !in_mask(&mask, b) {
                continue;
            }
            let cust = b.cust as usize;
            let failed = b.outcome != BetOutcome::Placed;
            if failed && self.betting && b.ts < end {
                first_failure[cust] = first_failure[cust].min(b.ts);
            }
            if !failed && b.ts < deadline {
                last_placed[cust] = last_placed[cust].max(b.ts);
            }
        }
        for c in 0..n {
            let mut first = first_failure[c];
            if self.first_access_failure[c] < end {
                first = first.min(self.first_access_failure[c]);
            }
            // A bet placed after the first failure means the customer got
            // through in time, so there is nothing to make good.
            if first == Instant::MAX || last_placed[c] >= first {
                continue;
            }
            match self.known[c] {
                None => out.skipped.unknown_customer += 1,
                Some(cur) => match amount_minor.get(&cur) {
                    None => out.skipped.no_amount_for_currency += 1,
                    Some(&a) => out.issue(c as u32, String::new(), a as i128, cur),
                },
            }
        }
    }

    fn subscription_credit(
        &self,
        subscriptions: &Subscriptions,
        amount: SubscriptionAmount,
        min_blocked_minutes: u64,
        out: &mut Issued<'_>,
    ) {
        let min = min_blocked_minutes as i128 * ATTOS_PER_MINUTE;
        for c in 0..self.known.len() {
            if self.first_access_failure[c] == Instant::MAX || self.blocked[c] < min {
                continue;
            }
            for sub in subscriptions.active_for(name(self.names, c as u32)) {
                // Counted per subscription: each is a line that could not be paid.
                if self.known[c].is_none() {
                    out.skipped.unknown_customer += 1;
                    continue;
                }
                let fee = sub.monthly_fee_minor as i128;
                let credit = match amount {
                    SubscriptionAmount::PercentOfMonthlyFee(pc) => {
                        (fee * pc as i128 + 50).div_euclid(100)
                    }
                    SubscriptionAmount::Days(d) => (fee * d as i128 + 15).div_euclid(30),
                };
                out.issue(c as u32, sub.plan.clone(), credit, sub.currency);
            }
        }
    }

    /// Known and unknown customers with a relevant failure. Bets count for any
    /// game here, whatever the rules' `games` say.
    fn affected_customers(&self) -> (u64, u64) {
        let mut affected: Vec<bool> = self
            .first_access_failure
            .iter()
            .map(|&f| f != Instant::MAX)
            .collect();
        if self.betting {
            for (_, b) in &self.decided {
                if b.outcome != BetOutcome::Placed && b.ts < self.params.resolved {
                    affected[b.cust as usize] = true;
                }
            }
        }
        let (mut known, mut unknown) = (0, 0);
        for (c, &a) in affected.iter().enumerate() {
            match (a, self.known[c]) {
                (false, _) => {}
                (true, Some(_)) => known += 1,
                (true, None) => unknown += 1,
            }
        }
        (known, unknown)
    }
}

fn jackpot_topup(
    round_id: &str,
    currency: Currency,
    target_minor: i64,
    current_minor: i64,
    out: &mut Issued<'_>,
) {
    let topup = target_minor as i128 - current_minor as i128;
    if topup > 0 {
        out.issue(NONE, round_id.to_string(), topup, currency);
    }
}

/// A game index the mask does not cover matches nothing instead of panicking.
fn in_mask(mask: &[bool], b: &BetState) -> bool {
    mask.get(b.game as usize).copied().unwrap_or(false)
}

/// One rule's lines in the order the rule issues them.
struct Issued<'a> {
    position: usize,
    kind: &'static str,
    names: &'a Interner,
    lines: Vec<Line>,
    /// The customer of each line; `NONE` for a line paid to a pool.
    custs: Vec<u32>,
    skipped: Skipped,
}

impl<'a> Issued<'a> {
    fn new(position: usize, kind: &'static str, names: &'a Interner) -> Issued<'a> {
        Issued {
            position,
            kind,
            names,
            lines: Vec::new(),
            custs: Vec::new(),
            skipped: Skipped::default(),
        }
    }

    fn issue(&mut self, cust: u32, reference: String, amount_minor: i128, currency: Currency) {
        self.custs.push(cust);
        self.lines.push(Line {
            rule_position: self.position,
            rule: self.kind,
            customer_id: if cust == NONE {
                String::new()
            } else {
                name(self.names, cust).to_string()
            },
            reference,
            amount_minor,
            currency,
        });
    }

    /// Moves the lines to `lines` and adds them to `grand_total`.
    /// `has_line` is all false before and after: one scratch buffer for every
    /// rule instead of a set per rule.
    fn into_report(
        mut self,
        has_line: &mut [bool],
        grand_total: &mut BTreeMap<Currency, i128>,
        lines: &mut Vec<Line>,
    ) -> RuleReport {
        let mut customers = 0;
        for &c in &self.custs {
            if c != NONE && !has_line[c as usize] {
                has_line[c as usize] = true;
                customers += 1;
            }
        }
        for &c in &self.custs {
            if c != NONE {
                has_line[c as usize] = false;
            }
        }
        let mut total: BTreeMap<Currency, i128> = BTreeMap::new();
        for l in &self.lines {
            *total.entry(l.currency).or_default() += l.amount_minor;
            *grand_total.entry(l.currency).or_default() += l.amount_minor;
        }
        let report = RuleReport {
            kind: self.kind,
            lines: self.lines.len() as u64,
            customers,
            total_minor: by_code(total),
            skipped: self.skipped,
        };
        lines.append(&mut self.lines);
        report
    }
}

fn malformed_examples(
    examples: Vec<MalformedAt>,
    source_names: &[String],
) -> Vec<MalformedExample> {
    examples
        .into_iter()
        .map(|e| MalformedExample {
            file: source_names
                .get(e.source as usize)
                .cloned()
                .unwrap_or_default(),
            line: e.line,
            reason: e.reason.into_owned(),
        })
        .collect()
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
