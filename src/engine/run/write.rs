//! One batch in one transaction: select the next keys, write them the way chosen for the
//! policy, record the audit entry, commit.

use super::super::query::Queries;
use super::super::{render_key, stall_point};
use super::context::{Mode, RunContext};
use crate::db::{Context, DbError, Value};
use crate::store::{audit, format_utc};
use chrono::Utc;

/// How a policy's batches are written, chosen once per policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteStrategy {
    /// PostgreSQL, for a delete or an anonymization done in SQL: select and write in one
    /// statement (see `Queries::write_batch`).
    OneStatement,
    /// Select the keys, then write their key range repeating the whole predicate.
    SelectThenRange,
    /// Select the keys and the values to transform, compute the new values here, write them
    /// set-based, guarded by the values they were computed from (see `Queries::update_rows`).
    SelectThenRows,
    /// Select and lock the rows, copy them to the archive and verify the copies there, then
    /// delete exactly those rows (see `archive::copy`).
    Archive,
}

impl WriteStrategy {
    pub fn choose(q: &Queries<'_>) -> WriteStrategy {
        let t = q.target;
        // An erasure request deletes the subject's rows (copying them elsewhere erases nothing),
        // unless a legal ground keeps them: then they leave the live site for the archive now.
        let kept = matches!(
            t.policy.kept_for,
            Some(crate::config::KeptFor::LegalObligation | crate::config::KeptFor::LegalClaims)
        );
        if t.is_archive() && (q.subject.is_none() || kept) {
            WriteStrategy::Archive
        } else if q.writes_in_one_statement() {
            WriteStrategy::OneStatement
        } else if t.is_delete() || !t.needs_row_values() {
            WriteStrategy::SelectThenRange
        } else {
            WriteStrategy::SelectThenRows
        }
    }
}

/// What a batch did: the rows it changed (for a dry run, that it would change) and the keys
/// it saw, in key order. No keys: the walk is done.
pub struct Written {
    pub rows: u64,
    pub keys: Vec<Vec<Value>>,
}

/// Runs one batch of the policy after the key `after`, at most `limit` keys. A dry run
/// selects the batch as a real run would and writes nothing.
pub async fn batch(
    ctx: &mut RunContext<'_>,
    q: &Queries<'_>,
    strategy: WriteStrategy,
    after: Option<&[Value]>,
    limit: u32,
    batch_no: u64,
) -> Result<Written, DbError> {
    if strategy == WriteStrategy::Archive {
        return archive_batch(ctx, q, after, limit, batch_no).await;
    }
    let t = q.target;
    let what = |what: &str| format!("policy \"{}\": {what}", t.name());
    let nkey = t.key.len();
    // Borrowing only the session (not `ctx.begin()`): the audit below needs the store and chain.
    let mut tx = crate::db::begin_on(&ctx.engine.db, ctx.session.as_mut()).await?;
    let one_statement = match strategy {
        WriteStrategy::OneStatement if ctx.mode.writes() => q.write_batch(after, limit),
        _ => None,
    };
    // Selecting and writing as one statement leaves no moment between them: the test hook
    // stops before it.
    if one_statement.is_some() {
        stall_point("after-select").await;
    }
    let combined = one_statement.is_some();
    let (select, decode) = one_statement.unwrap_or_else(|| q.select_batch(after, limit));
    let rows = tx.fetch(&select, &decode).await.ctx(|| {
        what(if combined {
            "writing a batch"
        } else {
            "selecting a batch"
        })
    })?;
    let keys: Vec<Vec<Value>> = rows.iter().map(|r| r[..nkey].to_vec()).collect();
    let (Some(first), Some(last)) = (keys.first(), keys.last()) else {
        tx.rollback().await.ctx(|| what("ending a transaction"))?;
        return Ok(Written { rows: 0, keys });
    };
    let Mode::Real { run_id } = ctx.mode else {
        tx.rollback().await.ctx(|| what("ending a transaction"))?;
        return Ok(Written {
            rows: keys.len() as u64,
            keys,
        });
    };
    if !combined {
        stall_point("after-select").await;
    }
    let affected = match strategy {
        WriteStrategy::OneStatement => match rows[0].get(nkey) {
            Some(Value::Int(n)) => *n as u64,
            _ => 0,
        },
        WriteStrategy::SelectThenRange if t.is_delete() => tx
            .execute(&q.delete_range(after, last))
            .await
            .ctx(|| what("deleting a batch"))?,
        WriteStrategy::SelectThenRange => tx
            .execute(&q.update_range(after, last))
            .await
            .ctx(|| what("anonymizing a batch"))?,
        WriteStrategy::Archive => unreachable!("archive batches are written by archive_batch"),
        WriteStrategy::SelectThenRows => {
            let key = ctx
                .engine
                .config
                .hash_key
                .as_ref()
                .map(|k| k.expose().as_bytes().to_vec())
                .unwrap_or_default();
            let mut n = 0;
            for sql in q.update_rows(&rows, &key) {
                n += tx.execute(&sql).await.ctx(|| what("anonymizing a batch"))?;
            }
            n
        }
    };
    let entry = audited(&ctx.chain, t, run_id, batch_no, affected, (first, last));
    commit_audited(ctx.store, tx, &entry).await?;
    ctx.chain = entry.hash();
    Ok(Written {
        rows: affected,
        keys,
    })
}

