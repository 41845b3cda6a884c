//! `retentiond health` against a real daemon's /healthz: exit 0 while it is ready and its last
//! run went well, 1 once a run failed, when nothing listens, or with no address to ask.

mod support;

use std::process::Output;
use std::time::{Duration, Instant};
use support::{PgDb, bin, free_port, http_get, terminate, wait_exit, write};

fn health(args: &[&str]) -> Output {
    bin().arg("health").args(args).output().expect("health")
}

/// Killed when a failed assertion ends the test early.
struct Daemon(std::process::Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn code(out: &Output) -> Option<i32> {
    out.status.code()
}

#[tokio::test]
async fn health_follows_healthz_and_fails_without_an_answer() {
    let db = PgDb::new().await;
    db.exec("CREATE TABLE messages (id BIGSERIAL PRIMARY KEY, sent_at TIMESTAMPTZ NOT NULL)")
        .await;
    db.exec("INSERT INTO messages (sent_at) VALUES (now() - interval '400 days'), (now())")
        .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let http = free_port();
    let cfg = write(
        dir.path(),
        "r.toml",
        &format!(
            r#"
[database]
url = "{}"
[run]
max_fraction = 1.0
[schedule]
cron = "*/2 * * * * *"
[http]
listen = "0.0.0.0:{http}"

[[policies]]
name = "old-messages"
table = "messages"
since = "sent_at"
retain = "6 months"
action = "delete"
basis = "test"
"#,
            db.url
        ),
    );
    let cfg = cfg.to_str().expect("utf-8 path");

    // Before the daemon is up: nothing answers.
    let out = health(&["--config", cfg]);
    assert_eq!(code(&out), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no answer from http://127.0.0.1:"),
        "{out:?}"
    );

    let mut child = Daemon(
        bin()
            .args(["--config", cfg, "daemon"])
            .spawn()
            .expect("start"),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while http_get(http, "/healthz").map(|r| r.0) != Some(200) {
        assert!(Instant::now() < deadline, "/healthz never answered 200");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // From the config's [http] listen (0.0.0.0 is asked on 127.0.0.1), and from --url.
    let out = health(&["--config", cfg]);
    assert_eq!(code(&out), Some(0), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("\"ready\":true"),
        "{out:?}"
    );
    let url = format!("http://127.0.0.1:{http}");
    assert_eq!(code(&health(&["--url", &url])), Some(0));

    // A failed run makes /healthz answer 503, and health exit 1.
    db.exec("DROP TABLE messages").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while http_get(http, "/healthz").map(|r| r.0) != Some(503) {
        assert!(
            Instant::now() < deadline,
            "/healthz never reported the failed run"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let out = health(&["--url", &url]);
    assert_eq!(code(&out), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("\"last_run\":\"failed\""),
        "{out:?}"
    );

    terminate(&child.0);
    assert!(wait_exit(&mut child.0, Duration::from_secs(10)).is_some_and(|s| s.success()));
    assert_eq!(code(&health(&["--url", &url])), Some(1));
    db.drop().await;
}

#[test]
fn health_without_an_address_says_how_to_give_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("shop.db");
    std::fs::write(&db, b"").expect("db file");
    let cfg = write(
        dir.path(),
        "r.toml",
        &format!(
            "[database]\nurl = \"sqlite://{}\"\n\n[[policies]]\nname = \"p\"\ntable = \"t\"\nsince = \"c\"\nretain = \"1 year\"\naction = \"delete\"\nbasis = \"test\"\n",
            db.display()
        ),
    );
    let out = health(&["--config", cfg.to_str().expect("utf-8 path")]);
    assert_eq!(code(&out), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("has no [http] listen") && err.contains("--url"),
        "{err}"
    );
    // A config error is exit 1 too: a HEALTHCHECK treats 2 as reserved.
    let out = health(&["--config", "/nonexistent/retentiond.toml"]);
    assert_eq!(code(&out), Some(1), "{out:?}");
}
