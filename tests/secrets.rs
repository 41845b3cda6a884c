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

/// One policy that hashes: it needs the HMAC key.
const POLICIES: &str = r#"
[[policies]]
name = "contact"
table = "customers"
since = "created_at"
retain = "1 year"
action = "anonymize"
columns = { email = "hash" }
basis = "test"
"#;

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
    let cfg = format!(
        "[database]\nurl = \"{url}\"\n[run]\nmax_fraction = 1.0\n[report]\nto = [\"controller@shop.example\"]\n\
         from = \"retentiond@shop.example\"\nsmtp_url = \"smtp://127.0.0.1:{}\"\nuser = \"mailer\"\n\
         [schedule]\ncron = \"*/2 * * * * *\"\n[http]\nlisten = \"127.0.0.1:{http}\"\n{POLICIES}",
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

/// A placeholder is no HMAC key: the Kubernetes example's `CHANGE-ME...`, other placeholder
/// words and one character repeated are refused (exit 2) with how to make a real key, whether
/// the key comes from the environment or from a key file, and nothing is changed.
#[test]
fn a_placeholder_hmac_key_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("shop.db");
    let made = std::process::Command::new("sqlite3")
        .arg(&db)
        .arg("CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, created_at TIMESTAMP NOT NULL); \
              INSERT INTO customers VALUES (1, 'a@example.nl', '2001-01-01 00:00:00');")
        .status()
        .expect("the sqlite3 tool");
    assert!(made.success(), "sqlite3 made the test database");
    let before = std::fs::read(&db).expect("read the database");
    let key_file = dir.path().join("hmac.key");
    let cfg = write(
        dir.path(),
        "r.toml",
        &format!(
            "[database]\nurl = \"sqlite://{}\"\n[run]\nmax_fraction = 1.0\n{POLICIES}",
            db.display()
        ),
    );
    let with_file = write(
        dir.path(),
        "f.toml",
        &format!(
            "[database]\nurl = \"sqlite://{}\"\n[hash]\nkey_file = \"{}\"\n{POLICIES}",
            db.display(),
            key_file.display()
        ),
    );
    for key in [
        "CHANGE-ME-openssl-rand-hex-32",
        "changeme-changeme-changeme",
        "please-replace-me-with-a-key",
        "<placeholder for the key>",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    ] {
        let from_env = bin()
            .env("RETENTIOND_HASH__KEY", key)
            .arg("--config")
            .arg(&cfg)
            .arg("run")
            .output()
            .expect("run retentiond");
        std::fs::write(&key_file, format!("{key}\n")).expect("write the key file");
        let from_file = bin()
            .env_remove("RETENTIOND_HASH__KEY")
            .arg("--config")
            .arg(&with_file)
            .arg("run")
            .output()
            .expect("run retentiond");
        for out in [from_env, from_file] {
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{key}: {err}");
            assert!(err.contains("hash.key"), "{key}: {err}");
            assert!(err.contains("placeholder"), "{key}: {err}");
            assert!(
                err.contains("head -c 32 /dev/urandom | base64"),
                "{key}: {err}"
            );
        }
    }
    assert_eq!(
        std::fs::read(&db).expect("read the database"),
        before,
        "the database changed"
    );
    // A real key passes the same check.
    let out = bin()
        .env("RETENTIOND_HASH__KEY", "q3Jw9k2mZt7VbX1cR8yN4pLs6Hd0Fg5A")
        .arg("--config")
        .arg(&cfg)
        .arg("check")
        .output()
        .expect("run retentiond");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("placeholder"), "{err}");
}
