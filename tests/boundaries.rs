//! When a record expires: a day either side of its expiry (and the very instant), for an own
//! column and a related clock; calendar months at month end; a leap day; end-of-year
//! rounding; the configured time zone. On PostgreSQL, MariaDB and SQLite.

mod common;

use common::{Backend, NOW, TestDb, at, expect_exit, field, json_ok, run_cli};

fn delete_policy(name: &str, table: &str, since: &str, retain: &str, extra: &str) -> String {
    format!(
        r#"
[[policies]]
name = "{name}"
table = "{table}"
since = {since}
retain = "{retain}"
{extra}
action = "delete"
basis = "test"
"#
    )
}

/// `plan --json` at `now`, then `run` at `now`: the eligible count the plan shows.
fn plan_then_run(cfg: &std::path::Path, now: &str, name: &str) -> u64 {
    let plan = json_ok(&run_cli(cfg, &["plan", "--json"], &at(now)));
    expect_exit(&run_cli(cfg, &["run"], &at(now)), 0);
    field(&plan, name, "eligible")
}

/// At 2027-03-01 with 6 months: a timestamp clock that expired a day (or a second) ago goes;
/// one that expires at this very instant or tomorrow stays. The same for a DATE column.
async fn own_clock_one_day_either_side(b: Backend) {
    let db = TestDb::new(b).await;
    let (id, ts) = (db.id_type(), db.ts_type());
    db.exec(&format!(
        "CREATE TABLE messages (id {id} PRIMARY KEY, sent_at {ts} NOT NULL);
INSERT INTO messages VALUES (1, '2026-08-28 00:00:00');
INSERT INTO messages VALUES (2, '2026-08-31 23:59:59');
INSERT INTO messages VALUES (3, '2026-09-01 00:00:00');
INSERT INTO messages VALUES (4, '2026-09-02 00:00:00');
CREATE TABLE letters (id {id} PRIMARY KEY, sent_on DATE NOT NULL);
INSERT INTO letters VALUES (1, '2026-08-28');
INSERT INTO letters VALUES (2, '2026-08-31');
INSERT INTO letters VALUES (3, '2026-09-01');
INSERT INTO letters VALUES (4, '2026-09-02')"
    ))
    .await;
    let cfg = db.write_config(
        &(delete_policy("messages", "messages", "\"sent_at\"", "6 months", "")
            + &delete_policy("letters", "letters", "\"sent_on\"", "6 months", "")),
        "",
    );
    let plan = json_ok(&run_cli(&cfg, &["plan", "--json"], &at(NOW)));
    assert_eq!(field(&plan, "messages", "eligible"), 2, "{plan:#}");
    assert_eq!(field(&plan, "letters", "eligible"), 2, "{plan:#}");
    assert!(
        plan["cutoff"]
            .as_str()
            .is_some_and(|c| c.starts_with("2027-03-01 00:00:00")),
        "RETENTIOND_TEST_NOW must fix the cutoff: {plan:#}"
    );
    expect_exit(&run_cli(&cfg, &["run"], &at(NOW)), 0);
    // 2026-08-28 + 6 months = 2027-02-28 and 2026-08-31 23:59:59 + 6 months =
    // 2027-02-28 23:59:59 lie before the cutoff; 2026-09-01 + 6 months = the cutoff itself is
    // not *before* it; 2026-09-02 + 6 months is tomorrow.
    assert_eq!(db.ids("messages").await, vec![3, 4]);
    assert_eq!(db.ids("letters").await, vec![3, 4]);
}

async fn shop(db: &TestDb) {
    let (id, ts) = (db.id_type(), db.ts_type());
    db.exec(&format!(
        "CREATE TABLE customers (id {id} PRIMARY KEY, created_at {ts} NOT NULL);
CREATE TABLE subscriptions (id {id} PRIMARY KEY, customer_id {id} NOT NULL, ended_at {ts} NULL,
  FOREIGN KEY (customer_id) REFERENCES customers (id));
CREATE TABLE messages (id {id} PRIMARY KEY, customer_id {id} NOT NULL, sent_at {ts} NOT NULL,
  FOREIGN KEY (customer_id) REFERENCES customers (id))"
    ))
    .await;
}

const RELATED: &str =
    r#"{ table = "subscriptions", column = "ended_at", match = { customer_id = "customer_id" } }"#;

