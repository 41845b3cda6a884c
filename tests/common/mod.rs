//! The test harness for the engine scenarios: every test gets a database of its own (a new
//! PostgreSQL or MariaDB database `rd_<random>`, or a new SQLite file), runs the real binary
//! against it, and checks what a user would check: rows, exact values, exit codes, messages.
//!
//! Servers: `RETENTIOND_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/test`) and
//! `RETENTIOND_TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306/test`) name an admin
//! connection that may create databases. A missing server fails the test, saying how to start
//! it. `RETENTIOND_TEST_KEEP=1` keeps the databases of a run for inspection.

#![allow(dead_code)]

use sha2::{Digest, Sha256};
use sqlx::{Connection, Executor, Row};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// The HMAC key every test run of the binary gets (unless the test overrides it).
pub const TEST_KEY: &str = "test-hmac-key-0123456789";

/// The fixed "now" of most scenarios, for the debug-build hook `RETENTIOND_TEST_NOW`.
pub const NOW: &str = "2027-03-01T00:00:00Z";

/// The env of a run at `now`.
/// A purge many tests run: messages sent more than 6 months ago.
pub const OLD_MAIL: &str = r#"
[[policies]]
name = "old-mail"
table = "messages"
since = "sent_at"
retain = "6 months"
action = "delete"
basis = "test"
"#;

pub fn at(now: &str) -> [(&str, &str); 1] {
    [("RETENTIOND_TEST_NOW", now)]
}

const PG_START: &str = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start";
const MARIADB_START: &str =
    "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd";

