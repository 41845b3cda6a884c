//! Anonymizing with values computed outside SQL (the keyed hash, IP truncation of text), as
//! the tables real applications have: keys of several columns, of text, uuids and timestamps,
//! NULLs, text beyond ASCII, rows the application changes while a batch is being written. Every
//! value written is the one the transform functions give for the value read.

mod common;

use common::{Backend, NOW, TEST_KEY, TestDb, at, field, json_ok, run_cli, start_stalled};
use retentiond::engine::transform::{hash, truncate_ip};

fn policy(table: &str, columns: &str) -> String {
    format!(
        r#"
[[policies]]
name = "{table}"
table = "{table}"
since = "left_at"
retain = "1 year"
action = "anonymize"
columns = {{ {columns} }}
basis = "test"
"#
    )
}

const COLUMNS: &str = r#"name = "redact", email = "hash", ip = "truncate_ip""#;

fn hashed(value: &str) -> String {
    hash(TEST_KEY.as_bytes(), value)
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

/// SQL text of an optional value.
fn lit(v: &Option<String>) -> String {
    match v {
        Some(v) => format!("'{}'", v.replace('\'', "''")),
        None => "NULL".into(),
    }
}

/// What a row anonymized by `COLUMNS` holds: its name redacted, its e-mail address hashed and
/// its IP address truncated (NULL for one that is none), NULLs kept.
fn anonymized(email: &Option<String>, ip: &Option<String>) -> Vec<Option<String>> {
    vec![
        s("redacted"),
        email.as_deref().map(hashed),
        ip.as_deref().and_then(truncate_ip),
    ]
}

/// Text beyond ASCII (two-, three- and four-byte UTF-8), NULLs, addresses of each kind and one
/// that is none.
fn email(n: i64) -> Option<String> {
    match n % 5 {
        0 => None,
        1 => s(&format!("zoë.{n}@example.nl")),
        2 => s(&format!("李小龍{n}@example.org")),
        3 => s(&format!("p{n}😀@example.com")),
        _ => s(&format!("o'brien{n}@example.ie")),
    }
}

fn ip(n: i64) -> Option<String> {
    match n % 7 {
        0 => None,
        1 => s(&format!("2001:db8:{:x}:12::7334", n)),
        2 => s(&format!(
            "::ffff:10.{}.{}.{}",
            n % 250,
            n / 250 % 250,
            n % 249 + 1
        )),
        3 => s("unknown"),
        _ => s(&format!("10.{}.{}.{}", n / 250 % 250, n % 250, n % 249 + 1)),
    }
}

const TENANTS: [&str; 3] = ["acme", "Ünïcode ß", "b"];

/// `n` visits spread over three tenants, keyed by (tenant, n): more rows than one statement
/// carries on MariaDB and SQLite. The last one has not expired.
async fn visits(db: &TestDb, n: i64) {
    let (ts, text) = (db.ts_type(), db.text_type());
    db.exec(&format!(
        "CREATE TABLE visits (tenant {text} NOT NULL, n BIGINT NOT NULL, name {text} NOT NULL,
  email {text} NULL, ip {text} NULL, left_at {ts} NOT NULL, PRIMARY KEY (tenant, n))"
    ))
    .await;
    let rows: Vec<String> = (1..=n)
        .map(|i| {
            let left = if i == n { "2026-12-01" } else { "2025-01-01" };
            format!(
                "('{}', {}, 'Person {i}', {}, {}, '{left} 00:00:00')",
                TENANTS[(i % 3) as usize],
                i / 3,
                lit(&email(i)),
                lit(&ip(i))
            )
        })
        .collect();
    for chunk in rows.chunks(400) {
        db.exec(&format!("INSERT INTO visits VALUES {}", chunk.join(",\n")))
            .await;
    }
}

/// Every visit as (tenant, n, name, email, ip), in key order.
async fn visit_rows(db: &TestDb) -> Vec<Vec<Option<String>>> {
    db.text_rows(&format!(
        "SELECT tenant, {}, name, email, ip FROM visits ORDER BY visits.n, visits.tenant",
        db.cast_text("n")
    ))
    .await
}

