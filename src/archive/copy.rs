//! One archive batch, and the settling of copies a killed run left behind.
//!
//! A batch: in the live transaction, select the next rows and lock them; write their copies to
//! the archive (state `copied`) and commit there; read the copies back and compare each digest
//! with the live row's; delete exactly those rows live, repeating the whole predicate, with the
//! audit entry, and commit; then mark the copies `archived` and record the batch in the
//! archive's own audit trail. A kill at any point leaves copies `copied`: the next run's
//! `settle_unfinished` marks those whose live row is gone and removes those whose live row
//! stayed (the walk copies these again while they are expired).

use super::{ARCHIVED, Archive, ArchivedTable, Stamp, columns, common_form};
use crate::db::{Context, DbError, Dialect, Tx, Value};
use crate::engine::query::Queries;
use crate::store::{Store, audit, format_utc};
use chrono::Utc;
use std::collections::BTreeSet;

/// An archive-side failure fails the policy, never the run: the other policies go on.
fn archive_failed(e: DbError) -> DbError {
    match e {
        e @ DbError::Refused { .. } => e,
        e => DbError::Refused {
            context: "the archive".into(),
            reason: e.to_string(),
        },
    }
}

/// The rows of one batch as read live.
pub struct Selected {
    /// Per row: the key as the live statements bind it.
    pub keys: Vec<Vec<Value>>,
    /// Per row: every column in its common form, in the archived table's order.
    pub values: Vec<Vec<Option<String>>>,
    pub digests: Vec<String>,
}

impl Selected {
    pub fn from_rows(t: &ArchivedTable, nkey: usize, rows: Vec<Vec<Value>>) -> Selected {
        let mut s = Selected {
            keys: Vec::with_capacity(rows.len()),
            values: Vec::with_capacity(rows.len()),
            digests: Vec::with_capacity(rows.len()),
        };
        for row in rows {
            let values = common_form(t, &row[nkey..]);
            s.digests.push(columns::digest(&t.columns, &values));
            s.values.push(values);
            s.keys.push(row[..nkey].to_vec());
        }
        s
    }

    fn archive_keys(&self, t: &ArchivedTable) -> Vec<Vec<Option<String>>> {
        self.values.iter().map(|v| t.key_of(v)).collect()
    }
}

