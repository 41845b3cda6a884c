//! Faults: a run killed with SIGKILL at random moments and at the worst places (before the
//! first batch, with a batch written but not committed, after the last batch but before the
//! run is recorded) leaves no half-applied batch, an audit trail that sums to what changed and
//! still verifies, and a next run that finishes the work and marks the dead runs abandoned.
//! Rows locked by the application make batches time out, retry and stop with the reason,
//! never wait forever; a row that stops being expired while its batch is under way is kept.
//! On PostgreSQL, MariaDB and SQLite.

mod common;

use common::{
    Backend, Moments, NOW, OLD_MAIL, TestDb, at, cli_command, expect_exit, kill, run_after_kills,
    run_cli, start_stalled, stderr,
};
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const EXPIRED: i64 = 200_000;
const FRESH: i64 = 1_000;
const LEFT: i64 = 5_000;
const CUSTOMERS: i64 = 6_000;

/// 6000 customers (5000 left in 2019) and 201 000 messages (200 000 from 2020).
async fn shop(db: &TestDb) {
    let (ts, text) = (db.ts_type(), db.text_type());
    let concat = |a: &str, b: &str| match db.backend {
        Backend::MariaDb => format!("CONCAT({a}, {b})"),
        _ => format!("{a} || {b}"),
    };
    let n = db.cast_text("n");
    // SQLite keeps timestamps as ISO text; a cast would turn them into numbers.
    let typed = |v: &str| match db.backend {
        Backend::Sqlite => v.to_string(),
        _ => format!("CAST({v} AS {ts})"),
    };
    db.exec(&format!(
        "{}CREATE TABLE customers (id BIGINT PRIMARY KEY, name {text} NOT NULL, email {text} NOT NULL, left_at {ts} NULL);
CREATE TABLE messages (id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL, sent_at {ts} NOT NULL);
INSERT INTO customers (id, name, email, left_at) WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {CUSTOMERS}) SELECT n, {}, {}, CASE WHEN n <= {LEFT} THEN {} END FROM s;
INSERT INTO messages (id, customer_id, sent_at) WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {}) SELECT n, 1 + n % {CUSTOMERS}, {} FROM s",
        deep_recursion(db),
        concat("'Customer '", &n),
        concat(&n, "'@example.nl'"),
        typed("'2019-01-01 00:00:00'"),
        EXPIRED + FRESH,
        typed(&format!(
            "CASE WHEN n <= {EXPIRED} THEN '2020-01-01 10:00:00' ELSE '2027-02-20 10:00:00' END"
        )),
    ))
    .await;
}

const FORMER_CUSTOMERS: &str = r#"
[[policies]]
name = "former-customers"
table = "customers"
since = "left_at"
retain = "1 year"
action = "anonymize"
columns = { name = "redact", email = "hash" }
basis = "test"
"#;

/// MariaDB stops recursive CTEs after 1000 rows unless told otherwise.
fn deep_recursion(db: &TestDb) -> &'static str {
    match db.backend {
        Backend::MariaDb => "SET SESSION max_recursive_iterations = 10000000;\n",
        _ => "",
    }
}

async fn audited(db: &TestDb, policy: &str) -> i64 {
    if !db.has_table("retentiond_audit").await {
        return 0;
    }
    db.scalar_i64(&format!(
        "SELECT COALESCE(SUM(rows_affected), 0) FROM retentiond_audit WHERE policy = '{policy}'"
    ))
    .await
}

/// What must hold whenever no run is active: every change is a whole batch with its audit row.
async fn consistent(db: &TestDb, when: &str) -> (i64, i64) {
    let deleted = EXPIRED + FRESH - db.count("messages").await;
    assert_eq!(
        deleted,
        audited(db, "old-mail").await,
        "{when}: deleted messages and the audit trail disagree"
    );
    assert_eq!(
        db.scalar_i64("SELECT COUNT(*) FROM messages WHERE sent_at > '2027-01-01 00:00:00'")
            .await,
        FRESH,
        "{when}: a message that had not expired was deleted"
    );
    let redacted = db
        .scalar_i64("SELECT COUNT(*) FROM customers WHERE name = 'redacted'")
        .await;
    let hashed = db
        .scalar_i64("SELECT COUNT(*) FROM customers WHERE email NOT LIKE '%@%'")
        .await;
    assert_eq!(
        redacted, hashed,
        "{when}: a customer is half anonymized (name and e-mail disagree)"
    );
    assert_eq!(
        redacted,
        audited(db, "former-customers").await,
        "{when}: anonymized customers and the audit trail disagree"
    );
    assert_eq!(
        db.scalar_i64(&format!(
            "SELECT COUNT(*) FROM customers WHERE name = 'redacted' AND id > {LEFT}"
        ))
        .await,
        0,
        "{when}: a current customer was anonymized"
    );
    (deleted, redacted)
}

