//! `retentiond daemon`: waits for the schedule, runs every policy, reports to the controller,
//! and keeps going through database outages. Runs never overlap: the next one is scheduled
//! only after the current one has ended.

mod http;
pub mod status;

use crate::config::Config;
use crate::db::{Access, Db, Failure};
use crate::engine::{Engine, EngineError, RunOptions, RunReport};
use crate::report::mailer::Mailer;
use crate::report::{self, Outcome};
use crate::store::Store;
use chrono::Utc;
use status::Status;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How often the outbox is retried while the daemon waits for its next run.
const OUTBOX_POLL: Duration = Duration::from_secs(15);

struct Daemon {
    config: Config,
    status: Arc<Mutex<Status>>,
    stop: Arc<AtomicBool>,
    stopped: watch::Receiver<bool>,
    mailer: Option<Mailer>,
    /// For the outbox and the runs table; sqlx reconnects it after an outage.
    db: Db,
}

fn notify(state: &[sd_notify::NotifyState]) {
    // Outside systemd NOTIFY_SOCKET is unset and this does nothing.
    let _ = sd_notify::notify(state);
}

/// How the daemon ended, when it did not fail to start.
#[derive(Debug)]
pub enum End {
    /// Stopped by a signal (or before the database was reached).
    Stopped,
    /// `--once` stopped by a signal before its run could start (still waiting for the
    /// database): not a success.
    StoppedBeforeRun,
    /// The schedule has no future run.
    ScheduleExhausted,
    /// `--once`: its run's report, or why it did not run.
    Once(Box<Result<RunReport, EngineError>>),
}

pub async fn run(config: Config, once: bool) -> anyhow::Result<End> {
    let schedule = match (&config.schedule, once) {
        (Some(s), _) => Some(s.clone()),
        (None, true) => None,
        (None, false) => {
            return Err(EngineError::Usage(
                "the daemon needs a [schedule] section (e.g. cron = \"30 3 * * *\"); \
                 for a single run use `retentiond daemon --once` or `retentiond run`"
                    .into(),
            )
            .into());
        }
    };
    let signals = crate::signals::install()?;
    let (stop, stopped) = (signals.flag(), signals.stopped());
    let mailer = match &config.report {
        Some(r) => Some(Mailer::new(r)?),
        None => None,
    };
    let status = Arc::new(Mutex::new(Status::default()));
    if let Some(addr) = config.http_listen {
        http::serve(addr, status.clone()).await?;
        tracing::info!(%addr, "serving /healthz and /metrics");
    }
    spawn_watchdog();

    let db = startup_checks(&config, &stop).await?;
    let Some(db) = db else {
        // Stopped while waiting for the database: a single run that never ran did not succeed.
        return Ok(if once {
            End::StoppedBeforeRun
        } else {
            End::Stopped
        });
    };
    update(&status, |s| s.ready = true);
    notify(&[
        sd_notify::NotifyState::Ready,
        sd_notify::NotifyState::Status("ready"),
    ]);

    let mut daemon = Daemon {
        config,
        status,
        stop,
        stopped,
        mailer,
        db,
    };
    daemon.deliver_outbox(true).await;

    if once {
        return Ok(End::Once(Box::new(daemon.cycle(false, None).await)));
    }
    let Some(schedule) = schedule else {
        return Ok(End::Stopped);
    };
    tracing::info!(cron = %schedule.pattern, timezone = %schedule.timezone, "daemon started");

    // A slot that passed while the daemon was down is made up for once, now.
    let store = Store::new(&daemon.db, &daemon.config.database.table_prefix);
    if let (Ok(Some(last)), Some(prev)) = (
        store.last_run_started().await,
        schedule.previous(Utc::now()),
    ) && last < prev
    {
        tracing::info!(missed = %prev, last_run = %last, "a scheduled run was missed while the daemon was down; running now");
        // A scheduled run's result went into its summary and the log; the daemon goes on.
        let _ = daemon.cycle(true, slot_start(&schedule, prev)).await;
    }

    while !daemon.stop.load(Ordering::SeqCst) {
        let Some(next) = schedule.next_after(Utc::now()) else {
            tracing::error!(cron = %schedule.pattern, "the schedule has no future run; stopping");
            return Ok(End::ScheduleExhausted);
        };
        update(&daemon.status, |s| s.next_run = Some(next));
        let last = daemon
            .status
            .lock()
            .map(|s| s.last_status.clone())
            .unwrap_or_default();
        let line = format!(
            "last run: {}; next run: {}",
            last.as_deref().unwrap_or("none yet"),
            next.format("%Y-%m-%d %H:%M:%S UTC")
        );
        notify(&[sd_notify::NotifyState::Status(&line)]);
        tracing::info!(next_run = %next, "waiting for the next run");
        if !daemon.wait_until(next).await {
            break;
        }
        // A scheduled run's result went into its summary and the log; the daemon goes on.
        let _ = daemon.cycle(true, slot_start(&schedule, next)).await;
    }
    tracing::info!("stopped");
    Ok(End::Stopped)
}

