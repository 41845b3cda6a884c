//! How much the server has written, and how much it can absorb, read between batches (no
//! transaction of the run is open then): PostgreSQL's WAL position and the settings that force
//! a checkpoint, InnoDB's redo log sequence number and checkpoint age. None of it needs a
//! superuser or a grant.

use super::{Db, DbError, Decode, Dialect, Sql, Value};
use std::time::Duration;

/// The server's write position, in bytes since some fixed origin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    pub position: u64,
    /// InnoDB: redo bytes written since the last checkpoint (`Innodb_checkpoint_age`).
    pub checkpoint_age: Option<u64>,
}

/// What the server can absorb without a forced checkpoint.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Capacity {
    /// PostgreSQL: `max_wal_size`, `checkpoint_timeout` and `checkpoint_completion_target`.
    Wal {
        max_wal_size: u64,
        checkpoint_timeout: Duration,
        completion_target: f64,
    },
    /// InnoDB: the redo log's size.
    Redo { log_size: u64 },
}

const PG_POSITION: &str = "reading the WAL position (pg_current_wal_lsn()); it fails on a standby, \
which retentiond never writes: point database.url at the primary, or set run.write_budget = \"off\"";

/// The write position now; `None` on SQLite, which reports none.
pub async fn reading(db: &Db) -> Result<Option<Reading>, DbError> {
    match db.dialect {
        Dialect::Postgres => postgres_reading(db).await.map(Some),
        Dialect::MySql => innodb_reading(db).await.map(Some),
        Dialect::Sqlite => Ok(None),
    }
}

/// What the server absorbs; `None` on SQLite.
pub async fn capacity(db: &Db) -> Result<Option<Capacity>, DbError> {
    match db.dialect {
        Dialect::Postgres => postgres_capacity(db).await.map(Some),
        Dialect::MySql => innodb_capacity(db).await.map(Some),
        Dialect::Sqlite => Ok(None),
    }
}

/// PostgreSQL: bytes of WAL since 0/0.
pub async fn postgres_position(db: &Db) -> Result<u64, DbError> {
    let sql = Sql::raw(
        db.dialect,
        "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint",
    );
    first_int(db, &sql, PG_POSITION).await
}

async fn postgres_reading(db: &Db) -> Result<Reading, DbError> {
    Ok(Reading {
        position: postgres_position(db).await?,
        checkpoint_age: None,
    })
}

async fn postgres_capacity(db: &Db) -> Result<Capacity, DbError> {
    let what = "reading max_wal_size, checkpoint_timeout and checkpoint_completion_target";
    let sql = Sql::raw(
        db.dialect,
        "SELECT pg_size_bytes(current_setting('max_wal_size'))::bigint, \
         (SELECT setting::bigint FROM pg_settings WHERE name = 'checkpoint_timeout'), \
         (current_setting('checkpoint_completion_target')::float8 * 1000)::bigint",
    );
    let rows = db
        .read(&sql, &[Decode::Int, Decode::Int, Decode::Int], what)
        .await?;
    match rows.first().map(Vec::as_slice) {
        Some([Value::Int(size), Value::Int(secs), Value::Int(permille)])
            if *size > 0 && *secs > 0 =>
        {
            Ok(Capacity::Wal {
                max_wal_size: *size as u64,
                checkpoint_timeout: Duration::from_secs(*secs as u64),
                completion_target: (*permille).clamp(0, 1000) as f64 / 1000.0,
            })
        }
        other => Err(DbError::Unexpected(format!(
            "{what}: the server gave {other:?}"
        ))),
    }
}

/// `SHOW GLOBAL STATUS` rows by name. MariaDB calls the redo position `Innodb_lsn_current`,
/// MySQL 8.0.30+ `Innodb_redo_log_current_lsn`; older MySQL has only the bytes written to the
/// log files.
async fn innodb_status(db: &Db) -> Result<Vec<(String, String)>, DbError> {
    let sql = Sql::raw(
        db.dialect,
        "SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_lsn_current', \
         'Innodb_redo_log_current_lsn', 'Innodb_os_log_written', 'Innodb_checkpoint_age')",
    );
    let rows = db
        .read(
            &sql,
            &[Decode::Text, Decode::Text],
            "reading the InnoDB redo log position (SHOW GLOBAL STATUS)",
        )
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| match r.as_slice() {
            [Value::Text(k), Value::Text(v)] => Some((k.to_ascii_lowercase(), v.clone())),
            _ => None,
        })
        .collect())
}

async fn innodb_reading(db: &Db) -> Result<Reading, DbError> {
    let status = innodb_status(db).await?;
    let get = |name: &str| {
        status
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.trim().parse::<u64>().ok())
    };
    let position = get("innodb_lsn_current")
        .or_else(|| get("innodb_redo_log_current_lsn"))
        .or_else(|| get("innodb_os_log_written"))
        .ok_or_else(|| {
            DbError::Unexpected(
                "the server reports no InnoDB redo log position (Innodb_lsn_current); \
                 set run.write_budget to \"off\" or a rate"
                    .into(),
            )
        })?;
    Ok(Reading {
        position,
        checkpoint_age: get("innodb_checkpoint_age"),
    })
}

async fn innodb_capacity(db: &Db) -> Result<Capacity, DbError> {
    let what = "reading the InnoDB redo log size (innodb_log_file_size)";
    // MySQL 8.0.30 sizes the redo log by one setting; MariaDB and older MySQL by the file size
    // (MariaDB 10.5+ has one file).
    let sql = if db.mariadb {
        "SELECT CAST(@@GLOBAL.innodb_log_file_size AS SIGNED)"
    } else {
        "SELECT CAST(COALESCE((SELECT VARIABLE_VALUE FROM performance_schema.global_variables \
         WHERE VARIABLE_NAME = 'innodb_redo_log_capacity'), \
         @@GLOBAL.innodb_log_file_size * @@GLOBAL.innodb_log_files_in_group) AS SIGNED)"
    };
    let size = first_int(db, &Sql::raw(db.dialect, sql), what).await?;
    Ok(Capacity::Redo { log_size: size })
}

async fn first_int(db: &Db, sql: &Sql, what: &str) -> Result<u64, DbError> {
    let rows = db.read(sql, &[Decode::Int], what).await?;
    match rows.first().and_then(|r| r.first()) {
        Some(Value::Int(n)) if *n >= 0 => Ok(*n as u64),
        other => Err(DbError::Unexpected(format!(
            "{what}: the server gave {other:?}"
        ))),
    }
}
