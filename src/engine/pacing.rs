//! How fast a run writes, in one place: after each batch (no transaction open) the run waits
//! for the configured pause, for the write budget (server write volume per second: PostgreSQL
//! WAL, InnoDB redo), and while a replica is further behind than `run.max_replica_lag`.
//!
//! The budget paces by what the server reports it wrote, not by time: the latency a purge
//! causes on PostgreSQL comes from checkpoints that its WAL volume forces, which a pause after
//! each batch does not spread out.

use super::progress::Observer;
use crate::config::budget::{rate, size};
use crate::config::{Config, RunConfig, WriteBudget};
use crate::db::replica::{self, ReplicaState};
use crate::db::write_volume::{self, Capacity};
use crate::db::{Db, DbError, Dialect};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often a replica is asked again while the run waits for it.
const LAG_POLL: Duration = Duration::from_secs(1);
/// The longest single sleep: a stop request or `max_runtime` is noticed within this.
const NAP: Duration = Duration::from_millis(250);
/// The bucket holds at most this much of the budget: a batch after a long wait (for a
/// replica, say) does not get to write the whole wait's budget at once.
const BURST: Duration = Duration::from_secs(1);
/// InnoDB has no checkpoint interval: `auto` lets a purge fill half the redo log per minute.
const REDO_WINDOW: Duration = Duration::from_secs(60);

/// The budget a run paces by, and how it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    /// Bytes per second; `None`: no budget.
    pub per_second: Option<f64>,
    /// "auto: 1 GB max_wal_size ... → 920 kB/s", for the log, `check` and `plan`.
    pub why: String,
}

/// The budget `run.write_budget` gives on a server with this capacity. PostgreSQL starts a
/// checkpoint when the WAL since the last one reaches max_wal_size / (1 +
/// checkpoint_completion_target); `auto` lets the purge write half of that per
/// checkpoint_timeout, leaving the other half to the site, so the purge alone never forces one.
pub fn budget(setting: WriteBudget, capacity: Option<&Capacity>) -> Budget {
    match (setting, capacity) {
        (WriteBudget::Off, _) => Budget {
            per_second: None,
            why: "off (run.write_budget)".into(),
        },
        (WriteBudget::PerSecond(b), _) => Budget {
            per_second: Some(b),
            why: format!("{} (run.write_budget)", rate(b)),
        },
        (WriteBudget::Auto, None) => Budget {
            per_second: None,
            why: "auto: none on SQLite".into(),
        },
        (
            WriteBudget::Auto,
            Some(Capacity::Wal {
                max_wal_size,
                checkpoint_timeout,
                completion_target,
            }),
        ) => {
            let per_checkpoint = *max_wal_size as f64 / (1.0 + completion_target);
            let b = per_checkpoint / 2.0 / checkpoint_timeout.as_secs_f64().max(1.0);
            Budget {
                per_second: Some(b),
                why: format!(
                    "auto: half of {} max_wal_size / (1 + {completion_target} checkpoint_completion_target) \
                     per {} checkpoint_timeout → {}",
                    size(*max_wal_size as f64),
                    minutes(*checkpoint_timeout),
                    rate(b)
                ),
            }
        }
        (WriteBudget::Auto, Some(Capacity::Redo { log_size })) => {
            let b = *log_size as f64 / 2.0 / REDO_WINDOW.as_secs_f64();
            Budget {
                per_second: Some(b),
                why: format!(
                    "auto: half of the {} redo log (innodb_log_file_size) per minute → {}, \
                     less as the checkpoint age nears the log's size",
                    size(*log_size as f64),
                    rate(b)
                ),
            }
        }
    }
}

/// "5 min", "30 s".
fn minutes(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 && s.is_multiple_of(60) {
        format!("{} min", s / 60)
    } else {
        format!("{s} s")
    }
}

/// The share of the budget left when InnoDB's checkpoint age fills this share of the redo
/// log: all of it up to a half, then less, down to a tenth from three quarters on, where
/// InnoDB is close to flushing furiously to free log space. Never none: the purge goes on.
pub fn checkpoint_share(fill: f64) -> f64 {
    ((0.75 - fill) / 0.25).clamp(0.1, 1.0)
}

/// A token bucket: bytes the budget allows, refilled at its rate up to `BURST` of it.
#[derive(Debug, Clone)]
struct Bucket {
    rate: f64,
    tokens: f64,
}

impl Bucket {
    fn new(rate: f64) -> Bucket {
        Bucket { rate, tokens: 0.0 }
    }

