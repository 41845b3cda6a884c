//! What the daemon knows about itself, shared with /healthz and /metrics.

use crate::engine::{FAILED, RunReport};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::fmt::Write as _;

#[derive(Debug, Default, Clone)]
pub struct Status {
    /// Config and database checks passed.
    pub ready: bool,
    pub last_status: Option<String>,
    pub last_finished: Option<DateTime<Utc>>,
    pub last_duration_s: f64,
    /// When the last run that did its work ended: ok, or at `max_runtime`.
    pub last_success: Option<DateTime<Utc>>,
    pub next_run: Option<DateTime<Utc>>,
    pub runs_total: BTreeMap<String, u64>,
    /// (policy, action) → rows changed since the daemon started.
    pub rows_total: BTreeMap<(String, String), u64>,
    /// Per policy, from the last run: backlog, blocked, undated, held.
    pub last_policy: BTreeMap<String, [u64; 4]>,
    pub errors_total: u64,
    pub outbox_size: i64,
    pub outbox_dropped_total: u64,
}

impl Status {
    pub fn record_report(&mut self, r: &RunReport, duration_s: f64) {
        self.record_status(&r.status, duration_s);
        let at_max_runtime = r.stop_reason.as_ref().is_some_and(|s| s.is_planned());
        if r.status == "ok" || (r.status == "stopped" && at_max_runtime) {
            self.last_success = self.last_finished;
        }
        for p in &r.policies {
            *self
                .rows_total
                .entry((p.name.clone(), p.action.clone()))
                .or_default() += p.affected;
            self.last_policy
                .insert(p.name.clone(), [p.backlog, p.blocked, p.undated, p.held]);
        }
    }

    pub fn record_status(&mut self, status: &str, duration_s: f64) {
        self.last_status = Some(status.to_string());
        self.last_finished = Some(Utc::now());
        self.last_duration_s = duration_s;
        *self.runs_total.entry(status.to_string()).or_default() += 1;
        if status == FAILED {
            self.errors_total += 1;
        }
    }

    /// Whether the last run failed (None before the first). Ended early (`max_runtime`,
    /// SIGTERM, a lock timeout) or held back by a safety stop is not failed: /healthz and
    /// `retentiond_last_run_success` both answer from here.
    pub fn last_run_failed(&self) -> Option<bool> {
        self.last_status.as_deref().map(|s| s == FAILED)
    }

    /// Healthy when ready and the last run did not fail.
    pub fn healthy(&self) -> bool {
        self.ready && self.last_run_failed() != Some(true)
    }

    /// Prometheus text exposition format.
    pub fn metrics(&self) -> String {
        let mut out = String::new();
        let esc = |s: &str| {
            s.replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n")
        };
        let mut metric = |name: &str, kind: &str, help: &str, samples: Vec<(String, String)>| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, value) in samples {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        };
        metric(
            "retentiond_ready",
            "gauge",
            "1 when the config and database checks passed.",
            vec![(String::new(), u8::from(self.ready).to_string())],
        );
        metric(
            "retentiond_runs_total",
            "counter",
            "Runs since the daemon started, by outcome.",
            self.runs_total
                .iter()
                .map(|(s, n)| (format!("{{status=\"{}\"}}", esc(s)), n.to_string()))
                .collect(),
        );
        metric(
            "retentiond_rows_total",
            "counter",
            "Rows deleted or anonymized since the daemon started.",
            self.rows_total
                .iter()
                .map(|((p, a), n)| {
                    (
                        format!("{{policy=\"{}\",action=\"{}\"}}", esc(p), esc(a)),
                        n.to_string(),
                    )
                })
                .collect(),
        );
        for (i, (name, help)) in [
            (
                "retentiond_backlog_rows",
                "Rows still past their cutoff after the last run.",
            ),
            (
                "retentiond_blocked_rows",
                "Expired rows kept because other rows reference them.",
            ),
            (
                "retentiond_undated_rows",
                "Rows whose retention clock never started.",
            ),
            ("retentiond_held_rows", "Rows kept by a legal hold."),
        ]
        .into_iter()
        .enumerate()
        {
            metric(
                name,
                "gauge",
                help,
                self.last_policy
                    .iter()
                    .map(|(p, v)| (format!("{{policy=\"{}\"}}", esc(p)), v[i].to_string()))
                    .collect(),
            );
        }
        metric(
            "retentiond_errors_total",
            "counter",
            "Failed runs since the daemon started.",
            vec![(String::new(), self.errors_total.to_string())],
        );
        metric(
            "retentiond_last_run_duration_seconds",
            "gauge",
            "How long the last run took.",
            vec![(String::new(), format!("{:.3}", self.last_duration_s))],
        );
        metric(
            "retentiond_last_run_success",
            "gauge",
            "0 when the last run failed, 1 when it did not (also when it ended at max_runtime); as /healthz. Absent before the first run.",
            self.last_run_failed()
                .iter()
                .map(|failed| (String::new(), u8::from(!failed).to_string()))
                .collect(),
        );
        metric(
            "retentiond_last_success_timestamp_seconds",
            "gauge",
            "When the last run that did its work (ok, or ended at max_runtime) finished (Unix time). Absent until one has since the daemon started.",
            self.last_success
                .iter()
                .map(|t| (String::new(), t.timestamp().to_string()))
                .collect(),
        );
        metric(
            "retentiond_next_run_timestamp_seconds",
            "gauge",
            "When the next scheduled run starts (Unix time).",
            self.next_run
                .iter()
                .map(|t| (String::new(), t.timestamp().to_string()))
                .collect(),
        );
        metric(
            "retentiond_outbox_messages",
            "gauge",
            "Summaries waiting for delivery.",
            vec![(String::new(), self.outbox_size.to_string())],
        );
        metric(
            "retentiond_outbox_dropped_total",
            "counter",
            "Summaries dropped because the outbox was full.",
            vec![(String::new(), self.outbox_dropped_total.to_string())],
        );
        out
    }
}
