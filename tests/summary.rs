//! The controller's summary e-mail, both parts, in English and Dutch, for a run that did its
//! work, one that needs attention and one that failed: rendered from real runs on a real
//! SQLite shop database at a fixed moment, and compared with reviewed golden files
//! (`tests/golden/summary-*`). After a deliberate change of wording,
//! `RETENTIOND_BLESS=1 cargo test --test summary` rewrites them; review the diff.
//! Also: a long run under the daemon names the real next run.

mod support;

use chrono::{DateTime, Utc};
use retentiond::config::Config;
use retentiond::db::Access;
use retentiond::engine::{Engine, RunOptions};
use retentiond::report::{self, Context, Failure, Outcome, Summary};
use sqlx::{Connection, Executor};
use std::path::Path;

const NOW: &str = "2026-12-01T03:30:00Z";

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(NOW)
        .expect("time")
        .with_timezone(&Utc)
}

/// A small shop: support mail (some of it expired, some expiring over the coming months),
/// customers whose IP address is shortened 90 days after they left, and whose record goes
/// after a year unless an invoice still refers to it.
async fn shop(path: &Path, refuse_deletes: bool) {
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true);
    let mut c = sqlx::SqliteConnection::connect_with(&opts)
        .await
        .expect("create the SQLite file");
    let mut sql = String::from(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, ip_address TEXT, left_at TEXT);
         CREATE TABLE invoices (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id), issued_at TEXT NOT NULL);
         CREATE TABLE messages (id INTEGER PRIMARY KEY, sent_at TEXT NOT NULL, body TEXT NOT NULL);",
    );
    // Customers 1-6 left in 2025 (past both periods), 7-9 in October 2026 (IP address
    // shortened in January), 10 is still a customer. Invoices keep customers 1 and 2.
    for id in 1..=10 {
        let left = match id {
            1..=6 => format!("'2025-0{}-15 12:00:00'", id + 2),
            7..=9 => "'2026-10-20 09:00:00'".to_string(),
            _ => "NULL".to_string(),
        };
        sql.push_str(&format!(
            "INSERT INTO customers VALUES ({id}, '192.0.2.{id}', {left});"
        ));
    }
    sql.push_str(
        "INSERT INTO invoices VALUES (1, 1, '2025-02-01 10:00:00'), (2, 2, '2025-03-01 10:00:00');",
    );
    // 40 messages from 2025 (expired), then some each month of 2026 from June on.
    for i in 0..40 {
        sql.push_str(&format!(
            "INSERT INTO messages (sent_at, body) VALUES ('2025-{:02}-10 08:00:00', 'x');",
            i % 12 + 1
        ));
    }
    for (month, n) in [(6, 12), (7, 3), (8, 9), (9, 1), (11, 5)] {
        for _ in 0..n {
            sql.push_str(&format!(
                "INSERT INTO messages (sent_at, body) VALUES ('2026-{month:02}-20 08:00:00', 'x');"
            ));
        }
    }
    if refuse_deletes {
        sql.push_str(
            "CREATE TRIGGER keep_messages BEFORE DELETE ON messages BEGIN SELECT RAISE(ABORT, 'messages are archived by the helpdesk first'); END;",
        );
    }
    c.execute(sqlx::AssertSqlSafe(sql))
        .await
        .expect("create the shop");
    let _ = c.close().await;
}

fn config(db: &Path, lang: &str) -> Config {
    config_with(db, lang, "")
}

