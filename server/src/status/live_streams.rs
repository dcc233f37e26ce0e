//! How many live event streams this node holds open, in all and per client
//! address. Each costs a socket and a receiver for as long as the reader
//! keeps the page open, so both are capped (#15.7): a reader over a cap is
//! answered 503, and the page's script then polls `/api/live/state.json`,
//! which is served from memory and costs nothing to hold.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The caps; `PLASTER_LIVE_MAX_STREAMS` and
/// `PLASTER_LIVE_MAX_STREAMS_PER_CLIENT` set them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    pub total: usize,
    /// Generous: a carrier's NAT puts thousands of phones behind one address,
    /// and they get the poll, not an error, beyond it.
    pub per_client: usize,
}

impl Default for StreamLimits {
    fn default() -> Self {
        StreamLimits {
            total: 20_000,
            per_client: 200,
        }
    }
}

/// Why a stream was not opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    Node,
    Client,
}

#[derive(Default)]
struct Counts {
    total: usize,
    per_client: HashMap<String, usize>,
}

/// The node's open streams.
#[derive(Clone, Default)]
pub struct OpenStreams {
    limits: StreamLimits,
    counts: Arc<Mutex<Counts>>,
}

/// One open stream; dropping it (the reader left) frees its place.
pub struct StreamSlot {
    counts: Arc<Mutex<Counts>>,
    client: String,
}

impl OpenStreams {
    pub fn new(limits: StreamLimits) -> Self {
        OpenStreams {
            limits,
            counts: Arc::default(),
        }
    }

    /// A place for one more stream from `client`, if both caps allow it.
    pub fn open(&self, client: &str) -> Result<StreamSlot, Full> {
        // A poisoned lock only means a panic elsewhere mid-update of plain
        // counters; they are still the best count there is.
        let mut c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if c.total >= self.limits.total {
            return Err(Full::Node);
        }
        let mine = c.per_client.entry(client.to_string()).or_default();
        if *mine >= self.limits.per_client {
            return Err(Full::Client);
        }
        *mine += 1;
        c.total += 1;
        Ok(StreamSlot {
            counts: self.counts.clone(),
            client: client.to_string(),
        })
    }

    /// Streams open now.
    pub fn total(&self) -> usize {
        self.counts.lock().unwrap_or_else(|e| e.into_inner()).total
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        c.total = c.total.saturating_sub(1);
        if let Some(n) = c.per_client.get_mut(&self.client) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                c.per_client.remove(&self.client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_caps_hold_and_a_closed_stream_frees_its_place() {
        let open = OpenStreams::new(StreamLimits {
            total: 3,
            per_client: 2,
        });
        let a1 = open.open("a").expect("first");
        let _a2 = open.open("a").expect("second");
        assert_eq!(open.open("a").err(), Some(Full::Client));
        let _b1 = open.open("b").expect("another client");
        assert_eq!(open.open("c").err(), Some(Full::Node));
        drop(a1);
        assert_eq!(open.total(), 2);
        let _a3 = open.open("a").expect("a place came free");
        assert_eq!(open.open("b").err(), Some(Full::Node));
    }
}
