//! `run.max_replica_lag` against real replicas made by the test: a PostgreSQL standby
//! (`pg_basebackup -R`) whose replay the test pauses, a MariaDB replica whose SQL thread it
//! stops. While the replica is held back the run deletes nothing more and says it waits; once
//! the replica catches up the run finishes, and its report says how long it waited.

mod common;
#[path = "private/mod.rs"]
mod private;

use common::{NOW, at, cli_command};
use private::{MariaDbServer, PgServer, config, eventually, skipped};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const EXPIRED: i64 = 300;
const FRESH: i64 = 20;

/// A run in the background whose log lines are collected as they come.
struct Running {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Running {
    fn start(config: &Path) -> Running {
        let mut child = cli_command(config, &["run", "--json"], &at(NOW))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start retentiond");
        let err = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                lines.lock().expect("log").push(line);
            }
        });
        Running { child, log }
    }

    fn log(&self) -> String {
        self.log.lock().expect("log").join("\n")
    }

    /// Waits (at most `within`) until a log line contains `text`.
    async fn said(&self, text: &str, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if self.log().contains(text) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    /// The run's exit code and its JSON report; kills it after `within`.
    async fn finish(mut self, within: Duration) -> (Option<i32>, serde_json::Value, String) {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the run did not finish within {within:?}:\n{}", self.log());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let lines = self.log.clone();
        let out = self.child.wait_with_output().expect("the run's output");
        // The reader thread may still be taking the last lines.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let log = lines.lock().expect("log").join("\n");
        let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "no JSON report ({e}):\n{}\n{log}",
                String::from_utf8_lossy(&out.stdout)
            )
        });
        (out.status.code(), report, log)
    }
}

fn waited_ms(report: &serde_json::Value) -> u64 {
    report["policies"][0]["waited_for_replica_ms"]
        .as_u64()
        .unwrap_or_else(|| panic!("no waited_for_replica_ms in {report:#}"))
}

#[tokio::test]
async fn a_run_waits_while_a_postgres_standby_is_paused() {
    const TEST: &str = "a_run_waits_while_a_postgres_standby_is_paused";
    let primary = match PgServer::primary("") {
        Ok(pg) => pg,
        Err(why) => return skipped(TEST, &why),
    };
    let standby = match primary.standby("standby1") {
        Ok(s) => s,
        Err(why) => return skipped(TEST, &why),
    };
    primary
        .exec(&format!(
            "CREATE TABLE messages (id BIGINT PRIMARY KEY, sent_at TIMESTAMP NOT NULL);\n\
             INSERT INTO messages SELECT n, CASE WHEN n <= {EXPIRED} THEN TIMESTAMP '2020-01-01 10:00' \
             ELSE TIMESTAMP '2027-02-20 10:00' END FROM generate_series(1, {}) n",
            EXPIRED + FRESH
        ))
        .await;
    // The standby has everything so far, then stops replaying.
    eventually("the standby has the messages", async || {
        standby
            .int("SELECT count(*) FROM pg_class WHERE relname = 'messages'")
            .await
            > 0
            && standby.int("SELECT count(*) FROM messages").await == EXPIRED + FRESH
    })
    .await;
    let dir = tempfile::tempdir().expect("a directory");
    // 30 batches of 10 rows, 100 ms apart: 3 s unless the run waits. As a role of its own,
    // which sees the standbys' progress only with pg_read_all_stats.
    primary
        .exec(
            "CREATE ROLE shop LOGIN;\nGRANT USAGE, CREATE ON SCHEMA public TO shop;\n\
             GRANT SELECT, DELETE ON messages TO shop",
        )
        .await;
    let cfg = config(
        dir.path(),
        "lag",
        &primary.url().replace("postgres@", "shop@"),
        "batch_size = 10\npause = \"100ms\"\nwrite_budget = \"off\"\nmax_replica_lag = \"1s\"",
        "",
    );
    let out = common::run_cli(&cfg, &["run"], &at(NOW));
    let e = common::stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{e}");
    assert!(
        e.contains("run.max_replica_lag: this role may not see the standbys' progress in pg_stat_replication; grant it pg_read_all_stats"),
        "{e}"
    );
    assert_eq!(
        primary.int("SELECT count(*) FROM messages").await,
        EXPIRED + FRESH
    );
    primary.exec("GRANT pg_read_all_stats TO shop").await;
    eventually("the standby has the grant", async || {
        standby
            .int("SELECT count(*) FROM pg_auth_members WHERE member = 'shop'::regrole")
            .await
            > 0
    })
    .await;
    standby.exec("SELECT pg_wal_replay_pause()").await;
    let run = Running::start(&cfg);
    assert!(
        run.said(
            "waiting for the replica: standby \"standby1\" is",
            Duration::from_secs(20)
        )
        .await,
        "the run never said it waits for the paused standby:\n{}",
        run.log()
    );
    let left = primary.int("SELECT count(*) FROM messages").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        primary.int("SELECT count(*) FROM messages").await,
        left,
        "the run went on deleting while the standby was paused:\n{}",
        run.log()
    );
    assert!(
        left > FRESH,
        "the run finished before the standby fell behind"
    );
    assert!(
        run.log().contains("more than run.max_replica_lag (1.0 s)"),
        "{}",
        run.log()
    );
    standby.exec("SELECT pg_wal_replay_resume()").await;
    let (code, report, log) = run.finish(Duration::from_secs(30)).await;
    eprintln!("{log}");
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(primary.int("SELECT count(*) FROM messages").await, FRESH);
    assert_eq!(
        primary
            .int(&format!(
                "SELECT count(*) FROM messages WHERE id <= {EXPIRED}"
            ))
            .await,
        0
    );
    assert!(
        waited_ms(&report) >= 3_000,
        "the report says it waited {} ms",
        waited_ms(&report)
    );
    assert!(log.contains("done waiting for the replica"), "{log}");
}

