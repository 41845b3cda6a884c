//! Plan = run where foreign keys block rows: a shop laid out as Rails and Django lay it out
//! (customers, their orders, order items and payments referencing the orders, addresses that
//! no policy purges). The run deletes children first, so rows the plan finds blocked are freed
//! during the run; `plan` predicts that, and its counts are what the run then does, on every
//! backend.

use crate::common::{Backend, NOW, TestDb, at, expect_exit, field, json_ok, policy, run_cli};

async fn shop(db: &TestDb) {
    let (id, ts, text) = (db.id_type(), db.ts_type(), db.text_type());
    let mut sql = format!(
        "CREATE TABLE customers (id {id} PRIMARY KEY, email {text}, created_at {ts} NOT NULL);
CREATE TABLE addresses (id {id} PRIMARY KEY, customer_id {id} NOT NULL,
  FOREIGN KEY (customer_id) REFERENCES customers (id));
CREATE TABLE orders (id {id} PRIMARY KEY, customer_id {id} NOT NULL, placed_at {ts} NOT NULL,
  FOREIGN KEY (customer_id) REFERENCES customers (id));
CREATE TABLE order_items (id {id} PRIMARY KEY, order_id {id} NOT NULL, created_at {ts} NOT NULL,
  FOREIGN KEY (order_id) REFERENCES orders (id));
CREATE TABLE payments (id {id} PRIMARY KEY, order_id {id} NOT NULL, paid_at {ts} NOT NULL,
  FOREIGN KEY (order_id) REFERENCES orders (id))"
    );
    // Customers 1-7 signed up in 2010. Each has an order of 2012 (c1); the even ones also
    // one of December 2026 (c2), which is not expired. Every order has two items and a
    // payment of its own date, except: order 11 has a third item of 2027 (it keeps order
    // 11, which keeps customer 1), order 41's payment is of 2026 (it keeps order 41), and
    // customer 7 has an address, which no policy purges.
    let mut item = 0;
    for c in 1..=7 {
        sql.push_str(&format!(
            ";\nINSERT INTO customers VALUES ({c}, 'c{c}@example.nl', '2010-01-01 00:00:00')"
        ));
        let mut orders = vec![(c * 10 + 1, "2012-05-01 10:00:00")];
        if c % 2 == 0 {
            orders.push((c * 10 + 2, "2026-12-01 10:00:00"));
        }
        for (o, at) in orders {
            sql.push_str(&format!(";\nINSERT INTO orders VALUES ({o}, {c}, '{at}')"));
            for _ in 0..2 {
                item += 1;
                sql.push_str(&format!(
                    ";\nINSERT INTO order_items VALUES ({item}, {o}, '{at}')"
                ));
            }
            let paid = if o == 41 { "2026-06-01 10:00:00" } else { at };
            sql.push_str(&format!(
                ";\nINSERT INTO payments VALUES ({o}, {o}, '{paid}')"
            ));
        }
    }
    sql.push_str(&format!(
        ";\nINSERT INTO order_items VALUES ({}, 11, '2027-01-15 10:00:00');
INSERT INTO addresses VALUES (1, 7)",
        item + 1
    ));
    db.exec(&sql).await;
}

const POLICIES: &str = r#"
[[policies]]
name = "customers"
table = "customers"
since = { table = "orders", column = "placed_at", match = { id = "customer_id" }, otherwise = "created_at" }
retain = "3 years"
action = "delete"
basis = "GDPR art. 5(1)(e)"

[[policies]]
name = "orders"
table = "orders"
since = "placed_at"
retain = "2 years"
action = "delete"
basis = "test"

[[policies]]
name = "payments"
table = "payments"
since = "paid_at"
retain = "2 years"
action = "delete"
basis = "test"

[[policies]]
name = "order-items"
table = "order_items"
since = "created_at"
retain = "2 years"
action = "delete"
basis = "test"

