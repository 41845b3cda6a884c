//! Keyset batches over composite and text keys: every expired row is reached once, kept rows
//! between them are skipped, and each audit entry names its key range (its integer parts; text
//! parts are withheld). On PostgreSQL, MariaDB and SQLite.

mod common;

use common::{Backend, NOW, TestDb, at, field, json_ok, run_cli};

/// (tenant, code): 12 rows over 3 tenants; c03, c07 and c11 (one per tenant) are recent.
async fn visits(db: &TestDb) {
    let (ts, text) = (db.ts_type(), db.text_type());
    let key_text = match db.backend {
        Backend::MariaDb => "VARCHAR(32)",
        _ => text,
    };
    let mut sql = format!(
        "CREATE TABLE visits (tenant INTEGER NOT NULL, code {key_text} NOT NULL, ip {text} NULL, at {ts} NOT NULL,
  PRIMARY KEY (tenant, code))"
    );
    for i in 0..12 {
        let at = if i % 4 == 3 {
            "2027-02-20 00:00:00"
        } else {
            "2020-01-01 00:00:00"
        };
        sql.push_str(&format!(
            ";\nINSERT INTO visits VALUES ({}, 'c{:02}', '192.0.2.{}', '{at}')",
            i % 3,
            i,
            i + 10
        ));
    }
    db.exec(&sql).await;
}

fn policy(action: &str) -> String {
    format!(
        r#"
[[policies]]
name = "visits"
table = "visits"
since = "at"
retain = "30 days"
action = "{action}"
basis = "test"
"#
    )
}

async fn keys_left(db: &TestDb) -> Vec<String> {
    db.text_rows(&format!(
        "SELECT {}, code FROM visits ORDER BY tenant, code",
        db.cast_text("tenant")
    ))
    .await
    .into_iter()
    .map(|r| {
        format!(
            "{},{}",
            r[0].as_deref().unwrap_or("?"),
            r[1].as_deref().unwrap_or("?")
        )
    })
    .collect()
}

async fn composite_keys_delete_in_batches(b: Backend) {
    let db = TestDb::new(b).await;
    visits(&db).await;
    let cfg = db.write_config(&policy("delete"), "batch_size = 3");
    let run = json_ok(&run_cli(&cfg, &["run", "--json"], &at(NOW)));
    assert_eq!(field(&run, "visits", "affected"), 9, "{run:#}");
    assert_eq!(field(&run, "visits", "batches"), 3, "9 rows in 3s: {run:#}");
    assert_eq!(keys_left(&db).await, vec!["0,c03", "1,c07", "2,c11"]);
    let ranges = db
        .text_rows("SELECT key_first, key_last FROM retentiond_audit ORDER BY id")
        .await;
    let s = |v: &str| Some(v.to_string());
    assert_eq!(
        ranges,
        vec![
            vec![s("0,*"), s("0,*")],
            vec![s("1,*"), s("1,*")],
            vec![s("2,*"), s("2,*")],
        ],
        "each audit entry names its batch's key range: the integer part, never the text part"
    );
}

async fn composite_keys_anonymize_in_batches(b: Backend) {
    let db = TestDb::new(b).await;
    visits(&db).await;
    let cfg = db.write_config(
        &policy("anonymize").replace(
            "basis = \"test\"",
            "basis = \"test\"\ncolumns = { ip = \"truncate_ip\" }",
        ),
        "batch_size = 2",
    );
    let run = json_ok(&run_cli(&cfg, &["run", "--json"], &at(NOW)));
    assert_eq!(field(&run, "visits", "affected"), 9, "{run:#}");
    assert_eq!(field(&run, "visits", "batches"), 5, "9 rows in 2s: {run:#}");
    let ips: Vec<Option<String>> = db
        .text_rows("SELECT ip FROM visits ORDER BY tenant, code")
        .await
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    let ip = |v: &str| Some(v.to_string());
    let t = ip("192.0.2.0");
    assert_eq!(
        ips,
        vec![
            // tenant 0: c00 c03 c06 c09
            t.clone(),
            ip("192.0.2.13"),
            t.clone(),
            t.clone(),
            // tenant 1: c01 c04 c07 c10
            t.clone(),
            t.clone(),
            ip("192.0.2.17"),
            t.clone(),
            // tenant 2: c02 c05 c08 c11
            t.clone(),
            t.clone(),
            t.clone(),
            ip("192.0.2.21"),
        ],
        "recent visits keep their address"
    );
    let again = json_ok(&run_cli(&cfg, &["run", "--json"], &at(NOW)));
    assert_eq!(field(&again, "visits", "affected"), 0, "{again:#}");
}

on_every_backend!(
    composite_keys_delete_in_batches,
    composite_keys_anonymize_in_batches,
);
