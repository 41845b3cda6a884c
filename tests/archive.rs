//! `action = "archive"`: invoices (as Laravel, Django and a PostgreSQL app make them) move to
//! an archive database of each dialect. What must hold: every expired row is in the archive
//! with every value as it was (numbers exact, times in the same instant, text, bytes and JSON
//! unchanged) and gone live; nothing unexpired moves; a repeated run changes nothing; and a run
//! whose archive cannot be reached deletes nothing of the archive policies while the others run.

mod common;

use common::*;
use sqlx::Connection;

/// Issued in 2019 at the latest: 7 years from the end of the year lie before `NOW`
/// (2027-03-01). Issued from 2020-01-01: kept.
const INVOICES_7Y: &str = r#"
[[policies]]
name = "invoices"
table = "invoices"
since = "issued_on"
retain = "7 years"
round = "end_of_year"
action = "archive"
basis = "AWR 52(4): 7 years"
"#;

fn schema(b: Backend) -> &'static str {
    match b {
        Backend::Postgres => {
            r#"
CREATE TABLE invoices (
  id BIGSERIAL PRIMARY KEY,
  number VARCHAR(32) NOT NULL UNIQUE,
  customer_name TEXT NOT NULL,
  amount NUMERIC(12,2) NOT NULL,
  vat_rate NUMERIC(5,4),
  exact NUMERIC,
  ratio DOUBLE PRECISION,
  paid BOOLEAN NOT NULL DEFAULT false,
  issued_on DATE NOT NULL,
  created_at TIMESTAMP(6) NOT NULL DEFAULT now(),
  paid_at TIMESTAMPTZ,
  token UUID,
  pdf BYTEA,
  meta JSONB,
  ip INET
);
INSERT INTO invoices (id, number, customer_name, amount, vat_rate, exact, ratio, paid, issued_on, created_at, paid_at, token, pdf, meta, ip) VALUES
  (1, 'INV-2018-001', 'Zoë Ñúñez 🧾 "quoted"', 1234.50, 0.2100, 12345678901234567890.12345678901234567890, 0.1::float8 + 0.2::float8, true, '2018-05-01', '2018-05-01 10:11:12.123456', '2018-05-02 08:00:00.5+02', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\x00ff10', '{"ü": "x", "a": [1, 2]}', '203.0.113.7'),
  (2, 'INV-2019-999', 'Last of 2019', -0.01, NULL, NULL, NULL, false, '2019-12-31', '2019-12-31 23:59:59.999999', NULL, NULL, NULL, NULL, NULL),
  (3, 'INV-2020-001', 'First of 2020', 10.00, 0.0900, 1, 1.5, true, '2020-01-01', '2020-01-01 00:00:00', '2020-01-01 00:00:00+00', NULL, NULL, NULL, NULL),
  (4, 'INV-2024-001', 'Recent', 99.99, 0.2100, 2, 2.5, false, '2024-06-01', '2024-06-01 12:00:00', NULL, NULL, NULL, NULL, NULL);
"#
        }
        // As Laravel's migrations make it: unsigned big integer ids, DECIMAL money, TINYINT(1)
        // booleans, CHAR(36) uuids, MariaDB's JSON (a LONGTEXT with a JSON_VALID check).
        Backend::MariaDb => {
            r#"
CREATE TABLE invoices (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  number VARCHAR(32) NOT NULL UNIQUE,
  customer_name VARCHAR(255) NOT NULL,
  amount DECIMAL(12,2) NOT NULL,
  vat_rate DECIMAL(5,4) NULL,
  exact DECIMAL(40,20) NULL,
  ratio DOUBLE NULL,
  paid TINYINT(1) NOT NULL DEFAULT 0,
  issued_on DATE NOT NULL,
  created_at DATETIME(6) NOT NULL,
  paid_at TIMESTAMP(6) NULL,
  token CHAR(36) NULL,
  pdf BLOB NULL,
  meta JSON NULL,
  ip VARCHAR(45) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
SET time_zone = '+00:00';
INSERT INTO invoices (id, number, customer_name, amount, vat_rate, exact, ratio, paid, issued_on, created_at, paid_at, token, pdf, meta, ip) VALUES
  (1, 'INV-2018-001', 'Zoë Ñúñez 🧾 "quoted"', 1234.50, 0.2100, 12345678901234567890.12345678901234567890, 0.1e0 + 0.2e0, 1, '2018-05-01', '2018-05-01 10:11:12.123456', '2018-05-02 06:00:00.5', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', X'00ff10', '{"ü": "x", "a": [1, 2]}', '203.0.113.7'),
  (2, 'INV-2019-999', 'Last of 2019', -0.01, NULL, NULL, NULL, 0, '2019-12-31', '2019-12-31 23:59:59.999999', NULL, NULL, NULL, NULL, NULL),
  (3, 'INV-2020-001', 'First of 2020', 10.00, 0.0900, 1, 1.5, 1, '2020-01-01', '2020-01-01 00:00:00', '2020-01-01 00:00:00', NULL, NULL, NULL, NULL),
  (4, 'INV-2024-001', 'Recent', 99.99, 0.2100, 2, 2.5, 0, '2024-06-01', '2024-06-01 12:00:00', NULL, NULL, NULL, NULL, NULL);
"#
        }
        // As Django makes it on SQLite: decimal, bool, datetime (UTC text), char(32) uuids.
        Backend::Sqlite => {
            r#"
CREATE TABLE "invoices" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "number" varchar(32) NOT NULL UNIQUE, "customer_name" varchar(255) NOT NULL, "amount" decimal NOT NULL, "vat_rate" decimal NULL, "exact" decimal NULL, "ratio" real NULL, "paid" bool NOT NULL, "issued_on" date NOT NULL, "created_at" datetime NOT NULL, "paid_at" datetime NULL, "token" char(32) NULL, "pdf" BLOB NULL, "meta" text NULL CHECK ((JSON_VALID("meta") OR "meta" IS NULL)), "ip" char(39) NULL);
INSERT INTO invoices (id, number, customer_name, amount, vat_rate, exact, ratio, paid, issued_on, created_at, paid_at, token, pdf, meta, ip) VALUES
  (1, 'INV-2018-001', 'Zoë Ñúñez 🧾 "quoted"', '1234.50', '0.2100', '12345678901234567890.12345678901234567890', 0.1 + 0.2, 1, '2018-05-01', '2018-05-01 10:11:12.123456', '2018-05-02 06:00:00.500000', 'a0eebc999c0b4ef8bb6d6bb9bd380a11', X'00ff10', '{"ü": "x", "a": [1, 2]}', '203.0.113.7'),
  (2, 'INV-2019-999', 'Last of 2019', '-0.01', NULL, NULL, NULL, 0, '2019-12-31', '2019-12-31 23:59:59.999999', NULL, NULL, NULL, NULL, NULL),
  (3, 'INV-2020-001', 'First of 2020', '10.00', '0.0900', 1, 1.5, 1, '2020-01-01', '2020-01-01 00:00:00', '2020-01-01 00:00:00', NULL, NULL, NULL, NULL),
  (4, 'INV-2024-001', 'Recent', '99.99', '0.2100', 2, 2.5, 0, '2024-06-01', '2024-06-01 12:00:00', NULL, NULL, NULL, NULL, NULL);
"#
        }
    }
}

/// What each column is, for reading it as text on any database.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Text,
    Decimal,
    Float,
    Bool,
    Date,
    Timestamp,
    Instant,
    Bytes,
}

