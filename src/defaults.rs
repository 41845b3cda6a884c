//! The value of every config key that has a default, in one place: the config loader reads
//! them from here, and a test holds the README's configuration tables to them.

/// Where the config file is looked for without `--config` / `RETENTIOND_CONFIG`.
pub const CONFIG_PATH: &str = "/etc/retentiond/retentiond.toml";

/// `[database] timezone`: the IANA zone timestamps without a zone and dates are read in.
pub const DATABASE_TIMEZONE: &str = "UTC";
/// `[database] table_prefix`: the prefix of retentiond's own tables.
pub const TABLE_PREFIX: &str = "retentiond_";

/// `[run] batch_size`: rows per batch, each batch one transaction.
pub const BATCH_SIZE: u32 = 1000;
/// `[run] pause` between batches.
pub const PAUSE: &str = "0ms";
/// `[run] pause_factor`: none; the write budget paces a run by what the server can absorb,
/// which a pause in proportion to the batch's time does not.
pub const PAUSE_FACTOR: f64 = 0.0;
/// `[run] write_budget`: derived from the server's settings so that a purge alone never
/// forces a checkpoint.
pub const WRITE_BUDGET: &str = "auto";
/// `[run] max_fraction`: the share of a table above which a run stops before writing.
pub const MAX_FRACTION: f64 = 0.5;
/// `[run] lock_timeout` of a batch waiting for a row lock.
pub const LOCK_TIMEOUT: &str = "2s";
/// `[run] statement_timeout` (PostgreSQL).
pub const STATEMENT_TIMEOUT: &str = "30s";
/// `[run] max_clock_jump`: how far a cutoff may move past the previous run's.
pub const MAX_CLOCK_JUMP: &str = "400 days";

/// `[schedule] timezone` the cron line is read in.
pub const SCHEDULE_TIMEZONE: &str = "UTC";

/// `[report] on`: which runs send a summary.
pub const REPORT_ON: &str = "always";
/// `[report] outbox_max`: undelivered summaries kept for retry.
pub const OUTBOX_MAX: u32 = 100;
/// `[report] language`: the language of the summary e-mail.
pub const REPORT_LANGUAGE: &str = "en";

/// `[erase] ledger_retain`: how long an erased subject's key stays in the replay ledger.
pub const LEDGER_RETAIN: &str = "90 days";

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Each default as the README writes it, by the key's full name.
    fn documented() -> Vec<(&'static str, String)> {
        let quoted = |s: &str| format!("\"{s}\"");
        vec![
            ("database.timezone", quoted(DATABASE_TIMEZONE)),
            ("database.table_prefix", quoted(TABLE_PREFIX)),
            ("run.batch_size", BATCH_SIZE.to_string()),
            ("run.pause", quoted(PAUSE)),
            ("run.pause_factor", PAUSE_FACTOR.to_string()),
            ("run.write_budget", quoted(WRITE_BUDGET)),
            ("run.max_fraction", MAX_FRACTION.to_string()),
            ("run.lock_timeout", quoted(LOCK_TIMEOUT)),
            ("run.statement_timeout", quoted(STATEMENT_TIMEOUT)),
            ("run.max_clock_jump", quoted(MAX_CLOCK_JUMP)),
            ("schedule.timezone", quoted(SCHEDULE_TIMEZONE)),
            ("report.on", quoted(REPORT_ON)),
            ("report.outbox_max", OUTBOX_MAX.to_string()),
            ("report.language", quoted(REPORT_LANGUAGE)),
            ("erase.ledger_retain", quoted(LEDGER_RETAIN)),
        ]
    }

    /// Defaults the README states that are behaviour, not a value in the code.
    const BEHAVIOURS: &[&str] = &["database.schema"];

    /// The `| key | default | meaning |` rows of the README, by the key's full name: a key
    /// is qualified by the `### [section]` heading above its table unless it names its
    /// section itself (`schedule.cron`).
    fn readme_defaults(readme: &str) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let mut section = String::new();
        let mut in_defaults_table = false;
        for line in readme.lines() {
            if let Some(heading) = line.strip_prefix("### ") {
                section = heading
                    .split('`')
                    .nth(1)
                    .unwrap_or("")
                    .trim_matches(['[', ']'])
                    .to_string();
                in_defaults_table = false;
                continue;
            }
            let cells: Vec<&str> = line
                .trim()
                .strip_prefix('|')
                .and_then(|l| l.strip_suffix('|'))
                .map(|l| l.split(" | ").map(str::trim).collect())
                .unwrap_or_default();
            if line.starts_with("|---") {
                continue;
            }
            if cells.len() < 3 {
                in_defaults_table = false;
                continue;
            }
            if cells[..2] == ["key", "default"] {
                in_defaults_table = true;
                continue;
            }
            if !in_defaults_table {
                continue;
            }
            let key = cells[0].trim_matches('`');
            let key = if key.contains('.') {
                key.to_string()
            } else {
                format!("{section}.{key}")
            };
            out.insert(key, cells[1].to_string());
        }
        out
    }

    #[test]
    fn the_readme_states_each_default_as_the_code_has_it() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
        let readme = std::fs::read_to_string(path).expect("README.md is readable");
        let stated = readme_defaults(&readme);
        assert!(
            stated.len() > 20,
            "the README's configuration tables were not found: {stated:?}"
        );
        let documented = documented();
        for (key, value) in &documented {
            assert_eq!(
                stated.get(*key).map(String::as_str),
                Some(format!("`{value}`").as_str()),
                "the README's default for {key}"
            );
        }
        for (key, value) in &stated {
            let has_value = value.starts_with('`');
            let known = documented.iter().any(|(k, _)| k == key) || BEHAVIOURS.contains(&&**key);
            assert!(
                !has_value || known,
                "the README gives {key} the default {value}, which the code does not define here"
            );
        }
    }
}
