//! What must never happen: a plan or dry run that writes, an audit trail that disagrees with
//! the data, a run past a safety limit, two runs at once, or bad input that changes anything.
//! On PostgreSQL, MariaDB and SQLite.

mod support;

use support::{Backend, TestDb, ok, policy_json};

const TABLES: [&str; 3] = ["customers", "messages", "invoices"];

/// customers 1–10; messages 1–40 of which 30 are old; invoices referencing customers 1–2.
async fn shop(db: &TestDb) {
    let (ts, text) = (db.ts(), db.text());
    let mut sql = format!(
        "CREATE TABLE customers (id BIGINT PRIMARY KEY, email {text} NOT NULL, created_at {ts} NOT NULL);
CREATE TABLE messages (id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL REFERENCES customers(id), sent_at {ts} NOT NULL);
CREATE TABLE invoices (id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL REFERENCES customers(id), issued_at DATE NOT NULL)"
    );
    for c in 1..=10 {
        sql.push_str(&format!(
            ";\nINSERT INTO customers VALUES ({c}, 'c{c}@example.nl', '2016-01-01 00:00:00')"
        ));
    }
    for m in 1..=40 {
        let at = if m <= 30 {
            "2020-01-01 10:00:00"
        } else {
            "2026-05-20 10:00:00"
        };
        sql.push_str(&format!(
            ";\nINSERT INTO messages VALUES ({m}, {}, '{at}')",
            m % 10 + 1
        ));
    }
    sql.push_str(";\nINSERT INTO invoices VALUES (1, 1, '2025-01-01');\nINSERT INTO invoices VALUES (2, 2, '2025-02-01')");
    db.exec(&sql).await;
}

const POLICIES: &str = r#"
[[policies]]
name = "messages"
table = "messages"
since = "sent_at"
retain = "6 months"
action = "delete"
basis = "test"

[[policies]]
name = "contact"
table = "customers"
since = "created_at"
retain = "5 years"
action = "anonymize"
columns = { email = "hash" }
basis = "test"
"#;

const NOW: Option<&str> = Some("2026-06-01T00:00:00Z");

async fn plan_and_dry_run_change_nothing_and_predict_the_run(b: Backend) {
    let db = TestDb::new(b).await;
    shop(&db).await;
    let cfg = db.config(POLICIES, "batch_size = 7");
    let before = db.snapshot(&TABLES).await;

    let plan = ok(&db.cli(&cfg, &["plan", "--json"], NOW));
    let dry = ok(&db.cli(&cfg, &["run", "--dry-run", "--json"], NOW));
    assert_eq!(
        db.snapshot(&TABLES).await,
        before,
        "plan or dry run changed data"
    );
    assert!(
        !db.has_table("retentiond_runs").await,
        "plan or dry run created retentiond's tables"
    );

    let real = ok(&db.cli(&cfg, &["run", "--json"], NOW));
    for name in ["messages", "contact"] {
        let eligible = policy_json(&plan, name)["eligible"].as_u64();
        assert_eq!(
            policy_json(&dry, name)["affected"].as_u64(),
            eligible,
            "dry run vs plan for {name}"
        );
        assert_eq!(
            policy_json(&real, name)["affected"].as_u64(),
            eligible,
            "run vs plan for {name}"
        );
    }
    assert_eq!(
        policy_json(&real, "messages")["affected"].as_u64(),
        Some(30)
    );
    assert_eq!(policy_json(&real, "contact")["affected"].as_u64(), Some(10));
    assert_eq!(policy_json(&real, "messages")["backlog"].as_u64(), Some(0));
    db.drop().await;
}
on_every_database!(plan_and_dry_run_change_nothing_and_predict_the_run);

