//! Why a delete policy's expired rows are blocked, and which of them the run frees.
//!
//! A run deletes children first (`order`), so a row that only rows of earlier delete policies
//! reference is blocked when `plan` counts, and deleted by the run once those have gone. The
//! plan counts those rows as eligible (what the run deletes), and names, per foreign key, the
//! rows that stay blocked and the table whose rows keep them.
//!
//! A row "goes earlier" when an earlier delete policy of the run on its table would delete it:
//! expired, not held, and not blocked, or (a chain: payments free invoices, which free
//! customers) blocked only by rows that go earlier still, up to `MAX_DEPTH` links. A
//! reference from the row's own table is not followed: it keeps the row here (replies to
//! replies are counted by `Queries::count_freed_by_own_deletes`).

use super::query::{Queries, T, Thresholds};
use super::target::Target;
use crate::db::schema::ForeignKey;
use crate::db::{Decode, Sql, Tx, Value};
use serde::Serialize;

/// How many links of a chain of references the prediction follows.
const MAX_DEPTH: usize = 4;

/// A delete policy that runs before the one being counted, with its thresholds in this run.
pub struct Earlier<'a> {
    pub target: &'a Target,
    pub thresholds: Thresholds,
}

/// The rows of one foreign key that keep a policy's expired rows after this run.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BlockedBy {
    /// The referencing table, e.g. `payments`.
    pub table: String,
    /// Its referencing columns, e.g. `["invoice_id"]`.
    pub columns: Vec<String>,
    /// Expired rows of the policy that rows of `table` still reference after the run (a row
    /// referenced through several keys counts under each).
    pub rows: u64,
    /// An earlier policy of this run deletes rows of `table` (so some references go).
    pub purged_earlier: bool,
}

/// What the plan says about a policy's blocked rows.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// Blocked rows the run frees by deleting the rows that reference them first.
    pub freed_by_earlier: u64,
    pub blocked_by: Vec<BlockedBy>,
}

/// Counts, in the plan's transaction, which of `q`'s blocked rows the earlier policies free
/// and which references keep the rest.
pub async fn analyse(
    tx: &mut Tx,
    q: &Queries<'_>,
    earlier: &[Earlier<'_>],
) -> Result<Analysis, sqlx::Error> {
    let mut analysis = Analysis::default();
    if !q.target.is_delete() || q.subject.is_some() {
        return Ok(analysis);
    }
    let freed = q.count_where(|s, sql| {
        expired_and_held_not(s, sql);
        sql.push(" AND ");
        s.blocked(sql);
        sql.push(" AND ");
        all_references_go(s, sql, earlier, MAX_DEPTH);
    });
    analysis.freed_by_earlier = count(tx, &freed).await?;
    for (i, fk) in q.target.blockers.iter().enumerate() {
        let stays = q.count_where(|s, sql| {
            expired_and_held_not(s, sql);
            sql.push(" AND EXISTS (");
            staying_references(s, sql, fk, i, earlier, MAX_DEPTH);
            sql.push(")");
        });
        let rows = count(tx, &stays).await?;
        if rows > 0 {
            analysis.blocked_by.push(BlockedBy {
                table: fk.child.to_string(),
                columns: fk.child_columns.clone(),
                rows,
                purged_earlier: earlier.iter().any(|e| fk.child.is_local(e.target.table())),
            });
        }
    }
    Ok(analysis)
}

async fn count(tx: &mut Tx, sql: &Sql) -> Result<u64, sqlx::Error> {
    Ok(match tx.fetch(sql, &[Decode::Int]).await?.first() {
        Some(row) => match row.first() {
            Some(Value::Int(n)) => (*n).max(0) as u64,
            _ => 0,
        },
        None => 0,
    })
}

fn expired_and_held_not(s: &Queries<'_>, sql: &mut Sql) {
    s.expired(sql);
    sql.push(" AND NOT ");
    s.held(sql);
}

/// Every row that references this one through `s`'s foreign keys goes earlier in the run.
fn all_references_go(s: &Queries<'_>, sql: &mut Sql, earlier: &[Earlier<'_>], depth: usize) {
    if s.target.blockers.is_empty() {
        sql.push("1 = 1");
        return;
    }
    for (i, fk) in s.target.blockers.iter().enumerate() {
        if i > 0 {
            sql.push(" AND ");
        }
        sql.push("NOT EXISTS (");
        staying_references(s, sql, fk, i, earlier, depth);
        sql.push(")");
    }
}

/// `SELECT 1` from the rows that reference `s`'s row through `fk` and do not go earlier.
fn staying_references(
    s: &Queries<'_>,
    sql: &mut Sql,
    fk: &ForeignKey,
    i: usize,
    earlier: &[Earlier<'_>],
    depth: usize,
) {
    let alias = format!("b{depth}_{i}");
    let conds: Vec<String> = fk
        .child_columns
        .iter()
        .zip(&fk.parent_columns)
        .map(|(cc, pc)| format!("{} = {}", s.col(&alias, cc), s.col(T, pc)))
        .collect();
    sql.push(&format!(
        "SELECT 1 FROM {} AS {alias} WHERE {}",
        s.referencing_rows(fk),
        conds.join(" AND ")
    ));
    if fk.child.is_local(s.target.table()) {
        return;
    }
    // Only the policies before the one whose row is referenced; each link looks further back.
    let own = earlier
        .iter()
        .position(|e| std::ptr::eq(e.target, s.target))
        .unwrap_or(earlier.len());
    let before = &earlier[..own];
    let goes: Vec<&Earlier<'_>> = before
        .iter()
        .filter(|e| fk.child.is_local(e.target.table()))
        .collect();
    if goes.is_empty() {
        return;
    }
    sql.push(" AND NOT (");
    for (n, e) in goes.iter().enumerate() {
        if n > 0 {
            sql.push(" OR ");
        }
        let child = Queries {
            db: s.db,
            target: e.target,
            thresholds: &e.thresholds,
            subject: None,
            walk_end: None,
        };
        // The child's row, under the alias its own predicates use.
        let same_row: Vec<String> = e
            .target
            .key
            .iter()
            .map(|k| format!("{} = {}", s.col(T, &k.name), s.col(&alias, &k.name)))
            .collect();
        sql.push(&format!(
            "EXISTS (SELECT 1 FROM {} AS {T} WHERE {} AND ",
            s.db.table(e.target.table()),
            same_row.join(" AND ")
        ));
        expired_and_held_not(&child, sql);
        sql.push(" AND (NOT ");
        child.blocked(sql);
        if depth > 1 {
            sql.push(" OR ");
            all_references_go(&child, sql, before, depth - 1);
        }
        sql.push("))");
    }
    sql.push(")");
}
