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
        "policies[0].colour",
        "is not a known key",
    ),
    (
        r#"retain = "6 months""#,
        r#"retain = 6"#,
        "policies[0].retain",
        "must be text in quotes",
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
        r#""shred" is not known; use "delete", "anonymize" or "archive""#,
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
        "policies[0].nl.categorie",
        "did you mean `category`?",
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
            (url.clone(), url, "never creates a database file")
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

/// The line of `text` that contains `needle` (1-based), for asserting on reported lines.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("{needle} is not in the config"))
}

/// One run reports every mistake of the file, each with its line and key: an unknown key with
/// the closest known one, a value of the wrong type, a value the loader refuses, a typo inside
/// `since = { ... }` with the keys it takes. Nothing is changed.
async fn every_config_mistake_is_reported_at_once_with_its_line(b: Backend) {
    let db = TestDb::new(b).await;
    shop(&db).await;
    let before = db.checksum_all().await;
    let policies = POLICIES
        .replacen(r#"retain = "6 months""#, r#"retian = "6 months""#, 1)
        .replacen(
            r#"action = "delete""#,
            "action = \"delete\"\nbatch_size = \"many\"",
            1,
        )
        .replacen(r#"action = "anonymize""#, r#"action = "shred""#, 1)
        .replacen(
            r#"since = "created_at""#,
            r#"since = { tabel = "customers", column = "created_at", match = { id = "id" } }"#,
            1,
        );
    let cfg = db.write_config(&policies, "");
    let text = std::fs::read_to_string(&cfg).expect("read the config");
    for args in [&["check"][..], &["plan"][..], &["run"][..]] {
        let out = run_cli(&cfg, args, &at(NOW));
        expect_exit(&out, 2);
        let err = stderr(&out);
        for (needle, path, message) in [
            ("retian", "policies[0].retian", "did you mean `retain`?"),
            (
                "batch_size",
                "policies[0].batch_size",
                "must be a whole number",
            ),
            ("shred", "policies[1].action", r#""shred" is not known"#),
            (
                "tabel",
                "policies[1].since.tabel",
                "accepted here: table, column, unit, match, otherwise",
            ),
        ] {
            let line = format!("line {}, column", line_of(&text, needle));
            assert!(
                err.lines()
                    .any(|l| l.contains(&line) && l.contains(path) && l.contains(message)),
                "{args:?}: expected `{line}`, `{path}` and `{message}` on one line of:\n{err}"
            );
        }
        assert!(
            err.contains("has 4 problems"),
            "{args:?}: four problems expected:\n{err}"
        );
        assert!(!err.contains("untagged"), "{args:?}: {err}");
        assert!(!err.contains("RawClock"), "{args:?}: {err}");
    }
    assert_eq!(
        db.checksum_all().await,
        before,
        "bad config changed the database"
    );
    assert_eq!(db.own_tables().await, Vec::<String>::new());
}

/// A bad environment override names the variable, with the key it sets.
#[test]
fn a_bad_environment_override_names_the_variable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("retentiond.toml");
    let url = format!("sqlite://{}", dir.path().join("shop.db").display());
    std::fs::write(&cfg, format!("[database]\nurl = \"{url}\"\n{POLICIES}")).expect("write");
    let out = run_cli(
        &cfg,
        &["check"],
        &[
            ("RETENTIOND_RUN__BATCH_SIZE", "many"),
            ("RETENTIOND_RUN__BATCHSIZE", "50"),
            ("RETENTIOND_RUN__PAUSE", "2 parsecs"),
        ],
    );
    expect_exit(&out, 2);
    let err = stderr(&out);
    for (var, path, message) in [
        (
            "RETENTIOND_RUN__BATCH_SIZE",
            "run.batch_size",
            "must be a whole number",
        ),
        (
            "RETENTIOND_RUN__BATCHSIZE",
            "run.batchsize",
            "did you mean `batch_size`?",
        ),
        (
            "RETENTIOND_RUN__PAUSE",
            "run.pause",
            r#""2 parsecs" is not a duration"#,
        ),
    ] {
        assert!(
            err.lines()
                .any(|l| l.contains(&format!("{var}:")) && l.contains(path) && l.contains(message)),
            "expected `{var}`, `{path}` and `{message}` on one line of:\n{err}"
        );
    }
    assert!(
        !dir.path().join("shop.db").exists(),
        "the database was created"
    );
}

/// Durations take the unit names periods take ("2 hours") as well as the short ones ("2s");
/// a malformed one names its key and shows what is accepted.
#[test]
fn durations_take_long_and_short_unit_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("shop.db");
    std::fs::write(&db, "").expect("an empty SQLite file");
    let cfg = dir.path().join("retentiond.toml");
    let write = |run: &str| {
        std::fs::write(
            &cfg,
            format!(
                "[database]\nurl = \"sqlite://{}\"\n[run]\n{run}\n{}",
                db.display(),
                POLICIES.replace(
                    "columns = { email = \"hash\" }",
                    "columns = { email = \"redact\" }"
                )
            ),
        )
        .expect("write");
    };
    write(
        "lock_timeout = \"90 seconds\"\nstatement_timeout = \"30 minutes\"\nmax_runtime = \"2 hours\"\n\
         batch_target = \"250ms\"\npause = \"1 second\"",
    );
    // The config loads: what stops `check` now is the empty database, not a duration.
    let refused = |err: String| {
        let keys = [
            "run.lock_timeout",
            "run.statement_timeout",
            "run.max_runtime",
            "run.batch_target",
            "run.pause",
        ];
        assert!(
            !keys.iter().any(|k| err.contains(k)) && err.contains("does not exist"),
            "a duration was refused (or the config did not load):\n{err}"
        );
    };
    refused(stderr(&run_cli(&cfg, &["check"], &[])));
    write(
        "max_runtime = \"1 day\"\npause = \"5m\"\nlock_timeout = \"2s\"\nstatement_timeout = \"1h\"",
    );
    refused(stderr(&run_cli(&cfg, &["check"], &[])));
    write("pause = \"2 parsecs\"\nmax_runtime = \"3 months\"");
    let out = run_cli(&cfg, &["check"], &[]);
    expect_exit(&out, 2);
    let err = stderr(&out);
    for (path, message) in [
        ("run.pause", r#""2 parsecs" is not a duration"#),
        (
            "run.pause",
            r#""250ms", "2s", "5m", "1h", "90 seconds", "30 minutes", "2 hours""#,
        ),
        ("run.max_runtime", "months"),
    ] {
        assert!(
            err.lines().any(|l| l.contains(path) && l.contains(message)),
            "expected `{path}` and `{message}` on one line of:\n{err}"
        );
    }
}

/// A config file that is not there says how to name one, and how to try retentiond without.
#[test]
fn a_missing_config_file_says_what_to_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run_cli(&dir.path().join("nowhere.toml"), &["check"], &[]);
    expect_exit(&out, 2);
    let err = stderr(&out);
    for hint in [
        "nowhere.toml",
        "--config PATH",
        "RETENTIOND_CONFIG",
        "retentiond demo",
    ] {
        assert!(err.contains(hint), "`{hint}` is missing in:\n{err}");
    }
}

on_every_backend!(
    bad_policies_exit_2_name_the_key_and_change_nothing,
    usage_errors_exit_2,
    an_unreachable_database_is_a_clear_failure,
    every_config_mistake_is_reported_at_once_with_its_line,
);