/// From when a run counts as this slot's run: the slot time, less half the gap to the next
/// slot (at most a minute) to absorb a database clock a little behind this host's.
fn slot_start(
    schedule: &crate::schedule::Schedule,
    slot: chrono::DateTime<Utc>,
) -> Option<chrono::DateTime<Utc>> {
    let gap = schedule
        .next_after(slot)
        .and_then(|n| (n - slot).to_std().ok())
        .unwrap_or(Duration::from_secs(120));
    let margin = (gap / 2).min(Duration::from_secs(60));
    chrono::Duration::from_std(margin).ok().map(|m| slot - m)
}

/// Checks config and database before declaring readiness. A config that does not fit the
/// schema or the server (a wrong password, an unknown database or role, a read-only server)
/// is fatal (exit 2); a database that is not reachable yet is waited for, with backoff.
async fn startup_checks(config: &Config, stop: &AtomicBool) -> anyhow::Result<Option<Db>> {
    let mut backoff = Backoff::new(Duration::from_secs(2), Duration::from_secs(60));
    loop {
        // A connection attempt can take the pool's whole acquire timeout: a stop request does
        // not wait for it.
        let stopped = async {
            while !stop.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        };
        let prepared = tokio::select! {
            prepared = Engine::prepare(config.clone(), Access::ReadWrite) => prepared,
            () = stopped => return Ok(None),
        };
        match prepared {
            Ok(engine) => {
                Store::new(&engine.db, &config.database.table_prefix)
                    .migrate()
                    .await?;
                return Ok(Some(engine.db));
            }
            Err(e @ (EngineError::Check(_) | EngineError::Usage(_))) => return Err(e.into()),
            Err(EngineError::Db(e)) if e.failure() == Failure::Config => return Err(e.into()),
            Err(e) => {
                let wait = backoff.next();
                tracing::warn!(
                    error = %e,
                    retry_in_s = wait.as_secs_f64().round(),
                    "database not available yet; retrying with backoff"
                );
                notify(&[sd_notify::NotifyState::Status("waiting for the database")]);
                let until = Instant::now() + wait;
                while Instant::now() < until {
                    if stop.load(Ordering::SeqCst) {
                        return Ok(None);
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    }
}

/// Exponential backoff with jitter: each wait is between half and all of a step that doubles
/// up to `max`, so replicas that lost the database together do not return in step.
struct Backoff {
    step: Duration,
    max: Duration,
}

impl Backoff {
    fn new(first: Duration, max: Duration) -> Self {
        Backoff { step: first, max }
    }

    fn next(&mut self) -> Duration {
        use std::hash::{BuildHasher, Hasher};
        // A randomly keyed hasher: different for every call, no dependency for a coin toss.
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        let fraction = 0.5 + (random % 1000) as f64 / 2000.0;
        let wait = self.step.mul_f64(fraction);
        self.step = (self.step * 2).min(self.max);
        wait
    }
}

fn spawn_watchdog() {
    if let Some(interval) = sd_notify::watchdog_enabled() {
        tokio::spawn(async move {
            loop {
                notify(&[sd_notify::NotifyState::Watchdog]);
                tokio::time::sleep(interval / 2).await;
            }
        });
    }
}

fn update(status: &Mutex<Status>, f: impl FnOnce(&mut Status)) {
    match status.lock() {
        Ok(mut s) => f(&mut s),
        Err(poisoned) => f(&mut poisoned.into_inner()),
    }
}

impl Daemon {
    /// Sleeps until `t`, retrying the outbox meanwhile. False when a signal came first.
    async fn wait_until(&mut self, t: chrono::DateTime<Utc>) -> bool {
        loop {
            let left = (t - Utc::now()).to_std().unwrap_or(Duration::ZERO);
            if left.is_zero() {
                return true;
            }
            tokio::select! {
                _ = tokio::time::sleep(left.min(OUTBOX_POLL)) => {}
                _ = self.stopped.changed() => return false,
            }
            if self.stop.load(Ordering::SeqCst) {
                return false;
            }
            self.deliver_outbox(false).await;
        }
    }

    /// One run with its summary; returns the run's result. A `scheduled` run's summary
    /// names the next run, computed once this one has ended.
    async fn cycle(
        &mut self,
        scheduled: bool,
        slot_start: Option<chrono::DateTime<Utc>>,
    ) -> Result<RunReport, EngineError> {
        let started = Instant::now();
        let opts = RunOptions {
            stop: Some(self.stop.clone()),
            slot_start,
            ..RunOptions::default()
        };
        let (result, forecast, prepared) =
            match Engine::prepare(self.config.clone(), Access::ReadWrite).await {
                Err(e) => (Err(e), None, false),
                Ok(engine) => {
                    let report = engine.run(&opts).await;
                    // A stop signal wants the daemon gone: no forecast then.
                    let stopping = self.stop.load(Ordering::SeqCst);
                    let forecast = match &report {
                        Ok(_) if !stopping => engine
                            .forecast(Utc::now(), report::zone(&self.config), 12)
                            .await
                            .inspect_err(
                                |e| tracing::warn!(error = %e, "cannot count the forecast"),
                            )
                            .ok(),
                        _ => None,
                    };
                    engine.db.close().await;
                    (report, forecast, true)
                }
            };
        let elapsed = started.elapsed().as_secs_f64();
        let finished_at = Utc::now();
        let ctx = report::Context {
            config: &self.config,
            finished_at,
            next_run: match (scheduled, &self.config.schedule) {
                (true, Some(s)) => s.next_after(finished_at),
                _ => None,
            },
            forecast: forecast.as_ref(),
        };
        let (summary, run_id) = match &result {
            Ok(r) => {
                update(&self.status, |s| s.record_report(r, elapsed));
                (report::render(&Outcome::Finished(r), &ctx), r.run_id)
            }
            Err(e @ (EngineError::Locked(_) | EngineError::SlotServed(_))) => {
                tracing::info!(reason = %e, "skipping this run: another instance runs the policies");
                return result;
            }
            Err(e) => {
                // A safety stop wrote nothing on purpose: stopped, not failed.
                let stopped = matches!(e, EngineError::Safety(_) | EngineError::Clock(_));
                let status = if stopped { "stopped" } else { "failed" };
                tracing::error!(error = %e, status, "the run did not complete");
                update(&self.status, |s| s.record_status(status, elapsed));
                let failure = match e {
                    EngineError::Safety(_) => report::Failure::Safety,
                    EngineError::Clock(_) => report::Failure::Clock,
                    EngineError::Db(db) if db.is_session_ended() => report::Failure::Database,
                    _ => report::Failure::Other,
                };
                let outcome = Outcome::Failed {
                    failure,
                    reason: e.to_string(),
                    before_writing: stopped || !prepared,
                };
                (report::render(&outcome, &ctx), None)
            }
        };
        self.report(summary, run_id).await;
        result
    }

    /// Queues the summary in the outbox (so a mail outage loses nothing) and delivers.
    async fn report(&mut self, summary: report::Summary, run_id: Option<i64>) {
        let Some(cfg) = self.config.report.clone() else {
            return;
        };
        if !summary.wanted(cfg.on) {
            return;
        }
        let store = Store::new(&self.db, &self.config.database.table_prefix);
        match store
            .enqueue_mail(
                run_id,
                &summary.subject,
                &summary.text,
                &summary.html,
                cfg.outbox_max,
            )
            .await
        {
            Ok(dropped) => {
                if dropped > 0 {
                    tracing::warn!(
                        dropped,
                        "the outbox was full; the oldest undelivered summaries were dropped"
                    );
                    update(&self.status, |s| s.outbox_dropped_total += dropped);
                }
                self.deliver_outbox(false).await;
            }
            // The database is down, so the outbox is too: try to send directly.
            Err(e) => {
                tracing::warn!(error = %e, "cannot queue the summary; sending it directly");
                if let Some(mailer) = &self.mailer
                    && let Err(e) = mailer
                        .send(&cfg, &summary.subject, &summary.text, &summary.html)
                        .await
                {
                    tracing::error!(error = %e, "the summary could not be queued or sent");
                }
            }
        }
    }

    /// Sends every due summary (every queued one with `all`); a failure waits longer each time (30 s doubling, at most 1 h).
    async fn deliver_outbox(&mut self, all: bool) {
        let (Some(cfg), Some(mailer)) = (&self.config.report, &self.mailer) else {
            return;
        };
        let store = Store::new(&self.db, &self.config.database.table_prefix);
        let due = match store.due_mail(all).await {
            Ok(d) => d,
            Err(e) => {
                tracing::debug!(error = %e, "cannot read the outbox");
                return;
            }
        };
        for mail in due {
            match mailer
                .send(cfg, &mail.subject, &mail.text, &mail.html)
                .await
            {
                Ok(()) => {
                    tracing::info!(subject = %mail.subject, "summary delivered");
                    if let Err(e) = store.mark_delivered(mail.id).await {
                        tracing::warn!(error = %e, "delivered, but could not mark it so; it may be sent again");
                    }
                }
                Err(e) => {
                    let retry = (30i64 << mail.attempts.clamp(0, 7)).min(3600);
                    tracing::warn!(error = %e, retry_in_s = retry, "summary not delivered; it stays in the outbox");
                    let _ = store.mark_failed(mail.id, &e.to_string(), retry).await;
                    break;
                }
            }
        }
        if let Ok(n) = store.outbox_size().await {
            update(&self.status, |s| s.outbox_size = n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap_with_jitter() {
        let mut b = Backoff::new(Duration::from_secs(2), Duration::from_secs(60));
        let waits: Vec<Duration> = (0..8).map(|_| b.next()).collect();
        for (i, w) in waits.iter().enumerate() {
            let step = Duration::from_secs((2u64 << i).min(60));
            assert!(
                *w >= step / 2 && *w <= step,
                "wait {i}: {w:?} for a step of {step:?}"
            );
        }
        let samples: std::collections::BTreeSet<u128> = (0..20)
            .map(|_| {
                Backoff::new(Duration::from_secs(2), Duration::from_secs(60))
                    .next()
                    .as_millis()
            })
            .collect();
        assert!(samples.len() > 1, "the waits are jittered: {samples:?}");
    }
}
