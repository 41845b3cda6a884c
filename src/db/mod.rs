//! The one SQL-dialect layer: a connection pool per database kind behind one enum,
//! transactions and bound statements. What differs per dialect in SQL text (quoting,
//! placeholders, fragments) is in `dialect`, the catalogs each database is read from in
//! `catalog`. Every value reaches the server as a bound parameter; identifiers are quoted
//! only after the schema check has confirmed they exist.

pub mod catalog;
pub mod checks;
pub mod dialect;
pub mod lock;
pub mod replica;
pub mod schema;
pub mod write_volume;

pub use dialect::Dialect;

use crate::config::{DatabaseConfig, RunConfig, redact_url};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use sqlx::{AssertSqlSafe, Row};
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot connect to {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("{context}: {}", describe(source))]
    Query {
        context: String,
        source: sqlx::Error,
    },
    #[error("{url} is read-only: {why}. retentiond does not override it, so nothing was written")]
    ReadOnly { url: String, why: String },
    /// The data or the archive cannot be handled safely: this policy fails, with the reason,
    /// and nothing of its batch is deleted.
    #[error("{context}: {reason}")]
    Refused { context: String, reason: String },
    #[error("{0}")]
    Unexpected(String),
}

impl DbError {
    /// True when the server gave up waiting for a lock or found a deadlock: worth a retry.
    pub fn is_lock_conflict(&self) -> bool {
        let DbError::Query {
            source: sqlx::Error::Database(e),
            ..
        } = self
        else {
            return false;
        };
        // MySQL gives a lock wait timeout the generic SQLSTATE HY000, which it shares with
        // many errors that no retry cures: its error number tells them apart.
        if let Some(my) = e.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
            // Lock wait timeout, deadlock, NOWAIT lock.
            return matches!(my.number(), 1205 | 1213 | 3572);
        }
        matches!(
            e.code().as_deref(),
            // PostgreSQL lock_not_available, deadlock_detected, serialization failure; SQLite
            // busy / locked.
            Some("55P03" | "40P01" | "40001" | "5" | "6" | "517")
        )
    }
}

/// What a database error means for whoever sees it: retentiond's one reading of SQLSTATEs and
/// server error numbers, used by the daemon (wait or give up) and every command (exit code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Wrong password, unknown database or role, a missing grant, a file that cannot be
    /// opened, a read-only server where writes are needed: no retry cures it, the config or
    /// the server's setup must change.
    Config,
    /// The server is not there yet or went away (refused, reset, restarting, too many
    /// connections): waiting can cure it.
    Passing,
    /// The server cancelled a statement that ran longer than its statement timeout.
    StatementTimeout,
    /// Anything else: the statement or the data.
    Other,
}

impl DbError {
    pub fn failure(&self) -> Failure {
        match self {
            DbError::ReadOnly { .. } => Failure::Config,
            DbError::Unexpected(_) | DbError::Refused { .. } => Failure::Other,
            DbError::Connect { source, .. } | DbError::Query { source, .. } => classify(source),
        }
    }
}

/// PostgreSQL SQLSTATEs and MySQL/MariaDB error numbers that say the config is wrong for
/// this server, and SQLite's primary result codes likewise.
fn classify(e: &sqlx::Error) -> Failure {
    let db = match e {
        sqlx::Error::Database(db) => db,
        sqlx::Error::Configuration(_) => return Failure::Config,
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => {
            return Failure::Passing;
        }
        _ => return Failure::Other,
    };
    if let Some(my) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        return match my.number() {
            // Access denied (password; to a database; socket auth), unknown database, table or
            // column privileges, privilege needed, auth plugin, read-only server or transaction.
            1044 | 1045 | 1049 | 1142 | 1143 | 1227 | 1251 | 1290 | 1698 | 1792 => Failure::Config,
            // Too many connections, shutdown, killed, gone away, lost, can't connect.
            1040 | 1053 | 1927 | 2002 | 2003 | 2006 | 2013 => Failure::Passing,
            // MariaDB max_statement_time, MySQL max_execution_time.
            1969 | 3024 => Failure::StatementTimeout,
            _ => Failure::Other,
        };
    }
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        // The primary result code is the low byte of the extended one.
        let primary = db
            .code()
            .and_then(|c| c.parse::<i32>().ok())
            .map(|c| c & 0xff);
        return match primary {
            // SQLITE_PERM, SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_NOTADB, SQLITE_AUTH.
            Some(3 | 8 | 14 | 23 | 26) => Failure::Config,
            _ => Failure::Other,
        };
    }
    let code = db.code();
    match code.as_deref() {
        // invalid_password, invalid_authorization_specification (no such role, no pg_hba
        // entry), invalid_catalog_name (no such database), insufficient_privilege,
        // invalid_schema_name, read_only_sql_transaction.
        Some("28P01" | "28000" | "3D000" | "42501" | "3F000" | "25006") => Failure::Config,
        // query_canceled: a statement timeout, unless someone cancelled it by hand.
        Some("57014") if db.message().contains("statement timeout") => Failure::StatementTimeout,
        Some(c) if c.starts_with("08") || matches!(c, "57P01" | "57P02" | "57P03" | "53300") => {
            Failure::Passing
        }
        _ => Failure::Other,
    }
}

