//! Archive runs killed with SIGKILL at random moments and at the named points around the two
//! commits (after the selection, after the archive's commit, before and after the live
//! commit), for every pair of live and archive dialects. Whenever no run is active, every
//! expired row is live or in the archive (never in neither), no row is both live and archived,
//! no unexpired row is in the archive, and the next run finishes the work: then every expired
//! row is archived exactly once with its values, and both audit trails count what moved.

mod common;

use common::*;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::Duration;

const EXPIRED: i64 = 1_500;
const KEPT: i64 = 100;

const PAYMENTS: &str = r#"
[[policies]]
name = "payments"
table = "payments"
since = "paid_at"
retain = "7 years"
round = "end_of_year"
action = "archive"
basis = "AWR 52(4)"
"#;

/// Payments 1..=1500 from 2018 (expired at `NOW`), 1501..=1600 from 2024.
async fn payments(db: &TestDb) {
    let (create, fill) = match db.backend {
        Backend::Postgres => (
            "CREATE TABLE payments (id BIGINT PRIMARY KEY, amount NUMERIC(12,2) NOT NULL, method TEXT, paid_at TIMESTAMPTZ NOT NULL)",
            "INSERT INTO payments SELECT g, g * 1.01, 'iDEAL ' || g, CASE WHEN g <= 1500 THEN timestamptz '2018-03-01 10:00:00+00' + g * interval '1 minute' ELSE timestamptz '2024-03-01 10:00:00+00' END FROM generate_series(1, 1600) AS g",
        ),
        Backend::MariaDb => (
            "CREATE TABLE payments (id BIGINT UNSIGNED NOT NULL PRIMARY KEY, amount DECIMAL(12,2) NOT NULL, method VARCHAR(64), paid_at DATETIME(6) NOT NULL) ENGINE=InnoDB",
            "SET STATEMENT max_recursive_iterations = 10000 FOR INSERT INTO payments WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 1600) SELECT n, n * 1.01, CONCAT('iDEAL ', n), CASE WHEN n <= 1500 THEN TIMESTAMP('2018-03-01 10:00:00') + INTERVAL n MINUTE ELSE TIMESTAMP('2024-03-01 10:00:00') END FROM g",
        ),
        Backend::Sqlite => (
            "CREATE TABLE payments (id INTEGER PRIMARY KEY, amount DECIMAL(12,2) NOT NULL, method TEXT, paid_at DATETIME NOT NULL)",
            "INSERT INTO payments WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 1600) SELECT n, printf('%.2f', n * 1.01), 'iDEAL ' || n, CASE WHEN n <= 1500 THEN datetime('2018-03-01 10:00:00', '+' || n || ' minutes') ELSE '2024-03-01 10:00:00' END FROM g",
        ),
    };
    db.exec(&format!("{create};\n{fill};\n")).await;
}

fn id_set(rows: Vec<Vec<Option<String>>>) -> BTreeSet<i64> {
    rows.into_iter()
        .map(|r| {
            r[0].as_deref()
                .and_then(|s| s.parse().ok())
                .expect("an integer id")
        })
        .collect()
}

async fn archive_ids(archive: &TestDb, state: Option<&str>) -> BTreeSet<i64> {
    if !archive.has_table("payments").await {
        return BTreeSet::new();
    }
    let filter = state.map_or(String::new(), |s| {
        format!(" WHERE retentiond_state = '{s}'")
    });
    id_set(
        archive
            .text_rows(&format!(
                "SELECT {} FROM payments{filter}",
                archive.cast_text("id")
            ))
            .await,
    )
}

/// What must hold whenever no run is active. Returns how many rows are archived.
async fn consistent(live: &TestDb, archive: &TestDb, when: &str) -> usize {
    let live_ids: BTreeSet<i64> = live.ids("payments").await.into_iter().collect();
    let archived = archive_ids(archive, Some("archived")).await;
    let anywhere = archive_ids(archive, None).await;
    for id in 1..=EXPIRED {
        assert!(
            live_ids.contains(&id) || anywhere.contains(&id),
            "{when}: payment {id} is neither live nor in the archive"
        );
    }
    assert!(
        live_ids.is_disjoint(&archived),
        "{when}: payments both live and archived: {:?}",
        live_ids.intersection(&archived).take(5).collect::<Vec<_>>()
    );
    assert!(
        anywhere.iter().all(|id| *id <= EXPIRED),
        "{when}: a payment that had not expired reached the archive"
    );
    assert_eq!(
        live_ids.iter().filter(|id| **id > EXPIRED).count() as i64,
        KEPT,
        "{when}: a payment that had not expired was deleted"
    );
    archived.len()
}

