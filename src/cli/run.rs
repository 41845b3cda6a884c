//! `retentiond run`: delete or anonymize what has expired, once.

use super::{output, test_now, warn_write_denied};
use crate::config::Config;
use crate::db::Access;
use crate::engine::{Engine, RunOptions};
use crate::exit;

pub const LONG_ABOUT: &str = "Runs every policy (or those named with --policy) in keyset batches: each batch \
selects the next keys, writes them while repeating the expiry test, and records an audit entry, \
all in one transaction. Delete policies run children first. Before writing, a policy that would \
touch more than max_fraction of its table or more than max_rows stops the run (exit 3).\n\n\
With --dry-run the same batches are selected on a read-only connection and nothing is written.";

pub const EXAMPLES: &str = "Examples:\n  retentiond run --dry-run\n  retentiond run --policy support-messages\n  \
retentiond run --force    # past a safety stop you have checked";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Walk the batches on a read-only connection; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Only this policy (repeatable).
    #[arg(long = "policy", value_name = "NAME")]
    policies: Vec<String>,
    /// Proceed although a policy exceeds max_fraction or max_rows (once).
    #[arg(long)]
    force: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

pub async fn run(args: Args, config: Config) -> anyhow::Result<u8> {
    let access = if args.dry_run {
        Access::ReadOnly
    } else {
        Access::ReadWrite
    };
    let engine = Engine::prepare(config, access).await?;
    warn_write_denied(&engine);
    let (stop, _) = crate::daemon::install_signals()?;
    let opts = RunOptions {
        dry_run: args.dry_run,
        policies: args.policies,
        force: args.force,
        now: test_now()?,
        stop: Some(stop),
        slot_start: None,
    };
    let report = engine.run(&opts).await;
    engine.db.close().await;
    let report = report?;
    if args.json {
        crate::out!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        output::print_run(&report);
    }
    Ok(exit::of_run(&report))
}
