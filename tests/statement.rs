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

#[test]
fn dutch_html_matches_the_reviewed_statement() {
    check(
        &["--format", "html", "--lang", "nl"],
        "statement-example.nl.html",
    );
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

/// The statement needs no database: a config whose server does not exist still renders,
/// and a policy without wording of its own reads in general words, not its table or column.
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
        out.contains("| old-mail | 1 jaar 6 maanden | de datum die bij deze gegevens is vastgelegd | verwijderd | not needed |"),
        "{out}"
    );
}

/// `report` reads no secret: with the HMAC key, the database URL file and the SMTP password
/// all missing, a config with a `hash` policy still renders.
#[test]
fn needs_no_secret() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("r.toml");
    std::fs::write(
        &config,
        "[database]\nurl_file = \"/nonexistent/database-url\"\n\n[hash]\nkey_file = \"/nonexistent/hmac-key\"\n\n\
         [[policies]]\nname = \"contact\"\ncategory = \"E-mail address\"\ntable = \"customers\"\nsince = \"left_at\"\n\
         retain = \"90 days\"\naction = \"anonymize\"\ncolumns = { email = \"hash\" }\nbasis = \"not needed\"\n",
    )
    .expect("write config");
    let out = run_cli(&config, &["report"], &[("RETENTIOND_HASH__KEY", "")]);
    let out = expect_exit(&out, 0);
    assert!(out.contains("| E-mail address | 90 days |"), "{out}");
    assert!(out.contains("keyed hash (HMAC)"), "{out}");
}

/// Every shipped config's statement, in both languages and formats, is written for the
/// public: no SQL, no backquoted or snake_case identifier of the config (tables, columns,
/// filters), no `table.column`.
#[test]
fn no_shipped_statement_holds_sql_or_a_table_or_column_name() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut configs: Vec<std::path::PathBuf> = Vec::new();
    for dir in ["config", "config/presets"] {
        for entry in std::fs::read_dir(root.join(dir)).expect("read config dir") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "toml") {
                configs.push(path);
            }
        }
    }
    assert!(configs.len() >= 3, "{configs:?}");
    for path in configs {
        let config = retentiond::config::Config::load_without_secrets(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut names: Vec<String> = Vec::new();
        for p in &config.policies {
            names.push(p.table.clone());
            match &p.clock {
                retentiond::config::Clock::Column { name, .. } => names.push(name.clone()),
                retentiond::config::Clock::Related {
                    table,
                    column,
                    matches,
                    otherwise,
                    ..
                } => {
                    names.push(table.clone());
                    names.push(column.clone());
                    names.extend(otherwise.iter().cloned());
                    for (a, b) in matches {
                        names.push(a.clone());
                        names.push(b.clone());
                    }
                }
            }
            if let retentiond::config::Action::Anonymize(cols) = &p.action {
                names.extend(cols.iter().map(|(c, _)| c.clone()));
            }
        }
        for args in [
            &["report"][..],
            &["report", "--lang", "nl"],
            &["report", "--format", "html"],
            &["report", "--format", "html", "--lang", "nl"],
        ] {
            let out = expect_exit(&run_cli(&path, args, &[]), 0);
            for sql in ["SELECT", " IN (", " = ", "`", "WHERE"] {
                assert!(
                    !out.contains(sql),
                    "{} {args:?} holds SQL ({sql:?}):\n{out}",
                    path.display()
                );
            }
            for name in &names {
                let snake = name.contains('_');
                let words: Vec<&str> = out
                    .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
                    .collect();
                for w in words {
                    let w = w.trim_end_matches('.');
                    let dotted = w.split('.').any(|part| part == name) && w.contains('.');
                    assert!(
                        !(dotted || (snake && w == name)),
                        "{} {args:?} names {name:?}:\n{out}",
                        path.display()
                    );
                }
            }
        }
    }
}