    /// Takes `bytes` written over `elapsed` (at `share` of the rate); returns how long to
    /// wait until the bucket is no longer in debt.
    fn take(&mut self, bytes: f64, elapsed: Duration, share: f64) -> Duration {
        let rate = self.rate * share;
        let cap = rate * BURST.as_secs_f64();
        self.tokens = (self.tokens + rate * elapsed.as_secs_f64()).min(cap) - bytes;
        if self.tokens >= 0.0 {
            return Duration::ZERO;
        }
        let wait = Duration::from_secs_f64(-self.tokens / rate);
        self.tokens = 0.0;
        wait
    }
}

/// Where `max_replica_lag` reads the lag from.
#[derive(Debug)]
enum LagSource {
    /// The primary's pg_stat_replication.
    Postgres,
    /// The replica itself.
    MySql(Db),
}

/// Pacing of one run: built once when the run starts.
#[derive(Debug)]
pub struct Pacing {
    db: Db,
    pause: Duration,
    pause_factor: f64,
    pub budget: Budget,
    capacity: Option<Capacity>,
    lag: Option<(Duration, LagSource)>,
}

/// What ends a wait early: a stop request, and the run's `max_runtime`.
#[derive(Debug, Clone, Default)]
pub struct Limits {
    pub stop: Option<Arc<AtomicBool>>,
    pub deadline: Option<Instant>,
}

impl Limits {
    fn reached(&self) -> bool {
        self.stop
            .as_ref()
            .is_some_and(|s| s.load(Ordering::Relaxed))
            || self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// Sleeps `d` in short naps; returns early when a limit is reached.
    async fn sleep(&self, d: Duration) {
        let until = Instant::now() + d;
        while !self.reached() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            tokio::time::sleep(left.min(NAP)).await;
        }
    }
}

/// The error, naming the config key it is about, so that it reads as the reason the run
/// stopped. The kind stays the server's (a refused grant is a config problem; a refused
/// connection passes).
fn about(key: &str, e: DbError) -> DbError {
    match e {
        DbError::Query { context, source } => DbError::Query {
            context: format!("{key}: {context}"),
            source,
        },
        DbError::Connect { url, source } => DbError::Connect {
            url: format!("{url} ({key})"),
            source,
        },
        DbError::Unexpected(m) if m.starts_with(key) => DbError::Unexpected(m),
        DbError::Unexpected(m) => DbError::Unexpected(format!("{key}: {m}")),
        other => other,
    }
}

const BUDGET: &str = "run.write_budget";
const REPLICA: &str = "[replica] url";
const LAG: &str = "run.max_replica_lag";

impl Pacing {
    /// The budget the config gives on this server, without connecting to a replica (for
    /// `check` and `plan`).
    pub async fn budget_of(db: &Db, run: &RunConfig) -> Result<Budget, DbError> {
        let capacity = match run.write_budget {
            WriteBudget::Off => None,
            _ => write_volume::capacity(db)
                .await
                .map_err(|e| about(BUDGET, e))?,
        };
        Ok(budget(run.write_budget, capacity.as_ref()))
    }

    /// Reads the server's settings and connects to the replica; a replica that cannot be
    /// reached when the run starts fails the run (a wrong URL or grant would otherwise make
    /// every run wait until `max_runtime`).
    pub async fn prepare(db: &Db, config: &Config) -> Result<Pacing, DbError> {
        let run = &config.run;
        let capacity = match run.write_budget {
            WriteBudget::Off => None,
            _ => write_volume::capacity(db)
                .await
                .map_err(|e| about(BUDGET, e))?,
        };
        let budget = budget(run.write_budget, capacity.as_ref());
        if budget.per_second.is_some() {
            // Fails now on a standby, rather than after the first batch.
            write_volume::reading(db)
                .await
                .map_err(|e| about(BUDGET, e))?;
        }
        let lag = match (run.max_replica_lag, db.dialect, &config.replica) {
            (None, _, _) | (_, Dialect::Sqlite, _) => None,
            (Some(limit), Dialect::Postgres, _) => {
                replica::postgres_standbys(db)
                    .await
                    .map_err(|e| about(LAG, e))?;
                Some((limit, LagSource::Postgres))
            }
            (Some(limit), Dialect::MySql, Some(url)) => {
                let replica = replica::connect(url, run)
                    .await
                    .map_err(|e| about(REPLICA, e))?;
                replica::mysql_state(&replica)
                    .await
                    .map_err(|e| about(REPLICA, e))?;
                Some((limit, LagSource::MySql(replica)))
            }
            (Some(_), Dialect::MySql, None) => None,
        };
        tracing::info!("write budget: {}", budget.why);
        if let Some((limit, _)) = &lag {
            tracing::info!(
                max_replica_lag_ms = limit.as_millis() as u64,
                "between batches, waiting while a replica is further behind than run.max_replica_lag"
            );
        }
        Ok(Pacing {
            db: db.clone(),
            pause: run.pause,
            pause_factor: run.pause_factor,
            budget,
            capacity,
            lag,
        })
    }

