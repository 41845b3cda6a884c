//! `plan` and `run --dry-run` change nothing (not even by creating retentiond's own tables)
//! and predict exactly what the real run then does. On PostgreSQL, MariaDB and SQLite.

mod common;

use common::{Backend, NOW, TestDb, at, expect_exit, field, json_ok, run_cli};

/// customers 1–10 (all past 5 years: anonymized); messages 1–40, of which 30 are past 6
/// months (deleted). No foreign keys between them, so the counts are exact.
async fn shop(db: &TestDb) {
    let (id, ts, text) = (db.id_type(), db.ts_type(), db.text_type());
    let mut sql = format!(
        "CREATE TABLE customers (id {id} PRIMARY KEY, name {text} NOT NULL, email {text} NOT NULL, created_at {ts} NOT NULL);
CREATE TABLE messages (id {id} PRIMARY KEY, customer_id {id} NOT NULL, body {text} NOT NULL, sent_at {ts} NOT NULL)"
    );
    for c in 1..=10 {
        sql.push_str(&format!(
            ";\nINSERT INTO customers VALUES ({c}, 'Customer {c}', 'c{c}@example.nl', '2016-01-01 00:00:00')"
        ));
    }
    for m in 1..=40 {
        let sent = if m % 4 == 0 {
            "2027-02-20 10:00:00"
        } else {
            "2020-01-01 10:00:00"
        };
        sql.push_str(&format!(
            ";\nINSERT INTO messages VALUES ({m}, {}, 'hello {m}', '{sent}')",
            m % 10 + 1
        ));
    }
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
columns = { name = "redact", email = "hash" }
basis = "test"
"#;

async fn plan_and_dry_run_change_nothing_and_predict_the_run(b: Backend) {
    let db = TestDb::new(b).await;
    shop(&db).await;
    // Batches of 7: the dry run walks several batches per policy.
    let cfg = db.write_config(POLICIES, "batch_size = 7");
    let before = db.checksum_all().await;

    let plan = json_ok(&run_cli(&cfg, &["plan", "--json"], &at(NOW)));
    let plan_text = expect_exit(&run_cli(&cfg, &["plan"], &at(NOW)), 0);
    assert!(plan_text.contains("(nothing was changed)"), "{plan_text}");
    let dry = json_ok(&run_cli(&cfg, &["run", "--dry-run", "--json"], &at(NOW)));
    assert_eq!(
        db.checksum_all().await,
        before,
        "plan or dry run changed data"
    );
    assert_eq!(
        db.own_tables().await,
        Vec::<String>::new(),
        "plan or dry run created retentiond's tables"
    );
    assert_eq!(dry["dry_run"], true, "{dry:#}");
    assert!(dry["run_id"].is_null(), "a dry run records no run: {dry:#}");

    assert_eq!(field(&plan, "messages", "eligible"), 30, "{plan:#}");
    assert_eq!(field(&plan, "messages", "total"), 40, "{plan:#}");
    assert_eq!(field(&plan, "contact", "eligible"), 10, "{plan:#}");
    assert_eq!(field(&dry, "messages", "affected"), 30, "{dry:#}");
    assert_eq!(
        field(&dry, "messages", "batches"),
        5,
        "30 rows in 7s: {dry:#}"
    );
    assert_eq!(field(&dry, "contact", "affected"), 10, "{dry:#}");

    let real = json_ok(&run_cli(&cfg, &["run", "--json"], &at(NOW)));
    for name in ["messages", "contact"] {
        assert_eq!(
            field(&real, name, "affected"),
            field(&plan, name, "eligible"),
            "run vs plan for {name}: {real:#}"
        );
        assert_eq!(
            field(&real, name, "affected"),
            field(&dry, name, "affected"),
            "run vs dry run for {name}: {real:#}"
        );
        assert_eq!(field(&real, name, "backlog"), 0, "{real:#}");
    }
    assert_eq!(db.count("messages").await, 10);
    assert_eq!(
        db.scalar_i64("SELECT COUNT(*) FROM customers WHERE name = 'redacted'")
            .await,
        10
    );

    // With retentiond's tables in place, plan and dry run still write nothing at all: no
    // data, no run record.
    let after_run = db.checksum_all().await;
    let runs = db.count("retentiond_runs").await;
    let audit = db.count("retentiond_audit").await;
    let plan = json_ok(&run_cli(&cfg, &["plan", "--json"], &at(NOW)));
    let dry = json_ok(&run_cli(&cfg, &["run", "--dry-run", "--json"], &at(NOW)));
    assert_eq!(field(&plan, "messages", "eligible"), 0, "{plan:#}");
    assert_eq!(field(&dry, "contact", "affected"), 0, "{dry:#}");
    assert_eq!(db.checksum_all().await, after_run);
    assert_eq!(db.count("retentiond_runs").await, runs);
    assert_eq!(db.count("retentiond_audit").await, audit);
}

/// `--policy` limits plan, dry run and run to the named policies.
async fn policy_selection_limits_what_is_counted_and_done(b: Backend) {
    let db = TestDb::new(b).await;
    shop(&db).await;
    let cfg = db.write_config(POLICIES, "");
    let plan = json_ok(&run_cli(
        &cfg,
        &["plan", "--json", "--policy", "contact"],
        &at(NOW),
    ));
    assert_eq!(
        plan["policies"].as_array().map(Vec::len),
        Some(1),
        "{plan:#}"
    );
    let run = json_ok(&run_cli(
        &cfg,
        &["run", "--json", "--policy", "messages"],
        &at(NOW),
    ));
    assert_eq!(field(&run, "messages", "affected"), 30, "{run:#}");
    assert_eq!(db.count("messages").await, 10);
    assert_eq!(
        db.scalar_i64("SELECT COUNT(*) FROM customers WHERE name = 'redacted'")
            .await,
        0,
        "the contact policy was not selected"
    );
}

on_every_backend!(
    plan_and_dry_run_change_nothing_and_predict_the_run,
    policy_selection_limits_what_is_counted_and_done,
);