pub fn pg_admin_url() -> String {
    std::env::var("RETENTIOND_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub fn mysql_admin_url() -> String {
    std::env::var("RETENTIOND_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

/// The databases every scenario runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    MariaDb,
    Sqlite,
}

impl Backend {
    pub const ALL: [Backend; 3] = [Backend::Postgres, Backend::MariaDb, Backend::Sqlite];
}

/// One `#[tokio::test]` per backend for a scenario `async fn(Backend)`, so that a failure
/// names its database: `boundaries::month_end::mariadb`.
#[macro_export]
macro_rules! on_every_backend {
    ($($scenario:ident),+ $(,)?) => {$(
        mod $scenario {
            use $crate::common::Backend;
            #[tokio::test]
            async fn postgres() {
                super::$scenario(Backend::Postgres).await
            }
            #[tokio::test]
            async fn mariadb() {
                super::$scenario(Backend::MariaDb).await
            }
            #[tokio::test]
            async fn sqlite() {
                super::$scenario(Backend::Sqlite).await
            }
        }
    )+};
}

/// Like `on_every_backend!`, for scenarios that need a server (a second connection acting on
/// the data while a run waits, roles and grants): PostgreSQL and MariaDB only.
#[macro_export]
macro_rules! on_server_backends {
    ($($scenario:ident),+ $(,)?) => {$(
        mod $scenario {
            use $crate::common::Backend;
            #[tokio::test]
            async fn postgres() {
                super::$scenario(Backend::Postgres).await
            }
            #[tokio::test]
            async fn mariadb() {
                super::$scenario(Backend::MariaDb).await
            }
        }
    )+};
}

/// One `#[tokio::test]` per pair of databases for a scenario `async fn(Backend, Backend)`
/// (the live database, then the archive): `archive::exact::mariadb_to_sqlite`.
#[macro_export]
macro_rules! on_every_pair {
    ($($scenario:ident),+ $(,)?) => {$(
        mod $scenario {
            use $crate::common::Backend::{MariaDb, Postgres, Sqlite};
            $crate::on_every_pair!(@one $scenario, postgres_to_postgres, Postgres, Postgres);
            $crate::on_every_pair!(@one $scenario, postgres_to_mariadb, Postgres, MariaDb);
            $crate::on_every_pair!(@one $scenario, postgres_to_sqlite, Postgres, Sqlite);
            $crate::on_every_pair!(@one $scenario, mariadb_to_postgres, MariaDb, Postgres);
            $crate::on_every_pair!(@one $scenario, mariadb_to_mariadb, MariaDb, MariaDb);
            $crate::on_every_pair!(@one $scenario, mariadb_to_sqlite, MariaDb, Sqlite);
            $crate::on_every_pair!(@one $scenario, sqlite_to_postgres, Sqlite, Postgres);
            $crate::on_every_pair!(@one $scenario, sqlite_to_mariadb, Sqlite, MariaDb);
            $crate::on_every_pair!(@one $scenario, sqlite_to_sqlite, Sqlite, Sqlite);
        }
    )+};
    (@one $scenario:ident, $name:ident, $live:ident, $to:ident) => {
        #[tokio::test]
        async fn $name() {
            super::$scenario($live, $to).await
        }
    };
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// `rd_<time><pid><counter>`: unique across parallel tests and test binaries.
fn unique_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() % 1_000_000_000_000)
        .unwrap_or(0);
    format!(
        "rd_{nanos:x}_{:x}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// `scheme://authority/admin_db` → `scheme://authority/name`.
fn with_database(admin: &str, name: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin, String::new()),
    };
    let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
    format!("{base}/{name}{query}")
}

enum Conn {
    Pg(sqlx::PgConnection),
    My(sqlx::MySqlConnection),
    Lite(sqlx::SqliteConnection),
}

/// One statement on a test connection.
async fn execute(c: &mut Conn, sql: &str) -> Result<(), sqlx::Error> {
    let q = sqlx::AssertSqlSafe(sql.to_string());
    match c {
        Conn::Pg(c) => c.execute(q).await.map(|_| ()),
        Conn::My(c) => c.execute(q).await.map(|_| ()),
        Conn::Lite(c) => c.execute(q).await.map(|_| ()),
    }
}

/// See `TestDb::open_tx`.
pub struct OpenTx(Conn);

impl OpenTx {
    async fn run(&mut self, sql: &str) {
        execute(&mut self.0, sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    pub async fn commit(mut self) {
        self.run("COMMIT").await;
    }
}

/// A fresh database of one test, dropped when the value is dropped.
pub struct TestDb {
    pub backend: Backend,
    url: String,
    name: String,
    /// Holds the SQLite file and the config files.
    pub dir: tempfile::TempDir,
    configs: AtomicU32,
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let name = unique_name();
        let url = match backend {
            Backend::Postgres => {
                let admin = pg_admin_url();
                let mut c = sqlx::PgConnection::connect(&admin)
                    .await
                    .unwrap_or_else(|e| {
                        panic!(
                            "PostgreSQL is not reachable at {admin}: {e}\nStart it with `{PG_START}` \
                             or point RETENTIOND_TEST_PG_URL at a server where this user may create databases."
                        )
                    });
                c.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .await
                    .unwrap_or_else(|e| panic!("CREATE DATABASE {name} on {admin}: {e}"));
                let _ = c.close().await;
                with_database(&admin, &name)
            }
            Backend::MariaDb => {
                let admin = mysql_admin_url();
                let mut c = sqlx::MySqlConnection::connect(&admin)
                    .await
                    .unwrap_or_else(|e| {
                        panic!(
                            "MariaDB is not reachable at {admin}: {e}\nStart it with `{MARIADB_START}` \
                             or point RETENTIOND_TEST_MYSQL_URL at a server where this user may create databases."
                        )
                    });
                c.execute(sqlx::AssertSqlSafe(format!(
                    "CREATE DATABASE {name} CHARACTER SET utf8mb4"
                )))
                .await
                .unwrap_or_else(|e| panic!("CREATE DATABASE {name} on {admin}: {e}"));
                let _ = c.close().await;
                with_database(&admin, &name)
            }
            Backend::Sqlite => {
                let path = dir.path().join(format!("{name}.db"));
                let opts = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(&path)
                    .create_if_missing(true);
                let c = sqlx::SqliteConnection::connect_with(&opts)
                    .await
                    .expect("create the SQLite file");
                let _ = c.close().await;
                format!("sqlite://{}", path.display())
            }
        };
        TestDb {
            backend,
            url,
            name,
            dir,
            configs: AtomicU32::new(0),
        }
    }

    /// The URL retentiond connects with.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name (`rd_...`), unique to this test: a base for role names too.
    pub fn name(&self) -> &str {
        &self.name
    }

    async fn conn(&self) -> Conn {
        let url = &self.url;
        match self.backend {
            Backend::Postgres => Conn::Pg(
                sqlx::PgConnection::connect(url)
                    .await
                    .unwrap_or_else(|e| panic!("connect to {url}: {e}")),
            ),
            Backend::MariaDb => Conn::My(
                sqlx::MySqlConnection::connect(url)
                    .await
                    .unwrap_or_else(|e| panic!("connect to {url}: {e}")),
            ),
            Backend::Sqlite => Conn::Lite(
                sqlx::SqliteConnection::connect(url)
                    .await
                    .unwrap_or_else(|e| panic!("connect to {url}: {e}")),
            ),
        }
    }

    /// Runs setup SQL statement by statement (a statement ends with `;` at the end of a line).
    pub async fn exec(&self, sql: &str) {
        let mut c = self.conn().await;
        for stmt in sql
            .split(";\n")
            .map(|s| s.trim().trim_end_matches(';').trim())
            .filter(|s| !s.is_empty())
        {
            execute(&mut c, stmt)
                .await
                .unwrap_or_else(|e| panic!("{:?}: {stmt}: {e}", self.backend));
        }
    }

    /// An application transaction left open after `sql` (which takes row locks), until
    /// `OpenTx::commit`. PostgreSQL and MariaDB only.
    pub async fn open_tx(&self, sql: &str) -> OpenTx {
        let mut tx = OpenTx(self.conn().await);
        tx.run("BEGIN").await;
        tx.run(sql).await;
        tx
    }

    /// How many sessions of this test's database wait for a row lock (MariaDB: a write).
    pub async fn lock_waiters(&self) -> i64 {
        match self.backend {
            Backend::Postgres => {
                self.scalar_i64(
                    "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
                )
                .await
            }
            Backend::MariaDb => {
                // A write that has run for half a second on a test's few rows is waiting for a
                // lock (innodb_trx does not always list the waiting transaction yet).
                self.scalar_i64(
                    "SELECT COUNT(*) FROM information_schema.processlist WHERE db = DATABASE() AND (info LIKE 'DELETE%' OR info LIKE 'UPDATE%' OR info LIKE 'SET STATEMENT%') AND time_ms > 500",
                )
                .await
            }
            Backend::Sqlite => panic!("SQLite has no row locks"),
        }
    }

    /// Every row of a query whose columns are all text (use `cast_text`); NULL is None.
    pub async fn text_rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        let mut c = self.conn().await;
        let q = || sqlx::AssertSqlSafe(sql.to_string());
        macro_rules! fetch {
            ($c:expr) => {{
                let rows = sqlx::query(q())
                    .fetch_all($c)
                    .await
                    .unwrap_or_else(|e| panic!("{:?}: {sql}: {e}", self.backend));
                rows.iter()
                    .map(|r| {
                        (0..r.len())
                            .map(|i| {
                                r.try_get::<Option<String>, _>(i)
                                    .unwrap_or_else(|e| panic!("{sql}: column {i}: {e}"))
                            })
                            .collect()
                    })
                    .collect()
            }};
        }
        match &mut c {
            Conn::Pg(c) => fetch!(c),
            Conn::My(c) => fetch!(c),
            Conn::Lite(c) => fetch!(c),
        }
    }

    /// The value of a scalar query as text (NULL or no row: None).
    pub async fn scalar_opt_string(&self, sql: &str) -> Option<String> {
        let wrapped = format!("SELECT {}", self.cast_text(&format!("({sql})")));
        self.text_rows(&wrapped)
            .await
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next().flatten())
    }

    /// The value of a scalar integer query (COUNT, SUM, MIN ...), whatever type the server
    /// gives it.
    pub async fn scalar_i64(&self, sql: &str) -> i64 {
        let text = self
            .scalar_opt_string(sql)
            .await
            .unwrap_or_else(|| panic!("{sql}: NULL"));
        text.parse()
            .unwrap_or_else(|e| panic!("{sql}: {text:?} is no integer: {e}"))
    }

    /// `SELECT COUNT(*) FROM table`.
    pub async fn count(&self, table: &str) -> i64 {
        self.scalar_i64(&format!("SELECT COUNT(*) FROM {table}"))
            .await
    }

    /// The values of the integer column `id` of a table, ascending.
    pub async fn ids(&self, table: &str) -> Vec<i64> {
        let mut ids: Vec<i64> = self
            .text_rows(&format!("SELECT {} FROM {table}", self.cast_text("id")))
            .await
            .into_iter()
            .map(|r| {
                r[0].as_deref()
                    .and_then(|s| s.parse().ok())
                    .expect("integer id")
            })
            .collect();
        ids.sort_unstable();
        ids
    }

    /// `expr` cast to text in this dialect.
    pub fn cast_text(&self, expr: &str) -> String {
        match self.backend {
            Backend::MariaDb => format!("CAST({expr} AS CHAR)"),
            _ => format!("CAST({expr} AS TEXT)"),
        }
    }

    fn quote(&self, ident: &str) -> String {
        match self.backend {
            Backend::MariaDb => format!("`{}`", ident.replace('`', "``")),
            _ => format!("\"{}\"", ident.replace('"', "\"\"")),
        }
    }

    /// The base tables of the database, sorted.
    pub async fn tables(&self) -> Vec<String> {
        let sql = match self.backend {
            Backend::Postgres => {
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
            }
            Backend::MariaDb => {
                "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES \
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1"
            }
            Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1"
            }
        };
        self.text_rows(sql)
            .await
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
            .collect()
    }

    pub async fn has_table(&self, table: &str) -> bool {
        self.tables().await.iter().any(|t| t == table)
    }

    /// retentiond's own tables (prefix `retentiond_`) that exist.
    pub async fn own_tables(&self) -> Vec<String> {
        self.tables()
            .await
            .into_iter()
            .filter(|t| t.starts_with("retentiond_"))
            .collect()
    }

    async fn columns(&self, table: &str) -> Vec<String> {
        let sql = match self.backend {
            Backend::Postgres => format!(
                "SELECT column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = '{table}' ORDER BY ordinal_position"
            ),
            Backend::MariaDb => format!(
                "SELECT CAST(COLUMN_NAME AS CHAR) FROM information_schema.COLUMNS \
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{table}' ORDER BY ORDINAL_POSITION"
            ),
            Backend::Sqlite => {
                format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid")
            }
        };
        self.text_rows(&sql)
            .await
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
            .collect()
    }

    /// Every row of every application table (all but retentiond's own), rendered as text
    /// in a fixed order, with the table and column names.
    pub async fn dump_all(&self) -> Vec<String> {
        let mut out = Vec::new();
        for table in self.tables().await {
            if table.starts_with("retentiond_") {
                continue;
            }
            let cols = self.columns(&table).await;
            out.push(format!("table {table} ({})", cols.join(", ")));
            let list: Vec<String> = cols
                .iter()
                .map(|c| self.cast_text(&self.quote(c)))
                .collect();
            let order: Vec<String> = (1..=cols.len()).map(|i| i.to_string()).collect();
            let rows = self
                .text_rows(&format!(
                    "SELECT {} FROM {} ORDER BY {}",
                    list.join(", "),
                    self.quote(&table),
                    order.join(", ")
                ))
                .await;
            for r in rows {
                let cells: Vec<String> = r
                    .into_iter()
                    .map(|v| v.map_or("NULL".to_string(), |s| format!("{s:?}")))
                    .collect();
                out.push(cells.join("|"));
            }
        }
        out
    }

    /// A digest of `dump_all`: equal before and after means no application row changed.
    pub async fn checksum_all(&self) -> String {
        let mut h = Sha256::new();
        for line in self.dump_all().await {
            h.update(line.as_bytes());
            h.update(b"\n");
        }
        hex::encode(h.finalize())
    }

    /// Column type of a timestamp without zone.
    pub fn ts_type(&self) -> &'static str {
        match self.backend {
            Backend::MariaDb => "DATETIME",
            _ => "TIMESTAMP",
        }
    }

    /// Column type of a short text.
    pub fn text_type(&self) -> &'static str {
        match self.backend {
            Backend::MariaDb => "VARCHAR(255)",
            _ => "TEXT",
        }
    }

    /// Column type of an integer key.
    pub fn id_type(&self) -> &'static str {
        "BIGINT"
    }

    /// Writes a config for this database: `[database] url`, `[run]` with `max_fraction = 1.0`
    /// and `write_budget = "off"` (unless `run_extra` sets them: the shared test servers' WAL
    /// is everyone's, and tests/pacing.rs measures the budget on a server of its own) and
    /// `run_extra`, then the policies (and any further sections the test puts after them).
    /// Each call writes a new file.
    pub fn write_config(&self, policies_toml: &str, run_extra: &str) -> PathBuf {
        let fraction = if run_extra.contains("max_fraction") {
            ""
        } else {
            "max_fraction = 1.0\n"
        };
        let budget = if run_extra.contains("write_budget") {
            ""
        } else {
            "write_budget = \"off\"\n"
        };
        let text = format!(
            "[database]\nurl = \"{}\"\n\n[run]\n{fraction}{budget}{run_extra}\n\n{policies_toml}\n",
            self.url
        );
        let n = self.configs.fetch_add(1, Ordering::SeqCst);
        let path = self.dir.path().join(format!("retentiond-{n}.toml"));
        std::fs::write(&path, text).expect("write the config");
        path
    }

    /// `config` with an `[archive]` section naming `archive`, as a new file.
    pub fn with_archive(&self, config: &Path, archive: &TestDb) -> PathBuf {
        self.with_archive_url(config, archive.url())
    }

    /// `config` with an `[archive]` section whose url is `url`, as a new file.
    pub fn with_archive_url(&self, config: &Path, url: &str) -> PathBuf {
        let text = std::fs::read_to_string(config).expect("read the config");
        let n = self.configs.fetch_add(1, Ordering::SeqCst);
        let path = self.dir.path().join(format!("retentiond-{n}.toml"));
        std::fs::write(&path, format!("{text}\n[archive]\nurl = \"{url}\"\n"))
            .expect("write the config");
        path
    }

    /// Drops the database now (also done on drop).
    fn drop_database(backend: Backend, name: &str) {
        let name = name.to_string();
        // A runtime of its own on a thread of its own: works from sync and async callers.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                match backend {
                    Backend::Postgres => {
                        if let Ok(mut c) = sqlx::PgConnection::connect(&pg_admin_url()).await {
                            let _ = c
                                .execute(sqlx::AssertSqlSafe(format!(
                                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                                )))
                                .await;
                        }
                    }
                    Backend::MariaDb => {
                        if let Ok(mut c) = sqlx::MySqlConnection::connect(&mysql_admin_url()).await
                        {
                            let _ = c
                                .execute(sqlx::AssertSqlSafe(format!(
                                    "DROP DATABASE IF EXISTS {name}"
                                )))
                                .await;
                        }
                    }
                    Backend::Sqlite => {}
                }
            })
        })
        .join();
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if std::env::var_os("RETENTIOND_TEST_KEEP").is_some() {
            eprintln!("kept test database {:?} {}", self.backend, self.url);
            self.dir.disable_cleanup(true);
            return;
        }
        TestDb::drop_database(self.backend, &self.name);
    }
}

