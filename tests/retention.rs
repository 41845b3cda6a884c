//! What is purged, and when: boundaries of own and related clocks, calendar months, leap
//! days, end-of-year rounding, transforms and foreign keys, on PostgreSQL, MariaDB and SQLite.

mod support;

use support::{Backend, TEST_KEY, TestDb, ok, policy_json};

const DELETE_ITEMS: &str = r#"
[[policies]]
name = "items"
table = "items"
since = "at"
retain = "RETAIN"
ROUND
action = "delete"
basis = "test"
"#;

/// One row with clock `at`; runs at `before` (must keep it) then at `after` (must purge it).
async fn expires_between(
    db: &TestDb,
    retain: &str,
    round: &str,
    col_type: &str,
    at: &str,
    before: &str,
    after: &str,
) {
    db.exec(&format!("CREATE TABLE items (id BIGINT PRIMARY KEY, at {col_type} NOT NULL);\nINSERT INTO items VALUES (1, '{at}')"))
        .await;
    let cfg = db.config(
        &DELETE_ITEMS
            .replace("RETAIN", retain)
            .replace("ROUND", round),
        "",
    );
    ok(&db.cli(&cfg, &["run"], Some(before)));
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM items").await,
        1,
        "{at} + {retain} purged early at {before}"
    );
    ok(&db.cli(&cfg, &["run"], Some(after)));
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM items").await,
        0,
        "{at} + {retain} not purged at {after}"
    );
}

async fn month_end(b: Backend) {
    let db = TestDb::new(b).await;
    // 31 January + 1 month = 28 February 2027.
    expires_between(
        &db,
        "1 month",
        "",
        db.ts(),
        "2027-01-31 00:00:00",
        "2027-02-27T00:00:00Z",
        "2027-03-01T00:00:00Z",
    )
    .await;
    db.drop().await;
}
on_every_database!(month_end);

async fn exact_expiry_is_not_yet_past(b: Backend) {
    let db = TestDb::new(b).await;
    // 15 January + 1 month = 15 February 00:00: at that very instant the record is not yet
    // *before* the cutoff; a second later it is.
    expires_between(
        &db,
        "1 month",
        "",
        db.ts(),
        "2027-01-15 00:00:00",
        "2027-02-15T00:00:00Z",
        "2027-02-15T00:00:01Z",
    )
    .await;
    db.drop().await;
}
on_every_database!(exact_expiry_is_not_yet_past);

async fn leap_day(b: Backend) {
    let db = TestDb::new(b).await;
    // 29 February 2024 + 1 year = 28 February 2025.
    expires_between(
        &db,
        "1 year",
        "",
        db.ts(),
        "2024-02-29 12:00:00",
        "2025-02-27T12:00:00Z",
        "2025-03-01T12:00:00Z",
    )
    .await;
    db.drop().await;
}
on_every_database!(leap_day);

async fn end_of_year_rounding(b: Backend) {
    let db = TestDb::new(b).await;
    // An invoice of 10 May 2019 kept 7 years from the end of its year: until 1 January 2027.
    expires_between(
        &db,
        "7 years",
        "round = \"end_of_year\"",
        "DATE",
        "2019-05-10",
        "2026-12-31T00:00:00Z",
        "2027-01-02T00:00:00Z",
    )
    .await;
    db.drop().await;
}
on_every_database!(end_of_year_rounding);

async fn shop(db: &TestDb) {
    let (ts, text) = (db.ts(), db.text());
    db.exec(&format!(
        "CREATE TABLE customers (id BIGINT PRIMARY KEY, name {text} NOT NULL, created_at {ts} NOT NULL);
CREATE TABLE subscriptions (id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL REFERENCES customers(id), ended_at {ts} NULL);
CREATE TABLE messages (id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL REFERENCES customers(id), sent_at {ts} NOT NULL)"
    ))
    .await;
}

const MESSAGES: &str = r#"
[[policies]]
name = "messages"
table = "messages"
since = { table = "subscriptions", column = "ended_at", match = { customer_id = "customer_id" } OTHERWISE }
retain = "6 months"
action = "delete"
basis = "test"
"#;

async fn related_clock_boundary(b: Backend) {
    let db = TestDb::new(b).await;
    shop(&db).await;
    db.exec(
        "INSERT INTO customers VALUES (1, 'Zoë', '2020-01-01 00:00:00');
INSERT INTO subscriptions VALUES (1, 1, '2025-03-10 00:00:00');
INSERT INTO subscriptions VALUES (2, 1, '2026-01-31 00:00:00');
INSERT INTO messages VALUES (1, 1, '2019-01-01 00:00:00')",
    )
    .await;
    // The latest subscription ended 31 January 2026: + 6 months = 31 July 2026.
    let cfg = db.config(&MESSAGES.replace(" OTHERWISE", ""), "");
    ok(&db.cli(&cfg, &["run"], Some("2026-07-30T00:00:00Z")));
    assert_eq!(db.scalar("SELECT COUNT(*) FROM messages").await, 1);
    ok(&db.cli(&cfg, &["run"], Some("2026-08-01T00:00:00Z")));
    assert_eq!(db.scalar("SELECT COUNT(*) FROM messages").await, 0);
    db.drop().await;
}
on_every_database!(related_clock_boundary);

