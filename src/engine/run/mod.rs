//! A run: the instance lock and the clock guards around it, then each selected policy's
//! plan, walk and recount, recorded in the runs table.

mod context;
mod stop;
mod walk;
mod write;

pub(in crate::engine) use context::{Mode, RunContext};
pub use stop::Stop;
pub(in crate::engine) use walk::walk_once;

use super::pacing::Pacing;
use super::parents::Parents;
use super::{
    Engine, EngineError, FAILED, INTERRUPTED, PolicyOutcome, PolicyPlan, RunOptions, RunReport,
    Target, large_purge, stall_point,
};
use crate::db::Context;
use crate::db::lock::InstanceLock;
use crate::store::{RunStatus, Store, audit, format_utc};
use chrono::{DateTime, Utc};
use std::time::Instant;

impl Engine {
    /// A real run (or, with `dry_run`, the same walk without writing) of the policies on this
    /// engine's database alone (see `sides::run`).
    pub(crate) async fn run_here(&self, opts: &RunOptions) -> Result<RunReport, EngineError> {
        let prefix = self.config.database.table_prefix.as_str();
        let store = Store::new(&self.db, prefix);
        let selected = self.selected(&opts.policies)?;
        if opts.dry_run {
            let cutoff = self.cutoff(opts).await?;
            return self
                .execute(&store, &selected, cutoff, Mode::DryRun, opts)
                .await;
        }
        self.begin_writing(&store).await?;
        if let Some(since) = opts.slot_start {
            let served = store.last_run_started().await;
            if served.as_ref().is_ok_and(|s| s.is_some_and(|s| s >= since)) {
                self.release_lock().await;
                return Err(EngineError::SlotServed(format_utc(since)));
            }
        }
        let result = self.locked_run(&store, &selected, opts).await;
        self.release_lock().await;
        result
    }

    /// Before anything is written: the config's review is complete, retentiond's own tables
    /// are up to date, and this instance holds the lock (until `release_lock`).
    pub(in crate::engine) async fn begin_writing(
        &self,
        store: &Store<'_>,
    ) -> Result<(), EngineError> {
        if let Some(why) = self.config.review.missing() {
            return Err(EngineError::Usage(why));
        }
        store.migrate().await?;
        let lock = InstanceLock::try_acquire(&self.db, &self.config.database.table_prefix)
            .await?
            .ok_or_else(|| EngineError::Locked(self.db.display_url.clone()))?;
        *self.lock.lock().await = Some(lock);
        Ok(())
    }

    pub(in crate::engine) async fn release_lock(&self) {
        let lock = self.lock.lock().await.take();
        if let Some(lock) = lock {
            lock.release().await;
        }
    }

    /// True when a held instance lock has gone with its connection.
    pub(in crate::engine) async fn lock_lost(&self) -> bool {
        match self.lock.lock().await.as_mut() {
            Some(lock) => !lock.still_held().await,
            None => false,
        }
    }

    async fn locked_run(
        &self,
        store: &Store<'_>,
        selected: &[&Target],
        opts: &RunOptions,
    ) -> Result<RunReport, EngineError> {
        let abandoned = store.abandon_stale_runs().await?;
        if abandoned > 0 {
            tracing::warn!(
                abandoned,
                "found runs whose process ended before they finished; this run completes their work"
            );
        }
        let cutoff = self.cutoff(opts).await?;
        self.guard_clock(store, cutoff, opts).await?;
        *self.pacing.lock().await = Some(Pacing::prepare(&self.db, &self.config).await?);
        let run_id = store
            .start_run(cutoff, "run", &self.config.fingerprint)
            .await?;
        tracing::info!(run_id, cutoff = %format_utc(cutoff), "run started");
        stall_point("before-first-batch").await;
        let result = self
            .execute(store, selected, cutoff, Mode::Real { run_id }, opts)
            .await;
        let (status, reason) = match &result {
            Ok(r) if r.status == "ok" => (RunStatus::Ok, None),
            Ok(r) if r.status == FAILED => {
                let stop = r.stop_reason.as_ref().map(Stop::to_string);
                let reasons = r.failures().into_iter().chain(stop);
                (
                    RunStatus::Failed,
                    Some(reasons.collect::<Vec<_>>().join("; ")),
                )
            }
            Ok(r) if r.stop_reason == Some(Stop::Interrupted) => {
                (RunStatus::Interrupted, Some(Stop::Interrupted.to_string()))
            }
            Ok(r) => (
                RunStatus::Stopped,
                r.stop_reason.as_ref().map(Stop::to_string),
            ),
            Err(EngineError::Safety(reasons)) => (RunStatus::Stopped, Some(reasons.join("; "))),
            Err(e) => (RunStatus::Failed, Some(e.to_string())),
        };
        stall_point("before-run-record").await;
        if let Ok(r) = &result {
            let backlog = r.policies.iter().map(|p| p.backlog).sum();
            if let Err(e) = store.record_backlog(run_id, backlog).await {
                tracing::error!(run_id, error = %e, "could not record the run's backlog");
            }
        }
        if let Err(e) = store.finish_run(run_id, status, reason.as_deref()).await {
            tracing::error!(run_id, error = %e, "could not record the end of the run");
        }
        tracing::info!(run_id, status = status.as_str(), "run finished");
        result
    }