/// Runs the binary with `--config config` and `args`. The environment is cleaned of
/// `RETENTIOND_*` and `RUST_LOG`; `RETENTIOND_HASH__KEY` is `TEST_KEY`; then `env` applies
/// (an empty value removes the variable).
pub fn run_cli(config: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    cli_command(config, args, env)
        .output()
        .expect("start the retentiond binary")
}

/// The command `run_cli` runs, for tests that start it themselves (to signal or kill it).
pub fn cli_command(config: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_retentiond"));
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("RETENTIOND_") {
            c.env_remove(&k);
        }
    }
    c.env_remove("RUST_LOG")
        .env("RETENTIOND_HASH__KEY", TEST_KEY)
        .arg("--config")
        .arg(config)
        .args(args);
    for (k, v) in env {
        if v.is_empty() {
            c.env_remove(k);
        } else {
            c.env(k, v);
        }
    }
    c
}

/// Starts a run that stops at the debug hook `point` (`RETENTIOND_TEST_STALL`) and waits there
/// until the returned resume file is written; returns once the run has said it is waiting.
pub fn start_stalled(
    db: &TestDb,
    config: &Path,
    args: &[&str],
    point: &str,
) -> (std::process::Child, PathBuf) {
    use std::io::{BufRead, BufReader};
    let resume = db.dir.path().join(format!("resume-{point}"));
    let resume_env = resume.display().to_string();
    let env = [
        at(NOW)[0],
        ("RETENTIOND_TEST_STALL", point),
        ("RETENTIOND_TEST_RESUME", resume_env.as_str()),
    ];
    // Piped, for a test that reads the report (`wait_with_output`); a report fits the pipe.
    let mut child = cli_command(config, args, &env)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start retentiond");
    let err = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(err).lines().map_while(Result::ok);
    assert!(
        lines.any(|l| l.contains(&format!("stalled at {point}"))),
        "the run never reached {point}"
    );
    // Keep reading, so that the run's later log lines do not meet a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, resume)
}