/// A server error, saying plainly when it was a statement timeout and which setting set it.
fn describe(e: &sqlx::Error) -> String {
    if classify(e) != Failure::StatementTimeout {
        return e.to_string();
    }
    let setting = match e {
        sqlx::Error::Database(db)
            if db
                .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                .is_some_and(|m| m.number() == 1969) =>
        {
            "the server's max_statement_time"
        }
        sqlx::Error::Database(db)
            if db
                .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                .is_some() =>
        {
            "the server's max_execution_time"
        }
        _ => "statement_timeout (run.statement_timeout)",
    };
    format!("statement timeout: the server cancelled the statement after {setting} ({e})")
}

impl DbError {
    /// True when the server ended the session or is going away (a restart, an administrator's
    /// kill, a shutdown): no statement of this run can go on, whatever policy it belongs to.
    pub fn is_session_ended(&self) -> bool {
        let DbError::Query { source, .. } = self else {
            return matches!(self, DbError::Connect { .. });
        };
        let sqlx::Error::Database(e) = source else {
            return matches!(
                source,
                sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed
            );
        };
        if let Some(my) = e.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
            // Server shutdown in progress, connection killed, server gone away, lost connection.
            return matches!(my.number(), 1053 | 1927 | 2006 | 2013);
        }
        // PostgreSQL connection exceptions (class 08), admin and crash shutdown, cannot
        // connect now.
        e.code().is_some_and(|c| {
            c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02" | "57P03")
        })
    }
}

pub trait Context<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T, DbError>;
}

impl<T> Context<T> for Result<T, sqlx::Error> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T, DbError> {
        self.map_err(|source| DbError::Query {
            context: context(),
            source,
        })
    }
}

/// A value bound to a statement.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Date(NaiveDate),
    Timestamp(NaiveDateTime),
    TimestampTz(DateTime<Utc>),
    /// A binary key (`BINARY(16)`, `bytea`, `BLOB`): its bytes, compared as bytes.
    Bytes(Vec<u8>),
    /// PostgreSQL only: values of one kind (or NULL) bound as one array parameter, so that a
    /// set of rows costs a parameter per column, not per value (`unnest($1, $2)`).
    Array(Vec<Value>),
}

impl Value {
    /// A short form for thresholds and messages (never for personal values).
    pub fn render(&self) -> String {
        match self {
            Value::Null => "NULL".into(),
            Value::Int(i) => i.to_string(),
            Value::Text(s) => s.clone(),
            Value::Date(d) => d.to_string(),
            Value::Timestamp(t) => t.to_string(),
            Value::TimestampTz(t) => t.to_rfc3339(),
            Value::Bytes(b) => hex::encode(b),
            Value::Array(items) => format!("{} values", items.len()),
        }
    }
}

/// How a fetched column is decoded. Queries cast key columns so that each key type reads back
/// as a value that compares equal when bound: integers, text, bytes, or a date or timestamp at
/// full precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decode {
    Int,
    Text,
    Bytes,
    Date,
    Timestamp,
    TimestampTz,
}

/// SQL text with its bound values, built for one dialect.
#[derive(Debug, Clone)]
pub struct Sql {
    pub dialect: Dialect,
    pub text: String,
    pub args: Vec<Value>,
}

impl Sql {
    pub fn new(dialect: Dialect) -> Self {
        Sql {
            dialect,
            text: String::new(),
            args: Vec::new(),
        }
    }

