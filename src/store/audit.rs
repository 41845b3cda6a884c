//! The audit trail's hash chain: each entry's hash covers its fields and the previous hash,
//! so an edited, inserted or removed entry breaks every link after it.

use crate::db::Value;
use sha2::{Digest, Sha256};

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One batch, as recorded. No personal data: counts, names and key ranges only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub run_id: i64,
    pub policy: String,
    pub table: String,
    pub action: String,
    pub batch: i64,
    pub rows: i64,
    pub key_first: String,
    pub key_last: String,
    pub recorded_at: String,
    pub prev_hash: String,
}

impl Entry {
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        // Length-prefixed, so that no two different entries serialize alike.
        for field in [
            self.prev_hash.as_str(),
            &self.run_id.to_string(),
            &self.policy,
            &self.table,
            &self.action,
            &self.batch.to_string(),
            &self.rows.to_string(),
            &self.key_first,
            &self.key_last,
            &self.recorded_at,
        ] {
            h.update((field.len() as u64).to_be_bytes());
            h.update(field.as_bytes());
        }
        hex::encode(h.finalize())
    }
}

/// An entry as read back, with its id and stored hash.
pub struct Stored {
    pub id: i64,
    pub entry: Entry,
    pub hash: String,
}

fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::Text(s)) => s.clone(),
        Some(Value::Int(i)) => i.to_string(),
        _ => String::new(),
    }
}

fn int(v: Option<&Value>) -> i64 {
    match v {
        Some(Value::Int(i)) => *i,
        _ => -1,
    }
}

impl Stored {
    pub fn from_row(r: &[Value]) -> Stored {
        Stored {
            id: int(r.first()),
            entry: Entry {
                run_id: int(r.get(1)),
                policy: text(r.get(2)),
                table: text(r.get(3)),
                action: text(r.get(4)),
                batch: int(r.get(5)),
                rows: int(r.get(6)),
                key_first: text(r.get(7)),
                key_last: text(r.get(8)),
                recorded_at: text(r.get(9)),
                prev_hash: text(r.get(10)),
            },
            hash: text(r.get(11)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub entries: u64,
    pub rows: i64,
    /// The first broken entry and what is wrong with it.
    pub broken: Option<(i64, String)>,
}

pub fn verify<'a>(entries: impl IntoIterator<Item = &'a Stored>) -> Verification {
    let mut prev = GENESIS.to_string();
    let mut v = Verification {
        entries: 0,
        rows: 0,
        broken: None,
    };
    for s in entries {
        v.entries += 1;
        v.rows += s.entry.rows;
        if v.broken.is_some() {
            continue;
        }
        if s.entry.prev_hash != prev {
            v.broken = Some((
                s.id,
                "does not link to the entry before it (an entry was removed or inserted)".into(),
            ));
        } else if s.entry.hash() != s.hash {
            v.broken = Some((
                s.id,
                "its contents do not match its hash (the entry was edited)".into(),
            ));
        }
        prev = s.hash.clone();
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> Vec<Stored> {
        let mut prev = GENESIS.to_string();
        (0..n)
            .map(|i| {
                let entry = Entry {
                    run_id: 1,
                    policy: "p".into(),
                    table: "t".into(),
                    action: "delete".into(),
                    batch: i as i64,
                    rows: 10,
                    key_first: "1".into(),
                    key_last: "10".into(),
                    recorded_at: "2026-01-01 00:00:00".into(),
                    prev_hash: prev.clone(),
                };
                prev = entry.hash();
                Stored {
                    id: i as i64 + 1,
                    hash: prev.clone(),
                    entry,
                }
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        let v = verify(&chain(3));
        assert_eq!(
            v,
            Verification {
                entries: 3,
                rows: 30,
                broken: None
            }
        );
    }

    #[test]
    fn an_edited_entry_is_found() {
        let mut c = chain(3);
        c[1].entry.rows = 9;
        assert_eq!(verify(&c).broken.map(|b| b.0), Some(2));
    }

    #[test]
    fn a_removed_entry_is_found() {
        let mut c = chain(3);
        c.remove(1);
        assert_eq!(verify(&c).broken.map(|b| b.0), Some(3));
    }
}
