//! The audit trail agrees with the data, chains across runs, and `audit verify` finds an
//! edited or removed entry by its id. On PostgreSQL, MariaDB and SQLite.

mod common;

use common::{Backend, NOW, TestDb, at, expect_exit, run_cli, stdout};

/// 30 old and 10 recent messages; 10 customers, all past their retention.
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
"#;

async fn sum_for(db: &TestDb, policy: &str) -> i64 {
    db.scalar_i64(&format!(
        "SELECT SUM(rows_affected) FROM retentiond_audit WHERE policy = '{policy}'"
    ))
    .await
}

async fn audit_rows_match_the_data_and_verify_finds_tampering(b: Backend) {
    let db = TestDb::new(b).await;
    shop(&db).await;
    let cfg = db.write_config(POLICIES, "batch_size = 4");

    let out = run_cli(&cfg, &["audit", "verify"], &[]);
    assert!(
        expect_exit(&out, 0).contains("No audit trail yet"),
        "{}",
        stdout(&out)
    );

    expect_exit(&run_cli(&cfg, &["run"], &at(NOW)), 0);
    let deleted = 40 - db.count("messages").await;
    let anonymized = db
        .scalar_i64("SELECT COUNT(*) FROM customers WHERE email = 'example.nl'")
        .await;
    assert_eq!((deleted, anonymized), (30, 10));
    assert_eq!(sum_for(&db, "messages").await, deleted);
    assert_eq!(sum_for(&db, "contact").await, anonymized);
    assert_eq!(
        db.count("retentiond_audit").await,
        8 + 3,
        "30 rows in batches of 4, 10 rows in batches of 4"
    );

    // A second run, a day later, on new expired rows: the chain continues across runs.
    db.exec("INSERT INTO messages VALUES (41, '2020-01-01 10:00:00')")
        .await;
    expect_exit(&run_cli(&cfg, &["run"], &at("2027-03-02T00:00:00Z")), 0);
    assert_eq!(sum_for(&db, "messages").await, 31);
    let verify = expect_exit(&run_cli(&cfg, &["audit", "verify"], &[]), 0);
    assert!(
        verify.contains("is intact: 12 entries, 41 rows"),
        "{verify}"
    );

    // Edit one entry's count: verify fails and names that entry.
    let id = db
        .scalar_i64("SELECT MIN(id) + 2 FROM retentiond_audit")
        .await;
    let original = db
        .scalar_i64(&format!(
            "SELECT rows_affected FROM retentiond_audit WHERE id = {id}"
        ))
        .await;
    db.exec(&format!(
        "UPDATE retentiond_audit SET rows_affected = rows_affected - 1 WHERE id = {id}"
    ))
    .await;
    let out = run_cli(&cfg, &["audit", "verify"], &[]);
    let text = expect_exit(&out, 1);
    assert!(
        text.contains(&format!("BROKEN at entry id {id}:")) && text.contains("edited"),
        "{text}"
    );

    // Put it back: intact again (the check is exact, not a heuristic).
    db.exec(&format!(
        "UPDATE retentiond_audit SET rows_affected = {original} WHERE id = {id}"
    ))
    .await;
    expect_exit(&run_cli(&cfg, &["audit", "verify"], &[]), 0);

    // Remove an entry: the one after it no longer links.
    db.exec(&format!("DELETE FROM retentiond_audit WHERE id = {id}"))
        .await;
    let next = db
        .scalar_i64(&format!(
            "SELECT MIN(id) FROM retentiond_audit WHERE id > {id}"
        ))
        .await;
    let text = expect_exit(&run_cli(&cfg, &["audit", "verify"], &[]), 1);
    assert!(
        text.contains(&format!("BROKEN at entry id {next}:")) && text.contains("removed"),
        "{text}"
    );
}

/// A batch that the database refuses (here: a trigger protecting message 5) fails the run
/// with exit 1: the batches before it stay committed with their audit entries, the failed
/// batch writes neither rows nor an entry, and the run is recorded as failed.
async fn a_failed_batch_writes_neither_rows_nor_audit(b: Backend) {
    let db = TestDb::new(b).await;
    shop(&db).await;
    let trigger = match b {
        Backend::Postgres => {
            "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'message 5 is protected'; END $$ LANGUAGE plpgsql;
CREATE TRIGGER protect BEFORE DELETE ON messages FOR EACH ROW WHEN (OLD.id = 5) EXECUTE FUNCTION refuse()"
        }
        Backend::MariaDb => {
            "CREATE TRIGGER protect BEFORE DELETE ON messages FOR EACH ROW IF OLD.id = 5 THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'message 5 is protected'; END IF"
        }
        Backend::Sqlite => {
            "CREATE TRIGGER protect BEFORE DELETE ON messages WHEN OLD.id = 5 BEGIN SELECT RAISE(ABORT, 'message 5 is protected'); END"
        }
    };
    db.exec(trigger).await;
    let cfg = db.write_config(POLICIES, "batch_size = 2");
    let out = run_cli(&cfg, &["run", "--policy", "messages"], &at(NOW));
    expect_exit(&out, 1);
    let err = common::stderr(&out);
    assert!(err.contains("message 5 is protected"), "{err}");
    assert_eq!(
        db.ids("messages").await,
        (5..=40).collect::<Vec<i64>>(),
        "batches 1-2 and 3-4 are committed, 5-6 is not"
    );
    assert_eq!(db.count("retentiond_audit").await, 2);
    assert_eq!(sum_for(&db, "messages").await, 4);
    assert_eq!(
        db.scalar_opt_string(
            "SELECT status FROM retentiond_runs WHERE id = (SELECT MAX(id) FROM retentiond_runs)"
        )
        .await
        .as_deref(),
        Some("failed")
    );
    expect_exit(&run_cli(&cfg, &["audit", "verify"], &[]), 0);
}