const COLUMNS: [(&str, Kind); 15] = [
    ("id", Kind::Decimal),
    ("number", Kind::Text),
    ("customer_name", Kind::Text),
    ("amount", Kind::Decimal),
    ("vat_rate", Kind::Decimal),
    ("exact", Kind::Decimal),
    ("ratio", Kind::Float),
    ("paid", Kind::Bool),
    ("issued_on", Kind::Date),
    ("created_at", Kind::Timestamp),
    ("paid_at", Kind::Instant),
    ("token", Kind::Text),
    ("pdf", Kind::Bytes),
    ("meta", Kind::Text),
    ("ip", Kind::Text),
];

/// A column as text the way a person comparing two databases would read it.
fn as_text(b: Backend, col: &str, kind: Kind) -> String {
    match (b, kind) {
        (Backend::Postgres, Kind::Bool) => format!("CAST(CAST({col} AS INT) AS TEXT)"),
        (Backend::Postgres, Kind::Date) => format!("to_char({col}, 'YYYY-MM-DD')"),
        (Backend::Postgres, Kind::Timestamp) => {
            format!("to_char({col}, 'YYYY-MM-DD HH24:MI:SS.US')")
        }
        (Backend::Postgres, Kind::Instant) => {
            format!("to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')")
        }
        (Backend::Postgres, Kind::Bytes) => format!("encode({col}, 'hex')"),
        (Backend::Postgres, _) => format!("CAST({col} AS TEXT)"),
        (Backend::MariaDb, Kind::Date) => format!("DATE_FORMAT({col}, '%Y-%m-%d')"),
        (Backend::MariaDb, Kind::Timestamp | Kind::Instant) => {
            format!("DATE_FORMAT({col}, '%Y-%m-%d %H:%i:%s.%f')")
        }
        (Backend::MariaDb, Kind::Bytes) => format!("LOWER(HEX({col}))"),
        (Backend::MariaDb, _) => format!("CAST({col} AS CHAR)"),
        (Backend::Sqlite, Kind::Bytes) => {
            format!("CASE WHEN {col} IS NULL THEN NULL ELSE lower(hex({col})) END")
        }
        (Backend::Sqlite, Kind::Float | Kind::Decimal) => format!(
            "CASE WHEN typeof({col}) = 'real' THEN printf('%!.17g', {col}) ELSE CAST({col} AS TEXT) END"
        ),
        (Backend::Sqlite, _) => format!("CAST({col} AS TEXT)"),
    }
}

/// `1234.500` → `1234.5`; a float by its value.
fn same_value(kind: Kind, v: &Option<String>) -> Option<String> {
    let v = v.as_ref()?;
    Some(match kind {
        // SQLite holds most decimals as floats: their printed exponent form by value.
        Kind::Decimal if v.contains('e') => {
            format!("{}", v.parse::<f64>().expect("a number"))
        }
        Kind::Decimal if v.contains('.') => {
            v.trim_end_matches('0').trim_end_matches('.').to_string()
        }
        Kind::Float => format!("{:?}", v.parse::<f64>().expect("a float")),
        // A SQLite archive keeps a point in time with its offset.
        Kind::Instant => v.trim_end_matches("+00:00").to_string(),
        _ => v.clone(),
    })
}

async fn invoices(db: &TestDb) -> Vec<Vec<Option<String>>> {
    let cols: Vec<String> = COLUMNS
        .iter()
        .map(|(c, k)| as_text(db.backend, c, *k))
        .collect();
    let rows = db
        .text_rows(&format!(
            "SELECT {} FROM invoices ORDER BY id",
            cols.join(", ")
        ))
        .await;
    rows.into_iter()
        .map(|r| {
            r.iter()
                .zip(COLUMNS)
                .map(|(v, (_, k))| same_value(k, v))
                .collect()
        })
        .collect()
}