    /// Only the pause: a dry run writes nothing to pace by.
    pub fn pause_only(db: &Db, run: &RunConfig) -> Pacing {
        Pacing {
            db: db.clone(),
            pause: run.pause,
            pause_factor: run.pause_factor,
            budget: budget(WriteBudget::Off, None),
            capacity: None,
            lag: None,
        }
    }

    /// The pacer of one policy's walk, starting from the server's write position now.
    pub async fn pacer(&self, limits: Limits) -> Result<Pacer<'_>, DbError> {
        let mut pacer = Pacer {
            pacing: self,
            limits,
            bucket: self.budget.per_second.map(Bucket::new),
            mark: None,
            samples: VecDeque::new(),
            waited_for_replica: Duration::ZERO,
        };
        if pacer.needs_position() {
            pacer.mark = Some(pacer.read().await.map_err(|e| about(BUDGET, e))?);
        }
        Ok(pacer)
    }

    /// The share of the budget InnoDB's checkpoint age leaves (all of it elsewhere).
    fn share(&self, age: Option<u64>) -> f64 {
        match (age, &self.capacity) {
            (Some(age), Some(Capacity::Redo { log_size })) if *log_size > 0 => {
                checkpoint_share(age as f64 / *log_size as f64)
            }
            _ => 1.0,
        }
    }
}

/// A server write position and when it was read.
#[derive(Debug, Clone, Copy)]
struct Mark {
    position: u64,
    at: Instant,
    checkpoint_age: Option<u64>,
}

/// Paces one walk; `after_batch` is called after each batch, with no transaction open.
pub struct Pacer<'a> {
    pacing: &'a Pacing,
    limits: Limits,
    bucket: Option<Bucket>,
    /// The write position when the last batch started.
    mark: Option<Mark>,
    /// PostgreSQL: write positions this run saw, oldest first, for the lag of a standby whose
    /// replay stands still (see `standby_lag`).
    samples: VecDeque<(u64, Instant)>,
    waited_for_replica: Duration,
}

