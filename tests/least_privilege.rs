//! Least privilege: an account with only the grants the docs list runs a whole purge, and
//! `check` names each missing grant (and the policy that needs it) before anything is written.
//! On PostgreSQL the account creates retentiond's own tables itself; on MariaDB an administrator
//! installs them first (`retentiond install`), because MariaDB cannot grant on a table that
//! does not exist yet.

mod common;

use common::{Backend, TestDb, expect_exit, run_cli, stderr};
use sqlx::{Connection, Executor};

const PASSWORD: &str = "lp-Secret-42";

async fn shop(db: &TestDb) {
    let ts = db.ts_type();
    let text = db.text_type();
    db.exec(&format!(
        "CREATE TABLE customers (id BIGINT PRIMARY KEY, email {text} NOT NULL, left_at {ts} NULL);
CREATE TABLE messages (id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL REFERENCES customers (id), sent_at {ts} NOT NULL, body {text} NOT NULL);
INSERT INTO customers VALUES (1, 'gone@example.nl', '2020-01-01 00:00:00'), (2, 'here@example.nl', NULL);
INSERT INTO messages VALUES (10, 1, '2020-01-01 00:00:00', 'old'), (11, 2, '2020-02-01 00:00:00', 'old'), (12, 2, '2027-02-01 00:00:00', 'new');"
    ))
    .await;
}

const POLICIES: &str = r#"
[[policies]]
name = "old-mail"
table = "messages"
since = "sent_at"
retain = "1 year"
action = "delete"
basis = "test"

[[policies]]
name = "former-customers"
table = "customers"
since = "left_at"
retain = "1 year"
action = "anonymize"
columns = { email = "hash" }
basis = "test"
"#;

/// `scheme://anyone@host/db` → `scheme://user:PASSWORD@host/db`.
fn as_user(url: &str, user: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    format!("{scheme}://{user}:{PASSWORD}@{host}")
}

async fn least_privilege_purge(b: Backend) {
    let db = TestDb::new(b).await;
    shop(&db).await;
    let role = format!("{}_lp", db.name());
    let cfg = db.write_config(POLICIES, "");
    let env_user = [("RETENTIOND_DATABASE__URL", as_user(db.url(), &role))];
    let env: Vec<(&str, &str)> = env_user.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let grantee = match b {
        Backend::Postgres => {
            db.exec(&format!("CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'"))
                .await;
            db.exec(&format!("GRANT USAGE, CREATE ON SCHEMA public TO {role}"))
                .await;
            role.clone()
        }
        _ => {
            let user = format!("'{role}'@'%'");
            db.exec(&format!("CREATE USER {user} IDENTIFIED BY '{PASSWORD}'"))
                .await;
            user
        }
    };
    let on = |table: &str| match b {
        Backend::Postgres => table.to_string(),
        _ => format!("{}.{table}", db.name()),
    };

    // Read access only: both writes are named, with their policies, and nothing changes.
    db.exec(&format!(
        "GRANT SELECT ON {} TO {grantee};\nGRANT SELECT ON {} TO {grantee}",
        on("messages"),
        on("customers")
    ))
    .await;
    let before = db.checksum_all().await;
    let err = stderr(&run_cli(&cfg, &["check"], &env));
    for expected in [
        "policies[0].action (policy \"old-mail\"): the database user may not delete from \"messages\"",
        "policies[1].columns (policy \"former-customers\"): the database user may not update \"customers\" (email)",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    expect_exit(&run_cli(&cfg, &["check"], &env), 2);
    expect_exit(&run_cli(&cfg, &["run"], &env), 2);
    assert_eq!(
        db.checksum_all().await,
        before,
        "a refused run changed data"
    );
    assert!(
        !err.contains(PASSWORD),
        "the password leaked into an error: {err}"
    );

    // The documented grants: DELETE on the purged table, UPDATE on the stripped column only.
    db.exec(&format!(
        "GRANT DELETE ON {} TO {grantee};\nGRANT UPDATE (email) ON {} TO {grantee}",
        on("messages"),
        on("customers")
    ))
    .await;
    if b == Backend::MariaDb {
        // The account may not create tables: check says which of its own it cannot use yet ...
        expect_exit(&run_cli(&cfg, &["install"], &[]), 0);
        let err = stderr(&run_cli(&cfg, &["check"], &env));
        assert!(
            err.contains("database.table_prefix: the database user may not read retentiond's own table \"retentiond_runs\""),
            "{err}"
        );
        // ... until an administrator grants them.
        for own in ["runs", "audit", "holds", "outbox", "erasures", "migrations"] {
            db.exec(&format!(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {grantee}",
                on(&format!("retentiond_{own}"))
            ))
            .await;
        }
    }
    expect_exit(&run_cli(&cfg, &["check"], &env), 0);
    expect_exit(&run_cli(&cfg, &["run"], &env), 0);
    assert_eq!(db.ids("messages").await, vec![12]);
    let emails = db
        .text_rows("SELECT email FROM customers ORDER BY id")
        .await;
    assert_ne!(emails[0][0].as_deref(), Some("gone@example.nl"));
    assert_eq!(emails[1][0].as_deref(), Some("here@example.nl"));
    expect_exit(&run_cli(&cfg, &["audit", "verify"], &env), 0);
    // A second run with nothing to do needs no DDL either.
    expect_exit(&run_cli(&cfg, &["run"], &env), 0);

    match b {
        Backend::Postgres => {
            db.exec(&format!("DROP OWNED BY {role}")).await;
            drop(db);
            admin_drop_role(&role).await;
        }
        _ => db.exec(&format!("DROP USER {grantee}")).await,
    }
}

async fn admin_drop_role(role: &str) {
    let mut c = sqlx::PgConnection::connect(&common::pg_admin_url())
        .await
        .expect("admin connection");
    c.execute(sqlx::AssertSqlSafe(format!("DROP ROLE IF EXISTS {role}")))
        .await
        .expect("drop the role");
}

mod least_privilege {
    use super::*;

    #[tokio::test]
    async fn postgres() {
        least_privilege_purge(Backend::Postgres).await
    }

    #[tokio::test]
    async fn mariadb() {
        least_privilege_purge(Backend::MariaDb).await
    }
}
