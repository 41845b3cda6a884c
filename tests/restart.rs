//! The database restarts in the middle of a daemon's run: that run stops cleanly (its instance
//! lock went with the cut connection; what it committed is audited, nothing is half done), the
//! daemon stays up, reconnects and the next scheduled run finishes the work. On a PostgreSQL and a MariaDB instance of the test's own
//! (started from the installed server binaries), so that restarting them disturbs no other test.

mod support;

use sqlx::{Connection, Executor, Row};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{bin, free_port, terminate, wait_exit, write};

const EXPIRED: i64 = 60_000;

/// A database server of this test alone, stopped when dropped.
struct Instance {
    kind: Kind,
    dir: PathBuf,
    port: u16,
    /// MariaDB runs in the foreground of this child.
    child: Option<Child>,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Postgres,
    MariaDb,
}

fn pg_bin(name: &str) -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL's server binaries in /usr/lib/postgresql (apt-get install postgresql)")
        .filter_map(Result::ok)
        .map(|e| e.path().join("bin").join(name))
        .filter(|p| p.exists())
        .collect();
    versions.sort();
    versions.pop().expect("a PostgreSQL server binary")
}

fn as_postgres(program: &Path) -> Command {
    let mut c = Command::new("runuser");
    c.args(["-u", "postgres", "--"]).arg(program);
    c
}

