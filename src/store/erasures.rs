//! The erasure ledger: which data subjects were erased, by which request and run, kept for
//! `ledger_retain` so that `erase --replay` can erase them again after a backup is restored.
//! It holds surrogate keys only, never a name, an address or a hash of one.

use super::Store;
use crate::db::{DbError, Decode, Value};
use chrono::{DateTime, Utc};

impl Store<'_> {
    /// Marks a run as carrying out an erasure request.
    pub async fn set_request_id(&self, run_id: i64, request_id: &str) -> Result<(), DbError> {
        let mut q = self.db.sql();
        q.push(&format!("UPDATE {} SET request_id = ", self.table("runs")))
            .bind(Value::Text(request_id.into()))
            .push(" WHERE id = ")
            .bind(Value::Int(run_id));
        self.db.write(&q, "recording the request id").await?;
        Ok(())
    }

    pub async fn record_erasure(
        &self,
        request_id: &str,
        subject: &str,
        run_id: i64,
    ) -> Result<(), DbError> {
        let mut q = self.db.sql();
        q.push(&format!(
            "INSERT INTO {} (request_id, subject, run_id, erased_at) VALUES (",
            self.table("erasures")
        ))
        .bind(Value::Text(request_id.into()))
        .push(", ")
        .bind(Value::Text(subject.into()))
        .push(", ")
        .bind(Value::Int(run_id))
        .push(&format!(", {})", self.now_expr()));
        self.db
            .write(&q, "recording the erasure in the ledger")
            .await?;
        Ok(())
    }

    /// Drops ledger entries older than `before`; returns how many.
    pub async fn prune_erasures(&self, before: DateTime<Utc>) -> Result<u64, DbError> {
        let mut q = self.db.sql();
        q.push(&format!(
            "DELETE FROM {} WHERE erased_at < ",
            self.table("erasures")
        ))
        .bind(self.utc_value(before));
        self.db.write(&q, "pruning the erasure ledger").await
    }

    /// The erased subjects still in the ledger, each once, with its first request id.
    pub async fn erased_subjects(&self) -> Result<Vec<(String, String)>, DbError> {
        let q = crate::db::Sql::raw(
            self.db.dialect,
            &format!(
                "SELECT subject, MIN(request_id) FROM {} GROUP BY subject ORDER BY MIN(id)",
                self.table("erasures")
            ),
        );
        let rows = self
            .db
            .read(
                &q,
                &[Decode::Text, Decode::Text],
                "reading the erasure ledger",
            )
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| match (&r[0], &r[1]) {
                (Value::Text(s), Value::Text(id)) => Some((s.clone(), id.clone())),
                _ => None,
            })
            .collect())
    }
}