fn start(cfg: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Child {
    cli_command(cfg, args, env)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start retentiond")
}

/// Waits until the run has said "run started", then keeps reading its stderr so that the run
/// never blocks on a full pipe.
fn started(mut child: Child, when: &str) -> Child {
    let err = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut said = Vec::new();
    while !said
        .last()
        .is_some_and(|l: &String| l.contains("run started"))
    {
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(line) => said.push(line),
            Err(_) => panic!("{when}: the run never started:\n{}", said.join("\n")),
        }
    }
    // Drained by the reader thread from here on (its sends fail once `rx` is gone).
    std::thread::spawn(move || rx.into_iter().for_each(drop));
    child
}

async fn killed_runs_leave_no_half_batch(b: Backend) {
    let db = TestDb::new(b).await;
    shop(&db).await;
    // Small batches with a short pause: the purge takes long enough for random kills to land
    // throughout it.
    let cfg = db.write_config(
        &format!("{FORMER_CUSTOMERS}{OLD_MAIL}"),
        "pause_factor = 0.0\npause = \"10ms\"\nbatch_size = 250",
    );
    let now = at(NOW);

    let mut mid_purge = 0;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64 | 1);
    let mut moments = Moments(seed);
    let everything = &["run"][..];
    let anonymize = &["run", "--policy", "former-customers"][..];
    // Fixed points before any work and in the middle of a batch of each kind, random moments
    // through the anonymization and then through everything, and one point after all work.
    let mut plan: Vec<(&str, Option<&str>, &[&str])> = vec![
        ("before-first-batch", Some("before-first-batch"), everything),
        ("anonymize, before-commit", Some("before-commit"), anonymize),
        ("delete, before-commit", Some("before-commit"), everything),
    ];
    plan.extend((0..6).map(|_| ("random, anonymize", None, anonymize)));
    plan.extend((0..20).map(|_| ("random", None, everything)));
    plan.push(("before-run-record", Some("before-run-record"), everything));
    for (k, (what, stall, args)) in plan.into_iter().enumerate() {
        let when = format!("kill {} ({what}, seed {seed})", k + 1);
        let Some(point) = stall else {
            // Counted from the run's start, not the process's: checking the config against the
            // schema (on SQLite, reading every clock value) takes a varying while before it.
            let child = started(start(&cfg, args, &now), &when);
            std::thread::sleep(Duration::from_millis(moments.next_ms(1, 1100)));
            kill(child);
            let (deleted, redacted) = consistent(&db, &when).await;
            if (deleted > 0 && deleted < EXPIRED) || (redacted > 0 && redacted < LEFT) {
                mid_purge += 1;
            }
            eprintln!("{when}: {deleted} messages deleted, {redacted} customers anonymized");
            continue;
        };
        // The run says when it has reached the point, then waits there to be killed.
        let env = [now[0], ("RETENTIOND_TEST_STALL", point)];
        let mut child = start(&cfg, args, &env);
        let err = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut said = Vec::new();
        while !said
            .last()
            .is_some_and(|l: &String| l.contains("stalled at"))
        {
            match rx.recv_timeout(Duration::from_secs(120)) {
                Ok(line) => said.push(line),
                Err(_) => panic!("the run never reached {point}:\n{}", said.join("\n")),
            }
        }
        kill(child);
        let (deleted, redacted) = consistent(&db, &when).await;
        eprintln!("{when}: {deleted} messages deleted, {redacted} customers anonymized");
    }
    assert!(
        mid_purge >= 10,
        "at least a few kills should land while the purge is under way (only {mid_purge} did)"
    );

    // The next run finishes the work.
    run_after_kills(&cfg, &now);
    assert_eq!(
        consistent(&db, "after the final run").await,
        (EXPIRED, LEFT)
    );
    expect_exit(&run_cli(&cfg, &["audit", "verify"], &now), 0);
    assert_eq!(
        db.scalar_i64("SELECT COUNT(*) FROM retentiond_runs WHERE status = 'running'")
            .await,
        0,
        "every killed run is marked"
    );
    let abandoned = db
        .scalar_i64("SELECT COUNT(*) FROM retentiond_runs WHERE status = 'abandoned'")
        .await;
    assert!(
        abandoned >= 3,
        "the three runs killed at fixed points are recorded as abandoned (found {abandoned})"
    );
}

