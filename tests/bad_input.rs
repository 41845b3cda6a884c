//! Bad input is refused with exit 2, a message naming the config key and the problem, and
//! no change to the database: unknown tables and columns, types that do not fit, malformed
//! periods, SQL in identifiers. An unreachable server is a clear failure (exit 1). On
//! PostgreSQL, MariaDB and SQLite.

mod common;

use common::{Backend, NOW, TestDb, at, expect_exit, run_cli, stderr};

async fn shop(db: &TestDb) {
    let (id, ts, text) = (db.id_type(), db.ts_type(), db.text_type());
    db.exec(&format!(
        "CREATE TABLE customers (id {id} PRIMARY KEY, email {text} NOT NULL, score INTEGER NOT NULL, created_at {ts} NOT NULL);
CREATE TABLE messages (id {id} PRIMARY KEY, customer_id {id} NOT NULL, sent_at {ts} NOT NULL,
  FOREIGN KEY (customer_id) REFERENCES customers (id));
INSERT INTO customers VALUES (1, 'zoe@example.nl', 3, '2016-01-01 00:00:00');
INSERT INTO customers VALUES (2, 'li@example.org', 4, '2016-01-01 00:00:00');
INSERT INTO messages VALUES (1, 1, '2020-01-01 00:00:00');
INSERT INTO messages VALUES (2, 2, '2020-01-01 00:00:00')"
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
since = "created_at"
retain = "5 years"
action = "anonymize"
columns = { email = "hash" }
basis = "test"
"#;

/// (replace this in POLICIES, by this, the config key reported, a part of the message)
const BAD: &[(&str, &str, &str, &str)] = &[
    (
        r#"table = "messages""#,
        r#"table = "mesages""#,
        "policies[0].table",
        r#"table "mesages" does not exist in the database"#,
    ),
    (
        r#"since = "sent_at""#,
        r#"since = "sent""#,
        "policies[0].since",
        r#"column "sent" does not exist in table "messages""#,
    ),
    (
        r#"since = "sent_at""#,
        r#"since = "customer_id""#,
        "policies[0].since",
        "a retention clock needs a date or timestamp column",
    ),
    (
        r#"columns = { email = "hash" }"#,
        r#"columns = { emial = "hash" }"#,
        "policies[1].columns.emial",
        r#"column "emial" does not exist in table "customers""#,
    ),
    (
        r#"columns = { email = "hash" }"#,
        r#"columns = { email = "year_only" }"#,
        "policies[1].columns.email",
        r#""year_only" needs a date or timestamp column; "email" is not one"#,
    ),
    (
        r#"columns = { email = "hash" }"#,
        r#"columns = { score = "hash" }"#,
        "policies[1].columns.score",
        r#""hash" needs a text column; "score" is not one"#,
    ),
    (
        r#"columns = { email = "hash" }"#,
        r#"columns = { email = "shred" }"#,
        "policies[1].columns.email",
        r#""shred" is not a transform"#,
    ),
    (
        r#"retain = "6 months""#,
        r#"retain = "1 fortnight""#,
        "policies[0].retain",
        r#""1 fortnight": unknown unit "fortnight""#,
    ),
    (
        r#"table = "messages""#,
        r#"key = "customer_id"
table = "messages""#,
        "policies[0].key",
        "(customer_id) is not a primary or unique key",
    ),
    (
        r#"table = "messages""#,
        r#"table = "retentiond_audit""#,
        "policies[0].table",
        "is one of retentiond's own tables",
    ),
    (
        r#"table = "messages""#,
        r#"table = 'x"; DROP TABLE customers; --'"#,
        "policies[0].table",
        r#"table "x"; DROP TABLE customers; --" does not exist in the database"#,
    ),
    (
        r#"table = "messages""#,
        r#"table = 'x`; DROP TABLE customers; --'"#,
        "policies[0].table",
        r#"table "x`; DROP TABLE customers; --" does not exist in the database"#,
    ),
    (
        r#"since = "sent_at""#,
        r#"since = 'x"; DROP TABLE customers; --'"#,
        "policies[0].since",
        r#"column "x"; DROP TABLE customers; --" does not exist in table "messages""#,
    ),
    (
        r#"columns = { email = "hash" }"#,
        r#"columns = { 'x"; DROP TABLE customers; --' = "redact" }"#,
        r#"policies[1].columns.x"; DROP TABLE customers; --"#,
        r#"does not exist in table "customers""#,
    ),
    (
        r#"since = "sent_at""#,
        r#"since = { table = "customers", column = "created_at", match = { 'x"; DROP TABLE customers; --' = "id" } }"#,
        "policies[0].since.match",
        r#"column "x"; DROP TABLE customers; --" does not exist in table "messages""#,
    ),
    (
        r#"action = "delete""#,
        r#"action = "delete"
filter = "1 = 1; DROP TABLE customers""#,
        "policies[0].filter",
        "statement separators (;) and comments (--, /* */) are not allowed",
    ),
    (
        r#"action = "delete""#,
        r#"action = "delete"
filter = "no_such_column = 1""#,
        "policies[0].filter",
        "the database rejects this policy's query",
    ),
    (
        r#"action = "delete""#,
        r#"action = "delete"
filter = "1 = 1 /* sneaky */""#,
        "policies[0].filter",
        "statement separators (;) and comments (--, /* */) are not allowed",
    ),
    (
        r#"action = "delete""#,
        r#"action = "delete"
colour = "blue""#,
        "colour",
        "unknown field",
    ),
    (
        r#"retain = "6 months""#,
        r#"retain = 6"#,
        "policies[0].retain",
        "needs a unit after it",
    ),
    (
        r#"retain = "6 months""#,
        r#"retain = "0 days""#,
        "policies[0].retain",
        "must be longer than zero",
    ),
    (
        r#"retain = "6 months""#,
        r#"retain = "-1 days""#,
        "policies[0].retain",
        r#""-1" is not a number"#,
    ),
    (
        r#"retain = "6 months""#,
        r#"retain = "2000 years""#,
        "policies[0].retain",
        "is too long",
    ),
    (
        r#"retain = "6 months""#,
        r#"retain = "6""#,
        "policies[0].retain",
        "needs a unit after it",
    ),
    (
        r#"action = "delete""#,
        r#"action = "delete"
batch_size = 10000000"#,
        "policies[0].batch_size",
        "must be between 1 and 100000",
    ),
    (
        r#"action = "delete""#,
        r#"action = "delete"
batch_size = 0"#,
        "policies[0].batch_size",
        "must be between 1 and 100000",
    ),
    (
        r#"action = "delete""#,
        r#"action = "shred""#,
        "policies[0].action",
        r#""shred" is not known; use "delete" or "anonymize""#,
    ),
    (
        r#"action = "delete""#,
        r#"action = "delete"
round = "end_of_month""#,
        "policies[0].round",
        r#""end_of_month" is not known"#,
    ),
    (
        r#"action = "delete""#,
        r#"action = "delete"
max_fraction = 2.0"#,
        "policies[0].max_fraction",
        "must be a share above 0 and at most 1",
    ),
    (
        r#"basis = "test"
"#,
        "\n",
        "policies[0].basis",
        "is required",
    ),
    (
        r#"name = "contact""#,
        r#"name = "messages""#,
        "policies[1].name",
        "messages",
    ),
    (
        r#"table = "messages""#,
        // A Cyrillic "е" that looks like the Latin one.
        "table = \"m\u{0435}ssages\"",
        "policies[0].table",
        "does not exist in the database",
    ),
    (
        r#"since = "sent_at""#,
        r#"since = "sent_at"
subject = "owner_id""#,
        "policies[0].subject",
        r#"column "owner_id" does not exist in table "messages""#,
    ),
    (
        r#"since = "created_at""#,
        r#"since = "email""#,
        "policies[1].since",
        "a retention clock needs a date or timestamp column",
    ),
    (
        r#"action = "delete""#,
        r#"action = "delete"
confidence = "maybe""#,
        "policies[0].confidence",
        r#""maybe" is not known"#,
    ),
    (
        r#"action = "delete""#,
        r#"action = "delete"
nl = { categorie = "Berichten" }"#,
        "categorie",
        "unknown field",
    ),
];

async fn bad_policies_exit_2_name_the_key_and_change_nothing(b: Backend) {
    let db = TestDb::new(b).await;
    shop(&db).await;
    let before = db.checksum_all().await;
    // The cases run side by side (each fails before writing anything).
    std::thread::scope(|s| {
        for (from, to, path, message) in BAD {
            assert!(POLICIES.contains(from), "{from} is not in POLICIES");
            let cfg = db.write_config(&POLICIES.replacen(from, to, 1), "");
            s.spawn(move || {
                for args in [&["check"][..], &["plan"][..], &["run"][..]] {
                    let out = run_cli(&cfg, args, &at(NOW));
                    expect_exit(&out, 2);
                    let err = stderr(&out);
                    assert!(
                        err.contains(path) && err.contains(message),
                        "{to} with {args:?}: expected `{path}` and `{message}` in:\n{err}"
                    );
                }
            });
        }
    });
    assert_eq!(
        db.checksum_all().await,
        before,
        "bad input changed the database"
    );
    assert!(db.has_table("customers").await);
    assert_eq!(
        db.own_tables().await,
        Vec::<String>::new(),
        "bad input created retentiond's tables"
    );
    // The same database with the good config works.
    let cfg = db.write_config(POLICIES, "");
    expect_exit(&run_cli(&cfg, &["check"], &[]), 0);
}

/// An unknown `--policy` name, and a `hash` without a key, are usage errors.
async fn usage_errors_exit_2(b: Backend) {
    let db = TestDb::new(b).await;
    shop(&db).await;
    let before = db.checksum_all().await;
    let cfg = db.write_config(POLICIES, "");
    let out = run_cli(&cfg, &["run", "--policy", "mesages"], &at(NOW));
    expect_exit(&out, 2);
    assert!(
        stderr(&out).contains("--policy mesages: no such policy; the config has messages, contact"),
        "{}",
        stderr(&out)
    );
    let out = run_cli(&cfg, &["run"], &[("RETENTIOND_HASH__KEY", "")]);
    expect_exit(&out, 2);
    assert!(
        stderr(&out).contains("policies[1].columns: uses \"hash\" but no key is configured"),
        "{}",
        stderr(&out)
    );
    let out = run_cli(&cfg, &["run"], &[("RETENTIOND_HASH__KEY", "short")]);
    expect_exit(&out, 2);
    assert!(
        stderr(&out).contains("hash.key: is too short"),
        "{}",
        stderr(&out)
    );
    assert_eq!(db.checksum_all().await, before);
}

/// A server that does not answer: exit 1 (the run failed; the config may be right and the
/// server down), a message naming the URL without its password, and the reason. A SQLite
/// file that cannot be opened is the config's to fix: exit 2.
async fn an_unreachable_database_is_a_clear_failure(b: Backend) {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("no-such-dir").join("shop.db");
    let (url, shown, reason) = match b {
        Backend::Postgres => (
            "postgres://postgres:s3cret@127.0.0.1:1/shop".to_string(),
            "postgres://postgres:***@127.0.0.1:1/shop".to_string(),
            "refused",
        ),
        Backend::MariaDb => (
            "mysql://root:s3cret@127.0.0.1:1/shop".to_string(),
            "mysql://root:***@127.0.0.1:1/shop".to_string(),
            "refused",
        ),
        Backend::Sqlite => {
            let url = format!("sqlite://{}", missing.display());
            (url.clone(), url, "unable to open database file")
        }
    };
    let cfg = dir.path().join("retentiond.toml");
    std::fs::write(&cfg, format!("[database]\nurl = \"{url}\"\n{POLICIES}")).expect("write");
    // Both at once: a refused connection is retried for 10 s (the server may be starting).
    let cfg = cfg.as_path();
    let outs = std::thread::scope(|s| {
        let runs: Vec<_> = [&["check"][..], &["run"][..]]
            .into_iter()
            .map(|args| s.spawn(move || (args, run_cli(cfg, args, &at(NOW)))))
            .collect();
        runs.into_iter()
            .map(|r| r.join().expect("a thread running the binary"))
            .collect::<Vec<_>>()
    });
    for (args, out) in outs {
        expect_exit(&out, if b == Backend::Sqlite { 2 } else { 1 });
        let err = stderr(&out);
        assert!(
            err.contains(&format!("cannot connect to {shown}")),
            "{args:?}: {err}"
        );
        assert!(
            err.to_lowercase().contains(reason),
            "{args:?}: the reason ({reason}) is missing: {err}"
        );
        assert!(!err.contains("s3cret"), "the password leaked: {err}");
    }
    assert!(!missing.exists(), "a missing SQLite database was created");
}

/// A URL of an unsupported kind is a config error.
#[test]
fn an_unsupported_database_url_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("retentiond.toml");
    std::fs::write(
        &cfg,
        format!("[database]\nurl = \"oracle://scott:tiger@db/shop\"\n{POLICIES}"),
    )
    .expect("write");
    let out = run_cli(&cfg, &["check"], &[]);
    expect_exit(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains("database.url: must start with postgres://, mysql:// or sqlite://"),
        "{err}"
    );
    assert!(!err.contains("tiger"), "the password leaked: {err}");
}

on_every_backend!(
    bad_policies_exit_2_name_the_key_and_change_nothing,
    usage_errors_exit_2,
    an_unreachable_database_is_a_clear_failure,
);
