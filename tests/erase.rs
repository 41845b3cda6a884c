//! Erasure requests: `erase --subject` deletes a customer's messages and strips the contact
//! fields now, keeps the invoices a legal obligation keeps (saying why and until when), leaves
//! held records, records a request id and the audit trail; `erase --replay` erases again what a
//! restored backup brought back. On PostgreSQL, MariaDB and SQLite.

mod common;

use common::{Backend, TestDb, expect_exit, json_ok, run_cli};

async fn shop(db: &TestDb) {
    let (id, ts, text) = (db.id_type(), db.ts_type(), db.text_type());
    let mut sql = format!(
        "CREATE TABLE customers (id {id} PRIMARY KEY, name {text} NOT NULL, email {text} NOT NULL, created_at {ts} NOT NULL);
CREATE TABLE messages (id {id} PRIMARY KEY, customer_id {id} NOT NULL, sent_at {ts} NOT NULL);
CREATE TABLE invoices (id {id} PRIMARY KEY, customer_id {id} NOT NULL REFERENCES customers (id), issued_at {ts} NOT NULL)"
    );
    for c in 1..=2 {
        sql.push_str(&format!(
            ";\nINSERT INTO customers VALUES ({c}, 'Customer {c}', 'c{c}@example.nl', '2026-01-01 00:00:00');
INSERT INTO messages VALUES ({}, {c}, '2026-11-01 10:00:00');
INSERT INTO messages VALUES ({}, {c}, '2026-11-02 10:00:00');
INSERT INTO invoices VALUES ({c}, {c}, '2026-03-01 10:00:00')",
            c * 10 + 1,
            c * 10 + 2
        ));
    }
    db.exec(&sql).await;
}

const POLICIES: &str = r#"
[[policies]]
name = "messages"
category = "Support e-mail"
table = "messages"
since = "sent_at"
retain = "6 months"
action = "delete"
basis = "not needed after 6 months"
subject = "customer_id"

[[policies]]
name = "invoices"
category = "Invoices"
table = "invoices"
since = "issued_at"
retain = "7 years"
round = "end_of_year"
action = "delete"
basis = "AWR art. 52(4): 7 years from the end of the year"
keep_for_obligation = true
subject = "customer_id"

[[policies]]
name = "contact"
category = "Name and e-mail address"
table = "customers"
since = "created_at"
retain = "2 years"
action = "anonymize"
columns = { name = "redact", email = "hash" }
basis = "not needed after the contract"
subject = "id"

[[policies]]
name = "customers"
category = "Customer record"
table = "customers"
since = "created_at"
retain = "10 years"
action = "delete"
basis = "not needed after the contract"
subject = "id"
"#;

async fn erase_deletes_strips_keeps_and_replays(b: Backend) {
    let db = TestDb::new(b).await;
    shop(&db).await;
    let cfg = db.write_config(POLICIES, "");
    let before = db.checksum_all().await;

    let dry = json_ok(&run_cli(
        &cfg,
        &["erase", "--subject", "1", "--dry-run", "--json"],
        &[],
    ));
    assert_eq!(dry[0]["dry_run"], true, "{dry:#}");
    assert_eq!(dry[0]["erased"][0]["rows"], 2, "{dry:#}");
    assert_eq!(db.checksum_all().await, before, "the dry run changed data");
    assert_eq!(db.own_tables().await, Vec::<String>::new());

    let answer_file = db.dir.path().join("answer.md");
    let answer_arg = answer_file.to_string_lossy().to_string();
    let out = expect_exit(
        &run_cli(
            &cfg,
            &["erase", "--subject", "1", "--markdown", &answer_arg],
            &[],
        ),
        0,
    );
    assert!(
        out.contains("- Support e-mail: 2 record(s) deleted."),
        "{out}"
    );
    assert!(
        out.contains(
            "- Name and e-mail address: 1 record(s) anonymized (email replaced by a keyed hash (pseudonymised), name redacted)."
        ),
        "{out}"
    );
    assert!(
        out.contains("- Invoices: 1 record(s), kept because: AWR art. 52(4): 7 years from the end of the year. Deleted on or after 2034-01-01 (7 years from the end of the year of issued_at)"),
        "{out}"
    );
    assert!(
        out.contains("- Customer record: 1 record(s) still referenced by records that are kept"),
        "{out}"
    );
    assert!(
        !out.contains("c1@example.nl") && !out.contains("Customer 1"),
        "{out}"
    );
    let written = std::fs::read_to_string(&answer_file).expect("answer file");
    assert_eq!(written.trim_end(), out.trim_end());

    assert_eq!(db.ids("messages").await, vec![21, 22]);
    assert_eq!(db.ids("invoices").await, vec![1, 2]);
    let customers = db
        .text_rows("SELECT name, email FROM customers ORDER BY id")
        .await;
    assert_eq!(customers[0][0].as_deref(), Some("redacted"));
    assert_eq!(customers[0][1].as_deref().map(str::len), Some(64));
    assert_eq!(customers[1][0].as_deref(), Some("Customer 2"));

    // The request id is on an audited run; the ledger holds the subject's key, nothing more.
    let request = out
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("# Erasure request "))
        .expect("request id")
        .to_string();
    assert_eq!(
        db.scalar_i64(&format!(
            "SELECT COUNT(*) FROM retentiond_runs WHERE mode = 'erase' AND status = 'ok' AND request_id = '{request}'"
        ))
        .await,
        1
    );
    assert_eq!(
        db.text_rows("SELECT subject, request_id FROM retentiond_erasures")
            .await,
        vec![vec![Some("1".to_string()), Some(request.clone())]]
    );
    expect_exit(&run_cli(&cfg, &["audit", "verify"], &[]), 0);

    // A backup restore brings customer 1's messages back; the replay erases them again.
    db.exec(
        "INSERT INTO messages VALUES (11, 1, '2026-11-01 10:00:00');
INSERT INTO messages VALUES (12, 1, '2026-11-02 10:00:00')",
    )
    .await;
    let out = expect_exit(&run_cli(&cfg, &["erase", "--replay"], &[]), 0);
    assert!(
        out.contains("Replayed 1 erasure(s) from the ledger: 2 record(s) erased again."),
        "{out}"
    );
    assert_eq!(db.ids("messages").await, vec![21, 22]);
    expect_exit(&run_cli(&cfg, &["audit", "verify"], &[]), 0);
}

