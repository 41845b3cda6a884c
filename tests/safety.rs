//! The brakes: a policy that would touch more than `max_fraction` (or `max_rows`) stops the
//! run before anything is written (exit 3) until `--force`; a second instance exits 4; a
//! clock that jumps stops the run. On PostgreSQL, MariaDB and SQLite.

mod common;

use common::{Backend, NOW, TestDb, at, expect_exit, field, json_ok, policy, run_cli, stderr};
use retentiond::db::lock::InstanceLock;

/// 50 messages, 40 of them (80%) past 6 months.
async fn messages(db: &TestDb) {
    let (id, ts) = (db.id_type(), db.ts_type());
    let mut sql = format!("CREATE TABLE messages (id {id} PRIMARY KEY, sent_at {ts} NOT NULL)");
    for m in 1..=50 {
        let sent = if m <= 40 {
            "2020-01-01 10:00:00"
        } else {
            "2027-02-20 10:00:00"
        };
        sql.push_str(&format!(";\nINSERT INTO messages VALUES ({m}, '{sent}')"));
    }
    db.exec(&sql).await;
}

const POLICY: &str = r#"
[[policies]]
name = "messages"
table = "messages"
since = "sent_at"
retain = "6 months"
action = "delete"
basis = "test"
"#;

async fn last_run_status(db: &TestDb) -> Option<String> {
    db.scalar_opt_string(
        "SELECT status FROM retentiond_runs WHERE id = (SELECT MAX(id) FROM retentiond_runs)",
    )
    .await
}

async fn max_fraction_stops_before_writing_until_forced(b: Backend) {
    let db = TestDb::new(b).await;
    messages(&db).await;
    let cfg = db.write_config(POLICY, "max_fraction = 0.5");
    let before = db.checksum_all().await;

    let plan = json_ok(&run_cli(&cfg, &["plan", "--json"], &at(NOW)));
    assert!(
        policy(&plan, "messages")["safety_stop"].is_string(),
        "the plan shows the stop: {plan:#}"
    );
    for args in [&["run"][..], &["run", "--dry-run"][..]] {
        let out = run_cli(&cfg, args, &at(NOW));
        expect_exit(&out, 3);
        let err = stderr(&out);
        assert!(
            err.contains(
                "policy \"messages\" would touch 40 of 50 rows of \"messages\" (80%), more than max_fraction = 0.5"
            ),
            "{args:?}: {err}"
        );
        assert!(
            err.contains("--force"),
            "the message says the way out: {err}"
        );
    }
    assert_eq!(db.checksum_all().await, before, "a safety stop wrote data");
    assert_eq!(db.count("retentiond_audit").await, 0);
    assert_eq!(last_run_status(&db).await.as_deref(), Some("stopped"));

    let run = json_ok(&run_cli(&cfg, &["run", "--json", "--force"], &at(NOW)));
    assert_eq!(field(&run, "messages", "affected"), 40, "{run:#}");
    assert_eq!(db.ids("messages").await, (41..=50).collect::<Vec<i64>>());
    assert_eq!(last_run_status(&db).await.as_deref(), Some("ok"));
}

/// `max_rows` stops the same way; a policy's own `max_fraction` overrides `[run]`.
async fn max_rows_and_per_policy_limits(b: Backend) {
    let db = TestDb::new(b).await;
    messages(&db).await;
    let before = db.checksum_all().await;
    let cfg = db.write_config(POLICY, "max_rows = 39");
    let out = run_cli(&cfg, &["run"], &at(NOW));
    expect_exit(&out, 3);
    assert!(
        stderr(&out).contains("would touch 40 rows of \"messages\", more than max_rows = 39"),
        "{}",
        stderr(&out)
    );
    assert_eq!(db.checksum_all().await, before);

    let own = POLICY.replace("basis = \"test\"", "basis = \"test\"\nmax_fraction = 0.9");
    let cfg = db.write_config(&own, "max_fraction = 0.5");
    expect_exit(&run_cli(&cfg, &["run"], &at(NOW)), 0);
    assert_eq!(db.count("messages").await, 10);
}

/// Takes retentiond's instance lock on `db` the way a running instance holds it.
async fn hold_lock(db: &TestDb) -> (retentiond::db::Db, InstanceLock) {
    let path = db.write_config(POLICY, "");
    let text = std::fs::read_to_string(&path).expect("read the config");
    let config = retentiond::config::Config::from_toml(&path, &text, Vec::new()).expect("config");
    let conn = retentiond::db::Db::connect(
        &config.database,
        &config.run,
        retentiond::db::Access::ReadWrite,
    )
    .await
    .expect("connect");
    let lock = InstanceLock::try_acquire(&conn, "retentiond_")
        .await
        .expect("the lock query")
        .expect("the lock is free");
    (conn, lock)
}