async fn related_clock_waits_for_open_rows_and_counts_undated(b: Backend) {
    let db = TestDb::new(b).await;
    shop(&db).await;
    db.exec(
        "INSERT INTO customers VALUES (1, 'still subscribed', '2015-01-01 00:00:00');
INSERT INTO customers VALUES (2, 'left long ago', '2015-01-01 00:00:00');
INSERT INTO customers VALUES (3, 'never subscribed', '2015-01-01 00:00:00');
INSERT INTO subscriptions VALUES (1, 1, '2016-01-01 00:00:00');
INSERT INTO subscriptions VALUES (2, 1, NULL);
INSERT INTO subscriptions VALUES (3, 2, '2016-01-01 00:00:00');
INSERT INTO messages VALUES (1, 1, '2015-06-01 00:00:00');
INSERT INTO messages VALUES (2, 2, '2015-06-01 00:00:00');
INSERT INTO messages VALUES (3, 3, '2015-06-01 00:00:00')",
    )
    .await;
    let now = Some("2026-06-01T00:00:00Z");
    let cfg = db.config(&MESSAGES.replace(" OTHERWISE", ""), "");
    let plan = ok(&db.cli(&cfg, &["plan", "--json"], now));
    let p = policy_json(&plan, "messages");
    assert_eq!(
        (p["eligible"].as_u64(), p["undated"].as_u64()),
        (Some(1), Some(1)),
        "{plan}"
    );
    ok(&db.cli(&cfg, &["run"], now));
    let left = db
        .rows(&format!(
            "SELECT CAST(id AS {}) FROM messages ORDER BY id",
            db.text_type()
        ))
        .await;
    assert_eq!(
        left,
        vec![vec![Some("1".into())], vec![Some("3".into())]],
        "one open subscription keeps; no clock keeps"
    );

    // With a fallback clock, the message of the customer who never subscribed goes too.
    let cfg = db.config(
        &MESSAGES.replace(" OTHERWISE", ", otherwise = \"sent_at\""),
        "",
    );
    ok(&db.cli(&cfg, &["run"], now));
    assert_eq!(db.scalar("SELECT COUNT(*) FROM messages").await, 1);
    assert_eq!(db.scalar("SELECT MIN(id) FROM messages").await, 1);
    db.drop().await;
}
on_every_database!(related_clock_waits_for_open_rows_and_counts_undated);

async fn transforms_write_exact_values_once(b: Backend) {
    let db = TestDb::new(b).await;
    let (ts, text) = (db.ts(), db.text());
    db.exec(&format!(
        "CREATE TABLE people (id BIGINT PRIMARY KEY, name {text} NOT NULL, email {text} NOT NULL, ip {text}, note {text},
  born DATE, seen {ts}, contact {text}, score INTEGER NOT NULL, left_at {ts} NOT NULL);
INSERT INTO people VALUES (1, 'Zoë Ðorđević', 'zoe@example.nl', '192.0.2.77', 'vip', '1980-05-17', '2020-06-15 13:45:00', 'zoe@example.nl', 42, '2020-01-01 00:00:00');
INSERT INTO people VALUES (2, '李小龍', 'li@example.org', '2001:db8:85a3:12::7334', NULL, '1999-12-31', '2021-02-01 00:00:00', 'li@example.org', 7, '2020-01-01 00:00:00');
INSERT INTO people VALUES (3, 'Still Here', 'here@example.nl', '198.51.100.1', 'x', '1990-01-02', '2026-01-02 03:04:05', 'here@example.nl', 1, '2026-05-01 00:00:00')"
    ))
    .await;
    let cfg = db.config(
        r#"
[[policies]]
name = "people"
table = "people"
since = "left_at"
retain = "1 year"
action = "anonymize"
columns = { name = "redact", email = "hash", ip = "truncate_ip", note = "null", born = "year_only", seen = "month_only", contact = "email_domain", score = "redact" }
basis = "test"
"#,
        "",
    );
    let now = Some("2026-06-01T00:00:00Z");
    let out = ok(&db.cli(&cfg, &["run", "--json"], now));
    assert_eq!(
        policy_json(&out, "people")["affected"].as_u64(),
        Some(2),
        "{out}"
    );

    let t = db.text_type();
    let got = db
        .rows(&format!(
            "SELECT name, email, ip, note, CAST(born AS {t}), CAST(seen AS {t}), contact, CAST(score AS {t}) FROM people ORDER BY id"
        ))
        .await;
    let s = |v: &str| Some(v.to_string());
    let hash = |v: &str| s(&retentiond::engine::transform::hash(TEST_KEY.as_bytes(), v));
    assert_eq!(
        got[0],
        vec![
            s("redacted"),
            hash("zoe@example.nl"),
            s("192.0.2.0"),
            None,
            s("1980-01-01"),
            s("2020-06-01 00:00:00"),
            s("example.nl"),
            s("0")
        ]
    );
    assert_eq!(
        got[1],
        vec![
            s("redacted"),
            hash("li@example.org"),
            s("2001:db8:85a3::"),
            None,
            s("1999-01-01"),
            s("2021-02-01 00:00:00"),
            s("example.org"),
            s("0")
        ]
    );
    assert_eq!(
        got[2][0],
        s("Still Here"),
        "a row whose clock has not run out is untouched"
    );
    assert_eq!(got[2][1], s("here@example.nl"));
    // The hash is keyed HMAC-SHA256: 64 lowercase hex characters.
    assert!(
        got[0][1]
            .as_deref()
            .is_some_and(|h| h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit()))
    );

    // Anonymizing is idempotent: a second run selects nothing and changes nothing.
    let before = db.snapshot(&["people"]).await;
    let out = ok(&db.cli(&cfg, &["run", "--json"], now));
    assert_eq!(
        policy_json(&out, "people")["affected"].as_u64(),
        Some(0),
        "{out}"
    );
    assert_eq!(db.snapshot(&["people"]).await, before);
    db.drop().await;
}
on_every_database!(transforms_write_exact_values_once);

