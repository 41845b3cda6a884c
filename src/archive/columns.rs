//! How a live column's values travel to the archive and back unchanged: each column is read as
//! text in a form fixed per kind of value, written into a column of the archive's own dialect
//! that holds that value exactly, and read back in the same form, so that a digest computed on
//! each side says whether the copy is the row.

use crate::db::schema::{Column, ColumnKind};
use crate::db::{Dialect, Sql, Value};
use sha2::{Digest, Sha256};

/// What a column holds, as far as copying it exactly cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Carried {
    Integer,
    /// An integer that may not fit 64 bits signed (MySQL `BIGINT UNSIGNED`).
    BigInteger,
    /// Exact decimals: PostgreSQL `numeric`, MySQL `DECIMAL(p,s)` (its declared type), SQLite
    /// `NUMERIC`/`DECIMAL` (kept as text there: REAL affinity would round them).
    Decimal {
        mysql_type: Option<String>,
    },
    /// Binary floating point, compared by its value as a 64-bit float.
    Float,
    Text,
    Boolean,
    Date,
    /// A timestamp without zone, copied as the wall time it says.
    Timestamp,
    /// A point in time, copied in UTC.
    Instant,
    Uuid,
    Binary,
    /// JSON, copied as the text the server gives (PostgreSQL to PostgreSQL: in its own type).
    Json {
        postgres_type: Option<String>,
    },
    /// Any other type, copied as the text the server gives for it: PostgreSQL enums, arrays,
    /// intervals, `inet`; MySQL `ENUM`, `SET`, `TIME`, `YEAR`.
    TextForm,
}

/// One column of an archived table.
#[derive(Debug, Clone)]
pub struct ArchivedColumn {
    pub name: String,
    pub carried: Carried,
    pub is_key: bool,
    /// The live column's declared length (text and binary), for key columns of MySQL archives.
    pub max_len: Option<i64>,
}

/// How `column` of a `live` table is carried, or why it cannot be carried exactly.
pub fn carried(live: Dialect, column: &Column) -> Result<Carried, String> {
    let data_type = column.data_type.to_ascii_lowercase();
    let column_type = column.column_type.to_ascii_lowercase();
    Ok(match (live, column.kind) {
        (Dialect::MySql, ColumnKind::Integer)
            if column_type.contains("bigint") && column_type.contains("unsigned") =>
        {
            Carried::BigInteger
        }
        (_, ColumnKind::Integer) => Carried::Integer,
        (Dialect::Postgres, ColumnKind::Numeric) if data_type == "numeric" => {
            Carried::Decimal { mysql_type: None }
        }
        (Dialect::MySql, ColumnKind::Numeric) if data_type == "decimal" => Carried::Decimal {
            mysql_type: Some(column_type.replace(" unsigned", "")),
        },
        (Dialect::Sqlite, ColumnKind::Numeric)
            if data_type.contains("numeric") || data_type.contains("decimal") =>
        {
            Carried::Decimal { mysql_type: None }
        }
        (_, ColumnKind::Numeric) => Carried::Float,
        (_, ColumnKind::Text) => Carried::Text,
        (_, ColumnKind::Boolean) => Carried::Boolean,
        (_, ColumnKind::Date) => Carried::Date,
        (_, ColumnKind::Timestamp) => Carried::Timestamp,
        (_, ColumnKind::TimestampTz) => Carried::Instant,
        (_, ColumnKind::Uuid) => Carried::Uuid,
        (_, ColumnKind::Binary) => Carried::Binary,
        (_, ColumnKind::Inet | ColumnKind::Inet4) => Carried::TextForm,
        (Dialect::Postgres, ColumnKind::Other)
            if matches!(column_type.as_str(), "json" | "jsonb") =>
        {
            Carried::Json {
                postgres_type: Some(column_type),
            }
        }
        (Dialect::MySql, ColumnKind::Other)
            if matches!(
                data_type.as_str(),
                "blob" | "tinyblob" | "mediumblob" | "longblob"
            ) =>
        {
            Carried::Binary
        }
        (Dialect::MySql, ColumnKind::Other) if data_type == "json" => Carried::Json {
            postgres_type: None,
        },
        (Dialect::MySql, ColumnKind::Other)
            if matches!(data_type.as_str(), "enum" | "set" | "time" | "year") =>
        {
            Carried::TextForm
        }
        (Dialect::Postgres, ColumnKind::Other) => Carried::TextForm,
        (Dialect::Sqlite, ColumnKind::Other)
            if data_type.contains("json") || data_type.is_empty() =>
        {
            Carried::TextForm
        }
        _ => {
            return Err(format!(
                "column \"{}\" is {}, which retentiond cannot copy to the archive exactly \
                 (it copies numbers, text, dates and times, booleans, uuids, binary, JSON and \
                 types with a text form); leave this table to a delete or anonymize policy, or \
                 change the column's type",
                column.name, column.column_type
            ));
        }
    })
}

