//! Why a policy's walk, and with it the run, ended before its work was done.

use serde::{Serialize, Serializer};
use std::fmt;
use std::time::Duration;

/// A planned or forced end of a walk. Every one leaves the database consistent (it comes
/// between batches); the next run continues the work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// A signal asked the run to stop.
    Interrupted,
    /// `run.max_runtime` was used up: a planned end, not a failure.
    MaxRuntime(Duration),
    /// The connection holding the instance lock is gone; another instance may run now.
    LockLost,
    /// Rows stayed locked by other transactions through every retry.
    LockTimeout(String),
    /// An earlier policy stopped the run before this one began.
    NotStarted,
}

impl Stop {
    /// The run ended on schedule rather than by something going wrong.
    pub fn is_planned(&self) -> bool {
        matches!(self, Stop::MaxRuntime(_))
    }
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::Interrupted => f.write_str(super::super::INTERRUPTED),
            Stop::MaxRuntime(d) => write!(f, "max_runtime of {}s reached", d.as_secs()),
            Stop::LockLost => f.write_str(
                "lost the instance lock: the database connection holding it was cut \
                 (a restart or a network failure?), and another instance may be running now; \
                 the next run continues the work",
            ),
            Stop::LockTimeout(e) => write!(
                f,
                "lock timeout: rows stayed locked by other transactions ({e})"
            ),
            Stop::NotStarted => f.write_str("not started: the run stopped earlier"),
        }
    }
}

/// In JSON output and the runs table, as the sentence it displays.
impl Serialize for Stop {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::Stop;
    use std::time::Duration;

    #[test]
    fn stops_read_as_sentences_and_only_max_runtime_is_planned() {
        assert_eq!(Stop::Interrupted.to_string(), "interrupted");
        assert_eq!(
            Stop::MaxRuntime(Duration::from_secs(90)).to_string(),
            "max_runtime of 90s reached"
        );
        assert!(Stop::MaxRuntime(Duration::ZERO).is_planned());
        assert!(!Stop::LockLost.is_planned());
        assert_eq!(
            serde_json::to_string(&Some(Stop::NotStarted))
                .ok()
                .as_deref(),
            Some("\"not started: the run stopped earlier\"")
        );
    }
}