impl Pacer<'_> {
    fn needs_position(&self) -> bool {
        self.bucket.is_some() || matches!(self.pacing.lag, Some((_, LagSource::Postgres)))
    }

    async fn read(&mut self) -> Result<Mark, DbError> {
        let r = write_volume::reading(&self.pacing.db).await?;
        let mark = Mark {
            position: r.map_or(0, |r| r.position),
            at: Instant::now(),
            checkpoint_age: r.and_then(|r| r.checkpoint_age),
        };
        if matches!(self.pacing.lag, Some((_, LagSource::Postgres))) {
            self.samples.push_back((mark.position, mark.at));
            // A run of hours with a standby stopped throughout keeps at most this many.
            if self.samples.len() > 100_000 {
                self.samples.pop_front();
            }
        }
        Ok(mark)
    }

    /// How long the run waited for replicas so far.
    pub fn waited_for_replica(&self) -> Duration {
        self.waited_for_replica
    }

    /// Waits as the pause, the write budget and the replicas ask, after a batch that took
    /// `took`. Returns early when the run is to stop (its caller checks why).
    pub async fn after_batch(
        &mut self,
        took: Duration,
        progress: &Observer,
    ) -> Result<(), DbError> {
        let pause = self.pacing.pause + took.mul_f64(self.pacing.pause_factor);
        let mut wait = pause;
        if self.needs_position() {
            let now = self.read().await.map_err(|e| about(BUDGET, e))?;
            if let (Some(bucket), Some(before)) = (self.bucket.as_mut(), self.mark) {
                let written = now.position.saturating_sub(before.position) as f64;
                let share = self.pacing.share(now.checkpoint_age);
                let owed = bucket.take(written, now.at - before.at, share);
                if !owed.is_zero() {
                    tracing::debug!(
                        written = written as u64,
                        wait_ms = owed.as_millis() as u64,
                        share,
                        "within the write budget"
                    );
                }
                wait = wait.max(owed);
            }
        }
        self.limits.sleep(wait).await;
        self.wait_for_replicas(progress).await?;
        if self.needs_position() {
            // WAL written while waiting is the site's, not the next batch's.
            self.mark = Some(self.read().await.map_err(|e| about(BUDGET, e))?);
        }
        Ok(())
    }

    /// While a replica is further behind than the limit: wait, asking again every second.
    async fn wait_for_replicas(&mut self, progress: &Observer) -> Result<(), DbError> {
        let Some((limit, _)) = &self.pacing.lag else {
            return Ok(());
        };
        let limit = *limit;
        let started = Instant::now();
        let mut said: Option<String> = None;
        loop {
            let behind = self.behind(limit).await?;
            let Some(why) = behind else { break };
            if said.is_none() {
                tracing::info!("waiting for the replica: {why}");
            }
            progress.waiting(Some(&format!("waiting: {why}")));
            said = Some(why);
            if self.limits.reached() {
                break;
            }
            self.limits.sleep(LAG_POLL).await;
        }
        if said.is_some() {
            let waited = started.elapsed();
            self.waited_for_replica += waited;
            progress.waiting(None);
            tracing::info!(
                waited_ms = waited.as_millis() as u64,
                "done waiting for the replica"
            );
        }
        Ok(())
    }

    /// Why the run must wait for a replica now, if it must.
    async fn behind(&mut self, limit: Duration) -> Result<Option<String>, DbError> {
        let over = |lag: Duration, name: &str| {
            (lag > limit).then(|| {
                format!(
                    "{name} is {:.1} s behind, more than run.max_replica_lag ({:.1} s)",
                    lag.as_secs_f64(),
                    limit.as_secs_f64()
                )
            })
        };
        match &self.pacing.lag {
            None => Ok(None),
            Some((_, LagSource::MySql(replica))) => Ok(match replica::mysql_state(replica).await {
                Ok(ReplicaState::Behind(lag)) => over(lag, "the replica"),
                Ok(ReplicaState::Stopped(why)) => Some(why),
                // Like pt-archiver: a replica that does not answer may be far behind.
                Err(e) => Some(format!("the replica does not answer ({e})")),
            }),
            Some((_, LagSource::Postgres)) => {
                let now = self.read().await.map_err(|e| about(BUDGET, e))?;
                let standbys = replica::postgres_standbys(&self.pacing.db)
                    .await
                    .map_err(|e| about(LAG, e))?;
                let oldest_replayed = standbys.iter().map(|s| s.replayed).min();
                if let Some(replayed) = oldest_replayed {
                    while self.samples.len() > 1
                        && self.samples.front().is_some_and(|(p, _)| *p <= replayed)
                    {
                        self.samples.pop_front();
                    }
                }
                Ok(standbys
                    .iter()
                    .map(|s| (standby_lag(s, now.position, &self.samples, now.at), s))
                    .max_by_key(|(lag, _)| *lag)
                    .and_then(|(lag, s)| over(lag, &format!("standby \"{}\"", s.name))))
            }
        }
    }
}

