//! Erasure requests: `erase --subject` deletes a customer's messages and strips the contact
//! fields now, keeps the invoices a legal obligation keeps (saying why and until when), leaves
//! held records, records a request id and the audit trail; `erase --replay` erases again what a
//! restored backup brought back. On PostgreSQL, MariaDB and SQLite. The answer to the data
//! subject is checked against the reviewed golden files `tests/golden/erase-answer.*` in
//! English and Dutch, Markdown and HTML; after a deliberate change of wording,
//! `RETENTIOND_BLESS=1 cargo test --test erase` rewrites them (review the diff).

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
kept_for = "legal_obligation"
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

/// The lines under a Markdown heading, up to the next heading.
fn section<'a>(answer: &'a str, heading: &str) -> &'a str {
    let Some(start) = answer.find(&format!("{heading}\n")) else {
        return "";
    };
    let rest = &answer[start + heading.len() + 1..];
    &rest[..rest.find("\n## ").unwrap_or(rest.len())]
}

/// The file of a SQLite test database.
fn sqlite_file(db: &TestDb) -> std::path::PathBuf {
    std::path::PathBuf::from(
        db.url()
            .trim_start_matches("sqlite://")
            .split('?')
            .next()
            .unwrap_or_default(),
    )
}

/// `erase-20270301-1a2b3c4d` from the answer's "Request: ..." line.
fn request_id(answer: &str) -> &str {
    answer
        .lines()
        .find_map(|l| l.trim_end().strip_prefix("Request: "))
        .expect("request id")
}

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
            &["erase", "--subject", "1", "--output", &answer_arg],
            &[],
        ),
        0,
    );
    let erased = section(&out, "## Erased");
    assert!(
        erased.contains("- Support e-mail: 2 records deleted.\n")
            && erased.contains(
                "- Name and e-mail address: 1 record: the field name replaced by a fixed text."
            ),
        "{out}"
    );
    assert!(
        !erased.contains("hash"),
        "a hashed e-mail is not erased: {out}"
    );
    assert!(
        section(&out, "## Pseudonymised: still personal data").contains(
            "- Name and e-mail address: 1 record: the field email replaced by a hash with a secret key (HMAC)."
        ),
        "{out}"
    );
    assert!(
        section(&out, "## Kept because the law requires it").contains(
            "- Invoices: 1 record. Ground: AWR art. 52(4): 7 years from the end of the year. Kept until 2034-01-01."
        ),
        "{out}"
    );
    assert!(
        section(&out, "## Kept as long as records we keep refer to them").contains(
            "- Customer record: 1 record. Deleted together with the records that refer to them."
        ),
        "{out}"
    );
    assert!(
        section(&out, "## Backups").contains("To complete before sending"),
        "without [erase] backup_retention the answer asks for it: {out}"
    );
    assert!(
        out.contains("Autoriteit Persoonsgegevens") && out.contains("art. 19"),
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
    let request = request_id(&out).to_string();
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
        section(&out, "## Kept while a legal hold lasts").contains(
            "- Support e-mail: 2 records. Kept while the hold lasts, then on their normal schedule: releasing the hold does not erase them."
        ),
        "{out}"
    );
    assert!(
        !section(&out, "## Erased").contains("Support e-mail"),
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
    let file = sqlite_file(&db);
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

/// A key under which nothing is stored gets an answer that says so, not an empty list.
#[tokio::test]
async fn an_unknown_subject_is_told_that_nothing_was_found() {
    let db = TestDb::new(Backend::Sqlite).await;
    shop(&db).await;
    let cfg = db.write_config(POLICIES, "");
    let out = expect_exit(&run_cli(&cfg, &["erase", "--subject", "999"], &[]), 0);
    assert!(
        out.contains("No record was found under the key 999"),
        "{out}"
    );
    assert!(!out.contains("## Erased"), "{out}");
    assert!(out.contains("Autoriteit Persoonsgegevens"), "{out}");
    let nl = expect_exit(
        &run_cli(&cfg, &["erase", "--subject", "999", "--lang", "nl"], &[]),
        0,
    );
    assert!(
        nl.contains("Onder de sleutel 999 is geen enkel gegeven gevonden"),
        "{nl}"
    );

    // Without --lang the answer speaks the language the controller's summary is set to.
    let outbox = db.dir.path().join("mail");
    let report = format!(
        "[report]\nto = [\"privacy@shop.example\"]\nfrom = \"retentiond@shop.example\"\n\
         smtp_url = \"file://{}\"\nlanguage = \"nl\"\n\n{POLICIES}",
        outbox.display()
    );
    let dutch = db.write_config(&report, "");
    let nl = expect_exit(&run_cli(&dutch, &["erase", "--subject", "999"], &[]), 0);
    assert!(
        nl.contains("Onder de sleutel 999 is geen enkel gegeven gevonden"),
        "{nl}"
    );
}

const ANSWER_POLICIES: &str = r#"
[erase]
backup_retention = "35 days"

[[policies]]
name = "messages"
category = "Support e-mail"
table = "messages"
since = "sent_at"
retain = "6 months"
action = "delete"
basis = "not needed after 6 months"
subject = "customer_id"
nl = { category = "Klantenservice-e-mail" }

[[policies]]
name = "invoices"
category = "Invoices"
table = "invoices"
since = "issued_at"
retain = "7 years"
round = "end_of_year"
action = "delete"
basis = "AWR art. 52(4): the administration is kept 7 years from the end of the year"
kept_for = "legal_obligation"
subject = "customer_id"
nl = { category = "Facturen", basis = "Art. 52 lid 4 AWR: de administratie wordt 7 jaar bewaard vanaf het einde van het jaar" }

[[policies]]
name = "contact"
category = "Name, e-mail address & IP address <at sign-up>"
table = "customers"
since = "created_at"
retain = "2 years"
action = "anonymize"
columns = { name = "redact", email = "hash", ip_address = "truncate_ip" }
basis = "not needed after the contract"
subject = "id"
nl = { category = "Naam, e-mailadres & IP-adres <bij aanmelding>" }

[[policies]]
name = "terms"
category = "Customer record with the proof that the terms were accepted"
table = "customers"
since = "created_at"
retain = "5 years"
action = "delete"
basis = "BW 6:233-6:234 (burden of proof), BW 3:307 (5-year limitation): GDPR art. 17(3)(e)"
kept_for = "legal_claims"
subject = "id"
nl = { category = "Klantgegevens met het bewijs dat de voorwaarden zijn aanvaard", basis = "Art. 6:233-6:234 BW (bewijslast), art. 3:307 BW (verjaring na 5 jaar): art. 17 lid 3 onder e AVG" }

[[policies]]
name = "suppression"
category = "E-mail address of someone who withdrew consent (do-not-mail list)"
table = "consents"
since = "withdrawn_at"
retain = "1 day"
action = "anonymize"
columns = { email = "hash" }
basis = "GDPR art. 7(3): the address is kept off future mailings"
kept_for = "suppression"
subject = "customer_id"
nl = { category = "E-mailadres van wie de toestemming introk (afmeldlijst)", basis = "Art. 7 lid 3 AVG: het adres blijft buiten toekomstige mailings" }
"#;

/// One erasure with every kind of answer (erased, pseudonymised, kept for a legal obligation,
/// for legal claims, on the do-not-mail list, held), rendered in both languages and both
/// formats from the same database state, as the golden files say. The request id is the one
/// part that differs per run; it is replaced before comparing.
#[tokio::test]
async fn the_answer_matches_the_reviewed_golden_files() {
    let db = TestDb::new(Backend::Sqlite).await;
    shop(&db).await;
    db.exec(
        "ALTER TABLE customers ADD COLUMN ip_address TEXT;
UPDATE customers SET ip_address = '198.51.100.23';
CREATE TABLE consents (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, email TEXT NOT NULL, withdrawn_at TEXT);
INSERT INTO consents VALUES (1, 1, 'c1@example.nl', '2026-06-01 09:00:00')",
    )
    .await;
    let cfg = db.write_config(ANSWER_POLICIES, "");
    expect_exit(
        &run_cli(
            &cfg,
            &[
                "hold", "add", "--table", "messages", "--key", "12", "--reason", "dispute", "--by",
                "ann",
            ],
            &[],
        ),
        0,
    );
    let file = sqlite_file(&db);
    let before = db.dir.path().join("before.db");
    std::fs::copy(&file, &before).expect("copy the database");
    for (lang, format, golden) in [
        ("en", "markdown", "erase-answer.en.md"),
        ("nl", "markdown", "erase-answer.nl.md"),
        ("en", "html", "erase-answer.en.html"),
        ("nl", "html", "erase-answer.nl.html"),
    ] {
        std::fs::copy(&before, &file).expect("restore the database");
        let out = expect_exit(
            &run_cli(
                &cfg,
                &[
                    "erase",
                    "--subject",
                    "1",
                    "--lang",
                    lang,
                    "--format",
                    format,
                ],
                &common::at(common::NOW),
            ),
            0,
        );
        let request = out
            .split("erase-")
            .nth(1)
            .and_then(|rest| rest.get(..17))
            .expect("a request id");
        let out = out.replace(&format!("erase-{request}"), "erase-20270301-0000000a");
        check_golden(&out, golden);
    }
    // The answer is about the erasure that ran: its effects are in the database.
    assert_eq!(db.ids("messages").await, vec![12, 21, 22]);
    assert_eq!(
        db.scalar_opt_string("SELECT ip_address FROM customers WHERE id = 1")
            .await
            .as_deref(),
        Some("198.51.100.0")
    );
    let hashed = db
        .scalar_opt_string("SELECT email FROM consents WHERE id = 1")
        .await
        .unwrap_or_default();
    assert_eq!(hashed.len(), 64, "the do-not-mail entry is kept as a hash");
}

fn check_golden(out: &str, golden: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(golden);
    if std::env::var_os("RETENTIOND_BLESS").is_some() {
        std::fs::write(&path, out).expect("write the golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run with RETENTIOND_BLESS=1 once", path.display()));
    assert!(
        out == expected,
        "the answer differs from {}:\n--- got:\n{out}\n--- expected:\n{expected}",
        path.display()
    );
}
