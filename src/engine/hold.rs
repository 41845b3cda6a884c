//! Which holds make sense for this config: a hold that no policy's selection would ever see
//! is refused, because it would look like protection while protecting nothing.

use super::{Engine, EngineError};
use crate::db::Dialect;
use crate::db::schema::ColumnKind;
use crate::store::holds::HoldScope;
use chrono::{DateTime, NaiveDate, NaiveDateTime};

/// A key value in the text form the policies compare a hold with (`Queries::column_text`):
/// uuids and bytes in lowercase hex, whatever case the user typed; on PostgreSQL and MySQL a
/// date as `YYYY-MM-DD` and a timestamp as `YYYY-MM-DD HH:MM:SS.ffffff` (a point in time in
/// UTC; one typed without an offset is taken as UTC). `None` for a value the column cannot
/// hold, which a hold would never match.
fn canonical_key_text(kind: ColumnKind, dialect: Dialect, value: &str) -> Option<String> {
    let hex = |s: &str| s.bytes().all(|b| b.is_ascii_hexdigit());
    match kind {
        ColumnKind::Uuid => super::is_uuid(value).then(|| value.to_ascii_lowercase()),
        ColumnKind::Binary => {
            let v = value.to_ascii_lowercase();
            (!v.is_empty() && v.len().is_multiple_of(2) && hex(&v)).then_some(v)
        }
        // As the database prints it: `007` and `+7` would never match the row's `7`.
        ColumnKind::Integer => value
            .parse::<i64>()
            .map(|n| n.to_string())
            .or_else(|_| value.parse::<u64>().map(|n| n.to_string()))
            .ok(),
        _ if dialect == Dialect::Sqlite => Some(value.to_string()),
        ColumnKind::Date => NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
            .ok()
            .map(|d| d.format("%Y-%m-%d").to_string()),
        // A timestamp without zone holds wall time, compared as stored: an offset typed with
        // it would be turned into UTC and then name another row (or none).
        ColumnKind::Timestamp if has_offset(value.trim()) => None,
        ColumnKind::Timestamp | ColumnKind::TimestampTz => {
            instant(value.trim()).map(|t| t.format("%Y-%m-%d %H:%M:%S%.6f").to_string())
        }
        _ => Some(value.to_string()),
    }
}

fn has_offset(value: &str) -> bool {
    DateTime::parse_from_rfc3339(value)
        .or_else(|_| DateTime::parse_from_rfc3339(&value.replacen(' ', "T", 1)))
        .is_ok()
}

/// `2020-06-01 12:00:00[.ffffff]`, with `T` or a space, optionally with an offset (`Z`,
/// `+02:00`), in UTC; a bare date is its midnight.
fn instant(value: &str) -> Option<NaiveDateTime> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Some(t.naive_utc());
    }
    let with_t = value.replacen(' ', "T", 1);
    if let Ok(t) = DateTime::parse_from_rfc3339(&with_t) {
        return Some(t.naive_utc());
    }
    NaiveDateTime::parse_from_str(&with_t, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(&with_t, "%Y-%m-%dT%H:%M"))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(value, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
}

fn describe(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Uuid => "uuids (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
        ColumnKind::Binary => "bytes, given as hexadecimal digits",
        ColumnKind::Integer => "integers",
        ColumnKind::Date => "dates (YYYY-MM-DD)",
        ColumnKind::Timestamp => {
            "timestamps as the column stores them (YYYY-MM-DD HH:MM:SS[.ffffff], without an offset)"
        }
        ColumnKind::TimestampTz => {
            "timestamps (YYYY-MM-DD HH:MM:SS[.ffffff], optionally with an offset; UTC without one)"
        }
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
                    match canonical_key_text(col.kind, self.db.dialect, value) {
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

/// Who sets or releases a hold: `--by`, else the login name (`SUDO_USER` first, so that
/// `sudo retentiond hold ...` records the person, not root). A hold is evidence: without
/// a name it is refused rather than recorded as nobody.
pub fn operator(by: Option<&str>, flag: &str) -> Result<String, EngineError> {
    let named = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    named(by.map(str::to_string))
        .or_else(|| named(std::env::var("SUDO_USER").ok()))
        .or_else(|| named(std::env::var("USER").ok()))
        .or_else(|| named(std::env::var("LOGNAME").ok()))
        .ok_or_else(|| {
            EngineError::Usage(format!(
                "{flag} NAME is required: no user name was found (SUDO_USER, USER and LOGNAME are unset), \
                 and a hold records who acted"
            ))
        })
}

/// A review date before today would list the hold as overdue from the moment it is set:
/// almost always a typo in the year.
pub fn review_date(
    until: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<Option<NaiveDate>, EngineError> {
    match until {
        Some(d) if d < today => Err(EngineError::Usage(format!(
            "--until {d} is in the past (today is {today}); give the date on which the hold should be reviewed"
        ))),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::canonical_key_text;

    #[test]
    fn a_review_date_before_today_is_refused() {
        let day = |s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        let today = day("2026-12-01").unwrap_or_default();
        assert!(super::review_date(day("2026-11-30"), today).is_err());
        assert_eq!(
            super::review_date(day("2026-12-01"), today).ok(),
            Some(day("2026-12-01"))
        );
        assert_eq!(super::review_date(None, today).ok(), Some(None));
    }
    use crate::db::Dialect;
    use crate::db::schema::ColumnKind;

    #[test]
    fn hold_keys_take_the_form_the_policies_compare_with() {
        let pg = |kind, v| canonical_key_text(kind, Dialect::Postgres, v);
        assert_eq!(
            pg(ColumnKind::Uuid, "6F1C2A52-5D0E-4C49-9A43-0D5C52B1E001").as_deref(),
            Some("6f1c2a52-5d0e-4c49-9a43-0d5c52b1e001")
        );
        assert_eq!(pg(ColumnKind::Uuid, "6f1c2a52"), None);
        assert_eq!(pg(ColumnKind::Binary, "C0FFEE").as_deref(), Some("c0ffee"));
        assert_eq!(pg(ColumnKind::Binary, "c0f"), None);
        assert_eq!(
            pg(ColumnKind::TimestampTz, "2020-06-01T14:00:00.5+02:00").as_deref(),
            Some("2020-06-01 12:00:00.500000")
        );
        assert_eq!(
            pg(ColumnKind::Timestamp, "2020-06-01 12:00:00.000002").as_deref(),
            Some("2020-06-01 12:00:00.000002")
        );
        assert_eq!(
            pg(ColumnKind::Date, "2020-06-01").as_deref(),
            Some("2020-06-01")
        );
        assert_eq!(pg(ColumnKind::Integer, "12a"), None);
        assert_eq!(pg(ColumnKind::Integer, "007").as_deref(), Some("7"));
        assert_eq!(pg(ColumnKind::Integer, "+7").as_deref(), Some("7"));
        assert_eq!(
            pg(ColumnKind::Timestamp, "2020-06-01T14:00:00+02:00"),
            None,
            "wall time with an offset names no stored value"
        );
        assert_eq!(
            canonical_key_text(ColumnKind::Timestamp, Dialect::Sqlite, "2020-06-01 12:00")
                .as_deref(),
            Some("2020-06-01 12:00")
        );
    }
}
