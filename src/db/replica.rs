//! How far replicas are behind, for `run.max_replica_lag`. PostgreSQL: the primary's
//! `pg_stat_replication`, which needs no connection to the standby. MariaDB/MySQL: the
//! replica's own `SHOW SLAVE STATUS` (`SHOW REPLICA STATUS`), on the connection `[replica] url`
//! names.

use super::{Access, Db, DbError, Decode, Pool, Sql, Value};
use crate::config::{DatabaseConfig, RunConfig, Secret};
use sqlx::Row;
use std::time::Duration;

/// One streaming standby as the primary sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Standby {
    pub name: String,
    /// The last measured replay lag; NULL when the standby has been idle and caught up, and
    /// stale while replay is paused (the primary only measures it when replay moves on).
    pub replay_lag: Option<Duration>,
    /// Bytes of WAL since 0/0 the standby has replayed.
    pub replayed: u64,
}

/// The standbys replaying this primary's WAL. A client that streams WAL without replaying it
/// (`pg_receivewal`) has no replay position and is left out.
pub async fn postgres_standbys(db: &Db) -> Result<Vec<Standby>, DbError> {
    let sql = Sql::raw(
        db.dialect,
        "SELECT COALESCE(application_name, '')::text, state::text, \
         (extract(epoch FROM replay_lag) * 1000)::bigint, \
         pg_wal_lsn_diff(replay_lsn, '0/0')::bigint \
         FROM pg_stat_replication",
    );
    let rows = db
        .read(
            &sql,
            &[Decode::Text, Decode::Text, Decode::Int, Decode::Int],
            "reading the standbys' replay positions (pg_stat_replication)",
        )
        .await?;
    // Without pg_read_all_stats, the view lists the standbys but hides their progress: a lag
    // read from it would always be none.
    if !rows.is_empty() && rows.iter().all(|r| r.get(1) == Some(&Value::Null)) {
        return Err(DbError::Unexpected(
            "run.max_replica_lag: this role may not see the standbys' progress in \
             pg_stat_replication; grant it pg_read_all_stats (GRANT pg_read_all_stats TO ...)"
                .into(),
        ));
    }
    Ok(rows
        .into_iter()
        .filter_map(|r| match r.as_slice() {
            [name, _, lag, Value::Int(replayed)] => Some(Standby {
                name: match name {
                    Value::Text(s) if !s.is_empty() => s.clone(),
                    _ => "a standby".into(),
                },
                replay_lag: match lag {
                    Value::Int(ms) if *ms >= 0 => Some(Duration::from_millis(*ms as u64)),
                    _ => None,
                },
                replayed: (*replayed).max(0) as u64,
            }),
            _ => None,
        })
        .collect())
}

/// Connects to the replica `[replica] url` names, read-only.
pub async fn connect(url: &Secret, run: &RunConfig) -> Result<Db, DbError> {
    let cfg = DatabaseConfig {
        url: url.clone(),
        timezone: chrono_tz::UTC,
        table_prefix: String::new(),
        schema: None,
    };
    Db::connect(&cfg, run, Access::ReadOnly).await
}

/// A MariaDB/MySQL replica's state.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplicaState {
    /// `Seconds_Behind_Master`, the largest of all replication channels.
    Behind(Duration),
    /// Replication is not running, so the lag is unknown and grows: the reason, with the
    /// replica's last error when it has one.
    Stopped(String),
}

/// `SHOW REPLICA STATUS` (MySQL 8.0.22+, MariaDB 10.5+), else `SHOW SLAVE STATUS`.
pub async fn mysql_state(replica: &Db) -> Result<ReplicaState, DbError> {
    let Pool::MySql(pool) = &replica.pool else {
        return Err(DbError::Unexpected(
            "replica.url must name a MariaDB/MySQL server".into(),
        ));
    };
    let what = || {
        format!(
            "reading the replica's status at {} (SHOW SLAVE STATUS; the user needs REPLICATION CLIENT, \
             on MariaDB 10.5+ SLAVE MONITOR or REPLICA MONITOR)",
            replica.display_url
        )
    };
    let rows = match sqlx::raw_sql("SHOW REPLICA STATUS").fetch_all(pool).await {
        Ok(rows) => rows,
        Err(_) => sqlx::raw_sql("SHOW SLAVE STATUS")
            .fetch_all(pool)
            .await
            .map_err(|source| DbError::Query {
                context: what(),
                source,
            })?,
    };
    if rows.is_empty() {
        return Err(DbError::Unexpected(format!(
            "replica.url: {} is not a replica (SHOW SLAVE STATUS is empty)",
            replica.display_url
        )));
    }
    let mut furthest = Duration::ZERO;
    for row in &rows {
        let text = |names: &[&str]| names.iter().find_map(|n| column_text(row, n));
        let behind = text(&["Seconds_Behind_Master", "Seconds_Behind_Source"]);
        match behind.as_deref().map(str::parse::<u64>) {
            Some(Ok(s)) => furthest = furthest.max(Duration::from_secs(s)),
            _ => {
                let running = |names: &[&str]| text(names).unwrap_or_default();
                let io = running(&["Slave_IO_Running", "Replica_IO_Running"]);
                let sql = running(&["Slave_SQL_Running", "Replica_SQL_Running"]);
                let error = text(&["Last_SQL_Error"])
                    .filter(|e| !e.is_empty())
                    .or_else(|| text(&["Last_IO_Error"]).filter(|e| !e.is_empty()));
                let mut why = format!(
                    "replication is not running on the replica (IO thread: {io}, SQL thread: {sql}), \
                     so its lag is unknown"
                );
                if let Some(e) = error {
                    why.push_str(&format!("; its last error: {e}"));
                }
                return Ok(ReplicaState::Stopped(why));
            }
        }
    }
    Ok(ReplicaState::Behind(furthest))
}

/// A column of `SHOW SLAVE STATUS` as text, whatever type the server gives it.
fn column_text(row: &sqlx::mysql::MySqlRow, name: &str) -> Option<String> {
    if let Ok(v) = row.try_get::<Option<String>, _>(name) {
        return v;
    }
    if let Ok(v) = row.try_get::<Option<u64>, _>(name) {
        return v.map(|n| n.to_string());
    }
    if let Ok(v) = row.try_get::<Option<i64>, _>(name) {
        return v.map(|n| n.to_string());
    }
    row.try_get::<Option<Vec<u8>>, _>(name)
        .ok()
        .flatten()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}
