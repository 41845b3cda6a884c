//! Coverage: personal data that no policy will ever remove. A column whose name says it holds
//! contact or identity data, or whose values look like e-mail or IP addresses, in a table no
//! policy purges (or that only anonymizing policies touch, leaving that column as it is).
//! Findings name tables and columns and count sampled values; they never show a value.

use super::{Engine, EngineError};
use crate::config::Action;
use crate::db::schema::ColumnKind;
use crate::db::{Context, Decode, Value};

/// Name parts that usually mean personal data (`billing_email`, `phone_number`, `ip`, ...).
const PERSONAL_WORDS: &[&str] = &[
    "email",
    "mail",
    "phone",
    "mobile",
    "telephone",
    "tel",
    "ip",
    "name",
    "firstname",
    "lastname",
    "surname",
    "address",
    "street",
    "city",
    "zip",
    "postcode",
    "postal",
    "iban",
    "bic",
    "birth",
    "birthday",
    "birthdate",
    "dob",
    "bsn",
    "ssn",
    "passport",
    "gender",
    "latitude",
    "longitude",
];

/// How many values of each text column are sampled.
const SAMPLE: i64 = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub table: String,
    pub column: String,
    pub why: String,
}

fn name_looks_personal(column: &str) -> bool {
    let lower = column.to_ascii_lowercase();
    lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|part| PERSONAL_WORDS.contains(&part))
        || lower.contains("email")
}

/// Some word of the value is an e-mail address (free text counts too).
fn looks_like_email(v: &str) -> bool {
    v.split_whitespace().any(|word| {
        let word = word.trim_matches(|c: char| "<>()[],;:\"'".contains(c));
        match word.split_once('@') {
            Some((user, domain)) => {
                !user.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            None => false,
        }
    })
}

/// Some word of the value is an IPv4 or IPv6 address.
fn looks_like_ip(v: &str) -> bool {
    v.split_whitespace().any(|word| {
        word.trim_matches(|c: char| "<>()[],;\"'".contains(c))
            .parse::<std::net::IpAddr>()
            .is_ok()
    })
}

impl Engine {
    pub async fn coverage(&self) -> Result<Vec<Finding>, EngineError> {
        let prefix = &self.config.database.table_prefix;
        let mut findings = Vec::new();
        let mut tx = self.db.begin().await?;
        for table in self.schema.tables.values() {
            if table.name.starts_with(prefix.as_str()) {
                continue;
            }
            let policies: Vec<_> = self
                .targets
                .iter()
                .filter(|t| t.table() == table.name)
                .collect();
            if policies.iter().any(|t| t.is_delete()) {
                continue;
            }
            let anonymized = |column: &str| {
                policies.iter().any(|t| match &t.policy.action {
                    Action::Anonymize(cols) => cols.iter().any(|(c, _)| c == column),
                    Action::Delete | Action::Archive => false,
                })
            };
            let left_by = if policies.is_empty() {
                "no policy covers this table".to_string()
            } else {
                let names: Vec<&str> = policies.iter().map(|t| t.name()).collect();
                format!("{} leave(s) this column as it is", names.join(", "))
            };
            for column in &table.columns {
                if anonymized(&column.name) || table.primary_key.contains(&column.name) {
                    continue;
                }
                let mut why = Vec::new();
                if name_looks_personal(&column.name) {
                    why.push("its name suggests personal data".to_string());
                }
                if column.kind == ColumnKind::Text {
                    let mut q = self.db.sql();
                    q.push(&format!(
                        "SELECT {} FROM {} WHERE {} IS NOT NULL LIMIT ",
                        self.db.quote(&column.name),
                        self.db.table(&table.name),
                        self.db.quote(&column.name)
                    ))
                    .bind(Value::Int(SAMPLE));
                    let rows = tx
                        .fetch(&q, &[Decode::Text])
                        .await
                        .ctx(|| format!("sampling {}.{} for coverage", table.name, column.name))?;
                    let values: Vec<&str> = rows
                        .iter()
                        .filter_map(|r| match r.first() {
                            Some(Value::Text(s)) => Some(s.as_str()),
                            _ => None,
                        })
                        .collect();
                    let emails = values.iter().filter(|v| looks_like_email(v)).count();
                    let ips = values.iter().filter(|v| looks_like_ip(v)).count();
                    if emails > 0 {
                        why.push(format!(
                            "{emails} of {} sampled values look like e-mail addresses",
                            values.len()
                        ));
                    }
                    if ips > 0 {
                        why.push(format!(
                            "{ips} of {} sampled values look like IP addresses",
                            values.len()
                        ));
                    }
                }
                if !why.is_empty() {
                    findings.push(Finding {
                        table: table.name.clone(),
                        column: column.name.clone(),
                        why: format!("{}; {left_by}", why.join(", ")),
                    });
                }
            }
        }
        let _ = tx.rollback().await;
        Ok(findings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values_that_suggest_personal_data() {
        for yes in [
            "email",
            "billing_email",
            "phone_number",
            "ip",
            "last_name",
            "IBAN",
            "date_of_birth",
        ] {
            assert!(name_looks_personal(yes), "{yes}");
        }
        for no in [
            "id",
            "amount_cents",
            "plan",
            "ended_at",
            "shipping",
            "description",
        ] {
            assert!(!name_looks_personal(no), "{no}");
        }
        assert!(looks_like_email("ann@example.nl"));
        assert!(!looks_like_email("@handle"));
        assert!(!looks_like_email("see you @ noon."));
        assert!(looks_like_email("call <bob@example.com> back"));
        assert!(looks_like_ip("from 10.1.2.3, twice"));
        assert!(looks_like_ip("192.0.2.17") && looks_like_ip("2001:db8::1"));
        assert!(!looks_like_ip("1.2"));
    }
}
