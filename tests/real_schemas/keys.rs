//! Keys and values of the types applications really use: uuid keys (Supabase, Rails, Django,
//! Laravel, Prisma), packed binary keys, a partitioned table's `PRIMARY KEY (id, created_at)`,
//! natural keys that are personal data (which must stay out of the audit trail), and IP
//! addresses stored as `inet`, `INET6`, packed `VARBINARY(16)` or `INT UNSIGNED`.

use crate::common::{Backend, NOW, TestDb, at, expect_exit, field, json_ok, run_cli};

/// The first column of every row, sorted (NULL as "NULL").
async fn column(db: &TestDb, sql: &str) -> Vec<String> {
    let mut v: Vec<String> = db
        .text_rows(sql)
        .await
        .into_iter()
        .map(|r| r[0].clone().unwrap_or_else(|| "NULL".into()))
        .collect();
    v.sort();
    v
}

fn run(cfg: &std::path::Path) -> serde_json::Value {
    json_ok(&run_cli(cfg, &["run", "--json"], &at(NOW)))
}

fn hold_record(cfg: &std::path::Path, table: &str, key: &[&str]) {
    let mut args = vec![
        "hold", "add", "--reason", "dispute", "--by", "ann", "--table", table,
    ];
    for k in key {
        args.extend(["--key", k]);
    }
    expect_exit(&run_cli(cfg, &args, &[]), 0);
}

