//! The retention engine: checks the config against the live schema, plans, and runs the
//! policies in small keyset batches, each committed together with its audit entry.

mod advice;
pub mod blocked;
mod clock;
pub mod coverage;
mod cutoff;
pub mod erase;
pub mod forecast;
pub mod hold;
mod order;
pub mod pacing;
mod parents;
mod privilege;
pub mod progress;
pub mod query;
mod run;
mod sides;
pub mod target;
pub mod transform;

use crate::config::Config;
use crate::db::lock::InstanceLock;
use crate::db::schema::Schema;
use crate::db::{Access, Context, Db, DbError, Decode, Value};
use crate::store::format_utc;
use chrono::{DateTime, Utc};
use query::{Queries, Thresholds};
pub use run::Stop;
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};
pub use target::{CheckIssue, Target};

/// The status of a run ended by a signal.
pub const INTERRUPTED: &str = "interrupted";

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("the config does not fit the database ({} problem(s)):\n{}", .0.len(), render(.0))]
    Check(Vec<CheckIssue>),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("another retentiond instance holds the lock on {0}; try again when it has finished")]
    Locked(String),
    #[error("another retentiond instance already ran the run scheduled for {0}")]
    SlotServed(String),
    #[error("safety stop, nothing was written:\n{}", .0.join("\n"))]
    Safety(Vec<String>),
    #[error("clock guard: {0}")]
    Clock(String),
    #[error("{0}")]
    Io(String),
}

