//! `retentiond report`: the retention statement, from the config alone.

use crate::config::Config;
use crate::exit;
use crate::statement::{self, Format, Lang};

pub const LONG_ABOUT: &str = "Renders, from the policies in the config (no database and no secret needed), the \
table for a privacy statement, written for the public: per kind of data, how long it is kept, \
from which moment, what happens then and why (the policy's basis), followed by the entries for \
the record of processing activities (GDPR art. 30(1)(f)). Pseudonymising transforms (hash, \
truncate_ip) are labelled as such. It names no table, column or filter: a policy's `category`, \
`from`, `from_otherwise` and `basis` (and their `nl` versions for --lang nl) give the words; \
`retentiond check` names the policies whose words are missing.";

pub const EXAMPLES: &str = "Examples:\n  retentiond report\n  retentiond report --lang nl --format html > bewaartermijnen.html";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// markdown or html.
    #[arg(long, value_enum, default_value_t = Format::Markdown)]
    format: Format,
    /// Language of the fixed text: en or nl (what the config says stays as written).
    #[arg(long, value_enum, default_value_t = Lang::En)]
    lang: Lang,
}

pub async fn run(args: Args, config: Config) -> anyhow::Result<u8> {
    crate::out!(
        "{}",
        statement::render(&config, args.format, args.lang)?.trim_end()
    );
    Ok(exit::OK)
}
