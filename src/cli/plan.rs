//! `retentiond plan`: what a run would do, counted in a read-only transaction.

use super::{output, test_now, warn_write_denied};
use crate::config::Config;
use crate::db::Access;
use crate::engine::{Engine, RunOptions};
use crate::exit;

pub const LONG_ABOUT: &str = "Counts, per policy, the rows whose retention has run out (eligible), the expired \
rows still referenced by other rows (blocked), the rows whose clock never started (undated) and \
the table's size, using the same queries as the real run, in a read-only transaction.\n\n\
Blocked rows can become eligible during a run when an earlier policy deletes the rows that \
reference them (children are purged before their parents).";

pub const EXAMPLES: &str =
    "Examples:\n  retentiond plan\n  retentiond plan --json | jq '.policies[] | {name, eligible}'";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Only this policy (repeatable).
    #[arg(long = "policy", value_name = "NAME")]
    policies: Vec<String>,
}

pub async fn run(args: Args, config: Config) -> anyhow::Result<u8> {
    let engine = Engine::prepare(config, Access::ReadOnly).await?;
    warn_write_denied(&engine);
    let opts = RunOptions {
        policies: args.policies,
        now: test_now()?,
        ..RunOptions::default()
    };
    let plan = engine.plan(&opts).await?;
    if args.json {
        crate::out!("{}", serde_json::to_string_pretty(&plan)?);
    } else {
        output::print_plan(&plan);
    }
    engine.db.close().await;
    Ok(exit::OK)
}