    /// A statement with no parameters.
    pub fn raw(dialect: Dialect, text: &str) -> Self {
        Sql {
            dialect,
            text: text.to_string(),
            args: Vec::new(),
        }
    }

    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.text.push_str(sql);
        self
    }

    /// Appends a placeholder for `value`.
    pub fn bind(&mut self, value: Value) -> &mut Self {
        // An untyped NULL fits any column; a bound one would carry a type (text).
        if value == Value::Null {
            self.text.push_str("NULL");
            return self;
        }
        self.args.push(value);
        self.text
            .push_str(&self.dialect.placeholder(self.args.len()));
        self
    }
}

/// Whether a connection may write. Plans and dry runs use read-only connections so that they
/// cannot change anything even by mistake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadOnly,
    ReadWrite,
}

#[derive(Debug, Clone)]
pub enum Pool {
    Postgres(sqlx::PgPool),
    MySql(sqlx::MySqlPool),
    Sqlite(sqlx::SqlitePool),
}

/// A connected database.
#[derive(Debug, Clone)]
pub struct Db {
    pub pool: Pool,
    pub dialect: Dialect,
    pub access: Access,
    /// PostgreSQL: the schema holding the application's tables.
    pub schema: Option<String>,
    /// SQLite: the database file (the instance lock file sits beside it).
    pub sqlite_path: Option<std::path::PathBuf>,
    pub display_url: String,
    /// The MySQL dialect's server is MariaDB (whose statements can carry their own
    /// optimizer settings).
    pub mariadb: bool,
}

/// A transaction, on a pooled connection (`Db::begin`, `'static`) or on a session's own
/// connection (`Session::begin`).
pub enum Tx<'c> {
    Postgres(sqlx::Transaction<'c, sqlx::Postgres>),
    MySql(sqlx::Transaction<'c, sqlx::MySql>),
    Sqlite(sqlx::Transaction<'c, sqlx::Sqlite>),
}

macro_rules! with_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match $tx {
            Tx::Postgres($c) => $body,
            Tx::MySql($c) => $body,
            Tx::Sqlite($c) => $body,
        }
    };
}

macro_rules! bound_query {
    ($sql:expr) => {{
        let mut q = sqlx::query(AssertSqlSafe($sql.text.clone()));
        for arg in &$sql.args {
            q = match arg {
                Value::Null => q.bind(Option::<String>::None),
                Value::Int(v) => q.bind(*v),
                Value::Text(v) => q.bind(v.clone()),
                Value::Date(v) => q.bind(*v),
                Value::Timestamp(v) => q.bind(*v),
                Value::TimestampTz(v) => q.bind(*v),
                Value::Bytes(v) => q.bind(v.clone()),
                Value::Array(items) => BindArray::bind_array(q, items)?,
            };
        }
        q
    }};
}

/// Binds a `Value::Array`: PostgreSQL's statements alone carry arrays.
trait BindArray: Sized {
    fn bind_array(self, items: &[Value]) -> Result<Self, sqlx::Error>;
}

impl BindArray for sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments> {
    fn bind_array(self, items: &[Value]) -> Result<Self, sqlx::Error> {
        /// Every item as `T` (or NULL); an item of another kind is a mistake in the statement.
        fn each<T: Clone>(
            items: &[Value],
            get: impl Fn(&Value) -> Option<&T>,
        ) -> Result<Vec<Option<T>>, sqlx::Error> {
            items
                .iter()
                .map(|v| match v {
                    Value::Null => Ok(None),
                    v => get(v).cloned().map(Some).ok_or_else(|| {
                        sqlx::Error::InvalidArgument("an array of mixed value kinds".into())
                    }),
                })
                .collect()
        }
        macro_rules! bind_each {
            ($variant:ident) => {
                self.bind(each(items, |v| match v {
                    Value::$variant(x) => Some(x),
                    _ => None,
                })?)
            };
        }
        Ok(match items.iter().find(|v| **v != Value::Null) {
            // All NULL: a text array, which casts to any array type.
            None | Some(Value::Text(_)) => bind_each!(Text),
            Some(Value::Int(_)) => bind_each!(Int),
            Some(Value::Date(_)) => bind_each!(Date),
            Some(Value::Timestamp(_)) => bind_each!(Timestamp),
            Some(Value::TimestampTz(_)) => bind_each!(TimestampTz),
            Some(Value::Bytes(_)) => bind_each!(Bytes),
            Some(Value::Null | Value::Array(_)) => {
                return Err(sqlx::Error::InvalidArgument("an array of arrays".into()));
            }
        })
    }
}