[[policies]]
name = "contact"
table = "customers"
since = { table = "orders", column = "placed_at", match = { id = "customer_id" } }
retain = "1 year"
action = "anonymize"
columns = { email = "null" }
basis = "GDPR art. 5(1)(c)"
"#;

const NAMES: [&str; 5] = ["order-items", "payments", "orders", "customers", "contact"];

async fn plan_predicts_what_the_run_frees_by_deleting_children_first(b: Backend) {
    let db = TestDb::new(b).await;
    shop(&db).await;
    let cfg = db.write_config(POLICIES, "batch_size = 2");

    let plan = json_ok(&run_cli(&cfg, &["plan", "--json"], &at(NOW)));
    let counts = |doc: &serde_json::Value, key: &str| -> Vec<u64> {
        NAMES.iter().map(|n| field(doc, n, key)).collect()
    };
    // Items: 14 of 2012 (not the 2027 one, not those of December 2026). Payments: 6 (not
    // order 41's). Orders: of the seven of 2012, all referenced now; the run frees five (11
    // and 41 stay). Customers 3 and 5 lose their last order and go; 1 keeps order 11, 7 its
    // address. Contact: of customers 1, 3, 5 and 7, customers 3 and 5 are deleted first and 7
    // loses its clock with its order: only customer 1 is anonymized.
    assert_eq!(counts(&plan, "eligible"), vec![14, 6, 5, 2, 1], "{plan:#}");
    assert_eq!(counts(&plan, "blocked"), vec![0, 0, 2, 2, 0], "{plan:#}");
    assert_eq!(field(&plan, "orders", "freed_by_earlier_policies"), 5);
    assert_eq!(field(&plan, "contact", "deleted_by_earlier_policies"), 2);
    assert_eq!(field(&plan, "contact", "undated_by_earlier_policies"), 1);
    let keeps = |name: &str| -> Vec<(String, u64)> {
        policy(&plan, name)["blocked_by"]
            .as_array()
            .map(|bs| {
                bs.iter()
                    .map(|b| {
                        (
                            b["table"].as_str().unwrap_or_default().to_string(),
                            b["rows"].as_u64().unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut orders_kept_by = keeps("orders");
    orders_kept_by.sort();
    assert_eq!(
        orders_kept_by,
        vec![("order_items".to_string(), 1), ("payments".to_string(), 1)],
        "{plan:#}"
    );
    let mut customers_kept_by = keeps("customers");
    customers_kept_by.sort();
    assert_eq!(
        customers_kept_by,
        vec![("addresses".to_string(), 1), ("orders".to_string(), 1)],
        "{plan:#}"
    );
    let human = expect_exit(&run_cli(&cfg, &["plan"], &at(NOW)), 0);
    assert!(
        human.contains(
            "orders: 5 of the 5 eligible rows are referenced now by rows that earlier policies"
        ),
        "{human}"
    );
    assert!(human.contains("1 by addresses.customer_id"), "{human}");

    let dry = json_ok(&run_cli(&cfg, &["run", "--dry-run", "--json"], &at(NOW)));
    assert_eq!(
        counts(&dry, "affected"),
        counts(&plan, "eligible"),
        "{dry:#}"
    );

    let run = json_ok(&run_cli(&cfg, &["run", "--json"], &at(NOW)));
    assert_eq!(
        counts(&run, "affected"),
        counts(&plan, "eligible"),
        "{run:#}"
    );
    assert_eq!(counts(&run, "blocked"), counts(&plan, "blocked"), "{run:#}");
    assert_eq!(db.ids("orders").await, vec![11, 22, 41, 42, 62]);
    assert_eq!(db.ids("customers").await, vec![1, 2, 4, 6, 7]);
    assert_eq!(
        db.scalar_i64("SELECT COUNT(*) FROM customers WHERE email IS NULL")
            .await,
        1
    );
}

crate::on_every_backend!(plan_predicts_what_the_run_frees_by_deleting_children_first);
