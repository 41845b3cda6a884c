//! The write budget: a run keeps the WAL it makes the server write within `run.write_budget`
//! per second, as the server reports it; `"off"` does not wait; `"auto"` is derived from the
//! server's settings and said; a value that is no budget is refused naming the key. The WAL is
//! measured on a PostgreSQL server of the test's own, which nothing else writes to.

mod common;
#[path = "private/mod.rs"]
mod private;

use common::{Backend, NOW, TestDb, at, cli_command, expect_exit, run_cli, stderr};
use private::{OLD_MAIL, PgServer, config, skipped};
use std::path::Path;
use std::time::Instant;

const EXPIRED: i64 = 3_000;
const FRESH: i64 = 50;

/// 3 000 expired messages of 300 bytes and 50 fresh ones; retentiond's own tables made by a
/// run that finds nothing, so that the measured run writes only its purge.
async fn mailbox(pg: &PgServer, dir: &Path) {
    pg.exec(&format!(
        "CREATE TABLE messages (id BIGINT PRIMARY KEY, sent_at TIMESTAMP NOT NULL, body TEXT NOT NULL);\n\
         INSERT INTO messages SELECT n, CASE WHEN n <= {EXPIRED} THEN TIMESTAMP '2020-01-01 10:00' \
         ELSE TIMESTAMP '2027-02-20 10:00' END, repeat('x', 300) FROM generate_series(1, {}) n;\n\
         CHECKPOINT",
        EXPIRED + FRESH
    ))
    .await;
    // Years before NOW, when nothing had expired yet.
    let warm = config(dir, "warm", &pg.url(), "max_clock_jump = \"4000 days\"", "");
    expect_exit(&run_cli(&warm, &["run"], &at("2020-03-01T00:00:00Z")), 0);
}

/// Runs the purge with `run`; returns (WAL bytes written, seconds taken, stderr).
async fn measured_run(pg: &PgServer, dir: &Path, run: &str) -> (f64, f64, String) {
    let run = format!("max_clock_jump = \"4000 days\"\n{run}");
    let cfg = config(dir, "purge", &pg.url(), &run, "");
    let before = pg.wal_position().await;
    let started = Instant::now();
    let out = cli_command(
        &cfg,
        &["run"],
        &[at(NOW)[0], ("RUST_LOG", "retentiond=debug")],
    )
    .output()
    .expect("run retentiond");
    let took = started.elapsed().as_secs_f64();
    let written = (pg.wal_position().await - before) as f64;
    expect_exit(&out, 0);
    assert_eq!(pg.int("SELECT count(*) FROM messages").await, FRESH);
    (written, took, stderr(&out))
}

#[tokio::test]
async fn a_small_budget_keeps_the_wal_rate_within_it() {
    let pg = match PgServer::primary("autovacuum = off") {
        Ok(pg) => pg,
        Err(why) => return skipped("a_small_budget_keeps_the_wal_rate_within_it", &why),
    };
    let dir = tempfile::tempdir().expect("a directory");
    mailbox(&pg, dir.path()).await;
    let budget = 200.0 * 1024.0;
    let (written, took, log) = measured_run(
        &pg,
        dir.path(),
        "batch_size = 100\nwrite_budget = \"200 kB/s\"",
    )
    .await;
    let rate = written / took;
    eprintln!("wrote {written} bytes of WAL in {took:.2} s: {rate:.0} B/s");
    assert!(
        log.contains("write budget: 200 kB/s (run.write_budget)"),
        "the budget in use is logged:\n{log}"
    );
    assert!(
        log.contains("within the write budget"),
        "the run waited for the budget:\n{log}"
    );
    // Enough WAL that an unpaced run would be far over the budget.
    assert!(
        written > 2.0 * budget,
        "the purge wrote only {written} bytes"
    );
    assert!(
        rate <= budget * 1.2,
        "{rate:.0} B/s of WAL is more than the budget of {budget} B/s allows"
    );
}

#[tokio::test]
async fn write_budget_off_does_not_wait() {
    let pg = match PgServer::primary("autovacuum = off") {
        Ok(pg) => pg,
        Err(why) => return skipped("write_budget_off_does_not_wait", &why),
    };
    let dir = tempfile::tempdir().expect("a directory");
    mailbox(&pg, dir.path()).await;
    let (written, took, log) =
        measured_run(&pg, dir.path(), "batch_size = 100\nwrite_budget = \"off\"").await;
    eprintln!("wrote {written} bytes of WAL in {took:.2} s");
    assert!(
        log.contains("write budget: off (run.write_budget)"),
        "{log}"
    );
    assert!(
        !log.contains("within the write budget"),
        "a run without a budget waited for one:\n{log}"
    );
}