fn ok(mut c: Command, what: &str) {
    let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Instance {
    fn new(kind: Kind, root: &Path) -> Instance {
        let dir = root.join("data");
        std::fs::create_dir_all(&dir).expect("data directory");
        let port = free_port();
        match kind {
            Kind::Postgres => {
                // initdb refuses root; the server's own account runs it.
                ok(
                    {
                        let mut c = Command::new("chown");
                        c.args(["-R", "postgres:postgres"]).arg(root);
                        c
                    },
                    "chown the data directory",
                );
                let mut c = as_postgres(&pg_bin("initdb"));
                c.args(["-A", "trust", "-U", "postgres", "-D"]).arg(&dir);
                ok(c, "initdb");
            }
            Kind::MariaDb => {
                let mut c = Command::new("mariadb-install-db");
                c.args([
                    "--no-defaults",
                    "--user=root",
                    "--auth-root-authentication-method=normal",
                ])
                .arg(format!("--datadir={}", dir.display()));
                ok(c, "mariadb-install-db");
            }
        }
        let mut instance = Instance {
            kind,
            dir,
            port,
            child: None,
        };
        instance.start();
        instance
    }

    fn url(&self, database: &str) -> String {
        match self.kind {
            Kind::Postgres => format!("postgres://postgres@127.0.0.1:{}/{database}", self.port),
            Kind::MariaDb => format!("mysql://root@127.0.0.1:{}/{database}", self.port),
        }
    }

    fn start(&mut self) {
        match self.kind {
            Kind::Postgres => {
                let mut c = as_postgres(&pg_bin("pg_ctl"));
                c.arg("-D")
                    .arg(&self.dir)
                    .arg("-o")
                    .arg(format!(
                        "-p {} -k {} -c listen_addresses=127.0.0.1",
                        self.port,
                        self.dir.display()
                    ))
                    .args(["-w", "-l"])
                    .arg(self.dir.join("server.log"))
                    .arg("start");
                ok(c, "pg_ctl start");
            }
            Kind::MariaDb => {
                let child = Command::new("/usr/sbin/mariadbd")
                    .arg("--no-defaults")
                    .arg(format!("--datadir={}", self.dir.display()))
                    .arg(format!("--port={}", self.port))
                    .arg("--bind-address=127.0.0.1")
                    .arg(format!("--socket={}", self.dir.join("sock").display()))
                    .arg(format!("--pid-file={}", self.dir.join("pid").display()))
                    .arg("--user=root")
                    .arg("--innodb-buffer-pool-size=64M")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("start mariadbd");
                self.child = Some(child);
                let deadline = Instant::now() + Duration::from_secs(60);
                while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
                    assert!(Instant::now() < deadline, "mariadbd did not start");
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    }

    /// Stops the server as an administrator would (connections are cut), then starts it.
    fn restart(&mut self) {
        match self.kind {
            Kind::Postgres => {
                let mut c = as_postgres(&pg_bin("pg_ctl"));
                c.arg("-D")
                    .arg(&self.dir)
                    .args(["-m", "fast", "-w", "stop"]);
                ok(c, "pg_ctl stop");
            }
            Kind::MariaDb => {
                if let Some(child) = self.child.take() {
                    let mut child = child;
                    terminate(&child);
                    wait_exit(&mut child, Duration::from_secs(60)).expect("mariadbd stops");
                }
            }
        }
        std::thread::sleep(Duration::from_secs(1));
        self.start();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        match self.kind {
            Kind::Postgres => {
                let _ = as_postgres(&pg_bin("pg_ctl"))
                    .arg("-D")
                    .arg(&self.dir)
                    .args(["-m", "immediate", "stop"])
                    .output();
            }
            Kind::MariaDb => {
                if let Some(mut child) = self.child.take() {
                    let _ = child.kill();
                    let _ = child.wait();
                }
            }
        }
    }
}

async fn exec(kind: Kind, url: &str, sql: &str) {
    macro_rules! on {
        ($conn:ty) => {{
            let mut c = <$conn>::connect(url).await.expect("connect");
            for stmt in sql.split(";\n") {
                c.execute(sqlx::AssertSqlSafe(stmt.to_string()))
                    .await
                    .unwrap_or_else(|e| panic!("{stmt}: {e}"));
            }
        }};
    }
    match kind {
        Kind::Postgres => on!(sqlx::PgConnection),
        Kind::MariaDb => on!(sqlx::MySqlConnection),
    }
}

/// A count, or None while the server is away.
async fn count(kind: Kind, url: &str, sql: &str) -> Option<i64> {
    macro_rules! on {
        ($conn:ty) => {{
            let mut c = <$conn>::connect(url).await.ok()?;
            let row = c
                .fetch_one(sqlx::AssertSqlSafe(sql.to_string()))
                .await
                .ok()?;
            row.try_get::<i64, _>(0).ok()
        }};
    }
    match kind {
        Kind::Postgres => on!(sqlx::PgConnection),
        Kind::MariaDb => on!(sqlx::MySqlConnection),
    }
}

async fn wait_for(kind: Kind, url: &str, sql: &str, done: impl Fn(i64) -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if count(kind, url, sql).await.is_some_and(&done) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn restart_mid_run(kind: Kind) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut server = Instance::new(kind, tmp.path());
    let admin = server.url(if kind == Kind::Postgres {
        "postgres"
    } else {
        "mysql"
    });
    exec(kind, &admin, "CREATE DATABASE shop").await;
    let url = server.url("shop");
    let (ts, series) = match kind {
        Kind::Postgres => (
            "TIMESTAMP",
            format!("SELECT g, '2020-01-01 10:00:00' FROM generate_series(1, {EXPIRED}) g"),
        ),
        Kind::MariaDb => (
            "DATETIME",
            format!("SELECT seq, '2020-01-01 10:00:00' FROM seq_1_to_{EXPIRED}"),
        ),
    };
    exec(
        kind,
        &url,
        &format!(
            "CREATE TABLE messages (id BIGINT PRIMARY KEY, sent_at {ts} NOT NULL);\nINSERT INTO messages (id, sent_at) {series}"
        ),
    )
    .await;
    // Small batches without pauses: the run is long, and nearly always inside a statement, so
    // that the restart cuts it (between batches a pool would just reconnect).
    let cfg = write(
        tmp.path(),
        "r.toml",
        &format!(
            "[database]\nurl = \"{url}\"\n[run]\nmax_fraction = 1.0\nbatch_size = 100\npause_factor = 0.0\n\
             [schedule]\ncron = \"*/2 * * * * *\"\n\n[[policies]]\nname = \"old-mail\"\ntable = \"messages\"\n\
             since = \"sent_at\"\nretain = \"6 months\"\naction = \"delete\"\nbasis = \"test\"\n"
        ),
    );
    let mut daemon = bin()
        .arg("--config")
        .arg(&cfg)
        .arg("daemon")
        .stdout(std::fs::File::create(tmp.path().join("daemon.out")).expect("log file"))
        .stderr(std::fs::File::create(tmp.path().join("daemon.err")).expect("log file"))
        .spawn()
        .expect("start the daemon");

    let left = "SELECT COUNT(*) FROM messages";
    wait_for(
        kind,
        &url,
        left,
        |n| n < EXPIRED - 2000,
        "the purge to start",
    )
    .await;
    server.restart();
    assert!(
        count(kind, &url, left).await.is_some_and(|n| n > 0),
        "the restart came before the purge had finished"
    );
    wait_for(
        kind,
        &url,
        left,
        |n| n == 0,
        "the purge to finish after the restart",
    )
    .await;
    wait_for(
        kind,
        &url,
        "SELECT COUNT(*) FROM retentiond_runs WHERE status = 'ok'",
        |n| n >= 1,
        "a run to be recorded as ok",
    )
    .await;
    assert!(
        daemon.try_wait().expect("daemon status").is_none(),
        "the daemon stayed up through the restart"
    );
    let audited = count(
        kind,
        &url,
        "SELECT CAST(COALESCE(SUM(rows_affected), 0) AS SIGNED) FROM retentiond_audit"
            .replace(
                "SIGNED",
                if kind == Kind::Postgres {
                    "BIGINT"
                } else {
                    "SIGNED"
                },
            )
            .as_str(),
    )
    .await;
    assert_eq!(audited, Some(EXPIRED), "every deleted row is audited once");
    let interrupted = count(
        kind,
        &url,
        "SELECT COUNT(*) FROM retentiond_runs WHERE status IN ('stopped', 'failed', 'abandoned')",
    )
    .await;
    terminate(&daemon);
    let status = wait_exit(&mut daemon, Duration::from_secs(30)).expect("the daemon stops");
    let logs = ["daemon.err", "daemon.out"]
        .map(|f| std::fs::read_to_string(tmp.path().join(f)).unwrap_or_default())
        .concat();
    assert!(
        interrupted.is_some_and(|n| n >= 1),
        "the run cut by the restart is recorded as stopped, failed or abandoned:\n{logs}"
    );
    assert!(status.success(), "exit {status:?}:\n{logs}");
    assert!(
        logs.contains("lost the instance lock") || logs.contains("the run did not complete"),
        "the cut run is reported:\n{logs}"
    );
    assert_eq!(
        logs.matches("panicked").count(),
        0,
        "no panic in the logs:\n{logs}"
    );
}

#[tokio::test]
async fn postgres_restart_mid_run() {
    restart_mid_run(Kind::Postgres).await
}

#[tokio::test]
async fn mariadb_restart_mid_run() {
    restart_mid_run(Kind::MariaDb).await
}
