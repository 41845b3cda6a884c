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

/// Of an anonymize policy's eligible rows, those that a delete policy of the same run
/// deletes first (deletes run before anonymizations), which the anonymization never sees.
pub async fn deleted_first(
    tx: &mut Tx<'_>,
    q: &Queries<'_>,
    earlier: &[Earlier<'_>],
) -> Result<u64, sqlx::Error> {
    let table = q.target.table();
    if q.target.is_delete() || !earlier.iter().any(|e| e.target.table() == table) {
        return Ok(0);
    }
    let sql = q.count_where(|s, sql| {
        s.eligible(sql);
        sql.push(" AND ");
        row_goes_earlier(s, sql, earlier);
    });
    count(tx, &sql).await
}

/// An earlier delete policy of the run deletes this row of `s`'s own table.
fn row_goes_earlier(s: &Queries<'_>, sql: &mut Sql, earlier: &[Earlier<'_>]) {
    let table = s.target.table();
    if !earlier.iter().any(|e| e.target.table() == table) {
        sql.push("1 = 0");
        return;
    }
    let same_row: Vec<String> = s
        .target
        .key
        .iter()
        .map(|k| format!("{} = {}", s.col("g", &k.name), s.col(T, &k.name)))
        .collect();
    sql.push(&format!(
        "EXISTS (SELECT 1 FROM {} AS g WHERE {} AND ",
        s.db.table(table),
        same_row.join(" AND ")
    ));
    goes_earlier(s, sql, "g", table, earlier, MAX_DEPTH);
    sql.push(")");
}

/// A policy whose clock is the latest of related rows that an earlier delete policy of the
/// run deletes: a row whose related rows all go first loses that clock during the run. It is
/// then undated (kept), or without related rows falls back to `otherwise`.
pub struct ClockMoves {
    /// Of the eligible rows: those whose related rows all go first.
    pub eligible: u64,
    /// All rows whose related rows all go first (with `otherwise`, any of them may become
    /// eligible or stop being so).
    pub all: u64,
    pub has_otherwise: bool,
    /// The related table, e.g. `subscriptions`.
    pub table: String,
}

pub async fn clock_moves(
    tx: &mut Tx<'_>,
    q: &Queries<'_>,
    earlier: &[Earlier<'_>],
) -> Result<Option<ClockMoves>, sqlx::Error> {
    let super::target::TargetClock::Related {
        table,
        matches,
        otherwise,
        ..
    } = &q.target.clock
    else {
        return Ok(None);
    };
    if q.subject.is_some() || !earlier.iter().any(|e| e.target.table() == table) {
        return Ok(None);
    }
    let loses_clock = |s: &Queries<'_>, sql: &mut Sql| {
        sql.push("EXISTS (");
        s.related_match(sql, table, matches);
        sql.push(") AND NOT EXISTS (");
        s.related_match(sql, table, matches);
        sql.push(" AND NOT ");
        goes_earlier(s, sql, "r", table, earlier, MAX_DEPTH);
        sql.push(")");
    };
    // Rows deleted first are counted by `deleted_first`.
    let eligible = q.count_where(|s, sql| {
        s.eligible(sql);
        sql.push(" AND ");
        loses_clock(s, sql);
        if !s.target.is_delete() {
            sql.push(" AND NOT ");
            row_goes_earlier(s, sql, earlier);
        }
    });
    let all = q.count_where(|s, sql| {
        sql.push("NOT ");
        s.held(sql);
        sql.push(" AND ");
        loses_clock(s, sql);
    });
    Ok(Some(ClockMoves {
        eligible: count(tx, &eligible).await?,
        all: count(tx, &all).await?,
        has_otherwise: otherwise.is_some(),
        table: table.clone(),
    }))
}

/// Counts, in the plan's transaction, which of `q`'s blocked rows the earlier policies free
/// and which references keep the rest.
pub async fn analyse(
    tx: &mut Tx<'_>,
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

async fn count(tx: &mut Tx<'_>, sql: &Sql) -> Result<u64, sqlx::Error> {
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
    if before.iter().any(|e| fk.child.is_local(e.target.table())) {
        sql.push(" AND NOT ");
        goes_earlier(s, sql, &alias, &fk.child.name, before, depth);
    }
}

/// The row at `alias` of `table` is deleted by one of the delete policies `before` on that
/// table (at least one of them must be on it).
fn goes_earlier(
    s: &Queries<'_>,
    sql: &mut Sql,
    alias: &str,
    table: &str,
    before: &[Earlier<'_>],
    depth: usize,
) {
    let goes: Vec<&Earlier<'_>> = before
        .iter()
        .filter(|e| e.target.table() == table)
        .collect();
    sql.push("(");
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
            parents: None,
        };
        // The child's row, under the alias its own predicates use.
        let same_row: Vec<String> = e
            .target
            .key
            .iter()
            .map(|k| format!("{} = {}", s.col(T, &k.name), s.col(alias, &k.name)))
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
