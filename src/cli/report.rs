//! `retentiond report`: the retention statement, from the config alone.

use crate::config::Config;
use crate::exit;
use crate::statement::{self, Format, Lang};

pub const LONG_ABOUT: &str = "Renders, from the policies in the config (no database needed), the table for a \
privacy statement: per kind of data, where it is, how long it is kept, from which moment, what \
happens then and why (the policy's basis), followed by the entries for the record of processing \
activities (GDPR art. 30(1)(f)). Pseudonymising transforms (hash, truncate_ip) are labelled as \
such. A policy's optional `category` and `from` keys give the wording for the data and the \
starting moment; without them the policy name and the clock column are shown.";

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
    crate::out!("{}", statement::render(&config, args.format, args.lang));
    Ok(exit::OK)
}
