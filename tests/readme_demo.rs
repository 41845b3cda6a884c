//! The README's next steps after the demo work on the demo as printed: each command line of
//! the block after "After the demo, try" runs against a fresh demo and exits 0. The lines
//! are read from the README, so this fails when the README and the demo drift apart.

use std::path::Path;
use std::process::Command;

/// The `cargo run -- ...` lines of the README's block after the demo, without comments.
fn next_steps(readme: &str) -> Vec<String> {
    let after = readme
        .split_once("After the demo, try")
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    let block = after
        .split_once("```sh\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .map(|(block, _)| block)
        .unwrap_or_default();
    block
        .lines()
        .map(|l| l.split_once("  #").map_or(l, |(cmd, _)| cmd).trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn shell(dir: &Path, line: &str) -> std::process::Output {
    let bin = env!("CARGO_BIN_EXE_retentiond");
    let line = line
        .strip_prefix("cargo run -- ")
        .unwrap_or_else(|| panic!("not a `cargo run --` line: {line}"));
    let mut c = Command::new("sh");
    c.arg("-c").arg(format!("'{bin}' {line}")).current_dir(dir);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("RETENTIOND_") {
            c.env_remove(&k);
        }
    }
    c.env_remove("RUST_LOG").output().expect("start sh")
}

#[test]
fn the_readme_next_steps_run_on_the_demo() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("read README.md");
    let steps = next_steps(&readme);
    assert!(
        steps.len() >= 5 && steps.iter().any(|s| s.contains("--subject 42")),
        "the README's block after the demo was not found: {steps:?}"
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    // The README runs `cargo run -- demo`; fewer customers keep the test quick (42 is one).
    let demo = shell(dir.path(), "cargo run -- demo --customers 400");
    assert_eq!(
        demo.status.code(),
        Some(0),
        "the demo failed: {}",
        String::from_utf8_lossy(&demo.stderr)
    );
    for step in &steps {
        let out = shell(dir.path(), step);
        assert_eq!(
            out.status.code(),
            Some(0),
            "README step `{step}` failed\n--- stdout:\n{}\n--- stderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn comments_and_blank_lines_are_not_steps() {
    let readme = "x\nAfter the demo, try:\n\n```sh\ncargo run -- plan   # counts\n\ncargo run -- runs\n```\n";
    assert_eq!(
        next_steps(readme),
        vec!["cargo run -- plan", "cargo run -- runs"]
    );
}
