//! `retentiond erase`: an erasure request (GDPR art. 17) for one data subject, or the replay
//! of the ledger after a restore.

use super::{output, warn_write_denied};
use crate::config::Config;
use crate::db::Access;
use crate::engine::{Engine, EngineError, RunOptions};
use crate::exit;
use std::path::PathBuf;

pub const LONG_ABOUT: &str = "For one data subject (the key the policies' `subject` links hold, e.g. a customer \
id), applies now every policy's action, whatever its clock says: rows are deleted or anonymized \
in audited batches, children first, as in a run. Policies marked keep_for_obligation (invoices, \
payments) keep the subject's rows; anonymize policies on the same tables still strip them. Held \
records stay. Prints the answer the controller owes the data subject: what was erased, what was \
kept, why and until when (--markdown FILE writes it too). The run records a request id; the \
subject's key goes into a ledger for [erase] ledger_retain (default 90 days) so that \
`erase --replay` can erase it again after a backup is restored.";

pub const EXAMPLES: &str = "Examples:\n  retentiond erase --subject 4711 --dry-run\n  \
retentiond erase --subject 4711 --markdown answer-4711.md\n  \
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
    /// Also write the answer to the data subject to this Markdown file.
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// Erase again every subject in the ledger (run after restoring a backup).
    #[arg(long)]
    replay: bool,
    /// Print JSON instead of the answer.
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
        stop: Some(stop),
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
            crate::out!("{}", output::erasure_answer(r));
        }
    }
    if let (Some(path), Some(r)) = (args.markdown, reports.first()) {
        std::fs::write(&path, output::erasure_answer(r))
            .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
    }
    Ok(exit::OK)
}