/// A legal hold wins over an erasure request: the held subject's records stay, and the answer
/// says so.
async fn held_subject_is_not_erased(b: Backend) {
    let db = TestDb::new(b).await;
    shop(&db).await;
    let cfg = db.write_config(POLICIES, "");
    expect_exit(
        &run_cli(
            &cfg,
            &[
                "hold",
                "add",
                "--subject",
                "2",
                "--reason",
                "court case",
                "--by",
                "ann",
            ],
            &[],
        ),
        0,
    );
    let out = expect_exit(&run_cli(&cfg, &["erase", "--subject", "2"], &[]), 0);
    assert!(
        out.contains("- Support e-mail: 2 record(s) under a legal hold"),
        "{out}"
    );
    assert_eq!(db.ids("messages").await, vec![11, 12, 21, 22]);
}

on_every_backend!(
    erase_deletes_strips_keeps_and_replays,
    held_subject_is_not_erased
);

/// A real restore: the SQLite file is copied before the erasure and copied back after it, so the
/// database's own ledger is rolled back too; the ledger file outside it brings the erasure back.
#[tokio::test]
async fn replay_after_restoring_a_backup_uses_the_ledger_file() {
    let db = TestDb::new(Backend::Sqlite).await;
    shop(&db).await;
    let ledger = db.dir.path().join("ledger.jsonl");
    let cfg = db.write_config(
        &format!(
            "[erase]\nledger_file = \"{}\"\n{POLICIES}",
            ledger.display()
        ),
        "",
    );
    let file = std::path::PathBuf::from(
        db.url()
            .trim_start_matches("sqlite://")
            .split('?')
            .next()
            .unwrap_or_default(),
    );
    let backup = db.dir.path().join("backup.db");
    std::fs::copy(&file, &backup).expect("back up the database");

    expect_exit(&run_cli(&cfg, &["erase", "--subject", "1"], &[]), 0);
    assert_eq!(db.ids("messages").await, vec![21, 22]);
    let line = std::fs::read_to_string(&ledger).expect("ledger file");
    assert!(
        line.contains("\"subject\":\"1\"") && !line.contains("example.nl"),
        "{line}"
    );

    std::fs::copy(&backup, &file).expect("restore the backup");
    assert_eq!(
        db.ids("messages").await,
        vec![11, 12, 21, 22],
        "the restore brought them back"
    );
    let out = expect_exit(&run_cli(&cfg, &["erase", "--replay"], &[]), 0);
    // Its two messages deleted and its contact fields stripped again.
    assert!(out.contains("3 record(s) erased again"), "{out}");
    assert_eq!(db.ids("messages").await, vec![21, 22]);
    assert_eq!(
        db.scalar_opt_string("SELECT name FROM customers WHERE id = 1")
            .await
            .as_deref(),
        Some("redacted")
    );
}
