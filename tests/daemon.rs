//! The daemon against real PostgreSQL and a real SMTP server: scheduled runs that never
//! overlap, summaries that survive a mail outage, a graceful stop mid-run, and the HTTP
//! endpoints.

mod support;

use std::time::{Duration, Instant};
use support::{PgDb, SmtpSink, bin, free_port, http_get, subject, terminate, wait_exit, write};

/// A messages table where `expired` rows are a year old and `fresh` rows are new.
async fn messages(db: &PgDb, expired: i64, fresh: i64) {
    db.exec("CREATE TABLE messages (id BIGSERIAL PRIMARY KEY, sent_at TIMESTAMPTZ NOT NULL, body TEXT NOT NULL)").await;
    db.exec(&format!(
        "INSERT INTO messages (sent_at, body) SELECT now() - interval '400 days', repeat('x', 100) FROM generate_series(1, {expired})"
    ))
    .await;
    db.exec(&format!(
        "INSERT INTO messages (sent_at, body) SELECT now() - interval '1 day', 'recent' FROM generate_series(1, {fresh})"
    ))
    .await;
}

fn config(db: &PgDb, extra: &str) -> String {
    format!(
        r#"
[database]
url = "{}"
[run]
max_fraction = 1.0
{extra}

[[policies]]
name = "old-messages"
table = "messages"
since = "sent_at"
retain = "6 months"
action = "delete"
basis = "test"
"#,
        db.url
    )
}

fn report(port: u16) -> String {
    format!(
        "[report]\nto = [\"controller@shop.example\"]\nfrom = \"retentiond@shop.example\"\nsmtp_url = \"smtp://127.0.0.1:{port}\"\n"
    )
}

#[tokio::test]
async fn scheduled_runs_mail_the_controller_and_never_overlap() {
    let db = PgDb::new().await;
    messages(&db, 60, 5).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let smtp = SmtpSink::start(free_port(), &dir.path().join("mail"));
    // A run takes about 6 × 250 ms, longer than the one-second interval.
    let cfg = config(&db, "batch_size = 10\npause = \"250ms\"")
        + "\n[schedule]\ncron = \"* * * * * *\"\n"
        + &report(smtp.port);
    let path = write(dir.path(), "r.toml", &cfg);
    let mut child = bin()
        .arg("--config")
        .arg(&path)
        .arg("daemon")
        .spawn()
        .expect("start daemon");

    let mails = smtp.wait_for(2, Duration::from_secs(30));
    terminate(&child);
    let status =
        wait_exit(&mut child, Duration::from_secs(10)).expect("the daemon stops after SIGTERM");
    assert!(status.success(), "exit status {status:?}");

    assert!(
        mails.len() >= 2,
        "expected two summaries, got {}",
        mails.len()
    );
    assert_eq!(
        subject(&mails[0]),
        "retentiond: 1 policies, 60 rows purged, 0 errors"
    );
    assert_eq!(
        subject(&mails[1]),
        "retentiond: 1 policies, 0 rows purged, 0 errors"
    );
    for m in &mails[..2] {
        assert!(m.contains("Content-Type: multipart/alternative"), "{m}");
        assert!(m.contains("Content-Type: text/plain"), "{m}");
        assert!(m.contains("Content-Type: text/html"), "{m}");
        assert!(m.contains("To: controller@shop.example"), "{m}");
    }
    assert!(mails[0].contains("Rows changed: 60"), "{}", mails[0]);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM messages").await, 5);

    // Each run started after the previous one had finished.
    let overlaps = db
        .scalar(
            "SELECT COUNT(*) FROM retentiond_runs a JOIN retentiond_runs b ON b.id = a.id + 1 \
             WHERE b.started_at < a.finished_at",
        )
        .await;
    assert_eq!(overlaps, 0);
    assert!(
        db.scalar("SELECT COUNT(*) FROM retentiond_runs WHERE status = 'ok'")
            .await
            >= 2
    );
    db.drop().await;
}

