//! Schemas laid out the way common stacks lay them out (Supabase, WordPress, Django, Prisma,
//! Rails, Laravel, pg_partman, plain Python `sqlite3`), not the minimal tables of the other
//! tests: what a run keeps and what it removes there, row by row, on every backend each case
//! concerns. One module per area; each test gets its own fresh database.

mod common;

#[path = "real_schemas/blocked.rs"]
mod blocked;
#[path = "real_schemas/catalog.rs"]
mod catalog;
#[path = "real_schemas/clocks.rs"]
mod clocks;
#[path = "real_schemas/keys.rs"]
mod keys;
#[path = "real_schemas/run_safety.rs"]
mod run_safety;
#[path = "real_schemas/uniques.rs"]
mod uniques;

use common::{NOW, TestDb, at, expect_exit, run_cli, stderr};
use hmac::{Hmac, Mac};

/// HMAC-SHA256 of `value` under `key`, as lowercase hex: what `hash` must write, computed
/// here independently of retentiond's own code.
fn hmac_hex(key: &str, value: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(value.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// One anonymize policy `strip` on `table`, one year after `since`.
fn anonymize(table: &str, since: &str, columns: &str) -> String {
    format!(
        r#"
[[policies]]
name = "strip"
table = "{table}"
since = "{since}"
retain = "1 year"
action = "anonymize"
columns = {{ {columns} }}
basis = "GDPR art. 5(1)(e)"
"#
    )
}

/// Accepted by `check`, and a run that succeeds.
fn runs(db: &TestDb, policies: &str) {
    let cfg = db.write_config(policies, "");
    expect_exit(&run_cli(&cfg, &["check"], &[]), 0);
    expect_exit(&run_cli(&cfg, &["run"], &at(NOW)), 0);
}

/// Refused by `check`, `plan` and `run`, naming every `expected` text; nothing changes.
async fn refused(db: &TestDb, policies: &str, expected: &[&str]) {
    let cfg = db.write_config(policies, "");
    let before = db.checksum_all().await;
    for args in [&["check"][..], &["plan"], &["run"]] {
        let out = run_cli(&cfg, args, &at(NOW));
        let err = stderr(&out);
        expect_exit(&out, 2);
        for e in expected {
            assert!(err.contains(e), "{args:?} does not say {e:?}:\n{err}");
        }
    }
    assert_eq!(
        db.checksum_all().await,
        before,
        "a refused run changed data"
    );
}
