//! Deletes along foreign keys: children before parents whatever the config order; a parent
//! still referenced by a kept row is blocked (counted, not an error); a cascade needs
//! `allow_cascade`. On PostgreSQL, MariaDB and SQLite.

mod common;

use common::{Backend, NOW, TestDb, at, expect_exit, field, json_ok, run_cli};

async fn billing(db: &TestDb, on_delete: &str) {
    let (id, ts) = (db.id_type(), db.ts_type());
    db.exec(&format!(
        "CREATE TABLE customers (id {id} PRIMARY KEY, created_at {ts} NOT NULL);
CREATE TABLE invoices (id {id} PRIMARY KEY, customer_id {id} NOT NULL, issued_on DATE NOT NULL,
  FOREIGN KEY (customer_id) REFERENCES customers (id));
CREATE TABLE payments (id {id} PRIMARY KEY, invoice_id {id} NOT NULL, paid_at {ts} NOT NULL,
  FOREIGN KEY (invoice_id) REFERENCES invoices (id) {on_delete})"
    ))
    .await;
}

fn delete(name: &str, since: &str, retain: &str) -> String {
    format!(
        r#"
[[policies]]
name = "{name}"
table = "{name}"
since = "{since}"
retain = "{retain}"
action = "delete"
basis = "test"
"#
    )
}

/// An expired invoice with two expired payments goes in one run, payments first, whether
/// the config lists invoices or payments first. (Invoice 5, expired and never paid, is the
/// highest eligible key when counted; invoice 10, blocked then, is past it and still goes.)
async fn children_first_whatever_the_config_order(b: Backend) {
    for invoices_first in [true, false] {
        let db = TestDb::new(b).await;
        billing(&db, "").await;
        db.exec(
            "INSERT INTO customers VALUES (1, '2015-01-01 00:00:00');
INSERT INTO invoices VALUES (5, 1, '2016-01-01');
INSERT INTO invoices VALUES (10, 1, '2016-03-01');
INSERT INTO invoices VALUES (11, 1, '2026-12-01');
INSERT INTO payments VALUES (100, 10, '2016-03-05 10:00:00');
INSERT INTO payments VALUES (101, 10, '2016-04-05 10:00:00');
INSERT INTO payments VALUES (110, 11, '2026-12-05 10:00:00')",
        )
        .await;
        let (inv, pay) = (
            delete("invoices", "issued_on", "7 years"),
            delete("payments", "paid_at", "7 years"),
        );
        let policies = if invoices_first {
            inv + &pay
        } else {
            pay + &inv
        };
        let cfg = db.write_config(&policies, "");
        let run = json_ok(&run_cli(&cfg, &["run", "--json"], &at(NOW)));
        let order = if invoices_first {
            "invoices first"
        } else {
            "payments first"
        };
        assert_eq!(field(&run, "payments", "affected"), 2, "{order}: {run:#}");
        assert_eq!(field(&run, "invoices", "affected"), 2, "{order}: {run:#}");
        assert_eq!(field(&run, "invoices", "blocked"), 0, "{order}: {run:#}");
        assert_eq!(db.ids("invoices").await, vec![11], "{order}");
        assert_eq!(db.ids("payments").await, vec![110], "{order}");
        // The audit trail shows the order: the payments' batch before the invoice's.
        let trail: Vec<String> = db
            .text_rows("SELECT policy FROM retentiond_audit ORDER BY id")
            .await
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
            .collect();
        assert_eq!(trail, vec!["payments", "invoices"], "{order}");
    }
}

/// A customer whose retention is over but who still has a kept invoice is blocked: counted
/// in plan and run, exit 0, and the customer stays. One without invoices goes.
async fn a_referenced_parent_is_blocked_not_an_error(b: Backend) {
    let db = TestDb::new(b).await;
    billing(&db, "").await;
    db.exec(
        "INSERT INTO customers VALUES (1, '2015-01-01 00:00:00');
INSERT INTO customers VALUES (2, '2015-01-01 00:00:00');
INSERT INTO customers VALUES (3, '2027-01-01 00:00:00');
INSERT INTO invoices VALUES (10, 1, '2026-03-01')",
    )
    .await;
    let cfg = db.write_config(
        &(delete("invoices", "issued_on", "7 years")
            + &delete("customers", "created_at", "1 year")),
        "",
    );
    let plan = json_ok(&run_cli(&cfg, &["plan", "--json"], &at(NOW)));
    assert_eq!(
        (
            field(&plan, "customers", "eligible"),
            field(&plan, "customers", "blocked"),
        ),
        (1, 1),
        "{plan:#}"
    );
    let run = json_ok(&run_cli(&cfg, &["run", "--json"], &at(NOW)));
    assert_eq!(run["status"], "ok", "{run:#}");
    assert_eq!(
        (
            field(&run, "customers", "affected"),
            field(&run, "customers", "blocked"),
            field(&run, "customers", "backlog"),
        ),
        (1, 1, 0),
        "{run:#}"
    );
    assert_eq!(db.ids("customers").await, vec![1, 3]);
    assert_eq!(db.ids("invoices").await, vec![10]);
}

/// With ON DELETE CASCADE and no policy on the child table, deleting the parent would delete
/// rows no policy found expired: blocked, unless the policy says `allow_cascade = true`.
async fn a_cascade_needs_allow_cascade(b: Backend) {
    let db = TestDb::new(b).await;
    billing(&db, "ON DELETE CASCADE").await;
    db.exec(
        "INSERT INTO customers VALUES (1, '2015-01-01 00:00:00');
INSERT INTO invoices VALUES (10, 1, '2016-03-01');
INSERT INTO payments VALUES (100, 10, '2026-12-05 10:00:00')",
    )
    .await;
    let policy = delete("invoices", "issued_on", "7 years");
    let cfg = db.write_config(&policy, "");
    let run = json_ok(&run_cli(&cfg, &["run", "--json"], &at(NOW)));
    assert_eq!(
        (
            field(&run, "invoices", "affected"),
            field(&run, "invoices", "blocked"),
        ),
        (0, 1),
        "{run:#}"
    );
    assert_eq!(db.ids("payments").await, vec![100]);

    let cfg = db.write_config(
        &policy.replace(
            "action = \"delete\"",
            "action = \"delete\"\nallow_cascade = true",
        ),
        "",
    );
    let run = json_ok(&run_cli(&cfg, &["run", "--json"], &at(NOW)));
    assert_eq!(field(&run, "invoices", "affected"), 1, "{run:#}");
    assert_eq!(db.count("invoices").await, 0);
    assert_eq!(
        db.count("payments").await,
        0,
        "the cascade took the payment"
    );
    expect_exit(&run_cli(&cfg, &["audit", "verify"], &[]), 0);
}

on_every_backend!(
    children_first_whatever_the_config_order,
    a_referenced_parent_is_blocked_not_an_error,
    a_cascade_needs_allow_cascade,
);