/// The row number of the visit of `tenant` and `n`, and what it held before any run.
fn original(tenant: &str, n: i64) -> (i64, Vec<Option<String>>) {
    let t = TENANTS.iter().position(|t| *t == tenant).unwrap_or(0) as i64;
    let i = n * 3 + t;
    (i, vec![s(&format!("Person {i}")), email(i), ip(i)])
}

/// A key of text and integer columns: every row of a batch larger than one statement gets the
/// values computed from its own data, with NULLs kept and text beyond ASCII hashed as UTF-8.
async fn a_two_column_text_key_batch_writes_each_rows_own_values(b: Backend) {
    const N: i64 = 1_201;
    let db = TestDb::new(b).await;
    visits(&db, N).await;
    let cfg = db.write_config(&policy("visits", COLUMNS), "batch_size = 5000");
    let run = json_ok(&run_cli(&cfg, &["run", "--json"], &at(NOW)));
    assert_eq!(field(&run, "visits", "affected") as i64, N - 1, "{run:#}");
    let rows = visit_rows(&db).await;
    assert_eq!(rows.len() as i64, N);
    for row in &rows {
        let tenant = row[0].clone().unwrap_or_default();
        let n: i64 = row[1].as_deref().and_then(|v| v.parse().ok()).unwrap_or(-1);
        let (i, before) = original(&tenant, n);
        let expected = if i == N {
            before
        } else {
            anonymized(&email(i), &ip(i))
        };
        assert_eq!(row[2..], expected, "visit {tenant:?} {n} (row {i})");
    }
    assert_eq!(
        db.scalar_i64("SELECT COUNT(*) FROM retentiond_audit WHERE policy = 'visits'")
            .await,
        1,
        "one batch, one audit entry"
    );
    let again = json_ok(&run_cli(&cfg, &["run", "--json"], &at(NOW)));
    assert_eq!(field(&again, "visits", "affected"), 0, "{again:#}");
}

/// A key of a uuid (the database's own type where it has one) and a timestamp with
/// microseconds, walked in several batches.
async fn uuid_and_timestamp_keys(b: Backend) {
    let db = TestDb::new(b).await;
    let (uuid, ts6) = match b {
        Backend::Postgres => ("uuid", "TIMESTAMP(6)"),
        Backend::MariaDb => ("UUID", "DATETIME(6)"),
        Backend::Sqlite => ("TEXT", "TIMESTAMP"),
    };
    let (ts, text) = (db.ts_type(), db.text_type());
    db.exec(&format!(
        "CREATE TABLE devices (id {uuid} NOT NULL, seen {ts6} NOT NULL, name {text} NOT NULL,
  email {text} NULL, ip {text} NULL, left_at {ts} NOT NULL, PRIMARY KEY (id, seen))"
    ))
    .await;
    let rows: Vec<(String, String, i64)> = (1..=40)
        .map(|i: i64| {
            // Two rows per uuid, told apart by the microseconds of their timestamp.
            let id = format!(
                "{:08x}-d9cb-469f-a165-{:012x}",
                (i / 2) * 2654435761 % 4294967296,
                i / 2
            );
            let seen = format!("2024-03-0{} 10:11:12.{:06}", i % 2 + 1, 123457 + i % 2);
            (id, seen, i)
        })
        .collect();
    let values: Vec<String> = rows
        .iter()
        .map(|(id, seen, i)| {
            format!(
                "('{id}', '{seen}', 'Device {i}', {}, {}, '2025-01-01 00:00:00')",
                lit(&email(*i)),
                lit(&ip(*i))
            )
        })
        .collect();
    db.exec(&format!(
        "INSERT INTO devices VALUES {}",
        values.join(",\n")
    ))
    .await;
    let cfg = db.write_config(&policy("devices", COLUMNS), "batch_size = 16");
    let run = json_ok(&run_cli(&cfg, &["run", "--json"], &at(NOW)));
    assert_eq!(field(&run, "devices", "affected"), 40, "{run:#}");
    assert!(
        field(&run, "devices", "batches") > 1,
        "40 rows in 16s: {run:#}"
    );
    for (id, seen, i) in &rows {
        let got = db
            .text_rows(&format!(
                "SELECT name, email, ip FROM devices WHERE {} = '{id}' AND seen = '{seen}'",
                db.cast_text("id")
            ))
            .await;
        assert_eq!(
            got,
            vec![anonymized(&email(*i), &ip(*i))],
            "device {id} {seen}"
        );
    }
}

