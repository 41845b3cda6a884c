//! `check --coverage` finds personal data that no policy removes: by column name (an unlisted
//! `phone`), by sampled values (e-mail addresses in a free-text column), and a column that an
//! anonymize policy leaves as it is; it never prints a value. On PostgreSQL, MariaDB and SQLite.

mod common;

use common::{Backend, TestDb, expect_exit, run_cli, stderr};

async fn shop(db: &TestDb) {
    let (id, ts, text) = (db.id_type(), db.ts_type(), db.text_type());
    db.exec(&format!(
        "CREATE TABLE customers (id {id} PRIMARY KEY, name {text} NOT NULL, email {text} NOT NULL, phone {text} NULL, left_at {ts} NOT NULL);
CREATE TABLE messages (id {id} PRIMARY KEY, customer_id {id} NOT NULL, body {text} NOT NULL, sent_at {ts} NOT NULL);
CREATE TABLE leads (id {id} PRIMARY KEY, phone {text} NOT NULL, source {text} NOT NULL);
CREATE TABLE notes (id {id} PRIMARY KEY, body {text} NOT NULL);
CREATE TABLE plans (id {id} PRIMARY KEY, title {text} NOT NULL, price_cents {id} NOT NULL);
INSERT INTO customers VALUES (1, 'Ann', 'ann@example.nl', '+31 6 1234 5678', '2020-01-01 00:00:00');
INSERT INTO messages VALUES (1, 1, 'hello', '2020-01-01 00:00:00');
INSERT INTO leads VALUES (1, '+31 6 8765 4321', 'fair');
INSERT INTO notes VALUES (1, 'call bob@example.com back');
INSERT INTO notes VALUES (2, 'nothing personal');
INSERT INTO plans VALUES (1, 'basic', 995)"
    ))
    .await;
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
since = "left_at"
retain = "90 days"
action = "anonymize"
columns = { name = "redact", email = "hash" }
basis = "test"
"#;

async fn coverage_names_uncovered_personal_columns_without_values(b: Backend) {
    let db = TestDb::new(b).await;
    shop(&db).await;
    let cfg = db.write_config(POLICIES, "");

    let plain = expect_exit(&run_cli(&cfg, &["check"], &[]), 0);
    assert!(!plain.contains("Coverage"), "{plain}");

    let out = expect_exit(&run_cli(&cfg, &["check", "--coverage"], &[]), 0);
    assert!(
        out.contains(
            "warning: leads.phone: its name suggests personal data; no policy covers this table"
        ),
        "{out}"
    );
    assert!(
        out.contains("warning: notes.body: 1 of 2 sampled values look like e-mail addresses"),
        "{out}"
    );
    assert!(
        out.contains("warning: customers.phone: its name suggests personal data; contact leave(s) this column as it is"),
        "{out}"
    );
    for covered in [
        "customers.email",
        "customers.name",
        "messages.body",
        "plans.",
        "leads.source",
    ] {
        assert!(
            !out.contains(covered),
            "{covered} is covered or not personal:\n{out}"
        );
    }
    for value in ["bob@example.com", "+31 6", "ann@example.nl"] {
        assert!(!out.contains(value), "a value was printed: {value}\n{out}");
    }

    let strict = run_cli(&cfg, &["check", "--coverage", "--strict"], &[]);
    expect_exit(&strict, 2);
    assert!(
        stderr(&strict).contains("3 column(s) of personal data are not covered"),
        "{}",
        stderr(&strict)
    );
}

on_every_backend!(coverage_names_uncovered_personal_columns_without_values);
