//! The process exit codes, as the README documents them, and the one mapping from how a
//! command ended (an error, a run's report, an audit verification, the daemon's end) to its
//! code. Library modules return what happened; only this module turns it into a number.

use crate::config::ConfigError;
use crate::daemon::End;
use crate::db::{DbError, Failure};
use crate::engine::{EngineError, INTERRUPTED as RUN_INTERRUPTED, RunReport};
use crate::store::audit::Verification;

pub const OK: u8 = 0;
/// The work did not complete: a run failed or stopped early, the audit chain is broken.
pub const FAILED: u8 = 1;
/// Bad usage or config, including a config that does not fit the database.
pub const USAGE: u8 = 2;
/// Stopped by a safety limit before writing.
pub const SAFETY: u8 = 3;
/// Another instance holds the lock, or already served the scheduled run.
pub const LOCKED: u8 = 4;
/// A run stopped by SIGINT (Ctrl-C): 128 + the signal's number, as a shell reports it.
pub const INTERRUPTED: u8 = 130;

/// The code for an error that reached the binary's edge.
pub fn of_error(e: &anyhow::Error) -> u8 {
    if let Some(e) = e.downcast_ref::<EngineError>() {
        return of_engine_error(e);
    }
    if e.downcast_ref::<ConfigError>().is_some() {
        return USAGE;
    }
    if e.downcast_ref::<DbError>()
        .is_some_and(|e| e.failure() == Failure::Config)
    {
        return USAGE;
    }
    FAILED
}

pub fn of_engine_error(e: &EngineError) -> u8 {
    match e {
        EngineError::Check(_) | EngineError::Usage(_) => USAGE,
        // A server that refuses the config (password, database, role, grant, read-only).
        EngineError::Db(e) if e.failure() == Failure::Config => USAGE,
        EngineError::Db(_) | EngineError::Io(_) => FAILED,
        EngineError::Safety(_) | EngineError::Clock(_) => SAFETY,
        EngineError::Locked(_) | EngineError::SlotServed(_) => LOCKED,
    }
}

/// A run that did all its work, or stopped cleanly on a signal, is a success; one with a failed
/// policy or stopped early (`max_runtime`, lock timeout) is not.
pub fn of_run(report: &RunReport) -> u8 {
    if report.status == "ok" || report.status == RUN_INTERRUPTED {
        OK
    } else {
        FAILED
    }
}

/// A command that would exit with `code` exits `INTERRUPTED` when SIGINT stopped it.
pub fn after_signals(code: u8, sigint: bool) -> u8 {
    if sigint { INTERRUPTED } else { code }
}

pub fn of_verification(v: &Verification) -> u8 {
    if v.broken.is_none() { OK } else { FAILED }
}

/// `retentiond health`: healthy only when `/healthz` answered 200 (it answers 503 when the
/// daemon is not ready or its last run failed); no answer at all is unhealthy too.
pub fn of_health(http_status: Option<u16>) -> u8 {
    if http_status == Some(200) { OK } else { FAILED }
}

pub fn of_daemon(end: &End) -> u8 {
    match end {
        End::Stopped => OK,
        End::StoppedBeforeRun => FAILED,
        End::ScheduleExhausted => FAILED,
        End::Once(once) => match once.as_ref() {
            Ok(report) => of_run(report),
            Err(e) => of_engine_error(e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_errors_map_to_the_documented_codes() {
        assert_eq!(of_engine_error(&EngineError::Usage("x".into())), USAGE);
        assert_eq!(of_engine_error(&EngineError::Check(Vec::new())), USAGE);
        assert_eq!(of_engine_error(&EngineError::Io("x".into())), FAILED);
        assert_eq!(of_engine_error(&EngineError::Safety(Vec::new())), SAFETY);
        assert_eq!(of_engine_error(&EngineError::Clock("x".into())), SAFETY);
        assert_eq!(of_engine_error(&EngineError::Locked("x".into())), LOCKED);
        assert_eq!(
            of_engine_error(&EngineError::SlotServed("x".into())),
            LOCKED
        );
        let read_only = DbError::ReadOnly {
            url: "postgres://db/shop".into(),
            why: "a replica".into(),
        };
        assert_eq!(of_error(&anyhow::Error::new(read_only)), USAGE);
        let wrapped = anyhow::Error::new(EngineError::Safety(Vec::new())).context("running");
        assert_eq!(of_error(&wrapped), SAFETY);
        assert_eq!(of_error(&anyhow::anyhow!("anything else")), FAILED);
    }

    #[test]
    fn sigint_makes_any_ending_130() {
        assert_eq!(after_signals(OK, true), INTERRUPTED);
        assert_eq!(after_signals(FAILED, true), INTERRUPTED);
        assert_eq!(after_signals(OK, false), OK);
    }
}