macro_rules! no_arrays {
    ($db:ty, $args:ty) => {
        impl BindArray for sqlx::query::Query<'_, $db, $args> {
            fn bind_array(self, _: &[Value]) -> Result<Self, sqlx::Error> {
                Err(sqlx::Error::InvalidArgument(
                    "array parameters are for PostgreSQL only".into(),
                ))
            }
        }
    };
}
no_arrays!(sqlx::MySql, sqlx::mysql::MySqlArguments);
no_arrays!(sqlx::Sqlite, sqlx::sqlite::SqliteArguments);

macro_rules! decode_row {
    ($row:expr, $decode:expr) => {{
        let mut values = Vec::with_capacity($decode.len());
        for (i, d) in $decode.iter().enumerate() {
            values.push(match d {
                Decode::Int => $row
                    .try_get::<Option<i64>, _>(i)?
                    .map_or(Value::Null, Value::Int),
                Decode::Text => $row
                    .try_get::<Option<String>, _>(i)?
                    .map_or(Value::Null, Value::Text),
                Decode::Bytes => $row
                    .try_get::<Option<Vec<u8>>, _>(i)?
                    .map_or(Value::Null, Value::Bytes),
                Decode::Date => $row
                    .try_get::<Option<NaiveDate>, _>(i)?
                    .map_or(Value::Null, Value::Date),
                Decode::Timestamp => $row
                    .try_get::<Option<NaiveDateTime>, _>(i)?
                    .map_or(Value::Null, Value::Timestamp),
                Decode::TimestampTz => $row
                    .try_get::<Option<DateTime<Utc>>, _>(i)?
                    .map_or(Value::Null, Value::TimestampTz),
            });
        }
        Ok::<_, sqlx::Error>(values)
    }};
}

/// One connection kept for a while, for what lives only as long as its connection: the
/// temporary tables a run builds once and reads in every batch. The run's writes go through it
/// too, so that they see those tables.
pub struct Session {
    conn: SessionConn,
}

enum SessionConn {
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
    MySql(sqlx::pool::PoolConnection<sqlx::MySql>),
}

impl Session {
    /// Begins a read-write transaction on the session's connection.
    pub async fn begin(&mut self) -> Result<Tx<'_>, DbError> {
        use sqlx::Acquire;
        let ctx = || "starting a transaction".to_string();
        Ok(match &mut self.conn {
            SessionConn::Postgres(c) => Tx::Postgres(c.begin().await.ctx(ctx)?),
            SessionConn::MySql(c) => Tx::MySql(c.begin().await.ctx(ctx)?),
        })
    }

    /// Runs one statement outside a transaction (creating or dropping a temporary table).
    pub async fn execute(&mut self, sql: &Sql) -> Result<u64, sqlx::Error> {
        Ok(match &mut self.conn {
            SessionConn::Postgres(c) => bound_query!(sql).execute(&mut **c).await?.rows_affected(),
            SessionConn::MySql(c) => bound_query!(sql).execute(&mut **c).await?.rows_affected(),
        })
    }
}

/// A transaction on the session when there is one, else on any pooled connection.
pub async fn begin_on<'s>(db: &Db, session: Option<&'s mut Session>) -> Result<Tx<'s>, DbError> {
    match session {
        Some(s) => s.begin().await,
        None => db.begin().await,
    }
}

impl Tx<'_> {
    pub async fn execute(&mut self, sql: &Sql) -> Result<u64, sqlx::Error> {
        with_tx!(self, c => Ok(bound_query!(sql).execute(&mut **c).await?.rows_affected()))
    }

    pub async fn fetch(
        &mut self,
        sql: &Sql,
        decode: &[Decode],
    ) -> Result<Vec<Vec<Value>>, sqlx::Error> {
        with_tx!(self, c => {
            let rows = bound_query!(sql).fetch_all(&mut **c).await?;
            rows.iter().map(|row| decode_row!(row, decode)).collect()
        })
    }

    pub async fn fetch_i64(&mut self, sql: &Sql) -> Result<i64, sqlx::Error> {
        let rows = self.fetch(sql, &[Decode::Int]).await?;
        match rows.first().and_then(|r| r.first()) {
            Some(Value::Int(n)) => Ok(*n),
            _ => Ok(0),
        }
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        with_tx!(self, c => c.commit().await)
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        with_tx!(self, c => c.rollback().await)
    }
}

