//! `retentiond archive`: finding and exporting what the archive holds, for a tax audit or a
//! data subject's access request. Read-only: nothing in the archive or live changes.

use super::audit_export::{Format, csv_field};
use crate::archive::columns;
use crate::config::{Clock, Config, SubjectLink};
use crate::db::schema::{Schema, Table};
use crate::db::{Access, Db, Decode, Sql, Value};
use crate::engine::EngineError;
use crate::exit;
use chrono::NaiveDate;
use serde::Serialize;
use std::path::PathBuf;

pub const LONG_ABOUT: &str = "Reads the archive database named in [archive], where `action = \"archive\"` \
policies move rows before deleting them live. `find` says, per archived table, how many rows of one \
data subject the archive keeps (through the policies' `subject` column) and until when they were \
archived; `export` writes an archived table's rows (of one subject, or of a period of the policy's \
clock) as CSV or JSON, every value in its exact text form. The output holds personal data: it is \
for the controller, a tax inspector or the data subject, not for logs.";

pub const EXAMPLES: &str = "Examples:\n  retentiond archive find --subject 42\n  \
retentiond archive export --table invoices --from 2019-01-01 --to 2019-12-31 --format csv --output invoices-2019.csv\n  \
retentiond archive export --table invoices --subject 42 --format json";

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Where the archive keeps a data subject's rows: per table, how many and since when.
    #[command(after_help = "Example:\n  retentiond archive find --subject 42")]
    Find {
        /// The data subject's key (e.g. the customer id), as the policies' `subject` column holds it.
        #[arg(long, value_name = "KEY")]
        subject: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write an archived table's rows as CSV or JSON.
    #[command(after_help = EXAMPLES)]
    Export {
        /// The archived table (its live name).
        #[arg(long, value_name = "TABLE")]
        table: String,
        /// Only this data subject's rows.
        #[arg(long, value_name = "KEY")]
        subject: Option<String>,
        /// Only rows whose clock (the policy's `since` column) is on or after this day.
        #[arg(long, value_name = "DATE")]
        from: Option<NaiveDate>,
        /// Only rows whose clock is on or before this day.
        #[arg(long, value_name = "DATE")]
        to: Option<NaiveDate>,
        /// csv or json.
        #[arg(long, value_enum, default_value_t = Format::Csv)]
        format: Format,
        /// Write to this file instead of stdout.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

pub async fn run(command: Command, config: Config) -> anyhow::Result<u8> {
    let Some(archive_config) = config.archive.clone() else {
        return Err(EngineError::Usage("the config has no [archive] section".into()).into());
    };
    let db = Db::connect(&archive_config, &config.run, Access::ReadOnly).await?;
    let schema = Schema::load(&db).await?;
    let result = match command {
        Command::Find { subject, json } => find(&config, &db, &schema, &subject, json).await,
        Command::Export {
            table,
            subject,
            from,
            to,
            format,
            output,
        } => {
            let range = Range { from, to };
            export(
                &config,
                &db,
                &schema,
                &table,
                subject.as_deref(),
                range,
                format,
                output,
            )
            .await
        }
    };
    db.close().await;
    result
}

/// Only rows whose live delete is known to have committed: a copy still `copied` is settled
/// by the next run, which may remove it.
fn archived_only(q: &mut Sql) {
    let d = q.dialect;
    q.push(&format!(" AND {} = ", d.quote(crate::archive::STATE)))
        .bind(Value::Text(crate::archive::ARCHIVED.into()));
}

/// The tables the config archives (moved there or governed there), in the archive.
fn archived_tables<'a>(config: &'a Config, schema: &'a Schema) -> Vec<&'a Table> {
    let mut names: Vec<&str> = config
        .policies
        .iter()
        .filter(|p| {
            p.action == crate::config::Action::Archive || p.database == crate::config::Side::Archive
        })
        .map(|p| p.table.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    names.into_iter().filter_map(|n| schema.table(n)).collect()
}

/// The column that holds a table's data subject, as a policy on it says.
fn subject_column<'a>(config: &'a Config, table: &str) -> Option<&'a str> {
    config
        .policies
        .iter()
        .filter(|p| p.table == table)
        .find_map(|p| match &p.subject {
            Some(SubjectLink::Column(c)) => Some(c.as_str()),
            _ => None,
        })
}

/// The column a policy on the table counts its period from.
fn clock_column<'a>(config: &'a Config, table: &str) -> Option<&'a str> {
    config
        .policies
        .iter()
        .filter(|p| p.table == table)
        .find_map(|p| match &p.clock {
            Clock::Column { name, unit: None } => Some(name.as_str()),
            _ => None,
        })
}

