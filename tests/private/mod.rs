//! Database servers of one test's own, in a temporary directory on a free port: a PostgreSQL
//! primary and its streaming standby, a MariaDB primary with a binary log and its replica.
//! What retentiond measures on them (WAL written, replica lag) then belongs to that test alone,
//! not to whatever else runs on the shared servers.
//!
//! The tests run as root; the servers run as their system users (`postgres`, `mysql`), which
//! own the directories. A machine without the binaries or those users gives the reason, and the
//! test says it is skipped.

#![allow(dead_code)]

use sqlx::{Connection, Executor, Row};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian puts a PostgreSQL major version's server binaries.
const PG_LIB: &str = "/usr/lib/postgresql";

/// Why a test cannot run here, printed by the test that skips.
pub type Skip = String;

/// Prints why the test is skipped, so that a skip never passes silently: straight to the
/// process's stderr, which the test harness does not capture (`eprintln!` it would).
pub fn skipped(test: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}

pub use crate::common::OLD_MAIL;

/// A config file `name.toml` in `dir`: `[database] url`, `[run]` with `max_fraction = 1.0`
/// and `run`, the `OLD_MAIL` policy, then `extra` sections.
pub fn config(dir: &Path, name: &str, url: &str, run: &str, extra: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    let text = format!(
        "[database]\nurl = \"{url}\"\n\n[run]\nmax_fraction = 1.0\n{run}\n\n{OLD_MAIL}\n{extra}\n"
    );
    std::fs::write(&path, text).expect("write the config");
    path
}