    /// Refuses a cutoff before the previous run's (the clock went backwards) or, without
    /// `--force`, further past it than `run.max_clock_jump`.
    async fn guard_clock(
        &self,
        store: &Store<'_>,
        cutoff: DateTime<Utc>,
        opts: &RunOptions,
    ) -> Result<(), EngineError> {
        let Some(last) = store.last_cutoff().await? else {
            return Ok(());
        };
        if cutoff < last {
            return Err(EngineError::Clock(format!(
                "the database clock ({}) is before the previous run's cutoff ({}); it went backwards, so nothing is purged",
                format_utc(cutoff),
                format_utc(last)
            )));
        }
        let jump = self.config.run.max_clock_jump;
        if !opts.force && (cutoff - last).to_std().is_ok_and(|d| d > jump) {
            return Err(EngineError::Clock(format!(
                "the database clock ({}) is {} days past the previous run's cutoff ({}), more than run.max_clock_jump; \
                 if the clock is right, rerun with --force",
                format_utc(cutoff),
                (cutoff - last).num_days(),
                format_utc(last)
            )));
        }
        Ok(())
    }

    async fn execute(
        &self,
        store: &Store<'_>,
        selected: &[&Target],
        cutoff: DateTime<Utc>,
        mode: Mode,
        opts: &RunOptions,
    ) -> Result<RunReport, EngineError> {
        let mut session = match mode {
            Mode::Real { .. } => self.db.session().await?,
            Mode::DryRun => None,
        };
        let parents = match &mut session {
            Some(s) => Parents::build(self, s, selected, cutoff).await?,
            None => Parents::default(),
        };
        let plan = self
            .plan_with(cutoff, opts, session.as_mut(), &parents, true)
            .await?;
        let stops: Vec<String> = plan
            .policies
            .iter()
            .filter_map(|p| p.safety_stop.clone())
            .collect();
        if !stops.is_empty() && !opts.force {
            return Err(EngineError::Safety(stops));
        }
        let chain = match mode {
            Mode::Real { .. } => store.last_audit_hash().await?,
            Mode::DryRun => audit::GENESIS.to_string(),
        };
        let mut ctx = RunContext {
            engine: self,
            store,
            mode,
            cutoff,
            opts,
            started: Instant::now(),
            chain,
            session,
            parents: &parents,
        };
        let mut outcomes = Vec::new();
        let mut stop_reason = None;
        for (i, (t, p)) in selected.iter().zip(&plan.policies).enumerate() {
            let mut outcome = PolicyOutcome {
                blocked: p.blocked,
                undated: p.undated,
                held: p.held,
                ..PolicyOutcome::new(t)
            };
            if stop_reason.is_none() {
                let policy_start = Instant::now();
                opts.progress
                    .policy_started(i + 1, selected.len(), t.name(), p.eligible);
                let result = run_policy(&mut ctx, t, p, &mut outcome).await;
                opts.progress.policy_done();
                match result {
                    Ok(()) => {}
                    Err(e) if e.fails_one_policy() => {
                        tracing::error!(
                            policy = t.name(),
                            error = %e,
                            "policy failed; the run goes on with the next policies"
                        );
                        outcome.error = Some(e.to_string());
                    }
                    Err(e) => return Err(e),
                }
                outcome.duration_ms = (p.counted_in + policy_start.elapsed()).as_millis() as u64;
                stop_reason = outcome.stop_reason.clone();
            } else {
                outcome.duration_ms = p.counted_in.as_millis() as u64;
                outcome.stop_reason = Some(Stop::NotStarted);
                // Never reached: everything the plan found expired is still there.
                outcome.backlog = p.eligible;
            }
            outcomes.push(outcome);
        }
        let failed = outcomes.iter().any(|o| o.error.is_some());
        Ok(RunReport {
            run_id: mode.run_id(),
            archive_run_id: None,
            dry_run: opts.dry_run,
            cutoff: format_utc(cutoff),
            status: match &stop_reason {
                _ if failed => FAILED.into(),
                None => "ok".into(),
                Some(Stop::Interrupted) => INTERRUPTED.into(),
                Some(_) => "stopped".into(),
            },
            stop_reason,
            database: self.db.display_url.clone(),
            audit_table: store.table("audit"),
            policies: outcomes,
            stale_holds: self.stale_holds(store, cutoff).await?,
        })
    }