fn config_with(db: &Path, lang: &str, run: &str) -> Config {
    Config::from_toml(
        Path::new("summary.toml"),
        &config_text(db, lang, run),
        std::iter::empty(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn config_text(db: &Path, lang: &str, run: &str) -> String {
    format!(
        r#"
[database]
url = "sqlite://{}"
timezone = "Europe/Amsterdam"
[run]
max_fraction = 1.0
{run}
[schedule]
cron = "30 4 * * *"
timezone = "Europe/Amsterdam"
[report]
to = ["privacy@shop.example"]
from = "retentiond@shop.example"
smtp_url = "file:///nonexistent"
language = "{lang}"

[[policies]]
name = "support-messages"
category = "Support e-mail"
table = "messages"
since = "sent_at"
retain = "6 months"
action = "delete"
basis = "not needed 6 months after it was sent"
nl = {{ category = "Klantenservice-e-mail", basis = "niet meer nodig 6 maanden na verzending" }}

[[policies]]
name = "customer-ip"
category = "Former customers' IP address"
table = "customers"
since = "left_at"
retain = "90 days"
action = "anonymize"
columns = {{ ip_address = "truncate_ip" }}
basis = "not needed 90 days after the customer left"
nl = {{ category = "IP-adres van oud-klanten", basis = "niet meer nodig 90 dagen na vertrek" }}

[[policies]]
name = "customers"
category = "Customer records"
table = "customers"
since = "left_at"
retain = "1 year"
action = "delete"
basis = "not needed a year after the customer left"
nl = {{ category = "Klantgegevens", basis = "niet meer nodig een jaar na vertrek" }}
"#,
        db.display()
    )
}

/// One run at `NOW` and the summary the daemon would send for it.
async fn summary_of_a_run(lang: &str, refuse_deletes: bool) -> Summary {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("shop.db");
    shop(&db, refuse_deletes).await;
    let config = config(&db, lang);
    let engine = Engine::prepare(config.clone(), Access::ReadWrite)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let opts = RunOptions {
        now: Some(now()),
        ..RunOptions::default()
    };
    let run = engine.run(&opts).await.unwrap_or_else(|e| panic!("{e}"));
    let forecast = engine
        .forecast(now(), report::zone(&config), 12)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    engine.db.close().await;
    let ctx = scheduled(
        &config,
        now() + chrono::Duration::minutes(2),
        Some(&forecast),
    );
    report::render(&Outcome::Finished(&run), &ctx)
}

/// What the daemon renders a summary with: the next run after `finished_at`.
fn scheduled<'a>(
    config: &'a Config,
    finished_at: DateTime<Utc>,
    forecast: Option<&'a retentiond::engine::forecast::Forecast>,
) -> Context<'a> {
    Context {
        config,
        finished_at,
        next_run: config
            .schedule
            .as_ref()
            .and_then(|s| s.next_after(finished_at)),
        forecast,
    }
}

/// The summary of a run that lost its database connection.
fn summary_of_a_lost_connection(lang: &str) -> Summary {
    let config = config(Path::new("/nonexistent/shop.db"), lang);
    let ctx = scheduled(&config, now(), None);
    let outcome = Outcome::Failed {
        failure: Failure::Database,
        reason:
            "policy \"support-messages\": deleting a batch: error communicating with database: \
                 Connection reset by peer (os error 104)"
                .into(),
        before_writing: false,
    };
    report::render(&outcome, &ctx)
}

fn golden(name: &str, got: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("RETENTIOND_BLESS").is_some() {
        std::fs::write(&path, got).expect("write the golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run with RETENTIOND_BLESS=1 once", path.display()));
    assert!(
        got == expected,
        "{name} differs:\n--- got:\n{got}\n--- expected:\n{expected}"
    );
}

/// What holds for every summary: subject and first line agree, the text part fits 72
/// columns, and neither part names a table, a column or the database.
fn check(s: &Summary, name: &str) {
    let first = s.text.lines().next().unwrap_or_default();
    assert_eq!(
        s.subject,
        format!("{} (retentiond)", first.trim_end_matches('.')),
        "{name}"
    );
    for line in s.text.lines() {
        assert!(
            line.chars().count() <= report::TEXT_WIDTH,
            "{name}: line longer than {} columns: {line:?}",
            report::TEXT_WIDTH
        );
    }
    // The part for the operator may name them.
    let text = s.text.split("\n-- \n").next().unwrap_or_default();
    let html = s.html.split("<hr>").next().unwrap_or_default();
    for part in [text, html] {
        // (The table names here are also English words: the snake_case names stand for them.)
        for word in [
            "ip_address",
            "left_at",
            "sent_at",
            "sqlite:",
            "retentiond_",
            "shop.db",
            "purged",
        ] {
            assert!(!part.contains(word), "{name} names {word:?}:\n{part}");
        }
    }
    golden(
        &format!("{name}.txt"),
        &format!("Subject: {}\n\n{}", s.subject, s.text),
    );
    golden(&format!("{name}.html"), &s.html);
}

#[tokio::test]
async fn a_run_that_did_its_work_says_done_in_both_languages() {
    for lang in ["en", "nl"] {
        let s = summary_of_a_run(lang, false).await;
        assert!(!s.is_error && s.changed);
        check(&s, &format!("summary-ok.{lang}"));
    }
}

#[tokio::test]
async fn a_failed_rule_asks_for_attention_in_both_languages() {
    for lang in ["en", "nl"] {
        let s = summary_of_a_run(lang, true).await;
        assert!(s.is_error);
        check(&s, &format!("summary-attention.{lang}"));
    }
}

#[test]
fn a_lost_connection_says_what_was_changed_and_what_happens_next() {
    for lang in ["en", "nl"] {
        let s = summary_of_a_lost_connection(lang);
        assert!(s.is_error && !s.changed);
        check(&s, &format!("summary-failed.{lang}"));
    }
}

/// A run that stops early (here at `max_runtime`) leaves the policies it never reached with
/// their real backlog, and the summary says so and asks for attention.
#[tokio::test]
async fn a_policy_the_run_never_reached_shows_its_real_backlog() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("shop.db");
    shop(&db, false).await;
    let config = config_with(
        &db,
        "en",
        "batch_size = 1\npause = \"100ms\"\nmax_runtime = \"300ms\"",
    );
    let engine = Engine::prepare(config.clone(), Access::ReadWrite)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let opts = RunOptions {
        now: Some(now()),
        ..RunOptions::default()
    };
    let plan = engine.plan(&opts).await.unwrap_or_else(|e| panic!("{e}"));
    let run = engine.run(&opts).await.unwrap_or_else(|e| panic!("{e}"));
    engine.db.close().await;
    let unreached: Vec<_> = run
        .policies
        .iter()
        .filter(|p| p.stop_reason == Some(retentiond::engine::Stop::NotStarted))
        .collect();
    assert!(!unreached.is_empty(), "{run:?}");
    for p in &unreached {
        let planned = plan
            .policies
            .iter()
            .find(|x| x.name == p.name)
            .expect("planned");
        assert!(planned.eligible > 0, "{planned:?}");
        assert_eq!(p.backlog, planned.eligible, "{}", p.name);
    }
    let ctx = Context {
        config: &config,
        finished_at: now(),
        next_run: None,
        forecast: None,
    };
    let s = report::render(&Outcome::Finished(&run), &ctx);
    assert!(
        s.subject
            .starts_with("Your attention is needed: the retention run stopped"),
        "{}",
        s.subject
    );
    assert!(s.text.contains("not reached:"), "{}", s.text);
}

