//! What this node's newest preview learned (the engine's [`Learned`]),
//! kept in memory for what-if pricing (`what_if`). One pass at a time: a
//! pass over ten million events holds a few hundred MB.

use std::sync::{Arc, Mutex};

use plaster_engine::Learned;

/// The newest learned pass on this node.
#[derive(Clone, Default)]
pub struct WhatIfCache(Arc<Mutex<Option<Kept>>>);

struct Kept {
    run_id: String,
    inputs_version: i64,
    learned: Arc<Learned>,
}

impl WhatIfCache {
    pub fn keep(&self, run_id: &str, inputs_version: i64, learned: Learned) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(Kept {
                run_id: run_id.to_string(),
                inputs_version,
                learned: Arc::new(learned),
            });
        }
    }

    pub fn get(&self, run_id: &str, inputs_version: i64) -> Option<Arc<Learned>> {
        let slot = self.0.lock().ok()?;
        slot.as_ref()
            .filter(|k| k.run_id == run_id && k.inputs_version == inputs_version)
            .map(|k| k.learned.clone())
    }
}
