//! The Dutch/EU preset fits the subscription-site schema that `retentiond demo` builds, prints
//! the not-legal-advice notice, lists its low-confidence rules, and refuses a real run until
//! someone has signed the review; plan and dry run work before that. Its tax records leave the
//! live database for the archive and are deleted there when the law allows, not before.

mod common;

use common::{expect_exit, json_ok, run_cli, stderr};
use std::path::{Path, PathBuf};

fn preset() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/presets/nl-subscriptions.toml")
}

/// `retentiond demo` with this many customers, in a temporary directory: (it, the demo folder,
/// which also holds an empty archive file `archive.db`).
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
    std::fs::write(demo.join("archive.db"), b"").expect("an empty archive file");
    (dir, demo)
}

/// The URLs of the demo's shop and archive, for `RETENTIOND_DATABASE__URL` and
/// `RETENTIOND_ARCHIVE__URL`.
fn urls(demo: &Path) -> (String, String) {
    (
        format!("sqlite://{}", demo.join("shop.db").display()),
        format!("sqlite://{}", demo.join("archive.db").display()),
    )
}

#[test]
fn preset_needs_a_review_before_it_writes() {
    let (_dir, demo) = demo("200");
    let (url, archive) = urls(&demo);
    let env = [
        ("RETENTIOND_DATABASE__URL", url.as_str()),
        ("RETENTIOND_ARCHIVE__URL", archive.as_str()),
    ];

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
        env[1],
        ("RETENTIOND_REVIEW__REVIEWED_BY", "Ann de Vries"),
        ("RETENTIOND_REVIEW__REVIEWED_AT", "2026-12-01"),
    ];
    let run = json_ok(&run_cli(&preset(), &["run", "--force", "--json"], &signed));
    assert_eq!(run["status"], "ok", "{run:#}");
    let check = expect_exit(&run_cli(&preset(), &["check"], &signed), 0);
    assert!(!check.contains("Not yet reviewed"), "{check}");
}

/// One SQLite connection to a file of the demo's, for the test's own reads and set-up.
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

/// A customer's rows in the tax tables of `pool` (live or archive):
/// (invoices, payments, subscriptions).
async fn tax_rows(pool: &sqlx::SqlitePool, id: i64) -> (i64, i64, i64) {
    let count = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql)
            .bind(id)
            .fetch_one(pool)
            .await
            .unwrap_or(0)
    };
    (
        count("SELECT COUNT(*) FROM invoices WHERE customer_id = ?").await,
        count(
            "SELECT COUNT(*) FROM payments WHERE invoice_id IN \
             (SELECT id FROM invoices WHERE customer_id = ?)",
        )
        .await,
        count("SELECT COUNT(*) FROM subscriptions WHERE customer_id = ?").await,
    )
}

/// Of a customer's OSS invoices in `pool`, how many still carry the location evidence (the
/// country and IP address used).
async fn oss_evidence(pool: &sqlx::SqlitePool, id: i64) -> i64 {
    sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM invoices WHERE customer_id = ? AND oss_supply = 1 \
         AND customer_country IS NOT NULL AND customer_ip IS NOT NULL",
    )
    .bind(id)
    .fetch_one(pool)
    .await
    .unwrap_or(0)
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