/// The archive column's type in the archive's dialect.
pub fn archive_type(archive: Dialect, mariadb: bool, c: &ArchivedColumn) -> String {
    // A MySQL key column must have a length; 768 characters of utf8mb4 are the most an InnoDB
    // index takes.
    let key_len = |default: i64| c.max_len.unwrap_or(default).clamp(1, 768);
    match archive {
        Dialect::Postgres => match &c.carried {
            Carried::Integer => "BIGINT".into(),
            Carried::BigInteger => "NUMERIC(20,0)".into(),
            Carried::Decimal { .. } => "NUMERIC".into(),
            Carried::Float => "DOUBLE PRECISION".into(),
            Carried::Text | Carried::TextForm => "TEXT".into(),
            Carried::Boolean => "BOOLEAN".into(),
            Carried::Date => "DATE".into(),
            Carried::Timestamp => "TIMESTAMP(6)".into(),
            Carried::Instant => "TIMESTAMPTZ(6)".into(),
            Carried::Uuid => "UUID".into(),
            Carried::Binary => "BYTEA".into(),
            Carried::Json { postgres_type } => postgres_type
                .clone()
                .map_or("TEXT".into(), |t| t.to_ascii_uppercase()),
        },
        Dialect::MySql => {
            // Exact bytes, and no trailing-space padding: 'a' and 'a ' are two keys.
            let text = if mariadb {
                "CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin"
            } else {
                "CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_bin"
            };
            match &c.carried {
                Carried::Integer => "BIGINT".into(),
                Carried::BigInteger => "BIGINT UNSIGNED".into(),
                Carried::Decimal { mysql_type } => mysql_type
                    .clone()
                    .unwrap_or_else(|| "DECIMAL(65,30)".into())
                    .to_ascii_uppercase(),
                Carried::Float => "DOUBLE".into(),
                Carried::Text | Carried::TextForm | Carried::Json { .. } if c.is_key => {
                    format!("VARCHAR({}) {text}", key_len(255))
                }
                Carried::Text | Carried::TextForm | Carried::Json { .. } => {
                    format!("LONGTEXT {text}")
                }
                Carried::Boolean => "BOOLEAN".into(),
                Carried::Date => "DATE".into(),
                Carried::Timestamp => "DATETIME(6)".into(),
                // A point in time, which the server keeps in UTC and the archive's own policies
                // read as one. An explicit default keeps MySQL from setting it on every update.
                Carried::Instant if c.is_key => {
                    "TIMESTAMP(6) NOT NULL DEFAULT '1970-01-01 00:00:01'".into()
                }
                Carried::Instant => "TIMESTAMP(6) NULL DEFAULT NULL".into(),
                Carried::Uuid => format!("CHAR(36) {text}"),
                Carried::Binary if c.is_key => format!("VARBINARY({})", key_len(255)),
                Carried::Binary => "LONGBLOB".into(),
            }
        }
        // Declared so that SQLite's affinity keeps each value as it is written: numbers that
        // must stay exact as TEXT, dates and times as the text given.
        Dialect::Sqlite => match &c.carried {
            Carried::Integer | Carried::BigInteger => "INTEGER".into(),
            Carried::Float => "REAL".into(),
            Carried::Decimal { .. } => "TEXT".into(),
            Carried::Text | Carried::TextForm | Carried::Json { .. } | Carried::Uuid => {
                "TEXT".into()
            }
            Carried::Boolean => "BOOLEAN".into(),
            Carried::Date => "DATE".into(),
            Carried::Timestamp | Carried::Instant => "DATETIME".into(),
            Carried::Binary => "BLOB".into(),
        },
    }
}

