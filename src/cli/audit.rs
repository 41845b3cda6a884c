//! `retentiond audit`: the audit trail.

use super::output;
use crate::config::Config;
use crate::db::{Access, Db, schema::Schema};
use crate::exit;
use crate::store::Store;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Check the audit trail's hash chain; exits 1 if an entry was edited, inserted or removed.
    #[command(
        after_help = "Examples:\n  retentiond audit verify\n  retentiond audit verify --archive    # the archive's own trail"
    )]
    Verify {
        /// Check the archive database's audit trail (what arrived there and what its own
        /// policies deleted) instead of the live one.
        #[arg(long)]
        archive: bool,
    },
    /// Export audit entries (of a run, a policy, a period) as CSV or JSON, with the chain's verdict.
    #[command(long_about = super::audit_export::LONG_ABOUT, after_help = super::audit_export::EXAMPLES)]
    Export(super::audit_export::Args),
}

pub async fn run(command: Command, config: Config) -> anyhow::Result<u8> {
    match command {
        Command::Verify { archive } => verify(config, archive).await,
        Command::Export(args) => super::audit_export::export(args, config).await,
    }
}

async fn verify(config: Config, archive: bool) -> anyhow::Result<u8> {
    let database = match (archive, &config.archive) {
        (false, _) => &config.database,
        (true, Some(a)) => a,
        (true, None) => {
            return Err(crate::engine::EngineError::Usage(
                "--archive: the config has no [archive] section".into(),
            )
            .into());
        }
    };
    let db = Db::connect(database, &config.run, Access::ReadOnly).await?;
    let store = Store::new(&db, &database.table_prefix);
    let schema = Schema::load(&db).await?;
    if !store.installed(&schema) {
        crate::out!(
            "No audit trail yet: retentiond has not run on {}.",
            db.display_url
        );
        return Ok(exit::OK);
    }
    let v = store.verify_audit().await?;
    db.close().await;
    output::print_verification(&v, &store.table("audit"));
    Ok(exit::of_verification(&v))
}
