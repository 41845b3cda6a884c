//! A policy's walk: keyset batches from the lowest key to the walk's end, paced, stopped
//! between batches by a signal, `run.max_runtime` or a lost instance lock.

use super::super::pacing::{Limits, Pacing};
use super::super::query::Queries;
use super::super::{EngineError, PolicyOutcome, PolicyPlan};
use super::context::RunContext;
use super::stop::Stop;
use super::write::{self, WriteStrategy};
use crate::db::{Context, Value};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// The most walks of one policy in a run (see `walk`).
const MAX_WALKS: u32 = 100;

/// Retries of a batch that met rows locked by other transactions, with doubling waits.
const LOCK_RETRIES: u32 = 4;

/// Walks one policy's eligible rows, again while a walk freed rows that only rows of their
/// own table referenced (a reply to a reply goes before the reply it answers, which the walk
/// had passed by then), at most `MAX_WALKS` times: each further walk follows one that deleted
/// rows, so there are never more than the blocked rows plus one. A dry run deletes nothing to
/// free rows: it counts the plan's prediction instead. Returns why it stopped early, if it did.
pub async fn walk(
    ctx: &mut RunContext<'_>,
    q: &Queries<'_>,
    p: &PolicyPlan,
    outcome: &mut PolicyOutcome,
) -> Result<Option<Stop>, EngineError> {
    let writes = ctx.mode.writes();
    // The plan counted the rows a repeated walk frees: none, and one walk is all.
    let repeat = writes && p.freed_by_own_deletes > 0;
    let strategy = WriteStrategy::choose(q);
    let mut walks = 0;
    loop {
        let before = outcome.affected;
        let stop = purge(ctx, q, strategy, p.eligible, outcome).await?;
        walks += 1;
        if !writes {
            outcome.affected =
                (outcome.affected + p.freed_by_own_deletes + p.freed_by_earlier_policies)
                    .saturating_sub(p.deleted_by_earlier_policies + p.undated_by_earlier_policies);
        }
        if stop.is_some() || !repeat || outcome.affected == before || walks >= MAX_WALKS {
            return Ok(stop);
        }
        let mut tx = ctx.begin().await?;
        let blocked = tx
            .fetch_i64(&q.count_blocked())
            .await
            .ctx(|| format!("policy \"{}\": counting blocked rows", q.target.name()))?;
        tx.rollback().await.ctx(|| "ending a transaction".into())?;
        if blocked == 0 {
            return Ok(None);
        }
        tracing::debug!(
            policy = q.target.name(),
            walks,
            blocked,
            "walking again: rows referenced only by rows of their own table were freed"
        );
    }
}

/// One walk of the rows `q` selects, without a plan to follow (an erasure request's rows).
pub async fn walk_once(
    ctx: &mut RunContext<'_>,
    q: &Queries<'_>,
    outcome: &mut PolicyOutcome,
) -> Result<Option<Stop>, EngineError> {
    purge(ctx, q, WriteStrategy::choose(q), 0, outcome).await
}

/// One walk in keyset batches. Returns why it stopped early, if it did.
async fn purge(
    ctx: &mut RunContext<'_>,
    q: &Queries<'_>,
    strategy: WriteStrategy,
    expected: u64,
    outcome: &mut PolicyOutcome,
) -> Result<Option<Stop>, EngineError> {
    let t = q.target;
    let run = &ctx.engine.config.run;
    let max_limit = t.policy.batch_size;
    let mut limit = max_limit;
    let mut cursor: Option<Vec<Value>> = None;
    let policy_started = Instant::now();
    let mut last_progress = Instant::now();
    let mut lock_checked = Instant::now();
    let pacing = ctx.engine.pacing.lock().await;
    // A dry run or an erasure writes too little to pace by: only the pause.
    let pause_only = Pacing::pause_only(&ctx.engine.db, run);
    let limits = Limits {
        stop: ctx.opts.stop.clone(),
        deadline: run.max_runtime.map(|max| ctx.started + max),
    };
    let mut pacer = pacing.as_ref().unwrap_or(&pause_only).pacer(limits).await?;
    let waited_before = outcome.waited_for_replica_ms;
    loop {
        outcome.waited_for_replica_ms =
            waited_before + pacer.waited_for_replica().as_millis() as u64;
        if let Some(stop) = stop_between_batches(ctx, &mut lock_checked).await {
            if stop == Stop::LockLost {
                tracing::error!(policy = t.name(), "{stop}");
            }
            return Ok(Some(stop));
        }
        let batch_started = Instant::now();
        let mut attempt = 0;
        let written = loop {
            match write::batch(
                ctx,
                q,
                strategy,
                cursor.as_deref(),
                limit,
                outcome.batches + 1,
            )
            .await
            {
                Ok(w) => break w,
                Err(e) if e.is_lock_conflict() && attempt < LOCK_RETRIES => {
                    attempt += 1;
                    let wait = Duration::from_millis(200 * (1 << attempt));
                    tracing::warn!(
                        policy = t.name(),
                        attempt,
                        wait_ms = wait.as_millis() as u64,
                        "lock conflict; retrying the batch"
                    );
                    tokio::time::sleep(wait).await;
                }
                Err(e) if e.is_lock_conflict() => {
                    return Ok(Some(Stop::LockTimeout(e.to_string())));
                }
                Err(e) => return Err(e.into()),
            }
        };
        let seen = written.keys.len();
        let Some(last) = written.keys.into_iter().last() else {
            return Ok(None);
        };
        outcome.batches += 1;
        outcome.affected += written.rows;
        cursor = Some(last);
        ctx.opts.progress.batch_written(written.rows);
        if !ctx.opts.progress.is_live() && last_progress.elapsed() >= Duration::from_secs(5) {
            tracing::info!(
                policy = t.name(),
                affected = outcome.affected,
                batches = outcome.batches,
                "progress: {}",
                progress(outcome.affected, expected, policy_started.elapsed())
            );
            last_progress = Instant::now();
        }
        if seen < limit as usize {
            return Ok(None);
        }
        let took = batch_started.elapsed();
        if let Some(target) = run.batch_target {
            limit = adapt_batch(limit, took, target, max_limit);
        }
        // No transaction is open here: the wait gives the application the server.
        pacer.after_batch(took, &ctx.opts.progress).await?;
    }
}