/// `expr` (a quoted column of a table in `dialect`) as the text a value of this kind is
/// carried in. SQLite gives what it stores; `canonical` then puts that in the common form.
pub fn read_text(dialect: Dialect, carried: &Carried, expr: &str) -> String {
    match (dialect, carried) {
        // SQLite's hex() of NULL is the empty text.
        (Dialect::Sqlite, Carried::Binary) => {
            format!(
                "CASE WHEN {expr} IS NULL THEN NULL ELSE {} END",
                dialect.hex_text(expr)
            )
        }
        (_, Carried::Binary) => dialect.hex_text(expr),
        // Any SQLite column but a BLOB may hold a float, which SQLite prints to 15 digits by
        // default: printed in full, it reads back as the same float.
        (Dialect::Sqlite, _) => format!(
            "CASE WHEN typeof({expr}) = 'real' THEN printf('%!.17g', {expr}) ELSE CAST({expr} AS TEXT) END"
        ),
        // PostgreSQL's to_char gives NULL for infinity: such a value travels as its own text
        // (which only a PostgreSQL archive takes).
        (Dialect::Postgres, Carried::Date | Carried::Timestamp | Carried::Instant) => {
            let text = match carried {
                Carried::Date => dialect.date_text(expr),
                Carried::Timestamp => dialect.timestamp_text(expr),
                _ => dialect.instant_text(expr),
            };
            format!("CASE WHEN isfinite({expr}) THEN {text} ELSE CAST({expr} AS TEXT) END")
        }
        (_, Carried::Date) => dialect.date_text(expr),
        (_, Carried::Timestamp) => dialect.timestamp_text(expr),
        (_, Carried::Instant) => dialect.instant_text(expr),
        (Dialect::Postgres, Carried::Float) => {
            // The shortest text that reads back as the same double (see extra_float_digits,
            // which every connection sets).
            format!("CAST(CAST({expr} AS DOUBLE PRECISION) AS TEXT)")
        }
        _ => dialect.as_text(expr),
    }
}

/// The common form of a value read by `read_text` on any dialect: what the digest covers.
/// Decimals lose trailing zeros after the point (`1.50` and `1.500000` are one value), floats
/// are put in Rust's shortest form, booleans are `true`/`false`, times have six decimals, and
/// SQLite's date and time texts are read in the forms its date functions accept. A text that
/// is not a value of its kind stays as it is: the archive's server then refuses it, or the
/// digests differ, and the row stays live.
pub fn canonical(carried: &Carried, text: &str) -> String {
    match carried {
        // Integers too: MySQL prints a ZEROFILL column with its zeros.
        Carried::Decimal { .. } | Carried::BigInteger | Carried::Integer => decimal(text),
        Carried::Float => match text.trim().parse::<f64>() {
            Ok(f) if f.is_finite() => format!("{f:?}"),
            _ => text.to_string(),
        },
        Carried::Boolean => match text.trim().to_ascii_lowercase().as_str() {
            "1" | "t" | "true" => "true".into(),
            "0" | "f" | "false" => "false".into(),
            _ => text.to_string(),
        },
        Carried::Date => parse_date(text).unwrap_or_else(|| text.to_string()),
        Carried::Timestamp | Carried::Instant => {
            parse_timestamp(text, *carried == Carried::Instant).unwrap_or_else(|| text.to_string())
        }
        Carried::Uuid => text.to_ascii_lowercase(),
        Carried::Binary => text.to_ascii_lowercase(),
        Carried::Text | Carried::Json { .. } | Carried::TextForm => text.to_string(),
    }
}

/// `1.50` → `1.5`, `-0.00` → `0`, `007` → `7`, `1.25e+3` → `1250`; anything that is not a
/// decimal number as it is.
fn decimal(text: &str) -> String {
    let t = text.trim();
    if let Some((mantissa, exp)) = t.split_once(['e', 'E'])
        && let Ok(exp) = exp.parse::<i32>()
        && exp.abs() <= 400
    {
        return shifted(mantissa, exp).map_or_else(|| text.to_string(), |plain| decimal(&plain));
    }
    let (sign, digits) = match t.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", t.strip_prefix('+').unwrap_or(t)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty()
        || !int.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return text.to_string();
    }
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let body = if frac.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{frac}")
    };
    if body == "0" {
        body
    } else {
        format!("{sign}{body}")
    }
}

