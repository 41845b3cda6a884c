//! Each anonymizing transform's exact output, on PostgreSQL, MariaDB and SQLite, and that a
//! second run changes nothing.

mod common;

use common::{Backend, NOW, TEST_KEY, TestDb, at, field, json_ok, run_cli, start_stalled};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// HMAC-SHA256 of `value` under `key`, as 64 lowercase hex characters: what `hash` must write.
fn hmac_hex(key: &str, value: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(value.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn policy(columns: &str) -> String {
    format!(
        r#"
[[policies]]
name = "people"
table = "people"
since = "left_at"
retain = "1 year"
action = "anonymize"
columns = {{ {columns} }}
basis = "test"
"#
    )
}

const EVERY_TRANSFORM: &str = r#"name = "redact", score = "redact", email = "hash", ip = "truncate_ip", note = "null", born_y = "year_only", born_m = "month_only", seen_y = "year_only", seen_m = "month_only", contact = "email_domain""#;

const COLUMNS: &str = "name, score, email, ip, note, born_y, born_m, seen_y, seen_m, contact";

async fn people(db: &TestDb) {
    let (id, ts, text) = (db.id_type(), db.ts_type(), db.text_type());
    db.exec(&format!(
        "CREATE TABLE people (id {id} PRIMARY KEY, name {text} NOT NULL, score INTEGER NOT NULL,
  email {text} NOT NULL, ip {text} NULL, note {text} NULL, born_y DATE NULL, born_m DATE NULL,
  seen_y {ts} NULL, seen_m {ts} NULL, contact {text} NULL, left_at {ts} NOT NULL);
INSERT INTO people VALUES (1, 'Zoë de Vries', 42, 'zoe@example.nl', '192.0.2.77', 'vip',
  '1980-05-17', '1980-05-17', '2020-06-15 13:45:07', '2020-06-15 13:45:07', 'zoe@example.nl', '2025-01-01 00:00:00');
INSERT INTO people VALUES (2, '李小龍', 7, '李小龍@example.org', '2001:db8:85a3:12::7334', NULL,
  '1999-12-31', '1999-12-31', '2021-02-01 00:00:00', '2021-02-28 23:59:59', 'ĺi@éxample.org', '2025-01-01 00:00:00');
INSERT INTO people VALUES (3, 'No Address', 1, 'none@example.com', 'unknown', NULL,
  NULL, NULL, NULL, NULL, NULL, '2025-01-01 00:00:00');
INSERT INTO people VALUES (4, 'Still Here', 5, 'here@example.nl', '198.51.100.1', 'x',
  '1990-01-02', '1990-01-02', '2026-01-02 03:04:05', '2026-01-02 03:04:05', 'here@example.nl', '2026-05-01 00:00:00')"
    ))
    .await;
}

async fn row(db: &TestDb, id: i64) -> Vec<Option<String>> {
    let cols: Vec<String> = COLUMNS.split(", ").map(|c| db.cast_text(c)).collect();
    db.text_rows(&format!(
        "SELECT {} FROM people WHERE id = {id}",
        cols.join(", ")
    ))
    .await
    .into_iter()
    .next()
    .unwrap_or_else(|| panic!("person {id} is gone"))
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

async fn every_transform_writes_its_exact_value_once(b: Backend) {
    let db = TestDb::new(b).await;
    people(&db).await;
    let cfg = db.write_config(&policy(EVERY_TRANSFORM), "");
    let run = json_ok(&run_cli(&cfg, &["run", "--json"], &at(NOW)));
    assert_eq!(field(&run, "people", "affected"), 3, "{run:#}");

    assert_eq!(
        row(&db, 1).await,
        vec![
            s("redacted"),
            s("0"),
            s(&hmac_hex(TEST_KEY, "zoe@example.nl")),
            s("192.0.2.0"),
            None,
            s("1980-01-01"),
            s("1980-05-01"),
            s("2020-01-01 00:00:00"),
            s("2020-06-01 00:00:00"),
            s("example.nl"),
        ],
        "columns: {COLUMNS}"
    );
    assert_eq!(
        row(&db, 2).await,
        vec![
            s("redacted"),
            s("0"),
            s(&hmac_hex(TEST_KEY, "李小龍@example.org")),
            s("2001:db8:85a3::"),
            None,
            s("1999-01-01"),
            s("1999-12-01"),
            s("2021-01-01 00:00:00"),
            s("2021-02-01 00:00:00"),
            s("éxample.org"),
        ],
        "columns: {COLUMNS}"
    );
    // An "IP address" that is none says nothing: dropped (the column is nullable). NULLs stay.
    assert_eq!(
        row(&db, 3).await,
        vec![
            s("redacted"),
            s("0"),
            s(&hmac_hex(TEST_KEY, "none@example.com")),
            None,
            None,
            None,
            None,
            None,
            None,
            None,
        ],
        "columns: {COLUMNS}"
    );
    // Not expired: untouched.
    assert_eq!(
        row(&db, 4).await,
        vec![
            s("Still Here"),
            s("5"),
            s("here@example.nl"),
            s("198.51.100.1"),
            s("x"),
            s("1990-01-02"),
            s("1990-01-02"),
            s("2026-01-02 03:04:05"),
            s("2026-01-02 03:04:05"),
            s("here@example.nl"),
        ],
        "columns: {COLUMNS}"
    );
    let hashed = row(&db, 1).await[2].clone().unwrap_or_default();
    assert!(
        hashed.len() == 64
            && hashed
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
        "hash must be 64 lowercase hex characters: {hashed}"
    );

    // Idempotent: nothing is left to do, nothing changes (a hash is not hashed again).
    let before = db.checksum_all().await;
    let again = json_ok(&run_cli(&cfg, &["run", "--json"], &at(NOW)));
    assert_eq!(field(&again, "people", "affected"), 0, "{again:#}");
    assert_eq!(db.checksum_all().await, before, "a second run changed data");
    assert_eq!(
        db.scalar_i64("SELECT COUNT(*) FROM retentiond_audit WHERE policy = 'people'")
            .await,
        1,
        "a second run with nothing to do records no batch"
    );
}

/// A different key gives a different, still stable, pseudonym: the key really is used.
async fn hash_uses_the_configured_key(b: Backend) {
    let db = TestDb::new(b).await;
    people(&db).await;
    let key = "another-key-of-enough-length";
    let cfg = db.write_config(&policy(r#"email = "hash""#), "");
    let run = json_ok(&run_cli(
        &cfg,
        &["run", "--json"],
        &[("RETENTIOND_TEST_NOW", NOW), ("RETENTIOND_HASH__KEY", key)],
    ));
    assert_eq!(field(&run, "people", "affected"), 3, "{run:#}");
    assert_eq!(
        db.scalar_opt_string("SELECT email FROM people WHERE id = 1")
            .await,
        s(&hmac_hex(key, "zoe@example.nl"))
    );
    assert_eq!(
        db.scalar_opt_string("SELECT name FROM people WHERE id = 1")
            .await,
        s("Zoë de Vries"),
        "only the configured column changes"
    );
}

/// A policy extended by a column later: the rows are anonymized again for the new column,
/// and the already hashed column is not hashed a second time.
async fn adding_a_column_later_does_not_hash_twice(b: Backend) {
    let db = TestDb::new(b).await;
    people(&db).await;
    let cfg = db.write_config(&policy(r#"email = "hash""#), "");
    json_ok(&run_cli(&cfg, &["run", "--json"], &at(NOW)));
    let cfg = db.write_config(&policy(r#"email = "hash", name = "redact""#), "");
    let run = json_ok(&run_cli(&cfg, &["run", "--json"], &at(NOW)));
    assert_eq!(field(&run, "people", "affected"), 3, "{run:#}");
    assert_eq!(
        row(&db, 1).await[..3],
        [
            s("redacted"),
            s("42"),
            s(&hmac_hex(TEST_KEY, "zoe@example.nl"))
        ]
    );
}

const CROWD: i64 = 1_200;

/// `CROWD` expired people; every seventh without an IP address.
async fn crowd(db: &TestDb) {
    let (ts, text) = (db.ts_type(), db.text_type());
    let rows: Vec<String> = (1..=CROWD)
        .map(|n| {
            let ip = if n % 7 == 0 {
                "NULL".to_string()
            } else {
                format!("'10.1.{}.{}'", n / 250, n % 250 + 1)
            };
            format!("({n}, 'Person {n}', 'p{n}@example.org', {ip}, '2025-01-01 00:00:00')")
        })
        .collect();
    db.exec(&format!(
        "CREATE TABLE people (id BIGINT PRIMARY KEY, name {text} NOT NULL, email {text} NOT NULL,
  ip {text} NULL, left_at {ts} NOT NULL);
INSERT INTO people VALUES {}",
        rows.join(",\n")
    ))
    .await;
}

const CROWD_COLUMNS: &str = r#"name = "redact", email = "hash", ip = "truncate_ip""#;

async fn crowd_rows(db: &TestDb) -> Vec<Vec<Option<String>>> {
    db.text_rows(&format!(
        "SELECT {}, name, email, ip FROM people ORDER BY people.id",
        db.cast_text("id")
    ))
    .await
}

/// One batch larger than one statement carries: every row still gets the values computed
/// from its own data, rows without an IP address keep NULL, and one audit entry covers all.
async fn a_large_batch_gives_every_row_its_own_values(b: Backend) {
    let db = TestDb::new(b).await;
    crowd(&db).await;
    let cfg = db.write_config(&policy(CROWD_COLUMNS), "batch_size = 5000");
    let run = json_ok(&run_cli(&cfg, &["run", "--json"], &at(NOW)));
    assert_eq!(field(&run, "people", "affected") as i64, CROWD, "{run:#}");
    let rows = crowd_rows(&db).await;
    assert_eq!(rows.len() as i64, CROWD);
    for (i, row) in rows.iter().enumerate() {
        let n = i as i64 + 1;
        let ip = (n % 7 != 0).then(|| format!("10.1.{}.0", n / 250));
        assert_eq!(
            row[1..],
            [
                s("redacted"),
                s(&hmac_hex(TEST_KEY, &format!("p{n}@example.org"))),
                ip
            ],
            "person {n}"
        );
    }
    assert_eq!(
        db.scalar_i64("SELECT COUNT(*) FROM retentiond_audit WHERE policy = 'people'")
            .await,
        1,
        "one batch, one audit entry"
    );
}

/// A value the application changes between the batch's read and its write is not
/// overwritten with a hash of the old value: that row is left whole for the next run, which
/// hashes the new value.
async fn a_value_changed_mid_batch_is_not_overwritten(b: Backend) {
    let db = TestDb::new(b).await;
    crowd(&db).await;
    let cfg = db.write_config(&policy(CROWD_COLUMNS), "batch_size = 5000");
    let (mut child, resume) = start_stalled(&db, &cfg, &["run"], "after-select");
    // One row in the first statement's group, one in the last.
    db.exec("UPDATE people SET email = 'changed@example.org' WHERE id IN (50, 1150)")
        .await;
    std::fs::write(&resume, "").expect("resume the run");
    let status = child.wait().expect("the run ends");
    assert!(status.success(), "the run succeeds: {status:?}");
    let rows = crowd_rows(&db).await;
    for n in [50, 1150] {
        assert_eq!(
            rows[n - 1][1..],
            [
                s(&format!("Person {n}")),
                s("changed@example.org"),
                s(&format!("10.1.{}.{}", n / 250, n % 250 + 1))
            ],
            "person {n} changed under the batch and is left whole"
        );
    }
    assert_eq!(
        rows[50][2],
        s(&hmac_hex(TEST_KEY, "p51@example.org")),
        "its neighbour is anonymized"
    );

    let again = json_ok(&run_cli(&cfg, &["run", "--json"], &at(NOW)));
    assert_eq!(field(&again, "people", "affected"), 2, "{again:#}");
    assert_eq!(
        crowd_rows(&db).await[49][2],
        s(&hmac_hex(TEST_KEY, "changed@example.org"))
    );
}

on_server_backends!(a_value_changed_mid_batch_is_not_overwritten);

on_every_backend!(
    a_large_batch_gives_every_row_its_own_values,
    every_transform_writes_its_exact_value_once,
    hash_uses_the_configured_key,
    adding_a_column_later_does_not_hash_twice,
);
