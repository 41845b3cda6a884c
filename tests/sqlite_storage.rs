//! SQLite on a file system that is full, then read-only: the run fails with a clear error,
//! the database stays intact (integrity check, row counts, audit), `plan` still reads, and
//! once space is back the next run does the work. The file system is a small tmpfs mounted for
//! the test, which needs root (set RETENTIOND_TEST_NO_MOUNT=1 to skip where that is impossible).

mod common;

use common::{NOW, at, expect_exit, run_cli, stderr};
use sqlx::{Connection, Executor, Row};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs of `size`, unmounted when dropped.
struct Mount(PathBuf);

impl Mount {
    fn new(dir: &Path, size: &str) -> Mount {
        std::fs::create_dir_all(dir).expect("mount point");
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "mounting a tmpfs at {} failed: this test needs root (RETENTIOND_TEST_NO_MOUNT=1 skips it)",
            dir.display()
        );
        Mount(dir.to_path_buf())
    }

    fn remount(&self, mode: &str) {
        let ok = Command::new("mount")
            .args(["-o", &format!("remount,{mode}")])
            .arg(&self.0)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "remount {mode}");
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

async fn sqlite(path: &Path) -> sqlx::SqliteConnection {
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true);
    sqlx::SqliteConnection::connect_with(&opts)
        .await
        .expect("open the SQLite file")
}

async fn scalar(path: &Path, sql: &str) -> String {
    let mut c = sqlite(path).await;
    let row = c
        .fetch_one(sqlx::AssertSqlSafe(sql.to_string()))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    row.try_get::<String, _>(0)
        .or_else(|_| row.try_get::<i64, _>(0).map(|n| n.to_string()))
        .expect("a value")
}

/// Writes until the file system is full.
fn fill(dir: &Path) -> PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).expect("filler");
    let chunk = vec![0u8; 4096];
    while f.write_all(&chunk).is_ok() {}
    let _ = f.sync_all();
    path
}

#[tokio::test]
async fn a_full_then_read_only_file_system_fails_clearly_and_corrupts_nothing() {
    if std::env::var_os("RETENTIOND_TEST_NO_MOUNT").is_some() {
        eprintln!("skipped: RETENTIOND_TEST_NO_MOUNT is set");
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let mount = Mount::new(&tmp.path().join("fs"), "8M");
    let db = mount.0.join("shop.db");
    {
        let mut c = sqlite(&db).await;
        c.execute(
            "CREATE TABLE messages (id INTEGER PRIMARY KEY, sent_at TIMESTAMP NOT NULL, body TEXT NOT NULL);
             WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 20000)
             INSERT INTO messages SELECT n, CASE WHEN n <= 15000 THEN '2020-01-01 10:00:00' ELSE '2027-02-20 10:00:00' END, printf('%.100c', 'x') FROM s",
        )
        .await
        .expect("create the shop");
    }
    let cfg = tmp.path().join("r.toml");
    std::fs::write(
        &cfg,
        format!(
            "[database]\nurl = \"sqlite://{}\"\n[run]\nmax_fraction = 1.0\n\n\
             [[policies]]\nname = \"old-mail\"\ntable = \"messages\"\nsince = \"sent_at\"\n\
             retain = \"6 months\"\naction = \"delete\"\nbasis = \"test\"\n",
            db.display()
        ),
    )
    .expect("config");
    expect_exit(&run_cli(&cfg, &["install"], &[]), 0);

    // Full: the run fails and says why; nothing is half written.
    let filler = fill(&mount.0);
    let out = run_cli(&cfg, &["run"], &at(NOW));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "a failed run exits 1:\n{err}");
    assert!(
        err.contains("full"),
        "the error says the disk is full:\n{err}"
    );
    std::fs::remove_file(&filler).expect("free the space");
    assert_eq!(scalar(&db, "PRAGMA integrity_check").await, "ok");
    let left = scalar(&db, "SELECT COUNT(*) FROM messages").await;
    let audited = scalar(
        &db,
        "SELECT COALESCE(SUM(rows_affected), 0) FROM retentiond_audit",
    )
    .await;
    assert_eq!(
        20000 - left.parse::<i64>().expect("a count"),
        audited.parse::<i64>().expect("a sum"),
        "what was deleted is what the audit trail says"
    );

    // Read-only: plans still read; a run refuses with a clear message and changes nothing.
    mount.remount("ro");
    expect_exit(&run_cli(&cfg, &["plan"], &at(NOW)), 0);
    let out = run_cli(&cfg, &["run"], &at(NOW));
    let err = stderr(&out);
    assert_ne!(out.status.code(), Some(0), "a run cannot succeed:\n{err}");
    assert!(
        err.to_lowercase().contains("read-only") || err.contains("readonly"),
        "the error says the file system is read-only:\n{err}"
    );
    mount.remount("rw");
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM messages").await, left);
    assert_eq!(scalar(&db, "PRAGMA integrity_check").await, "ok");

    // Space and write access back: the next run does the work.
    expect_exit(&run_cli(&cfg, &["run"], &at(NOW)), 0);
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM messages").await, "5000");
    expect_exit(&run_cli(&cfg, &["audit", "verify"], &at(NOW)), 0);
}
