//! Legal holds: a record (table + key) or a whole data subject that no policy may touch until
//! someone releases the hold. The policies' statements read the holds table themselves
//! (`engine::query`); this module writes and lists it.

use super::{Store, format_utc};
use crate::db::{DbError, Decode, Value};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// What a hold keeps: one record, or everything linked to one data subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldScope {
    /// The key values of one row, joined by commas (the form the policies compare with).
    Record {
        table: String,
        key: String,
    },
    Subject(String),
}

#[derive(Debug, Clone)]
pub struct NewHold {
    pub scope: HoldScope,
    pub reason: String,
    pub set_by: String,
    /// When someone should look at the hold again; it stays in force after that date.
    pub review_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Hold {
    pub id: i64,
    pub table: Option<String>,
    pub key: Option<String>,
    pub subject: Option<String>,
    pub reason: String,
    pub set_by: String,
    pub set_at: String,
    pub review_at: Option<String>,
    pub released_at: Option<String>,
    /// Who released it and why (holds released before these were recorded have neither).
    pub released_by: Option<String>,
    pub release_reason: Option<String>,
}

impl Hold {
    /// "record messages 42" or "subject 7", for lists and summaries.
    pub fn what(&self) -> String {
        match (&self.table, &self.key, &self.subject) {
            (Some(t), Some(k), _) => format!("record {t} {k}"),
            (_, _, Some(s)) => format!("subject {s}"),
            _ => "nothing".into(),
        }
    }

    /// Past its review date (and not released): listed in every summary until someone acts.
    pub fn is_stale(&self, now: DateTime<Utc>) -> bool {
        self.released_at.is_none()
            && self
                .review_at
                .as_deref()
                .is_some_and(|r| r < format_utc(now).as_str())
    }
}

impl Store<'_> {
    pub async fn add_hold(&self, hold: &NewHold) -> Result<i64, DbError> {
        let (table, key, subject) = match &hold.scope {
            HoldScope::Record { table, key } => (
                Value::Text(table.clone()),
                Value::Text(key.clone()),
                Value::Null,
            ),
            HoldScope::Subject(s) => (Value::Null, Value::Null, Value::Text(s.clone())),
        };
        let mut q = self.db.sql();
        q.push(&format!(
            "INSERT INTO {} (table_name, key_value, subject, reason, set_by, set_at, review_at) VALUES (",
            self.table("holds")
        ))
        .bind(table)
        .push(", ")
        .bind(key)
        .push(", ")
        .bind(subject)
        .push(", ")
        .bind(Value::Text(hold.reason.clone()))
        .push(", ")
        .bind(Value::Text(hold.set_by.clone()))
        .push(&format!(", {}, ", self.now_expr()))
        .bind(match hold.review_at {
            Some(t) => self.utc_value(t),
            None => Value::Null,
        })
        .push(")");
        self.insert_returning_id(q, || "recording the hold".into())
            .await
    }

    /// Holds in force, oldest first; with `all`, released ones too.
    pub async fn holds(&self, all: bool) -> Result<Vec<Hold>, DbError> {
        let mut q = self.db.sql();
        q.push(&format!(
            "SELECT {}, table_name, key_value, subject, reason, set_by, {}, {}, {}, released_by, release_reason FROM {}",
            self.db.dialect.as_i64("id"),
            self.utc_text("set_at"),
            self.utc_text("review_at"),
            self.utc_text("released_at"),
            self.table("holds")
        ));
        if !all {
            q.push(" WHERE released_at IS NULL");
        }
        q.push(" ORDER BY id");
        let mut decode = vec![Decode::Int];
        decode.extend([Decode::Text; 10]);
        let rows = self.db.read(&q, &decode, "reading the holds").await?;
        let text = |v: &Value| match v {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        };
        Ok(rows
            .iter()
            .map(|r| Hold {
                id: match r[0] {
                    Value::Int(n) => n,
                    _ => 0,
                },
                table: text(&r[1]),
                key: text(&r[2]),
                subject: text(&r[3]),
                reason: text(&r[4]).unwrap_or_default(),
                set_by: text(&r[5]).unwrap_or_default(),
                set_at: text(&r[6]).unwrap_or_default(),
                review_at: text(&r[7]),
                released_at: text(&r[8]),
                released_by: text(&r[9]),
                release_reason: text(&r[10]),
            })
            .collect())
    }

    /// Releases a hold in force, recording who and why; false when there is none with that id.
    pub async fn release_hold(&self, id: i64, by: &str, reason: &str) -> Result<bool, DbError> {
        let mut q = self.db.sql();
        q.push(&format!(
            "UPDATE {} SET released_at = {}, released_by = ",
            self.table("holds"),
            self.now_expr()
        ))
        .bind(Value::Text(by.into()))
        .push(", release_reason = ")
        .bind(Value::Text(reason.into()))
        .push(" WHERE released_at IS NULL AND id = ")
        .bind(Value::Int(id));
        Ok(self.db.write(&q, "releasing the hold").await? == 1)
    }
}