/// The law's outcome on the demo shop, over two daily runs: the tax records of a customer
/// gone more than 3 months leave the live database for the archive, the subscriptions with
/// the customer record after 5 years; there an OSS customer's invoices (with the location
/// evidence of art. 63c(1) Implementing Regulation (EU) No 282/2011), payments and
/// subscriptions stay while the 10 years from the end of the year of the supply run, and go
/// after them; a customer without OSS supplies keeps 7 years; a do-not-mail entry survives.
#[tokio::test]
async fn preset_archives_tax_records_and_keeps_them_there_as_long_as_the_law_says() {
    let (_dir, demo) = demo("400");
    let pool = open(&demo.join("shop.db")).await;
    macro_rules! customer {
        ($oss:literal, $order:literal) => {
            concat!(
                "SELECT id FROM customers WHERE ip_address LIKE '%.%' AND billing_country IS NOT NULL \
                 AND id IN (SELECT customer_id FROM invoices WHERE oss_supply = ",
                $oss,
                ") AND id NOT IN (SELECT customer_id FROM invoices WHERE oss_supply <> ",
                $oss,
                ") AND id IN (SELECT customer_id FROM subscriptions) \
                 AND id IN (SELECT customer_id FROM invoices WHERE id IN (SELECT invoice_id FROM payments)) \
                 AND id NOT IN (SELECT customer_id FROM marketing_consents) ORDER BY id ",
                $order,
                " LIMIT 1"
            )
        };
    }
    let oss = one_id(&pool, customer!("1", "ASC")).await;
    let oss_old = one_id(&pool, customer!("1", "DESC")).await;
    let plain = one_id(&pool, customer!("0", "ASC")).await;
    let plain_old = one_id(&pool, customer!("0", "DESC")).await;
    let withdrawn = one_id(
        &pool,
        "SELECT customer_id FROM marketing_consents WHERE withdrawn_at < datetime('now', '-2 days') ORDER BY id LIMIT 1",
    )
    .await;
    assert!(oss != oss_old && plain != plain_old);
    // 2 years ago: past the 3 months, within the 5 years. 8 years ago: past the 7 years, within
    // the 10. 12 years ago: past the 10 as well.
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
    let plain_rows = tax_rows(&pool, plain).await;
    let oss_rows = tax_rows(&pool, oss).await;
    let oss_invoices = oss_evidence(&pool, oss).await;
    assert!(
        oss_invoices > 0 && oss_invoices == oss_rows.0,
        "{oss_rows:?}"
    );
    let plain_before = location(&pool, plain).await;

    let (url, archive_url) = urls(&demo);
    let env = [
        ("RETENTIOND_DATABASE__URL", url.as_str()),
        ("RETENTIOND_ARCHIVE__URL", archive_url.as_str()),
        ("RETENTIOND_REVIEW__REVIEWED_BY", "Ann de Vries"),
        ("RETENTIOND_REVIEW__REVIEWED_AT", "2026-12-01"),
    ];
    // Two daily runs: rows that an earlier policy of a run frees (subscriptions whose invoices
    // moved) are the next run's.
    for _ in 0..2 {
        let run = json_ok(&run_cli(&preset(), &["run", "--force", "--json"], &env));
        assert_eq!(run["status"], "ok", "{run:#}");
    }
    let archive = open(&demo.join("archive.db")).await;

    assert_eq!(
        tax_rows(&pool, plain).await,
        (0, 0, plain_rows.2),
        "gone 2 years: invoices and payments have left the live database, the subscriptions wait for the customer record"
    );
    assert_eq!(
        tax_rows(&archive, plain).await,
        (plain_rows.0, plain_rows.1, 0),
        "and are in the archive"
    );
    let (ip, country) = location(&pool, plain).await;
    assert_ne!(ip, plain_before.0, "an IP address is truncated");
    assert!(ip.as_deref().is_some_and(|ip| ip.ends_with(".0")), "{ip:?}");
    assert_eq!(
        country, None,
        "a billing country goes 90 days after they left"
    );

    assert_eq!(
        tax_rows(&pool, oss).await,
        (0, 0, 0),
        "gone 8 years: nothing live"
    );
    assert_eq!(
        tax_rows(&archive, oss).await,
        oss_rows,
        "an OSS customer's invoices, payments and subscriptions: 10 years, in the archive"
    );
    assert_eq!(
        oss_evidence(&archive, oss).await,
        oss_invoices,
        "the location evidence stays with the OSS invoices"
    );
    assert_eq!(tax_rows(&pool, plain_old).await, (0, 0, 0));
    assert_eq!(
        tax_rows(&archive, plain_old).await,
        (0, 0, 0),
        "other tax records: 7 years, then gone from the archive too"
    );
    assert_eq!(tax_rows(&pool, oss_old).await, (0, 0, 0));
    assert_eq!(
        tax_rows(&archive, oss_old).await,
        (0, 0, 0),
        "after the 10 years the OSS records and their evidence are gone"
    );
    let entry: (String, Option<String>) =
        sqlx::query_as("SELECT email, withdrawn_at FROM marketing_consents WHERE customer_id = ?")
            .bind(withdrawn)
            .fetch_one(&pool)
            .await
            .expect("the do-not-mail entry outlives the proof of consent");
    assert_eq!(entry.0.len(), 64, "kept as a keyed hash");
    let verify = run_cli(&preset(), &["audit", "verify", "--archive"], &env);
    expect_exit(&verify, 0);

    // An erasure request from the OSS customer: the archive keeps the OSS records and says
    // until when.
    let oss_arg = oss.to_string();
    let answer = expect_exit(
        &run_cli(&preset(), &["erase", "--subject", &oss_arg], &env),
        0,
    );
    assert_eq!(tax_rows(&archive, oss).await, oss_rows, "{answer}");
    assert!(
        answer.contains("- Invoices for EU digital services declared through OSS, with the IP address and country used to decide where the customer lives: ")
            && answer.contains("in a separate archive with restricted access"),
        "{answer}"
    );
    let erased = answer
        .split("## Erased")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .unwrap_or_default();
    assert!(!erased.contains("Invoices"), "{answer}");

    // A current customer without OSS supplies: erase truncates the IP address, removes the
    // country, and moves the tax records off the live site at once.
    let fresh = one_id(
        &pool,
        "SELECT id FROM customers WHERE ip_address LIKE '%.%' AND ip_address NOT LIKE '%.0' \
         AND billing_country IS NOT NULL AND id IN (SELECT customer_id FROM invoices) \
         AND id NOT IN (SELECT customer_id FROM invoices WHERE oss_supply = 1) ORDER BY id DESC LIMIT 1",
    )
    .await;
    let fresh_rows = tax_rows(&pool, fresh).await;
    let fresh_arg = fresh.to_string();
    let answer = expect_exit(
        &run_cli(&preset(), &["erase", "--subject", &fresh_arg], &env),
        0,
    );
    let (ip, country) = location(&pool, fresh).await;
    assert!(ip.as_deref().is_none_or(|ip| ip.ends_with(".0")), "{ip:?}");
    assert_eq!(country, None, "{answer}");
    assert_eq!(tax_rows(&pool, fresh).await, (0, 0, 0), "{answer}");
    assert_eq!(tax_rows(&archive, fresh).await, fresh_rows, "{answer}");

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