/// One batch of an archive policy (see `archive::copy` for its steps and what a kill between
/// them leaves).
async fn archive_batch(
    ctx: &mut RunContext<'_>,
    q: &Queries<'_>,
    after: Option<&[Value]>,
    limit: u32,
    batch_no: u64,
) -> Result<Written, DbError> {
    use crate::archive::{Stamp, copy};
    let t = q.target;
    let what = |what: &str| format!("policy \"{}\": {what}", t.name());
    let archive = ctx.engine.archive()?;
    let table = archive
        .table(t.table())
        .ok_or_else(|| DbError::Unexpected(what("no archive table is planned")))?;
    let nkey = t.key.len();
    let mut tx = crate::db::begin_on(&ctx.engine.db, ctx.session.as_mut()).await?;
    let (select, decode) = q.select_rows(after, limit, table, ctx.mode.writes());
    let rows = tx
        .fetch(&select, &decode)
        .await
        .ctx(|| what("selecting a batch"))?;
    let rows = copy::Selected::from_rows(table, nkey, rows);
    let keys = rows.keys.clone();
    let (Some(first), Some(last)) = (keys.first(), keys.last()) else {
        tx.rollback().await.ctx(|| what("ending a transaction"))?;
        return Ok(Written { rows: 0, keys });
    };
    let Mode::Real { run_id } = ctx.mode else {
        tx.rollback().await.ctx(|| what("ending a transaction"))?;
        return Ok(Written {
            rows: keys.len() as u64,
            keys,
        });
    };
    stall_point("after-select").await;
    let copied_at = format_utc(Utc::now());
    let stamp = Stamp {
        policy: t.name(),
        run: run_id,
        batch: batch_no as i64,
        at: &copied_at,
    };
    copy::copy(archive, table, &rows, &stamp).await?;
    let mut affected = 0;
    for chunk in keys.chunks(archive.keys_per_statement(table)) {
        affected += tx
            .execute(&q.delete_keys(chunk))
            .await
            .ctx(|| what("deleting an archived batch"))?;
    }
    // Rows the delete left were no longer expired when it ran: their copies go again.
    let mut survivors = std::collections::BTreeSet::new();
    if affected < keys.len() as u64 {
        for chunk in keys.chunks(archive.keys_per_statement(table)) {
            let (sql, decode) = q.existing_keys(chunk, None);
            survivors.extend(
                tx.fetch(&sql, &decode)
                    .await
                    .ctx(|| what("finding the rows a batch kept"))?,
            );
        }
    }
    let entry = audited(&ctx.chain, t, run_id, batch_no, affected, (first, last));
    commit_audited(ctx.store, tx, &entry).await?;
    ctx.chain = entry.hash();
    stall_point("after-live-commit").await;
    copy::settle(archive, table, &rows, &survivors, entry).await?;
    Ok(Written {
        rows: affected,
        keys,
    })
}

/// The audit entry of a batch that wrote `rows` rows between the keys `range`, chained to
/// `chain`.
fn audited(
    chain: &str,
    t: &crate::engine::Target,
    run_id: i64,
    batch_no: u64,
    rows: u64,
    range: (&[Value], &[Value]),
) -> audit::Entry {
    audit::Entry {
        run_id,
        policy: t.name().to_string(),
        table: t.table().to_string(),
        action: t.policy.action.name().to_string(),
        batch: batch_no as i64,
        rows: rows as i64,
        key_first: render_key(&t.key, range.0),
        key_last: render_key(&t.key, range.1),
        recorded_at: format_utc(Utc::now()),
        prev_hash: chain.to_string(),
    }
}

/// Inserts the batch's audit entry in its transaction and commits both.
async fn commit_audited(
    store: &crate::store::Store<'_>,
    mut tx: crate::db::Tx<'_>,
    entry: &audit::Entry,
) -> Result<(), DbError> {
    store.insert_audit(&mut tx, entry).await?;
    stall_point("before-commit").await;
    tx.commit()
        .await
        .ctx(|| format!("policy \"{}\": committing a batch", entry.policy))
}