fn spawn(
    cfg: &std::path::Path,
    env: &[(&str, &str)],
) -> (Child, std::sync::mpsc::Receiver<String>) {
    let mut child = cli_command(cfg, &["run"], env)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start retentiond");
    let err = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

/// Reads the run's stderr until a line contains `what`.
fn wait_for(rx: &std::sync::mpsc::Receiver<String>, what: &str, when: &str) {
    let mut said = Vec::new();
    while !said.last().is_some_and(|l: &String| l.contains(what)) {
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(line) => said.push(line),
            Err(_) => panic!(
                "{when}: the run never said \"{what}\":\n{}",
                said.join("\n")
            ),
        }
    }
}

async fn killed_archive_runs_lose_and_duplicate_nothing(live: Backend, to: Backend) {
    let db = TestDb::new(live).await;
    payments(&db).await;
    let archive = TestDb::new(to).await;
    let cfg = db.with_archive(
        &db.write_config(PAYMENTS, "pause = \"15ms\"\nbatch_size = 10"),
        &archive,
    );
    let now = at(NOW);

    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64 | 1);
    let mut moments = Moments(seed);
    let mut plan: Vec<Option<&str>> = Vec::new();
    for point in [
        "after-select",
        "after-archive-commit",
        "before-commit",
        "after-live-commit",
    ] {
        plan.extend([Some(point), Some(point)]);
    }
    plan.extend((0..14).map(|_| None));
    let mut mid_purge = 0;
    for (k, point) in plan.into_iter().enumerate() {
        let when = format!(
            "kill {} ({}, seed {seed})",
            k + 1,
            point.unwrap_or("random")
        );
        match point {
            Some(point) => {
                let env = [now[0], ("RETENTIOND_TEST_STALL", point)];
                let (child, rx) = spawn(&cfg, &env);
                wait_for(&rx, &format!("stalled at {point}"), &when);
                kill(child);
            }
            None => {
                let (child, rx) = spawn(&cfg, &now);
                wait_for(&rx, "run started", &when);
                std::thread::sleep(Duration::from_millis(moments.next_ms(1, 500)));
                kill(child);
            }
        }
        let archived = consistent(&db, &archive, &when).await;
        if archived > 0 && archived < EXPIRED as usize {
            mid_purge += 1;
        }
        eprintln!("{when}: {archived} payments archived");
    }
    assert!(
        mid_purge >= 8,
        "most kills should land mid-purge (only {mid_purge} did)"
    );

    run_after_kills(&cfg, &now);
    assert_eq!(
        consistent(&db, &archive, "after the final run").await,
        EXPIRED as usize
    );
    assert!(archive_ids(&archive, Some("copied")).await.is_empty());
    let total: Vec<Vec<Option<String>>> = archive
        .text_rows(&format!(
            "SELECT {} FROM payments WHERE id = 1234",
            archive.cast_text("method")
        ))
        .await;
    assert_eq!(total, vec![vec![Some("iDEAL 1234".to_string())]]);
    let live_audit = db
        .scalar_i64("SELECT COALESCE(SUM(rows_affected), 0) FROM retentiond_audit WHERE policy = 'payments'")
        .await;
    let archive_audit = archive
        .scalar_i64("SELECT COALESCE(SUM(rows_affected), 0) FROM retentiond_audit WHERE policy = 'payments'")
        .await;
    assert_eq!(
        live_audit, EXPIRED,
        "the live audit trail counts what was deleted"
    );
    assert_eq!(
        archive_audit, EXPIRED,
        "the archive's audit trail counts what arrived"
    );
    expect_exit(&run_cli(&cfg, &["audit", "verify"], &now), 0);
}

on_every_pair!(killed_archive_runs_lose_and_duplicate_nothing);