/// The clock is the latest end of the customer's subscriptions: a day past its expiry the
/// messages go; at the instant or a day before they stay; an earlier subscription that
/// expired long ago does not count when a later one has not.
async fn related_clock_one_day_either_side(b: Backend) {
    let db = TestDb::new(b).await;
    shop(&db).await;
    let mut sql = String::new();
    for c in 1..=4 {
        sql.push_str(&format!(
            "INSERT INTO customers VALUES ({c}, '2015-01-01 00:00:00');\n\
             INSERT INTO messages VALUES ({c}, {c}, '2015-06-01 00:00:00');\n"
        ));
    }
    sql.push_str(
        "INSERT INTO subscriptions VALUES (1, 1, '2020-01-01 00:00:00');
INSERT INTO subscriptions VALUES (2, 1, '2026-08-28 00:00:00');
INSERT INTO subscriptions VALUES (3, 2, '2026-09-01 00:00:00');
INSERT INTO subscriptions VALUES (4, 3, '2026-09-02 00:00:00');
INSERT INTO subscriptions VALUES (5, 4, '2026-09-02 00:00:00');
INSERT INTO subscriptions VALUES (6, 4, '2020-01-01 00:00:00')",
    );
    db.exec(&sql).await;
    let cfg = db.write_config(
        &delete_policy("messages", "messages", RELATED, "6 months", ""),
        "",
    );
    assert_eq!(plan_then_run(&cfg, NOW, "messages"), 1);
    assert_eq!(
        db.ids("messages").await,
        vec![2, 3, 4],
        "only the customer whose last subscription ended 2026-08-28 is past 6 months"
    );
}

/// 2027-01-31 + 1 month = 2027-02-28: kept at 2027-02-27, gone at 2027-03-01; a record of
/// 2027-02-01 (expiring 2027-03-01 00:00) is still kept at that instant.
async fn month_end(b: Backend) {
    let db = TestDb::new(b).await;
    let (id, ts) = (db.id_type(), db.ts_type());
    db.exec(&format!(
        "CREATE TABLE items (id {id} PRIMARY KEY, at {ts} NOT NULL);
INSERT INTO items VALUES (1, '2027-01-31 00:00:00');
INSERT INTO items VALUES (2, '2027-02-01 00:00:00')"
    ))
    .await;
    let cfg = db.write_config(
        &delete_policy("items", "items", "\"at\"", "1 month", ""),
        "",
    );
    assert_eq!(plan_then_run(&cfg, "2027-02-27T00:00:00Z", "items"), 0);
    assert_eq!(
        db.ids("items").await,
        vec![1, 2],
        "purged before 2027-02-28"
    );
    assert_eq!(plan_then_run(&cfg, "2027-03-01T00:00:00Z", "items"), 1);
    assert_eq!(
        db.ids("items").await,
        vec![2],
        "31 January + 1 month is 28 February, not 3 March"
    );
}

/// 2024-02-29 + 1 year = 2025-02-28: kept at that instant, gone on 2025-03-01; a record of
/// 2024-03-01 still stays on 2025-03-01 00:00.
async fn leap_day(b: Backend) {
    let db = TestDb::new(b).await;
    let (id, ts) = (db.id_type(), db.ts_type());
    db.exec(&format!(
        "CREATE TABLE items (id {id} PRIMARY KEY, at {ts} NOT NULL);
INSERT INTO items VALUES (1, '2024-02-29 00:00:00');
INSERT INTO items VALUES (2, '2024-03-01 00:00:00')"
    ))
    .await;
    let cfg = db.write_config(&delete_policy("items", "items", "\"at\"", "1 year", ""), "");
    assert_eq!(plan_then_run(&cfg, "2025-02-27T00:00:00Z", "items"), 0);
    assert_eq!(plan_then_run(&cfg, "2025-02-28T00:00:00Z", "items"), 0);
    assert_eq!(db.ids("items").await, vec![1, 2]);
    assert_eq!(plan_then_run(&cfg, "2025-03-01T00:00:00Z", "items"), 1);
    assert_eq!(db.ids("items").await, vec![2]);
}