/// A key of a date, bytes and (where the database has one) a point in time: each kind bound
/// as it was read.
async fn date_bytes_and_instant_keys(b: Backend) {
    let db = TestDb::new(b).await;
    let (bytes, instant) = match b {
        Backend::Postgres => ("bytea", Some("timestamptz")),
        Backend::MariaDb => ("VARBINARY(16)", Some("TIMESTAMP(6)")),
        Backend::Sqlite => ("BLOB", None),
    };
    let (ts, text) = (db.ts_type(), db.text_type());
    let (at_column, at_key) = match instant {
        Some(t) => (format!("at {t} NOT NULL,"), ", at"),
        None => (String::new(), ""),
    };
    db.exec(&format!(
        "CREATE TABLE tags (day DATE NOT NULL, tag {bytes} NOT NULL, {at_column} name {text} NOT NULL,
  email {text} NULL, ip {text} NULL, left_at {ts} NOT NULL, PRIMARY KEY (day, tag{at_key}))"
    ))
    .await;
    let values: Vec<String> = (1..=30_i64)
        .map(|i| {
            let hex = format!("{:02x}ff00{:02x}", i % 4, i);
            let tag = match b {
                Backend::Postgres => format!("decode('{hex}', 'hex')"),
                _ => format!("X'{hex}'"),
            };
            let at = match instant {
                Some(_) => format!("'2024-05-0{} 08:00:00.{:06}', ", i % 3 + 1, i),
                None => String::new(),
            };
            format!(
                "('2024-01-0{}', {tag}, {at}'Tag {i}', {}, {}, '2025-01-01 00:00:00')",
                i % 5 + 1,
                lit(&email(i)),
                lit(&ip(i))
            )
        })
        .collect();
    db.exec(&format!("INSERT INTO tags VALUES {}", values.join(",\n")))
        .await;
    let cfg = db.write_config(&policy("tags", COLUMNS), "batch_size = 12");
    let run = json_ok(&run_cli(&cfg, &["run", "--json"], &at(NOW)));
    assert_eq!(field(&run, "tags", "affected"), 30, "{run:#}");
    // Compared as sets: each row's values are its own, whatever its key's order.
    let mut got = db.text_rows("SELECT name, email, ip FROM tags").await;
    let mut expected: Vec<Vec<Option<String>>> =
        (1..=30).map(|i| anonymized(&email(i), &ip(i))).collect();
    got.sort();
    expected.sort();
    assert_eq!(got, expected);
}