fn render(issues: &[CheckIssue]) -> String {
    issues
        .iter()
        .map(|i| format!("  - {i}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl EngineError {
    /// The server refused one of a policy's statements (a trigger, a constraint, a deferred
    /// foreign key at commit): that policy failed, and the others can still do their work.
    /// Anything else (a lost connection, a pool that timed out) stops the whole run.
    fn fails_one_policy(&self) -> bool {
        match self {
            EngineError::Db(
                e @ DbError::Query {
                    source: sqlx::Error::Database(_),
                    ..
                },
            ) => !e.is_session_ended(),
            EngineError::Db(DbError::Refused { .. }) => true,
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub dry_run: bool,
    /// Only these policies (all when empty).
    pub policies: Vec<String>,
    /// Proceed past `max_fraction` / `max_rows` once.
    pub force: bool,
    /// Replaces the database clock. Tests only: the binary honours it in debug builds.
    pub now: Option<DateTime<Utc>>,
    /// Set from outside (a signal) to stop after the current batch.
    pub stop: Option<Arc<AtomicBool>>,
    /// A scheduled run: a run started at or after this instant already served its slot (another
    /// daemon on the same database got there first), so this one does nothing.
    pub slot_start: Option<DateTime<Utc>>,
    /// Told of each policy's counting and batches (a terminal shows them live).
    pub progress: progress::Observer,
}

/// What a policy would do, counted in a read-only transaction.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyPlan {
    pub name: String,
    /// Where the policy's table is.
    pub database: crate::config::Side,
    pub table: String,
    pub action: String,
    /// Rows whose clock plus period lies before the cutoff and that nothing keeps.
    pub eligible: u64,
    /// Expired rows still referenced by other rows (deletes only).
    pub blocked: u64,
    /// Rows whose clock never started: kept.
    pub undated: u64,
    /// Rows kept by a legal hold.
    pub held: u64,
    /// Rows in the table; counted only when something is eligible, because only then does
    /// `max_fraction` need it (a full count of a big table is the slowest part of an idle run),
    /// and in a run's own plan only when `max_fraction` is below 1.
    pub total: Option<u64>,
    /// Clock values before this have expired.
    pub expires_before: String,
    pub basis: String,
    /// Why the run would stop before writing, if it would.
    pub safety_stop: Option<String>,
    /// Of `eligible`: rows referenced now only by rows of their own table that go first in
    /// the same run (replies to replies), which the repeated walk then deletes.
    pub freed_by_own_deletes: u64,
    /// Of `eligible`: rows referenced now only by rows that earlier delete policies of the
    /// same run delete first (payments before their invoices); the run deletes them after.
    pub freed_by_earlier_policies: u64,
    /// The references that keep the `blocked` rows after the run, per foreign key.
    pub blocked_by: Vec<blocked::BlockedBy>,
    /// Not in `eligible`: rows an anonymize policy would change that a delete policy of the
    /// same run deletes first.
    pub deleted_by_earlier_policies: u64,
    /// Not in `eligible`: rows whose related clock rows a delete policy of the same run deletes
    /// first, so that they become undated and are kept.
    pub undated_by_earlier_policies: u64,
    /// With a related clock whose rows an earlier policy deletes and an `otherwise` fallback:
    /// at most this many rows move to the fallback clock during the run, so `eligible` may
    /// grow or shrink by up to this many.
    pub may_change_by: u64,
    /// The related table of `undated_by_earlier_policies` and `may_change_by`.
    pub clock_table: Option<String>,
    /// The highest eligible or blocked key when counted (single integer keys): where the
    /// walk ends. Rows that expire beyond it during the run are the next run's.
    #[serde(skip)]
    pub last_key: Option<Vec<Value>>,
    /// How long counting this policy took; part of its time in the run's table.
    #[serde(skip)]
    pub counted_in: Duration,
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub cutoff: String,
    pub database: String,
    pub policies: Vec<PolicyPlan>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicyOutcome {
    pub name: String,
    /// Where the policy's table is.
    pub database: crate::config::Side,
    pub table: String,
    pub action: String,
    /// Rows deleted or anonymized (for a dry run: rows that would be).
    pub affected: u64,
    pub batches: u64,
    pub blocked: u64,
    pub undated: u64,
    pub held: u64,
    /// Rows still past their cutoff after the run: should be 0.
    pub backlog: u64,
    pub duration_ms: u64,
    pub stop_reason: Option<Stop>,
    /// Why the policy failed (the server refused one of its statements); the run went on
    /// with the next policies and counts as failed.
    pub error: Option<String>,
    /// How long its batches waited for a replica to catch up (`run.max_replica_lag`).
    pub waited_for_replica_ms: u64,
}

impl PolicyOutcome {
    /// Nothing done yet.
    fn new(t: &Target) -> Self {
        PolicyOutcome {
            stop_reason: None,
            ..PolicyOutcome::unstarted(&t.policy)
        }
    }
}

/// The status of a run in which a policy failed.
pub const FAILED: &str = "failed";

#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub run_id: Option<i64>,
    /// The run of the archive's own policies, recorded in the archive.
    pub archive_run_id: Option<i64>,
    pub dry_run: bool,
    pub cutoff: String,
    pub status: String,
    pub stop_reason: Option<Stop>,
    pub database: String,
    pub audit_table: String,
    pub policies: Vec<PolicyOutcome>,
    /// Holds in force past their review date: "hold 3: subject 42, set by ann on ..., review
    /// 2026-01-01: tax audit". Listed in every summary until someone releases or renews them.
    pub stale_holds: Vec<String>,
}

impl RunReport {
    /// "policy \"a\" failed: ..." for each policy that failed.
    pub fn failures(&self) -> Vec<String> {
        self.policies
            .iter()
            .filter_map(|p| {
                let prefix = format!("policy \"{}\": ", p.name);
                p.error.as_ref().map(|e| {
                    let why = e.strip_prefix(&prefix).unwrap_or(e);
                    format!("policy \"{}\" failed: {why}", p.name)
                })
            })
            .collect()
    }
}

/// A config checked against a connected database.
pub struct Engine {
    pub config: Config,
    pub db: Db,
    pub schema: Schema,
    pub targets: Vec<Target>,
    /// Grants only a real run needs and the server refuses. A read-only engine (`check`,
    /// `plan`, a dry run) keeps them here instead of failing; a writing one refuses to start.
    pub write_denied: Vec<CheckIssue>,
    /// The instance lock while a run or an erasure holds it; checked between batches.
    lock: tokio::sync::Mutex<Option<InstanceLock>>,
    /// What `check` says about clock values: undated values, comparisons no index serves.
    pub clock_warnings: Vec<String>,
    /// How a real run paces its batches, read from the server when it starts.
    pacing: tokio::sync::Mutex<Option<pacing::Pacing>>,
    /// The archive database of `action = "archive"`, or why it cannot be reached: then the
    /// archive policies fail with that reason and the others run.
    pub archive: Result<Option<crate::archive::Archive>, String>,
    /// The engine of the policies on archive tables (`database = "archive"`), run after this
    /// one's.
    pub archive_side: Result<Option<Box<Engine>>, String>,
    /// Archive policies left out of a read-only check or plan because the first real run has
    /// not made their table yet.
    pub not_yet_archived: Vec<String>,
}

impl Engine {
    /// Connects and checks every policy against the live schema, including a trial of each
    /// policy's statement (which catches a bad `filter`).
    pub async fn prepare(config: Config, access: Access) -> Result<Engine, EngineError> {
        let mut engine = Self::prepare_side(config, access, &Default::default(), None).await?;
        // A writing engine makes the archive's tables ready before anything reads them; an
        // archive that refuses fails only the policies that need it.
        if access == Access::ReadWrite
            && let Ok(Some(archive)) = &engine.archive
            && let Err(e) = archive.prepare().await
        {
            tracing::error!(error = %e, "the archive's tables cannot be made ready; the archive policies will fail");
            engine.archive = Err(format!("preparing the archive: {e}"));
        }
        engine.archive_side = engine.prepare_archive_side(access).await?;
        Ok(engine)
    }

    /// The engine of one database: its policies (but those in `skip`) checked against it.
    /// `inherited`: references no database enforces that the policies respect all the same
    /// (the archive's, from the live foreign keys).
    async fn prepare_side(
        config: Config,
        access: Access,
        skip: &std::collections::BTreeSet<usize>,
        inherited: Option<&crate::archive::Archive>,
    ) -> Result<Engine, EngineError> {
        let db = Db::connect(&config.database, &config.run, access).await?;
        let mut schema = Schema::load(&db).await?;
        if let Some(archive) = inherited {
            let references = archive.references_in(&schema);
            schema.foreign_keys.extend(references);
        }
        let targets = target::check(
            &config.policies,
            config.side,
            skip,
            &schema,
            db.dialect,
            &config.database.table_prefix,
        )
        .map_err(EngineError::Check)?;
        let targets = order::order(targets, &schema);
        let archive = Self::connect_archive(&config, &targets, &schema, db.dialect, access).await?;
        let mut engine = Engine {
            config,
            db,
            schema,
            targets,
            write_denied: Vec::new(),
            lock: tokio::sync::Mutex::new(None),
            clock_warnings: Vec::new(),
            pacing: tokio::sync::Mutex::new(None),
            archive,
            archive_side: Ok(None),
            not_yet_archived: Vec::new(),
        };
        engine.write_denied = engine.probe().await?;
        Ok(engine)
    }

    /// Connects the archive when a policy archives, and plans its tables. A table that cannot
    /// be archived exactly is a check failure; an archive that cannot be reached fails only
    /// the archive policies (see `archive`).
    async fn connect_archive(
        config: &Config,
        targets: &[Target],
        schema: &Schema,
        live: crate::db::Dialect,
        access: Access,
    ) -> Result<Result<Option<crate::archive::Archive>, String>, EngineError> {
        use crate::archive::{Archive, ArchivedTable};
        let archiving: Vec<&Target> = targets.iter().filter(|t| t.is_archive()).collect();
        let Some(archive_config) = config.archive.as_ref().filter(|_| !archiving.is_empty()) else {
            return Ok(Ok(None));
        };
        let mut tables = std::collections::BTreeMap::new();
        let mut issues = Vec::new();
        for t in archiving {
            match ArchivedTable::plan(t, schema, live) {
                Ok(table) => {
                    tables.insert(table.name.clone(), table);
                }
                Err(mut found) => issues.append(&mut found),
            }
        }
        if !issues.is_empty() {
            return Err(EngineError::Check(issues));
        }
        match Archive::connect(archive_config, &config.run, access).await {
            Ok(mut archive) => {
                archive.tables = tables;
                archive.inherit_references(schema);
                Ok(Ok(Some(archive)))
            }
            Err(e) => {
                tracing::error!(error = %e, "the archive cannot be reached; the archive policies will fail");
                Ok(Err(format!("the archive: {e}")))
            }
        }
    }

    /// The engine of the archive's own policies. A writing engine first makes the archive's
    /// tables, so that those policies can be checked against them; a read-only one leaves
    /// out the policies whose table the first run has yet to make. An archive that cannot be
    /// reached is `Err` with the reason: those policies fail with it, the live ones run.
    async fn prepare_archive_side(
        &self,
        access: Access,
    ) -> Result<Result<Option<Box<Engine>>, String>, EngineError> {
        let Some(config) = self.config.for_archive() else {
            return Ok(Ok(None));
        };
        if let Err(why) = &self.archive {
            return Ok(Err(why.clone()));
        }
        let mut skip = std::collections::BTreeSet::new();
        if let Ok(Some(archive)) = &self.archive
            && access == Access::ReadOnly
        {
            let schema = Schema::load(&archive.db).await?;
            for (i, p) in config.policies_here() {
                if schema.table(&p.table).is_none() && archive.table(&p.table).is_some() {
                    skip.insert(i);
                }
            }
        }
        let archive = self.archive.as_ref().ok().and_then(Option::as_ref);
        let mut engine = match Box::pin(Self::prepare_side(config, access, &skip, archive)).await {
            Ok(engine) => engine,
            // A config that does not fit the archive is the config's mistake, as live; anything
            // else the archive's server says fails only the archive's policies.
            Err(e @ (EngineError::Check(_) | EngineError::Usage(_))) => return Err(e),
            Err(e) => {
                tracing::error!(error = %e, "the archive cannot be used; its policies will fail");
                return Ok(Err(format!("the archive: {e}")));
            }
        };
        engine.not_yet_archived = skip
            .iter()
            .filter_map(|i| engine.config.policies.get(*i))
            .map(|p| {
                format!(
                    "archive policy \"{}\": its table \"{}\" is made in the archive by the first run, and checked then",
                    p.name, p.table
                )
            })
            .collect();
        Ok(Ok(Some(Box::new(engine))))
    }

    /// The archive, for an archive policy: its failure to connect fails that policy.
    pub(crate) fn archive(&self) -> Result<&crate::archive::Archive, DbError> {
        match &self.archive {
            Ok(Some(a)) => Ok(a),
            Ok(None) => Err(DbError::Refused {
                context: "the archive".into(),
                reason: "no [archive] is configured".into(),
            }),
            Err(why) => Err(DbError::Refused {
                context: "archive policy".into(),
                reason: why.clone(),
            }),
        }
    }

    /// Indexes whose absence makes every run scan whole tables (shown by `check`).
    pub fn index_advice(&self) -> Vec<String> {
        advice::missing_indexes(&self.targets, &self.schema)
    }

    /// Delete policies whose table may be referenced from tables `check` cannot see.
    pub fn unseen_references(&self) -> Vec<String> {
        advice::unseen_references(&self.targets, &self.schema)
    }

    /// Returns the write grants a read-only engine lacks (see `write_denied`).
    async fn probe(&mut self) -> Result<Vec<CheckIssue>, EngineError> {
        // Missing grants first: they would also make the trial statements below fail, less clearly.
        let mut denied =
            privilege::missing(&self.db, &self.targets, &self.config.database.table_prefix).await?;
        if self.db.access == Access::ReadWrite {
            denied.to_count.append(&mut denied.to_write);
        }
        if !denied.to_count.is_empty() {
            return Err(EngineError::Check(denied.to_count));
        }
        let cutoff = Utc::now();
        let mut issues = Vec::new();
        let mut tx = self.db.begin().await?;
        for t in &self.targets {
            let th = self.thresholds(t, cutoff)?;
            let q = Queries {
                db: &self.db,
                target: t,
                thresholds: &th,
                subject: None,
                walk_end: None,
                parents: None,
            };
            if let Err(e) = tx.fetch_i64(&q.probe()).await {
                let path = if t.policy.filter.is_some() {
                    "filter"
                } else {
                    "table"
                };
                issues.push(CheckIssue {
                    policy: t.name().to_string(),
                    path: format!("policies[{}].{path}", t.index),
                    message: format!(
                        "the database rejects this policy's query: {}",
                        db_message(&e)
                    ),
                });
                // A failed statement aborts a PostgreSQL transaction: start afresh.
                let _ = tx.rollback().await;
                tx = self.db.begin().await?;
            }
        }
        let _ = tx.rollback().await;
        issues.extend(self.sqlite_clock_formats().await?);
        if issues.is_empty() {
            Ok(denied.to_write)
        } else {
            Err(EngineError::Check(issues))
        }
    }

    /// Reads each clock column's values to decide how they are compared (`ClockRead`), and
    /// refuses what cannot be compared safely. SQLite keeps any value in any column, so there
    /// the values decide: one text form that sorts like its instant is compared as text (an
    /// index serves it), several forms through SQLite's date functions; integers need a
    /// `unit`. Epoch numbers on every database must fit their unit.
    async fn sqlite_clock_formats(&mut self) -> Result<Vec<CheckIssue>, EngineError> {
        let mut issues = Vec::new();
        let mut warnings = Vec::new();
        let mut targets = std::mem::take(&mut self.targets);
        let mut tx = self.db.begin().await?;
        for t in &mut targets {
            let (name, index) = (t.policy.name.clone(), t.index);
            let own_table = t.policy.table.clone();
            for (table, col, path) in t.clock.columns_mut(&own_table) {
                let census = clock::census(&self.db, &mut tx, table, col).await.ctx(|| {
                    format!(
                        "policy \"{name}\": reading the clock values of {table}.{}",
                        col.name
                    )
                })?;
                match clock::decide(&census, table, col) {
                    Ok((read, notes)) => {
                        col.read = read;
                        warnings
                            .extend(notes.into_iter().map(|n| format!("policy \"{name}\": {n}")));
                    }
                    Err(message) => issues.push(CheckIssue {
                        policy: name.clone(),
                        path: format!("policies[{index}].{path}"),
                        message,
                    }),
                }
            }
        }
        let _ = tx.rollback().await;
        self.targets = targets;
        self.clock_warnings = warnings;
        Ok(issues)
    }

    fn selected(&self, names: &[String]) -> Result<Vec<&Target>, EngineError> {
        for n in names {
            if !self.config.policies.iter().any(|p| p.name == *n) {
                let known: Vec<&str> = self
                    .config
                    .policies
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect();
                return Err(EngineError::Usage(format!(
                    "--policy {n}: no such policy; the config has {}",
                    known.join(", ")
                )));
            }
        }
        Ok(self
            .targets
            .iter()
            .filter(|t| names.is_empty() || names.iter().any(|n| n == t.name()))
            .collect())
    }

    fn thresholds(&self, t: &Target, cutoff: DateTime<Utc>) -> Result<Thresholds, EngineError> {
        let tz = self.config.database.timezone;
        let local = cutoff::threshold(&t.policy, cutoff, tz).ok_or_else(|| {
            EngineError::Clock(format!(
                "policy \"{}\": the period reaches outside the calendar",
                t.name()
            ))
        })?;
        let (clock, otherwise) = match &t.clock {
            target::TargetClock::Own(c) => (c, None),
            target::TargetClock::Related {
                column, otherwise, ..
            } => (column, otherwise.as_ref()),
        };
        let bound =
            |c: &target::ClockCol| cutoff::bound(c.read, c.kind, self.db.dialect, local, tz);
        Ok(Thresholds {
            clock: bound(clock),
            otherwise: otherwise.map(bound),
        })
    }

    async fn cutoff(&self, opts: &RunOptions) -> Result<DateTime<Utc>, EngineError> {
        match opts.now {
            Some(now) => Ok(now),
            None => Ok(self.db.now().await?),
        }
    }

    /// Counts what each selected policy would do, in one read-only transaction.
    /// The plan of the policies on this engine's database alone (see `sides::plan`).
    pub(crate) async fn plan_here(&self, opts: &RunOptions) -> Result<Plan, EngineError> {
        let cutoff = self.cutoff(opts).await?;
        self.plan_at(cutoff, opts).await
    }

    async fn plan_at(&self, cutoff: DateTime<Utc>, opts: &RunOptions) -> Result<Plan, EngineError> {
        self.plan_with(cutoff, opts, None, &parents::Parents::default(), false)
            .await
    }

    /// The plan, counted on the run's session (where its parents tables live) when there is
    /// one. `for_run`: the plan a run follows, which counts a table's rows only where
    /// `max_fraction` needs them (`plan` shows them).
    async fn plan_with(
        &self,
        cutoff: DateTime<Utc>,
        opts: &RunOptions,
        session: Option<&mut crate::db::Session>,
        parents: &parents::Parents,
        for_run: bool,
    ) -> Result<Plan, EngineError> {
        let mut policies = Vec::new();
        let mut earlier: Vec<blocked::Earlier<'_>> = Vec::new();
        let mut tx = crate::db::begin_on(&self.db, session).await?;
        let selected = self.selected(&opts.policies)?;
        for (i, t) in selected.iter().enumerate() {
            opts.progress.counting(i + 1, selected.len(), t.name());
            let counting_started = Instant::now();
            let th = self.thresholds(t, cutoff)?;
            let q = Queries {
                db: &self.db,
                target: t,
                thresholds: &th,
                subject: None,
                walk_end: None,
                parents: parents.of(t),
            };
            let ctx = |what: &str| format!("policy \"{}\": counting {what} rows", t.name());
            let (eligible, last_eligible) = count_and_last_key(&mut tx, &q, false)
                .await
                .ctx(|| ctx("expired"))?;
            let (blocked, last_blocked) = count_and_last_key(&mut tx, &q, true)
                .await
                .ctx(|| ctx("blocked"))?;
            let freed_by_own_deletes = match q.count_freed_by_own_deletes() {
                Some(sql) if blocked > 0 => {
                    tx.fetch_i64(&sql).await.ctx(|| ctx("self-referenced"))? as u64
                }
                _ => 0,
            };
            let why = match blocked > freed_by_own_deletes {
                true => blocked::analyse(&mut tx, &q, &earlier)
                    .await
                    .ctx(|| ctx("blocked"))?,
                false => blocked::Analysis::default(),
            };
            let freed = (freed_by_own_deletes + why.freed_by_earlier).min(blocked);
            let gone = match eligible {
                0 => 0,
                _ => blocked::deleted_first(&mut tx, &q, &earlier)
                    .await
                    .ctx(|| ctx("deleted"))?
                    .min(eligible),
            };
            let moves = blocked::clock_moves(&mut tx, &q, &earlier)
                .await
                .ctx(|| ctx("related-clock"))?;
            let (undated_first, may_change_by) = match &moves {
                Some(m) if m.has_otherwise => (0, m.all),
                Some(m) => (m.eligible.min(eligible - gone), 0),
                None => (0, 0),
            };
            let (eligible, blocked) = (eligible + freed - gone - undated_first, blocked - freed);
            let last_key = match (last_eligible, last_blocked) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            }
            .map(|k| vec![Value::Int(k)]);
            let undated = tx
                .fetch_i64(&q.count_undated())
                .await
                .ctx(|| ctx("undated"))? as u64;
            let held = match t.holds {
                Some(_) => tx.fetch_i64(&q.count_held()).await.ctx(|| ctx("held"))? as u64,
                None => 0,
            };
            // With max_fraction 1 no share is too large: counting a whole big table (seconds
            // when it does not fit in memory) would decide nothing.
            let total = match eligible {
                0 => None,
                _ if for_run && t.policy.max_fraction >= 1.0 => None,
                _ => Some(tx.fetch_i64(&q.count_total()).await.ctx(|| ctx("all"))? as u64),
            };
            let safety_stop = safety(t, eligible, total.unwrap_or(0));
            opts.progress.counted(eligible);
            policies.push(PolicyPlan {
                name: t.name().to_string(),
                database: t.policy.database,
                table: t.table().to_string(),
                action: t.policy.action.name().to_string(),
                eligible,
                blocked,
                undated,
                held,
                total,
                expires_before: th.clock.shown.clone(),
                basis: t.policy.basis.clone(),
                safety_stop,
                freed_by_own_deletes,
                freed_by_earlier_policies: why.freed_by_earlier,
                blocked_by: why.blocked_by,
                deleted_by_earlier_policies: gone,
                undated_by_earlier_policies: undated_first,
                may_change_by,
                clock_table: moves.map(|m| m.table),
                last_key,
                counted_in: counting_started.elapsed(),
            });
            if t.is_delete() {
                earlier.push(blocked::Earlier {
                    target: t,
                    thresholds: th.clone(),
                });
            }
        }
        tx.rollback()
            .await
            .ctx(|| "ending the plan's transaction".into())?;
        Ok(Plan {
            cutoff: format_utc(cutoff),
            database: self.db.display_url.clone(),
            policies,
        })
    }
}

/// A count, and for a single integer key the highest key counted (see
/// `Queries::count_and_last_key`).
async fn count_and_last_key(
    tx: &mut crate::db::Tx<'_>,
    q: &Queries<'_>,
    blocked: bool,
) -> Result<(u64, Option<i64>), sqlx::Error> {
    let Some(sql) = q.count_and_last_key(blocked) else {
        let count = if blocked {
            q.count_blocked()
        } else {
            q.count_eligible()
        };
        return Ok((tx.fetch_i64(&count).await? as u64, None));
    };
    let rows = tx.fetch(&sql, &[Decode::Int, Decode::Int]).await?;
    Ok(match rows.first().map(Vec::as_slice) {
        Some([Value::Int(n), Value::Int(last)]) => (*n as u64, Some(*last)),
        Some([Value::Int(n), _]) => (*n as u64, None),
        _ => (0, None),
    })
}

/// Test hook, debug builds only: `RETENTIOND_TEST_STALL=<point>` makes a run say
/// "stalled at <point>" on stderr and wait there, so that a test can kill it at that moment
/// or, when `RETENTIOND_TEST_RESUME=<file>` is set, change data and let it go on by creating
/// that file.
pub(crate) async fn stall_point(point: &str) {
    if !cfg!(debug_assertions) || std::env::var("RETENTIOND_TEST_STALL").as_deref() != Ok(point) {
        return;
    }
    eprintln!("stalled at {point}");
    let resume = std::env::var_os("RETENTIOND_TEST_RESUME").map(std::path::PathBuf::from);
    let until = Instant::now() + Duration::from_secs(600);
    while Instant::now() < until && !resume.as_ref().is_some_and(|f| f.exists()) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A key as its audit entry records it. The hash chain makes an entry impossible to change
/// later, so only surrogates that cannot be personal data are written as they are: integers
/// and uuids (also a uuid kept in a text column, as Prisma and Laravel keep them). Any other
/// key part (an e-mail address, a birth date, bytes) is written as `*`: not even a keyed
/// digest, since whoever holds the key could test a guess against it.
fn render_key(key: &[target::Col], values: &[Value]) -> String {
    use crate::db::schema::ColumnKind;
    key.iter()
        .zip(values)
        .map(|(col, value)| match (col.kind, value) {
            (ColumnKind::Integer | ColumnKind::Uuid, v) => v.render(),
            (ColumnKind::Text, Value::Text(s)) if is_uuid(s) => s.clone(),
            _ => WITHHELD.to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hexadecimal digits of either case.
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// What the audit trail records for a key part that may be personal data.
const WITHHELD: &str = "*";

/// At least 100 000 rows, or a fifth of the table: enough dead space and shifted statistics
/// that the planner may choose badly until the table is vacuumed or analyzed.
fn large_purge(deleted: u64, total: Option<u64>) -> bool {
    deleted >= 100_000 || total.is_some_and(|t| t > 0 && deleted * 5 >= t)
}

/// Why a policy must not run without `--force`, if it must not.
fn safety(t: &Target, eligible: u64, total: u64) -> Option<String> {
    let p = &t.policy;
    if let Some(max) = p.max_rows
        && eligible > max
    {
        return Some(format!(
            "policy \"{}\" would touch {eligible} rows of \"{}\", more than max_rows = {max}; check the policy, then rerun with --force",
            p.name, p.table
        ));
    }
    if total > 0 && eligible as f64 > p.max_fraction * total as f64 {
        return Some(format!(
            "policy \"{}\" would touch {eligible} of {total} rows of \"{}\" ({:.0}%), more than max_fraction = {}; check the policy, then rerun with --force",
            p.name,
            p.table,
            100.0 * eligible as f64 / total as f64,
            p.max_fraction
        ));
    }
    None
}

/// The database's own message, without sqlx's wrapping.
fn db_message(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => d.message().to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::{large_purge, render_key};
    use crate::db::Value;
    use crate::db::schema::ColumnKind;

    #[test]
    fn audit_keys_keep_surrogates_and_withhold_everything_else() {
        let col = |kind| super::target::Col {
            name: "k".into(),
            kind,
            max_len: None,
            nullable: false,
        };
        let key = [
            col(ColumnKind::Integer),
            col(ColumnKind::Uuid),
            col(ColumnKind::Text),
            col(ColumnKind::TimestampTz),
            col(ColumnKind::Binary),
            col(ColumnKind::Text),
        ];
        let values = [
            Value::Int(42),
            Value::Text("6f1c2a52-5d0e-4c49-9a43-0d5c52b1e001".into()),
            Value::Text("zoe@example.nl".into()),
            Value::TimestampTz(chrono::DateTime::UNIX_EPOCH),
            Value::Bytes(vec![1, 2]),
            Value::Text("0B5D1F2E-8C3A-4D6B-9E7F-1A2B3C4D5E6F".into()),
        ];
        assert_eq!(
            render_key(&key, &values),
            "42,6f1c2a52-5d0e-4c49-9a43-0d5c52b1e001,*,*,*,0B5D1F2E-8C3A-4D6B-9E7F-1A2B3C4D5E6F"
        );
        assert_eq!(
            render_key(
                &key[2..3],
                &[Value::Text("6f1c2a52-5d0e-4c49-9a43-0d5c52b1e00@".into())]
            ),
            "*"
        );
    }

    #[test]
    fn large_purges_are_a_fifth_of_the_table_or_a_hundred_thousand_rows() {
        assert!(!large_purge(19, Some(100)));
        assert!(large_purge(20, Some(100)));
        assert!(!large_purge(99_999, None));
        assert!(large_purge(100_000, None));
        assert!(!large_purge(0, Some(0)));
    }
}
