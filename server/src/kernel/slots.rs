//! A budget for heavy work (password hashing): at most `running` jobs at
//! once and at most `waiting` more in line, in order; anything beyond that is
//! refused at once. Refusal depends on how many are in, never on how long
//! someone waited (a queued request is bounded by the request timeout), so
//! a slow machine makes work slower, not refused.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Password work (argon2id: 19 MiB and a core for a good fraction of a
/// second) running at once, so a flood of sign-ins queues instead of
/// exhausting memory and starving the status page.
pub const PASSWORD_RUNNING: usize = 2;
/// Password work that may wait for a slot; more is refused at once.
pub const PASSWORD_WAITING: usize = 32;

/// Cloning shares the budget.
#[derive(Clone, Debug)]
pub struct WorkSlots {
    /// Running and waiting together.
    admitted: Arc<Semaphore>,
    running: Arc<Semaphore>,
}

/// Held while the work runs; frees the slot when dropped.
#[derive(Debug)]
pub struct Slot {
    _running: OwnedSemaphorePermit,
    _admitted: OwnedSemaphorePermit,
}

impl WorkSlots {
    pub fn new(running: usize, waiting: usize) -> Self {
        WorkSlots {
            admitted: Arc::new(Semaphore::new(running + waiting)),
            running: Arc::new(Semaphore::new(running)),
        }
    }

    /// The budget for password hashing: [`PASSWORD_RUNNING`] at once,
    /// [`PASSWORD_WAITING`] in line.
    pub fn for_passwords() -> Self {
        WorkSlots::new(PASSWORD_RUNNING, PASSWORD_WAITING)
    }

    /// A slot to run in, after those ahead in line; `None` at once when
    /// `running + waiting` are in already.
    pub async fn enter(&self) -> Option<Slot> {
        let admitted = self.admitted.clone().try_acquire_owned().ok()?;
        let running = self.running.clone().acquire_owned().await.ok()?;
        Some(Slot {
            _running: running,
            _admitted: admitted,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn beyond_running_and_waiting_is_refused_at_once_and_a_freed_slot_admits_again() {
        let slots = WorkSlots::new(1, 1);
        let first = slots.enter().await.expect("a free slot");
        // The second waits in line (it is admitted, not yet running).
        let second = tokio::spawn({
            let slots = slots.clone();
            async move { slots.enter().await.is_some() }
        });
        while slots.admitted.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        assert!(slots.enter().await.is_none(), "the third is refused");
        drop(first);
        assert!(second.await.expect("joined"), "the second ran");
        assert!(slots.enter().await.is_some(), "free again");
    }
}
