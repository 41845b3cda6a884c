//! `retentiond runs`: the run history an operator reads instead of querying the database:
//! each run's start, duration, status, rows per action and backlog, and the next scheduled
//! run. On PostgreSQL, MariaDB and SQLite.

mod common;

use common::{Backend, NOW, TestDb, at, expect_exit, json_ok, run_cli};

/// 30 expired and 10 recent messages; 10 customers past their contact retention.
async fn shop(db: &TestDb) {
    let (id, ts, text) = (db.id_type(), db.ts_type(), db.text_type());
    let mut sql = format!(
        "CREATE TABLE customers (id {id} PRIMARY KEY, email {text} NOT NULL, created_at {ts} NOT NULL);
CREATE TABLE messages (id {id} PRIMARY KEY, sent_at {ts} NOT NULL)"
    );
    for c in 1..=10 {
        sql.push_str(&format!(
            ";\nINSERT INTO customers VALUES ({c}, 'c{c}@example.nl', '2016-01-01 00:00:00')"
        ));
    }
    for m in 1..=40 {
        let sent = if m <= 30 {
            "2020-01-01 10:00:00"
        } else {
            "2027-02-20 10:00:00"
        };
        sql.push_str(&format!(";\nINSERT INTO messages VALUES ({m}, '{sent}')"));
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
columns = { email = "email_domain" }
basis = "test"

[schedule]
cron = "30 3 * * *"
timezone = "Europe/Amsterdam"
"#;

async fn runs_show_rows_per_action_backlog_and_the_next_run(b: Backend) {
    let db = TestDb::new(b).await;
    shop(&db).await;
    let cfg = db.write_config(POLICIES, "");

    let none = expect_exit(&run_cli(&cfg, &["runs"], &at(NOW)), 0);
    assert!(none.contains("No runs yet"), "{none}");

    expect_exit(&run_cli(&cfg, &["run"], &at(NOW)), 0);
    // New messages expire later; a second run finds nothing to do.
    expect_exit(&run_cli(&cfg, &["run"], &at(NOW)), 0);

    let doc = json_ok(&run_cli(&cfg, &["runs", "--json"], &at(NOW)));
    let runs = doc["runs"].as_array().cloned().unwrap_or_default();
    assert_eq!(runs.len(), 2, "{doc:#}");
    let (second, first) = (&runs[0], &runs[1]);
    assert!(
        second["id"].as_i64() > first["id"].as_i64(),
        "newest first: {doc:#}"
    );
    for (r, deleted, anonymized) in [(first, 30, 10), (second, 0, 0)] {
        assert_eq!(
            (
                r["mode"].as_str(),
                r["status"].as_str(),
                r["deleted"].as_i64(),
                r["anonymized"].as_i64(),
                r["backlog"].as_i64(),
            ),
            (
                Some("run"),
                Some("ok"),
                Some(deleted),
                Some(anonymized),
                Some(0)
            ),
            "{doc:#}"
        );
        assert!(
            r["duration_s"].as_f64().is_some_and(|d| d >= 0.0),
            "{doc:#}"
        );
        assert!(r["finished_at"].as_str().is_some(), "{doc:#}");
    }
    // 2027-03-01 00:00 UTC is 01:00 in Amsterdam (CET): the next 03:30 there is 02:30 UTC.
    assert_eq!(
        doc["next_run"].as_str(),
        Some("2027-03-01 02:30:00"),
        "{doc:#}"
    );

    let table = expect_exit(&run_cli(&cfg, &["runs", "--limit", "1"], &at(NOW)), 0);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[1].starts_with("RUN"), "{table}");
    assert_eq!(lines.len(), 4, "header, one run, next run:\n{table}");
    assert!(
        lines[2].contains(" ok ") && lines[2].contains(" run "),
        "{table}"
    );
    assert!(
        lines[3].contains("Next scheduled run: 2027-03-01 02:30:00 UTC"),
        "{table}"
    );

    // `status` is the same command.
    let status = expect_exit(&run_cli(&cfg, &["status", "--limit", "1"], &at(NOW)), 0);
    assert_eq!(status, table);
}

/// Each run counts the rows of its own audit entries, not the trail's total.
async fn a_later_run_counts_only_its_own_rows(b: Backend) {
    let db = TestDb::new(b).await;
    shop(&db).await;
    let cfg = db.write_config(POLICIES, "");
    expect_exit(&run_cli(&cfg, &["run"], &at(NOW)), 0);
    db.exec("INSERT INTO messages VALUES (100, '2019-01-01 10:00:00')")
        .await;
    expect_exit(&run_cli(&cfg, &["run"], &at(NOW)), 0);
    let doc = json_ok(&run_cli(&cfg, &["runs", "--json"], &at(NOW)));
    let latest = &doc["runs"][0];
    assert_eq!(latest["deleted"].as_i64(), Some(1), "{doc:#}");
    assert_eq!(latest["anonymized"].as_i64(), Some(0), "{doc:#}");
}

on_every_backend!(
    runs_show_rows_per_action_backlog_and_the_next_run,
    a_later_run_counts_only_its_own_rows
);