/// The next run a summary names is the one after the run has ended: a run that outlasts
/// its schedule's interval names a slot still to come, not one that passed while it ran.
#[tokio::test]
async fn a_long_run_names_the_real_next_run() {
    use support::{PgDb, SmtpSink, bin, free_port, terminate, wait_exit, write};
    let db = PgDb::new().await;
    db.exec("CREATE TABLE messages (id BIGSERIAL PRIMARY KEY, sent_at TIMESTAMPTZ NOT NULL)")
        .await;
    db.exec("INSERT INTO messages (sent_at) SELECT now() - interval '400 days' FROM generate_series(1, 5)")
        .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let smtp = SmtpSink::start(free_port(), &dir.path().join("mail"));
    let cfg = format!(
        "[database]\nurl = \"{}\"\n[run]\nmax_fraction = 1.0\n[schedule]\ncron = \"*/3 * * * * *\"\ntimezone = \"UTC\"\n\
         [report]\nto = [\"controller@shop.example\"]\nfrom = \"retentiond@shop.example\"\nsmtp_url = \"smtp://127.0.0.1:{}\"\n\n\
         [[policies]]\nname = \"old-messages\"\ntable = \"messages\"\nsince = \"sent_at\"\nretain = \"6 months\"\naction = \"delete\"\nbasis = \"test\"\n",
        db.url, smtp.port
    );
    let path = write(dir.path(), "r.toml", &cfg);
    let resume = dir.path().join("resume");
    let mut child = bin()
        .arg("--config")
        .arg(&path)
        .arg("daemon")
        .env("RETENTIOND_TEST_STALL", "before-first-batch")
        .env("RETENTIOND_TEST_RESUME", &resume)
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start daemon");
    // The first run waits at its first batch; let two slots of 3 s pass meanwhile.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while db
        .try_scalar("SELECT COUNT(*) FROM retentiond_runs")
        .await
        .unwrap_or(0)
        == 0
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    tokio::time::sleep(std::time::Duration::from_secs(7)).await;
    let resumed = Utc::now();
    std::fs::write(&resume, "").expect("resume");
    let mails = smtp.wait_for(1, std::time::Duration::from_secs(30));
    terminate(&child);
    let _ = wait_exit(&mut child, std::time::Duration::from_secs(10));
    db.drop().await;
    let mail = mails.first().expect("a summary");
    let line = mail
        .lines()
        .find_map(|l| l.trim().strip_prefix("The next run is on "))
        .unwrap_or_else(|| panic!("no next run in:\n{mail}"));
    // To the second, or to the minute when the second is 0 ("1 December 2026 at 23:08").
    let text = line.trim_end_matches('.');
    let named = chrono::NaiveDateTime::parse_from_str(text, "%-d %B %Y at %H:%M:%S")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(text, "%-d %B %Y at %H:%M"))
        .unwrap_or_else(|e| panic!("{line:?}: {e}"))
        .and_utc();
    assert!(
        named > resumed,
        "the summary names {named}, but the run ended after {resumed}:\n{mail}"
    );
}

/// `plan --at DATE` counts what will have expired by then: the support mail of June 2026
/// expires on 20 December, so a plan at 1 January 2027 counts it and one at NOW does not.
#[tokio::test]
async fn plan_at_a_future_date_counts_what_will_have_expired() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("shop.db");
    shop(&db, false).await;
    let path = support::write(dir.path(), "r.toml", &config_text(&db, "en", ""));
    let eligible = |at: Option<&str>| {
        let mut c = support::bin();
        c.arg("--config")
            .arg(&path)
            .args(["plan", "--json", "--policy", "support-messages"])
            .env("RETENTIOND_TEST_NOW", NOW);
        if let Some(at) = at {
            c.args(["--at", at]);
        }
        let out = c.output().expect("plan");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        plan["policies"][0]["eligible"].as_u64().expect("eligible")
    };
    assert_eq!(eligible(None), 40);
    assert_eq!(eligible(Some("2027-01-01")), 40 + 12);
}
