//! The parents whose related clock has run out, found once per run.
//!
//! A policy whose clock lives in a related table (messages kept until six months after the
//! customer's last subscription ended) otherwise asks the related table twice for every row
//! it walks past, expired or not. Built once as a temporary table, one aggregate over the
//! related table, the walk looks each row's parent up there first and asks the related table
//! only for the rows that pass. It narrows and never widens: every statement still checks the
//! related rows as they are at that moment, so a parent that took a new subscription during
//! the run keeps its rows, and one whose clock ran out during the run is the next run's.

use super::query::Queries;
use super::{Engine, EngineError, Target};
use crate::db::{Dialect, Session, Sql};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// The temporary tables built for one run, by policy.
#[derive(Debug, Default)]
pub struct Parents {
    tables: HashMap<usize, String>,
}

impl Parents {
    /// The parents table of this policy, if one was built.
    pub fn of(&self, t: &Target) -> Option<&str> {
        self.tables.get(&t.index).map(String::as_str)
    }

    /// Builds a table for each selected policy with a related clock. A server that refuses
    /// (no right to create temporary tables, a key type it cannot index) leaves that policy
    /// without one: slower, and the same rows.
    pub async fn build(
        engine: &Engine,
        session: &mut Session,
        selected: &[&Target],
        cutoff: DateTime<Utc>,
    ) -> Result<Parents, EngineError> {
        let mut parents = Parents::default();
        for t in selected {
            if !matches!(t.clock, super::target::TargetClock::Related { .. }) {
                continue;
            }
            let th = engine.thresholds(t, cutoff)?;
            let q = Queries {
                db: &engine.db,
                target: t,
                thresholds: &th,
                subject: None,
                walk_end: None,
                parents: None,
            };
            let table = engine
                .db
                .dialect
                .temp_table(&format!("retentiond_parents_{}", t.index));
            match fill(session, &q, &table).await {
                Ok(rows) => {
                    tracing::debug!(
                        policy = t.name(),
                        parents = rows,
                        "found the parents whose clock has run out"
                    );
                    parents.tables.insert(t.index, table);
                }
                Err(e) => {
                    let _ = session
                        .execute(&Sql::raw(
                            engine.db.dialect,
                            &engine.db.dialect.drop_temp_table(&table),
                        ))
                        .await;
                    tracing::info!(
                        policy = t.name(),
                        error = %e,
                        "walking without a set of expired parents: the server refused the temporary table"
                    );
                }
            }
        }
        Ok(parents)
    }
}

/// Creates, keys and fills one parents table; returns how many parents it holds.
async fn fill(session: &mut Session, q: &Queries<'_>, table: &str) -> Result<u64, sqlx::Error> {
    let d = q.db.dialect;
    let (Some(shape), Some(key), Some(insert)) = (
        q.parents_shape(table),
        q.parents_key(table),
        q.fill_parents(table),
    ) else {
        return Ok(0);
    };
    session
        .execute(&Sql::raw(d, &d.drop_temp_table(table)))
        .await?;
    session.execute(&Sql::raw(d, &shape)).await?;
    session.execute(&Sql::raw(d, &key)).await?;
    if d == Dialect::MySql {
        // An INSERT ... SELECT under REPEATABLE READ locks the rows it reads; READ COMMITTED
        // reads a snapshot and leaves the application's subscriptions free.
        session
            .execute(&Sql::raw(
                d,
                "SET TRANSACTION ISOLATION LEVEL READ COMMITTED",
            ))
            .await?;
    }
    let rows = session.execute(&insert).await?;
    if d == Dialect::Postgres {
        // Temporary tables are never analyzed on their own: without it the planner guesses
        // their size.
        session
            .execute(&Sql::raw(d, &format!("ANALYZE {table}")))
            .await?;
    }
    Ok(rows)
}
