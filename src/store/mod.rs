//! retentiond's own tables (runs, audit trail, holds, outbox), created and migrated per
//! dialect under the configured prefix.

pub mod audit;
pub mod erasures;
pub mod holds;
pub mod runs;

use crate::db::schema::Schema;
use crate::db::{Context, Db, DbError, Decode, Dialect, Sql, Tx, Value};
use chrono::{DateTime, NaiveDateTime, Utc};

/// Migrations per dialect, in order. The version is the position in the list, from 1.
const POSTGRES: &[&str] = &[
    include_str!("../../migrations/postgres/0001_init.sql"),
    include_str!("../../migrations/postgres/0002_erasures.sql"),
    include_str!("../../migrations/postgres/0003_history.sql"),
];
const MYSQL: &[&str] = &[
    include_str!("../../migrations/mysql/0001_init.sql"),
    include_str!("../../migrations/mysql/0002_erasures.sql"),
    include_str!("../../migrations/mysql/0003_history.sql"),
];
const SQLITE: &[&str] = &[
    include_str!("../../migrations/sqlite/0001_init.sql"),
    include_str!("../../migrations/sqlite/0002_erasures.sql"),
    include_str!("../../migrations/sqlite/0003_history.sql"),
];

pub const TABLES: [&str; 6] = ["runs", "audit", "holds", "outbox", "erasures", "migrations"];

/// How a run ended, as recorded in the runs table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Running,
    Ok,
    Failed,
    /// Stopped by a safety limit or `max_runtime`; the reason says which.
    Stopped,
    /// A run whose process died; found and marked by the next run.
    Abandoned,
    /// Stopped by SIGTERM/SIGINT after a finished batch.
    Interrupted,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Ok => "ok",
            RunStatus::Failed => "failed",
            RunStatus::Stopped => "stopped",
            RunStatus::Abandoned => "abandoned",
            RunStatus::Interrupted => "interrupted",
        }
    }
}

pub struct Store<'a> {
    pub db: &'a Db,
    pub prefix: &'a str,
}

pub fn format_utc(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
}

impl<'a> Store<'a> {
    pub fn new(db: &'a Db, prefix: &'a str) -> Self {
        Store { db, prefix }
    }

    pub fn table(&self, name: &str) -> String {
        self.db.table(&format!("{}{name}", self.prefix))
    }

    /// A timestamp column of our tables as `YYYY-MM-DD HH:MM:SS.ffffff` text in UTC.
    fn utc_text(&self, expr: &str) -> String {
        self.db.dialect.utc_text(expr)
    }

    /// A UTC instant as a value for a timestamp column of our tables.
    fn utc_value(&self, t: DateTime<Utc>) -> Value {
        match self.db.dialect {
            Dialect::Postgres => Value::TimestampTz(t),
            Dialect::MySql => Value::Timestamp(t.naive_utc()),
            Dialect::Sqlite => Value::Text(format_utc(t)),
        }
    }

