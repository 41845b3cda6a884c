//! `retentiond demo`: a generated SQLite shop database, planned and run.

use crate::exit;
use std::path::PathBuf;

pub const LONG_ABOUT: &str = "Creates a SQLite database of a small subscription website (customers, \
subscriptions, messages, invoices, payments, marketing consents over 12 years), writes the \
config used (config/demo.toml) beside it, shows the plan, runs it, and shows what changed and \
where the audit trail is. Needs no server. Any earlier demo database in DIR is replaced.";

pub const EXAMPLES: &str = "Example:\n  retentiond demo --dir /tmp/retentiond-demo";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where the demo database and its config are written.
    #[arg(long, default_value = "demo")]
    dir: PathBuf,
    /// How many customers to generate.
    #[arg(long, default_value_t = 3000)]
    customers: u32,
}

pub async fn run(args: Args) -> anyhow::Result<u8> {
    let report = crate::demo::run(&args.dir, args.customers).await?;
    Ok(exit::of_run(&report))
}