/// Writes the batch's copies and commits them in the archive, then checks that the archive
/// holds each row exactly. A key the archive holds as `archived` with other content is a
/// different record under a reused key: it is never overwritten.
pub async fn copy(
    archive: &Archive,
    t: &ArchivedTable,
    rows: &Selected,
    stamp: &Stamp<'_>,
) -> Result<(), DbError> {
    let keys = rows.archive_keys(t);
    let key_refs: Vec<&[Option<String>]> = keys.iter().map(Vec::as_slice).collect();
    let mut tx = archive.db.begin().await.map_err(archive_failed)?;
    archive.durable(&mut tx).await.map_err(archive_failed)?;
    let before = archive
        .read_back(&mut tx, t, &key_refs)
        .await
        .map_err(archive_failed)?;
    let mut write = Vec::with_capacity(rows.values.len());
    for ((key, values), digest) in keys.iter().zip(&rows.values).zip(&rows.digests) {
        match before.get(key) {
            Some(held) if held.state == ARCHIVED && held.digest == *digest => {}
            Some(held) if held.state == ARCHIVED => {
                let _ = tx.rollback().await;
                return Err(super::refused(
                    &t.name,
                    format!(
                        "the archive already holds a different row with the key {} (archived \
                         earlier): a key used again for another record; nothing of this batch \
                         was deleted",
                        render(t, key)
                    ),
                ));
            }
            _ => write.push((values.as_slice(), digest.as_str())),
        }
    }
    if !write.is_empty() {
        archive
            .upsert(&mut tx, t, &write, stamp)
            .await
            .map_err(archive_failed)?;
    }
    tx.commit()
        .await
        .ctx(|| "committing copies in the archive".into())
        .map_err(archive_failed)?;
    crate::engine::stall_point("after-archive-commit").await;
    let mut tx = archive.db.begin().await.map_err(archive_failed)?;
    let held = archive
        .read_back(&mut tx, t, &key_refs)
        .await
        .map_err(archive_failed)?;
    let _ = tx.rollback().await;
    for ((key, digest), values) in keys.iter().zip(&rows.digests).zip(&rows.values) {
        match held.get(key) {
            Some(copy) if copy.digest == *digest => {}
            Some(copy) => {
                let differ: Vec<&str> = t
                    .columns
                    .iter()
                    .zip(values.iter().zip(&copy.values))
                    .filter(|(_, (live, archived))| live != archived)
                    .map(|(c, _)| c.name.as_str())
                    .collect();
                return Err(super::refused(
                    &t.name,
                    format!(
                        "the archive's copy of the row with the key {} differs from the live row in \
                         {} (a value the archive's column cannot hold exactly); nothing of this \
                         batch was deleted",
                        render(t, key),
                        differ.join(", ")
                    ),
                ));
            }
            None => {
                return Err(super::refused(
                    &t.name,
                    format!(
                        "the archive holds no copy of the row with the key {} after committing it; \
                         nothing of this batch was deleted",
                        render(t, key)
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// After the live delete committed: the deleted rows' copies become `archived`, the copies of
/// rows the delete left (no longer expired when it ran) go, and the archive's audit trail
/// records the batch.
pub async fn settle(
    archive: &Archive,
    t: &ArchivedTable,
    rows: &Selected,
    survivors: &BTreeSet<Vec<Value>>,
    entry: audit::Entry,
) -> Result<(), DbError> {
    let keys = rows.archive_keys(t);
    let store = archive.store();
    let mut tx = archive.db.begin().await.map_err(archive_failed)?;
    settle_by_live(archive, &mut tx, t, &rows.keys, &keys, survivors).await?;
    record(&store, &mut tx, entry)
        .await
        .map_err(archive_failed)?;
    tx.commit()
        .await
        .ctx(|| "committing the archive's audit entry".into())
        .map_err(archive_failed)
}

/// Settles copies by what happened to their live rows: a copy whose live key is in `still_live`
/// is removed, every other one becomes `archived`. Returns (archived, removed).
async fn settle_by_live(
    archive: &Archive,
    tx: &mut Tx<'_>,
    t: &ArchivedTable,
    live_keys: &[Vec<Value>],
    keys: &[Vec<Option<String>>],
    still_live: &BTreeSet<Vec<Value>>,
) -> Result<(u64, u64), DbError> {
    let (mut gone, mut kept) = (Vec::new(), Vec::new());
    for (live, key) in live_keys.iter().zip(keys) {
        if still_live.contains(live) {
            kept.push(key.as_slice());
        } else {
            gone.push(key.as_slice());
        }
    }
    let archived = archive
        .settle(tx, t, &gone, false)
        .await
        .map_err(archive_failed)?;
    let removed = archive
        .settle(tx, t, &kept, true)
        .await
        .map_err(archive_failed)?;
    Ok((archived, removed))
}

/// Appends `entry` to the archive's audit trail, chained to its last entry (read in the same
/// transaction).
async fn record(
    store: &Store<'_>,
    tx: &mut Tx<'_>,
    mut entry: audit::Entry,
) -> Result<(), DbError> {
    let last = store.last_audit_hash_in(tx).await?;
    entry.prev_hash = last;
    store.insert_audit(tx, &entry).await
}

/// Settles what a killed run left: copies still `copied` for this policy. The live audit
/// trail says whether their batch's delete committed (its entry commits with it):
/// - not committed: the copy goes (the walk copies the row again while it is expired);
/// - committed, and the live row is gone: the copy is `archived`;
/// - committed, and the same row is still live (the delete kept it: it had stopped being
///   expired): the copy goes;
/// - committed, and a different row now has the key (a key used again): the copy is the only
///   place of the record that went, so it is kept as `archived`, and a warning says so.
///
/// Returns how many copies became `archived`.
pub async fn settle_unfinished(
    archive: &Archive,
    t: &ArchivedTable,
    q: &Queries<'_>,
    live: &Store<'_>,
    run_id: i64,
) -> Result<u64, DbError> {
    const CHUNK: u32 = 1000;
    let policy = q.target.name();
    let mut archived = 0;
    let mut committed: std::collections::BTreeMap<(i64, i64), bool> = Default::default();
    loop {
        let pending = archive
            .unsettled(t, policy, CHUNK)
            .await
            .map_err(archive_failed)?;
        if pending.is_empty() {
            return Ok(archived);
        }
        for p in &pending {
            if let std::collections::btree_map::Entry::Vacant(e) = committed.entry((p.run, p.batch))
            {
                e.insert(live.has_batch(p.run, policy, p.batch).await?);
            }
        }
        let live_keys: Vec<Vec<Value>> = pending
            .iter()
            .map(|p| {
                t.key_columns()
                    .zip(&p.key)
                    .map(|(c, v)| live_key(&c.carried, v.as_deref(), q.db.dialect))
                    .collect()
            })
            .collect();
        let (sql, decode) = q.existing_keys(&live_keys, Some(t));
        let nkey = t.key.len();
        let still_live: std::collections::BTreeMap<Vec<Value>, String> =
            q.db.read(
                &sql,
                &decode,
                "finding live rows of unsettled archive copies",
            )
            .await?
            .into_iter()
            .map(|r| {
                let values = common_form(t, &r[nkey..]);
                (r[..nkey].to_vec(), columns::digest(&t.columns, &values))
            })
            .collect();
        let (mut gone, mut drop) = (Vec::new(), Vec::new());
        let mut reused = 0;
        for (p, live_key) in pending.iter().zip(&live_keys) {
            let done = committed.get(&(p.run, p.batch)).copied().unwrap_or(false);
            match (done, still_live.get(live_key)) {
                (false, _) => drop.push(p.key.as_slice()),
                (true, None) => gone.push(p.key.as_slice()),
                (true, Some(digest)) if *digest == p.digest => drop.push(p.key.as_slice()),
                (true, Some(_)) => {
                    reused += 1;
                    gone.push(p.key.as_slice());
                }
            }
        }
        if reused > 0 {
            tracing::warn!(
                policy,
                copies = reused,
                "archived copies whose key a different live row now has (a key used again): the copies are kept"
            );
        }
        let store = archive.store();
        let mut tx = archive.db.begin().await.map_err(archive_failed)?;
        let n = archive
            .settle(&mut tx, t, &gone, false)
            .await
            .map_err(archive_failed)?;
        let removed = archive
            .settle(&mut tx, t, &drop, true)
            .await
            .map_err(archive_failed)?;
        if n > 0 {
            let entry = audit::Entry {
                run_id,
                policy: policy.to_string(),
                table: t.name.clone(),
                action: "archive".into(),
                batch: 0,
                rows: n as i64,
                key_first: String::new(),
                key_last: String::new(),
                recorded_at: format_utc(Utc::now()),
                prev_hash: String::new(),
            };
            record(&store, &mut tx, entry)
                .await
                .map_err(archive_failed)?;
        }
        tx.commit()
            .await
            .ctx(|| "settling unfinished archive copies".into())
            .map_err(archive_failed)?;
        tracing::info!(
            policy,
            archived = n,
            removed,
            "settled the archive copies an earlier run left unconfirmed"
        );
        if n + removed == 0 {
            // Nothing matched: settling again would read the same copies for ever.
            return Err(super::refused(
                &t.name,
                "copies left unconfirmed by an earlier run could not be settled".into(),
            ));
        }
        archived += n;
    }
}

/// A key part in its common form as the live statements bind it (see `Queries::key_select`).
fn live_key(c: &columns::Carried, v: Option<&str>, live: Dialect) -> Value {
    use columns::Carried;
    let Some(v) = v else {
        return Value::Null;
    };
    let parsed = match c {
        Carried::Integer | Carried::BigInteger => v.parse().ok().map(Value::Int),
        Carried::Binary => hex::decode(v).ok().map(Value::Bytes),
        Carried::Date if live != Dialect::Sqlite => {
            chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .ok()
                .map(Value::Date)
        }
        Carried::Timestamp if live != Dialect::Sqlite => {
            chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S%.f")
                .ok()
                .map(Value::Timestamp)
        }
        Carried::Instant if live != Dialect::Sqlite => {
            chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S%.f")
                .ok()
                .map(|t| Value::TimestampTz(t.and_utc()))
        }
        _ => None,
    };
    parsed.unwrap_or_else(|| Value::Text(v.to_string()))
}

/// A key for a message: only integer and uuid parts, as the audit trail writes keys.
fn render(t: &ArchivedTable, key: &[Option<String>]) -> String {
    t.key_columns()
        .zip(key)
        .map(|(c, v)| match (&c.carried, v) {
            (
                columns::Carried::Integer | columns::Carried::BigInteger | columns::Carried::Uuid,
                Some(v),
            ) => v.clone(),
            _ => "*".into(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
