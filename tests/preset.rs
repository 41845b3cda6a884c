//! The Dutch/EU preset fits the subscription-site schema that `retentiond demo` builds, prints
//! the not-legal-advice notice, lists its low-confidence rules, and refuses a real run until
//! someone has signed the review; plan and dry run work before that.

mod common;

use common::{expect_exit, json_ok, run_cli, stderr};
use std::path::{Path, PathBuf};

fn preset() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/presets/nl-subscriptions.toml")
}

#[test]
fn preset_needs_a_review_before_it_writes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let demo = dir.path().join("demo");
    let demo_arg = demo.to_string_lossy().to_string();
    expect_exit(
        &run_cli(
            &preset(),
            &["demo", "--dir", &demo_arg, "--customers", "200"],
            &[],
        ),
        0,
    );
    let url = format!("sqlite://{}", demo.join("shop.db").display());
    let env = [("RETENTIOND_DATABASE__URL", url.as_str())];

    let check = run_cli(&preset(), &["check"], &env);
    let out = expect_exit(&check, 0);
    assert!(
        stderr(&check).contains("Not legal advice."),
        "{}",
        stderr(&check)
    );
    assert!(
        out.contains("Review required: these rules have a low-confidence period")
            && out.contains("support-mail")
            && out.contains("soft-opt-in"),
        "{out}"
    );
    assert!(out.contains("Not yet reviewed"), "{out}");

    expect_exit(&run_cli(&preset(), &["plan"], &env), 0);
    let dry = json_ok(&run_cli(
        &preset(),
        &["run", "--dry-run", "--force", "--json"],
        &env,
    ));
    assert_eq!(dry["dry_run"], true, "{dry:#}");

    let refused = run_cli(&preset(), &["run", "--force"], &env);
    expect_exit(&refused, 2);
    assert!(
        stderr(&refused).contains("asks for a review before it may change data"),
        "{}",
        stderr(&refused)
    );

    let signed = [
        env[0],
        ("RETENTIOND_REVIEW__REVIEWED_BY", "Ann de Vries"),
        ("RETENTIOND_REVIEW__REVIEWED_AT", "2026-12-01"),
    ];
    let run = json_ok(&run_cli(&preset(), &["run", "--force", "--json"], &signed));
    assert_eq!(run["status"], "ok", "{run:#}");
    let check = expect_exit(&run_cli(&preset(), &["check"], &signed), 0);
    assert!(!check.contains("Not yet reviewed"), "{check}");
}
