//! Legal holds: a held subject's records, and a held record, are untouched by every policy
//! while everything else expired is purged; after release the next run purges them. On
//! PostgreSQL, MariaDB and SQLite.

mod common;

use common::{Backend, NOW, TestDb, at, expect_exit, field, json_ok, run_cli, stdout};

/// Customers 1–3 (all former customers), each with two messages from 2020, an invoice and a
/// payment from 2015. Payments reach their customer through the invoice.
async fn shop(db: &TestDb) {
    let (id, ts, text) = (db.id_type(), db.ts_type(), db.text_type());
    let mut sql = format!(
        "CREATE TABLE customers (id {id} PRIMARY KEY, name {text} NOT NULL, left_at {ts} NOT NULL);
CREATE TABLE messages (id {id} PRIMARY KEY, customer_id {id} NOT NULL, sent_at {ts} NOT NULL);
CREATE TABLE invoices (id {id} PRIMARY KEY, customer_id {id} NOT NULL, issued_at {ts} NOT NULL);
CREATE TABLE payments (id {id} PRIMARY KEY, invoice_id {id} NOT NULL, paid_at {ts} NOT NULL)"
    );
    for c in 1..=3 {
        sql.push_str(&format!(
            ";\nINSERT INTO customers VALUES ({c}, 'Customer {c}', '2020-01-01 00:00:00');
INSERT INTO messages VALUES ({}, {c}, '2020-01-01 10:00:00');
INSERT INTO messages VALUES ({}, {c}, '2020-02-01 10:00:00');
INSERT INTO invoices VALUES ({c}, {c}, '2015-01-01 10:00:00');
INSERT INTO payments VALUES ({c}, {c}, '2015-01-02 10:00:00')",
            c * 10 + 1,
            c * 10 + 2
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
subject = "customer_id"

[[policies]]
name = "payments"
table = "payments"
since = "paid_at"
retain = "7 years"
action = "delete"
basis = "test"
subject = { table = "invoices", column = "customer_id", match = { invoice_id = "id" } }

[[policies]]
name = "contact"
table = "customers"
since = "left_at"
retain = "90 days"
action = "anonymize"
columns = { name = "redact" }
basis = "test"
subject = "id"
"#;

/// `hold add` on 2020-01-01 (the review dates below lie after it).
fn hold(cfg: &std::path::Path, args: &[&str]) -> String {
    let mut all = vec!["hold", "add", "--reason", "tax audit", "--by", "ann"];
    all.extend_from_slice(args);
    expect_exit(&run_cli(cfg, &all, &at("2020-01-01T00:00:00Z")), 0)
}

async fn held_subject_and_record_are_kept_until_released(b: Backend) {
    let db = TestDb::new(b).await;
    shop(&db).await;
    let cfg = db.write_config(POLICIES, "");

    let out = hold(&cfg, &["--subject", "1", "--until", "2020-06-30"]);
    assert!(
        out.contains("Hold 1 set on every record of subject 1"),
        "{out}"
    );
    let out = hold(&cfg, &["--table", "messages", "--key", "21"]);
    assert!(out.contains("Hold 2 set on record 21 of messages"), "{out}");

    let plan = json_ok(&run_cli(&cfg, &["plan", "--json"], &at(NOW)));
    assert_eq!(
        (
            field(&plan, "messages", "held"),
            field(&plan, "messages", "eligible")
        ),
        (3, 3),
        "{plan:#}"
    );
    assert_eq!(field(&plan, "payments", "held"), 1, "{plan:#}");
    assert_eq!(field(&plan, "contact", "held"), 1, "{plan:#}");

    let run = json_ok(&run_cli(&cfg, &["run", "--json"], &at(NOW)));
    assert_eq!(field(&run, "messages", "affected"), 3, "{run:#}");
    assert_eq!(field(&run, "messages", "held"), 3, "{run:#}");
    assert_eq!(field(&run, "payments", "affected"), 2, "{run:#}");
    assert_eq!(db.ids("messages").await, vec![11, 12, 21]);
    assert_eq!(db.ids("payments").await, vec![1]);
    assert_eq!(
        db.text_rows("SELECT name FROM customers ORDER BY id").await,
        vec![
            vec![Some("Customer 1".to_string())],
            vec![Some("redacted".to_string())],
            vec![Some("redacted".to_string())],
        ]
    );
    // The subject hold's review date has passed: the summary lists it, without its reason.
    let stale = run["stale_holds"].as_array().cloned().unwrap_or_default();
    assert_eq!(stale.len(), 1, "{run:#}");
    let line = stale[0].as_str().unwrap_or_default();
    assert!(
        line.contains("hold 1 on subject 1") && !line.contains("tax audit"),
        "{line}"
    );

    let list = expect_exit(&run_cli(&cfg, &["hold", "list"], &[]), 0);
    assert!(
        list.contains("subject 1") && list.contains("record messages 21"),
        "{list}"
    );
    assert!(list.contains("2020-06-30 (past)"), "{list}");

    let release = |id: &str| {
        let args = [
            "hold",
            "release",
            id,
            "--reason",
            "audit closed",
            "--by",
            "bo",
        ];
        run_cli(&cfg, &args, &[])
    };
    expect_exit(&release("1"), 0);
    expect_exit(&release("2"), 0);
    let again = release("2");
    assert!(expect_exit(&again, 2).is_empty());
    let list = stdout(&run_cli(&cfg, &["hold", "list"], &[]));
    assert!(list.contains("No holds in force"), "{list}");
    // Who released each hold and why stays with it.
    let all = json_ok(&run_cli(&cfg, &["hold", "list", "--all", "--json"], &[]));
    let released: Vec<(Option<&str>, Option<&str>)> = all
        .as_array()
        .map(|hs| {
            hs.iter()
                .map(|h| (h["released_by"].as_str(), h["release_reason"].as_str()))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        released,
        vec![(Some("bo"), Some("audit closed")); 2],
        "{all:#}"
    );
    let table = stdout(&run_cli(&cfg, &["hold", "list", "--all"], &[]));
    assert!(table.contains("by bo: audit closed"), "{table}");

    let run = json_ok(&run_cli(&cfg, &["run", "--json"], &at(NOW)));
    assert_eq!(field(&run, "messages", "affected"), 3, "{run:#}");
    assert_eq!(field(&run, "payments", "affected"), 1, "{run:#}");
    assert_eq!(db.count("messages").await, 0);
    assert_eq!(db.count("payments").await, 0);
}

/// Holds are evidence: one without a name for who acted, or with a review date already past
/// (a typo in the year, mostly), is refused with exit 2 and writes nothing.
async fn holds_need_a_name_and_a_review_date_to_come(b: Backend) {
    let db = TestDb::new(b).await;
    shop(&db).await;
    let cfg = db.write_config(POLICIES, "");
    let nobody = [("USER", ""), ("LOGNAME", ""), ("SUDO_USER", "")];

    let out = run_cli(
        &cfg,
        &["hold", "add", "--subject", "1", "--reason", "x"],
        &nobody,
    );
    expect_exit(&out, 2);
    assert!(
        common::stderr(&out).contains("--by NAME is required"),
        "{}",
        common::stderr(&out)
    );

    let past = run_cli(
        &cfg,
        &[
            "hold",
            "add",
            "--subject",
            "1",
            "--reason",
            "x",
            "--by",
            "ann",
            "--until",
            "2027-02-28",
        ],
        &at(NOW),
    );
    expect_exit(&past, 2);
    assert!(
        common::stderr(&past).contains("--until 2027-02-28 is in the past (today is 2027-03-01)"),
        "{}",
        common::stderr(&past)
    );
    assert!(
        !db.has_table("retentiond_holds").await,
        "a refused hold wrote"
    );

    // Today is not past; the login name is taken when --by is not given.
    let env = [at(NOW)[0], ("USER", "carla")];
    let out = run_cli(
        &cfg,
        &[
            "hold",
            "add",
            "--subject",
            "1",
            "--reason",
            "x",
            "--until",
            "2027-03-01",
        ],
        &env,
    );
    assert!(
        expect_exit(&out, 0).contains("by carla"),
        "{}",
        stdout(&out)
    );

    let out = run_cli(&cfg, &["hold", "release", "1", "--reason", "done"], &nobody);
    expect_exit(&out, 2);
    assert!(common::stderr(&out).contains("--by NAME is required"));
    let out = run_cli(
        &cfg,
        &["hold", "release", "1", "--reason", "done"],
        &[("USER", "dirk")],
    );
    assert!(
        expect_exit(&out, 0).contains("released by dirk"),
        "{}",
        stdout(&out)
    );
}

/// A hold that no policy would see is refused, and changes nothing.
async fn holds_that_would_keep_nothing_are_refused(b: Backend) {
    let db = TestDb::new(b).await;
    shop(&db).await;
    let cfg = db.write_config(POLICIES, "");
    let cases: [(&[&str], &str); 3] = [
        (
            &["--table", "invoices", "--key", "1"],
            "no policy purges table \"invoices\"",
        ),
        (
            &["--table", "messages", "--key", "1", "--key", "2"],
            "keyed by (id)",
        ),
        (
            &["--table", "messages", "--key", "1", "--subject", "1"],
            "not both",
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["hold", "add", "--reason", "x"];
        all.extend_from_slice(args);
        let out = run_cli(&cfg, &all, &[]);
        expect_exit(&out, 2);
        let err = common::stderr(&out);
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    let without_subjects = db.write_config(&POLICIES.replace("subject = \"customer_id\"", "").replace("subject = \"id\"", "").replace(
        "subject = { table = \"invoices\", column = \"customer_id\", match = { invoice_id = \"id\" } }",
        "",
    ), "");
    let out = run_cli(
        &without_subjects,
        &["hold", "add", "--subject", "1", "--reason", "x"],
        &[],
    );
    expect_exit(&out, 2);
    assert!(common::stderr(&out).contains("no policy says how its rows belong to a subject"));
    assert_eq!(
        db.own_tables().await,
        Vec::<String>::new(),
        "a refused hold created tables"
    );
}

on_every_backend!(
    held_subject_and_record_are_kept_until_released,
    holds_that_would_keep_nothing_are_refused,
    holds_need_a_name_and_a_review_date_to_come,
);