async fn moves_expired_invoices_exactly(live: Backend, to: Backend) {
    let db = TestDb::new(live).await;
    db.exec(schema(live)).await;
    let archive = TestDb::new(to).await;
    let before = invoices(&db).await;
    let config = db.with_archive(&db.write_config(INVOICES_7Y, ""), &archive);

    let out = run_cli(&config, &["check"], &at(NOW));
    let said = expect_exit(&out, 0);
    assert!(said.contains("does not exist yet"), "{said}");

    let doc = json_ok(&run_cli(&config, &["run", "--json"], &at(NOW)));
    assert_eq!(field(&doc, "invoices", "affected"), 2, "{doc:#}");
    assert_eq!(field(&doc, "invoices", "backlog"), 0, "{doc:#}");

    // Never early: 2019-12-31 went, 2020-01-01 stays.
    assert_eq!(db.ids("invoices").await, vec![3, 4]);
    let archived = invoices(&archive).await;
    assert_eq!(
        archived,
        before[..2].to_vec(),
        "archive differs from the live rows"
    );
    // The values a tax inspector would read, spelled out.
    let first = &archived[0];
    assert_eq!(first[2].as_deref(), Some("Zoë Ñúñez 🧾 \"quoted\""));
    assert_eq!(first[3].as_deref(), Some("1234.5"));
    // SQLite's NUMERIC affinity makes a float of it as it is written; the archive keeps
    // what the live database held.
    if live != Backend::Sqlite {
        assert_eq!(
            first[5].as_deref(),
            Some("12345678901234567890.1234567890123456789")
        );
    }
    assert_eq!(first[6].as_deref(), Some("0.30000000000000004"));
    assert_eq!(first[10].as_deref(), Some("2018-05-02 06:00:00.500000"));
    assert_eq!(first[12].as_deref(), Some("00ff10"));
    assert!(archived[1][5].is_none() && archived[1][12].is_none());
    let states = archive
        .text_rows(&format!(
            "SELECT {} FROM invoices ORDER BY id",
            archive.cast_text("retentiond_state")
        ))
        .await;
    assert_eq!(states, vec![vec![Some("archived".into())]; 2]);

    // Both audit trails record the two rows, and both chains verify.
    let out = run_cli(&config, &["audit", "verify"], &[]);
    expect_exit(&out, 0);
    assert_eq!(
        archive
            .scalar_i64("SELECT SUM(rows_affected) FROM retentiond_audit WHERE action = 'archive'")
            .await,
        2
    );

    // A second run finds nothing and changes nothing on either side.
    let doc = json_ok(&run_cli(&config, &["run", "--json"], &at(NOW)));
    assert_eq!(field(&doc, "invoices", "affected"), 0);
    assert_eq!(db.ids("invoices").await, vec![3, 4]);
    assert_eq!(invoices(&archive).await, before[..2].to_vec());
}

on_every_pair!(moves_expired_invoices_exactly);

/// Moved when three months old; deleted in the archive when the tax period ends: 7 years
/// from the end of the year, 10 for OSS supplies.
const INVOICE_LIFE: &str = r#"
[[policies]]
name = "invoices-to-archive"
table = "invoices"
since = "issued_on"
retain = "3 months"
action = "archive"
basis = "kept off the live site once settled"

[[policies]]
name = "invoices-7y"
database = "archive"
table = "invoices"
since = "issued_on"
retain = "7 years"
round = "end_of_year"
filter = "scheme <> 'oss'"
action = "delete"
basis = "AWR 52(4)"

[[policies]]
name = "invoices-oss-10y"
database = "archive"
table = "invoices"
since = "issued_on"
retain = "10 years"
round = "end_of_year"
filter = "scheme = 'oss'"
action = "delete"
basis = "Dir. 2006/112 art. 369k"
"#;

async fn keeps_its_own_retention_in_the_archive(live: Backend, to: Backend) {
    let db = TestDb::new(live).await;
    let id = db.id_type();
    db.exec(&format!(
        "CREATE TABLE invoices (id {id} PRIMARY KEY, scheme VARCHAR(16) NOT NULL, issued_on DATE NOT NULL);
INSERT INTO invoices (id, scheme, issued_on) VALUES (1, 'domestic', '2016-06-01'), (2, 'oss', '2016-06-01'), (3, 'oss', '2017-06-01'), (4, 'domestic', '2019-12-31'), (5, 'domestic', '2020-01-01'), (6, 'domestic', '2026-12-15');\n"
    ))
    .await;
    let archive = TestDb::new(to).await;
    let config = db.with_archive(&db.write_config(INVOICE_LIFE, ""), &archive);

    // Before the first run the archive table does not exist: check says so and passes.
    let said = expect_exit(&run_cli(&config, &["check"], &at(NOW)), 0);
    assert!(
        said.contains("made in the archive by the first run"),
        "{said}"
    );

    let doc = json_ok(&run_cli(&config, &["run", "--json"], &at(NOW)));
    assert_eq!(field(&doc, "invoices-to-archive", "affected"), 5, "{doc:#}");
    assert_eq!(policy(&doc, "invoices-7y")["database"], "archive");
    assert_eq!(field(&doc, "invoices-7y", "affected"), 2, "{doc:#}");
    assert_eq!(field(&doc, "invoices-oss-10y", "affected"), 1, "{doc:#}");
    assert!(doc["archive_run_id"].as_i64().is_some(), "{doc:#}");
    assert_eq!(db.ids("invoices").await, vec![6]);
    assert_eq!(archive.ids("invoices").await, vec![3, 5]);

    // The plan now shows both databases' policies, with nothing left to do.
    let plan = json_ok(&run_cli(&config, &["plan", "--json"], &at(NOW)));
    assert_eq!(field(&plan, "invoices-7y", "eligible"), 0, "{plan:#}");
    assert_eq!(field(&plan, "invoices-to-archive", "eligible"), 0);
    expect_exit(&run_cli(&config, &["audit", "verify"], &[]), 0);
    let said = expect_exit(&run_cli(&config, &["audit", "verify", "--archive"], &[]), 0);
    assert!(said.contains("entries"), "{said}");
    assert_eq!(
        archive
            .scalar_i64("SELECT SUM(rows_affected) FROM retentiond_audit WHERE action = 'delete'")
            .await,
        3
    );
}

