//! `retentiond audit export`: the audit entries of a run, a policy or a period, for an
//! auditor, as CSV or JSON, with the verdict of the whole chain (as `audit verify` gives it).
//! Entries hold counts, names and key ranges only: integer and uuid keys as they are, any
//! other key part as `*` (see `engine::render_key`).

use crate::config::Config;
use crate::db::{Access, Db};
use crate::exit;
use crate::store::Store;
use crate::store::audit::{self, Stored};
use chrono::NaiveDate;
use serde::Serialize;
use std::path::PathBuf;

pub const LONG_ABOUT: &str = "Writes the audit entries that match every given filter (all of them \
without one) as CSV or JSON, for an auditor: id, run, policy, table, action, batch, rows, first \
and last key, time, previous hash and hash, and whether the entry lies before the first break of \
the hash chain. The whole chain is verified as by `audit verify`; exits 1 when it is broken (the \
export is still written). Entries hold no personal data: integer and uuid keys as they are, any \
other key part as `*`.";

pub const EXAMPLES: &str = "Examples:\n  retentiond audit export --run 12 --format csv > run-12.csv\n  \
retentiond audit export --policy invoices --from 2026-01-01 --to 2026-12-31 --format json --output invoices-2026.json";

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    filter: Filter,
    /// csv or json.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    format: Format,
    /// Write to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Json,
}

/// Which entries to export; all given conditions hold.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Filter {
    /// Only the entries of this run (the id `retentiond runs` shows).
    #[arg(long = "run", value_name = "ID")]
    pub run: Option<i64>,
    /// Only the entries of this policy.
    #[arg(long, value_name = "NAME")]
    pub policy: Option<String>,
    /// Only entries recorded on or after this day (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "DATE")]
    pub from: Option<NaiveDate>,
    /// Only entries recorded on or before this day (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "DATE")]
    pub to: Option<NaiveDate>,
}

impl Filter {
    fn keeps(&self, s: &Stored) -> bool {
        let day = s.entry.recorded_at.get(..10).unwrap_or("");
        let day_text = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
        self.run.is_none_or(|r| s.entry.run_id == r)
            && self.policy.as_ref().is_none_or(|p| &s.entry.policy == p)
            && self.from.is_none_or(|f| day >= day_text(f).as_str())
            && self.to.is_none_or(|t| day <= day_text(t).as_str())
    }
}

#[derive(Debug, Serialize)]
struct Chain {
    /// Every entry of the whole trail links to the one before it and matches its hash.
    intact: bool,
    entries: u64,
    /// The first broken entry of the trail, and what is wrong with it.
    broken_at: Option<i64>,
    problem: Option<String>,
}

#[derive(Debug, Serialize)]
struct ExportEntry {
    id: i64,
    run_id: i64,
    policy: String,
    table: String,
    action: String,
    batch: i64,
    rows: i64,
    key_first: String,
    key_last: String,
    recorded_at: String,
    prev_hash: String,
    hash: String,
    /// This entry lies before the first break of the chain (all of them when it is intact).
    verified: bool,
}

#[derive(Debug, Serialize)]
struct Export {
    audit_table: String,
    database: String,
    chain: Chain,
    entries: Vec<ExportEntry>,
}

const COLUMNS: [&str; 13] = [
    "id",
    "run_id",
    "policy",
    "table",
    "action",
    "batch",
    "rows",
    "key_first",
    "key_last",
    "recorded_at",
    "prev_hash",
    "hash",
    "verified",
];

pub async fn export(args: Args, config: Config) -> anyhow::Result<u8> {
    let Args {
        filter,
        format,
        output,
    } = args;
    if let (Some(from), Some(to)) = (filter.from, filter.to)
        && to < from
    {
        return Err(crate::engine::EngineError::Usage(format!(
            "--to {to} is before --from {from}"
        ))
        .into());
    }
    let db = Db::connect(&config.database, &config.run, Access::ReadOnly).await?;
    let store = Store::new(&db, &config.database.table_prefix);
    let schema = crate::db::schema::Schema::load(&db).await?;
    let trail = if store.installed(&schema) {
        store.audit_trail().await?
    } else {
        Vec::new()
    };
    db.close().await;
    let kept: Vec<&Stored> = trail.iter().filter(|s| filter.keeps(s)).collect();
    let v = audit::verify(&trail);
    let broken_at_entry = {
        Chain {
            intact: v.broken.is_none(),
            entries: v.entries,
            broken_at: v.broken.as_ref().map(|b| b.0),
            problem: v.broken.as_ref().map(|b| b.1.clone()),
        }
    };
    let export = Export {
        audit_table: store.table("audit"),
        database: db.display_url.clone(),
        entries: kept
            .iter()
            .map(|s| ExportEntry {
                id: s.id,
                run_id: s.entry.run_id,
                policy: s.entry.policy.clone(),
                table: s.entry.table.clone(),
                action: s.entry.action.clone(),
                batch: s.entry.batch,
                rows: s.entry.rows,
                key_first: s.entry.key_first.clone(),
                key_last: s.entry.key_last.clone(),
                recorded_at: s.entry.recorded_at.clone(),
                prev_hash: s.entry.prev_hash.clone(),
                hash: s.hash.clone(),
                verified: broken_at_entry.broken_at.is_none_or(|b| s.id < b),
            })
            .collect(),
        chain: broken_at_entry,
    };
    let text = match format {
        Format::Json => serde_json::to_string_pretty(&export)? + "\n",
        Format::Csv => csv(&export.entries),
    };
    let verdict = match (&export.chain.broken_at, &export.chain.problem) {
        (Some(id), Some(why)) => format!(
            "the audit chain of {} is BROKEN at entry id {id}: {why}; entries from there on are marked verified=false",
            export.audit_table
        ),
        _ => format!(
            "the audit chain of {} is intact ({} entries)",
            export.audit_table, export.chain.entries
        ),
    };
    match output {
        Some(path) => {
            std::fs::write(&path, text)
                .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
            crate::out!(
                "Wrote {} audit entries to {}; {verdict}.",
                export.entries.len(),
                path.display()
            );
        }
        None => {
            use std::io::Write as _;
            let _ = std::io::stdout().write_all(text.as_bytes());
            eprintln!(
                "{} audit entries exported; {verdict}.",
                export.entries.len()
            );
        }
    }
    Ok(exit::of_verification(&v))
}

fn csv(entries: &[ExportEntry]) -> String {
    let mut out = COLUMNS.join(",");
    out.push_str("\r\n");
    for e in entries {
        let fields = [
            e.id.to_string(),
            e.run_id.to_string(),
            e.policy.clone(),
            e.table.clone(),
            e.action.clone(),
            e.batch.to_string(),
            e.rows.to_string(),
            e.key_first.clone(),
            e.key_last.clone(),
            e.recorded_at.clone(),
            e.prev_hash.clone(),
            e.hash.clone(),
            e.verified.to_string(),
        ];
        let cells: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

/// RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.
pub(super) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(super::csv_field("payments"), "payments");
        assert_eq!(super::csv_field("1,2"), "\"1,2\"");
        assert_eq!(super::csv_field("a \"b\""), "\"a \"\"b\"\"\"");
    }
}