/// `audit export` gives an auditor the entries of a run, a policy or a period as JSON or CSV,
/// with the chain's verdict, and no personal data: a text key (an e-mail address) is `*`.
async fn audit_export_selects_entries_and_states_the_chain(b: Backend) {
    let db = TestDb::new(b).await;
    shop(&db).await;
    let (text, ts) = (db.text_type(), db.ts_type());
    db.exec(&format!(
        "CREATE TABLE newsletter (email {text} PRIMARY KEY, left_at {ts} NOT NULL);
INSERT INTO newsletter VALUES ('ann@example.nl', '2020-01-01 00:00:00');
INSERT INTO newsletter VALUES ('bob@example.nl', '2020-01-01 00:00:00')"
    ))
    .await;
    let policies = format!(
        "{POLICIES}
[[policies]]
name = \"newsletter\"
table = \"newsletter\"
since = \"left_at\"
retain = \"1 year\"
action = \"delete\"
basis = \"test\"
"
    );
    let cfg = db.write_config(&policies, "batch_size = 4");
    expect_exit(&run_cli(&cfg, &["run"], &at(NOW)), 0);
    db.exec("INSERT INTO messages VALUES (41, '2020-01-01 10:00:00')")
        .await;
    expect_exit(&run_cli(&cfg, &["run"], &at("2027-03-02T00:00:00Z")), 0);
    let first_run = db.scalar_i64("SELECT MIN(id) FROM retentiond_runs").await;

    let export = |args: &[&str]| run_cli(&cfg, &[&["audit", "export"][..], args].concat(), &[]);
    let run_id = first_run.to_string();
    let out = export(&["--run", &run_id, "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&expect_exit(&out, 0)).unwrap_or_default();
    let entries = doc["entries"].as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 8 + 3 + 1, "{doc:#}");
    assert!(
        entries
            .iter()
            .all(|e| e["run_id"].as_i64() == Some(first_run) && e["verified"] == true)
    );
    assert_eq!(doc["chain"]["intact"], true, "{doc:#}");
    assert_eq!(doc["chain"]["entries"].as_u64(), Some(13), "{doc:#}");
    let newsletter: Vec<_> = entries
        .iter()
        .filter(|e| e["policy"] == "newsletter")
        .collect();
    assert_eq!(newsletter.len(), 1, "{doc:#}");
    assert_eq!(
        (
            newsletter[0]["key_first"].as_str(),
            newsletter[0]["key_last"].as_str()
        ),
        (Some("*"), Some("*"))
    );
    let all = common::stdout(&out);
    assert!(
        !all.contains("ann@") && !all.contains("example.nl"),
        "an address leaked: {doc:#}"
    );

    // CSV of one policy over both runs: a header and one line per entry, 13 fields each.
    let csv = expect_exit(&export(&["--policy", "messages"]), 0);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("id,run_id,policy,table,action,batch,rows,key_first,key_last"),
        "{csv}"
    );
    assert_eq!(lines.len(), 1 + 8 + 1, "{csv}");
    let rows: i64 = lines[1..]
        .iter()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!((f.len(), f[2], f[12]), (13, "messages", "true"), "{l}");
            f[6].parse::<i64>().unwrap_or(-1)
        })
        .sum();
    assert_eq!(rows, 31, "{csv}");

    // A period: the entries were recorded today (by the wall clock, not the test's).
    let today = chrono::Utc::now().date_naive().to_string();
    let doc = |args: &[&str]| -> serde_json::Value {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        serde_json::from_str(&expect_exit(&export(&all), 0)).unwrap_or_default()
    };
    let n = |d: serde_json::Value| d["entries"].as_array().map_or(0, Vec::len);
    assert_eq!(n(doc(&["--from", &today, "--to", &today])), 13);
    assert_eq!(n(doc(&["--to", "2020-12-31"])), 0);
    assert_eq!(n(doc(&["--from", &today, "--policy", "contact"])), 3);

    // To a file.
    let file = cfg.with_extension("csv");
    let said = expect_exit(
        &export(&["--run", &run_id, "--output", &file.display().to_string()]),
        0,
    );
    assert!(
        said.contains("Wrote 12 audit entries") && said.contains("intact"),
        "{said}"
    );
    let written = std::fs::read_to_string(&file).unwrap_or_default();
    assert_eq!(written.lines().count(), 13, "{written}");

    // An edited entry: the export still comes, marks the entries from the break, exits 1.
    let id = db
        .scalar_i64("SELECT MIN(id) + 2 FROM retentiond_audit")
        .await;
    db.exec(&format!(
        "UPDATE retentiond_audit SET rows_affected = 0 WHERE id = {id}"
    ))
    .await;
    let out = export(&["--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&expect_exit(&out, 1)).unwrap_or_default();
    assert_eq!(
        (
            doc["chain"]["intact"].as_bool(),
            doc["chain"]["broken_at"].as_i64()
        ),
        (Some(false), Some(id)),
        "{doc:#}"
    );
    let verified: Vec<bool> = doc["entries"]
        .as_array()
        .map(|es| es.iter().map(|e| e["verified"] == true).collect())
        .unwrap_or_default();
    assert_eq!(verified.iter().filter(|v| **v).count(), 2, "{doc:#}");
    assert!(common::stderr(&out).contains(&format!("BROKEN at entry id {id}")));
}

on_every_backend!(
    audit_rows_match_the_data_and_verify_finds_tampering,
    a_failed_batch_writes_neither_rows_nor_audit,
    audit_export_selects_entries_and_states_the_chain,
);