/// Every column of an archived table with how its values are read as text there.
fn readable(db: &Db, table: &Table) -> Result<Vec<(String, columns::Carried)>, EngineError> {
    table
        .columns
        .iter()
        .map(|c| {
            columns::carried(db.dialect, c)
                .map(|k| (c.name.clone(), k))
                .map_err(|why| {
                    EngineError::Usage(format!("archive table \"{}\": {why}", table.name))
                })
        })
        .collect()
}

#[derive(Debug, Serialize)]
struct Found {
    table: String,
    rows: i64,
    first_archived: Option<String>,
    last_archived: Option<String>,
}

async fn find(
    config: &Config,
    db: &Db,
    schema: &Schema,
    subject: &str,
    json: bool,
) -> anyhow::Result<u8> {
    let mut found = Vec::new();
    let mut unsearched = Vec::new();
    for table in archived_tables(config, schema) {
        let Some(column) = subject_column(config, &table.name) else {
            unsearched.push(table.name.clone());
            continue;
        };
        let Some(col) = table.column(column) else {
            unsearched.push(table.name.clone());
            continue;
        };
        let carried = columns::carried(db.dialect, col).map_err(EngineError::Usage)?;
        let d = db.dialect;
        let mut q = db.sql();
        q.push(&format!(
            "SELECT COUNT(*), MIN({at}), MAX({at}) FROM {} WHERE {} = ",
            db.table(&table.name),
            columns::read_text(d, &carried, &d.quote(column)),
            at = d.quote(crate::archive::ARCHIVED_AT),
        ))
        .bind(Value::Text(subject.to_string()));
        archived_only(&mut q);
        let rows = db
            .read(
                &q,
                &[Decode::Int, Decode::Text, Decode::Text],
                "finding a subject in the archive",
            )
            .await?;
        let row = rows.into_iter().next().unwrap_or_default();
        let text = |v: Option<&Value>| match v {
            Some(Value::Text(s)) => Some(s.clone()),
            _ => None,
        };
        let n = match row.first() {
            Some(Value::Int(n)) => *n,
            _ => 0,
        };
        if n > 0 {
            found.push(Found {
                table: table.name.clone(),
                rows: n,
                first_archived: text(row.get(1)),
                last_archived: text(row.get(2)),
            });
        }
    }
    if json {
        crate::out!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "subject": subject,
                "archive": db.display_url,
                "found": found,
                "not_searched": unsearched,
            }))?
        );
    } else if found.is_empty() {
        crate::out!(
            "The archive ({}) holds no rows of subject {subject}.",
            db.display_url
        );
    } else {
        crate::out!(
            "The archive ({}) holds rows of subject {subject}:",
            db.display_url
        );
        let rows: Vec<Vec<String>> = found
            .iter()
            .map(|f| {
                vec![
                    f.table.clone(),
                    f.rows.to_string(),
                    f.first_archived.clone().unwrap_or_default(),
                    f.last_archived.clone().unwrap_or_default(),
                ]
            })
            .collect();
        super::output::table(
            &["TABLE", "ROWS", "FIRST ARCHIVED", "LAST ARCHIVED"],
            &rows,
            &[],
        );
    }
    if !unsearched.is_empty() && !json {
        crate::out!(
            "Not searched (no policy names a subject column for them): {}",
            unsearched.join(", ")
        );
    }
    Ok(exit::OK)
}

