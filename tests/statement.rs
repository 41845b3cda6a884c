//! `retentiond report` renders the retention statements of `config/example.toml` and of the
//! Dutch/EU preset exactly as the reviewed golden files in `tests/golden/` say, in English and
//! Dutch, Markdown and HTML.
//! After a deliberate change of wording, `RETENTIOND_BLESS=1 cargo test --test statement`
//! rewrites them; review the diff before committing.

mod common;

use common::{expect_exit, run_cli};
use std::path::Path;

fn check(args: &[&str], golden: &str) {
    check_config("config/example.toml", args, golden);
}

fn check_config(config: &str, args: &[&str], golden: &str) {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join(config);
    let mut all = vec!["report"];
    all.extend_from_slice(args);
    let out = expect_exit(&run_cli(&config, &all, &[]), 0);
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(golden);
    if std::env::var_os("RETENTIOND_BLESS").is_some() {
        std::fs::write(&path, &out).expect("write the golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run with RETENTIOND_BLESS=1 once", path.display()));
    assert!(
        out == expected,
        "report {args:?} differs from {}:\n--- got:\n{out}\n--- expected:\n{expected}",
        path.display()
    );
}

#[test]
fn english_markdown_matches_the_reviewed_statement() {
    check(&[], "statement-example.en.md");
}

#[test]
fn dutch_markdown_matches_the_reviewed_statement() {
    check(&["--lang", "nl"], "statement-example.nl.md");
}

#[test]
fn html_matches_the_reviewed_statement() {
    check(&["--format", "html"], "statement-example.en.html");
}

fn check_preset(args: &[&str], golden: &str) {
    check_config("config/presets/nl-subscriptions.toml", args, golden);
}

#[test]
fn preset_statement_matches_the_reviewed_text_in_english() {
    check_preset(&[], "statement-nl-subscriptions.en.md");
}

#[test]
fn preset_statement_matches_the_reviewed_text_in_dutch() {
    check_preset(&["--lang", "nl"], "statement-nl-subscriptions.nl.md");
}

/// The statement needs no database: a config whose server does not exist still renders.
#[test]
fn needs_no_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("r.toml");
    std::fs::write(
        &config,
        "[database]\nurl = \"postgres://nobody@127.0.0.1:1/none\"\n\n[[policies]]\nname = \"old-mail\"\n\
         table = \"messages\"\nsince = \"sent_at\"\nretain = \"1 year 6 months\"\naction = \"delete\"\nbasis = \"not needed\"\n",
    )
    .expect("write config");
    let out = expect_exit(&run_cli(&config, &["report", "--lang", "nl"], &[]), 0);
    assert!(
        out.contains("| old-mail | tabel `messages` | 1 jaar 6 maanden | de datum in `sent_at` | verwijderd | not needed |"),
        "{out}"
    );
}
