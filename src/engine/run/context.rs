//! What every policy of one run shares: whether it writes, its cutoff, its audit chain.

use super::super::parents::Parents;
use super::super::{Engine, RunOptions};
use crate::db::{Session, Tx, begin_on};
use crate::store::Store;
use chrono::{DateTime, Utc};
use std::time::Instant;

/// A dry run walks exactly as a real one and writes nothing; a real run writes under the id
/// the runs table gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    DryRun,
    Real { run_id: i64 },
}

impl Mode {
    pub fn run_id(self) -> Option<i64> {
        match self {
            Mode::DryRun => None,
            Mode::Real { run_id } => Some(run_id),
        }
    }

    pub fn writes(self) -> bool {
        matches!(self, Mode::Real { .. })
    }
}

pub struct RunContext<'a> {
    pub engine: &'a Engine,
    pub store: &'a Store<'a>,
    pub mode: Mode,
    pub cutoff: DateTime<Utc>,
    pub opts: &'a RunOptions,
    /// When the run's first policy began: `run.max_runtime` counts from here.
    pub started: Instant,
    /// The hash of the last audit entry: each batch's entry links to it.
    pub chain: String,
    /// A writing run's own connection, which holds `parents`.
    pub session: Option<Session>,
    pub parents: &'a Parents,
}

impl RunContext<'_> {
    /// A transaction on the run's session (where its parents tables are), else on any
    /// pooled connection.
    pub async fn begin(&mut self) -> Result<Tx<'_>, crate::db::DbError> {
        begin_on(&self.engine.db, self.session.as_mut()).await
    }
}
