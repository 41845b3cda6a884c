//! retentiond as an operator sees it on a terminal: the live progress display (under a real
//! pseudo-terminal, made by util-linux `script`), and none of it in a pipe, in JSON logs or
//! under journald; `NO_COLOR`; Ctrl-C (one finishes the batch, a second stops at once and the
//! batch rolls back, exit 130); SIGTERM a clean stop as before; and the summary of a daemon
//! interrupted while its output goes to a pipe that is already closed.

mod common;
mod support;

use common::{Backend, NOW, TestDb, at, cli_command, expect_exit, run_cli, stderr};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const EXPIRED: i64 = 150_000;
const FRESH: i64 = 1_000;

/// Two policies on one table of 151 000 messages, 150 000 of them from 2020: the first
/// deletes those in batches of 5 000; the second keeps a century and so finds nothing, but
/// still counts the whole table.
const POLICIES: &str = r#"
[[policies]]
name = "old-messages"
table = "messages"
since = "sent_at"
retain = "6 months"
action = "delete"
basis = "test"
batch_size = 5000

[[policies]]
name = "century"
table = "messages"
since = "sent_at"
retain = "100 years"
action = "delete"
basis = "test"
"#;

/// A new database of `backend` with a messages table, `expired` rows from 2020 and `fresh`
/// rows from last week, and a config of `policies` for it.
async fn messages(backend: Backend, expired: i64, fresh: i64, policies: &str) -> (TestDb, PathBuf) {
    let db = TestDb::new(backend).await;
    db.exec(&format!(
        "CREATE TABLE messages (id BIGINT PRIMARY KEY, sent_at {} NOT NULL)",
        db.ts_type()
    ))
    .await;
    let when = |v: &str| match db.backend {
        Backend::Sqlite => v.to_string(),
        _ => format!("CAST({v} AS {})", db.ts_type()),
    };
    db.exec(&format!(
        "INSERT INTO messages (id, sent_at) WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {}) \
         SELECT n, {} FROM s",
        expired + fresh,
        when(&format!(
            "CASE WHEN n <= {expired} THEN '2020-01-01 10:00:00' ELSE '2027-02-20 10:00:00' END"
        ))
    ))
    .await;
    let cfg = db.write_config(policies, "");
    (db, cfg)
}

/// The command line of `cli_command`, run by `script` under a pseudo-terminal of 132
/// columns: what the terminal received (stdout and stderr together) and the exit code.
fn on_terminal(config: &Path, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let inner = cli_command(config, args, env);
    let quote = |s: &std::ffi::OsStr| format!("'{}'", s.to_string_lossy().replace('\'', "'\\''"));
    let mut line = quote(inner.get_program());
    for a in inner.get_args() {
        line.push(' ');
        line.push_str(&quote(a));
    }
    let mut outer = Command::new("script");
    outer
        .args([
            "-qfec",
            &format!("stty cols 132 rows 40; exec {line}"),
            "/dev/null",
        ])
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR")
        .env_remove("JOURNAL_STREAM");
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => outer.env(k, v),
            None => outer.env_remove(k),
        };
    }
    let out = outer
        .stdin(Stdio::null())
        .output()
        .expect("util-linux `script` runs the binary under a pseudo-terminal");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The numbers shown as "<n> of 150 000 rows".
fn rows_done(screen: &str) -> Vec<String> {
    let mark = format!(" of {} rows", grouped(EXPIRED));
    screen
        .match_indices(&mark)
        .map(|(i, _)| {
            let before = &screen[..i];
            let start = before
                .rfind(|c: char| !(c.is_ascii_digit() || c == ' '))
                .map_or(0, |j| j + 1);
            before[start..].trim().to_string()
        })
        .collect()
}

/// 150000 → "150 000", as the tables print counts.
fn grouped(n: i64) -> String {
    retentiond::cli::output::count(n as u64)
}