impl Db {
    /// Connects, checking that the server answers. A wrong host or a missing SQLite file is an
    /// error here, never a silently created empty database.
    pub async fn connect(
        db_cfg: &DatabaseConfig,
        run: &RunConfig,
        access: Access,
    ) -> Result<Db, DbError> {
        let url = db_cfg.url.expose();
        let display_url = redact_url(url);
        let connect_err = |source| DbError::Connect {
            url: display_url.clone(),
            source,
        };
        let scheme = url.split("://").next().unwrap_or_default();
        let acquire = Duration::from_secs(10);
        let read_only = access == Access::ReadOnly;
        let lock_ms = run.lock_timeout.as_millis().to_string();
        let stmt_ms = run.statement_timeout.as_millis().to_string();
        let (pool, dialect, sqlite_path) = match scheme {
            "postgres" | "postgresql" => {
                let opts = sqlx::postgres::PgConnectOptions::from_str(url).map_err(connect_err)?;
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(3)
                    .acquire_timeout(acquire)
                    .after_connect(move |conn, _| {
                        let (lock_ms, stmt_ms) = (lock_ms.clone(), stmt_ms.clone());
                        Box::pin(async move {
                            // Custom plans: a cached generic plan can turn a 60 ms batch into
                            // seconds once the purge has walked part of the key range.
                            sqlx::query(
                                "SELECT set_config('lock_timeout', $1, false), \
                                 set_config('statement_timeout', $2, false), \
                                 set_config('plan_cache_mode', 'force_custom_plan', false), \
                                 set_config('extra_float_digits', '3', false), \
                                 set_config('application_name', 'retentiond', false)",
                            )
                            .bind(lock_ms)
                            .bind(stmt_ms)
                            .execute(&mut *conn)
                            .await?;
                            // A writer leaves default_transaction_read_only as the server
                            // sets it: where it is on, `refuse_read_only` stops the writer.
                            if read_only {
                                sqlx::query(
                                    "SELECT set_config('default_transaction_read_only', 'on', false)",
                                )
                                .execute(&mut *conn)
                                .await?;
                            }
                            Ok(())
                        })
                    })
                    .connect_with(opts.clone())
                    .await;
                let pool = match pool {
                    Ok(pool) => pool,
                    Err(e) => {
                        let direct = <sqlx::PgConnection as sqlx::Connection>::connect_with(&opts);
                        return Err(connect_err(reason(e, direct).await));
                    }
                };
                (Pool::Postgres(pool), Dialect::Postgres, None)
            }
            "mysql" | "mariadb" => {
                let url = url.replacen("mariadb://", "mysql://", 1);
                let opts = sqlx::mysql::MySqlConnectOptions::from_str(&url).map_err(connect_err)?;
                let lock_s = run.lock_timeout.as_secs().max(1) as i64;
                let pool = sqlx::mysql::MySqlPoolOptions::new()
                    .max_connections(3)
                    .acquire_timeout(acquire)
                    .after_connect(move |conn, _| {
                        Box::pin(async move {
                            sqlx::query("SET SESSION innodb_lock_wait_timeout = ?")
                                .bind(lock_s)
                                .execute(&mut *conn)
                                .await?;
                            Ok(())
                        })
                    })
                    .connect_with(opts.clone())
                    .await;
                let pool = match pool {
                    Ok(pool) => pool,
                    Err(e) => {
                        let direct =
                            <sqlx::MySqlConnection as sqlx::Connection>::connect_with(&opts);
                        return Err(connect_err(reason(e, direct).await));
                    }
                };
                (Pool::MySql(pool), Dialect::MySql, None)
            }
            "sqlite" => {
                let opts = sqlx::sqlite::SqliteConnectOptions::from_str(url)
                    .map_err(connect_err)?
                    .create_if_missing(false)
                    .foreign_keys(true)
                    .read_only(read_only)
                    .busy_timeout(run.lock_timeout);
                let path = opts.get_filename().to_path_buf();
                if !path.exists() {
                    return Err(connect_err(sqlx::Error::Configuration(
                        format!(
                            "no file {}: retentiond never creates a database file (a missing one \
                             may be a volume not mounted); for a new archive, create an empty \
                             file first: install -m 600 /dev/null {}",
                            path.display(),
                            path.display()
                        )
                        .into(),
                    )));
                }
                let pool = sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(acquire)
                    .connect_with(opts)
                    .await
                    .map_err(connect_err)?;
                (Pool::Sqlite(pool), Dialect::Sqlite, Some(path))
            }
            other => {
                return Err(DbError::Unexpected(format!(
                    "database.url: unsupported scheme \"{other}\"; use postgres://, mysql:// or sqlite://"
                )));
            }
        };
        let mut db = Db {
            pool,
            dialect,
            access,
            schema: None,
            sqlite_path,
            display_url,
            mariadb: false,
        };
        if dialect == Dialect::MySql {
            let mut tx = db.begin().await?;
            let rows = tx
                .fetch(&Sql::raw(dialect, "SELECT VERSION()"), &[Decode::Text])
                .await
                .ctx(|| "reading the server version".into())?;
            tx.rollback().await.ctx(|| "ending a transaction".into())?;
            db.mariadb = matches!(rows.first().and_then(|r| r.first()),
                Some(Value::Text(v)) if v.contains("MariaDB"));
        }
        if dialect == Dialect::Postgres {
            db.schema = match &db_cfg.schema {
                Some(s) => Some(s.clone()),
                None => {
                    let mut tx = db.begin().await?;
                    let rows = tx
                        .fetch(
                            &Sql::raw(dialect, "SELECT current_schema()::text"),
                            &[Decode::Text],
                        )
                        .await
                        .ctx(|| "reading the current schema".into())?;
                    tx.rollback().await.ctx(|| "ending a transaction".into())?;
                    match rows.first().and_then(|r| r.first()) {
                        Some(Value::Text(s)) => Some(s.clone()),
                        _ => {
                            return Err(DbError::Unexpected(
                                "PostgreSQL has no current schema: set database.schema".into(),
                            ));
                        }
                    }
                }
            };
        }
        if access == Access::ReadWrite {
            db.refuse_read_only().await?;
        }
        Ok(db)
    }