/// Every text the IP truncation meets, nullable or not: what the database ends up holding is
/// exactly what `truncate_ip` gives (an address that is none: NULL, or `0.0.0.0` where the
/// column admits no NULL).
async fn truncated_text_addresses_are_what_truncate_ip_gives(b: Backend) {
    // None of these ends in `.0` or `::` without being an address: such a value already looks
    // truncated, and is left as it is.
    const TRICKY: [&str; 26] = [
        "192.0.2.77",
        "192.0.2.0",
        " 192.0.2.77",
        "192.0.2.77 ",
        "01.2.3.4",
        "10.1.2",
        "256.1.1.1",
        "1.2.3.4/24",
        "::ffff:192.0.2.5",
        "::FFFF:192.0.2.5",
        "::ffff:c000:0205",
        "::1.2.3.4",
        "::1",
        "2001:DB8:85A3:12::7334",
        "2001:db8:0:0:1::1",
        "2001:0db8:0000:0000:0000:0000:0000:0001",
        "2001:0:0:1::1",
        "fe80::1%eth0",
        "2a02:a45:1234:5600::1",
        "1:2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7:8:9",
        "",
        "not an ip",
        "ünï::1",
        "0.0.0.0",
        "::ffff:0.0.0.1",
    ];
    let db = TestDb::new(b).await;
    let (ts, text) = (db.ts_type(), db.text_type());
    db.exec(&format!(
        "CREATE TABLE hosts (id BIGINT PRIMARY KEY, ip {text} NULL, ip_required {text} NOT NULL,
  left_at {ts} NOT NULL)"
    ))
    .await;
    let values: Vec<String> = TRICKY
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let v = lit(&s(v));
            format!("({i}, {v}, {v}, '2025-01-01 00:00:00')")
        })
        .collect();
    db.exec(&format!("INSERT INTO hosts VALUES {}", values.join(",\n")))
        .await;
    let cfg = db.write_config(
        &policy(
            "hosts",
            r#"ip = "truncate_ip", ip_required = "truncate_ip""#,
        ),
        "",
    );
    json_ok(&run_cli(&cfg, &["run", "--json"], &at(NOW)));
    let got = db
        .text_rows(&format!(
            "SELECT {}, ip, ip_required FROM hosts ORDER BY hosts.id",
            db.cast_text("id")
        ))
        .await;
    let expected: Vec<Vec<Option<String>>> = TRICKY
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let t = truncate_ip(v);
            vec![s(&i.to_string()), t.clone(), t.or_else(|| s("0.0.0.0"))]
        })
        .collect();
    for (g, e) in got.iter().zip(&expected) {
        let i: usize = e[0].as_deref().and_then(|v| v.parse().ok()).unwrap_or(0);
        assert_eq!(g, e, "input {:?}", TRICKY[i]);
    }
    assert_eq!(got.len(), expected.len());
    let again = json_ok(&run_cli(&cfg, &["run", "--json"], &at(NOW)));
    assert_eq!(field(&again, "hosts", "affected"), 0, "{again:#}");
}