/// Whether the walk must stop before its next batch: a signal, the run's time used up, or the
/// instance lock gone with its connection (a round trip, so checked at most once a second).
async fn stop_between_batches(ctx: &RunContext<'_>, lock_checked: &mut Instant) -> Option<Stop> {
    if ctx
        .opts
        .stop
        .as_ref()
        .is_some_and(|s| s.load(Ordering::Relaxed))
    {
        return Some(Stop::Interrupted);
    }
    if lock_checked.elapsed() >= Duration::from_secs(1) {
        *lock_checked = Instant::now();
        if ctx.engine.lock_lost().await {
            return Some(Stop::LockLost);
        }
    }
    match ctx.engine.config.run.max_runtime {
        Some(max) if ctx.started.elapsed() >= max => Some(Stop::MaxRuntime(max)),
        _ => None,
    }
}

/// The next batch size: towards `target` duration, at most doubling or halving per step,
/// between 1% of the configured size and the configured size.
fn adapt_batch(limit: u32, took: Duration, target: Duration, max: u32) -> u32 {
    let min = (max / 100).max(1);
    let ratio = (target.as_secs_f64() / took.as_secs_f64().max(1e-4)).clamp(0.5, 2.0);
    ((limit as f64 * ratio) as u32).clamp(min, max)
}

/// "45 000 of 98 517 rows (46%), 12 000 rows/s, about 4 s left": the plan's count is the
/// goal; rows that stop being expired meanwhile make it end early, never late.
fn progress(done: u64, expected: u64, elapsed: Duration) -> String {
    let rate = done as f64 / elapsed.as_secs_f64().max(1e-3);
    let mut s = format!("{done} of {expected} rows");
    if let Some(pct) = (100 * done.min(expected)).checked_div(expected) {
        s.push_str(&format!(" ({pct}%)"));
    }
    s.push_str(&format!(", {rate:.0} rows/s"));
    if rate > 0.0 && expected > done {
        s.push_str(&format!(
            ", about {:.0} s left",
            (expected - done) as f64 / rate
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::{adapt_batch, progress};
    use std::time::Duration;

    #[test]
    fn progress_names_the_share_the_rate_and_the_time_left() {
        assert_eq!(
            progress(45_000, 90_000, Duration::from_secs(5)),
            "45000 of 90000 rows (50%), 9000 rows/s, about 5 s left"
        );
        assert_eq!(
            progress(10, 0, Duration::from_secs(1)),
            "10 of 0 rows, 10 rows/s"
        );
    }

    #[test]
    fn batch_size_moves_towards_the_target_within_bounds() {
        let ms = Duration::from_millis;
        assert_eq!(adapt_batch(1000, ms(100), ms(50), 1000), 500);
        assert_eq!(
            adapt_batch(1000, ms(1000), ms(50), 1000),
            500,
            "at most halving per step"
        );
        assert_eq!(
            adapt_batch(500, ms(10), ms(50), 1000),
            1000,
            "at most doubling, never above the maximum"
        );
        assert_eq!(
            adapt_batch(10, ms(1000), ms(50), 1000),
            10,
            "never below 1% of the maximum"
        );
    }
}
