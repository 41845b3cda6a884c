//! What a run tells an observer as it goes, so that a terminal can show it live. The engine
//! only reports; how (or whether) it is shown is the observer's business. The default shows
//! nothing.

use std::sync::Arc;

/// Policies are numbered from 1 in the order they run; `of` is how many the run has.
pub trait Progress: Send + Sync {
    /// Counting a policy's rows has begun (before anything is written).
    fn counting(&self, _policy: usize, _of: usize, _name: &str) {}
    /// The policy's rows are counted: `expected` is what its walk will go through.
    fn counted(&self, _expected: u64) {}
    /// The policy's batches begin.
    fn policy_started(&self, _policy: usize, _of: usize, _name: &str, _expected: u64) {}
    /// A batch was committed (in a dry run: walked) with `rows` rows.
    fn batch_written(&self, _rows: u64) {}
    /// The run waits between batches (for a replica to catch up) and why; `None` when it
    /// goes on.
    fn waiting(&self, _reason: Option<&str>) {}
    /// The policy is finished, stopped or failed.
    fn policy_done(&self) {}
    /// True when a person sees the progress live; the engine then leaves out its periodic
    /// progress log line, which would only repeat it.
    fn is_live(&self) -> bool {
        false
    }
}

struct Silent;

impl Progress for Silent {}

/// A shared observer for `RunOptions`.
#[derive(Clone)]
pub struct Observer(Arc<dyn Progress>);

impl Observer {
    pub fn new(progress: Arc<dyn Progress>) -> Observer {
        Observer(progress)
    }
}

impl Default for Observer {
    fn default() -> Observer {
        Observer(Arc::new(Silent))
    }
}

impl std::ops::Deref for Observer {
    type Target = dyn Progress;

    fn deref(&self) -> &(dyn Progress + 'static) {
        &*self.0
    }
}

impl std::fmt::Debug for Observer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_live() {
            "Observer(live)"
        } else {
            "Observer"
        })
    }
}
