//! `retentiond install`: retentiond's own tables, and nothing else.

use crate::config::Config;
use crate::db::{Access, Db};
use crate::exit;
use crate::store::Store;

pub const LONG_ABOUT: &str = "Creates or upgrades retentiond's own tables (runs, audit, holds, outbox, \
erasures, migrations; named with [database] table_prefix) and exits. A real run does this \
itself when its account may create tables. Run it once with an administrator's account when \
retentiond's own account may not: MariaDB and MySQL cannot grant privileges on a table before it \
exists, so install first, then grant SELECT, INSERT, UPDATE, DELETE on these tables. Once the \
tables are current, runs issue no DDL.";

pub const EXAMPLES: &str =
    "Example:\n  RETENTIOND_DATABASE__URL=mysql://admin@db/shop retentiond install";

pub async fn run(config: Config) -> anyhow::Result<u8> {
    let db = Db::connect(&config.database, &config.run, Access::ReadWrite).await?;
    Store::new(&db, &config.database.table_prefix)
        .migrate()
        .await?;
    db.close().await;
    crate::out!(
        "retentiond's own tables ({}*) are installed and current on {}.",
        config.database.table_prefix,
        db.display_url
    );
    Ok(exit::OK)
}
