//! Pieces for the daemon tests: a fresh PostgreSQL database per test, a real SMTP server
//! process, and the binary.

#![allow(dead_code)]

use sqlx::{Connection, Executor, PgConnection};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub fn pg_admin_url() -> String {
    std::env::var("RETENTIOND_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A database of its own for one test, dropped at the end.
pub struct PgDb {
    pub name: String,
    pub url: String,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_name(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        nanos
    )
}

impl PgDb {
    pub async fn new() -> PgDb {
        let admin = pg_admin_url();
        let mut conn = PgConnection::connect(&admin).await.unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is not reachable at {admin} ({e}); start it with \
                 `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` \
                 or set RETENTIOND_TEST_PG_URL"
            )
        });
        let name = unique_name("rd_daemon");
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("create database");
        let base = admin
            .rsplit_once('/')
            .map_or(admin.as_str(), |(b, _)| b)
            .to_string();
        PgDb {
            url: format!("{base}/{name}"),
            name,
        }
    }

    pub async fn conn(&self) -> PgConnection {
        PgConnection::connect(&self.url)
            .await
            .expect("connect to the test database")
    }

    pub async fn exec(&self, sql: &str) {
        let mut c = self.conn().await;
        c.execute(sqlx::AssertSqlSafe(sql.to_string()))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    pub async fn scalar(&self, sql: &str) -> i64 {
        let mut c = self.conn().await;
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_one(&mut c)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Like `scalar`, but `None` when the query fails (e.g. the table does not exist yet).
    pub async fn try_scalar(&self, sql: &str) -> Option<i64> {
        let mut c = self.conn().await;
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_one(&mut c)
            .await
            .ok()
    }

    pub async fn drop(self) {
        if let Ok(mut c) = PgConnection::connect(&pg_admin_url()).await {
            let _ = c
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                )))
                .await;
        }
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// tests/support/smtp_sink.py: a real SMTP server storing each message as a file.
pub struct SmtpSink {
    pub port: u16,
    pub dir: PathBuf,
    child: Child,
}

impl SmtpSink {
    pub fn start(port: u16, dir: &Path) -> SmtpSink {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        let child = Command::new("python3")
            .arg(script)
            .arg("--port")
            .arg(port.to_string())
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("python3 must be installed (tests/run.sh installs aiosmtpd)");
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the SMTP test server did not start (is aiosmtpd installed?)"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        SmtpSink {
            port,
            dir: dir.to_path_buf(),
            child,
        }
    }

    /// The received messages, oldest first.
    pub fn messages(&self) -> Vec<String> {
        let mut files: Vec<_> = std::fs::read_dir(&self.dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect()
    }

    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let m = self.messages();
            if m.len() >= n || Instant::now() > deadline {
                return m;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Subject header of a raw message.
pub fn subject(raw: &str) -> String {
    raw.lines()
        .find_map(|l| l.strip_prefix("Subject: "))
        .unwrap_or_default()
        .trim()
        .to_string()
}

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_retentiond"));
    c.env_remove("RUST_LOG")
        .env("RETENTIOND_LOG_FORMAT", "json");
    c
}

pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write test file");
    p
}

/// Sends SIGTERM to a child.
pub fn terminate(child: &Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
}