/// A row the application keeps locked: the purge's batch times out, retries with backoff and
/// stops with the reason, in bounded time; the rows before it are purged, the rest later.
async fn locked_rows_time_out_and_stop_with_the_reason(b: Backend) {
    let db = TestDb::new(b).await;
    let ts = db.ts_type();
    db.exec(&format!(
        "{}CREATE TABLE messages (id BIGINT PRIMARY KEY, sent_at {ts} NOT NULL);
INSERT INTO messages (id, sent_at) WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 3000) SELECT n, '2020-01-01 10:00:00' FROM s",
        deep_recursion(&db)
    ))
    .await;
    let cfg = db.write_config(
        OLD_MAIL,
        "lock_timeout = \"300ms\"\nbatch_size = 1000\npause_factor = 0.0",
    );
    // Own tables first, so that on SQLite the lock below meets a batch and not the setup.
    expect_exit(&run_cli(&cfg, &["install"], &[]), 0);

    let app = db.url().to_string();
    let (hold_tx, hold_rx) = std::sync::mpsc::channel::<()>();
    let (locked_tx, locked_rx) = std::sync::mpsc::channel::<()>();
    let backend = b;
    let holder = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            use sqlx::Connection;
            macro_rules! hold {
                ($conn:ty, $begin:expr, $lock:expr) => {{
                    let mut c = <$conn>::connect(&app)
                        .await
                        .expect("application connection");
                    sqlx::raw_sql($begin).execute(&mut c).await.expect("begin");
                    sqlx::raw_sql($lock).execute(&mut c).await.expect("lock");
                    let _ = locked_tx.send(());
                    let _ = hold_rx.recv_timeout(Duration::from_secs(120));
                    sqlx::raw_sql("COMMIT")
                        .execute(&mut c)
                        .await
                        .expect("commit");
                }};
            }
            let lock_row = "UPDATE messages SET sent_at = sent_at WHERE id = 1500";
            match backend {
                Backend::Postgres => hold!(sqlx::PgConnection, "BEGIN", lock_row),
                Backend::MariaDb => hold!(sqlx::MySqlConnection, "BEGIN", lock_row),
                Backend::Sqlite => hold!(sqlx::SqliteConnection, "BEGIN IMMEDIATE", lock_row),
            }
        })
    });
    locked_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the application took its lock");

    let started = Instant::now();
    let out = run_cli(&cfg, &["run"], &at(NOW));
    let took = started.elapsed();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "a stopped run exits 1:\n{err}");
    assert!(
        err.contains("lock timeout") || err.contains("locked"),
        "the reason is named:\n{err}"
    );
    assert!(
        took < Duration::from_secs(60),
        "the run gave up in bounded time (took {took:?})"
    );
    let left = db.count("messages").await;
    assert_eq!(
        3000 - left,
        audited(&db, "old-mail").await,
        "what was deleted is what the audit trail says"
    );
    if b != Backend::Sqlite {
        // Row locks: the batch before the locked row went through.
        assert_eq!(
            left, 2000,
            "the first batch was purged, the locked one was not"
        );
        let reason = db
            .scalar_opt_string(
                "SELECT stop_reason FROM retentiond_runs WHERE id = (SELECT MAX(id) FROM retentiond_runs)",
            )
            .await
            .unwrap_or_default();
        assert!(
            reason.contains("lock timeout"),
            "the run is recorded as stopped by a lock timeout: {reason:?}"
        );
    }

    let _ = hold_tx.send(());
    holder.join().expect("the application thread");
    expect_exit(&run_cli(&cfg, &["run"], &at(NOW)), 0);
    assert_eq!(db.count("messages").await, 0);
}

/// Messages 1 to 100, all long expired under OLD_MAIL.
async fn hundred_old_messages(db: &TestDb) {
    db.exec(&format!(
        "{}CREATE TABLE messages (id BIGINT PRIMARY KEY, sent_at {} NOT NULL);
INSERT INTO messages (id, sent_at) WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 100) SELECT n, '2020-01-01 10:00:00' FROM s",
        deep_recursion(db),
        db.ts_type()
    ))
    .await;
}

