//! The run history as `retentiond runs` shows it: the runs table, with the rows per action
//! summed from the audit trail (the record every batch commits with) and the backlog each run
//! left.

use super::{Store, parse_utc};
use crate::db::{DbError, Decode, Value};
use serde::Serialize;

/// One run, as recorded.
#[derive(Debug, Clone, Serialize)]
pub struct RunRecord {
    pub id: i64,
    /// `run` or `erase`.
    pub mode: String,
    pub status: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// From start to finish; `None` while running or for a run whose process died.
    pub duration_s: Option<f64>,
    pub cutoff: String,
    pub stop_reason: Option<String>,
    /// Rows deleted, from the run's audit entries.
    pub deleted: i64,
    /// Rows anonymized, from the run's audit entries.
    pub anonymized: i64,
    /// Rows still past their cutoff when the run ended; `None` for runs recorded before the
    /// backlog was, and for runs that ended before counting it.
    pub backlog: Option<i64>,
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Text(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        _ => None,
    }
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        _ => None,
    }
}

impl Store<'_> {
    /// Whether the runs table has the columns of the latest migration (a read-only command
    /// does not migrate: a database last written by an older version lacks them).
    pub fn has_backlog_column(&self, schema: &crate::db::schema::Schema) -> bool {
        schema
            .table(&format!("{}runs", self.prefix))
            .is_some_and(|t| t.column("backlog").is_some())
    }

    /// Records what a run left past its cutoff, once its policies have been recounted.
    pub async fn record_backlog(&self, run_id: i64, backlog: u64) -> Result<(), DbError> {
        let mut q = self.db.sql();
        q.push(&format!("UPDATE {} SET backlog = ", self.table("runs")))
            .bind(Value::Int(backlog as i64))
            .push(" WHERE id = ")
            .bind(Value::Int(run_id));
        self.db
            .write(&q, "recording the run's backlog")
            .await
            .map(|_| ())
    }

    /// The latest `limit` runs, newest first.
    pub async fn recent_runs(
        &self,
        limit: u32,
        with_backlog: bool,
    ) -> Result<Vec<RunRecord>, DbError> {
        let d = self.db.dialect;
        let backlog = if with_backlog {
            d.as_i64("backlog")
        } else {
            "NULL".to_string()
        };
        let mut q = self.db.sql();
        q.push(&format!(
            "SELECT {}, mode, status, {}, {}, cutoff, stop_reason, {backlog} FROM {} ORDER BY id DESC LIMIT ",
            d.as_i64("id"),
            self.utc_text("started_at"),
            self.utc_text("finished_at"),
            self.table("runs"),
        ))
        .bind(Value::Int(i64::from(limit)));
        use Decode::{Int, Text};
        let rows = self
            .db
            .read(
                &q,
                &[Int, Text, Text, Text, Text, Text, Text, Int],
                "reading the run history",
            )
            .await?;
        let mut runs: Vec<RunRecord> = rows
            .iter()
            .map(|r| {
                let started_at = text(&r[3]).unwrap_or_default();
                let finished_at = text(&r[4]);
                let duration_s = match (
                    parse_utc(Some(started_at.clone())),
                    parse_utc(finished_at.clone()),
                ) {
                    (Some(s), Some(f)) => Some((f - s).num_milliseconds() as f64 / 1000.0),
                    _ => None,
                };
                RunRecord {
                    id: int(&r[0]).unwrap_or(0),
                    mode: text(&r[1]).unwrap_or_default(),
                    status: text(&r[2]).unwrap_or_default(),
                    started_at,
                    finished_at,
                    duration_s,
                    cutoff: text(&r[5]).unwrap_or_default(),
                    stop_reason: text(&r[6]),
                    deleted: 0,
                    anonymized: 0,
                    backlog: int(&r[7]),
                }
            })
            .collect();
        if runs.is_empty() {
            return Ok(runs);
        }
        let mut q = self.db.sql();
        q.push(&format!(
            "SELECT {}, action, {} FROM {} WHERE run_id IN (",
            d.as_i64("run_id"),
            d.as_i64("SUM(rows_affected)"),
            self.table("audit")
        ));
        for (i, r) in runs.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.bind(Value::Int(r.id));
        }
        q.push(") GROUP BY run_id, action");
        let sums = self
            .db
            .read(&q, &[Int, Text, Int], "reading the run history")
            .await?;
        for row in &sums {
            let (Some(id), Some(action), Some(n)) = (int(&row[0]), text(&row[1]), int(&row[2]))
            else {
                continue;
            };
            if let Some(run) = runs.iter_mut().find(|r| r.id == id) {
                match action.as_str() {
                    "delete" => run.deleted += n,
                    "anonymize" => run.anonymized += n,
                    _ => {}
                }
            }
        }
        Ok(runs)
    }
}
