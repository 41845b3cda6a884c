//! The Dutch/EU preset fits the subscription-site schema that `retentiond demo` builds, prints
//! the not-legal-advice notice, lists its low-confidence rules, and refuses a real run until
//! someone has signed the review; plan and dry run work before that.

mod common;

use common::{expect_exit, json_ok, run_cli, stderr};
use std::path::{Path, PathBuf};

fn preset() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/presets/nl-subscriptions.toml")
}

/// `retentiond demo` with this many customers, in a temporary directory: (it, the demo folder).
fn demo(customers: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let demo = dir.path().join("demo");
    let demo_arg = demo.to_string_lossy().to_string();
    expect_exit(
        &run_cli(
            &preset(),
            &["demo", "--dir", &demo_arg, "--customers", customers],
            &[],
        ),
        0,
    );
    (dir, demo)
}

#[test]
fn preset_needs_a_review_before_it_writes() {
    let (_dir, demo) = demo("200");
    let url = format!("sqlite://{}", demo.join("shop.db").display());
    let env = [("RETENTIOND_DATABASE__URL", url.as_str())];

    let check = run_cli(&preset(), &["check"], &env);
    let out = expect_exit(&check, 0);
    assert!(
        stderr(&check).contains("Not legal advice."),
        "{}",
        stderr(&check)
    );
    assert!(
        out.contains("Review required: these rules have a low-confidence period")
            && out.contains("support-mail")
            && out.contains("soft-opt-in"),
        "{out}"
    );
    assert!(out.contains("Not yet reviewed"), "{out}");

    expect_exit(&run_cli(&preset(), &["plan"], &env), 0);
    let dry = json_ok(&run_cli(
        &preset(),
        &["run", "--dry-run", "--force", "--json"],
        &env,
    ));
    assert_eq!(dry["dry_run"], true, "{dry:#}");

    let refused = run_cli(&preset(), &["run", "--force"], &env);
    expect_exit(&refused, 2);
    assert!(
        stderr(&refused).contains("asks for a review before it may change data"),
        "{}",
        stderr(&refused)
    );

    let signed = [
        env[0],
        ("RETENTIOND_REVIEW__REVIEWED_BY", "Ann de Vries"),
        ("RETENTIOND_REVIEW__REVIEWED_AT", "2026-12-01"),
    ];
    let run = json_ok(&run_cli(&preset(), &["run", "--force", "--json"], &signed));
    assert_eq!(run["status"], "ok", "{run:#}");
    let check = expect_exit(&run_cli(&preset(), &["check"], &signed), 0);
    assert!(!check.contains("Not yet reviewed"), "{check}");
}

/// One SQLite connection to the demo's file, for the test's own reads and set-up.
async fn open(path: &Path) -> sqlx::SqlitePool {
    let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
    sqlx::SqlitePool::connect_with(opts)
        .await
        .expect("open the demo database")
}

async fn one_id(pool: &sqlx::SqlitePool, sql: &'static str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(pool)
        .await
        .expect("the demo has such a customer")
}

async fn location(pool: &sqlx::SqlitePool, id: i64) -> (Option<String>, Option<String>) {
    sqlx::query_as::<_, (Option<String>, Option<String>)>(
        "SELECT ip_address, billing_country FROM customers WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
    .expect("read the customer")
    .unwrap_or((None, None))
}

async fn subscriptions(pool: &sqlx::SqlitePool, id: i64) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM subscriptions WHERE customer_id = ?")
        .bind(id)
        .fetch_one(pool)
        .await
        .expect("count subscriptions")
}

/// Moves a customer's whole history `years` back: signed up, subscribed, invoiced (a year
/// billed in advance), paid and left that long ago.
async fn age(pool: &sqlx::SqlitePool, id: i64, years: &str) {
    for sql in [
        "UPDATE customers SET created_at = datetime('now', ?1, '-1 year') WHERE id = ?2",
        "UPDATE subscriptions SET started_at = datetime('now', ?1, '-1 year'), ended_at = datetime('now', ?1) WHERE customer_id = ?2",
        "UPDATE invoices SET issued_at = date('now', ?1, '-1 year'), period_start = date('now', ?1, '-1 year'), period_end = date('now', ?1) WHERE customer_id = ?2",
        "UPDATE payments SET paid_at = datetime('now', ?1, '-1 year') WHERE invoice_id IN (SELECT id FROM invoices WHERE customer_id = ?2)",
        "UPDATE messages SET sent_at = datetime('now', ?1, '-6 months') WHERE customer_id = ?2",
    ] {
        sqlx::query(sql)
            .bind(years)
            .bind(id)
            .execute(pool)
            .await
            .expect("age the customer");
    }
}