    fn now_expr(&self) -> &'static str {
        self.db.dialect.now()
    }

    /// Whether the tables exist yet (plans and dry runs do not create them).
    pub fn installed(&self, schema: &Schema) -> bool {
        schema.table(&format!("{}runs", self.prefix)).is_some()
            && schema.table(&format!("{}audit", self.prefix)).is_some()
    }

    /// Creates or upgrades the tables.
    pub async fn migrate(&self) -> Result<(), DbError> {
        // Replicas started together (a scaled sidecar) create the tables at the same moment;
        // the losers of that race see a duplicate-object error, and on a second look find the
        // tables current. A real failure (no CREATE privilege, say) fails every attempt.
        let mut attempt = 1;
        loop {
            match self.migrate_once().await {
                Err(e) if attempt < 5 => {
                    tracing::debug!(error = %e, attempt, "creating own tables failed; retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(200 * attempt)).await;
                    attempt += 1;
                }
                done => return done,
            }
        }
    }

    async fn migrate_once(&self) -> Result<(), DbError> {
        let ctx = || "creating retentiond's own tables".to_string();
        let migrations = match self.db.dialect {
            Dialect::Postgres => POSTGRES,
            Dialect::MySql => MYSQL,
            Dialect::Sqlite => SQLITE,
        };
        let version = Sql::raw(
            self.db.dialect,
            &format!(
                "SELECT {} FROM {}",
                self.db.dialect.as_i64("COALESCE(MAX(version), 0)"),
                self.table("migrations")
            ),
        );
        // Up to date: no DDL at all, so an account without CREATE runs once an administrator
        // has installed the tables (`retentiond install`). An error here means "not yet".
        if let Ok(rows) = self.db.read(&version, &[Decode::Int], "").await
            && rows.first().and_then(|r| r.first()) == Some(&Value::Int(migrations.len() as i64))
        {
            return Ok(());
        }
        let mut tx = self.db.begin().await?;
        let ddl = format!(
            "CREATE TABLE IF NOT EXISTS {} (version INTEGER PRIMARY KEY, applied_at VARCHAR(40) NOT NULL)",
            self.table("migrations")
        );
        tx.execute(&Sql::raw(self.db.dialect, &ddl))
            .await
            .ctx(ctx)?;
        let applied = tx.fetch_i64(&version).await.ctx(ctx)?;
        tx.commit().await.ctx(ctx)?;
        for (i, migration) in migrations.iter().enumerate().skip(applied.max(0) as usize) {
            let mut text = (*migration).to_string();
            for name in TABLES {
                text = text.replace(&format!("{{{name}}}"), &self.table(name));
            }
            let mut tx = self.db.begin().await?;
            for statement in text
                .split(";\n")
                .map(strip_comments)
                .filter(|s| !s.is_empty())
            {
                tx.execute(&Sql::raw(self.db.dialect, &statement))
                    .await
                    .ctx(ctx)?;
            }
            let mut q = self.db.sql();
            q.push(&format!(
                "INSERT INTO {} (version, applied_at) VALUES (",
                self.table("migrations")
            ))
            .bind(Value::Int(i as i64 + 1))
            .push(", ")
            .bind(Value::Text(format_utc(Utc::now())))
            .push(")");
            tx.execute(&q).await.ctx(ctx)?;
            tx.commit().await.ctx(ctx)?;
        }
        Ok(())
    }

    /// Runs left `running` by a process that died are marked abandoned. Called with the
    /// instance lock held, so no live run can be among them.
    pub async fn abandon_stale_runs(&self) -> Result<u64, DbError> {
        let mut q = self.db.sql();
        q.push(&format!("UPDATE {} SET status = ", self.table("runs")))
            .bind(Value::Text(RunStatus::Abandoned.as_str().into()))
            .push(", stop_reason = ")
            .bind(Value::Text(
                "the process ended before the run finished".into(),
            ))
            .push(" WHERE status = ")
            .bind(Value::Text(RunStatus::Running.as_str().into()));
        self.db.write(&q, "marking abandoned runs").await
    }

    /// The cutoff of the latest run that wrote anything, to catch a clock that went back.
    pub async fn last_cutoff(&self) -> Result<Option<DateTime<Utc>>, DbError> {
        let q = Sql::raw(
            self.db.dialect,
            &format!(
                "SELECT MAX(cutoff) FROM {} WHERE mode = 'run'",
                self.table("runs")
            ),
        );
        Ok(parse_utc(
            self.db.read_text(&q, "reading the last run").await?,
        ))
    }

    pub async fn start_run(
        &self,
        cutoff: DateTime<Utc>,
        mode: &str,
        config_hash: &str,
    ) -> Result<i64, DbError> {
        let ctx = || "recording the start of the run".to_string();
        let mut q = self.db.sql();
        q.push(&format!(
            "INSERT INTO {} (started_at, cutoff, mode, status, config_hash, version) VALUES ({}, ",
            self.table("runs"),
            self.now_expr()
        ))
        .bind(Value::Text(format_utc(cutoff)))
        .push(", ")
        .bind(Value::Text(mode.into()))
        .push(", ")
        .bind(Value::Text(RunStatus::Running.as_str().into()))
        .push(", ")
        .bind(Value::Text(config_hash.into()))
        .push(", ")
        .bind(Value::Text(env!("CARGO_PKG_VERSION").into()))
        .push(")");
        self.insert_returning_id(q, ctx).await
    }

    /// Runs an INSERT into one of our tables (which all have an `id` column) and returns the
    /// new row's id.
    async fn insert_returning_id(
        &self,
        mut q: Sql,
        ctx: impl Fn() -> String,
    ) -> Result<i64, DbError> {
        let mut tx = self.db.begin().await?;
        let id = match self.db.dialect {
            Dialect::MySql => {
                tx.execute(&q).await.ctx(&ctx)?;
                tx.fetch_i64(&Sql::raw(
                    Dialect::MySql,
                    "SELECT CAST(LAST_INSERT_ID() AS SIGNED)",
                ))
                .await
                .ctx(&ctx)?
            }
            _ => {
                q.push(" RETURNING id");
                tx.fetch_i64(&q).await.ctx(&ctx)?
            }
        };
        tx.commit().await.ctx(&ctx)?;
        Ok(id)
    }

    pub async fn finish_run(
        &self,
        id: i64,
        status: RunStatus,
        reason: Option<&str>,
    ) -> Result<(), DbError> {
        let mut q = self.db.sql();
        q.push(&format!(
            "UPDATE {} SET finished_at = {}, status = ",
            self.table("runs"),
            self.now_expr()
        ))
        .bind(Value::Text(status.as_str().into()))
        .push(", stop_reason = ")
        .bind(reason.map_or(Value::Null, |r| Value::Text(r.into())))
        .push(" WHERE id = ")
        .bind(Value::Int(id));
        self.db
            .write(&q, "recording the end of the run")
            .await
            .map(|_| ())
    }

    /// Inserts one audit entry inside the batch's own transaction.
    pub async fn insert_audit(&self, tx: &mut Tx<'_>, entry: &audit::Entry) -> Result<(), DbError> {
        let mut q = self.db.sql();
        q.push(&format!(
            "INSERT INTO {} (run_id, policy, table_name, action, batch, rows_affected, key_first, key_last, recorded_at, prev_hash, hash) VALUES (",
            self.table("audit")
        ));
        let values = [
            Value::Int(entry.run_id),
            Value::Text(entry.policy.clone()),
            Value::Text(entry.table.clone()),
            Value::Text(entry.action.clone()),
            Value::Int(entry.batch),
            Value::Int(entry.rows),
            Value::Text(entry.key_first.clone()),
            Value::Text(entry.key_last.clone()),
            Value::Text(entry.recorded_at.clone()),
            Value::Text(entry.prev_hash.clone()),
            Value::Text(entry.hash()),
        ];
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.bind(v);
        }
        q.push(")");
        tx.execute(&q)
            .await
            .ctx(|| format!("policy \"{}\": writing the audit entry", entry.policy))?;
        Ok(())
    }

    fn last_audit_hash_sql(&self) -> Sql {
        Sql::raw(
            self.db.dialect,
            &format!(
                "SELECT hash FROM {t} WHERE id = (SELECT MAX(id) FROM {t})",
                t = self.table("audit")
            ),
        )
    }

    /// Whether the audit trail records batch `batch` of `policy` in run `run_id`: then that
    /// batch's write committed (its entry commits with it).
    pub async fn has_batch(&self, run_id: i64, policy: &str, batch: i64) -> Result<bool, DbError> {
        let mut q = self.db.sql();
        q.push(&format!(
            "SELECT COUNT(*) FROM {} WHERE run_id = ",
            self.table("audit")
        ))
        .bind(Value::Int(run_id))
        .push(" AND policy = ")
        .bind(Value::Text(policy.to_string()))
        .push(" AND batch = ")
        .bind(Value::Int(batch));
        let rows = self
            .db
            .read(&q, &[Decode::Int], "reading the audit trail")
            .await?;
        Ok(matches!(rows.first().and_then(|r| r.first()), Some(Value::Int(n)) if *n > 0))
    }

    /// The hash the next audit entry chains to.
    pub async fn last_audit_hash(&self) -> Result<String, DbError> {
        Ok(self
            .db
            .read_text(&self.last_audit_hash_sql(), "reading the audit trail")
            .await?
            .unwrap_or_else(|| audit::GENESIS.to_string()))
    }

    /// The same, read inside `tx`, which then writes the next entry.
    pub async fn last_audit_hash_in(&self, tx: &mut Tx<'_>) -> Result<String, DbError> {
        let rows = tx
            .fetch(&self.last_audit_hash_sql(), &[Decode::Text])
            .await
            .ctx(|| "reading the audit trail".into())?;
        Ok(match rows.first().and_then(|r| r.first()) {
            Some(Value::Text(h)) => h.clone(),
            _ => audit::GENESIS.to_string(),
        })
    }

    /// Reads the whole trail in order and checks every link of the chain.
    pub async fn verify_audit(&self) -> Result<audit::Verification, DbError> {
        Ok(audit::verify(&self.audit_trail().await?))
    }

    /// The whole trail, in order.
    pub async fn audit_trail(&self) -> Result<Vec<audit::Stored>, DbError> {
        let q = Sql::raw(
            self.db.dialect,
            &format!(
                "SELECT id, run_id, policy, table_name, action, batch, rows_affected, key_first, key_last, recorded_at, prev_hash, hash \
                 FROM {} ORDER BY id",
                self.table("audit")
            ),
        );
        use Decode::{Int, Text};
        let rows = self
            .db
            .read(
                &q,
                &[
                    Int, Int, Text, Text, Text, Int, Int, Text, Text, Text, Text, Text,
                ],
                "reading the audit trail",
            )
            .await?;
        Ok(rows.iter().map(|r| audit::Stored::from_row(r)).collect())
    }
}