/// Waits until `done` (asked every 100 ms), at most 20 s.
pub async fn eventually(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done().await {
        assert!(Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Statements separated by `;` at the end of a line.
fn statements(sql: &str) -> impl Iterator<Item = String> {
    sql.split(";\n")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect::<Vec<_>>()
        .into_iter()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn has_user(user: &str) -> bool {
    Command::new("id")
        .arg("-u")
        .arg(user)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `cmd` as `user`, with its output on failure.
fn run_as(user: &str, program: &Path, args: &[&str]) -> Result<(), Skip> {
    let out = Command::new("runuser")
        .args(["-u", user, "--"])
        .arg(program)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {} as {user}: {e}", program.display()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} {} failed: {}{}",
            program.display(),
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A temporary directory the server's user owns.
fn owned_dir(user: &str) -> Result<tempfile::TempDir, Skip> {
    let dir = tempfile::Builder::new()
        .prefix("rd-srv-")
        .tempdir()
        .map_err(|e| format!("no temporary directory: {e}"))?;
    let status = Command::new("chown")
        .arg(format!("{user}:"))
        .arg(dir.path())
        .status()
        .map_err(|e| format!("chown: {e}"))?;
    if !status.success() {
        return Err(format!("cannot give {} to {user}", dir.path().display()));
    }
    Ok(dir)
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    f.write_all(text.as_bytes())
        .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// A private PostgreSQL server, stopped when dropped.
pub struct PgServer {
    dir: tempfile::TempDir,
    pub port: u16,
}

impl PgServer {
    /// The installed version's binary, the newest when there are several (the same server
    /// the shared one runs on a machine set up like CI).
    fn bin(name: &str) -> PathBuf {
        let newest = std::fs::read_dir(PG_LIB)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .max();
        match newest {
            Some(v) => Path::new(PG_LIB).join(v.to_string()).join("bin").join(name),
            None => Path::new(PG_LIB).join("bin").join(name),
        }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn usable() -> Result<(), Skip> {
        for b in ["initdb", "pg_ctl", "pg_basebackup", "postgres"] {
            if !Self::bin(b).exists() {
                return Err(format!("{} is not installed", Self::bin(b).display()));
            }
        }
        if !has_user("postgres") {
            return Err("there is no system user postgres to run the servers as".into());
        }
        Ok(())
    }

    /// A primary with `settings` (postgresql.conf lines) on top of a small, fast setup.
    pub fn primary(settings: &str) -> Result<PgServer, Skip> {
        Self::usable()?;
        let dir = owned_dir("postgres")?;
        let server = PgServer {
            port: free_port(),
            dir,
        };
        let data = server.data();
        let data_s = data.display().to_string();
        run_as(
            "postgres",
            &Self::bin("initdb"),
            &[
                "-D",
                &data_s,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )?;
        append(
            &data.join("postgresql.conf"),
            &format!(
                "\nport = {}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
                 wal_level = replica\nfsync = off\nmax_wal_senders = 4\n{settings}\n",
                server.port,
                server.dir.path().display()
            ),
        );
        server.start()?;
        Ok(server)
    }

    /// A streaming standby of this primary (`pg_basebackup -R`), named `name`.
    pub fn standby(&self, name: &str) -> Result<PgServer, Skip> {
        let dir = owned_dir("postgres")?;
        let standby = PgServer {
            port: free_port(),
            dir,
        };
        let data = standby.data();
        run_as(
            "postgres",
            &Self::bin("pg_basebackup"),
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-D",
                &data.display().to_string(),
                "-R",
                "-X",
                "stream",
                "--no-sync",
            ],
        )?;
        append(
            &data.join("postgresql.conf"),
            &format!(
                "\nport = {}\nunix_socket_directories = '{}'\ncluster_name = '{name}'\n",
                standby.port,
                standby.dir.path().display()
            ),
        );
        standby.start()?;
        Ok(standby)
    }

    fn start(&self) -> Result<(), Skip> {
        let log = self.dir.path().join("server.log");
        run_as(
            "postgres",
            &Self::bin("pg_ctl"),
            &[
                "-D",
                &self.data().display().to_string(),
                "-l",
                &log.display().to_string(),
                "-w",
                "-t",
                "30",
                "start",
            ],
        )
        .map_err(|e| format!("{e}\n{}", std::fs::read_to_string(&log).unwrap_or_default()))
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub async fn conn(&self) -> sqlx::PgConnection {
        sqlx::PgConnection::connect(&self.url())
            .await
            .unwrap_or_else(|e| panic!("connect to {}: {e}", self.url()))
    }

    /// Runs statements separated by `;\n`.
    pub async fn exec(&self, sql: &str) {
        let mut c = self.conn().await;
        for stmt in statements(sql) {
            let result = c.execute(sqlx::AssertSqlSafe(stmt.clone())).await;
            result.unwrap_or_else(|e| panic!("{stmt}: {e}"));
        }
    }

    /// A scalar query's value as text.
    pub async fn text(&self, sql: &str) -> Option<String> {
        let mut c = self.conn().await;
        let row = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_one(&mut c)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        row.try_get::<Option<String>, _>(0)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    pub async fn int(&self, sql: &str) -> i64 {
        let text = self
            .text(&format!("SELECT ({sql})::text"))
            .await
            .unwrap_or_else(|| panic!("{sql}: NULL"));
        text.parse()
            .unwrap_or_else(|e| panic!("{sql}: {text}: {e}"))
    }

    /// Bytes of WAL since 0/0.
    pub async fn wal_position(&self) -> i64 {
        self.int("pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint")
            .await
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(Self::bin("pg_ctl"))
            .args([
                "-D",
                &self.data().display().to_string(),
                "-m",
                "immediate",
                "stop",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// A private MariaDB server with a binary log, killed when dropped.
pub struct MariaDbServer {
    dir: tempfile::TempDir,
    pub port: u16,
    child: Child,
}

const MARIADBD: &str = "/usr/sbin/mariadbd";

impl MariaDbServer {
    fn socket(&self) -> PathBuf {
        self.dir.path().join("sock")
    }

    /// A server with `server_id` and a binary log, root without a password from 127.0.0.1.
    pub async fn start(server_id: u32) -> Result<MariaDbServer, Skip> {
        let install =
            which("mariadb-install-db").ok_or("mariadb-install-db is not installed".to_string())?;
        if !Path::new(MARIADBD).exists() {
            return Err(format!("{MARIADBD} is not installed"));
        }
        if !has_user("mysql") {
            return Err("there is no system user mysql to run the servers as".into());
        }
        let dir = owned_dir("mysql")?;
        let data = dir.path().join("data");
        run_as(
            "mysql",
            &install,
            &[
                "--no-defaults",
                &format!("--datadir={}", data.display()),
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
        )?;
        let port = free_port();
        let log = dir.path().join("server.log");
        let child = Command::new("runuser")
            .args(["-u", "mysql", "--", MARIADBD, "--no-defaults"])
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--socket={}", dir.path().join("sock").display()))
            .arg(format!("--pid-file={}", dir.path().join("pid").display()))
            .arg(format!("--log-error={}", log.display()))
            .arg(format!("--port={port}"))
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--server-id={server_id}"))
            .arg(format!("--log-bin={}", dir.path().join("binlog").display()))
            .arg("--binlog-format=ROW")
            .arg("--innodb-buffer-pool-size=64M")
            .arg("--innodb-log-file-size=48M")
            .arg("--skip-name-resolve")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {MARIADBD}: {e}"))?;
        let server = MariaDbServer { dir, port, child };
        let deadline = Instant::now() + Duration::from_secs(30);
        let socket_url = format!(
            "mysql://root@localhost/mysql?socket={}",
            server.socket().display()
        );
        loop {
            if let Ok(mut c) = sqlx::MySqlConnection::connect(&socket_url).await {
                // root@localhost only: the tests and retentiond come by TCP.
                for stmt in [
                    "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY ''",
                    "GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION",
                ] {
                    c.execute(stmt).await.map_err(|e| format!("{stmt}: {e}"))?;
                }
                break;
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{MARIADBD} did not answer within 30 s:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Ok(server)
    }

    pub fn url(&self, database: &str) -> String {
        format!("mysql://root@127.0.0.1:{}/{database}", self.port)
    }

    pub async fn conn(&self) -> sqlx::MySqlConnection {
        sqlx::MySqlConnection::connect(&self.url("mysql"))
            .await
            .unwrap_or_else(|e| panic!("connect to {}: {e}", self.url("mysql")))
    }

    /// Runs statements separated by `;\n`.
    pub async fn exec(&self, sql: &str) {
        let mut c = self.conn().await;
        for stmt in statements(sql) {
            let result = c.execute(sqlx::AssertSqlSafe(stmt.clone())).await;
            result.unwrap_or_else(|e| panic!("{stmt}: {e}"));
        }
    }

    pub async fn int(&self, sql: &str) -> i64 {
        let mut c = self.conn().await;
        let q = format!("SELECT CAST(({sql}) AS CHAR)");
        let row = sqlx::query(sqlx::AssertSqlSafe(q.clone()))
            .fetch_one(&mut c)
            .await
            .unwrap_or_else(|e| panic!("{q}: {e}"));
        let text: Option<String> = row.try_get(0).unwrap_or_else(|e| panic!("{q}: {e}"));
        let text = text.unwrap_or_else(|| panic!("{q}: NULL"));
        text.parse().unwrap_or_else(|e| panic!("{q}: {text}: {e}"))
    }

    /// Makes this server a replica of `primary`, replicating from its first binlog event.
    pub async fn replicate(&self, primary: &MariaDbServer) {
        self.exec(&format!(
            "CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = {}, MASTER_USER = 'root', \
             MASTER_PASSWORD = '', MASTER_USE_GTID = no;\nSTART SLAVE",
            primary.port
        ))
        .await;
    }
}

impl Drop for MariaDbServer {
    fn drop(&mut self) {
        // runuser passes the signal on to the server it runs.
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Ok(pid) = std::fs::read_to_string(self.dir.path().join("pid")) {
            let _ = Command::new("kill").arg("-9").arg(pid.trim()).status();
        }
    }
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(program))
            .find(|p| p.exists())
    })
}