async fn audit_matches_the_data_and_detects_edits(b: Backend) {
    let db = TestDb::new(b).await;
    shop(&db).await;
    let cfg = db.config(POLICIES, "batch_size = 4");
    ok(&db.cli(&cfg, &["run"], NOW));
    let deleted = 40 - db.scalar("SELECT COUNT(*) FROM messages").await;
    let hashed = db
        .scalar("SELECT COUNT(*) FROM customers WHERE email NOT LIKE '%@%'")
        .await;
    assert_eq!((deleted, hashed), (30, 10));
    assert_eq!(
        db.scalar("SELECT SUM(rows_affected) FROM retentiond_audit WHERE policy = 'messages'")
            .await,
        deleted
    );
    assert_eq!(
        db.scalar("SELECT SUM(rows_affected) FROM retentiond_audit WHERE policy = 'contact'")
            .await,
        hashed
    );
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM retentiond_audit WHERE policy = 'messages'")
            .await,
        8,
        "30 rows in batches of 4"
    );
    let verify = ok(&db.cli(&cfg, &["audit", "verify"], None));
    assert!(
        verify.contains("is intact: 11 entries, 40 rows"),
        "{verify}"
    );

    let id = db.scalar("SELECT MIN(id) + 2 FROM retentiond_audit").await;
    db.exec(&format!(
        "UPDATE retentiond_audit SET rows_affected = 1 WHERE id = {id}"
    ))
    .await;
    let out = db.cli(&cfg, &["audit", "verify"], None);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("BROKEN at entry id {id}")),
        "{stdout}"
    );
    db.drop().await;
}
on_every_database!(audit_matches_the_data_and_detects_edits);

async fn safety_limit_stops_before_writing_and_force_overrides(b: Backend) {
    let db = TestDb::new(b).await;
    shop(&db).await;
    // 30 of 40 messages (75%) are expired: more than max_fraction = 0.5.
    let cfg = db.config(POLICIES, "max_fraction = 0.5");
    let before = db.snapshot(&TABLES).await;
    let out = db.cli(&cfg, &["run"], NOW);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("policy \"messages\" would touch 30 of 40 rows"),
        "{err}"
    );
    assert_eq!(
        db.snapshot(&TABLES).await,
        before,
        "a safety stop must write nothing"
    );

    ok(&db.cli(&cfg, &["run", "--force"], NOW));
    assert_eq!(db.scalar("SELECT COUNT(*) FROM messages").await, 10);

    // max_rows works the same way.
    db.exec("INSERT INTO messages VALUES (41, 1, '2020-01-01 10:00:00');\nINSERT INTO messages VALUES (42, 1, '2020-01-01 10:00:00')").await;
    let cfg = db.config(POLICIES, "max_rows = 1");
    let out = db.cli(
        &cfg,
        &["run", "--policy", "messages"],
        Some("2026-06-02T00:00:00Z"),
    );
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(db.scalar("SELECT COUNT(*) FROM messages").await, 12);
    db.drop().await;
}
on_every_database!(safety_limit_stops_before_writing_and_force_overrides);

async fn a_second_instance_exits_4(b: Backend) {
    let db = TestDb::new(b).await;
    shop(&db).await;
    let cfg = db.config(POLICIES, "");
    let text = std::fs::read_to_string(&cfg).expect("read config");
    let env = [(
        "RETENTIOND_HASH__KEY".to_string(),
        support::TEST_KEY.to_string(),
    )];
    let config = retentiond::config::Config::from_toml(&cfg, &text, env).expect("config");
    let conn = retentiond::db::Db::connect(
        &config.database,
        &config.run,
        retentiond::db::Access::ReadWrite,
    )
    .await
    .expect("connect");
    let lock = retentiond::db::lock::InstanceLock::try_acquire(&conn, "retentiond_")
        .await
        .expect("lock query")
        .expect("the lock is free");
    let before = db.snapshot(&TABLES).await;
    let out = db.cli(&cfg, &["run"], NOW);
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("another retentiond instance holds the lock")
    );
    assert_eq!(db.snapshot(&TABLES).await, before);
    lock.release().await;
    conn.close().await;
    ok(&db.cli(&cfg, &["run"], NOW));
    db.drop().await;
}
on_every_database!(a_second_instance_exits_4);