/// A summary waiting in the outbox.
#[derive(Debug, Clone)]
pub struct QueuedMail {
    pub id: i64,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub attempts: i64,
}

impl Store<'_> {
    /// When the latest run (of any mode that writes) started, to catch a missed schedule.
    pub async fn last_run_started(&self) -> Result<Option<DateTime<Utc>>, DbError> {
        let q = Sql::raw(
            self.db.dialect,
            &format!(
                "SELECT {} FROM {} WHERE mode = 'run'",
                self.utc_text("MAX(started_at)"),
                self.table("runs")
            ),
        );
        Ok(parse_utc(
            self.db.read_text(&q, "reading the last run").await?,
        ))
    }

    /// Queues a summary; beyond `max` undelivered ones the oldest are dropped (returned count).
    pub async fn enqueue_mail(
        &self,
        run_id: Option<i64>,
        subject: &str,
        text: &str,
        html: &str,
        max: u32,
    ) -> Result<u64, DbError> {
        let ctx = || "queueing the summary e-mail".to_string();
        let mut tx = self.db.begin().await?;
        let mut q = self.db.sql();
        q.push(&format!(
            "INSERT INTO {} (run_id, subject, body_text, body_html, attempts) VALUES (",
            self.table("outbox")
        ))
        .bind(run_id.map_or(Value::Null, Value::Int))
        .push(", ")
        .bind(Value::Text(subject.into()))
        .push(", ")
        .bind(Value::Text(text.into()))
        .push(", ")
        .bind(Value::Text(html.into()))
        .push(", 0)");
        tx.execute(&q).await.ctx(ctx)?;
        let mut q = self.db.sql();
        q.push(&format!(
            "SELECT id FROM {} WHERE delivered_at IS NULL ORDER BY id DESC",
            self.table("outbox")
        ));
        let ids = tx.fetch(&q, &[Decode::Int]).await.ctx(ctx)?;
        let mut dropped = 0;
        for row in ids.iter().skip(max as usize) {
            let mut q = self.db.sql();
            q.push(&format!("DELETE FROM {} WHERE id = ", self.table("outbox")))
                .bind(row[0].clone());
            dropped += tx.execute(&q).await.ctx(ctx)?;
        }
        tx.commit().await.ctx(ctx)?;
        Ok(dropped)
    }

    /// Undelivered summaries, oldest first: those whose retry time has come, or all of them
    /// (`all`, at start-up: a restart is an occasion to retry).
    pub async fn due_mail(&self, all: bool) -> Result<Vec<QueuedMail>, DbError> {
        let mut q = self.db.sql();
        q.push(&format!(
            "SELECT id, subject, body_text, body_html, {} FROM {} WHERE delivered_at IS NULL",
            self.db.dialect.as_i64("attempts"),
            self.table("outbox"),
        ));
        if !all {
            q.push(&format!(
                " AND (next_attempt_at IS NULL OR next_attempt_at <= {})",
                self.now_expr()
            ));
        }
        q.push(" ORDER BY id");
        use Decode::{Int, Text};
        let rows = self
            .db
            .read(&q, &[Int, Text, Text, Text, Int], "reading the outbox")
            .await?;
        let text = |v: &Value| match v {
            Value::Text(s) => s.clone(),
            _ => String::new(),
        };
        let int = |v: &Value| match v {
            Value::Int(i) => *i,
            _ => 0,
        };
        Ok(rows
            .iter()
            .map(|r| QueuedMail {
                id: int(&r[0]),
                subject: text(&r[1]),
                text: text(&r[2]),
                html: text(&r[3]),
                attempts: int(&r[4]),
            })
            .collect())
    }

    pub async fn outbox_size(&self) -> Result<i64, DbError> {
        let q = Sql::raw(
            self.db.dialect,
            &format!(
                "SELECT COUNT(*) FROM {} WHERE delivered_at IS NULL",
                self.table("outbox")
            ),
        );
        match self
            .db
            .read(&q, &[Decode::Int], "reading the outbox")
            .await?
            .first()
            .and_then(|r| r.first())
        {
            Some(Value::Int(n)) => Ok(*n),
            _ => Ok(0),
        }
    }

    pub async fn mark_delivered(&self, id: i64) -> Result<(), DbError> {
        let mut q = self.db.sql();
        q.push(&format!(
            "UPDATE {} SET delivered_at = {}, last_error = NULL WHERE id = ",
            self.table("outbox"),
            self.now_expr()
        ))
        .bind(Value::Int(id));
        self.db
            .write(&q, "marking a summary delivered")
            .await
            .map(|_| ())
    }

    /// Records a failed attempt; the next one waits `retry_in_s` seconds.
    pub async fn mark_failed(&self, id: i64, error: &str, retry_in_s: i64) -> Result<(), DbError> {
        let mut q = self.db.sql();
        q.push(&format!(
            "UPDATE {} SET attempts = attempts + 1, next_attempt_at = ",
            self.table("outbox")
        ));
        self.db.dialect.push_seconds_from_now(&mut q, retry_in_s);
        q.push(", last_error = ")
            .bind(Value::Text(error.chars().take(500).collect()))
            .push(" WHERE id = ")
            .bind(Value::Int(id));
        self.db
            .write(&q, "recording a failed delivery")
            .await
            .map(|_| ())
    }
}

pub(crate) fn parse_utc(text: Option<String>) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(&text?, "%Y-%m-%d %H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc())
}

fn strip_comments(statement: &str) -> String {
    statement
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}
