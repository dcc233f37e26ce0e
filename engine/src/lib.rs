//! Plaster's compensation engine (spec: `docs/spec/compensation.md`).
//!
//! Event logs + customers + a plan → the report and the exact lines. The engine
//! does no file or network I/O of its own: callers hand it readers, so the CLI
//! and the portal run the same code on the same bytes.
//!
//! ```no_run
//! use plaster_engine::{Engine, EventSource, Format, Options, Plan, Customers, Subscriptions};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let plan = Plan::parse(&std::fs::read_to_string("plan.toml")?)?;
//! let customers = Customers::read("customers.csv", std::io::BufReader::new(std::fs::File::open("customers.csv")?))?;
//! let engine = Engine::new(plan, customers, Subscriptions::default());
//! let preview = engine.preview(
//!     vec![EventSource::new("events.jsonl", Format::JsonLines, std::fs::File::open("events.jsonl")?)],
//!     &Options::default(),
//! )?;
//! println!("{}", serde_json::to_string_pretty(&preview.report)?);
//! # Ok(()) }
//! ```

// A producer of test data, not part of the readers-in, lines-out core: only
// callers that ask for `demo-logs` compile it.
#[cfg(feature = "demo-logs")]
pub mod generate;
mod matcher;
mod pipeline;
pub mod plan;
pub mod record;
pub mod reference;
pub mod report;
pub mod time;

pub use pipeline::{each_record, EngineError, EventSource, Format, Options, MAX_RECORD_BYTES};
pub use plan::{Plan, PlanError, Rule};
pub use record::{Currency, CustomerId, Money};
pub use reference::{
    CustomerRow, Customers, ReferenceError, RowFault, SubscriptionRow, Subscriptions,
};
pub use report::{Line, Preview, Report};
pub use time::Instant;

/// Blocked time of one customer in attoseconds (spec §3, `subscription_credit`):
/// the union of `[f, min(resolved, first success > f))` over sorted failures.
pub use matcher::blocked_attos;

/// A plan with its reference data, ready to run over event logs.
#[derive(Debug, Clone)]
pub struct Engine {
    plan: Plan,
    customers: Customers,
    subscriptions: Subscriptions,
}

impl Engine {
    pub fn new(plan: Plan, customers: Customers, subscriptions: Subscriptions) -> Engine {
        Engine {
            plan,
            customers,
            subscriptions,
        }
    }

    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Reads every source once, in order, and applies the plan.
    pub fn preview(
        &self,
        sources: Vec<EventSource<'_>>,
        options: &Options,
    ) -> Result<Preview, EngineError> {
        let names: Vec<String> = sources.iter().map(|s| s.name.clone()).collect();
        let acc = pipeline::run(matcher::Params::new(&self.plan), sources, options)?;
        Ok(acc.finish(&self.plan, &self.customers, &self.subscriptions, &names))
    }

    /// Like [`Engine::preview`], and keeps what the pass learned (the
    /// records that matter, decided bets, blocked time) so that a changed
    /// plan can be priced without reading the logs again.
    pub fn preview_and_learn(
        &self,
        sources: Vec<EventSource<'_>>,
        options: &Options,
    ) -> Result<(Preview, Learned), EngineError> {
        let names: Vec<String> = sources.iter().map(|s| s.name.clone()).collect();
        let acc = pipeline::run(matcher::Params::new(&self.plan), sources, options)?;
        let preview = acc
            .clone()
            .finish(&self.plan, &self.customers, &self.subscriptions, &names);
        Ok((
            preview,
            Learned {
                acc,
                names,
                engine: self.clone(),
            },
        ))
    }
}

/// What one pass over the logs kept, with the customers it ran against.
#[derive(Clone)]
pub struct Learned {
    acc: matcher::Accumulator,
    names: Vec<String>,
    engine: Engine,
}

impl Learned {
    /// The plan the pass was made for.
    pub fn plan(&self) -> &Plan {
        &self.engine.plan
    }

    /// Prices `plan` over the records already read: exactly what a full
    /// preview of `plan` on the same logs and customers gives, as long as the
    /// plan reads no record the pass did not keep (same window and
    /// components, no later goodwill deadline, no subscription credit when
    /// the pass had none). Otherwise `Err` says why a full pass is needed.
    pub fn reprice(&self, plan: &Plan) -> Result<Preview, &'static str> {
        let params = matcher::Params::new(plan);
        if let Some(why) = self.acc.params().cannot_serve(&params) {
            return Err(why);
        }
        Ok(self.acc.with_params(params).finish(
            plan,
            &self.engine.customers,
            &self.engine.subscriptions,
            &self.names,
        ))
    }
}