    /// Holds in force past their review date, described without their reason (free text
    /// that may name a person; the summary carries no personal data).
    async fn stale_holds(
        &self,
        store: &Store<'_>,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, EngineError> {
        if !self.targets.iter().any(|t| t.holds.is_some()) {
            return Ok(Vec::new());
        }
        Ok(store
            .holds(false)
            .await?
            .iter()
            .filter(|h| h.is_stale(now))
            .map(|h| {
                format!(
                    "hold {} on {}, set by {} on {}, review date {}",
                    h.id,
                    h.what(),
                    h.set_by,
                    h.set_at.get(..10).unwrap_or(&h.set_at),
                    h.review_at
                        .as_deref()
                        .and_then(|r| r.get(..10))
                        .unwrap_or("-")
                )
            })
            .collect())
    }
}

/// One policy's walk and its verification. An error the server gives for one of its
/// statements (see `EngineError::fails_one_policy`) fails this policy only.
async fn run_policy(
    ctx: &mut RunContext<'_>,
    t: &Target,
    p: &PolicyPlan,
    outcome: &mut PolicyOutcome,
) -> Result<(), EngineError> {
    let engine = ctx.engine;
    let th = engine.thresholds(t, ctx.cutoff)?;
    let q = super::query::Queries {
        db: &engine.db,
        target: t,
        thresholds: &th,
        subject: None,
        walk_end: p.last_key.as_deref(),
        parents: ctx.parents.of(t),
    };
    if t.is_archive() {
        settle_archive(ctx, t, &q).await?;
    }
    // Counted a moment ago: with nothing eligible (or blocked, which an earlier policy may
    // have freed), the walk would only read the table again (with a related clock, all of
    // it). What expires from now on is the next run's.
    let walked = if p.eligible > 0 || p.blocked > 0 {
        walk::walk(ctx, &q, p, outcome).await
    } else {
        Ok(None)
    };
    match &walked {
        Ok(stop) => outcome.stop_reason = stop.clone(),
        // A walk the server refused is still recounted: its backlog says what it left.
        Err(e) if e.fails_one_policy() => {}
        Err(_) => return walked.map(drop),
    }
    // Nothing was eligible and nothing was written: a recount would only repeat the plan's
    // count of a moment ago.
    if ctx.mode.writes() && (p.eligible > 0 || outcome.affected > 0) {
        let mut tx = ctx.begin().await?;
        let what = |what: &str| format!("policy \"{}\": counting {what}", t.name());
        // Through the parents set first, which is cheap; only what it finds is counted again
        // asking the related table, so that a parent who came back is no backlog.
        for q in [q, q.exact()] {
            outcome.backlog = tx
                .fetch_i64(&q.count_eligible())
                .await
                .ctx(|| what("the backlog"))? as u64;
            outcome.blocked = tx
                .fetch_i64(&q.count_blocked())
                .await
                .ctx(|| what("blocked rows"))? as u64;
            if outcome.backlog + outcome.blocked == 0 || q.parents.is_none() {
                break;
            }
        }
        tx.rollback().await.ctx(|| "ending a transaction".into())?;
        if outcome.backlog > 0 && outcome.stop_reason.is_none() && walked.is_ok() {
            tracing::warn!(
                policy = t.name(),
                backlog = outcome.backlog,
                "rows past their cutoff remain after the run"
            );
        }
    }
    walked?;
    if ctx.mode.writes() && t.is_delete() && large_purge(outcome.affected, p.total) {
        tracing::info!(
            policy = t.name(),
            table = t.table(),
            deleted = outcome.affected,
            "a large share of the table was deleted: {}",
            engine.db.dialect.maintenance_advice(t.table())
        );
    }
    if outcome.affected > 0 || outcome.stop_reason.is_some() {
        tracing::info!(
            policy = t.name(),
            action = outcome.action,
            affected = outcome.affected,
            batches = outcome.batches,
            blocked = outcome.blocked,
            backlog = outcome.backlog,
            dry_run = ctx.opts.dry_run,
            "policy done"
        );
    } else {
        tracing::debug!(
            policy = t.name(),
            blocked = outcome.blocked,
            "policy done: nothing to do"
        );
    }
    Ok(())
}

/// Before an archive policy's walk: the archive is reachable (and its tables were made ready
/// by `Engine::prepare`), and the copies an earlier run left unconfirmed are settled.
async fn settle_archive(
    ctx: &mut RunContext<'_>,
    t: &Target,
    q: &super::query::Queries<'_>,
) -> Result<(), EngineError> {
    let archive = ctx.engine.archive()?;
    let Mode::Real { run_id } = ctx.mode else {
        return Ok(());
    };
    if let Some(table) = archive.table(t.table()) {
        crate::archive::copy::settle_unfinished(archive, table, q, ctx.store, run_id).await?;
    }
    Ok(())
}
