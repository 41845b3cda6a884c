//! A clock on related rows: support messages are kept until 6 months after the customer's
//! last subscription ended. An open subscription keeps them; no subscriptions at all leaves
//! them undated (kept, counted) unless `otherwise` names a fallback column. On PostgreSQL,
//! MariaDB and SQLite.

mod common;

use common::{Backend, NOW, TestDb, at, expect_exit, field, json_ok, run_cli, start_stalled};

/// Customer 1: one cancelled and one active subscription. Customer 2: all subscriptions ended
/// years ago. Customer 3: never subscribed, one old and one recent message.
async fn shop(db: &TestDb) {
    let (id, ts) = (db.id_type(), db.ts_type());
    db.exec(&format!(
        "CREATE TABLE customers (id {id} PRIMARY KEY, created_at {ts} NOT NULL);
CREATE TABLE subscriptions (id {id} PRIMARY KEY, customer_id {id} NOT NULL, ended_at {ts} NULL,
  FOREIGN KEY (customer_id) REFERENCES customers (id));
CREATE TABLE messages (id {id} PRIMARY KEY, customer_id {id} NOT NULL, sent_at {ts} NOT NULL,
  FOREIGN KEY (customer_id) REFERENCES customers (id));
INSERT INTO customers VALUES (1, '2015-01-01 00:00:00');
INSERT INTO customers VALUES (2, '2015-01-01 00:00:00');
INSERT INTO customers VALUES (3, '2015-01-01 00:00:00');
INSERT INTO subscriptions VALUES (1, 1, '2016-01-01 00:00:00');
INSERT INTO subscriptions VALUES (2, 1, NULL);
INSERT INTO subscriptions VALUES (3, 2, '2016-01-01 00:00:00');
INSERT INTO subscriptions VALUES (4, 2, '2017-06-30 00:00:00');
INSERT INTO messages VALUES (11, 1, '2015-06-01 00:00:00');
INSERT INTO messages VALUES (12, 1, '2016-06-01 00:00:00');
INSERT INTO messages VALUES (21, 2, '2015-06-01 00:00:00');
INSERT INTO messages VALUES (22, 2, '2017-01-01 00:00:00');
INSERT INTO messages VALUES (31, 3, '2015-06-01 00:00:00');
INSERT INTO messages VALUES (32, 3, '2027-02-01 00:00:00')"
    ))
    .await;
}

fn policy(otherwise: &str) -> String {
    format!(
        r#"
[[policies]]
name = "messages"
table = "messages"
since = {{ table = "subscriptions", column = "ended_at", match = {{ customer_id = "customer_id" }}{otherwise} }}
retain = "6 months"
action = "delete"
basis = "support mail is not needed 6 months after the customer left"
"#
    )
}

/// Without a fallback: only customer 2's messages go; customer 1 is still subscribed and
/// customer 3's messages have no clock (undated, counted in plan and run).
async fn open_subscription_keeps_and_no_subscription_is_undated(b: Backend) {
    let db = TestDb::new(b).await;
    shop(&db).await;
    let cfg = db.write_config(&policy(""), "");
    let plan = json_ok(&run_cli(&cfg, &["plan", "--json"], &at(NOW)));
    assert_eq!(
        (
            field(&plan, "messages", "eligible"),
            field(&plan, "messages", "undated"),
            field(&plan, "messages", "total"),
        ),
        (2, 2, 6),
        "{plan:#}"
    );
    let run = json_ok(&run_cli(&cfg, &["run", "--json"], &at(NOW)));
    assert_eq!(field(&run, "messages", "affected"), 2, "{run:#}");
    assert_eq!(field(&run, "messages", "undated"), 2, "{run:#}");
    assert_eq!(run["status"], "ok", "{run:#}");
    assert_eq!(db.ids("messages").await, vec![11, 12, 31, 32]);
}

/// With `otherwise = "sent_at"`: a customer without subscriptions is aged by the message
/// itself (the old one goes, the recent one stays); customers with subscriptions are still
/// aged by them, so customer 1's old messages stay.
async fn otherwise_ages_messages_without_related_rows(b: Backend) {
    let db = TestDb::new(b).await;
    shop(&db).await;
    let cfg = db.write_config(&policy(", otherwise = \"sent_at\""), "");
    let plan = json_ok(&run_cli(&cfg, &["plan", "--json"], &at(NOW)));
    assert_eq!(
        (
            field(&plan, "messages", "eligible"),
            field(&plan, "messages", "undated"),
        ),
        (3, 0),
        "{plan:#}"
    );
    let run = json_ok(&run_cli(&cfg, &["run", "--json"], &at(NOW)));
    assert_eq!(field(&run, "messages", "affected"), 3, "{run:#}");
    assert_eq!(db.ids("messages").await, vec![11, 12, 32]);
}

/// Ending the last open subscription starts the clock; 6 months later the messages go.
async fn closing_the_open_subscription_starts_the_clock(b: Backend) {
    let db = TestDb::new(b).await;
    shop(&db).await;
    let cfg = db.write_config(&policy(""), "");
    expect_exit(&run_cli(&cfg, &["run"], &at(NOW)), 0);
    assert_eq!(db.ids("messages").await, vec![11, 12, 31, 32]);
    db.exec("UPDATE subscriptions SET ended_at = '2027-03-01 00:00:00' WHERE id = 2")
        .await;
    expect_exit(&run_cli(&cfg, &["run"], &at("2027-08-31T00:00:00Z")), 0);
    assert_eq!(
        db.ids("messages").await,
        vec![11, 12, 31, 32],
        "6 months not over"
    );
    expect_exit(&run_cli(&cfg, &["run"], &at("2027-09-02T00:00:00Z")), 0);
    assert_eq!(db.ids("messages").await, vec![31, 32]);
}

/// The run finds the customers whose subscriptions have all ended once, at its start, and
/// walks their messages. A customer who subscribes again while the run goes on keeps every
/// message: the set only narrows the walk, each write asks the subscriptions again.
async fn a_customer_who_returns_during_the_run_keeps_their_messages(b: Backend) {
    let db = TestDb::new(b).await;
    shop(&db).await;
    let cfg = db.write_config(&policy(""), "batch_size = 1");
    let (child, resume) = start_stalled(&db, &cfg, &["run", "--json"], "after-select");
    db.exec("INSERT INTO subscriptions VALUES (5, 2, NULL)")
        .await;
    std::fs::write(&resume, "").expect("resume the run");
    let out = child.wait_with_output().expect("the run ends");
    assert!(out.status.success(), "the run succeeds: {:?}", out.status);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the JSON report");
    assert_eq!(field(&report, "messages", "affected"), 0, "{report:#}");
    assert_eq!(db.ids("messages").await, vec![11, 12, 21, 22, 31, 32]);

    // The customer leaves again: the next run finds them in its set and deletes.
    db.exec("UPDATE subscriptions SET ended_at = '2020-01-01 00:00:00' WHERE id = 5")
        .await;
    let out = run_cli(&cfg, &["run", "-v"], &at(NOW));
    expect_exit(&out, 0);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("found the parents whose clock has run out") && log.contains("parents=1"),
        "the run walks by the set of expired customers:\n{log}"
    );
    assert_eq!(db.ids("messages").await, vec![11, 12, 31, 32]);
}

on_server_backends!(a_customer_who_returns_during_the_run_keeps_their_messages);

on_every_backend!(
    open_subscription_keeps_and_no_subscription_is_undated,
    otherwise_ages_messages_without_related_rows,
    closing_the_open_subscription_starts_the_clock,
);