/// The law's outcome on the demo shop: an OSS customer's IP address and billing country (the
/// location evidence of art. 63c(1) Implementing Regulation (EU) No 282/2011) and the
/// subscriptions behind the supplies survive a run and an erasure while the 10 years from the
/// end of the year of the last supply run, and are gone after them; a customer without OSS
/// supplies is pseudonymised and erased as before; a do-not-mail entry survives both.
#[tokio::test]
async fn preset_keeps_oss_evidence_ten_years_and_the_do_not_mail_list() {
    let (_dir, demo) = demo("400");
    let file = demo.join("shop.db");
    let pool = open(&file).await;
    macro_rules! oss_customer {
        ($order:literal) => {
            concat!(
                "SELECT id FROM customers WHERE ip_address LIKE '%.%' AND billing_country IS NOT NULL \
                 AND id IN (SELECT customer_id FROM invoices WHERE oss_supply = 1) \
                 AND id IN (SELECT customer_id FROM subscriptions) \
                 AND id NOT IN (SELECT customer_id FROM marketing_consents) ORDER BY id ",
                $order,
                " LIMIT 1"
            )
        };
    }
    let oss = one_id(&pool, oss_customer!("ASC")).await;
    let oss_old = one_id(&pool, oss_customer!("DESC")).await;
    macro_rules! plain_customer {
        ($order:literal) => {
            concat!(
                "SELECT id FROM customers WHERE ip_address LIKE '%.%' AND billing_country = 'NL' \
                 AND id NOT IN (SELECT customer_id FROM invoices WHERE oss_supply = 1) \
                 AND id IN (SELECT customer_id FROM subscriptions) ORDER BY id ",
                $order,
                " LIMIT 1"
            )
        };
    }
    let plain = one_id(&pool, plain_customer!("ASC")).await;
    let plain_old = one_id(&pool, plain_customer!("DESC")).await;
    let withdrawn = one_id(
        &pool,
        "SELECT customer_id FROM marketing_consents WHERE withdrawn_at < datetime('now', '-2 days') ORDER BY id LIMIT 1",
    )
    .await;
    assert!(oss != oss_old && plain != plain_old);
    // 2 years ago: past the 90 days. 8 years ago: past the 7 years, within the 10. 12 years
    // ago: past the 10 as well.
    age(&pool, plain, "-2 years").await;
    age(&pool, oss, "-8 years").await;
    age(&pool, plain_old, "-8 years").await;
    age(&pool, oss_old, "-12 years").await;
    // Withdrawn 6 years ago: past the 5 years of the proof of consent.
    sqlx::query("UPDATE marketing_consents SET withdrawn_at = datetime('now', '-6 years'), consented_at = datetime('now', '-7 years') WHERE customer_id = ?")
        .bind(withdrawn)
        .execute(&pool)
        .await
        .expect("age the withdrawal");
    let evidence = location(&pool, oss).await;
    let plain_before = location(&pool, plain).await;

    let url = format!("sqlite://{}", file.display());
    let env = [
        ("RETENTIOND_DATABASE__URL", url.as_str()),
        ("RETENTIOND_REVIEW__REVIEWED_BY", "Ann de Vries"),
        ("RETENTIOND_REVIEW__REVIEWED_AT", "2026-12-01"),
    ];
    let run = json_ok(&run_cli(&preset(), &["run", "--force", "--json"], &env));
    assert_eq!(run["status"], "ok", "{run:#}");

    assert_eq!(
        location(&pool, oss).await,
        evidence,
        "the OSS evidence survives the run"
    );
    assert!(
        subscriptions(&pool, oss).await > 0,
        "subscriptions behind OSS supplies: 10 years"
    );
    let (ip, country) = location(&pool, plain).await;
    assert_ne!(ip, plain_before.0, "a non-OSS IP address is truncated");
    assert!(ip.as_deref().is_some_and(|ip| ip.ends_with(".0")), "{ip:?}");
    assert_eq!(
        country, None,
        "a non-OSS billing country goes 90 days after they left"
    );
    assert!(subscriptions(&pool, plain).await > 0);
    assert_eq!(
        subscriptions(&pool, plain_old).await,
        0,
        "other subscriptions: 7 years"
    );
    assert_eq!(
        location(&pool, oss_old).await,
        (None, None),
        "after the 10 years the OSS evidence is gone"
    );
    assert_eq!(subscriptions(&pool, oss_old).await, 0);
    let entry: (String, Option<String>) =
        sqlx::query_as("SELECT email, withdrawn_at FROM marketing_consents WHERE customer_id = ?")
            .bind(withdrawn)
            .fetch_one(&pool)
            .await
            .expect("the do-not-mail entry outlives the proof of consent");
    assert_eq!(entry.0.len(), 64, "kept as a keyed hash");

    let oss_arg = oss.to_string();
    let answer = expect_exit(
        &run_cli(&preset(), &["erase", "--subject", &oss_arg], &env),
        0,
    );
    assert_eq!(
        location(&pool, oss).await,
        evidence,
        "erase keeps the OSS evidence"
    );
    assert!(
        answer.contains("- IP address and billing country used to decide where an OSS customer lives: 1 record. Ground: Implementing Regulation (EU) No 282/2011 art. 63c(1)"),
        "{answer}"
    );
    let erased = answer
        .split("## Erased")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .unwrap_or_default();
    assert!(!erased.contains("IP address"), "{answer}");

    // A customer without OSS supplies: erase truncates the IP address and removes the country.
    let fresh = one_id(
        &pool,
        "SELECT id FROM customers WHERE ip_address LIKE '%.%' AND ip_address NOT LIKE '%.0' \
         AND billing_country IS NOT NULL \
         AND id NOT IN (SELECT customer_id FROM invoices WHERE oss_supply = 1) ORDER BY id DESC LIMIT 1",
    )
    .await;
    let fresh_arg = fresh.to_string();
    let answer = expect_exit(
        &run_cli(&preset(), &["erase", "--subject", &fresh_arg], &env),
        0,
    );
    let (ip, country) = location(&pool, fresh).await;
    assert!(ip.as_deref().is_none_or(|ip| ip.ends_with(".0")), "{ip:?}");
    assert_eq!(country, None, "{answer}");

    let withdrawn_arg = withdrawn.to_string();
    let answer = expect_exit(
        &run_cli(
            &preset(),
            &["erase", "--subject", &withdrawn_arg, "--lang", "nl"],
            &env,
        ),
        0,
    );
    assert!(
        answer.contains("## Bewaard op onze afmeldlijst"),
        "{answer}"
    );
    let left: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM marketing_consents WHERE customer_id = ? AND length(email) = 64",
    )
    .bind(withdrawn)
    .fetch_one(&pool)
    .await
    .expect("count");
    assert_eq!(left, 1, "erase keeps the do-not-mail entry");
}
