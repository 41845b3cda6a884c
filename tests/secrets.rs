//! Secrets never leave: a database password in the URL, the SMTP password and the HMAC key do
//! not appear in any output of any command (help, check, plan, run, a failing run, an
//! unreachable server, debug logs), in the summary mail, in /metrics or /healthz, or in
//! retentiond's own tables. Against real PostgreSQL and a real SMTP server.

mod support;

use std::time::{Duration, Instant};
use support::{PgDb, SmtpSink, bin, free_port, http_get, terminate, wait_exit, write};

const DB_PASSWORD: &str = "Pw-7f3a9-DBSECRET";
const SMTP_PASSWORD: &str = "Smtp-9c1e-MAILSECRET";
const HMAC_KEY: &str = "Hmac-42d0-KEYSECRET-0123456789";

fn leaks(text: &str) -> Vec<&'static str> {
    [DB_PASSWORD, SMTP_PASSWORD, HMAC_KEY]
        .into_iter()
        .filter(|s| text.contains(s))
        .collect()
}

#[tokio::test]
async fn no_secret_appears_anywhere() {
    let db = PgDb::new().await;
    let role = format!("{}_role", db.name);
    db.exec(&format!(
        "CREATE ROLE {role} LOGIN PASSWORD '{DB_PASSWORD}';
CREATE TABLE customers (id BIGSERIAL PRIMARY KEY, email TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL);
INSERT INTO customers (email, created_at) SELECT 'c' || g || '@example.nl', now() - interval '10 years' FROM generate_series(1, 20) g;
INSERT INTO customers (email, created_at) SELECT 'n' || g || '@example.nl', now() FROM generate_series(1, 20) g;
ALTER TABLE customers OWNER TO {role};
GRANT ALL ON SCHEMA public TO {role}"
    ))
    .await;
    let (base, name) = db.url.rsplit_once('/').expect("url");
    let host = base.rsplit_once('@').map_or(base, |(_, h)| h);
    let url = format!("postgres://{role}:{DB_PASSWORD}@{host}/{name}");

    let dir = tempfile::tempdir().expect("tempdir");
    let smtp = SmtpSink::start_with(
        free_port(),
        &dir.path().join("mail"),
        Some(&format!("mailer:{SMTP_PASSWORD}")),
    );
    let http = free_port();
    let policies = r#"
[[policies]]
name = "contact"
table = "customers"
since = "created_at"
retain = "1 year"
action = "anonymize"
columns = { email = "hash" }
basis = "test"
"#;
    let cfg = format!(
        "[database]\nurl = \"{url}\"\n[run]\nmax_fraction = 1.0\n[report]\nto = [\"controller@shop.example\"]\n\
         from = \"retentiond@shop.example\"\nsmtp_url = \"smtp://127.0.0.1:{}\"\nuser = \"mailer\"\n\
         [schedule]\ncron = \"*/2 * * * * *\"\n[http]\nlisten = \"127.0.0.1:{http}\"\n{policies}",
        smtp.port
    );
    let path = write(dir.path(), "r.toml", &cfg);
    let unreachable = write(dir.path(), "down.toml", &cfg.replace(host, "127.0.0.1:1"));

    let run = |config: &std::path::Path, args: &[&str], verbose: bool| {
        let mut c = bin();
        c.env("RETENTIOND_REPORT__PASSWORD", SMTP_PASSWORD)
            .env("RETENTIOND_HASH__KEY", HMAC_KEY)
            .arg("--config")
            .arg(config);
        if verbose {
            c.arg("-vv");
        }
        let out = c.args(args).output().expect("run retentiond");
        format!(
            "{args:?} exit {:?}\n{}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };

    let mut seen = String::new();
    for args in [
        &["--help"][..],
        &["run", "--help"],
        &["daemon", "--help"],
        &["erase", "--help"],
        &["check"],
        &["plan", "--json"],
    ] {
        seen.push_str(&run(&path, args, false));
    }
    seen.push_str(&run(&path, &["run", "--json"], true));
    assert!(
        seen.contains("\"affected\": 20"),
        "the run did its work:\n{seen}"
    );
    seen.push_str(&run(&unreachable, &["check"], false));
    seen.push_str(&run(&unreachable, &["run"], true));
    assert!(
        seen.contains("127.0.0.1:1"),
        "the unreachable server was reported:\n{seen}"
    );

    // The daemon: summaries by mail, /metrics and /healthz, then a failing run.
    let mut child = bin()
        .env("RETENTIOND_REPORT__PASSWORD", SMTP_PASSWORD)
        .env("RETENTIOND_HASH__KEY", HMAC_KEY)
        .arg("--config")
        .arg(&path)
        .arg("daemon")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the daemon");
    smtp.wait_for(1, Duration::from_secs(30));
    db.exec("DROP TABLE customers").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while http_get(http, "/healthz").map(|r| r.0) != Some(503) {
        assert!(Instant::now() < deadline, "the failing run never showed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for page in ["/metrics", "/healthz"] {
        seen.push_str(&http_get(http, page).map(|r| r.1).unwrap_or_default());
    }
    terminate(&child);
    wait_exit(&mut child, Duration::from_secs(10));
    let out = child.wait_with_output().expect("daemon output");
    seen.push_str(&String::from_utf8_lossy(&out.stdout));
    seen.push_str(&String::from_utf8_lossy(&out.stderr));
    let mail = smtp.messages();
    assert!(
        !mail.is_empty(),
        "no summary arrived (the SMTP login failed?):\n{seen}"
    );
    for m in &mail {
        seen.push_str(m);
    }
    let mut conn = db.conn().await;
    for table in ["retentiond_runs", "retentiond_audit", "retentiond_outbox"] {
        let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT CAST(t.* AS TEXT) FROM {table} t"
        )))
        .fetch_all(&mut conn)
        .await
        .expect("read own tables");
        seen.push_str(&rows.join("\n"));
    }
    assert!(
        seen.contains("failed"),
        "a failed run was recorded:\n{seen}"
    );

    assert_eq!(
        leaks(&seen),
        Vec::<&str>::new(),
        "secrets leaked into:\n{seen}"
    );
    drop(conn);
    db.drop().await;
    if let Ok(mut admin) =
        <sqlx::PgConnection as sqlx::Connection>::connect(&support::pg_admin_url()).await
    {
        let _ = sqlx::Executor::execute(
            &mut admin,
            sqlx::AssertSqlSafe(format!("DROP ROLE IF EXISTS {role}")),
        )
        .await;
    }
}
