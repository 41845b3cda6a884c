//! One instance per database: a PostgreSQL advisory lock, a MySQL named lock or, for SQLite, a
//! lock file beside the database. Server-side locks die with their connection, so a killed
//! process never leaves a stale lock behind; the SQLite file lock is released by the kernel.

use super::{Db, DbError, Pool};
use sha2::{Digest, Sha256};
use sqlx::Row;

pub struct InstanceLock {
    held: Held,
}

enum Held {
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>, i64),
    MySql(sqlx::pool::PoolConnection<sqlx::MySql>, String),
    Sqlite(std::fs::File),
}

/// The lock's name: one per database and table prefix.
pub fn lock_name(prefix: &str) -> String {
    format!("retentiond:{prefix}")
}

/// MySQL/MariaDB named locks are server-wide, not per database: the name includes the
/// database, hashed when it would exceed the 64 characters MySQL allows.
pub fn mysql_lock_name(prefix: &str, database: &str) -> String {
    let name = format!("{}:{database}", lock_name(prefix));
    if name.len() <= 64 {
        return name;
    }
    let digest = Sha256::digest(name.as_bytes());
    format!("retentiond:{}", &hex::encode(digest)[..40])
}

/// PostgreSQL advisory locks take a number; derive it from the name.
pub fn advisory_key(prefix: &str) -> i64 {
    let digest = Sha256::digest(lock_name(prefix).as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// The SQLite lock file for a database file.
pub fn sqlite_lock_path(db: &std::path::Path) -> std::path::PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".retentiond-lock");
    name.into()
}

impl InstanceLock {
    /// Takes the lock without waiting. `Ok(None)` means another instance holds it.
    pub async fn try_acquire(db: &Db, prefix: &str) -> Result<Option<InstanceLock>, DbError> {
        let ctx = |e: sqlx::Error| DbError::Query {
            context: "taking the instance lock".into(),
            source: e,
        };
        let held = match &db.pool {
            Pool::Postgres(pool) => {
                let mut conn = pool.acquire().await.map_err(ctx)?;
                let key = advisory_key(prefix);
                let got: bool = sqlx::query("SELECT pg_try_advisory_lock($1)")
                    .bind(key)
                    .fetch_one(&mut *conn)
                    .await
                    .and_then(|r| r.try_get(0))
                    .map_err(ctx)?;
                got.then_some(Held::Postgres(conn, key))
            }
            Pool::MySql(pool) => {
                let mut conn = pool.acquire().await.map_err(ctx)?;
                let database: Option<String> =
                    sqlx::query_scalar("SELECT CAST(DATABASE() AS CHAR)")
                        .fetch_one(&mut *conn)
                        .await
                        .map_err(ctx)?;
                let name = mysql_lock_name(prefix, database.as_deref().unwrap_or_default());
                let got: Option<i64> = sqlx::query("SELECT CAST(GET_LOCK(?, 0) AS SIGNED)")
                    .bind(&name)
                    .fetch_one(&mut *conn)
                    .await
                    .and_then(|r| r.try_get(0))
                    .map_err(ctx)?;
                (got == Some(1)).then_some(Held::MySql(conn, name))
            }
            Pool::Sqlite(_) => {
                let path = db
                    .sqlite_path
                    .as_deref()
                    .map(sqlite_lock_path)
                    .ok_or_else(|| {
                        DbError::Unexpected("an in-memory SQLite database cannot be locked".into())
                    })?;
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&path)
                    .map_err(|e| {
                        DbError::Unexpected(format!(
                            "cannot open lock file {}: {e}",
                            path.display()
                        ))
                    })?;
                match file.try_lock() {
                    Ok(()) => Some(Held::Sqlite(file)),
                    Err(std::fs::TryLockError::WouldBlock) => None,
                    Err(std::fs::TryLockError::Error(e)) => {
                        return Err(DbError::Unexpected(format!(
                            "cannot lock {}: {e}",
                            path.display()
                        )));
                    }
                }
            }
        };
        Ok(held.map(|held| InstanceLock { held }))
    }

    /// Whether the lock is still held. A server-side lock lives and dies with its connection:
    /// when a restart or a network cut took the connection, another instance may already have
    /// taken the lock, so the run must stop instead of carrying on over a fresh connection.
    pub async fn still_held(&mut self) -> bool {
        match &mut self.held {
            Held::Postgres(conn, _) => sqlx::query("SELECT 1").execute(&mut **conn).await.is_ok(),
            Held::MySql(conn, name) => sqlx::query_scalar::<_, i64>(
                "SELECT CAST(IS_USED_LOCK(?) = CONNECTION_ID() AS SIGNED)",
            )
            .bind(name.as_str())
            .fetch_one(&mut **conn)
            .await
            .is_ok_and(|held| held == 1),
            Held::Sqlite(_) => true,
        }
    }

    pub async fn release(self) {
        // Errors are ignored: closing the connection releases the lock anyway.
        match self.held {
            Held::Postgres(mut conn, key) => {
                let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
                    .bind(key)
                    .execute(&mut *conn)
                    .await;
            }
            Held::MySql(mut conn, name) => {
                let _ = sqlx::query("SELECT RELEASE_LOCK(?)")
                    .bind(name)
                    .execute(&mut *conn)
                    .await;
            }
            Held::Sqlite(file) => {
                let _ = file.unlock();
            }
        }
    }
}