/// Invoices kept 7 years from the end of the year they were issued in: 2019's go once
/// 2027-01-01 has passed (not on 2026-05-10), 2020's stay.
async fn end_of_year_rounding(b: Backend) {
    let db = TestDb::new(b).await;
    let id = db.id_type();
    db.exec(&format!(
        "CREATE TABLE invoices (id {id} PRIMARY KEY, issued_on DATE NOT NULL);
INSERT INTO invoices VALUES (1, '2019-05-10');
INSERT INTO invoices VALUES (2, '2019-12-31');
INSERT INTO invoices VALUES (3, '2020-01-01')"
    ))
    .await;
    let cfg = db.write_config(
        &delete_policy(
            "invoices",
            "invoices",
            "\"issued_on\"",
            "7 years",
            "round = \"end_of_year\"",
        ),
        "",
    );
    assert_eq!(plan_then_run(&cfg, "2026-12-31T00:00:00Z", "invoices"), 0);
    assert_eq!(db.ids("invoices").await, vec![1, 2, 3]);
    assert_eq!(plan_then_run(&cfg, "2027-01-02T00:00:00Z", "invoices"), 2);
    assert_eq!(db.ids("invoices").await, vec![3]);
}

/// Naive timestamps are read in `database.timezone`: 2027-02-28 00:30 in Amsterdam + 1 day
/// is 2027-02-28 23:30 UTC, before a cutoff of 2027-03-01 00:00 UTC; read as UTC it is not.
async fn timestamps_are_read_in_the_configured_zone(b: Backend) {
    let db = TestDb::new(b).await;
    let (id, ts) = (db.id_type(), db.ts_type());
    db.exec(&format!(
        "CREATE TABLE items (id {id} PRIMARY KEY, at {ts} NOT NULL);
INSERT INTO items VALUES (1, '2027-02-28 00:30:00')"
    ))
    .await;
    let cfg = db.write_config(&delete_policy("items", "items", "\"at\"", "1 day", ""), "");
    expect_exit(&run_cli(&cfg, &["run"], &at(NOW)), 0);
    assert_eq!(db.count("items").await, 1, "in UTC it expires at 00:30");
    let amsterdam = [
        ("RETENTIOND_TEST_NOW", NOW),
        ("RETENTIOND_DATABASE__TIMEZONE", "Europe/Amsterdam"),
    ];
    expect_exit(&run_cli(&cfg, &["run"], &amsterdam), 0);
    assert_eq!(
        db.count("items").await,
        0,
        "in Amsterdam it expired at 23:30 UTC"
    );
}

on_every_backend!(
    own_clock_one_day_either_side,
    related_clock_one_day_either_side,
    month_end,
    leap_day,
    end_of_year_rounding,
    timestamps_are_read_in_the_configured_zone,
);

/// A zoned timestamp (PostgreSQL TIMESTAMPTZ, MariaDB TIMESTAMP) is an instant; the calendar
/// arithmetic happens in `database.timezone`. 2026-08-31 23:30 UTC is 2026-09-01 01:30 in
/// Amsterdam, + 6 months = 2027-03-01 01:30 Amsterdam = 00:30 UTC: not yet expired at a cutoff
/// of 2027-03-01 00:00 UTC. In UTC it expired on 2027-02-28 23:30.
async fn zoned_timestamps_are_instants(b: Backend) {
    let db = TestDb::new(b).await;
    let (id, tstz, value) = match b {
        Backend::Postgres => (db.id_type(), "TIMESTAMPTZ", "2026-08-31 23:30:00+00"),
        _ => (db.id_type(), "TIMESTAMP", "2026-08-31 23:30:00"),
    };
    db.exec(&format!(
        "CREATE TABLE items (id {id} PRIMARY KEY, at {tstz} NOT NULL);
INSERT INTO items VALUES (1, '{value}')"
    ))
    .await;
    let cfg = db.write_config(
        &delete_policy("items", "items", "\"at\"", "6 months", ""),
        "",
    );
    let amsterdam = [
        ("RETENTIOND_TEST_NOW", NOW),
        ("RETENTIOND_DATABASE__TIMEZONE", "Europe/Amsterdam"),
    ];
    expect_exit(&run_cli(&cfg, &["run"], &amsterdam), 0);
    assert_eq!(db.count("items").await, 1, "expires 00:30 UTC in Amsterdam");
    expect_exit(&run_cli(&cfg, &["run"], &at(NOW)), 0);
    assert_eq!(
        db.count("items").await,
        0,
        "expired 2027-02-28 23:30 UTC in UTC"
    );
}

mod zoned_timestamps_are_instants {
    use crate::common::Backend;
    #[tokio::test]
    async fn postgres() {
        super::zoned_timestamps_are_instants(Backend::Postgres).await
    }
    #[tokio::test]
    async fn mariadb() {
        super::zoned_timestamps_are_instants(Backend::MariaDb).await
    }
}
