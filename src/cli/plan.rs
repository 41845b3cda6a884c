//! `retentiond plan`: what a run would do, counted in a read-only transaction.

use super::{output, prepare, progress, test_now};
use crate::config::Config;
use crate::engine::RunOptions;
use crate::exit;
use crate::telemetry::LogFormat;

pub const LONG_ABOUT: &str = "Counts, per policy, the rows whose retention has run out (eligible), the expired \
rows still referenced by other rows (blocked), the rows whose clock never started (undated) and \
the table's size, using the same queries as the real run, in a read-only transaction.\n\n\
Blocked rows can become eligible during a run when an earlier policy deletes the rows that \
reference them (children are purged before their parents).";

pub const EXAMPLES: &str = "Examples:\n  retentiond plan\n  retentiond plan --at 2027-06-01    # what will have expired by then\n  \
retentiond plan --json | jq '.policies[] | {name, eligible}'";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Only this policy (repeatable).
    #[arg(long = "policy", value_name = "NAME")]
    policies: Vec<String>,
    /// Plan as of this date (YYYY-MM-DD, 00:00 in the database's time zone) instead of now:
    /// what will have expired by then if nothing is removed before.
    #[arg(long, value_name = "DATE")]
    at: Option<chrono::NaiveDate>,
}

pub async fn run(args: Args, config: Config, log_format: LogFormat) -> anyhow::Result<u8> {
    let engine = prepare(config, true).await?;
    let at = args
        .at
        .map(|d| crate::engine::forecast::midnight(d, engine.config.database.timezone));
    let opts = RunOptions {
        policies: args.policies,
        now: at.or(test_now()?),
        progress: progress::observer(log_format),
        ..RunOptions::default()
    };
    let plan = engine.plan(&opts).await;
    progress::clear();
    let plan = plan?;
    if args.json {
        crate::out!("{}", serde_json::to_string_pretty(&plan)?);
    } else {
        output::print_plan(&plan);
    }
    engine.db.close().await;
    Ok(exit::OK)
}