    /// A server or database that is read-only by setting (a replica, a maintenance freeze)
    /// is not written: the setting is someone's decision, so it is reported, never switched
    /// off for this session. SQLite's read-only file fails at its first write by itself.
    async fn refuse_read_only(&self) -> Result<(), DbError> {
        let why = match self.dialect {
            Dialect::Postgres => self.postgres_read_only().await?,
            Dialect::MySql => self.mysql_read_only().await?,
            Dialect::Sqlite => None,
        };
        match why {
            Some(why) => Err(DbError::ReadOnly {
                url: self.display_url.clone(),
                why,
            }),
            None => Ok(()),
        }
    }

    /// The settings of one row of text columns, read in a transaction of their own.
    async fn settings(&self, sql: &str, columns: usize) -> Result<Vec<String>, DbError> {
        let mut tx = self.begin().await?;
        let rows = tx
            .fetch(&Sql::raw(self.dialect, sql), &vec![Decode::Text; columns])
            .await
            .ctx(|| "reading whether the database is read-only".into())?;
        tx.rollback().await.ctx(|| "ending a transaction".into())?;
        Ok(rows
            .into_iter()
            .next()
            .unwrap_or_default()
            .into_iter()
            .map(|v| match v {
                Value::Text(s) => s,
                _ => String::new(),
            })
            .collect())
    }

    async fn postgres_read_only(&self) -> Result<Option<String>, DbError> {
        let s = self
            .settings(
                "SELECT pg_is_in_recovery()::text, current_setting('default_transaction_read_only'), \
                 current_setting('transaction_read_only'), \
                 (SELECT source FROM pg_settings WHERE name = 'default_transaction_read_only')::text",
                4,
            )
            .await?;
        let get = |i: usize| s.get(i).map(String::as_str).unwrap_or_default();
        Ok(if get(0) == "true" {
            Some(
                "the server is a standby (pg_is_in_recovery() is true): a replica, which \
                 refuses writes; point database.url at the primary"
                    .into(),
            )
        } else if get(1) == "on" {
            let set_where = match get(3) {
                "database" => "for this database (ALTER DATABASE ... SET)".to_string(),
                "user" => "for this role (ALTER ROLE ... SET)".to_string(),
                "database user" => {
                    "for this role in this database (ALTER ROLE ... IN DATABASE ... SET)"
                        .to_string()
                }
                "configuration file" => {
                    "in the server's configuration (postgresql.conf)".to_string()
                }
                other => format!("by {other}"),
            };
            Some(format!(
                "default_transaction_read_only is on, set {set_where}: usually a maintenance \
                 window, a migration freeze or a replica's safeguard; whoever set it resets it \
                 (ALTER DATABASE ... RESET default_transaction_read_only)"
            ))
        } else if get(2) == "on" {
            Some("transaction_read_only is on for new transactions".into())
        } else {
            None
        })
    }