#[tokio::test]
async fn sigterm_mid_run_stops_cleanly_and_the_next_run_finishes() {
    let db = PgDb::new().await;
    messages(&db, 100_000, 10).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        dir.path(),
        "r.toml",
        &config(&db, "batch_size = 1000\npause = \"100ms\""),
    );
    let mut child = bin()
        .arg("--config")
        .arg(&path)
        .arg("daemon")
        .arg("--once")
        .spawn()
        .expect("start");

    // Wait until some batches are committed, then stop it.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = db
            .try_scalar("SELECT COALESCE(SUM(rows_affected), 0)::bigint FROM retentiond_audit")
            .await
            .unwrap_or(0);
        if done >= 3000 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let signalled = Instant::now();
    terminate(&child);
    let status = wait_exit(&mut child, Duration::from_secs(10)).expect("stops after SIGTERM");
    assert!(status.success(), "exit {status:?}");
    assert!(
        signalled.elapsed() < Duration::from_secs(5),
        "took {:?}",
        signalled.elapsed()
    );

    let left = db
        .scalar("SELECT COUNT(*) FROM messages WHERE sent_at < now() - interval '6 months'")
        .await;
    let audited = db
        .scalar("SELECT SUM(rows_affected)::bigint FROM retentiond_audit")
        .await;
    assert!(left > 0, "the run was meant to be stopped halfway");
    // Whole batches only: what the audit trail says is exactly what is gone.
    assert_eq!(audited + left, 100_000);
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM retentiond_runs WHERE status = 'interrupted'")
            .await,
        1
    );

    let out = bin()
        .arg("--config")
        .arg(&path)
        .arg("run")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(db.scalar("SELECT COUNT(*) FROM messages").await, 10);
    assert_eq!(
        db.scalar("SELECT SUM(rows_affected)::bigint FROM retentiond_audit")
            .await,
        100_000
    );
    let verify = bin()
        .arg("--config")
        .arg(&path)
        .args(["audit", "verify"])
        .output()
        .expect("verify");
    assert!(verify.status.success());
    db.drop().await;
}