const BILLING: &str = r#"
[[policies]]
name = "invoices"
table = "invoices"
since = "issued_at"
retain = "7 years"
round = "end_of_year"
action = "delete"
basis = "test"

[[policies]]
name = "payments"
table = "payments"
since = "paid_at"
retain = "7 years"
round = "end_of_year"
action = "delete"
basis = "test"

[[policies]]
name = "customers"
table = "customers"
since = "created_at"
retain = "1 year"
action = "delete"
basis = "test"
"#;

async fn foreign_keys_children_first_and_blocked(b: Backend) {
    let db = TestDb::new(b).await;
    let ts = db.ts();
    db.exec(&format!(
        "CREATE TABLE customers (id BIGINT PRIMARY KEY, created_at {ts} NOT NULL);
CREATE TABLE invoices (id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL REFERENCES customers(id), issued_at DATE NOT NULL);
CREATE TABLE payments (id BIGINT PRIMARY KEY, invoice_id BIGINT NOT NULL REFERENCES invoices(id), paid_at {ts} NOT NULL);
INSERT INTO customers VALUES (1, '2015-01-01 00:00:00');
INSERT INTO customers VALUES (2, '2015-01-01 00:00:00');
INSERT INTO customers VALUES (3, '2015-01-01 00:00:00');
INSERT INTO invoices VALUES (10, 1, '2016-03-01');
INSERT INTO payments VALUES (100, 10, '2016-03-05 10:00:00');
INSERT INTO payments VALUES (101, 10, '2016-04-05 10:00:00');
INSERT INTO invoices VALUES (20, 2, '2025-03-01')"
    ))
    .await;
    let cfg = db.config(BILLING, "");
    let now = Some("2026-06-01T00:00:00Z");
    let plan = ok(&db.cli(&cfg, &["plan", "--json"], now));
    assert_eq!(
        policy_json(&plan, "invoices")["blocked"].as_u64(),
        Some(1),
        "{plan}"
    );
    assert_eq!(
        policy_json(&plan, "customers")["blocked"].as_u64(),
        Some(2),
        "{plan}"
    );

    // Config order says invoices first; the run deletes payments first, then the invoice.
    let out = ok(&db.cli(&cfg, &["run", "--json"], now));
    assert_eq!(
        policy_json(&out, "payments")["affected"].as_u64(),
        Some(2),
        "{out}"
    );
    assert_eq!(
        policy_json(&out, "invoices")["affected"].as_u64(),
        Some(1),
        "{out}"
    );
    // Customer 2 still has a kept invoice: blocked, not an error. Customers 1 and 3 go.
    let c = policy_json(&out, "customers");
    assert_eq!(
        (c["affected"].as_u64(), c["blocked"].as_u64()),
        (Some(2), Some(1)),
        "{out}"
    );
    let left = db
        .rows(&format!(
            "SELECT CAST(id AS {}) FROM customers",
            db.text_type()
        ))
        .await;
    assert_eq!(left, vec![vec![Some("2".into())]]);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM invoices").await, 1);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM payments").await, 0);
    db.drop().await;
}
on_every_database!(foreign_keys_children_first_and_blocked);
