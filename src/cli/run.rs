//! `retentiond run`: delete or anonymize what has expired, once.

use super::{output, prepare, progress, test_now};
use crate::config::Config;
use crate::engine::RunOptions;
use crate::exit;
use crate::telemetry::LogFormat;

pub const LONG_ABOUT: &str = "Runs every policy (or those named with --policy) in keyset batches: each batch \
selects the next keys, writes them while repeating the expiry test, and records an audit entry, \
all in one transaction. Delete policies run children first. Before writing, a policy that would \
touch more than max_fraction of its table or more than max_rows stops the run (exit 3).\n\n\
With --dry-run the same batches are selected on a read-only connection and nothing is written.\n\n\
On a terminal the progress is shown live on stderr. Ctrl-C finishes the batch under way, records \
the run as interrupted and exits 130; Ctrl-C again stops at once (the batch in flight rolls back). \
SIGTERM finishes the batch and stops cleanly.";

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

pub async fn run(args: Args, config: Config, log_format: LogFormat) -> anyhow::Result<u8> {
    let engine = prepare(config, args.dry_run).await?;
    let signals = crate::signals::install()?;
    let opts = RunOptions {
        dry_run: args.dry_run,
        policies: args.policies,
        force: args.force,
        now: test_now()?,
        stop: Some(signals.flag()),
        slot_start: None,
        progress: progress::observer(log_format),
    };
    let report = engine.run(&opts).await;
    progress::clear();
    engine.db.close().await;
    let report = report?;
    if args.json {
        crate::out!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        output::print_run(&report);
    }
    Ok(exit::after_signals(exit::of_run(&report), signals.sigint()))
}
