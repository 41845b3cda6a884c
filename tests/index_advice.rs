//! `check` names the indexes whose absence makes every run scan whole tables, and a run that
//! finds nothing expired does not count the whole table. On PostgreSQL, MariaDB and SQLite.

mod common;

use common::{Backend, NOW, TestDb, at, expect_exit, json_ok, policy, run_cli};

const POLICIES: &str = r#"
[[policies]]
name = "old-messages"
table = "messages"
since = "sent_at"
retain = "6 months"
action = "delete"
basis = "test"

[[policies]]
name = "former-customers"
table = "customers"
since = { table = "subscriptions", column = "ended_at", match = { id = "customer_id" } }
retain = "90 days"
action = "anonymize"
columns = { name = "redact" }
basis = "test"
"#;

async fn schema(db: &TestDb) {
    let (id, ts, text) = (db.id_type(), db.ts_type(), db.text_type());
    db.exec(&format!(
        "CREATE TABLE customers (id {id} PRIMARY KEY, name {text} NOT NULL);
CREATE TABLE subscriptions (id {id} PRIMARY KEY, customer_id {id} NOT NULL, ended_at {ts} NULL);
CREATE TABLE messages (id {id} PRIMARY KEY, body {text} NOT NULL, sent_at {ts} NOT NULL);
INSERT INTO customers VALUES (1, 'Ann');
INSERT INTO subscriptions VALUES (1, 1, NULL);
INSERT INTO messages VALUES (1, 'recent', '2027-02-20 10:00:00')"
    ))
    .await;
}

async fn check_names_missing_indexes_until_they_exist(b: Backend) {
    let db = TestDb::new(b).await;
    schema(&db).await;
    let cfg = db.write_config(POLICIES, "");

    let out = expect_exit(&run_cli(&cfg, &["check"], &[]), 0);
    assert!(
        out.contains("policy \"old-messages\": no index starts with messages.sent_at"),
        "{out}"
    );
    assert!(
        out.contains("policy \"former-customers\": no index starts with subscriptions.customer_id"),
        "{out}"
    );

    db.exec(
        "CREATE INDEX messages_sent_idx ON messages (sent_at);
CREATE INDEX subscriptions_customer_idx ON subscriptions (customer_id, ended_at)",
    )
    .await;
    let out = expect_exit(&run_cli(&cfg, &["check"], &[]), 0);
    assert!(!out.contains("no index starts with"), "{out}");
}

/// Nothing has expired: the plan reports no total (the table was not counted), and the run
/// changes nothing.
async fn nothing_expired_skips_the_table_count(b: Backend) {
    let db = TestDb::new(b).await;
    schema(&db).await;
    let cfg = db.write_config(POLICIES, "");
    let plan = json_ok(&run_cli(&cfg, &["plan", "--json"], &at(NOW)));
    let messages = policy(&plan, "old-messages");
    assert_eq!(messages["eligible"], 0, "{plan:#}");
    assert!(messages["total"].is_null(), "{plan:#}");
    let text = expect_exit(&run_cli(&cfg, &["plan"], &at(NOW)), 0);
    assert!(text.contains("old-messages"), "{text}");
    let run = json_ok(&run_cli(&cfg, &["run", "--json"], &at(NOW)));
    assert_eq!(run["status"], "ok", "{run:#}");
    assert_eq!(db.count("messages").await, 1);
}

on_every_backend!(
    check_names_missing_indexes_until_they_exist,
    nothing_expired_skips_the_table_count
);
