//! Which holds make sense for this config: a hold that no policy's selection would ever see
//! is refused, because it would look like protection while protecting nothing.

use super::{Engine, EngineError};
use crate::db::schema::ColumnKind;
use crate::store::holds::HoldScope;

/// A key value in the text form the policies compare a hold with (`Queries::column_text`):
/// uuids and bytes in lowercase hex, whatever case the user typed. `None` for a value the
/// column cannot hold, which a hold would never match.
fn canonical_key_text(kind: ColumnKind, value: &str) -> Option<String> {
    let hex = |s: &str| s.bytes().all(|b| b.is_ascii_hexdigit());
    match kind {
        ColumnKind::Uuid => {
            let v = value.to_ascii_lowercase();
            let groups: Vec<&str> = v.split('-').collect();
            let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
            (lengths == [8, 4, 4, 4, 12] && groups.iter().all(|g| hex(g))).then_some(v)
        }
        ColumnKind::Binary => {
            let v = value.to_ascii_lowercase();
            (!v.is_empty() && v.len() % 2 == 0 && hex(&v)).then_some(v)
        }
        ColumnKind::Integer => value.parse::<i64>().is_ok().then(|| value.to_string()),
        _ => Some(value.to_string()),
    }
}

fn describe(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Uuid => "uuids (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
        ColumnKind::Binary => "bytes, given as hexadecimal digits",
        ColumnKind::Integer => "integers",
        _ => "values of its own type",
    }
}

impl Engine {
    /// A record hold names a table some policy purges and one value per key column; a subject
    /// hold needs at least one policy that links its rows to a subject (`subject = ...`).
    pub fn hold_scope(
        &self,
        table: Option<&str>,
        key: &[String],
        subject: Option<&str>,
    ) -> Result<HoldScope, EngineError> {
        let usage = |m: String| Err(EngineError::Usage(m));
        match (table, subject) {
            (Some(_), Some(_)) => {
                usage("give either --table with --key, or --subject, not both".into())
            }
            (None, None) => usage("say what to hold: --table T --key K, or --subject K".into()),
            (None, Some(s)) => {
                if s.trim().is_empty() {
                    return usage("--subject is empty".into());
                }
                if !self.targets.iter().any(|t| t.subject.is_some()) {
                    return usage(
                        "no policy says how its rows belong to a subject, so a subject hold would keep nothing; \
                         add subject = \"customer_id\" (or subject = { table, column, match }) to the policies"
                            .into(),
                    );
                }
                Ok(HoldScope::Subject(s.to_string()))
            }
            (Some(t), None) => {
                let Some(target) = self.targets.iter().find(|x| x.table() == t) else {
                    let tables: Vec<&str> = self.targets.iter().map(|x| x.table()).collect();
                    return usage(format!(
                        "no policy purges table \"{t}\", so nothing there needs a hold (policies cover: {})",
                        tables.join(", ")
                    ));
                };
                let names: Vec<&str> = target.key.iter().map(|k| k.name.as_str()).collect();
                if key.len() != names.len() || key.iter().any(|k| k.is_empty()) {
                    return usage(format!(
                        "table \"{t}\" is keyed by ({}): give --key once per column, in that order",
                        names.join(", ")
                    ));
                }
                if key.iter().any(|k| k.contains(',')) {
                    return usage("a key value with a comma cannot be held by --key; hold its subject instead".into());
                }
                let mut canonical = Vec::new();
                for (col, value) in target.key.iter().zip(key) {
                    match canonical_key_text(col.kind, value) {
                        Some(v) => canonical.push(v),
                        None => {
                            return usage(format!(
                                "--key {value}: column \"{}\" of \"{t}\" holds {}, and this is not one",
                                col.name,
                                describe(col.kind)
                            ));
                        }
                    }
                }
                Ok(HoldScope::Record {
                    table: t.to_string(),
                    key: canonical.join(","),
                })
            }
        }
    }
}