/// A record that stops being expired between a batch's selection and its write (the
/// customer came back, the row was touched) is kept: the write repeats the whole predicate.
/// SQLite cannot get there: the batch holds the database's write lock from its first read.
async fn a_record_that_stops_expiring_mid_batch_is_kept(b: Backend) {
    let db = TestDb::new(b).await;
    hundred_old_messages(&db).await;
    let cfg = db.write_config(OLD_MAIL, "");
    let (mut child, resume) = start_stalled(&db, &cfg, &["run"], "after-select");
    db.exec("UPDATE messages SET sent_at = '2027-02-25 10:00:00' WHERE id = 50")
        .await;
    std::fs::write(&resume, "").expect("resume the run");
    let status = child.wait().expect("the run ends");
    assert!(status.success(), "the run succeeds: {status:?}");
    assert_eq!(db.ids("messages").await, vec![50]);
    assert_eq!(audited(&db, "old-mail").await, 99);
}

on_server_backends!(a_record_that_stops_expiring_mid_batch_is_kept);

/// A run walks the keys up to the highest one that was expired when it counted them, and no
/// further: a record beyond it that expires while the run goes on is left for the next run,
/// and the run's backlog says so.
async fn a_record_expiring_beyond_the_walk_is_the_next_runs(b: Backend) {
    let db = TestDb::new(b).await;
    hundred_old_messages(&db).await;
    db.exec("INSERT INTO messages (id, sent_at) VALUES (500, '2027-02-25 10:00:00')")
        .await;
    let cfg = db.write_config(OLD_MAIL, "");
    let (child, resume) = start_stalled(&db, &cfg, &["run", "--json"], "after-select");
    db.exec("UPDATE messages SET sent_at = '2020-01-01 10:00:00' WHERE id = 500")
        .await;
    std::fs::write(&resume, "").expect("resume the run");
    let out = child.wait_with_output().expect("the run ends");
    assert!(out.status.success(), "the run succeeds:\n{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the JSON report");
    assert_eq!(
        common::field(&report, "old-mail", "affected"),
        100,
        "{report:#}"
    );
    assert_eq!(
        common::field(&report, "old-mail", "backlog"),
        1,
        "{report:#}"
    );
    assert_eq!(db.ids("messages").await, vec![500]);

    expect_exit(&run_cli(&cfg, &["run"], &at(NOW)), 0);
    assert_eq!(db.count("messages").await, 0, "the next run deletes it");
}

on_server_backends!(a_record_expiring_beyond_the_walk_is_the_next_runs);

/// The same inside one statement: the batch's write waits for a row the application has
/// locked and changed; when the application commits, the write re-checks that row in its new
/// version and keeps it. (PostgreSQL selects and writes a batch in one statement, so this is
/// its only mid-batch moment.)
async fn a_record_changed_while_its_batch_waits_for_it_is_kept(b: Backend) {
    let db = TestDb::new(b).await;
    hundred_old_messages(&db).await;
    let cfg = db.write_config(OLD_MAIL, "lock_timeout = \"60s\"");
    expect_exit(&run_cli(&cfg, &["install"], &[]), 0);
    let app = db
        .open_tx("UPDATE messages SET sent_at = '2027-02-25 10:00:00' WHERE id = 50")
        .await;
    let mut child = cli_command(&cfg, &["run"], &at(NOW))
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the run");
    let waited = Instant::now();
    while db.lock_waiters().await == 0 {
        if waited.elapsed() > Duration::from_secs(30) || child.try_wait().ok().flatten().is_some() {
            let _ = child.kill();
            let out = child.wait_with_output().expect("the run ends");
            panic!("the run never waited for the locked row:\n{}", stderr(&out));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.commit().await;
    let out = child.wait_with_output().expect("the run ends");
    assert!(out.status.success(), "the run succeeds:\n{}", stderr(&out));
    assert_eq!(db.ids("messages").await, vec![50]);
    assert_eq!(audited(&db, "old-mail").await, 99);
}

on_server_backends!(a_record_changed_while_its_batch_waits_for_it_is_kept);

on_every_backend!(
    killed_runs_leave_no_half_batch,
    locked_rows_time_out_and_stop_with_the_reason
);