/// A small deterministic generator of kill moments: a failing sequence replays from the seed
/// printed with the failure.
pub struct Moments(pub u64);

impl Moments {
    pub fn next_ms(&mut self, lo: u64, hi: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        lo + self.0 % (hi - lo)
    }
}

/// SIGKILL, and reap.
pub fn kill(mut child: std::process::Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// The run after killed runs, which must finish the work (exit 0). A killed connection's locks
/// may outlive the process by a moment on the server: exit 4 (lock held) is retried for a
/// minute.
pub fn run_after_kills(config: &Path, env: &[(&str, &str)]) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let out = run_cli(config, &["run"], env);
        if out.status.code() == Some(4) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(500));
            continue;
        }
        expect_exit(&out, 0);
        return;
    }
}

/// The summaries a `file://DIR` report transport wrote, with quoted-printable's soft line
/// breaks joined (so that a line can be searched whole).
pub fn summaries_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("the mail directory")
        .filter_map(Result::ok)
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .map(|m| m.replace("=\r\n", "").replace("=\n", ""))
        .collect()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts the exit code, showing both streams when it differs; returns stdout.
#[track_caller]
pub fn expect_exit(out: &Output, code: i32) -> String {
    assert_eq!(
        out.status.code(),
        Some(code),
        "expected exit {code}\n--- stdout:\n{}\n--- stderr:\n{}",
        stdout(out),
        stderr(out)
    );
    stdout(out)
}

/// Stdout as JSON, after asserting exit 0.
#[track_caller]
pub fn json_ok(out: &Output) -> serde_json::Value {
    let text = expect_exit(out, 0);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{text}"))
}

/// The entry of policy `name` in a `plan --json` / `run --json` document.
#[track_caller]
pub fn policy<'a>(doc: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    doc["policies"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == name))
        .unwrap_or_else(|| panic!("no policy {name} in {doc:#}"))
}

/// A count field of a policy entry.
#[track_caller]
pub fn field(doc: &serde_json::Value, name: &str, key: &str) -> u64 {
    policy(doc, name)[key]
        .as_u64()
        .unwrap_or_else(|| panic!("policy {name} has no count {key} in {doc:#}"))
}
