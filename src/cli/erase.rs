//! `retentiond erase`: an erasure request (GDPR art. 17) for one data subject, or the replay
//! of the ledger after a restore.

use super::{output, prepare};
use crate::answer;
use crate::config::Config;
use crate::engine::{EngineError, RunOptions};
use crate::exit;
use crate::statement::{Format, Lang};
use std::path::PathBuf;

pub const LONG_ABOUT: &str = "For one data subject (the key the policies' `subject` links hold, e.g. a customer \
id), applies now every policy's action, whatever its clock says: rows are deleted or anonymized \
in audited batches, children first, as in a run. A policy with kept_for (legal_obligation: \
invoices; legal_claims: proof of accepted terms) keeps the subject's rows as they are until its \
period runs out; kept_for = \"suppression\" applies the action and keeps the row (a do-not-mail \
entry). Held records stay. Prints the answer the controller owes the data subject, in English or \
Dutch, as Markdown or HTML: what was erased, what was only pseudonymised, what is kept, on which \
ground and until when, when backups lose it ([erase] backup_retention), and the right to \
complain (--output FILE writes it too). The run records a request id; the subject's key goes \
into a ledger for [erase] ledger_retain (default 90 days) so that `erase --replay` can erase it \
again after a backup is restored.";

pub const EXAMPLES: &str = "Examples:\n  retentiond erase --subject 4711 --dry-run\n  \
retentiond erase --subject 4711 --lang nl --format html --output antwoord-4711.html\n  \
retentiond erase --replay    # after restoring a backup";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The data subject's key, e.g. the customer id.
    #[arg(
        long,
        value_name = "KEY",
        required_unless_present = "replay",
        conflicts_with = "replay"
    )]
    subject: Option<String>,
    /// Count what would happen, in read-only transactions; write nothing.
    #[arg(long, conflicts_with = "replay")]
    dry_run: bool,
    /// Also write the answer to the data subject to this file.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// The answer as Markdown (also fit to read as plain text) or as an HTML page.
    #[arg(long, value_enum, default_value_t = Format::Markdown)]
    format: Format,
    /// Language of the answer: en or nl (the policies' own words as the config gives them).
    /// Default: the summary's `report.language`, else en.
    #[arg(long, value_enum)]
    lang: Option<Lang>,
    /// Erase again every subject in the ledger (run after restoring a backup).
    #[arg(long)]
    replay: bool,
    /// Print JSON instead of the answer.
    #[arg(long)]
    json: bool,
}

pub async fn run(args: Args, config: Config) -> anyhow::Result<u8> {
    let engine = prepare(config, args.dry_run).await?;
    let lang = args
        .lang
        .or(engine.config.report.as_ref().map(|r| r.language))
        .unwrap_or(Lang::En);
    let signals = crate::signals::install()?;
    let opts = RunOptions {
        stop: Some(signals.flag()),
        now: super::test_now()?,
        ..RunOptions::default()
    };
    let reports = match (args.replay, args.subject) {
        (true, _) => engine.replay_erasures(&opts).await,
        (false, Some(subject)) => engine
            .erase(&subject, args.dry_run, None, &opts)
            .await
            .map(|r| vec![r]),
        (false, None) => Err(EngineError::Usage("give --subject KEY, or --replay".into())),
    };
    engine.db.close().await;
    let reports = reports?;
    if args.json {
        crate::out!("{}", serde_json::to_string_pretty(&reports)?);
    } else if args.replay {
        output::print_replay(&reports);
    } else {
        for r in &reports {
            crate::out!("{}", answer::render(r, &engine.config, args.format, lang));
        }
    }
    if let (Some(path), Some(r)) = (args.output, reports.first()) {
        std::fs::write(&path, answer::render(r, &engine.config, args.format, lang))
            .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
    }
    Ok(exit::after_signals(exit::OK, signals.sigint()))
}