on_every_pair!(keeps_its_own_retention_in_the_archive);

/// Payments and their invoices move; in the archive, with no foreign key of its own, an invoice
/// stays while an archived payment still points to it (as the live key kept it), so that the
/// payment never loses the invoice its record belongs to.
const PAYMENTS_AND_INVOICES: &str = r#"
[[policies]]
name = "payments-to-archive"
table = "payments"
since = "paid_on"
retain = "3 months"
action = "archive"
basis = "kept off the live site once settled"

[[policies]]
name = "invoices-to-archive"
table = "invoices"
since = "issued_on"
retain = "3 months"
action = "archive"
basis = "kept off the live site once settled"

[[policies]]
name = "payments-7y"
database = "archive"
table = "payments"
since = "paid_on"
retain = "7 years"
round = "end_of_year"
action = "delete"
basis = "AWR 52(4)"

[[policies]]
name = "invoices-7y"
database = "archive"
table = "invoices"
since = "issued_on"
retain = "7 years"
round = "end_of_year"
action = "delete"
basis = "AWR 52(4)"
"#;

/// Payments referencing invoices as each stack declares the key: Rails on PostgreSQL (bigint
/// ids, a named `fk_rails_` constraint, `timestamp(6)` bookkeeping), Laravel on MariaDB
/// (unsigned ids, `constrained()->cascadeOnDelete()`), Django on SQLite (a deferred key).
fn payments_and_invoices(b: Backend) -> &'static str {
    match b {
        Backend::Postgres => {
            "CREATE TABLE invoices (id bigserial PRIMARY KEY, issued_on date NOT NULL, created_at timestamp(6) NOT NULL DEFAULT now(), updated_at timestamp(6) NOT NULL DEFAULT now());
CREATE TABLE payments (id bigserial PRIMARY KEY, invoice_id bigint NOT NULL, paid_on date NOT NULL, created_at timestamp(6) NOT NULL DEFAULT now(), updated_at timestamp(6) NOT NULL DEFAULT now(), CONSTRAINT fk_rails_0b5a4a5c1e FOREIGN KEY (invoice_id) REFERENCES invoices (id));
CREATE INDEX index_payments_on_invoice_id ON payments (invoice_id);\n"
        }
        Backend::MariaDb => {
            "CREATE TABLE invoices (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, issued_on DATE NOT NULL, created_at TIMESTAMP NULL, updated_at TIMESTAMP NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE payments (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, invoice_id BIGINT UNSIGNED NOT NULL, paid_on DATE NOT NULL, created_at TIMESTAMP NULL, updated_at TIMESTAMP NULL, KEY payments_invoice_id_foreign (invoice_id), CONSTRAINT payments_invoice_id_foreign FOREIGN KEY (invoice_id) REFERENCES invoices (id) ON DELETE CASCADE) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;\n"
        }
        Backend::Sqlite => {
            "CREATE TABLE \"invoices\" (\"id\" integer NOT NULL PRIMARY KEY AUTOINCREMENT, \"issued_on\" date NOT NULL);
CREATE TABLE \"payments\" (\"id\" integer NOT NULL PRIMARY KEY AUTOINCREMENT, \"paid_on\" date NOT NULL, \"invoice_id\" bigint NOT NULL REFERENCES \"invoices\" (\"id\") DEFERRABLE INITIALLY DEFERRED);
CREATE INDEX \"payments_invoice_id_0b5a4a5c\" ON \"payments\" (\"invoice_id\");\n"
        }
    }
}

