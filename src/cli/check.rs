//! `retentiond check`: the config against the live schema, changing nothing.

use super::output;
use crate::config::Config;
use crate::db::Access;
use crate::engine::{Engine, EngineError};
use crate::exit;

pub const LONG_ABOUT: &str = "Loads the config, connects, and checks every policy against the live schema: \
each table, key, clock column and its type, and whether each column's type fits its transform. \
Every problem is reported at once, with the config key it is about. Exits 2 on any problem.\n\n\
With --coverage it also looks for personal data that no policy will ever remove: columns whose \
name suggests contact or identity data (email, phone, ip, name, address, iban, birth, ...) or \
whose sampled values look like e-mail or IP addresses, in tables no delete policy covers and \
that no anonymize policy strips. It names tables and columns, never values.";

pub const EXAMPLES: &str = "Examples:\n  retentiond --config /etc/retentiond/retentiond.toml check\n  \
retentiond check --coverage --strict    # exit 2 when personal data is left uncovered";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Also look for personal data that no policy covers.
    #[arg(long)]
    coverage: bool,
    /// With --coverage: uncovered personal data is an error (exit 2).
    #[arg(long, requires = "coverage")]
    strict: bool,
}

pub async fn run(args: Args, config: Config) -> anyhow::Result<u8> {
    let engine = Engine::prepare(config, Access::ReadOnly).await?;
    // check answers for a real run: a grant only it needs is as missing as any other.
    if !engine.write_denied.is_empty() {
        return Err(EngineError::Check(engine.write_denied).into());
    }
    output::print_check(&engine);
    check_archive(&engine).await?;
    match crate::engine::pacing::Pacing::budget_of(&engine.db, &engine.config.run).await {
        Ok(budget) => crate::out!("Write budget: {}.", budget.why),
        Err(e) => crate::out!("Write budget: cannot be read: {e}."),
    }
    let findings = if args.coverage {
        let findings = engine.coverage().await?;
        output::print_coverage(&findings);
        findings
    } else {
        Vec::new()
    };
    engine.db.close().await;
    if args.strict && !findings.is_empty() {
        return Err(EngineError::Usage(format!(
            "--strict: {} column(s) of personal data are not covered by any policy",
            findings.len()
        ))
        .into());
    }
    Ok(exit::OK)
}

/// The archive: reachable, and its tables as the live ones need them (or made by the first
/// run). An archive that cannot be reached or a table that does not fit is a problem.
async fn check_archive(engine: &Engine) -> anyhow::Result<()> {
    let archive = match &engine.archive {
        Ok(None) => return check_archive_side(engine),
        Ok(Some(a)) => a,
        Err(why) => return Err(EngineError::Usage(why.clone()).into()),
    };
    let (notes, problems) = archive.describe().await?;
    crate::out!(
        "Archive: {} ({} table(s)).",
        archive.db.display_url,
        archive.tables.len()
    );
    for n in notes {
        crate::out!("  {n}");
    }
    if !problems.is_empty() {
        return Err(EngineError::Usage(format!(
            "the archive does not fit:\n  - {}",
            problems.join("\n  - ")
        ))
        .into());
    }
    check_archive_side(engine)
}

/// The archive's own policies, checked against the archive's tables.
fn check_archive_side(engine: &Engine) -> anyhow::Result<()> {
    match &engine.archive_side {
        Ok(Some(side)) => {
            crate::out!("Archive policies, run after the live ones:");
            if !side.targets.is_empty() {
                output::print_policies(&side.targets);
            }
            for n in &side.not_yet_archived {
                crate::out!("  {n}");
            }
        }
        Ok(None) => {}
        Err(why) => return Err(EngineError::Usage(why.clone()).into()),
    }
    Ok(())
}