/// A standby's lag. One that has replayed everything written is not behind, whatever stale
/// `replay_lag` the view still shows. One that has not is at least `replay_lag` behind, and
/// at least as long as since the first write position this run saw that it has not replayed:
/// while replay is paused the primary measures no new `replay_lag`, and the last one stays.
fn standby_lag(
    s: &replica::Standby,
    current: u64,
    samples: &VecDeque<(u64, Instant)>,
    now: Instant,
) -> Duration {
    if s.replayed >= current {
        return Duration::ZERO;
    }
    let unreplayed_since = samples
        .iter()
        .find(|(p, _)| *p > s.replayed)
        .map_or(Duration::ZERO, |(_, at)| now.saturating_duration_since(*at));
    s.replay_lag.unwrap_or(Duration::ZERO).max(unreplayed_since)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GB: u64 = 1024 * 1024 * 1024;

    #[test]
    fn auto_on_postgres_leaves_half_of_what_forces_a_checkpoint_to_the_site() {
        let stock = Capacity::Wal {
            max_wal_size: GB,
            checkpoint_timeout: Duration::from_secs(300),
            completion_target: 0.9,
        };
        let b = budget(WriteBudget::Auto, Some(&stock));
        let per_second = b.per_second.expect("a budget");
        // 1 GB / 1.9 is what starts a checkpoint; half of it in 300 s.
        assert!((per_second - GB as f64 / 1.9 / 2.0 / 300.0).abs() < 1.0);
        assert!(b.why.contains("1 GB max_wal_size"), "{}", b.why);
        assert!(b.why.contains("5 min checkpoint_timeout"), "{}", b.why);
        assert!(b.why.ends_with("→ 920 kB/s"), "{}", b.why);
    }

    #[test]
    fn auto_on_innodb_follows_the_redo_log_and_is_none_on_sqlite() {
        let redo = Capacity::Redo {
            log_size: 96 * 1024 * 1024,
        };
        let b = budget(WriteBudget::Auto, Some(&redo));
        assert_eq!(b.per_second, Some(96.0 * 1024.0 * 1024.0 / 2.0 / 60.0));
        assert!(b.why.contains("96 MB redo log"), "{}", b.why);
        assert_eq!(budget(WriteBudget::Auto, None).per_second, None);
        assert_eq!(budget(WriteBudget::Off, Some(&redo)).per_second, None);
        assert_eq!(
            budget(WriteBudget::PerSecond(1000.0), Some(&redo)).per_second,
            Some(1000.0)
        );
    }

    #[test]
    fn the_bucket_keeps_bytes_within_the_rate_over_time() {
        let mut b = Bucket::new(1000.0);
        // 500 bytes in 0.1 s at 1000 B/s: 0.4 s owed.
        let w = b.take(500.0, Duration::from_millis(100), 1.0);
        assert_eq!(w, Duration::from_millis(400));
        // Written within what the time allows: no wait.
        assert_eq!(
            b.take(100.0, Duration::from_millis(500), 1.0),
            Duration::ZERO
        );
        // At half the rate the same bytes take twice as long.
        let mut half = Bucket::new(1000.0);
        assert_eq!(
            half.take(500.0, Duration::from_millis(100), 0.5),
            Duration::from_millis(900)
        );
    }

    #[test]
    fn a_long_idle_stretch_earns_at_most_the_burst() {
        let mut b = Bucket::new(1000.0);
        // An hour waiting for a replica, then 5 000 bytes: 4 s owed, not none.
        let w = b.take(5000.0, Duration::from_secs(3600), 1.0);
        assert_eq!(w, Duration::from_secs(4));
    }

    #[test]
    fn every_written_byte_is_paid_for_over_a_run() {
        // 200 batches of 2 000 bytes taking 10 ms each, at 10 000 B/s: the run with its waits
        // takes at least 400 000 / 10 000 = 40 s, less the one burst.
        let mut b = Bucket::new(10_000.0);
        let mut total = Duration::ZERO;
        for _ in 0..200 {
            let took = Duration::from_millis(10);
            let wait = b.take(2000.0, took, 1.0);
            total += took + wait;
            // The next batch's time is counted from the end of the wait.
        }
        assert!(total >= Duration::from_secs(39), "{total:?}");
        assert!(total <= Duration::from_secs(41), "{total:?}");
    }

    #[test]
    fn the_checkpoint_age_slows_the_budget_as_the_redo_log_fills() {
        assert_eq!(checkpoint_share(0.2), 1.0);
        assert_eq!(checkpoint_share(0.5), 1.0);
        assert!((checkpoint_share(0.625) - 0.5).abs() < 1e-9);
        assert_eq!(checkpoint_share(0.8), 0.1);
        assert_eq!(checkpoint_share(1.5), 0.1);
    }

    fn standby(replayed: u64, lag_ms: Option<u64>) -> replica::Standby {
        replica::Standby {
            name: "s".into(),
            replay_lag: lag_ms.map(Duration::from_millis),
            replayed,
        }
    }

    #[test]
    fn a_caught_up_standby_is_not_behind_whatever_its_stale_lag() {
        let now = Instant::now();
        let samples = VecDeque::from([(100, now - Duration::from_secs(30))]);
        assert_eq!(
            standby_lag(&standby(100, Some(20_000)), 100, &samples, now),
            Duration::ZERO
        );
        // Idle and caught up: the view shows NULL.
        assert_eq!(
            standby_lag(&standby(100, None), 100, &samples, now),
            Duration::ZERO
        );
    }

    #[test]
    fn a_paused_standby_falls_behind_from_the_first_position_it_has_not_replayed() {
        let now = Instant::now();
        let samples = VecDeque::from([
            (100, now - Duration::from_secs(9)),
            (200, now - Duration::from_secs(5)),
            (300, now - Duration::from_secs(1)),
        ]);
        // Replay stopped at 150, and the view still shows the 2 ms it measured then.
        assert_eq!(
            standby_lag(&standby(150, Some(2)), 300, &samples, now),
            Duration::from_secs(5)
        );
        // A measured lag larger than what this run saw counts.
        assert_eq!(
            standby_lag(&standby(150, Some(7_000)), 300, &samples, now),
            Duration::from_secs(7)
        );
    }
}