/// Days of the clock column, both ends included.
struct Range {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

impl Range {
    /// Whether a clock value (its text form, which starts with the day) lies in the range.
    fn holds(&self, value: Option<&str>) -> bool {
        if self.from.is_none() && self.to.is_none() {
            return true;
        }
        let Some(day) =
            value.and_then(|v| NaiveDate::parse_from_str(v.get(..10)?, "%Y-%m-%d").ok())
        else {
            return false;
        };
        self.from.is_none_or(|f| day >= f) && self.to.is_none_or(|t| day <= t)
    }
}

#[allow(clippy::too_many_arguments)]
async fn export(
    config: &Config,
    db: &Db,
    schema: &Schema,
    table_name: &str,
    subject: Option<&str>,
    range: Range,
    format: Format,
    output: Option<PathBuf>,
) -> anyhow::Result<u8> {
    let Some(table) = archived_tables(config, schema)
        .into_iter()
        .find(|t| t.name == table_name)
    else {
        return Err(EngineError::Usage(format!(
            "--table {table_name}: the archive holds no such table of this config's policies"
        ))
        .into());
    };
    let cols = readable(db, table)?;
    let d = db.dialect;
    let mut q = Sql::new(d);
    let reads: Vec<String> = cols
        .iter()
        .map(|(n, k)| columns::read_text(d, k, &d.quote(n)))
        .collect();
    q.push(&format!(
        "SELECT {} FROM {}",
        reads.join(", "),
        db.table(&table.name)
    ));
    if let Some(subject) = subject {
        let Some(column) = subject_column(config, &table.name) else {
            return Err(EngineError::Usage(format!(
                "--subject: no policy on \"{}\" names its subject column (`subject = \"...\"`)",
                table.name
            ))
            .into());
        };
        let (_, carried) = cols
            .iter()
            .find(|(n, _)| n == column)
            .ok_or_else(|| EngineError::Usage(format!("the archive table lacks \"{column}\"")))?;
        q.push(&format!(
            " WHERE {} = ",
            columns::read_text(d, carried, &d.quote(column))
        ))
        .bind(Value::Text(subject.to_string()));
    }
    if (range.from.is_some() || range.to.is_some()) && clock_column(config, &table.name).is_none() {
        return Err(EngineError::Usage(format!(
            "--from/--to: no policy on \"{}\" counts from a column of its own",
            table.name
        ))
        .into());
    }
    let clock =
        clock_column(config, &table.name).and_then(|c| cols.iter().position(|(n, _)| n == c));
    let rows = db
        .read(
            &q,
            &vec![Decode::Text; cols.len()],
            "exporting an archive table",
        )
        .await?;
    let rows: Vec<Vec<Option<String>>> = rows
        .into_iter()
        .map(|r| {
            r.into_iter()
                .zip(&cols)
                .map(|(v, (_, k))| match v {
                    Value::Text(s) => Some(columns::canonical(k, &s)),
                    _ => None,
                })
                .collect::<Vec<_>>()
        })
        .filter(|r: &Vec<Option<String>>| range.holds(clock.and_then(|i| r[i].as_deref())))
        .collect();
    let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
    let text = match format {
        Format::Csv => {
            let mut out = names.join(",");
            out.push_str("\r\n");
            for r in &rows {
                let cells: Vec<String> = r
                    .iter()
                    .map(|v| v.as_deref().map(csv_field).unwrap_or_default())
                    .collect();
                out.push_str(&cells.join(","));
                out.push_str("\r\n");
            }
            out
        }
        Format::Json => {
            let objects: Vec<serde_json::Map<String, serde_json::Value>> = rows
                .iter()
                .map(|r| {
                    names
                        .iter()
                        .zip(r)
                        .map(|(n, v)| {
                            (
                                n.to_string(),
                                v.clone()
                                    .map_or(serde_json::Value::Null, serde_json::Value::String),
                            )
                        })
                        .collect()
                })
                .collect();
            serde_json::to_string_pretty(&serde_json::json!({
                "table": table.name,
                "archive": db.display_url,
                "rows": objects,
            }))? + "\n"
        }
    };
    match output {
        Some(path) => {
            std::fs::write(&path, text)
                .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
            crate::out!(
                "Wrote {} rows of {} to {}.",
                rows.len(),
                table.name,
                path.display()
            );
        }
        None => {
            use std::io::Write as _;
            let _ = std::io::stdout().write_all(text.as_bytes());
            eprintln!("{} rows of {} exported.", rows.len(), table.name);
        }
    }
    Ok(exit::OK)
}