async fn the_archive_keeps_the_live_references(live: Backend, to: Backend) {
    let db = TestDb::new(live).await;
    db.exec(payments_and_invoices(live)).await;
    db.exec(
        "INSERT INTO invoices (id, issued_on) VALUES (1, '2017-06-01'), (2, '2019-12-20'), (3, '2026-12-20');
INSERT INTO payments (id, invoice_id, paid_on) VALUES (10, 1, '2017-06-05'), (20, 2, '2020-01-10'), (30, 3, '2027-01-05');\n",
    )
    .await;
    let archive = TestDb::new(to).await;
    let config = db.with_archive(&db.write_config(PAYMENTS_AND_INVOICES, ""), &archive);

    let doc = json_ok(&run_cli(&config, &["run", "--json"], &at(NOW)));
    assert_eq!(field(&doc, "payments-to-archive", "affected"), 2, "{doc:#}");
    assert_eq!(field(&doc, "invoices-to-archive", "affected"), 2, "{doc:#}");
    assert_eq!(db.ids("invoices").await, vec![3]);
    // Invoice 2 (7 years over at the end of 2026) waits for its payment of January 2020.
    assert_eq!(field(&doc, "payments-7y", "affected"), 1, "{doc:#}");
    assert_eq!(field(&doc, "invoices-7y", "affected"), 1, "{doc:#}");
    assert_eq!(field(&doc, "invoices-7y", "blocked"), 1, "{doc:#}");
    assert_eq!(archive.ids("payments").await, vec![20]);
    assert_eq!(archive.ids("invoices").await, vec![2]);

    let plan = json_ok(&run_cli(&config, &["plan", "--json"], &at(NOW)));
    assert_eq!(field(&plan, "invoices-7y", "blocked"), 1, "{plan:#}");
    let said = expect_exit(&run_cli(&config, &["plan"], &at(NOW)), 0);
    assert!(said.contains("1 by payments.invoice_id"), "{said}");

    // Once the payment's 7 years are over, both go in one run: the payment first.
    let doc = json_ok(&run_cli(
        &config,
        &["run", "--json"],
        &at("2028-01-02T00:00:00Z"),
    ));
    assert_eq!(field(&doc, "payments-7y", "affected"), 1, "{doc:#}");
    assert_eq!(field(&doc, "invoices-7y", "affected"), 1, "{doc:#}");
    assert_eq!(
        archive.ids("invoices").await,
        vec![3],
        "invoice 3 arrived meanwhile"
    );
}

on_every_pair!(the_archive_keeps_the_live_references);

/// A run whose archive cannot be reached archives nothing and deletes nothing of the archive
/// policies' rows; the other policies do their work, and the run fails with the reason.
async fn an_unreachable_archive_fails_only_the_archive_policies(b: Backend) {
    let db = TestDb::new(b).await;
    let id = db.id_type();
    let ts = db.ts_type();
    db.exec(&format!(
        "CREATE TABLE invoices (id {id} PRIMARY KEY, scheme VARCHAR(16) NOT NULL, issued_on DATE NOT NULL);
INSERT INTO invoices (id, scheme, issued_on) VALUES (1, 'domestic', '2016-06-01'), (2, 'oss', '2016-06-01');
CREATE TABLE messages (id {id} PRIMARY KEY, sent_at {ts} NOT NULL);
INSERT INTO messages (id, sent_at) VALUES (1, '2020-01-01 00:00:00'), (2, '2027-02-01 00:00:00');\n"
    ))
    .await;
    let config = db.with_archive_url(
        &db.write_config(&format!("{INVOICE_LIFE}{OLD_MAIL}"), ""),
        "postgres://postgres@127.0.0.1:9/archive",
    );

    let out = run_cli(&config, &["run", "--json"], &at(NOW));
    let doc: serde_json::Value =
        serde_json::from_str(&expect_exit(&out, 1)).expect("a JSON report");
    assert_eq!(doc["status"], "failed");
    assert_eq!(field(&doc, "old-mail", "affected"), 1);
    let why = policy(&doc, "invoices-to-archive")["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        why.contains("archive") && why.contains("127.0.0.1:9"),
        "{why}"
    );
    assert!(
        policy(&doc, "invoices-7y")["error"].as_str().is_some(),
        "{doc:#}"
    );
    assert_eq!(
        db.ids("invoices").await,
        vec![1, 2],
        "nothing archived, nothing deleted"
    );
    assert_eq!(db.ids("messages").await, vec![2]);

    let out = run_cli(&config, &["check"], &at(NOW));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("archive"), "{}", stderr(&out));
}

on_every_backend!(an_unreachable_archive_fails_only_the_archive_policies);

/// The archive's account may only work in the archive's own database (there it makes its
/// tables); it has no right on the live database, and the live account none on the archive.
async fn a_least_privilege_archive_account_is_enough(b: Backend) {
    const PASSWORD: &str = "archive-pw-42";
    let db = TestDb::new(b).await;
    db.exec(schema(b)).await;
    let archive = TestDb::new(b).await;
    let role = format!("{}_ar", archive.name());
    let url = {
        let (scheme, rest) = archive.url().split_once("://").expect("a URL");
        let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
        format!("{scheme}://{role}:{PASSWORD}@{host}")
    };
    match b {
        Backend::Postgres => {
            archive
                .exec(&format!(
                    "CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}';\nGRANT USAGE, CREATE ON SCHEMA public TO {role};\n"
                ))
                .await;
        }
        _ => {
            archive
                .exec(&format!(
                    "CREATE USER '{role}'@'%' IDENTIFIED BY '{PASSWORD}';\nGRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX ON {}.* TO '{role}'@'%';\n",
                    archive.name()
                ))
                .await;
        }
    }
    let config = db.with_archive_url(&db.write_config(INVOICES_7Y, ""), &url);
    expect_exit(&run_cli(&config, &["check"], &at(NOW)), 0);
    let doc = json_ok(&run_cli(&config, &["run", "--json"], &at(NOW)));
    assert_eq!(field(&doc, "invoices", "affected"), 2, "{doc:#}");
    assert_eq!(archive.ids("invoices").await, vec![1, 2]);
    assert_eq!(db.ids("invoices").await, vec![3, 4]);
    let out = run_cli(&config, &["audit", "verify", "--archive"], &[]);
    expect_exit(&out, 0);
    assert!(!stderr(&out).contains(PASSWORD) && !stdout(&out).contains(PASSWORD));
    match b {
        Backend::Postgres => {
            archive.exec(&format!("DROP OWNED BY {role}")).await;
            drop(archive);
            let mut c = sqlx::PgConnection::connect(&pg_admin_url())
                .await
                .expect("admin connection");
            sqlx::Executor::execute(
                &mut c,
                sqlx::AssertSqlSafe(format!("DROP ROLE IF EXISTS {role}")),
            )
            .await
            .expect("drop the role");
        }
        _ => archive.exec(&format!("DROP USER '{role}'@'%'")).await,
    }
}