/// The screen's text without its control sequences (colours, cursor movement).
fn plain(screen: &str) -> String {
    let mut out = String::new();
    let mut chars = screen.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// An ANSI colour or style sequence (SGR: ESC [ ... m); cursor movement is not colour.
fn has_colour(screen: &str) -> bool {
    screen.split('\x1b').skip(1).any(|seq| {
        seq.strip_prefix('[').is_some_and(|rest| {
            rest.find(|c: char| !(c.is_ascii_digit() || c == ';'))
                .is_some_and(|end| rest[end..].starts_with('m'))
        })
    })
}

#[tokio::test]
async fn a_run_on_a_terminal_shows_live_progress() {
    let (db, cfg) = messages(Backend::Sqlite, EXPIRED, FRESH, POLICIES).await;
    let (code, raw) = on_terminal(&cfg, &["run"], &at(NOW));
    let screen = plain(&raw);
    assert_eq!(code, Some(0), "{screen}");
    assert!(
        screen.contains("policy 1 of 2 (old-messages): counting rows"),
        "the counting phase shows: {screen}"
    );
    assert!(
        screen.contains("policy 2 of 2 (century): counting rows"),
        "{screen}"
    );
    assert!(
        screen.contains(&format!("counted {} rows to process", grouped(EXPIRED))),
        "{screen}"
    );
    assert!(
        screen.contains("policy 1 of 2 (old-messages) ["),
        "the batches show a bar: {screen}"
    );
    let done = rows_done(&screen);
    assert!(
        done.iter()
            .any(|n| n.contains(' ') && n.replace(' ', "").parse::<i64>().is_ok_and(|n| n >= 5_000)),
        "rows done are shown with thousands separators, as in the tables: {done:?}\n{screen}"
    );
    assert!(screen.contains(" rows/s"), "the rate shows: {screen}");
    assert!(has_colour(&raw), "colour on a terminal without NO_COLOR");
    // The display is gone before the table is printed: the table's lines are whole.
    let table = screen
        .lines()
        .find(|l| l.trim_start().starts_with("old-messages  delete"))
        .unwrap_or_else(|| panic!("the run table: {screen}"));
    assert!(table.contains("150 000"), "{table}");
    assert_eq!(db.count("messages").await, FRESH);
}

#[tokio::test]
async fn the_time_column_includes_counting() {
    let (_db, cfg) = messages(Backend::Sqlite, EXPIRED, FRESH, POLICIES).await;
    let out = run_cli(&cfg, &["run", "--json", "--policy", "century"], &at(NOW));
    let report = common::json_ok(&out);
    // Nothing to walk: its time is the counting of 151 000 rows.
    assert_eq!(common::field(&report, "century", "affected"), 0);
    assert!(
        common::field(&report, "century", "duration_ms") >= 1,
        "{report:#}"
    );
}

#[tokio::test]
async fn in_a_pipe_in_json_logs_and_under_journald_no_progress_is_drawn() {
    let (db, cfg) = messages(Backend::Sqlite, 30_000, FRESH, POLICIES).await;
    let piped = run_cli(&cfg, &["run"], &at(NOW));
    expect_exit(&piped, 0);
    let log = stderr(&piped);
    for drawn in ["counting rows", "rows/s", "\r", "\x1b"] {
        assert!(!log.contains(drawn), "{drawn:?} in a pipe:\n{log}");
    }
    assert!(
        log.contains("INFO run started") && log.contains("INFO policy done"),
        "the log lines are as they are: {log}"
    );

    let json = db.write_config(POLICIES, "");
    let (code, screen) = on_terminal(&json, &["--log-format", "json", "run"], &at(NOW));
    assert_eq!(code, Some(0), "{screen}");
    assert!(!screen.contains("counting rows"), "{screen}");
    assert!(screen.contains(r#""message":"run started""#), "{screen}");

    let (code, screen) = on_terminal(
        &json,
        &["run"],
        &[at(NOW)[0], ("JOURNAL_STREAM", "8:12345")],
    );
    assert_eq!(code, Some(0), "{screen}");
    assert!(!screen.contains("counting rows"), "{screen}");
    assert!(
        !has_colour(&screen),
        "journald shows escape codes literally"
    );
}

#[tokio::test]
async fn no_color_turns_colour_off_in_logs_and_progress() {
    let (_db, cfg) = messages(Backend::Sqlite, 60_000, FRESH, POLICIES).await;
    let (code, raw) = on_terminal(&cfg, &["run"], &[at(NOW)[0], ("NO_COLOR", "1")]);
    let screen = plain(&raw);
    assert_eq!(code, Some(0), "{screen}");
    assert!(
        screen.contains("counting rows") && screen.contains("INFO run started"),
        "progress and logs are shown: {screen}"
    );
    assert!(!has_colour(&raw), "no colour under NO_COLOR: {raw:?}");
}

/// A run started with stderr read line by line (sent to the returned channel), stopped at
/// the debug hook `point` of its first batch until `resume` exists.
fn start_at(
    db: &TestDb,
    config: &Path,
    args: &[&str],
    point: &str,
) -> (Child, mpsc::Receiver<String>) {
    let resume = db.dir.path().join(format!("resume-{point}"));
    let resume = resume.display().to_string();
    let env = [
        at(NOW)[0],
        ("RETENTIOND_TEST_STALL", point),
        ("RETENTIOND_TEST_RESUME", resume.as_str()),
    ];
    let mut child = cli_command(config, args, &env)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start retentiond");
    let err = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    wait_line(&rx, &format!("stalled at {point}"));
    (child, rx)
}

#[track_caller]
fn wait_line(rx: &mpsc::Receiver<String>, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) if line.contains(text) => return,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    panic!("retentiond never said {text:?}");
}

fn signal(child: &Child, name: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill -{name}");
}

#[track_caller]
fn exit_within(child: &mut Child, limit: Duration) -> Option<i32> {
    support::wait_exit(child, limit)
        .unwrap_or_else(|| panic!("retentiond did not exit within {limit:?}"))
        .code()
}

const TEN_A_BATCH: &str = r#"
[[policies]]
name = "old-messages"
table = "messages"
since = "sent_at"
retain = "6 months"
action = "delete"
basis = "test"
batch_size = 10
"#;

async fn audited(db: &TestDb) -> i64 {
    db.scalar_i64("SELECT COALESCE(SUM(rows_affected), 0) FROM retentiond_audit")
        .await
}

/// Ctrl-C twice while a batch's transaction is open (its rows deleted, its audit entry
/// written, not committed): the process ends at once with 130, and the batch is rolled back
/// with it (by the server when the connection goes, by SQLite's journal at the next open).
/// The next run finishes the work and the audit trail is intact.
async fn a_second_sigint_stops_at_once_and_the_batch_rolls_back(b: Backend) {
    let (db, cfg) = messages(b, 100, 5, TEN_A_BATCH).await;
    let (mut child, rx) = start_at(&db, &cfg, &["run"], "before-commit");
    signal(&child, "INT");
    wait_line(&rx, "SIGINT: finishing the current batch");
    signal(&child, "INT");
    assert_eq!(exit_within(&mut child, Duration::from_secs(5)), Some(130));
    assert_eq!(
        db.count("messages").await,
        105,
        "the open batch is rolled back"
    );
    assert_eq!(audited(&db).await, 0, "no audit entry without its batch");

    expect_exit(&run_cli(&cfg, &["run"], &at(NOW)), 0);
    assert_eq!(db.count("messages").await, 5);
    assert_eq!(audited(&db).await, 100);
    expect_exit(&run_cli(&cfg, &["audit", "verify"], &[]), 0);
    assert_eq!(
        db.scalar_i64("SELECT COUNT(*) FROM retentiond_runs WHERE status = 'abandoned'")
            .await,
        1,
        "the stopped run is marked abandoned by the next"
    );
}

on_every_backend!(a_second_sigint_stops_at_once_and_the_batch_rolls_back);

/// One Ctrl-C: the batch under way is committed with its audit entry, the run stops and is
/// recorded as interrupted, and `run` exits 130.
#[tokio::test]
async fn one_sigint_finishes_the_batch_and_exits_130() {
    let (db, cfg) = messages(Backend::Sqlite, 100, 5, TEN_A_BATCH).await;
    let (mut child, rx) = start_at(&db, &cfg, &["run"], "before-commit");
    signal(&child, "INT");
    wait_line(&rx, "SIGINT: finishing the current batch");
    std::fs::write(db.dir.path().join("resume-before-commit"), "").expect("resume");
    assert_eq!(exit_within(&mut child, Duration::from_secs(30)), Some(130));
    assert_eq!(audited(&db).await, 10, "one whole batch");
    assert_eq!(db.count("messages").await, 95);
    assert_eq!(
        db.scalar_i64("SELECT COUNT(*) FROM retentiond_runs WHERE status = 'interrupted'")
            .await,
        1
    );
}

/// SIGTERM (systemd's stop) stays a clean stop with exit 0, even when it comes twice.
#[tokio::test]
async fn sigterm_finishes_the_batch_and_exits_0() {
    let (db, cfg) = messages(Backend::Sqlite, 100, 5, TEN_A_BATCH).await;
    let (mut child, rx) = start_at(&db, &cfg, &["run"], "before-commit");
    signal(&child, "TERM");
    wait_line(&rx, "SIGTERM: finishing the current batch");
    signal(&child, "TERM");
    wait_line(&rx, "SIGTERM: already stopping");
    std::fs::write(db.dir.path().join("resume-before-commit"), "").expect("resume");
    assert_eq!(exit_within(&mut child, Duration::from_secs(30)), Some(0));
    assert_eq!(audited(&db).await, 10);
    assert_eq!(db.count("messages").await, 95);
}

/// `retentiond daemon 2>&1 | tee log`, then Ctrl-C: the pipe's reader is gone before the
/// daemon has stopped, so every later log line meets a closed pipe. The daemon still records
/// the run, queues its summary and delivers it.
#[tokio::test]
async fn an_interrupted_daemon_with_a_closed_output_still_mails_its_summary() {
    let db = support::PgDb::new().await;
    db.exec("CREATE TABLE messages (id BIGSERIAL PRIMARY KEY, sent_at TIMESTAMPTZ NOT NULL)")
        .await;
    db.exec("INSERT INTO messages (sent_at) SELECT now() - interval '400 days' FROM generate_series(1, 100000)")
        .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let smtp = support::SmtpSink::start(support::free_port(), &dir.path().join("mail"));
    let cfg = format!(
        "[database]\nurl = \"{}\"\n[run]\nmax_fraction = 1.0\nbatch_size = 1000\npause = \"100ms\"\n\
         [report]\nto = [\"controller@shop.example\"]\nfrom = \"retentiond@shop.example\"\n\
         smtp_url = \"smtp://127.0.0.1:{}\"\n{}",
        db.url,
        smtp.port,
        TEN_A_BATCH.replace("batch_size = 10\n", "")
    );
    let path = support::write(dir.path(), "r.toml", &cfg);
    let mut child = Command::new(env!("CARGO_BIN_EXE_retentiond"))
        .env_remove("RUST_LOG")
        .env_remove("RETENTIOND_LOG_FORMAT")
        .arg("--config")
        .arg(&path)
        .args(["daemon", "--once"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the daemon");
    // The reader of both streams is gone, as `tee` is after Ctrl-C.
    drop(child.stdout.take());
    drop(child.stderr.take());
    let deadline = Instant::now() + Duration::from_secs(60);
    while db
        .try_scalar("SELECT COALESCE(SUM(rows_affected), 0)::bigint FROM retentiond_audit")
        .await
        .unwrap_or(0)
        < 3000
    {
        assert!(
            Instant::now() < deadline && child.try_wait().ok().flatten().is_none(),
            "the daemon runs with its output closed: {:?}",
            child.try_wait()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    signal(&child, "INT");
    let code = exit_within(&mut child, Duration::from_secs(20));
    let mails = smtp.wait_for(1, Duration::from_secs(20));
    assert_eq!(mails.len(), 1, "the summary is delivered (exit {code:?})");
    assert!(
        support::subject(&mails[0])
            .starts_with("Your attention is needed: the retention run stopped"),
        "{}",
        support::subject(&mails[0])
    );
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM retentiond_runs WHERE status = 'interrupted'")
            .await,
        1
    );
    assert_eq!(
        code,
        Some(0),
        "the daemon's exit code after a stop is unchanged"
    );
    db.drop().await;
}