/// Rows the application changes between the batch's read and its write are left whole for the
/// next run: a new e-mail address, an address set to NULL, a NULL address set, a row whose
/// clock starts again (the whole predicate is checked again at the write).
async fn rows_changed_between_read_and_write_are_left_whole(b: Backend) {
    const N: i64 = 1_201;
    let db = TestDb::new(b).await;
    visits(&db, N).await;
    let cfg = db.write_config(&policy("visits", COLUMNS), "batch_size = 5000");
    // (tenant, n) of: a changed e-mail, an IP set to NULL, a NULL IP set, a clock that starts
    // again; in different statements of the batch where it takes several.
    let (changed_email, ip_gone, ip_set, reopened) =
        (("b", 0_i64), ("acme", 100), ("Ünïcode ß", 2), ("acme", 390));
    assert!(ip(original(ip_gone.0, ip_gone.1).0).is_some());
    assert!(ip(original(ip_set.0, ip_set.1).0).is_none());
    let (mut child, resume) = start_stalled(&db, &cfg, &["run"], "after-select");
    db.exec(&format!(
        "UPDATE visits SET email = 'changed@example.org' WHERE tenant = '{}' AND n = {};
UPDATE visits SET ip = NULL WHERE tenant = '{}' AND n = {};
UPDATE visits SET ip = '10.9.9.9' WHERE tenant = '{}' AND n = {};
UPDATE visits SET left_at = '2026-12-01 00:00:00' WHERE tenant = '{}' AND n = {}",
        changed_email.0,
        changed_email.1,
        ip_gone.0,
        ip_gone.1,
        ip_set.0,
        ip_set.1,
        reopened.0,
        reopened.1
    ))
    .await;
    std::fs::write(&resume, "").expect("resume the run");
    let status = child.wait().expect("the run ends");
    assert!(status.success(), "the run succeeds: {status:?}");

    let find = |rows: &[Vec<Option<String>>], (tenant, n): (&str, i64)| {
        rows.iter()
            .find(|r| r[0].as_deref() == Some(tenant) && r[1] == s(&n.to_string()))
            .map(|r| r[2..].to_vec())
            .unwrap_or_default()
    };
    let rows = visit_rows(&db).await;
    let whole = |key: (&str, i64), email: Option<String>, ip: Option<String>| {
        let (i, _) = original(key.0, key.1);
        vec![s(&format!("Person {i}")), email, ip]
    };
    let (ce, ig, is, ro) = (
        original(changed_email.0, changed_email.1).0,
        original(ip_gone.0, ip_gone.1).0,
        original(ip_set.0, ip_set.1).0,
        original(reopened.0, reopened.1).0,
    );
    assert_eq!(
        find(&rows, changed_email),
        whole(changed_email, s("changed@example.org"), ip(ce)),
        "a changed e-mail address"
    );
    assert_eq!(
        find(&rows, ip_gone),
        whole(ip_gone, email(ig), None),
        "an IP address set to NULL"
    );
    assert_eq!(
        find(&rows, ip_set),
        whole(ip_set, email(is), s("10.9.9.9")),
        "a NULL IP address set"
    );
    assert_eq!(
        find(&rows, reopened),
        whole(reopened, email(ro), ip(ro)),
        "a clock that started again"
    );
    let neighbour = ("acme", 101);
    let (nb, _) = original(neighbour.0, neighbour.1);
    assert_eq!(
        find(&rows, neighbour),
        anonymized(&email(nb), &ip(nb)),
        "a neighbour is anonymized"
    );

    let again = json_ok(&run_cli(&cfg, &["run", "--json"], &at(NOW)));
    assert_eq!(field(&again, "visits", "affected"), 3, "{again:#}");
    let rows = visit_rows(&db).await;
    assert_eq!(
        find(&rows, changed_email),
        anonymized(&s("changed@example.org"), &ip(ce))
    );
    assert_eq!(find(&rows, ip_gone), anonymized(&email(ig), &None));
    assert_eq!(find(&rows, ip_set), anonymized(&email(is), &s("10.9.9.9")));
    assert_eq!(
        find(&rows, reopened),
        whole(reopened, email(ro), ip(ro)),
        "not expired: untouched"
    );
}

/// MariaDB tables in latin1 (the old default): values with accents are read as UTF-8 and
/// compared with what the row still holds without a clash of character sets.
#[tokio::test]
async fn latin1_columns_with_accents_mariadb() {
    let db = TestDb::new(Backend::MariaDb).await;
    db.exec(
        "CREATE TABLE people (id BIGINT PRIMARY KEY, name VARCHAR(50) NOT NULL, email VARCHAR(100) NULL,
  ip VARCHAR(50) NULL, left_at DATETIME NOT NULL) CHARACTER SET latin1;
INSERT INTO people VALUES (1, 'Zoë', 'zoë@exämple.nl', '192.0.2.77', '2025-01-01 00:00:00'),
  (2, 'Ana', 'ana@example.nl', 'ünknown', '2025-01-01 00:00:00'),
  (3, 'Éva', NULL, NULL, '2025-01-01 00:00:00')",
    )
    .await;
    let cfg = db.write_config(&policy("people", COLUMNS), "");
    let run = json_ok(&run_cli(&cfg, &["run", "--json"], &at(NOW)));
    assert_eq!(field(&run, "people", "affected"), 3, "{run:#}");
    let rows = db
        .text_rows("SELECT name, email, ip FROM people ORDER BY id")
        .await;
    assert_eq!(
        rows,
        vec![
            anonymized(&s("zoë@exämple.nl"), &s("192.0.2.77")),
            anonymized(&s("ana@example.nl"), &s("ünknown")),
            anonymized(&None, &None),
        ]
    );
}

on_server_backends!(rows_changed_between_read_and_write_are_left_whole);

on_every_backend!(
    a_two_column_text_key_batch_writes_each_rows_own_values,
    uuid_and_timestamp_keys,
    date_bytes_and_instant_keys,
    truncated_text_addresses_are_what_truncate_ip_gives,
);