    async fn mysql_read_only(&self) -> Result<Option<String>, DbError> {
        // MySQL 8 renamed tx_read_only; MariaDB keeps it.
        let session = if self.mariadb {
            "tx_read_only"
        } else {
            "transaction_read_only"
        };
        let s = self
            .settings(
                &format!(
                    "SELECT CAST(@@GLOBAL.read_only AS CHAR), CAST(@@SESSION.{session} AS CHAR)"
                ),
                2,
            )
            .await?;
        let on = |i: usize| {
            s.get(i)
                .is_some_and(|v| !matches!(v.as_str(), "0" | "OFF" | ""))
        };
        Ok(if on(0) {
            Some(
                "read_only is ON on the server: usually a replica, or a primary frozen for \
                 maintenance or a failover; point database.url at the primary"
                    .into(),
            )
        } else if on(1) {
            Some(format!(
                "{session} is ON for this session (set globally or in the server's configuration): \
                 a maintenance or replica setting"
            ))
        } else {
            None
        })
    }
}

/// The pool retries a refused connection until its acquire timeout (the server may be
/// starting) and then reports only "pool timed out". One direct attempt gives the reason
/// ("Connection refused", "password authentication failed", ...) for the message.
async fn reason<C: sqlx::Connection>(
    pool_error: sqlx::Error,
    direct: impl std::future::Future<Output = Result<C, sqlx::Error>>,
) -> sqlx::Error {
    if !matches!(pool_error, sqlx::Error::PoolTimedOut) {
        return pool_error;
    }
    match tokio::time::timeout(Duration::from_secs(5), direct).await {
        Ok(Err(e)) => e,
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            pool_error
        }
        Err(_) => pool_error,
    }
}

impl Db {
    /// A connection of its own for a writing run on PostgreSQL or MySQL. None for SQLite,
    /// whose single pooled connection every statement shares, and for read-only access, under
    /// which the server refuses even temporary tables.
    pub async fn session(&self) -> Result<Option<Session>, DbError> {
        let ctx = || "opening a session".to_string();
        if self.access == Access::ReadOnly {
            return Ok(None);
        }
        // Closed rather than pooled at the end, so that its temporary tables go with it.
        let conn = match &self.pool {
            Pool::Postgres(p) => {
                let mut c = p.acquire().await.ctx(ctx)?;
                c.close_on_drop();
                // A batch's statement is costed high (per-row checks) but runs in milliseconds:
                // compiling it would cost more than it saves, in every batch.
                sqlx::query("SET jit = off")
                    .execute(&mut *c)
                    .await
                    .ctx(ctx)?;
                SessionConn::Postgres(c)
            }
            Pool::MySql(p) => {
                let mut c = p.acquire().await.ctx(ctx)?;
                c.close_on_drop();
                SessionConn::MySql(c)
            }
            Pool::Sqlite(_) => return Ok(None),
        };
        Ok(Some(Session { conn }))
    }