#[tokio::test]
async fn a_run_waits_while_a_mariadb_replica_has_stopped_replicating() {
    const TEST: &str = "a_run_waits_while_a_mariadb_replica_has_stopped_replicating";
    let primary = match MariaDbServer::start(1).await {
        Ok(s) => s,
        Err(why) => return skipped(TEST, &why),
    };
    let replica = match MariaDbServer::start(2).await {
        Ok(s) => s,
        Err(why) => return skipped(TEST, &why),
    };
    replica.replicate(&primary).await;
    primary
        .exec(&format!(
            "CREATE DATABASE shop;\n\
             CREATE TABLE shop.messages (id BIGINT PRIMARY KEY, sent_at DATETIME NOT NULL);\n\
             INSERT INTO shop.messages SELECT seq, CASE WHEN seq <= {EXPIRED} THEN '2020-01-01 10:00:00' \
             ELSE '2027-02-20 10:00:00' END FROM seq_1_to_{}",
            EXPIRED + FRESH
        ))
        .await;
    eventually("the replica has the messages", async || {
        replica
            .int("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'shop' AND table_name = 'messages'")
            .await
            > 0
            && replica.int("SELECT count(*) FROM shop.messages").await == EXPIRED + FRESH
    })
    .await;
    replica.exec("STOP SLAVE SQL_THREAD").await;
    let dir = tempfile::tempdir().expect("a directory");
    let cfg = config(
        dir.path(),
        "lag",
        &primary.url("shop"),
        "batch_size = 10\nwrite_budget = \"off\"\nmax_replica_lag = \"5s\"",
        &format!("[replica]\nurl = \"{}\"", replica.url("mysql")),
    );
    let run = Running::start(&cfg);
    assert!(
        run.said(
            "waiting for the replica: replication is not running",
            Duration::from_secs(20)
        )
        .await,
        "the run never said it waits for the stopped replica:\n{}",
        run.log()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    // Stopped replication is behind, never "0 s": nothing past the first batch.
    assert_eq!(
        primary.int("SELECT count(*) FROM shop.messages").await,
        EXPIRED + FRESH - 10,
        "{}",
        run.log()
    );
    assert!(run.log().contains("SQL thread: No"), "{}", run.log());
    replica.exec("START SLAVE SQL_THREAD").await;
    let (code, report, log) = run.finish(Duration::from_secs(30)).await;
    eprintln!("{log}");
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(
        primary.int("SELECT count(*) FROM shop.messages").await,
        FRESH
    );
    assert!(waited_ms(&report) >= 2_000, "{report:#}");
}

/// A replica that cannot be reached when the run starts fails the run before it writes,
/// naming `[replica] url`.
#[tokio::test]
async fn an_unreachable_replica_fails_the_run_before_it_writes() {
    let db = common::TestDb::new(common::Backend::MariaDb).await;
    db.exec(
        "CREATE TABLE messages (id BIGINT PRIMARY KEY, sent_at DATETIME NOT NULL);\n\
             INSERT INTO messages VALUES (1, '2020-01-01 10:00:00'), (2, '2027-02-20 10:00:00')",
    )
    .await;
    let cfg = db.write_config(
        &format!(
            "{}\n[replica]\nurl = \"mysql://root@127.0.0.1:1/\"\n",
            private::OLD_MAIL
        ),
        "max_replica_lag = \"5s\"",
    );
    let out = common::run_cli(&cfg, &["run"], &at(NOW));
    assert_eq!(out.status.code(), Some(1), "{}", common::stderr(&out));
    let e = common::stderr(&out);
    assert!(
        e.contains("cannot connect to mysql://root:***@127.0.0.1:1/ ([replica] url)"),
        "{e}"
    );
    assert_eq!(db.count("messages").await, 2);
}