/// (what to change in the config, the config path it is reported at, a part of the message)
const BAD: &[(&str, &str, &str, &str)] = &[
    (
        "table = \"messages\"",
        "table = \"mesages\"",
        "policies[0].table",
        "table \"mesages\" does not exist",
    ),
    (
        "since = \"sent_at\"",
        "since = \"sent\"",
        "policies[0].since",
        "column \"sent\" does not exist in table \"messages\"",
    ),
    (
        "since = \"sent_at\"",
        "since = \"customer_id\"",
        "policies[0].since",
        "a retention clock needs a date or timestamp column",
    ),
    (
        "columns = { email = \"hash\" }",
        "columns = { created_at = \"hash\" }",
        "policies[1].columns.created_at",
        "\"hash\" needs a text column",
    ),
    (
        "columns = { email = \"hash\" }",
        "columns = { email = \"year_only\" }",
        "policies[1].columns.email",
        "\"year_only\" needs a date or timestamp column",
    ),
    (
        "retain = \"6 months\"",
        "retain = \"1 fortnight\"",
        "policies[0].retain",
        "unknown unit \"fortnight\"",
    ),
    (
        "table = \"messages\"",
        "table = 'x\"; DROP TABLE customers; --'",
        "policies[0].table",
        "does not exist in the database",
    ),
    (
        "since = \"sent_at\"",
        "since = 'x\"; DROP TABLE customers; --'",
        "policies[0].since",
        "does not exist in table \"messages\"",
    ),
    (
        "action = \"delete\"",
        "action = \"delete\"\nfilter = \"1 = 1; DROP TABLE customers\"",
        "policies[0].filter",
        "statement separators",
    ),
    (
        "action = \"delete\"",
        "action = \"delete\"\nfilter = \"no_such_column = 1\"",
        "policies[0].filter",
        "the database rejects this policy's query",
    ),
];

async fn bad_input_exits_2_and_changes_nothing(b: Backend) {
    let db = TestDb::new(b).await;
    shop(&db).await;
    let before = db.snapshot(&TABLES).await;
    for (from, to, path, message) in BAD {
        assert!(POLICIES.contains(from), "{from}");
        let cfg = db.config(&POLICIES.replacen(from, to, 1), "");
        for args in [&["check"][..], &["run"][..]] {
            let out = db.cli(&cfg, args, NOW);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{to} with {args:?}: {err}");
            assert!(
                err.contains(path) && err.contains(message),
                "{to}: expected {path} / {message} in:\n{err}"
            );
        }
    }
    assert_eq!(
        db.snapshot(&TABLES).await,
        before,
        "bad input changed the database"
    );
    assert!(!db.has_table("retentiond_runs").await);
    db.drop().await;
}
on_every_database!(bad_input_exits_2_and_changes_nothing);

#[test]
fn an_unreachable_server_is_a_clear_failure() {
    let dir = tempfile::tempdir().expect("tempdir");
    for url in [
        "postgres://postgres@127.0.0.1:1/shop",
        "mysql://root:secret@127.0.0.1:1/shop",
    ] {
        let cfg = support::write(
            dir.path(),
            "r.toml",
            &format!("[database]\nurl = \"{url}\"\n{POLICIES}"),
        );
        let out = support::bin()
            .arg("--config")
            .arg(&cfg)
            .arg("check")
            .env("RETENTIOND_HASH__KEY", support::TEST_KEY)
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("cannot connect to"), "{err}");
        assert!(!err.contains("secret"), "the password leaked: {err}");
    }
    let cfg = support::write(
        dir.path(),
        "r.toml",
        &format!("[database]\nurl = \"sqlite:///nonexistent/shop.db\"\n{POLICIES}"),
    );
    let out = support::bin()
        .arg("--config")
        .arg(&cfg)
        .arg("check")
        .env("RETENTIOND_HASH__KEY", support::TEST_KEY)
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!std::path::Path::new("/nonexistent/shop.db").exists());
}

async fn a_clock_that_jumps_stops_the_run(b: Backend) {
    let db = TestDb::new(b).await;
    shop(&db).await;
    let cfg = db.config(POLICIES, "");
    ok(&db.cli(&cfg, &["run", "--policy", "contact"], NOW));
    let before = db.snapshot(&TABLES).await;
    // Backwards: a day before the previous cutoff.
    let out = db.cli(&cfg, &["run"], Some("2026-05-31T00:00:00Z"));
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("went backwards"));
    // Years ahead: everything would look expired.
    let out = db.cli(&cfg, &["run"], Some("2031-06-01T00:00:00Z"));
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("max_clock_jump"));
    assert_eq!(
        db.snapshot(&TABLES).await,
        before,
        "a clock guard must stop before writing"
    );
    ok(&db.cli(&cfg, &["run", "--force"], Some("2026-06-02T00:00:00Z")));
    assert_eq!(db.scalar("SELECT COUNT(*) FROM messages").await, 10);
    db.drop().await;
}
on_every_database!(a_clock_that_jumps_stops_the_run);