#[tokio::test]
async fn a_mail_outage_queues_the_summary_and_delivers_it_once_later() {
    let db = PgDb::new().await;
    messages(&db, 7, 1).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let path = write(dir.path(), "r.toml", &(config(&db, "") + &report(port)));

    // Nobody listens on the port: the run still succeeds, the summary waits in the outbox.
    let out = bin()
        .arg("--config")
        .arg(&path)
        .args(["daemon", "--once"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(db.scalar("SELECT COUNT(*) FROM messages").await, 1);
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM retentiond_outbox WHERE delivered_at IS NULL")
            .await,
        1
    );

    // Mail is back: the queued summary goes first, then the new run's.
    let smtp = SmtpSink::start(port, &dir.path().join("mail"));
    let out = bin()
        .arg("--config")
        .arg(&path)
        .args(["daemon", "--once"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mails = smtp.wait_for(2, Duration::from_secs(10));
    let subjects: Vec<String> = mails.iter().map(|m| subject(m)).collect();
    assert_eq!(
        subjects,
        vec![
            "retentiond: 1 policies, 7 rows purged, 0 errors".to_string(),
            "retentiond: 1 policies, 0 rows purged, 0 errors".to_string()
        ]
    );
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM retentiond_outbox WHERE delivered_at IS NULL")
            .await,
        0
    );

    // Delivered means delivered: a third run sends only its own summary.
    let out = bin()
        .arg("--config")
        .arg(&path)
        .args(["daemon", "--once"])
        .output()
        .expect("run");
    assert!(out.status.success());
    assert_eq!(smtp.wait_for(4, Duration::from_secs(3)).len(), 3);
    db.drop().await;
}

/// The daemon on a two-second schedule with /healthz and /metrics on a free port.
fn serving_daemon(dir: &std::path::Path, cfg: String) -> (std::process::Child, u16) {
    let http = free_port();
    let cfg = cfg
        + &format!(
            "\n[schedule]\ncron = \"*/2 * * * * *\"\n[http]\nlisten = \"127.0.0.1:{http}\"\n"
        );
    let path = write(dir, "r.toml", &cfg);
    let child = bin()
        .arg("--config")
        .arg(&path)
        .arg("daemon")
        .spawn()
        .expect("start");
    (child, http)
}

/// /metrics as soon as it shows `needle` (at most 30 s).
async fn metrics_once(http: u16, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some((200, body)) = http_get(http, "/metrics")
            && body.contains(needle)
        {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "{needle} never showed up in /metrics"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn metrics_parse_and_healthz_reports_a_failed_run() {
    let db = PgDb::new().await;
    messages(&db, 3, 1).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut child, http) = serving_daemon(dir.path(), config(&db, ""));
    let metrics = metrics_once(http, "retentiond_runs_total{status=\"ok\"}").await;
    // Prometheus text format: comments, or `name{labels} number`.
    for line in metrics
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (name, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad line {line:?}"));
        assert!(value.parse::<f64>().is_ok(), "bad value in {line:?}");
        let bare = name.split('{').next().unwrap_or_default();
        assert!(
            bare.starts_with("retentiond_")
                && bare.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{line}"
        );
    }
    assert!(
        metrics.contains("retentiond_rows_total{policy=\"old-messages\",action=\"delete\"} 3"),
        "{metrics}"
    );
    assert_eq!(http_get(http, "/healthz").map(|r| r.0), Some(200));

    // The table disappears: the next run fails, the daemon stays up and says so.
    db.exec("DROP TABLE messages").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let health = loop {
        if let Some((503, body)) = http_get(http, "/healthz") {
            break body;
        }
        assert!(
            Instant::now() < deadline,
            "/healthz never reported the failed run"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(health.contains("\"last_run\":\"failed\""), "{health}");
    assert!(
        child.try_wait().expect("poll").is_none(),
        "the daemon must keep running after a failed run"
    );
    terminate(&child);
    assert!(wait_exit(&mut child, Duration::from_secs(10)).is_some_and(|s| s.success()));
    db.drop().await;
}

#[tokio::test]
async fn a_bad_cron_line_is_a_config_error() {
    let db = PgDb::new().await;
    messages(&db, 1, 0).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        dir.path(),
        "r.toml",
        &(config(&db, "") + "\n[schedule]\ncron = \"30 25 * * *\"\n"),
    );
    let out = bin()
        .arg("--config")
        .arg(&path)
        .arg("daemon")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("schedule.cron: \"30 25 * * *\" is not a valid cron line"),
        "{err}"
    );
    assert_eq!(db.scalar("SELECT COUNT(*) FROM messages").await, 1);
    db.drop().await;
}

#[tokio::test]
async fn a_safety_stop_under_the_daemon_exits_3_and_is_mailed_as_stopped() {
    let db = PgDb::new().await;
    messages(&db, 9, 1).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let smtp = SmtpSink::start(free_port(), &dir.path().join("mail"));
    let path = write(
        dir.path(),
        "r.toml",
        &(config(&db, "") + &report(smtp.port)),
    );
    let out = bin()
        .arg("--config")
        .arg(&path)
        .args(["daemon", "--once"])
        .env("RETENTIOND_RUN__MAX_FRACTION", "0.5")
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(db.scalar("SELECT COUNT(*) FROM messages").await, 10);
    let mails = smtp.wait_for(1, Duration::from_secs(10));
    assert_eq!(mails.len(), 1);
    assert!(
        subject(&mails[0]).starts_with("retentiond: run STOPPED before writing"),
        "{}",
        subject(&mails[0])
    );
    assert!(mails[0].contains("max_fraction"), "{}", mails[0]);
    // Queued in the outbox (with no run id) and marked delivered.
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM retentiond_outbox WHERE delivered_at IS NOT NULL")
            .await,
        1
    );
    db.drop().await;
}

#[tokio::test]
async fn three_daemons_on_one_database_run_each_slot_once() {
    let db = PgDb::new().await;
    messages(&db, 30, 5).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(&db, "batch_size = 10\npause = \"100ms\"")
        + "\n[schedule]\ncron = \"*/2 * * * * *\"\n";
    let path = write(dir.path(), "r.toml", &cfg);
    // The sidecar scaled to three replicas.
    let mut replicas: Vec<_> = (0..3)
        .map(|_| {
            bin()
                .arg("--config")
                .arg(&path)
                .arg("daemon")
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("start daemon")
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(9)).await;
    let mut logs = String::new();
    for child in &mut replicas {
        terminate(child);
        wait_exit(child, Duration::from_secs(10)).expect("the daemon stops after SIGTERM");
    }
    for child in replicas {
        let out = child.wait_with_output().expect("daemon output");
        logs.push_str(&String::from_utf8_lossy(&out.stderr));
    }

    // Runs grouped by their two-second slot: one each, however many replicas woke for it.
    let slots = db
        .scalar(
            "SELECT COUNT(DISTINCT floor(extract(epoch FROM started_at) / 2)) FROM retentiond_runs",
        )
        .await;
    let runs = db.scalar("SELECT COUNT(*) FROM retentiond_runs").await;
    assert!(
        slots >= 3,
        "expected runs in three slots or more, got {slots}"
    );
    assert_eq!(runs, slots, "a slot was run twice:\n{logs}");
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM retentiond_runs WHERE status <> 'ok'")
            .await,
        0
    );
    assert_eq!(db.scalar("SELECT COUNT(*) FROM messages").await, 5);
    assert!(
        logs.matches("another instance").count() >= 2 * (slots as usize - 1),
        "the other replicas say why they skip:\n{logs}"
    );
    db.drop().await;
}

/// Mail refused (550 on RCPT) or impossible (TLS required, the server offers none): each run's
/// summary waits in the outbox, which keeps at most `outbox_max` (the oldest dropped, with a
/// warning); once mail is accepted again the queued summaries go out exactly once.
#[tokio::test]
async fn refused_mail_is_queued_within_the_cap_and_delivered_once() {
    let db = PgDb::new().await;
    messages(&db, 3, 1).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mail_dir = dir.path().join("mail");
    let smtp = SmtpSink::start(free_port(), &mail_dir);
    let reject = mail_dir.join("reject");
    std::fs::write(&reject, "").expect("make the server refuse");
    let plain = report(smtp.port) + "outbox_max = 2\n";
    let path = write(dir.path(), "r.toml", &(config(&db, "") + &plain));
    let tls = write(
        dir.path(),
        "tls.toml",
        &(config(&db, "")
            + &plain.replace(
                &format!("127.0.0.1:{}\"", smtp.port),
                &format!("127.0.0.1:{}?tls=required\"", smtp.port),
            )),
    );
    let once = |config: &std::path::Path| {
        let out = bin()
            .arg("--config")
            .arg(config)
            .args(["daemon", "--once"])
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "the run succeeds whatever the mail does:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    };
    let queued = || db.scalar("SELECT COUNT(*) FROM retentiond_outbox WHERE delivered_at IS NULL");

    let logs = once(&path);
    assert!(logs.contains("summary not delivered"), "{logs}");
    assert_eq!(queued().await, 1);
    let logs = once(&tls);
    assert!(logs.contains("summary not delivered"), "{logs}");
    assert_eq!(queued().await, 2);
    let logs = once(&path);
    assert!(
        logs.contains("the oldest undelivered summaries were dropped"),
        "{logs}"
    );
    assert_eq!(queued().await, 2, "the outbox stays within outbox_max");
    assert!(smtp.messages().is_empty(), "nothing was accepted yet");

    std::fs::remove_file(&reject).expect("accept mail again");
    once(&path);
    let mails = smtp.wait_for(3, Duration::from_secs(10));
    assert_eq!(mails.len(), 3, "the two queued summaries and the new one");
    assert_eq!(queued().await, 0);
    once(&path);
    assert_eq!(
        smtp.wait_for(5, Duration::from_secs(3)).len(),
        4,
        "each summary is delivered once"
    );
    db.drop().await;
}

/// The daemon's stderr after it has run for `secs` (SIGTERM then), with its exit code.
fn run_for(args: &[&str], config: &std::path::Path, secs: u64) -> (Option<i32>, String, bool) {
    let child = bin()
        .arg("--config")
        .arg(config)
        .args(args)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start daemon");
    let mut child = child;
    std::thread::sleep(Duration::from_secs(secs));
    let running = child.try_wait().expect("poll").is_none();
    terminate(&child);
    let status = wait_exit(&mut child, Duration::from_secs(10));
    let out = child.wait_with_output().expect("daemon output");
    (
        status.and_then(|s| s.code()),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        running,
    )
}

/// A MariaDB account of this test alone, with a password, dropped at the end.
struct MariaDbUser {
    admin: String,
    name: String,
}

impl MariaDbUser {
    async fn create(password: &str) -> MariaDbUser {
        let admin = std::env::var("RETENTIOND_TEST_MYSQL_URL")
            .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into());
        let name = format!("rd_pw_{}", std::process::id());
        let mut c = <sqlx::MySqlConnection as sqlx::Connection>::connect(&admin)
            .await
            .expect("MariaDB at RETENTIOND_TEST_MYSQL_URL");
        for sql in [
            format!("DROP USER IF EXISTS '{name}'@'%'"),
            format!("CREATE USER '{name}'@'%' IDENTIFIED BY '{password}'"),
        ] {
            sqlx::Executor::execute(&mut c, sqlx::AssertSqlSafe(sql))
                .await
                .expect("create the account");
        }
        MariaDbUser { admin, name }
    }

    async fn drop(self) {
        if let Ok(mut c) = <sqlx::MySqlConnection as sqlx::Connection>::connect(&self.admin).await {
            let _ = sqlx::Executor::execute(
                &mut c,
                sqlx::AssertSqlSafe(format!("DROP USER IF EXISTS '{}'@'%'", self.name)),
            )
            .await;
        }
    }
}

/// A wrong password, an unknown database or an unknown role is the config's to fix: the
/// daemon exits 2 at once with the server's reason instead of waiting for a database that
/// will never accept it, and a one-shot `run` says the same with the same exit code.
#[tokio::test]
async fn a_server_that_refuses_the_config_ends_the_daemon_with_exit_2() {
    let db = PgDb::new().await;
    messages(&db, 1, 0).await;
    let user = MariaDbUser::create("right-password").await;
    let base = db.url.rsplit_once('/').map_or("", |(b, _)| b).to_string();
    let cases = [
        (
            format!("{base}/rd_no_such_database_{}", std::process::id()),
            "does not exist",
        ),
        (
            db.url.replacen("postgres@", "rd_no_such_role@", 1),
            "role \"rd_no_such_role\" does not exist",
        ),
        (
            format!("mysql://{}:wrong-password@127.0.0.1:3306/test", user.name),
            "Access denied",
        ),
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    for (url, reason) in cases {
        let cfg =
            config(&db, "").replacen(&db.url, &url, 1) + "\n[schedule]\ncron = \"30 3 * * *\"\n";
        let path = write(dir.path(), "r.toml", &cfg);
        let started = Instant::now();
        let mut child = bin()
            .arg("--config")
            .arg(&path)
            .arg("daemon")
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start daemon");
        let status = wait_exit(&mut child, Duration::from_secs(30));
        let err =
            String::from_utf8_lossy(&child.wait_with_output().expect("output").stderr).into_owned();
        assert_eq!(
            status.and_then(|s| s.code()),
            Some(2),
            "{url}: the daemon exits 2 instead of waiting:\n{err}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{url}: took {:?}",
            started.elapsed()
        );
        assert!(
            err.contains(reason),
            "{url}: the reason ({reason}) is missing:\n{err}"
        );
        assert!(
            !err.contains("not available yet"),
            "{url}: it waited:\n{err}"
        );
        assert!(
            !err.contains("wrong-password"),
            "the password leaked:\n{err}"
        );

        let out = bin()
            .arg("--config")
            .arg(&path)
            .arg("run")
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{url}: `run` exits 2 as well");
    }
    user.drop().await;
    db.drop().await;
}

/// A server that refuses connections (not started yet, restarting) is waited for, with a
/// growing pause, saying so in the log; it is no config error. `daemon --once` stopped while
/// waiting did not run: exit 1, so a CronJob does not look green having done nothing.
#[tokio::test]
async fn a_refused_connection_is_waited_for_and_once_stopped_before_its_run_exits_1() {
    let db = PgDb::new().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let nobody = format!("postgres://postgres@127.0.0.1:{}/shop", free_port());
    let cfg =
        config(&db, "").replacen(&db.url, &nobody, 1) + "\n[schedule]\ncron = \"30 3 * * *\"\n";
    let path = write(dir.path(), "r.toml", &cfg);
    let (daemon, once) = std::thread::scope(|s| {
        let daemon = s.spawn(|| run_for(&["daemon"], &path, 25));
        let once = s.spawn(|| run_for(&["daemon", "--once"], &path, 25));
        (
            daemon.join().expect("daemon thread"),
            once.join().expect("--once thread"),
        )
    });
    for (what, (code, log, running), stopped) in [("daemon", daemon, 0), ("daemon --once", once, 1)]
    {
        assert!(running, "{what} gave up waiting:\n{log}");
        let waits = log
            .lines()
            .filter(|l| l.contains("database not available yet; retrying with backoff"))
            .count();
        assert!(waits >= 2, "{what} retried {waits} time(s):\n{log}");
        assert!(log.contains("\"retry_in_s\""), "{log}");
        assert!(log.to_lowercase().contains("refused"), "{log}");
        assert_eq!(code, Some(stopped), "{what} stopped while waiting:\n{log}");
    }
    db.drop().await;
}

/// A run that uses up `max_runtime` ended as planned: /healthz stays 200,
/// `retentiond_last_run_success` is 1 and the success timestamp is set; a policy the run
/// never reached shows the rows it still has to do.
#[tokio::test]
async fn a_max_runtime_stop_is_no_failure_for_healthz_or_metrics() {
    let db = PgDb::new().await;
    messages(&db, 2000, 1).await;
    db.exec("CREATE TABLE logins (id BIGSERIAL PRIMARY KEY, at TIMESTAMPTZ NOT NULL)")
        .await;
    db.exec(
        "INSERT INTO logins (at) SELECT now() - interval '400 days' FROM generate_series(1, 7)",
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(
        &db,
        "batch_size = 10\npause = \"300ms\"\nmax_runtime = \"1s\"",
    ) + "\n[[policies]]\nname = \"old-logins\"\ntable = \"logins\"\nsince = \"at\"\n\
           retain = \"6 months\"\naction = \"delete\"\nbasis = \"test\"\n";
    let (mut child, http) = serving_daemon(dir.path(), cfg);
    let metrics = metrics_once(http, "retentiond_runs_total{status=\"stopped\"}").await;
    let health = http_get(http, "/healthz");
    terminate(&child);
    assert!(wait_exit(&mut child, Duration::from_secs(10)).is_some_and(|s| s.success()));

    assert!(
        metrics.contains("\nretentiond_last_run_success 1\n"),
        "{metrics}"
    );
    let success_at: i64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("retentiond_last_success_timestamp_seconds "))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no success timestamp:\n{metrics}"));
    let now = chrono::Utc::now().timestamp();
    assert!(
        (now - 60..=now).contains(&success_at),
        "{success_at} vs now {now}"
    );
    assert!(
        metrics.contains("retentiond_backlog_rows{policy=\"old-logins\"} 7"),
        "the policy the run never reached still has its 7 rows to do:\n{metrics}"
    );
    let (code, body) = health.expect("/healthz answers");
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"last_run\":\"stopped\""), "{body}");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM logins").await, 7);
    db.drop().await;
}

/// A statement the server cancels at `run.statement_timeout` is reported as a statement
/// timeout naming the setting: in the log, the run's recorded reason and the summary.
#[tokio::test]
async fn a_statement_timeout_is_reported_as_such() {
    let db = PgDb::new().await;
    messages(&db, 20, 0).await;
    // The application's trigger makes every delete slow.
    db.exec(
        "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN PERFORM pg_sleep(0.3); RETURN OLD; END $$",
    )
    .await;
    db.exec("CREATE TRIGGER slow BEFORE DELETE ON messages FOR EACH ROW EXECUTE FUNCTION slow()")
        .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mail = dir.path().join("mail");
    let cfg = config(&db, "batch_size = 10\nstatement_timeout = \"1s\"")
        + &format!(
            "\n[report]\nto = [\"controller@shop.example\"]\nfrom = \"retentiond@shop.example\"\nsmtp_url = \"file://{}\"\n",
            mail.display()
        );
    let path = write(dir.path(), "r.toml", &cfg);
    let out = bin()
        .arg("--config")
        .arg(&path)
        .args(["daemon", "--once"])
        .output()
        .expect("run");
    let log = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{log}");
    let said = "statement timeout: the server cancelled the statement after statement_timeout (run.statement_timeout)";
    assert!(log.contains(said), "{log}");
    let summaries: Vec<String> = std::fs::read_dir(&mail)
        .expect("the mail directory")
        .filter_map(Result::ok)
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .collect();
    assert_eq!(summaries.len(), 1);
    // Quoted-printable may wrap the line: compare without soft line breaks.
    let summary = summaries[0].replace("=\r\n", "").replace("=\n", "");
    assert!(summary.contains("statement timeout"), "{summary}");
    assert!(summary.contains("run.statement_timeout"), "{summary}");
    let mut c = db.conn().await;
    let recorded: String = sqlx::query_scalar("SELECT stop_reason FROM retentiond_runs")
        .fetch_one(&mut c)
        .await
        .expect("the run's reason");
    assert!(recorded.contains(said), "{recorded}");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM messages").await, 20);
    db.drop().await;
}