async fn a_second_instance_exits_4(b: Backend) {
    let db = TestDb::new(b).await;
    messages(&db).await;
    let cfg = db.write_config(POLICY, "");
    let before = db.checksum_all().await;
    let (conn, lock) = hold_lock(&db).await;

    let out = run_cli(&cfg, &["run"], &at(NOW));
    expect_exit(&out, 4);
    assert!(
        stderr(&out).contains("another retentiond instance holds the lock"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        db.checksum_all().await,
        before,
        "the locked-out run wrote data"
    );
    // A dry run takes no lock.
    let dry = json_ok(&run_cli(&cfg, &["run", "--dry-run", "--json"], &at(NOW)));
    assert_eq!(field(&dry, "messages", "affected"), 40, "{dry:#}");

    lock.release().await;
    conn.close().await;
    expect_exit(&run_cli(&cfg, &["run"], &at(NOW)), 0);
    assert_eq!(db.count("messages").await, 10);
}

/// The lock is per database: an instance on another database of the same server (or
/// another SQLite file) does not stop this one.
async fn a_lock_on_another_database_does_not_block(b: Backend) {
    let other = TestDb::new(b).await;
    let (conn, lock) = hold_lock(&other).await;
    let db = TestDb::new(b).await;
    messages(&db).await;
    let cfg = db.write_config(POLICY, "");
    expect_exit(&run_cli(&cfg, &["run"], &at(NOW)), 0);
    assert_eq!(db.count("messages").await, 10);
    lock.release().await;
    conn.close().await;
}

/// A cutoff before the previous run's (the clock went back) or more than `max_clock_jump`
/// after it stops the run before writing; `--force` passes the jump once.
async fn a_clock_that_jumps_stops_the_run(b: Backend) {
    let db = TestDb::new(b).await;
    messages(&db).await;
    db.exec("CREATE TABLE other (id BIGINT PRIMARY KEY, at DATE NOT NULL)")
        .await;
    let cfg = db.write_config(
        &(POLICY.to_string()
            + r#"
[[policies]]
name = "other"
table = "other"
since = "at"
retain = "1 day"
action = "delete"
basis = "test"
"#),
        "",
    );
    expect_exit(&run_cli(&cfg, &["run", "--policy", "other"], &at(NOW)), 0);
    let before = db.checksum_all().await;
    let out = run_cli(&cfg, &["run"], &at("2027-02-28T00:00:00Z"));
    expect_exit(&out, 3);
    assert!(stderr(&out).contains("went backwards"), "{}", stderr(&out));
    let out = run_cli(&cfg, &["run"], &at("2028-06-01T00:00:00Z"));
    expect_exit(&out, 3);
    assert!(stderr(&out).contains("max_clock_jump"), "{}", stderr(&out));
    assert_eq!(db.checksum_all().await, before, "a clock guard wrote data");
    expect_exit(
        &run_cli(&cfg, &["run", "--force"], &at("2028-06-01T00:00:00Z")),
        0,
    );
    assert_eq!(db.count("messages").await, 0);
}

/// With `max_fraction = 1` no share of the table can be too large, so a run does not count the
/// whole table (seconds for a big one that does not fit in memory); `plan` still shows the total.
async fn a_run_under_max_fraction_one_counts_no_table(b: Backend) {
    let db = TestDb::new(b).await;
    messages(&db).await;
    let cfg = db.write_config(POLICY, "max_fraction = 1.0");
    let plan = json_ok(&run_cli(&cfg, &["plan", "--json"], &at(NOW)));
    assert_eq!(field(&plan, "messages", "total"), 50, "{plan:#}");
    let mut env = at(NOW).to_vec();
    env.push(("RUST_LOG", "sqlx=debug"));
    let out = run_cli(&cfg, &["run"], &env);
    expect_exit(&out, 0);
    let log = stderr(&out);
    assert!(
        log.contains("SELECT COUNT(*)"),
        "the statements are in the log:\n{log}"
    );
    assert!(
        !log.contains("WHERE 1 = 1"),
        "the run counted the whole table:\n{log}"
    );
    assert_eq!(db.count("messages").await, 10);
}

on_every_backend!(
    a_run_under_max_fraction_one_counts_no_table,
    max_fraction_stops_before_writing_until_forced,
    max_rows_and_per_policy_limits,
    a_second_instance_exits_4,
    a_lock_on_another_database_does_not_block,
    a_clock_that_jumps_stops_the_run,
);