    /// Begins a transaction: read-only for plans and dry runs.
    pub async fn begin(&self) -> Result<Tx<'static>, DbError> {
        let read_only = self.access == Access::ReadOnly;
        let ctx = || "starting a transaction".to_string();
        Ok(match &self.pool {
            Pool::Postgres(p) => Tx::Postgres(if read_only {
                p.begin_with("BEGIN READ ONLY").await.ctx(ctx)?
            } else {
                p.begin().await.ctx(ctx)?
            }),
            Pool::MySql(p) => Tx::MySql(if read_only {
                p.begin_with("START TRANSACTION READ ONLY").await.ctx(ctx)?
            } else {
                p.begin().await.ctx(ctx)?
            }),
            // IMMEDIATE takes the write lock up front instead of failing on upgrade.
            Pool::Sqlite(p) => Tx::Sqlite(if read_only {
                p.begin().await.ctx(ctx)?
            } else {
                p.begin_with("BEGIN IMMEDIATE").await.ctx(ctx)?
            }),
        })
    }

    /// Runs one query in a transaction of its own and ends it; `what` names it in errors.
    pub async fn read(
        &self,
        sql: &Sql,
        decode: &[Decode],
        what: &str,
    ) -> Result<Vec<Vec<Value>>, DbError> {
        let mut tx = self.begin().await?;
        let rows = tx.fetch(sql, decode).await.ctx(|| what.to_string())?;
        tx.rollback().await.ctx(|| what.to_string())?;
        Ok(rows)
    }

    /// The first column of the first row as text, if any.
    pub async fn read_text(&self, sql: &Sql, what: &str) -> Result<Option<String>, DbError> {
        Ok(
            match self
                .read(sql, &[Decode::Text], what)
                .await?
                .first()
                .and_then(|r| r.first())
            {
                Some(Value::Text(s)) => Some(s.clone()),
                _ => None,
            },
        )
    }

    /// Plans `statement` with `EXPLAIN`, without running it: the server checks every privilege
    /// the statement needs. Outside any transaction, because MariaDB refuses even to plan a
    /// write inside a read-only one (and would then not say whether it is allowed). Statements
    /// here carry no bound values. Not for SQLite, which has no privileges.
    pub async fn explain(&self, statement: &str) -> Result<(), sqlx::Error> {
        let text = AssertSqlSafe(format!("EXPLAIN {statement}"));
        match &self.pool {
            Pool::Postgres(p) => sqlx::raw_sql(text).execute(p).await.map(|_| ()),
            Pool::MySql(p) => sqlx::raw_sql(text).execute(p).await.map(|_| ()),
            Pool::Sqlite(p) => sqlx::raw_sql(text).execute(p).await.map(|_| ()),
        }
    }

    /// Runs one statement in a transaction of its own and commits it.
    pub async fn write(&self, sql: &Sql, what: &str) -> Result<u64, DbError> {
        let mut tx = self.begin().await?;
        let n = tx.execute(sql).await.ctx(|| what.to_string())?;
        tx.commit().await.ctx(|| what.to_string())?;
        Ok(n)
    }

    /// Quotes a table name, qualified by the PostgreSQL schema when there is one.
    pub fn table(&self, name: &str) -> String {
        match (&self.schema, self.dialect) {
            (Some(schema), Dialect::Postgres) => {
                format!(
                    "{}.{}",
                    self.dialect.quote(schema),
                    self.dialect.quote(name)
                )
            }
            _ => self.dialect.quote(name),
        }
    }

    /// Quotes a table that may be in another schema (PostgreSQL) or database (MySQL):
    /// `"billing"."invoices"`, `` `otherdb`.`invoices` ``.
    pub fn qualified(&self, table: &schema::TableName) -> String {
        match (&table.schema, self.dialect) {
            (Some(schema), Dialect::Postgres | Dialect::MySql) => {
                format!("{}.{}", self.quote(schema), self.quote(&table.name))
            }
            _ => self.table(&table.name),
        }
    }

    pub fn quote(&self, ident: &str) -> String {
        self.dialect.quote(ident)
    }

    pub fn sql(&self) -> Sql {
        Sql::new(self.dialect)
    }

    /// The server's clock in UTC: the one source of "now" for a run.
    pub async fn now(&self) -> Result<DateTime<Utc>, DbError> {
        let ctx = || "reading the database clock".to_string();
        let text = format!("SELECT {}", self.dialect.utc_text(self.dialect.now()));
        let mut tx = self.begin().await?;
        let rows = tx
            .fetch(&Sql::raw(self.dialect, &text), &[Decode::Text])
            .await
            .ctx(ctx)?;
        tx.rollback().await.ctx(ctx)?;
        match rows.first().and_then(|r| r.first()) {
            Some(Value::Text(s)) => NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
                .map(|t| t.and_utc())
                .map_err(|e| DbError::Unexpected(format!("the database clock gave \"{s}\": {e}"))),
            _ => Err(DbError::Unexpected(
                "the database clock gave no value".into(),
            )),
        }
    }

    pub async fn close(&self) {
        match &self.pool {
            Pool::Postgres(p) => p.close().await,
            Pool::MySql(p) => p.close().await,
            Pool::Sqlite(p) => p.close().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_is_written_not_bound() {
        let mut q = Sql::new(Dialect::Postgres);
        q.push("a = ")
            .bind(Value::Int(1))
            .push(", b = ")
            .bind(Value::Null)
            .push(", c = ")
            .bind(Value::Int(2));
        assert_eq!(q.text, "a = $1, b = NULL, c = $2");
        assert_eq!(q.args.len(), 2);
    }
}