on_server_backends!(a_least_privilege_archive_account_is_enough);

/// `archive find` and `archive export`: what the archive keeps of one customer, and one year
/// of invoices for a tax inspector, with every value as it was.
async fn archived_rows_can_be_found_and_exported(b: Backend) {
    let db = TestDb::new(b).await;
    let id = db.id_type();
    db.exec(&format!(
        "CREATE TABLE invoices (id {id} PRIMARY KEY, customer_id INTEGER NOT NULL, amount DECIMAL(10,2) NOT NULL, issued_on DATE NOT NULL);
INSERT INTO invoices (id, customer_id, amount, issued_on) VALUES (1, 7, 10.50, '2016-03-01'), (2, 7, 20.00, '2017-04-01'), (3, 8, 30.25, '2016-05-01'), (4, 7, 40.00, '2026-12-20');\n"
    ))
    .await;
    let archive = TestDb::new(b).await;
    let policies = r#"
[[policies]]
name = "invoices-to-archive"
table = "invoices"
since = "issued_on"
retain = "3 months"
action = "archive"
subject = "customer_id"
basis = "kept off the live site once settled"
"#;
    let config = db.with_archive(&db.write_config(policies, ""), &archive);
    expect_exit(&run_cli(&config, &["run"], &at(NOW)), 0);

    let found = json_ok(&run_cli(
        &config,
        &["archive", "find", "--subject", "7", "--json"],
        &[],
    ));
    assert_eq!(found["found"][0]["table"], "invoices", "{found:#}");
    assert_eq!(found["found"][0]["rows"], 2, "{found:#}");

    let mine = json_ok(&run_cli(
        &config,
        &[
            "archive",
            "export",
            "--table",
            "invoices",
            "--subject",
            "7",
            "--format",
            "json",
        ],
        &[],
    ));
    let rows = mine["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 2, "{mine:#}");
    assert_eq!(rows[0]["amount"], "10.5");
    assert_eq!(rows[1]["issued_on"], "2017-04-01");

    let out = run_cli(
        &config,
        &[
            "archive",
            "export",
            "--table",
            "invoices",
            "--from",
            "2016-01-01",
            "--to",
            "2016-12-31",
        ],
        &[],
    );
    let csv = expect_exit(&out, 0);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("id,customer_id,amount,issued_on,"),
        "{csv}"
    );
    assert_eq!(
        lines.len(),
        3,
        "the header and the two invoices of 2016:\n{csv}"
    );
    assert!(
        lines[1].starts_with("1,7,10.5,2016-03-01,")
            && lines[2].starts_with("3,8,30.25,2016-05-01,"),
        "{csv}"
    );

    let out = run_cli(&config, &["archive", "export", "--table", "customers"], &[]);
    assert!(
        stderr(&out).contains("--table customers"),
        "{}",
        stderr(&out)
    );
    expect_exit(&out, 2);
}

on_every_backend!(archived_rows_can_be_found_and_exported);

/// An erasure request with an archive: the invoices the law keeps leave the live site for the
/// archive at once and the answer says until when the archive keeps them; correspondence is
/// erased live and in the archive.
async fn an_erasure_moves_kept_records_to_the_archive_and_erases_the_rest(
    live: Backend,
    to: Backend,
) {
    let db = TestDb::new(live).await;
    let id = db.id_type();
    let ts = db.ts_type();
    db.exec(&format!(
        "CREATE TABLE invoices (id {id} PRIMARY KEY, customer_id INTEGER NOT NULL, issued_on DATE NOT NULL);
INSERT INTO invoices (id, customer_id, issued_on) VALUES (1, 7, '2021-03-01'), (2, 7, '2026-12-20'), (3, 8, '2026-12-21');
CREATE TABLE messages (id {id} PRIMARY KEY, customer_id INTEGER NOT NULL, sent_at {ts} NOT NULL);
INSERT INTO messages (id, customer_id, sent_at) VALUES (1, 7, '2026-10-01 10:00:00'), (2, 7, '2027-02-15 10:00:00'), (3, 8, '2027-02-16 10:00:00');\n"
    ))
    .await;
    let archive = TestDb::new(to).await;
    let policies = r#"
[[policies]]
name = "invoices-to-archive"
table = "invoices"
since = "issued_on"
retain = "3 months"
action = "archive"
subject = "customer_id"
kept_for = "legal_obligation"
category = "Invoices"
basis = "AWR 52(4)"

[[policies]]
name = "invoices-7y"
database = "archive"
table = "invoices"
since = "issued_on"
retain = "7 years"
round = "end_of_year"
action = "delete"
subject = "customer_id"
kept_for = "legal_obligation"
category = "Invoices"
basis = "AWR 52(4)"

[[policies]]
name = "mail-to-archive"
table = "messages"
since = "sent_at"
retain = "3 months"
action = "archive"
subject = "customer_id"
category = "Correspondence"
basis = "support"

[[policies]]
name = "mail-archive-1y"
database = "archive"
table = "messages"
since = "sent_at"
retain = "1 year"
action = "delete"
subject = "customer_id"
category = "Correspondence"
basis = "support"
"#;
    let config = db.with_archive(&db.write_config(policies, ""), &archive);
    expect_exit(&run_cli(&config, &["run"], &at(NOW)), 0);
    assert_eq!(archive.ids("invoices").await, vec![1]);
    assert_eq!(archive.ids("messages").await, vec![1]);

    let doc = json_ok(&run_cli(
        &config,
        &["erase", "--subject", "7", "--json"],
        &at(NOW),
    ));
    let r = &doc[0];
    // Invoice 2 left the live site at once; both of customer 7's invoices are kept in the
    // archive until 7 years after the end of 2026.
    assert_eq!(db.ids("invoices").await, vec![3]);
    assert_eq!(archive.ids("invoices").await, vec![1, 2]);
    let kept = r["kept"].as_array().expect("kept");
    assert_eq!(kept.len(), 1, "{r:#}");
    assert_eq!(kept[0]["in_archive"], true);
    assert_eq!(kept[0]["rows"], 2);
    assert_eq!(kept[0]["until"], "2034-01-01");
    // Correspondence is erased in both places.
    assert_eq!(db.ids("messages").await, vec![3]);
    assert!(archive.ids("messages").await.is_empty());
    let erased: Vec<(&str, bool)> = r["erased"]
        .as_array()
        .expect("erased")
        .iter()
        .map(|e| {
            (
                e["policy"].as_str().unwrap_or_default(),
                e["in_archive"] == true,
            )
        })
        .collect();
    assert_eq!(
        erased,
        vec![("mail-to-archive", false), ("mail-archive-1y", true)]
    );
    expect_exit(&run_cli(&config, &["audit", "verify", "--archive"], &[]), 0);

    // The answer to the customer says where the invoices are kept.
    let answer = expect_exit(&run_cli(&config, &["erase", "--subject", "7"], &at(NOW)), 0);
    assert!(
        answer.contains("Kept until 2034-01-01 in a separate archive with restricted access"),
        "{answer}"
    );
}

on_every_pair!(an_erasure_moves_kept_records_to_the_archive_and_erases_the_rest);

/// The controller's summary says what moved to the archive and what the archive's own
/// policies deleted there.
async fn the_summary_says_what_moved_and_what_left_the_archive(b: Backend) {
    let db = TestDb::new(b).await;
    let id = db.id_type();
    db.exec(&format!(
        "CREATE TABLE invoices (id {id} PRIMARY KEY, scheme VARCHAR(16) NOT NULL, issued_on DATE NOT NULL);
INSERT INTO invoices (id, scheme, issued_on) VALUES (1, 'domestic', '2016-06-01'), (2, 'oss', '2017-06-01'), (3, 'domestic', '2026-12-15');\n"
    ))
    .await;
    let archive = TestDb::new(Backend::Sqlite).await;
    let mail = db.dir.path().join("mail");
    let report = format!(
        "\n[report]\nto = [\"controller@shop.example\"]\nfrom = \"retentiond@shop.example\"\nsmtp_url = \"file://{}\"\n",
        mail.display()
    );
    let config = db.with_archive(
        &db.write_config(&format!("{INVOICE_LIFE}{report}"), ""),
        &archive,
    );
    expect_exit(&run_cli(&config, &["daemon", "--once"], &at(NOW)), 0);
    let summaries = summaries_in(&mail);
    assert_eq!(summaries.len(), 1);
    let summary = &summaries[0];
    assert!(
        summary.contains("invoices-to-archive: 2 records moved to the archive."),
        "{summary}"
    );
    assert!(
        summary.contains("invoices-7y: 1 record deleted from the archive."),
        "{summary}"
    );
}

on_every_backend!(the_summary_says_what_moved_and_what_left_the_archive);

/// Order lines keyed by (order, line), as Rails and Django keep join tables: a composite key
/// travels whole, on every pair of dialects.
async fn composite_keys_travel_whole(live: Backend, to: Backend) {
    let db = TestDb::new(live).await;
    db.exec(
        "CREATE TABLE order_lines (order_id INTEGER NOT NULL, line_no INTEGER NOT NULL, sku VARCHAR(32) NOT NULL, issued_on DATE NOT NULL, PRIMARY KEY (order_id, line_no));
INSERT INTO order_lines (order_id, line_no, sku, issued_on) VALUES (1, 1, 'A', '2016-01-01'), (1, 2, 'B', '2016-01-01'), (2, 1, 'A', '2016-02-01'), (3, 1, 'C', '2026-12-30');\n",
    )
    .await;
    let archive = TestDb::new(to).await;
    let policies = r#"
[[policies]]
name = "order-lines"
table = "order_lines"
since = "issued_on"
retain = "7 years"
round = "end_of_year"
action = "archive"
basis = "AWR 52(4)"
batch_size = 2
"#;
    let config = db.with_archive(&db.write_config(policies, ""), &archive);
    let doc = json_ok(&run_cli(&config, &["run", "--json"], &at(NOW)));
    assert_eq!(field(&doc, "order-lines", "affected"), 3, "{doc:#}");
    let pair = |a: &str, b: &str| vec![Some(a.to_string()), Some(b.to_string())];
    assert_eq!(line_keys(&db).await, vec![pair("3", "1")]);
    assert_eq!(
        line_keys(&archive).await,
        vec![pair("1", "1"), pair("1", "2"), pair("2", "1")]
    );
}

async fn line_keys(t: &TestDb) -> Vec<Vec<Option<String>>> {
    t.text_rows(&format!(
        "SELECT {}, {} FROM order_lines ORDER BY order_id, line_no",
        t.cast_text("order_id"),
        t.cast_text("line_no")
    ))
    .await
}

on_every_pair!(composite_keys_travel_whole);

/// A value the archive's column cannot hold (PostgreSQL's infinity in a MariaDB TIMESTAMP) stops
/// the policy with the reason; the row stays live and nothing is left in the archive as
/// archived.
#[tokio::test]
async fn a_value_the_archive_cannot_hold_stops_the_policy_and_deletes_nothing() {
    let db = TestDb::new(Backend::Postgres).await;
    db.exec(
        "CREATE TABLE invoices (id BIGINT PRIMARY KEY, issued_on DATE NOT NULL, paid_at TIMESTAMPTZ);
INSERT INTO invoices VALUES (1, '2016-01-01', 'infinity'), (2, '2016-01-02', '2016-01-03 10:00:00+00');\n",
    )
    .await;
    let archive = TestDb::new(Backend::MariaDb).await;
    let config = db.with_archive(&db.write_config(INVOICES_7Y, ""), &archive);
    let out = run_cli(&config, &["run", "--json"], &at(NOW));
    let doc: serde_json::Value = serde_json::from_str(&expect_exit(&out, 1)).expect("a report");
    let why = policy(&doc, "invoices")["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(why.contains("archive"), "{why}");
    assert_eq!(
        db.ids("invoices").await,
        vec![1, 2],
        "nothing was deleted live"
    );
    assert_eq!(
        archive
            .scalar_i64("SELECT COUNT(*) FROM invoices WHERE retentiond_state = 'archived'")
            .await,
        0
    );
}

/// A cascade never reaches a table an archive policy keeps: a former customer whose invoices
/// are still kept stays (blocked), though the customers policy allows cascades; and an archive
/// policy cannot allow cascades itself.
async fn a_cascade_never_deletes_what_the_archive_should_get(b: Backend) {
    let db = TestDb::new(b).await;
    let id = db.id_type();
    db.exec(&format!(
        "CREATE TABLE customers (id {id} PRIMARY KEY, left_on DATE NOT NULL);
CREATE TABLE invoices (id {id} PRIMARY KEY, customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE, issued_on DATE NOT NULL);
INSERT INTO customers (id, left_on) VALUES (1, '2020-01-01'), (2, '2020-01-01');
INSERT INTO invoices (id, customer_id, issued_on) VALUES (10, 1, '2024-01-01'), (11, 1, '2016-01-01');\n"
    ))
    .await;
    let archive = TestDb::new(Backend::Sqlite).await;
    let policies = r#"
[[policies]]
name = "customers"
table = "customers"
since = "left_on"
retain = "2 years"
action = "delete"
allow_cascade = true
basis = "gone"

[[policies]]
name = "invoices"
table = "invoices"
since = "issued_on"
retain = "7 years"
round = "end_of_year"
action = "archive"
basis = "AWR 52(4)"
"#;
    let config = db.with_archive(&db.write_config(policies, ""), &archive);
    let doc = json_ok(&run_cli(&config, &["run", "--json"], &at(NOW)));
    assert_eq!(field(&doc, "invoices", "affected"), 1, "{doc:#}");
    assert_eq!(
        db.ids("invoices").await,
        vec![10],
        "the young invoice stays live"
    );
    assert_eq!(archive.ids("invoices").await, vec![11]);
    assert_eq!(
        db.ids("customers").await,
        vec![1],
        "customer 1 is blocked by its invoice"
    );

    let cascading = db.write_config(
        &policies.replace(
            "basis = \"AWR 52(4)\"",
            "basis = \"AWR 52(4)\"\nallow_cascade = true",
        ),
        "",
    );
    let out = run_cli(&db.with_archive(&cascading, &archive), &["check"], &[]);
    assert!(
        stderr(&out).contains("policies[1].allow_cascade"),
        "{}",
        stderr(&out)
    );
    expect_exit(&out, 2);
}

on_every_backend!(a_cascade_never_deletes_what_the_archive_should_get);

/// A column the application adds to a live table later is added to its archive table by the
/// next run; the rows archived before have it NULL, the rows archived after carry its value.
async fn a_column_added_live_is_added_to_the_archive(b: Backend) {
    let db = TestDb::new(b).await;
    let id = db.id_type();
    db.exec(&format!(
        "CREATE TABLE invoices (id {id} PRIMARY KEY, scheme VARCHAR(16) NOT NULL, issued_on DATE NOT NULL);
INSERT INTO invoices (id, scheme, issued_on) VALUES (1, 'domestic', '2016-06-01'), (2, 'domestic', '2026-12-20');\n"
    ))
    .await;
    let archive = TestDb::new(Backend::Sqlite).await;
    let policies = r#"
[[policies]]
name = "invoices"
table = "invoices"
since = "issued_on"
retain = "3 months"
action = "archive"
basis = "kept off the live site"
"#;
    let config = db.with_archive(&db.write_config(policies, ""), &archive);
    expect_exit(&run_cli(&config, &["run"], &at(NOW)), 0);
    db.exec("ALTER TABLE invoices ADD COLUMN vat_number VARCHAR(20);\nUPDATE invoices SET vat_number = 'NL001' WHERE id = 2;\n")
        .await;
    let said = expect_exit(&run_cli(&config, &["check"], &at(NOW)), 0);
    assert!(said.contains("vat_number"), "{said}");
    expect_exit(&run_cli(&config, &["run"], &at("2027-06-01T00:00:00Z")), 0);
    let rows = archive
        .text_rows("SELECT CAST(id AS TEXT), vat_number FROM invoices ORDER BY id")
        .await;
    assert_eq!(
        rows,
        vec![
            vec![Some("1".into()), None],
            vec![Some("2".into()), Some("NL001".into())]
        ]
    );
}

on_every_backend!(a_column_added_live_is_added_to_the_archive);