/// `mantissa` × 10^`exp` written out without an exponent, or `None` if it is not a decimal.
fn shifted(mantissa: &str, exp: i32) -> Option<String> {
    let (sign, m) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa.strip_prefix('+').unwrap_or(mantissa)),
    };
    let (int, frac) = m.split_once('.').unwrap_or((m, ""));
    if !(int.chars().all(|c| c.is_ascii_digit()) && frac.chars().all(|c| c.is_ascii_digit()))
        || int.is_empty() && frac.is_empty()
    {
        return None;
    }
    let digits = format!("{int}{frac}");
    let point = int.len() as i64 + i64::from(exp);
    Some(if point <= 0 {
        format!("{sign}0.{}{digits}", "0".repeat((-point) as usize))
    } else if point as usize >= digits.len() {
        format!(
            "{sign}{digits}{}",
            "0".repeat(point as usize - digits.len())
        )
    } else {
        let (a, b) = digits.split_at(point as usize);
        format!("{sign}{a}.{b}")
    })
}

fn parse_date(text: &str) -> Option<String> {
    chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .ok()
        .map(|d| d.format("%Y-%m-%d").to_string())
}

/// `YYYY-MM-DD HH:MM[:SS[.f]]`, with `T` or a space, or a bare date (midnight), to the
/// microsecond. An instant may carry an offset (`Z`, `+01:00`): it is converted to UTC. A text
/// the common form would change in meaning is left as it is, so that an archive that cannot
/// hold it exactly refuses it: more than six decimals of a second (`.1234567`), or an offset
/// on a timestamp without zone (whose wall time is read in `database.timezone`).
fn parse_timestamp(text: &str, instant: bool) -> Option<String> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime};
    let t = text.trim();
    let decimals = t.split_once('.').map_or(0, |(_, f)| {
        f.chars().take_while(char::is_ascii_digit).count()
    });
    if decimals > 6 {
        return None;
    }
    let out = |n: NaiveDateTime| n.format("%Y-%m-%d %H:%M:%S%.6f").to_string();
    for f in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, f) {
            return Some(out(n));
        }
    }
    if let Some(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
    {
        return Some(out(d));
    }
    if !instant {
        return None;
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(&t.replacen(' ', "T", 1)) {
        return Some(out(d.naive_utc()));
    }
    ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"]
        .iter()
        .find_map(|f| DateTime::parse_from_str(t, f).ok())
        .map(|d| out(d.naive_utc()))
}

/// Appends the value of one column (in its common form, `None` for NULL) as written into an
/// archive column of this kind: bound, with the cast the archive's dialect needs.
pub fn push_value(q: &mut Sql, carried: &Carried, value: Option<&str>) -> Result<(), String> {
    let Some(v) = value else {
        q.push("NULL");
        return Ok(());
    };
    let d = q.dialect;
    match carried {
        Carried::Binary => {
            let bytes = hex::decode(v).map_err(|_| format!("\"{v}\" is not hex"))?;
            q.bind(Value::Bytes(bytes));
        }
        // SQLite keeps a point in time as text; with its offset, the archive's own policies
        // read it as the instant it is.
        Carried::Instant
            if d == Dialect::Sqlite && parse_timestamp(v, true).as_deref() == Some(v) =>
        {
            q.bind(Value::Text(format!("{v}+00:00")));
        }
        Carried::Boolean if d != Dialect::Postgres => {
            q.bind(Value::Int(i64::from(v == "true")));
        }
        Carried::Integer | Carried::BigInteger if d != Dialect::Postgres => {
            match v.parse::<i64>() {
                Ok(i) => {
                    q.bind(Value::Int(i));
                }
                Err(_) => {
                    q.bind(Value::Text(v.to_string()));
                }
            }
        }
        _ if d == Dialect::Postgres => {
            let ty = match carried {
                Carried::Integer => "BIGINT",
                Carried::BigInteger | Carried::Decimal { .. } => "NUMERIC",
                Carried::Float => "DOUBLE PRECISION",
                Carried::Boolean => "BOOLEAN",
                Carried::Date => "DATE",
                Carried::Timestamp => "TIMESTAMP",
                Carried::Uuid => "UUID",
                Carried::Json {
                    postgres_type: Some(t),
                } if t == "jsonb" => "JSONB",
                Carried::Json {
                    postgres_type: Some(_),
                } => "JSON",
                _ => "TEXT",
            };
            if *carried == Carried::Instant {
                // Carried in UTC: read as UTC whatever the session's zone.
                q.push("(CAST(")
                    .bind(Value::Text(v.to_string()))
                    .push(" AS TIMESTAMP) AT TIME ZONE 'UTC')");
            } else {
                q.push("CAST(")
                    .bind(Value::Text(v.to_string()))
                    .push(&format!(" AS {ty})"));
            }
        }
        _ => {
            q.bind(Value::Text(v.to_string()));
        }
    }
    Ok(())
}

/// The digest of one row: SHA-256 over each column's name and common-form value (NULL apart
/// from every text), length-prefixed so that no two different rows give the same input.
pub fn digest(columns: &[ArchivedColumn], values: &[Option<String>]) -> String {
    let mut h = Sha256::new();
    for (c, v) in columns.iter().zip(values) {
        h.update((c.name.len() as u64).to_be_bytes());
        h.update(c.name.as_bytes());
        match v {
            None => h.update([0u8]),
            Some(v) => {
                h.update([1u8]);
                h.update((v.len() as u64).to_be_bytes());
                h.update(v.as_bytes());
            }
        }
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_compare_by_value() {
        assert_eq!(decimal("1.50"), "1.5");
        assert_eq!(decimal("1.500000000000000000000000000000"), "1.5");
        assert_eq!(decimal("-0.00"), "0");
        assert_eq!(decimal("007.10"), "7.1");
        assert_eq!(
            decimal("12345678901234567890.123456789012345678"),
            "12345678901234567890.123456789012345678"
        );
        assert_eq!(decimal("-3"), "-3");
        assert_eq!(decimal("NaN"), "NaN");
        assert_eq!(decimal("1e5"), "100000");
        assert_eq!(decimal("1.2345678901234567e+19"), "12345678901234567000");
        assert_eq!(decimal("-2.5E-3"), "-0.0025");
        assert_eq!(decimal("1e"), "1e");
    }

    #[test]
    fn times_take_one_form() {
        let ts = |s| canonical(&Carried::Timestamp, s);
        let at = |s| canonical(&Carried::Instant, s);
        assert_eq!(ts("2024-03-01 10:00:00"), "2024-03-01 10:00:00.000000");
        assert_eq!(ts("2024-03-01T10:00:00.5"), "2024-03-01 10:00:00.500000");
        assert_eq!(ts("2024-03-01"), "2024-03-01 00:00:00.000000");
        assert_eq!(ts("1709287200"), "1709287200");
        // Left as written where the common form would change them.
        assert_eq!(ts("2024-03-01T10:00:00Z"), "2024-03-01T10:00:00Z");
        assert_eq!(
            ts("2024-03-01 10:00:00.1234567"),
            "2024-03-01 10:00:00.1234567"
        );
        assert_eq!(at("2024-03-01T10:00:00Z"), "2024-03-01 10:00:00.000000");
        assert_eq!(
            at("2024-03-01 11:00:00+01:00"),
            "2024-03-01 10:00:00.000000"
        );
        assert_eq!(
            at("2024-03-01 10:00:00.500000+00:00"),
            "2024-03-01 10:00:00.500000"
        );
        assert_eq!(canonical(&Carried::Date, "2024-03-01"), "2024-03-01");
    }

    #[test]
    fn floats_and_booleans() {
        assert_eq!(
            canonical(&Carried::Float, "0.30000000000000004"),
            "0.30000000000000004"
        );
        assert_eq!(canonical(&Carried::Float, "0.10000000000000001"), "0.1");
        assert_eq!(canonical(&Carried::Float, "2"), "2.0");
        assert_eq!(canonical(&Carried::Boolean, "t"), "true");
        assert_eq!(canonical(&Carried::Boolean, "0"), "false");
    }

    #[test]
    fn digests_tell_null_from_text() {
        let cols = vec![ArchivedColumn {
            name: "a".into(),
            carried: Carried::Text,
            is_key: false,
            max_len: None,
        }];
        assert_ne!(
            digest(&cols, &[None]),
            digest(&cols, &[Some(String::new())])
        );
        assert_ne!(
            digest(&cols, &[Some("NULL".into())]),
            digest(&cols, &[None])
        );
    }
}