/// `auto` follows the server's settings, and `check` says what it came to and why.
#[tokio::test]
async fn auto_is_derived_from_max_wal_size_and_checkpoint_timeout() {
    let pg = match PgServer::primary("max_wal_size = 256MB\ncheckpoint_timeout = 2min") {
        Ok(pg) => pg,
        Err(why) => {
            return skipped(
                "auto_is_derived_from_max_wal_size_and_checkpoint_timeout",
                &why,
            );
        }
    };
    let dir = tempfile::tempdir().expect("a directory");
    pg.exec("CREATE TABLE messages (id BIGINT PRIMARY KEY, sent_at TIMESTAMP NOT NULL, body TEXT NOT NULL)")
        .await;
    let cfg = config(dir.path(), "auto", &pg.url(), "", "");
    let out = expect_exit(&run_cli(&cfg, &["check"], &[]), 0);
    // 256 MB / 1.9 starts a checkpoint; half of it in 120 s is 588 671 B/s.
    assert!(
        out.contains(
            "Write budget: auto: half of 256 MB max_wal_size / (1 + 0.9 checkpoint_completion_target) \
             per 2 min checkpoint_timeout → 575 kB/s."
        ),
        "{out}"
    );
}

#[tokio::test]
async fn auto_on_mariadb_follows_the_redo_log_and_sqlite_has_none() {
    let db = TestDb::new(Backend::MariaDb).await;
    db.exec("CREATE TABLE messages (id BIGINT PRIMARY KEY, sent_at DATETIME NOT NULL)")
        .await;
    let size = db.scalar_i64("SELECT @@innodb_log_file_size").await;
    let out = expect_exit(
        &run_cli(
            &db.write_config(OLD_MAIL, "write_budget = \"auto\""),
            &["check"],
            &[],
        ),
        0,
    );
    let mb = size / (1024 * 1024);
    assert!(
        out.contains(&format!("Write budget: auto: half of the {mb} MB redo log")),
        "{out}"
    );
    let lite = TestDb::new(Backend::Sqlite).await;
    lite.exec("CREATE TABLE messages (id INTEGER PRIMARY KEY, sent_at TEXT NOT NULL)")
        .await;
    let out = expect_exit(
        &run_cli(
            &lite.write_config(OLD_MAIL, "write_budget = \"auto\""),
            &["check"],
            &[],
        ),
        0,
    );
    assert!(out.contains("Write budget: auto: none on SQLite."), "{out}");
}

/// Values that are no budget, and pacing a dialect cannot measure, are config errors (exit
/// 2) that name the key and its line.
#[test]
fn what_cannot_pace_is_refused_naming_the_key() {
    let dir = tempfile::tempdir().expect("a directory");
    let refused = |name: &str, url: &str, run: &str, extra: &str| {
        let cfg = config(dir.path(), name, url, run, extra);
        let out = run_cli(&cfg, &["check"], &[]);
        expect_exit(&out, 2);
        stderr(&out)
    };
    let pg = "postgres://postgres@127.0.0.1:1/none";
    let e = refused("fast", pg, "write_budget = \"fast\"", "");
    assert!(
        e.contains("line 6, column 1: run.write_budget: \"fast\" is not a write budget"),
        "{e}"
    );
    assert!(
        e.contains("\"auto\", \"off\" or a rate such as \"2 MB/s\""),
        "{e}"
    );
    let e = refused("negative", pg, "write_budget = \"-1 MB/s\"", "");
    assert!(
        e.contains(
            "run.write_budget: \"-1 MB/s\" is not a write budget: a budget must be more than zero"
        ),
        "{e}"
    );
    let e = refused("lag", pg, "max_replica_lag = \"soon\"", "");
    assert!(
        e.contains("run.max_replica_lag: \"soon\" is not a duration"),
        "{e}"
    );
    let my = "mysql://root@127.0.0.1:1/none";
    let e = refused("no-replica", my, "max_replica_lag = \"5s\"", "");
    assert!(
        e.contains(
            "run.max_replica_lag: on MariaDB/MySQL needs the replica to ask: set [replica] url"
        ),
        "{e}"
    );
    let e = refused(
        "pg-replica",
        pg,
        "max_replica_lag = \"5s\"",
        "[replica]\nurl = \"mysql://r@replica/\"",
    );
    assert!(
        e.contains("replica.url: is for a MariaDB/MySQL replica"),
        "{e}"
    );
    let lite = dir.path().join("x.db");
    std::fs::write(&lite, "").expect("a file");
    let lite = format!("sqlite://{}", lite.display());
    let e = refused(
        "lite",
        &lite,
        "write_budget = \"2 MB/s\"\nmax_replica_lag = \"5s\"",
        "",
    );
    assert!(
        e.contains("run.write_budget: SQLite reports no write volume"),
        "{e}"
    );
    assert!(
        e.contains("run.max_replica_lag: SQLite has no replicas"),
        "{e}"
    );
}
