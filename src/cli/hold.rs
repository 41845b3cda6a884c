//! `retentiond hold`: legal holds.

use super::output;
use crate::config::Config;
use crate::db::{Access, Db, schema::Schema};
use crate::engine::{Engine, EngineError, hold};
use crate::exit;
use crate::store::Store;
use crate::store::holds::NewHold;

pub const LONG_ABOUT: &str = "A legal hold keeps records that a policy would otherwise delete or anonymize: \
one record (--table and its key), or every record of one data subject (--subject, through the \
policies' `subject` links). Held records are left out of every policy's selection and counted as \
held in plans and summaries. A hold stays in force until it is released; its review date only \
makes it appear in every summary once it has passed.";

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Put a record or a data subject on hold.
    #[command(
        after_help = "Examples:\n  retentiond hold add --subject 4711 --reason \"tax audit 2026\" --until 2027-06-30\n  \
retentiond hold add --table invoices --key 90210 --reason \"disputed invoice\" --by ann"
    )]
    Add(AddArgs),
    /// List the holds in force.
    #[command(
        after_help = "Examples:\n  retentiond hold list\n  retentiond hold list --all --json   # released ones too, for scripts"
    )]
    List(ListArgs),
    /// Release a hold: the next run treats its records like any other.
    #[command(
        after_help = "Example:\n  retentiond hold release 3 --reason \"audit closed\"   # the id shown by `hold list`; the row stays, marked released"
    )]
    Release(ReleaseArgs),
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// The table of the record to hold (one a policy purges).
    #[arg(long, requires = "key")]
    table: Option<String>,
    /// The record's key value; once per key column, in key order.
    #[arg(long = "key", value_name = "VALUE")]
    key: Vec<String>,
    /// The data subject's key (e.g. the customer id) whose records to hold.
    #[arg(long, value_name = "KEY")]
    subject: Option<String>,
    /// Why (shown in `hold list`; not sent in summaries).
    #[arg(long)]
    reason: String,
    /// Review date (YYYY-MM-DD): from then on every summary lists the hold.
    #[arg(long, value_name = "DATE")]
    until: Option<chrono::NaiveDate>,
    /// Who sets the hold (default: the login name).
    #[arg(long)]
    by: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Include released holds.
    #[arg(long)]
    all: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct ReleaseArgs {
    /// The hold's id, from `hold list`.
    id: i64,
    /// Why it is released (kept with the hold, shown by `hold list --all`).
    #[arg(long)]
    reason: String,
    /// Who releases it (default: the login name; required when there is none).
    #[arg(long)]
    by: Option<String>,
}

pub async fn run(command: Command, config: Config) -> anyhow::Result<u8> {
    match command {
        Command::Add(args) => add(args, config).await,
        Command::List(args) => list(args, config).await,
        Command::Release(args) => release(args, config).await,
    }
}

async fn add(args: AddArgs, config: Config) -> anyhow::Result<u8> {
    let prefix = config.database.table_prefix.clone();
    let today = super::test_now()?
        .unwrap_or_else(chrono::Utc::now)
        .date_naive();
    let until = hold::review_date(args.until, today)?;
    let engine = Engine::prepare(config, Access::ReadWrite).await?;
    let scope = engine.hold_scope(args.table.as_deref(), &args.key, args.subject.as_deref())?;
    if args.reason.trim().is_empty() {
        return Err(EngineError::Usage("--reason is empty".into()).into());
    }
    let set_by = hold::operator(args.by.as_deref(), "--by")?;
    let store = Store::new(&engine.db, &prefix);
    store.migrate().await?;
    let hold = NewHold {
        scope,
        reason: args.reason,
        set_by,
        review_at: until
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc()),
    };
    let id = store.add_hold(&hold).await?;
    engine.db.close().await;
    output::print_hold_added(id, &hold);
    Ok(exit::OK)
}

async fn list(args: ListArgs, config: Config) -> anyhow::Result<u8> {
    let prefix = &config.database.table_prefix;
    let db = Db::connect(&config.database, &config.run, Access::ReadOnly).await?;
    let store = Store::new(&db, prefix);
    let schema = Schema::load(&db).await?;
    let holds = if schema.table(&format!("{prefix}holds")).is_some() {
        store.holds(args.all).await?
    } else {
        Vec::new()
    };
    db.close().await;
    if args.json {
        crate::out!("{}", serde_json::to_string_pretty(&holds)?);
    } else {
        output::print_holds(&holds, chrono::Utc::now());
    }
    Ok(exit::OK)
}

async fn release(args: ReleaseArgs, config: Config) -> anyhow::Result<u8> {
    let id = args.id;
    if args.reason.trim().is_empty() {
        return Err(EngineError::Usage("--reason is empty".into()).into());
    }
    let by = hold::operator(args.by.as_deref(), "--by")?;
    let db = Db::connect(&config.database, &config.run, Access::ReadWrite).await?;
    let store = Store::new(&db, &config.database.table_prefix);
    store.migrate().await?;
    let released = store.release_hold(id, &by, &args.reason).await?;
    db.close().await;
    if !released {
        return Err(EngineError::Usage(format!(
            "no hold {id} is in force (see `retentiond hold list --all`)"
        ))
        .into());
    }
    crate::out!("Hold {id} released by {by}: the next run treats its records like any other.");
    Ok(exit::OK)
}
