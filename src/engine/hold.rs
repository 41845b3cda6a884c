//! Which holds make sense for this config: a hold that no policy's selection would ever see
//! is refused, because it would look like protection while protecting nothing.

use super::{Engine, EngineError};
use crate::store::holds::HoldScope;

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
                Ok(HoldScope::Record {
                    table: t.to_string(),
                    key: key.join(","),
                })
            }
        }
    }
}