/// Waits for a child to exit, at most `timeout`; None if it did not.
pub fn wait_exit(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(Some(s)) = child.try_wait() {
            return Some(s);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A plain HTTP GET on 127.0.0.1: (status code, body).
pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    let code = buf.split_whitespace().nth(1)?.parse().ok()?;
    let body = buf
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((code, body))
}

pub fn mysql_admin_url() -> String {
    std::env::var("RETENTIOND_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

/// The three databases every engine scenario runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    MariaDb,
    Sqlite,
}

enum Conn {
    Pg(sqlx::PgConnection),
    My(sqlx::MySqlConnection),
    Lite(sqlx::SqliteConnection),
}

/// A fresh database of its own on one backend: a new PostgreSQL or MariaDB database, or a
/// new SQLite file.
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    name: String,
    pub dir: tempfile::TempDir,
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        let dir = tempfile::tempdir().expect("tempdir");
        let name = unique_name("rd_test");
        let url = match backend {
            Backend::Postgres => {
                let db = PgDb::new().await;
                // PgDb made its own name; keep it.
                return TestDb {
                    backend,
                    url: db.url.clone(),
                    name: db.name.clone(),
                    dir,
                };
            }
            Backend::MariaDb => {
                let admin = mysql_admin_url();
                let mut conn = sqlx::MySqlConnection::connect(&admin).await.unwrap_or_else(|e| {
                    panic!(
                        "MariaDB is not reachable at {admin} ({e}); start it with \
                         `start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd` \
                         or set RETENTIOND_TEST_MYSQL_URL"
                    )
                });
                conn.execute(sqlx::AssertSqlSafe(format!(
                    "CREATE DATABASE {name} CHARACTER SET utf8mb4"
                )))
                .await
                .expect("create database");
                let base = admin
                    .rsplit_once('/')
                    .map_or(admin.as_str(), |(b, _)| b)
                    .to_string();
                format!("{base}/{name}")
            }
            Backend::Sqlite => {
                let path = dir.path().join("shop.db");
                let opts = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(&path)
                    .create_if_missing(true);
                let c = sqlx::SqliteConnection::connect_with(&opts)
                    .await
                    .expect("create sqlite file");
                drop(c);
                format!("sqlite://{}", path.display())
            }
        };
        TestDb {
            backend,
            url,
            name,
            dir,
        }
    }

    async fn conn(&self) -> Conn {
        match self.backend {
            Backend::Postgres => Conn::Pg(
                sqlx::PgConnection::connect(&self.url)
                    .await
                    .expect("connect"),
            ),
            Backend::MariaDb => Conn::My(
                sqlx::MySqlConnection::connect(&self.url)
                    .await
                    .expect("connect"),
            ),
            Backend::Sqlite => Conn::Lite(
                sqlx::SqliteConnection::connect(&self.url)
                    .await
                    .expect("connect"),
            ),
        }
    }

    /// Runs setup SQL, statement by statement (split on `;` at line ends).
    pub async fn exec(&self, sql: &str) {
        let mut c = self.conn().await;
        for stmt in sql.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
            let q = sqlx::AssertSqlSafe(stmt.to_string());
            let r = match &mut c {
                Conn::Pg(c) => c.execute(q).await.map(|_| ()),
                Conn::My(c) => c.execute(q).await.map(|_| ()),
                Conn::Lite(c) => c.execute(q).await.map(|_| ()),
            };
            r.unwrap_or_else(|e| panic!("{stmt}: {e}"));
        }
    }

    /// Every row of a query, each value cast to text in SQL (NULL stays None).
    pub async fn rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        use sqlx::Row;
        let mut c = self.conn().await;
        let q = || sqlx::AssertSqlSafe(sql.to_string());
        macro_rules! fetch {
            ($c:expr) => {{
                let rows = sqlx::query(q())
                    .fetch_all($c)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                rows.iter()
                    .map(|r| {
                        (0..r.len())
                            .map(|i| {
                                r.try_get::<Option<String>, _>(i)
                                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
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

    pub async fn scalar(&self, sql: &str) -> i64 {
        let v = self
            .rows(&format!("SELECT CAST(({sql}) AS {})", self.text_type()))
            .await;
        v.first()
            .and_then(|r| r.first().cloned().flatten())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{sql}: no number"))
    }

    /// The type name for casting to text in this dialect.
    pub fn text_type(&self) -> &'static str {
        match self.backend {
            Backend::MariaDb => "CHAR",
            _ => "TEXT",
        }
    }

    /// All rows of the tables, as text: equal before and after means nothing changed.
    pub async fn snapshot(&self, tables: &[&str]) -> Vec<Vec<Option<String>>> {
        let mut out = Vec::new();
        for t in tables {
            let cols = self.columns(t).await;
            let list: Vec<String> = cols
                .iter()
                .map(|c| format!("CAST({c} AS {})", self.text_type()))
                .collect();
            out.push(vec![Some(format!("table {t}"))]);
            out.extend(
                self.rows(&format!("SELECT {} FROM {t} ORDER BY 1", list.join(", ")))
                    .await,
            );
        }
        out
    }

    async fn columns(&self, table: &str) -> Vec<String> {
        let sql = match self.backend {
            Backend::Postgres => format!(
                "SELECT column_name::text FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '{table}' ORDER BY ordinal_position"
            ),
            Backend::MariaDb => format!(
                "SELECT CAST(COLUMN_NAME AS CHAR) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{table}' ORDER BY ORDINAL_POSITION"
            ),
            Backend::Sqlite => {
                format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid")
            }
        };
        self.rows(&sql)
            .await
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
            .collect()
    }

    /// Whether a table exists (e.g. retentiond's own, which plan and dry run must not create).
    pub async fn has_table(&self, table: &str) -> bool {
        let sql = match self.backend {
            Backend::Postgres => format!(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name = '{table}'"
            ),
            Backend::MariaDb => format!(
                "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{table}'"
            ),
            Backend::Sqlite => format!(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '{table}'"
            ),
        };
        self.scalar(&sql).await > 0
    }

    /// Column types for portable DDL.
    pub fn ts(&self) -> &'static str {
        match self.backend {
            Backend::MariaDb => "DATETIME",
            _ => "TIMESTAMP",
        }
    }

    pub fn text(&self) -> &'static str {
        match self.backend {
            Backend::MariaDb => "VARCHAR(255)",
            _ => "TEXT",
        }
    }

    /// A config file with this database, `[run] max_fraction = 1.0` unless `extra` sets it.
    pub fn config(&self, policies: &str, extra: &str) -> PathBuf {
        let run = if extra.contains("max_fraction") {
            String::new()
        } else {
            "max_fraction = 1.0\n".into()
        };
        let text = format!(
            "[database]\nurl = \"{}\"\n\n[run]\n{run}{extra}\n\n{policies}\n",
            self.url
        );
        write(self.dir.path(), "retentiond.toml", &text)
    }

    /// Runs the binary with this config; `now` fixes the cutoff (RFC 3339) in debug builds.
    pub fn cli(&self, config: &Path, args: &[&str], now: Option<&str>) -> std::process::Output {
        let mut c = bin();
        c.arg("--config")
            .arg(config)
            .args(args)
            .env("RETENTIOND_HASH__KEY", TEST_KEY);
        if let Some(now) = now {
            c.env("RETENTIOND_TEST_NOW", now);
        }
        c.output().expect("run retentiond")
    }

    pub async fn drop(self) {
        match self.backend {
            Backend::Postgres => {
                PgDb {
                    name: self.name.clone(),
                    url: self.url.clone(),
                }
                .drop()
                .await
            }
            Backend::MariaDb => {
                if let Ok(mut c) = sqlx::MySqlConnection::connect(&mysql_admin_url()).await {
                    let _ = c
                        .execute(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {}",
                            self.name
                        )))
                        .await;
                }
            }
            Backend::Sqlite => {}
        }
    }
}

pub const TEST_KEY: &str = "test-hmac-key-0123456789";

/// Asserts success and returns stdout.
pub fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// `plan --json` / `run --json`: the named policy's entry.
pub fn policy_json(stdout: &str, name: &str) -> serde_json::Value {
    let v: serde_json::Value =
        serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"));
    v["policies"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == name).cloned())
        .unwrap_or_else(|| panic!("no policy {name} in {stdout}"))
}

/// One `#[tokio::test]` per backend for a scenario `async fn(Backend)`.
#[macro_export]
macro_rules! on_every_database {
    ($scenario:ident) => {
        mod $scenario {
            #[tokio::test]
            async fn postgres() {
                super::$scenario($crate::support::Backend::Postgres).await
            }
            #[tokio::test]
            async fn mariadb() {
                super::$scenario($crate::support::Backend::MariaDb).await
            }
            #[tokio::test]
            async fn sqlite() {
                super::$scenario($crate::support::Backend::Sqlite).await
            }
        }
    };
}