/// Supabase: `auth.users` in its own schema, uuid keys from `gen_random_uuid()`, timestamptz
/// columns defaulting to `now()`. Chat messages are kept a year after the user's subscription
/// ended (a related clock matched on the uuid foreign key); they belong to their user (a uuid
/// subject link). 25 messages of a lapsed user cross three batches of 10; one of them is held;
/// a lapsed user on hold keeps theirs; an active user's messages stay, and another active
/// user's go by an erasure request. Holds and the request write the uuids in capitals.
async fn supabase_uuid_keys() {
    let db = TestDb::new(Backend::Postgres).await;
    db.exec(
        "CREATE SCHEMA auth;
CREATE TABLE auth.users (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), email text, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE public.subscriptions (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE, started_at timestamptz NOT NULL DEFAULT now(), ended_at timestamptz);
CREATE INDEX subscriptions_user_id_idx ON public.subscriptions (user_id);
CREATE TABLE public.chat_messages (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE, body text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX chat_messages_user_id_idx ON public.chat_messages (user_id);
INSERT INTO auth.users (email) VALUES ('lapsed@example.com'), ('active@example.com'), ('leaving@example.com'), ('disputed@example.com');
INSERT INTO public.subscriptions (user_id, started_at, ended_at) SELECT id, '2019-01-01', '2020-01-01' FROM auth.users WHERE email IN ('lapsed@example.com', 'disputed@example.com');
INSERT INTO public.subscriptions (user_id, started_at, ended_at) SELECT id, '2019-01-01', NULL FROM auth.users WHERE email IN ('active@example.com', 'leaving@example.com');
INSERT INTO public.chat_messages (user_id, body, created_at) SELECT u.id, 'message ' || n, '2019-06-01'::timestamptz + n * interval '1 hour' FROM auth.users u, generate_series(1, 25) n WHERE u.email = 'lapsed@example.com';
INSERT INTO public.chat_messages (user_id, body, created_at) SELECT u.id, 'message ' || n, '2019-06-01'::timestamptz + n * interval '1 hour' FROM auth.users u, generate_series(1, 3) n WHERE u.email <> 'lapsed@example.com'",
    )
    .await;
    let user = |email: &str| {
        let db = &db;
        let sql = format!("SELECT CAST(id AS TEXT) FROM auth.users WHERE email = '{email}'");
        async move { db.scalar_opt_string(&sql).await.expect("user") }
    };
    let (lapsed, active, leaving, disputed) = (
        user("lapsed@example.com").await,
        user("active@example.com").await,
        user("leaving@example.com").await,
        user("disputed@example.com").await,
    );
    let messages_of = |u: &str| {
        format!("SELECT CAST(id AS TEXT) FROM chat_messages WHERE user_id = '{u}' ORDER BY id")
    };
    let lapsed_messages = column(&db, &messages_of(&lapsed)).await;
    let mut active_messages = column(&db, &messages_of(&active)).await;
    // Kept as if active: a subject hold (below) keeps every message of this user.
    active_messages.extend(column(&db, &messages_of(&disputed)).await);
    assert_eq!(lapsed_messages.len(), 25);
    let held = lapsed_messages[12].clone();

    let cfg = db.write_config(
        r#"
[[policies]]
name = "chat"
table = "chat_messages"
since = { table = "subscriptions", column = "ended_at", match = { user_id = "user_id" } }
retain = "1 year"
action = "delete"
basis = "contract"
subject = "user_id"
batch_size = 10
"#,
        "",
    );
    expect_exit(&run_cli(&cfg, &["check"], &[]), 0);
    hold_record(&cfg, "chat_messages", &[&held.to_uppercase()]);
    let subject_hold = [
        "hold",
        "add",
        "--reason",
        "dispute",
        "--by",
        "ann",
        "--subject",
        &disputed.to_uppercase(),
    ];
    expect_exit(&run_cli(&cfg, &subject_hold, &[]), 0);

    let out = run_cli(&cfg, &["run", "--json", "-v"], &at(NOW));
    let report = json_ok(&out);
    // The lapsed and the disputed user, found once through the uuid key across schemas.
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("parents=2"),
        "the run walks by the set of expired users:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(field(&report, "chat", "affected"), 24);
    assert_eq!(field(&report, "chat", "held"), 4);
    assert_eq!(field(&report, "chat", "batches"), 3);
    assert_eq!(field(&report, "chat", "backlog"), 0);
    let mut kept = active_messages.clone();
    kept.push(held.clone());
    kept.extend(column(&db, &messages_of(&leaving)).await);
    kept.sort();
    assert_eq!(
        column(&db, "SELECT CAST(id AS TEXT) FROM chat_messages").await,
        kept,
        "the lapsed user's messages went but the held one; the active users' stayed"
    );

    let erased = json_ok(&run_cli(
        &cfg,
        &["erase", "--subject", &leaving.to_uppercase(), "--json"],
        &at(NOW),
    ));
    assert!(erased.to_string().contains("chat"), "{erased:#}");
    let mut kept = active_messages.clone();
    kept.push(held);
    kept.sort();
    assert_eq!(
        column(&db, "SELECT CAST(id AS TEXT) FROM chat_messages").await,
        kept,
        "the erasure removed exactly the leaving user's messages"
    );
    expect_exit(&run_cli(&cfg, &["audit", "verify"], &[]), 0);
}

/// Laravel on MariaDB 10.7+: `notifications` keyed by the native `UUID` type, read ones
/// deleted 30 days after they were created. 23 old ones cross batches of 5; one is held.
async fn laravel_mariadb_uuid_keys() {
    let db = TestDb::new(Backend::MariaDb).await;
    let mut sql = String::from(
        "CREATE TABLE notifications (id UUID NOT NULL, type VARCHAR(255) NOT NULL, notifiable_type VARCHAR(255) NOT NULL, notifiable_id BIGINT UNSIGNED NOT NULL, data TEXT NOT NULL, read_at TIMESTAMP NULL DEFAULT NULL, created_at TIMESTAMP NULL DEFAULT NULL, updated_at TIMESTAMP NULL DEFAULT NULL, PRIMARY KEY (id), KEY notifications_notifiable_type_notifiable_id_index (notifiable_type, notifiable_id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    );
    for n in 1..=23 {
        sql.push_str(&format!(
            ";\nINSERT INTO notifications VALUES (UUID(), 'App\\\\Notifications\\\\InvoicePaid', 'App\\\\Models\\\\User', {n}, '{{}}', '2020-01-02 00:00:00', '2020-01-01 00:00:00', '2020-01-01 00:00:00')"
        ));
    }
    for n in 1..=3 {
        sql.push_str(&format!(
            ";\nINSERT INTO notifications VALUES (UUID(), 'App\\\\Notifications\\\\InvoicePaid', 'App\\\\Models\\\\User', {n}, '{{}}', NULL, '2027-02-20 00:00:00', '2027-02-20 00:00:00')"
        ));
    }
    db.exec(&sql).await;
    let ids = |cond: &str| format!("SELECT CAST(id AS CHAR) FROM notifications WHERE {cond}");
    let old = column(&db, &ids("created_at < '2021-01-01'")).await;
    let recent = column(&db, &ids("created_at > '2021-01-01'")).await;
    assert_eq!(old.len(), 23);
    let held = old[7].clone();

    let cfg = db.write_config(
        r#"
[[policies]]
name = "notifications"
table = "notifications"
since = "created_at"
retain = "30 days"
action = "delete"
basis = "legitimate interest"
batch_size = 5
"#,
        "",
    );
    hold_record(&cfg, "notifications", &[&held]);
    let report = run(&cfg);
    assert_eq!(field(&report, "notifications", "affected"), 22);
    assert_eq!(field(&report, "notifications", "held"), 1);
    assert_eq!(field(&report, "notifications", "batches"), 5);
    let mut kept = recent;
    kept.push(held);
    kept.sort();
    assert_eq!(column(&db, &ids("1 = 1")).await, kept);
}

/// Django 5 on MariaDB: `UUIDField(primary_key=True)` is the native `UUID` type, a foreign key
/// to it a `UUID` column `customer_id`; orders are kept 2 years. A subject hold on one
/// customer keeps their old orders; an erasure request for the other takes their recent order
/// too. Both name the customer in capitals, as a uuid may be written.
async fn django_mariadb_uuid_subjects() {
    let db = TestDb::new(Backend::MariaDb).await;
    let (a, b) = (
        "0b5d1f2e-8c3a-4d6b-9e7f-1a2b3c4d5e6f",
        "f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9",
    );
    let mut sql = format!(
        "CREATE TABLE accounts_customer (id UUID NOT NULL, name VARCHAR(150) NOT NULL, date_joined DATETIME(6) NOT NULL, PRIMARY KEY (id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE shop_order (id BIGINT NOT NULL AUTO_INCREMENT, customer_id UUID NOT NULL, total DECIMAL(10,2) NOT NULL, created_at DATETIME(6) NOT NULL, PRIMARY KEY (id), KEY shop_order_customer_id_fk (customer_id), CONSTRAINT shop_order_customer_id_fk_accounts_customer_id FOREIGN KEY (customer_id) REFERENCES accounts_customer (id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO accounts_customer VALUES ('{a}', 'A', '2018-01-01 00:00:00'), ('{b}', 'B', '2018-01-01 00:00:00');\n"
    );
    // Orders 1-4 of A and 5-8 of B from 2020; 9 of A and 10 of B from 2027.
    for (id, who, at) in [
        (1, a, "2020"),
        (2, a, "2020"),
        (3, a, "2020"),
        (4, a, "2020"),
        (5, b, "2020"),
        (6, b, "2020"),
        (7, b, "2020"),
        (8, b, "2020"),
        (9, a, "2027"),
        (10, b, "2027"),
    ] {
        sql.push_str(&format!(
            "INSERT INTO shop_order VALUES ({id}, '{who}', 10.00, '{at}-01-15 10:00:00.000000');\n"
        ));
    }
    db.exec(&sql).await;
    let cfg = db.write_config(
        r#"
[[policies]]
name = "orders"
table = "shop_order"
since = "created_at"
retain = "2 years"
action = "delete"
basis = "contract"
subject = "customer_id"
batch_size = 2
"#,
        "",
    );
    expect_exit(
        &run_cli(
            &cfg,
            &[
                "hold",
                "add",
                "--reason",
                "dispute",
                "--by",
                "ann",
                "--subject",
                &b.to_uppercase(),
            ],
            &[],
        ),
        0,
    );
    let report = run(&cfg);
    assert_eq!(field(&report, "orders", "affected"), 4);
    assert_eq!(field(&report, "orders", "held"), 4);
    assert_eq!(db.ids("shop_order").await, [5, 6, 7, 8, 9, 10]);
    json_ok(&run_cli(
        &cfg,
        &["erase", "--subject", &a.to_uppercase(), "--json"],
        &at(NOW),
    ));
    assert_eq!(db.ids("shop_order").await, [5, 6, 7, 8, 10]);
}

/// Doctrine/ramsey-style packed uuids in `BINARY(16)`: an InnoDB event log keyed by
/// `UNHEX(REPLACE(UUID(), '-', ''))`, its customer a `BINARY(16)` too (the subject link). 12
/// old events of two customers cross batches of 4; one is held by its hex key; the other
/// customer's recent events go by an erasure request given the customer's hex key.
async fn binary16_keys() {
    let db = TestDb::new(Backend::MariaDb).await;
    let mut sql = String::from(
        "CREATE TABLE order_events (id BINARY(16) NOT NULL, customer_id BINARY(16) NOT NULL, kind VARCHAR(64) NOT NULL, occurred_at DATETIME(6) NOT NULL, PRIMARY KEY (id), KEY idx_customer (customer_id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    );
    db.exec(&sql).await;
    sql = String::new();
    for n in 1..=12 {
        let who = if n % 2 == 0 { "a" } else { "b" };
        sql.push_str(&format!(
            "INSERT INTO order_events VALUES (UNHEX(REPLACE(UUID(), '-', '')), UNHEX('{}'), 'shipped', '2019-05-01 10:00:00.{n:06}');\n",
            if who == "a" { "11111111111141118111111111111111" } else { "22222222222242228222222222222222" }
        ));
    }
    for n in 1..=2 {
        sql.push_str(&format!(
            "INSERT INTO order_events VALUES (UNHEX(REPLACE(UUID(), '-', '')), UNHEX('{}'), 'paid', '2027-02-01 10:00:00');\n",
            if n == 1 { "11111111111141118111111111111111" } else { "22222222222242228222222222222222" }
        ));
    }
    db.exec(&sql).await;
    let ids = |cond: &str| format!("SELECT LOWER(HEX(id)) FROM order_events WHERE {cond}");
    let old = column(&db, &ids("occurred_at < '2020-01-01'")).await;
    assert_eq!(old.len(), 12);
    let recent_a = column(
        &db,
        &ids("occurred_at > '2020-01-01' AND customer_id = UNHEX('11111111111141118111111111111111')"),
    )
    .await;
    let held = old[5].clone();

    let cfg = db.write_config(
        r#"
[[policies]]
name = "events"
table = "order_events"
since = "occurred_at"
retain = "2 years"
action = "delete"
basis = "contract"
subject = "customer_id"
batch_size = 4
"#,
        "",
    );
    hold_record(&cfg, "order_events", &[&held.to_uppercase()]);
    let report = run(&cfg);
    assert_eq!(field(&report, "events", "affected"), 11);
    assert_eq!(field(&report, "events", "held"), 1);
    assert_eq!(field(&report, "events", "batches"), 3);
    let mut kept = recent_a.clone();
    kept.push(held.clone());
    kept.extend(
        column(
            &db,
            &ids("occurred_at > '2020-01-01' AND customer_id = UNHEX('22222222222242228222222222222222')"),
        )
        .await,
    );
    kept.sort();
    assert_eq!(column(&db, &ids("1 = 1")).await, kept);

    json_ok(&run_cli(
        &cfg,
        &[
            "erase",
            "--subject",
            "22222222222242228222222222222222",
            "--json",
        ],
        &at(NOW),
    ));
    let mut kept = recent_a;
    kept.push(held);
    kept.sort();
    assert_eq!(
        column(&db, &ids("1 = 1")).await,
        kept,
        "the erasure removed customer b's recent event"
    );
}

/// Prisma on SQLite: `String @id @default(uuid())` is a TEXT primary key holding uuids, a
/// relation is a TEXT foreign key; sessions go 30 days after they expired.
async fn prisma_sqlite_text_uuids() {
    let db = TestDb::new(Backend::Sqlite).await;
    let mut sql = String::from(
        "CREATE TABLE \"User\" (\"id\" TEXT NOT NULL PRIMARY KEY, \"email\" TEXT NOT NULL, \"createdAt\" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE UNIQUE INDEX \"User_email_key\" ON \"User\"(\"email\");
CREATE TABLE \"Session\" (\"id\" TEXT NOT NULL PRIMARY KEY, \"userId\" TEXT NOT NULL, \"expires\" DATETIME NOT NULL, CONSTRAINT \"Session_userId_fkey\" FOREIGN KEY (\"userId\") REFERENCES \"User\" (\"id\") ON DELETE CASCADE ON UPDATE CASCADE);
INSERT INTO \"User\" VALUES ('6f1c2a52-5d0e-4c49-9a43-0d5c52b1e001', 'ann@example.com', '2019-01-01 00:00:00')",
    );
    for n in 0..15 {
        sql.push_str(&format!(
            ";\nINSERT INTO \"Session\" VALUES ('{n:x}{n:x}a0c1e2-7d3b-4f5a-8b6c-9d0e1f2a3b4c', '6f1c2a52-5d0e-4c49-9a43-0d5c52b1e001', '{}')",
            if n < 12 { "2020-01-01 00:00:00" } else { "2027-03-15 00:00:00" }
        ));
    }
    db.exec(&sql).await;
    let cfg = db.write_config(
        r#"
[[policies]]
name = "sessions"
table = "Session"
since = "expires"
retain = "30 days"
action = "delete"
basis = "security"
subject = "userId"
batch_size = 5
"#,
        "",
    );
    let report = run(&cfg);
    assert_eq!(field(&report, "sessions", "affected"), 12);
    assert_eq!(field(&report, "sessions", "batches"), 3);
    assert_eq!(
        column(&db, "SELECT \"id\" FROM \"Session\"").await,
        [
            "cca0c1e2-7d3b-4f5a-8b6c-9d0e1f2a3b4c",
            "dda0c1e2-7d3b-4f5a-8b6c-9d0e1f2a3b4c",
            "eea0c1e2-7d3b-4f5a-8b6c-9d0e1f2a3b4c"
        ]
    );
    // A uuid is no personal data even in a text column: the audit trail names the range.
    assert_eq!(
        db.text_rows("SELECT key_first, key_last FROM retentiond_audit ORDER BY id")
            .await,
        [
            [
                Some("00a0c1e2-7d3b-4f5a-8b6c-9d0e1f2a3b4c".to_string()),
                Some("44a0c1e2-7d3b-4f5a-8b6c-9d0e1f2a3b4c".to_string())
            ],
            [
                Some("55a0c1e2-7d3b-4f5a-8b6c-9d0e1f2a3b4c".to_string()),
                Some("99a0c1e2-7d3b-4f5a-8b6c-9d0e1f2a3b4c".to_string())
            ],
            [
                Some("aaa0c1e2-7d3b-4f5a-8b6c-9d0e1f2a3b4c".to_string()),
                Some("bba0c1e2-7d3b-4f5a-8b6c-9d0e1f2a3b4c".to_string())
            ]
        ]
    );
}

/// pg_partman (and its MariaDB and SQLite counterparts): a table partitioned by its clock
/// must have the clock in its primary key, `PRIMARY KEY (id, created_at)`. Ids repeat across
/// partitions here (an import), so batches of 2 end inside one id, and timestamps differ
/// only in microseconds: the key must come back exactly as the database holds it.
async fn partitioned_timestamp_key_part(b: Backend) {
    let db = TestDb::new(b).await;
    let ddl = match b {
        Backend::Postgres => {
            "CREATE TABLE events (id bigint GENERATED BY DEFAULT AS IDENTITY, created_at timestamptz NOT NULL DEFAULT now(), payload jsonb, PRIMARY KEY (id, created_at)) PARTITION BY RANGE (created_at);
CREATE TABLE events_p2020 PARTITION OF events FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
CREATE TABLE events_p2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
CREATE TABLE events_default PARTITION OF events DEFAULT"
        }
        Backend::MariaDb => {
            "CREATE TABLE events (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT, created_at DATETIME(6) NOT NULL, payload LONGTEXT, PRIMARY KEY (id, created_at)) ENGINE=InnoDB PARTITION BY RANGE COLUMNS (created_at) (PARTITION p2020 VALUES LESS THAN ('2021-01-01'), PARTITION p2027 VALUES LESS THAN ('2028-01-01'), PARTITION pmax VALUES LESS THAN (MAXVALUE))"
        }
        Backend::Sqlite => {
            "CREATE TABLE events (id INTEGER NOT NULL, created_at DATETIME NOT NULL, payload TEXT, PRIMARY KEY (id, created_at))"
        }
    };
    // One row held by its full key, the timestamp part to the microsecond (PostgreSQL's
    // timestamptz with an offset, given in another zone).
    let held_at = match b {
        Backend::Postgres => "2020-06-01T14:00:00.000002+02:00",
        _ => "2020-06-01 12:00:00.000002",
    };
    timestamp_key_part(&db, ddl, held_at).await;
}

/// Rails' `timestamp(6)` (PostgreSQL `timestamp without time zone`) and MariaDB's `TIMESTAMP(6)`
/// (partitioned by `UNIX_TIMESTAMP`) as the timestamp part of the key.
async fn timestamp6_key_part(b: Backend) {
    let db = TestDb::new(b).await;
    let ddl = match b {
        Backend::Postgres => {
            "CREATE TABLE events (id bigint NOT NULL, created_at timestamp(6) without time zone NOT NULL, payload jsonb, PRIMARY KEY (id, created_at))"
        }
        _ => {
            "CREATE TABLE events (id BIGINT UNSIGNED NOT NULL, created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), payload LONGTEXT, PRIMARY KEY (id, created_at)) ENGINE=InnoDB PARTITION BY RANGE (UNIX_TIMESTAMP(created_at)) (PARTITION p2020 VALUES LESS THAN (UNIX_TIMESTAMP('2021-01-01 00:00:00')), PARTITION pmax VALUES LESS THAN MAXVALUE)"
        }
    };
    timestamp_key_part(&db, ddl, "2020-06-01 12:00:00.000002").await;
}

/// Rows of `ddl`'s `events (id, created_at, payload)` keyed by `(id, created_at)`: seven from
/// 2020 whose ids repeat and whose timestamps differ in microseconds, two from 2027; batches
/// of 2 end inside one id; the row `(2, held_at)` is held.
async fn timestamp_key_part(db: &TestDb, ddl: &str, held_at: &str) {
    let mut sql = format!("{ddl};\n");
    // (id, microsecond): ids 1 and 2 three times each, 3 once, in 2020; 1 and 4 in 2027.
    let old = [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3), (3, 7)];
    for (id, us) in old {
        sql.push_str(&format!(
            "INSERT INTO events (id, created_at, payload) VALUES ({id}, '2020-06-01 12:00:00.{us:06}', '{{}}');\n"
        ));
    }
    for id in [1, 4] {
        sql.push_str(&format!(
            "INSERT INTO events (id, created_at, payload) VALUES ({id}, '2027-02-01 12:00:00.000005', '{{}}');\n"
        ));
    }
    db.exec(&sql).await;
    let cfg = db.write_config(
        r#"
[[policies]]
name = "events"
table = "events"
since = "created_at"
retain = "1 year"
action = "delete"
basis = "legitimate interest"
batch_size = 2
"#,
        "",
    );
    hold_record(&cfg, "events", &["2", held_at]);
    let report = run(&cfg);
    assert_eq!(field(&report, "events", "affected"), 6);
    assert_eq!(field(&report, "events", "held"), 1);
    assert_eq!(field(&report, "events", "batches"), 3);
    assert_eq!(field(&report, "events", "backlog"), 0);
    let rows = db
        .text_rows(&format!(
            "SELECT {}, {} FROM events ORDER BY id",
            db.cast_text("id"),
            db.cast_text("payload")
        ))
        .await;
    assert_eq!(
        rows,
        [
            [Some("1".to_string()), Some("{}".to_string())],
            [Some("2".to_string()), Some("{}".to_string())],
            [Some("4".to_string()), Some("{}".to_string())]
        ]
    );
    let audit = column(
        db,
        &format!(
            "SELECT {} FROM retentiond_audit ORDER BY batch",
            db.cast_text("key_first")
        ),
    )
    .await;
    assert_eq!(
        audit,
        ["1,*", "1,*", "2,*"],
        "the integer part of the key is recorded, the timestamp part is not"
    );
}

/// A newsletter plugin keyed by the subscriber's e-mail address (WordPress style on
/// MariaDB, zero-date defaults included). Unsubscribed addresses go after 30 days; no address
/// may reach the audit trail, whose hash chain would keep it forever.
async fn natural_email_key_stays_out_of_the_audit(b: Backend) {
    let db = TestDb::new(b).await;
    let ddl = match b {
        Backend::MariaDb => {
            "SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION';
CREATE TABLE wp_newsletter_subscribers (email VARCHAR(191) NOT NULL, name VARCHAR(255) NOT NULL DEFAULT '', subscribed_at DATETIME NOT NULL DEFAULT '0000-00-00 00:00:00', unsubscribed_at DATETIME NULL, PRIMARY KEY (email)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
        }
        Backend::Postgres => {
            "CREATE TABLE wp_newsletter_subscribers (email text PRIMARY KEY, name text NOT NULL DEFAULT '', subscribed_at timestamptz NOT NULL DEFAULT now(), unsubscribed_at timestamptz)"
        }
        Backend::Sqlite => {
            "CREATE TABLE wp_newsletter_subscribers (email TEXT NOT NULL PRIMARY KEY, name TEXT NOT NULL DEFAULT '', subscribed_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, unsubscribed_at DATETIME)"
        }
    };
    let mut sql = format!("{ddl};\n");
    let gone: Vec<String> = (1..=7).map(|n| format!("reader{n}@example.org")).collect();
    for e in &gone {
        sql.push_str(&format!(
            "INSERT INTO wp_newsletter_subscribers (email, name, subscribed_at, unsubscribed_at) VALUES ('{e}', 'Reader', '2019-01-01 00:00:00', '2020-01-01 00:00:00');\n"
        ));
    }
    sql.push_str(
        "INSERT INTO wp_newsletter_subscribers (email, name, subscribed_at, unsubscribed_at) VALUES ('still.reading@example.org', 'Reader', '2019-01-01 00:00:00', NULL);\n\
         INSERT INTO wp_newsletter_subscribers (email, name, subscribed_at, unsubscribed_at) VALUES ('just.left@example.org', 'Reader', '2019-01-01 00:00:00', '2027-02-20 00:00:00');\n",
    );
    db.exec(&sql).await;
    let cfg = db.write_config(
        r#"
[[policies]]
name = "newsletter"
table = "wp_newsletter_subscribers"
since = "unsubscribed_at"
retain = "30 days"
action = "delete"
basis = "consent withdrawn"
batch_size = 3
"#,
        "",
    );
    let report = run(&cfg);
    assert_eq!(field(&report, "newsletter", "affected"), 7);
    assert_eq!(
        column(&db, "SELECT email FROM wp_newsletter_subscribers").await,
        ["just.left@example.org", "still.reading@example.org"]
    );
    let columns = [
        "run_id",
        "policy",
        "table_name",
        "action",
        "batch",
        "rows_affected",
        "key_first",
        "key_last",
        "recorded_at",
        "prev_hash",
        "hash",
    ];
    let list: Vec<String> = columns.iter().map(|c| db.cast_text(c)).collect();
    let audit = db
        .text_rows(&format!(
            "SELECT {} FROM retentiond_audit ORDER BY id",
            list.join(", ")
        ))
        .await;
    assert_eq!(audit.len(), 3);
    for row in &audit {
        for (c, v) in columns.iter().zip(row) {
            let v = v.clone().unwrap_or_default();
            assert!(
                !v.contains('@') && !v.contains("reader") && !v.contains("example"),
                "audit column {c} holds \"{v}\""
            );
        }
    }
    expect_exit(&run_cli(&cfg, &["audit", "verify"], &[]), 0);
}

/// One anonymize policy truncating `columns` of `table` 90 days after `since`, run twice: the
/// second run must find nothing left to do.
fn truncate_twice(db: &TestDb, table: &str, since: &str, columns: &[&str]) -> (u64, u64) {
    let cols: Vec<String> = columns
        .iter()
        .map(|c| format!("{c} = \"truncate_ip\""))
        .collect();
    let cfg = db.write_config(
        &format!(
            r#"
[[policies]]
name = "ips"
table = "{table}"
since = "{since}"
retain = "90 days"
action = "anonymize"
columns = {{ {} }}
basis = "security"
"#,
            cols.join(", ")
        ),
        "",
    );
    let first = field(&run(&cfg), "ips", "affected");
    let second = field(&run(&cfg), "ips", "affected");
    (first, second)
}

/// Rails with `enable_extension "pgcrypto"` and `id: :uuid`: users' e-mail addresses are
/// hashed and their sign-in addresses truncated a year after their last update. The hash is
/// computed outside SQL and written back by each row's uuid key, batch by batch.
async fn rails_uuid_key_anonymized_by_row() {
    let db = TestDb::new(Backend::Postgres).await;
    db.exec(
        "CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE TABLE users (id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY, email character varying DEFAULT '' NOT NULL, last_sign_in_ip inet, created_at timestamp(6) without time zone NOT NULL, updated_at timestamp(6) without time zone NOT NULL);
CREATE UNIQUE INDEX index_users_on_email ON users USING btree (email);
INSERT INTO users (email, last_sign_in_ip, created_at, updated_at) SELECT 'user' || n || '@example.com', inet '192.0.2.0' + n, '2019-01-01', '2020-01-01' FROM generate_series(1, 10) n;
INSERT INTO users (email, last_sign_in_ip, created_at, updated_at) SELECT 'user' || n || '@example.com', inet '192.0.2.0' + n, '2019-01-01', '2027-01-01' FROM generate_series(11, 12) n",
    )
    .await;
    let cfg = db.write_config(
        r#"
[[policies]]
name = "users"
table = "users"
since = "updated_at"
retain = "1 year"
action = "anonymize"
columns = { email = "hash", last_sign_in_ip = "truncate_ip" }
basis = "contract"
batch_size = 4
"#,
        "",
    );
    let report = run(&cfg);
    assert_eq!(field(&report, "users", "affected"), 10);
    assert_eq!(field(&report, "users", "batches"), 3);
    assert_eq!(
        field(&run(&cfg), "users", "affected"),
        0,
        "nothing left to do"
    );
    let rows = db
        .text_rows("SELECT email, host(last_sign_in_ip) FROM users ORDER BY created_at, host(last_sign_in_ip), email")
        .await;
    let mut expected: Vec<[Option<String>; 2]> = (1..=10)
        .map(|n| {
            [
                Some(retentiond::engine::transform::hash(
                    crate::common::TEST_KEY.as_bytes(),
                    &format!("user{n}@example.com"),
                )),
                Some("192.0.2.0".to_string()),
            ]
        })
        .collect();
    expected.sort();
    let mut old: Vec<[Option<String>; 2]> = rows
        .iter()
        .filter(|r| r[1].as_deref() == Some("192.0.2.0"))
        .map(|r| [r[0].clone(), r[1].clone()])
        .collect();
    old.sort();
    assert_eq!(old, expected);
    let recent: Vec<Vec<Option<String>>> = rows
        .into_iter()
        .filter(|r| r[1].as_deref() != Some("192.0.2.0"))
        .collect();
    let s = |v: &str| Some(v.to_string());
    assert_eq!(
        recent,
        [
            vec![s("user11@example.com"), s("192.0.2.11")],
            vec![s("user12@example.com"), s("192.0.2.12")]
        ]
    );
}

/// Django-style devices keyed by a packed uuid in `BINARY(16)` on MariaDB: the push token is
/// hashed outside SQL and written back by the binary key.
async fn binary_key_anonymized_by_row() {
    let db = TestDb::new(Backend::MariaDb).await;
    let mut sql = String::from(
        "CREATE TABLE push_devices (id BINARY(16) NOT NULL, push_token VARCHAR(255) NOT NULL, last_seen DATETIME(6) NOT NULL, PRIMARY KEY (id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    );
    for n in 1..=9 {
        let seen = if n <= 7 {
            "2020-01-01 00:00:00"
        } else {
            "2027-02-01 00:00:00"
        };
        sql.push_str(&format!(
            ";\nINSERT INTO push_devices VALUES (UNHEX('{n:02x}00000000000000000000000000{n:04x}'), 'token-{n}', '{seen}')"
        ));
    }
    db.exec(&sql).await;
    let cfg = db.write_config(
        r#"
[[policies]]
name = "devices"
table = "push_devices"
since = "last_seen"
retain = "1 year"
action = "anonymize"
columns = { push_token = "hash" }
basis = "contract"
batch_size = 3
"#,
        "",
    );
    let report = run(&cfg);
    assert_eq!(field(&report, "devices", "affected"), 7);
    assert_eq!(field(&report, "devices", "batches"), 3);
    assert_eq!(field(&run(&cfg), "devices", "affected"), 0);
    let rows = db
        .text_rows("SELECT LOWER(HEX(id)), push_token FROM push_devices ORDER BY id")
        .await;
    let expected: Vec<Vec<Option<String>>> = (1..=9)
        .map(|n| {
            let token = format!("token-{n}");
            let value = if n <= 7 {
                retentiond::engine::transform::hash(crate::common::TEST_KEY.as_bytes(), &token)
            } else {
                token
            };
            vec![
                Some(format!("{n:02x}00000000000000000000000000{n:04x}")),
                Some(value),
            ]
        })
        .collect();
    assert_eq!(rows, expected);
}

/// Mastodon and GitLab keep sign-in addresses in `inet` (and networks in `cidr`): truncated in
/// their own type, the host bits zeroed and the mask length kept; `::ffff:192.0.2.5` is the
/// IPv4 address it maps.
async fn truncate_ip_inet_and_cidr() {
    let db = TestDb::new(Backend::Postgres).await;
    db.exec(
        "CREATE TABLE login_activities (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, user_id bigint NOT NULL, authentication_method character varying, success boolean, ip inet, network cidr, packed bytea, user_agent character varying, created_at timestamp(6) without time zone NOT NULL);
INSERT INTO login_activities (id, user_id, success, ip, network, packed, created_at) VALUES (1, 7, true, '192.0.2.77', '198.51.100.77/32', decode('c000024d', 'hex'), '2020-01-01 10:00:00');
INSERT INTO login_activities (id, user_id, success, ip, network, packed, created_at) VALUES (2, 7, true, '2001:db8:85a3:12::7334', '2001:db8:85a3:12::/64', decode('20010db885a300120000000000007334', 'hex'), '2020-01-01 10:00:00');
INSERT INTO login_activities (id, user_id, success, ip, network, packed, created_at) VALUES (3, 7, false, '::ffff:192.0.2.5', '10.1.2.0/24', decode('00000000000000000000ffffc0000205', 'hex'), '2020-01-01 10:00:00');
INSERT INTO login_activities (id, user_id, success, ip, network, packed, created_at) VALUES (4, 7, false, NULL, NULL, decode('0102', 'hex'), '2020-01-01 10:00:00');
INSERT INTO login_activities (id, user_id, success, ip, network, packed, created_at) VALUES (5, 7, true, '203.0.113.9', '203.0.113.9/32', decode('cb007109', 'hex'), '2027-02-20 10:00:00')",
    )
    .await;
    let (first, second) = truncate_twice(
        &db,
        "login_activities",
        "created_at",
        &["ip", "network", "packed"],
    );
    assert_eq!((first, second), (4, 0));
    let rows = db
        .text_rows("SELECT CAST(id AS TEXT), CAST(ip AS TEXT), CAST(network AS TEXT), encode(packed, 'hex') FROM login_activities ORDER BY id")
        .await;
    let s = |v: &str| Some(v.to_string());
    assert_eq!(
        rows,
        [
            [
                s("1"),
                s("192.0.2.0/32"),
                s("198.51.100.0/32"),
                s("c0000200")
            ],
            [
                s("2"),
                s("2001:db8:85a3::/128"),
                s("2001:db8:85a3::/64"),
                s("20010db885a300000000000000000000")
            ],
            [
                s("3"),
                s("::ffff:192.0.2.0/128"),
                s("10.1.2.0/24"),
                s("00000000000000000000ffffc0000200")
            ],
            // Two bytes are no address: dropped (the column is nullable).
            [s("4"), None, None, None],
            [
                s("5"),
                s("203.0.113.9/32"),
                s("203.0.113.9/32"),
                s("cb007109")
            ],
        ]
    );
}

/// Matomo packs the visitor's address into `VARBINARY(16)` (4 bytes for IPv4, 16 for IPv6);
/// older apps keep IPv4 in `INT UNSIGNED` (`INET_ATON`); MariaDB has `INET4` and `INET6`.
async fn truncate_ip_mariadb_types() {
    let db = TestDb::new(Backend::MariaDb).await;
    db.exec(
        "CREATE TABLE matomo_log_visit (idvisit BIGINT(10) UNSIGNED NOT NULL AUTO_INCREMENT, idsite INT(10) UNSIGNED NOT NULL, location_ip VARBINARY(16) NOT NULL, fixed_ip BINARY(16) NULL, legacy_ip INT(10) UNSIGNED NULL, ip4 INET4 NULL, ip6 INET6 NULL, visit_last_action_time DATETIME NOT NULL, PRIMARY KEY (idvisit), KEY index_idsite_datetime (idsite, visit_last_action_time)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO matomo_log_visit VALUES (1, 1, INET6_ATON('192.0.2.77'), INET6_ATON('192.0.2.77'), INET_ATON('192.0.2.77'), '192.0.2.77', '2001:db8:85a3:12::7334', '2020-01-01 10:00:00');
INSERT INTO matomo_log_visit VALUES (2, 1, INET6_ATON('2001:db8:85a3:12::7334'), INET6_ATON('2001:db8:85a3:12::7334'), INET_ATON('198.51.100.200'), '198.51.100.200', '::ffff:192.0.2.5', '2020-01-01 10:00:00');
INSERT INTO matomo_log_visit VALUES (3, 1, INET6_ATON('::ffff:192.0.2.5'), INET6_ATON('::ffff:192.0.2.5'), NULL, NULL, NULL, '2020-01-01 10:00:00');
INSERT INTO matomo_log_visit VALUES (4, 1, INET6_ATON('203.0.113.9'), INET6_ATON('203.0.113.9'), INET_ATON('203.0.113.9'), '203.0.113.9', '2001:db8::9', '2027-02-20 10:00:00')",
    )
    .await;
    let (first, second) = truncate_twice(
        &db,
        "matomo_log_visit",
        "visit_last_action_time",
        &["location_ip", "fixed_ip", "legacy_ip", "ip4", "ip6"],
    );
    assert_eq!((first, second), (3, 0));
    let rows = db
        .text_rows("SELECT CAST(idvisit AS CHAR), INET6_NTOA(location_ip), LOWER(HEX(fixed_ip)), INET_NTOA(legacy_ip), CAST(ip4 AS CHAR), CAST(ip6 AS CHAR) FROM matomo_log_visit ORDER BY idvisit")
        .await;
    let s = |v: &str| Some(v.to_string());
    assert_eq!(
        rows,
        [
            // BINARY(16) pads a 4-byte address with zeros: still truncated as IPv4.
            [
                s("1"),
                s("192.0.2.0"),
                s("c0000200000000000000000000000000"),
                s("192.0.2.0"),
                s("192.0.2.0"),
                s("2001:db8:85a3::")
            ],
            [
                s("2"),
                s("2001:db8:85a3::"),
                s("20010db885a300000000000000000000"),
                s("198.51.100.0"),
                s("198.51.100.0"),
                s("::ffff:192.0.2.0")
            ],
            [
                s("3"),
                s("::ffff:192.0.2.0"),
                s("00000000000000000000ffffc0000200"),
                None,
                None,
                None
            ],
            [
                s("4"),
                s("203.0.113.9"),
                s("cb007109000000000000000000000000"),
                s("203.0.113.9"),
                s("203.0.113.9"),
                s("2001:db8::9")
            ],
        ]
    );
}

/// WordPress keeps a commenter's address as text, IPv4-mapped IPv6 when PHP sits behind a
/// dual-stack listener: `::ffff:192.0.2.5` truncates as the IPv4 address it is, in the form
/// the application wrote.
async fn truncate_ip_mapped_ipv4_text(b: Backend) {
    let db = TestDb::new(b).await;
    // WordPress's mixed-case column names, quoted where the database would fold them.
    let q = |c: &str| match b {
        Backend::MariaDb => c.to_string(),
        _ => format!("\"{c}\""),
    };
    let (id, ip, date) = (q("comment_ID"), q("comment_author_IP"), q("comment_date"));
    let ddl = match b {
        Backend::MariaDb => {
            "SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION';
CREATE TABLE wp_comments (comment_ID BIGINT(20) UNSIGNED NOT NULL AUTO_INCREMENT, comment_post_ID BIGINT(20) UNSIGNED NOT NULL DEFAULT 0, comment_author_IP VARCHAR(100) NOT NULL DEFAULT '', comment_date DATETIME NOT NULL DEFAULT '0000-00-00 00:00:00', comment_content TEXT NOT NULL, PRIMARY KEY (comment_ID)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4".to_string()
        }
        _ => format!(
            "CREATE TABLE wp_comments ({id} BIGINT NOT NULL PRIMARY KEY, {} BIGINT NOT NULL DEFAULT 0, {ip} VARCHAR(100) NOT NULL DEFAULT '', {date} TIMESTAMP NOT NULL, comment_content TEXT NOT NULL)",
            q("comment_post_ID")
        ),
    };
    let mut sql = format!("{ddl};\n");
    for (n, addr, at) in [
        (1, "::ffff:192.0.2.5", "2020-01-01 10:00:00"),
        (2, "192.0.2.77", "2020-01-01 10:00:00"),
        (3, "2001:db8:85a3:12::7334", "2020-01-01 10:00:00"),
        (4, "::ffff:203.0.113.9", "2027-02-20 10:00:00"),
        // A /56 ends in `::` too, and still holds more than its /48.
        (5, "2a02:a45:1234:5600::", "2020-01-01 10:00:00"),
    ] {
        sql.push_str(&format!(
            "INSERT INTO wp_comments ({id}, {ip}, {date}, comment_content) VALUES ({n}, '{addr}', '{at}', 'Nice');\n"
        ));
    }
    db.exec(&sql).await;
    let (first, second) =
        truncate_twice(&db, "wp_comments", "comment_date", &["comment_author_IP"]);
    assert_eq!((first, second), (4, 0));
    assert_eq!(
        column(&db, &format!("SELECT {ip} FROM wp_comments")).await,
        [
            "192.0.2.0",
            "2001:db8:85a3::",
            "2a02:a45:1234::",
            "::ffff:192.0.2.0",
            "::ffff:203.0.113.9"
        ]
    );
}

/// A key the batches cannot page through exactly (a `NUMERIC` order number of a legacy
/// schema) and an address column `truncate_ip` cannot cut are refused by `check`, which names
/// the policy, the table, the column, its type and what would work.
async fn check_refuses_what_it_cannot_handle(b: Backend) {
    let db = TestDb::new(b).await;
    let (numeric, blob) = match b {
        Backend::Postgres => ("numeric(12,0)", "text"),
        Backend::MariaDb => ("DECIMAL(12,0)", "VARCHAR(45)"),
        Backend::Sqlite => ("NUMERIC(12,0)", "BLOB"),
    };
    db.exec(&format!(
        "CREATE TABLE legacy_orders (order_no {numeric} NOT NULL PRIMARY KEY, placed_at {} NOT NULL);
CREATE TABLE visits (id BIGINT NOT NULL PRIMARY KEY, ip {blob}, seen_at {} NOT NULL)",
        db.ts_type(),
        db.ts_type()
    ))
    .await;
    let cfg = db.write_config(
        r#"
[[policies]]
name = "orders"
table = "legacy_orders"
since = "placed_at"
retain = "10 years"
action = "delete"
basis = "tax law"

[[policies]]
name = "visits"
table = "visits"
since = "seen_at"
retain = "30 days"
action = "anonymize"
columns = { ip = "truncate_ip" }
basis = "security"
"#,
        "",
    );
    let out = run_cli(&cfg, &["check"], &[]);
    expect_exit(&out, 2);
    let err = crate::common::stderr(&out);
    assert!(
        err.contains("policies[0].key (policy \"orders\"): key column \"order_no\" of \"legacy_orders\" has type")
            && err.contains("a key column must be an integer, text, uuid, binary, date or timestamp column"),
        "{err}"
    );
    let ip_refused = err.contains(
        "policies[1].columns.ip (policy \"visits\"): \"truncate_ip\" fits text, inet/cidr",
    );
    assert_eq!(ip_refused, b == Backend::Sqlite, "{err}");
}

crate::on_every_backend!(
    check_refuses_what_it_cannot_handle,
    partitioned_timestamp_key_part,
    natural_email_key_stays_out_of_the_audit,
    truncate_ip_mapped_ipv4_text
);

crate::on_server_backends!(timestamp6_key_part);

#[tokio::test]
async fn truncate_ip_inet_cidr_postgres() {
    truncate_ip_inet_and_cidr().await
}

#[tokio::test]
async fn truncate_ip_packed_int_inet4_inet6_mariadb() {
    truncate_ip_mariadb_types().await
}

#[tokio::test]
async fn supabase_uuid_keys_postgres() {
    supabase_uuid_keys().await
}

#[tokio::test]
async fn rails_uuid_key_anonymized_by_row_postgres() {
    rails_uuid_key_anonymized_by_row().await
}

#[tokio::test]
async fn binary_key_anonymized_by_row_mariadb() {
    binary_key_anonymized_by_row().await
}

#[tokio::test]
async fn laravel_uuid_keys_mariadb() {
    laravel_mariadb_uuid_keys().await
}

#[tokio::test]
async fn django_uuid_subjects_mariadb() {
    django_mariadb_uuid_subjects().await
}

#[tokio::test]
async fn binary16_keys_mariadb() {
    binary16_keys().await
}

#[tokio::test]
async fn prisma_text_uuid_keys_sqlite() {
    prisma_sqlite_text_uuids().await
}
