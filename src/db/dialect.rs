//! What differs per database in SQL text: identifier quoting, placeholders, casts, date and
//! byte functions, and the statement forms that are not the same everywhere.
//!
//! A fragment function takes expressions that are already SQL (a quoted column such as
//! `t."email"`, or another fragment) and returns SQL text. It never quotes and never sees a
//! value: the caller quotes every identifier with [`Dialect::quote`] after the schema check
//! has confirmed it exists, and binds every value (`Sql::bind`).

use crate::config::{EPOCH_SPLIT, EpochUnit};
use crate::db::schema::ColumnKind;
use crate::db::{Sql, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    MySql,
    Sqlite,
}

/// The period a date is truncated to (`year_only`, `month_only`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatePart {
    Year,
    Month,
}

/// The range of Julian day numbers SQLite's date functions read: years 0000 to 9999.
pub const JULIAN_DAYS: (f64, f64) = (1_721_059.5, 5_373_484.5);

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => "PostgreSQL",
            Dialect::MySql => "MySQL/MariaDB",
            Dialect::Sqlite => "SQLite",
        }
    }

    /// Quotes one identifier for this dialect, doubling any quote character inside it.
    pub fn quote(self, ident: &str) -> String {
        match self {
            Dialect::MySql => format!("`{}`", ident.replace('`', "``")),
            Dialect::Postgres | Dialect::Sqlite => format!("\"{}\"", ident.replace('"', "\"\"")),
        }
    }

    /// The placeholder of the `n`-th bound value (from 1).
    pub fn placeholder(self, n: usize) -> String {
        match self {
            Dialect::Postgres => format!("${n}"),
            Dialect::MySql | Dialect::Sqlite => "?".to_string(),
        }
    }

    /// `expr` as a 64-bit integer, which every driver decodes as i64.
    pub fn as_i64(self, expr: &str) -> String {
        match self {
            Dialect::Postgres => format!("CAST({expr} AS BIGINT)"),
            Dialect::MySql => format!("CAST({expr} AS SIGNED)"),
            Dialect::Sqlite => format!("CAST({expr} AS INTEGER)"),
        }
    }

    /// `expr` as text, as the database renders it.
    pub fn as_text(self, expr: &str) -> String {
        match self {
            Dialect::MySql => format!("CAST({expr} AS CHAR)"),
            Dialect::Postgres | Dialect::Sqlite => format!("CAST({expr} AS TEXT)"),
        }
    }

    /// A byte string as lowercase hex.
    pub fn hex_text(self, expr: &str) -> String {
        match self {
            Dialect::Postgres => format!("encode({expr}, 'hex')"),
            Dialect::MySql => format!("LOWER(HEX({expr}))"),
            Dialect::Sqlite => format!("lower(hex({expr}))"),
        }
    }

    /// A date column as `YYYY-MM-DD` (SQLite: its text as stored).
    pub fn date_text(self, expr: &str) -> String {
        match self {
            Dialect::Postgres => format!("to_char({expr}, 'YYYY-MM-DD')"),
            Dialect::MySql => format!("DATE_FORMAT({expr}, '%Y-%m-%d')"),
            Dialect::Sqlite => self.as_text(expr),
        }
    }

    /// A timestamp column without a zone as `YYYY-MM-DD HH:MM:SS.ffffff` (SQLite: its text as
    /// stored).
    pub fn timestamp_text(self, expr: &str) -> String {
        match self {
            Dialect::Postgres => format!("to_char({expr}, 'YYYY-MM-DD HH24:MI:SS.US')"),
            Dialect::MySql => format!("DATE_FORMAT({expr}, '%Y-%m-%d %H:%i:%s.%f')"),
            Dialect::Sqlite => self.as_text(expr),
        }
    }

    /// A point-in-time column as `YYYY-MM-DD HH:MM:SS.ffffff` in UTC. MySQL reads TIMESTAMP
    /// columns in the session zone, which is UTC. SQLite: its text as stored.
    pub fn instant_text(self, expr: &str) -> String {
        match self {
            Dialect::Postgres => {
                format!("to_char({expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')")
            }
            Dialect::MySql => self.timestamp_text(expr),
            Dialect::Sqlite => self.as_text(expr),
        }
    }

    /// A timestamp column of retentiond's own tables (or `now()`) as
    /// `YYYY-MM-DD HH:MM:SS.ffffff` text in UTC; SQLite stores that text already.
    pub fn utc_text(self, expr: &str) -> String {
        match self {
            Dialect::Postgres => self.instant_text(expr),
            Dialect::MySql => format!("CAST(DATE_FORMAT({expr}, '%Y-%m-%d %H:%i:%s.%f') AS CHAR)"),
            Dialect::Sqlite => expr.to_string(),
        }
    }

    /// The current instant, for a timestamp column of retentiond's own tables.
    pub fn now(self) -> &'static str {
        match self {
            Dialect::Postgres => "now()",
            Dialect::MySql => "UTC_TIMESTAMP(6)",
            Dialect::Sqlite => "strftime('%Y-%m-%d %H:%M:%f', 'now')",
        }
    }

    /// Appends the instant `seconds` from now, for a timestamp column of retentiond's own
    /// tables; the number is bound.
    pub fn push_seconds_from_now(self, q: &mut Sql, seconds: i64) {
        match self {
            Dialect::Postgres => q
                .push("now() + make_interval(secs => ")
                .bind(Value::Int(seconds))
                .push(")"),
            Dialect::MySql => q
                .push("UTC_TIMESTAMP(6) + INTERVAL ")
                .bind(Value::Int(seconds))
                .push(" SECOND"),
            Dialect::Sqlite => q
                .push("strftime('%Y-%m-%d %H:%M:%f', 'now', ")
                .bind(Value::Text(format!("+{seconds} seconds")))
                .push(")"),
        };
    }

    /// `a` and `b` differ, a NULL on one side counting as a difference. Never NULL.
    pub fn is_distinct_from(self, a: &str, b: &str) -> String {
        match self {
            Dialect::Postgres => format!("{a} IS DISTINCT FROM {b}"),
            Dialect::MySql => format!("NOT ({a} <=> {b})"),
            Dialect::Sqlite => format!("{a} IS NOT {b}"),
        }
    }

    /// `column` still holds `read`, a text value read from it earlier (NULL for NULL). MySQL
    /// compares the two as utf8mb4 bytes: a column in another character set (latin1) cannot be
    /// compared with a value of a derived table directly once it holds a character outside
    /// ASCII ("Illegal mix of collations"), and exact bytes are the stricter test anyway.
    pub fn still_holds(self, column: &str, read: &str) -> String {
        match self {
            Dialect::Postgres => format!("{column} IS NOT DISTINCT FROM {read}"),
            Dialect::MySql => format!(
                "CAST(CONVERT({column} USING utf8mb4) AS BINARY) <=> CAST(CONVERT({read} USING utf8mb4) AS BINARY)"
            ),
            Dialect::Sqlite => format!("{column} IS {read}"),
        }
    }

    /// `expr` is not already a SHA-256 digest in lowercase hex (64 characters, case-sensitive).
    pub fn not_sha256_hex(self, expr: &str) -> String {
        match self {
            Dialect::Postgres => format!("{expr} !~ '^[0-9a-f]{{64}}$'"),
            Dialect::MySql => format!("NOT (BINARY {expr} REGEXP '^[0-9a-f]{{64}}$')"),
            Dialect::Sqlite => {
                format!("NOT (length({expr}) = 64 AND {expr} NOT GLOB '*[^0-9a-f]*')")
            }
        }
    }

    /// The part of an email address after its first `@`.
    pub fn email_domain(self, expr: &str) -> String {
        match self {
            Dialect::Postgres => format!("substr({expr}, strpos({expr}, '@') + 1)"),
            Dialect::MySql => format!("SUBSTRING({expr}, LOCATE('@', {expr}) + 1)"),
            Dialect::Sqlite => format!("substr({expr}, instr({expr}, '@') + 1)"),
        }
    }

    /// The first day of the value's year (or month), in the column's own type: a date for a
    /// date column, else midnight of that day.
    pub fn date_trunc(self, expr: &str, kind: ColumnKind, part: DatePart) -> String {
        let date = kind == ColumnKind::Date;
        match self {
            Dialect::Postgres => {
                let unit = match part {
                    DatePart::Year => "year",
                    DatePart::Month => "month",
                };
                if date {
                    format!("CAST(date_trunc('{unit}', {expr}) AS date)")
                } else {
                    format!("date_trunc('{unit}', {expr})")
                }
            }
            Dialect::MySql => {
                let fmt = part.first_day_format();
                if date {
                    format!("CAST(DATE_FORMAT({expr}, '{fmt}') AS DATE)")
                } else {
                    format!("CAST(DATE_FORMAT({expr}, '{fmt} 00:00:00') AS DATETIME)")
                }
            }
            Dialect::Sqlite => {
                let fmt = part.first_day_format();
                if date {
                    format!("strftime('{fmt}', {expr})")
                } else {
                    format!("strftime('{fmt} 00:00:00', {expr})")
                }
            }
        }
    }

    /// `len` bytes of the byte string `b` from byte `from` (1-based). MySQL/MariaDB and
    /// PostgreSQL `bytea`.
    fn bytes_substring(self, b: &str, from: u8, len: u8) -> String {
        match self {
            Dialect::MySql => format!("SUBSTRING({b}, {from}, {len})"),
            Dialect::Postgres | Dialect::Sqlite => format!("substring({b} from {from} for {len})"),
        }
    }

    /// A byte string literal. `hex` is a constant of the caller's, never a value read or
    /// configured.
    fn bytes_literal(self, hex: &str) -> String {
        match self {
            Dialect::MySql => format!("UNHEX('{hex}')"),
            Dialect::Postgres | Dialect::Sqlite => format!("decode('{hex}', 'hex')"),
        }
    }

    /// The byte strings `parts` one after the other.
    fn bytes_concat(self, parts: &[String]) -> String {
        match self {
            Dialect::MySql => format!("CONCAT({})", parts.join(", ")),
            Dialect::Postgres | Dialect::Sqlite => format!("({})", parts.join(" || ")),
        }
    }

    /// The address in column `c` (of type `kind`) truncated in the column's own type (IPv4 to its /24, IPv6 to its
    /// /48, an IPv4-mapped IPv6 address as the IPv4 address it is), for the types whose value
    /// the database can cut itself; text is truncated outside SQL (`transform::truncate_ip`).
    pub fn truncated_ip(self, c: &str, kind: ColumnKind, nullable: bool) -> String {
        match (kind, self) {
            // Host bits zeroed, the mask length kept (a cidr value must have no host bits).
            (ColumnKind::Inet, Dialect::Postgres) => {
                let width = format!(
                    "CASE WHEN family({c}) = 4 THEN 24 WHEN {c} << inet '::ffff:0.0.0.0/96' THEN 120 ELSE 48 END"
                );
                format!(
                    "set_masklen(network(set_masklen({c}, LEAST(masklen({c}), {width}))), masklen({c}))"
                )
            }
            (ColumnKind::Inet | ColumnKind::Inet4, _) => format!(
                "INET6_NTOA({})",
                self.truncated_packed(&format!("INET6_ATON({c})"), false, "NULL")
            ),
            (ColumnKind::Binary, _) => {
                let not_an_ip = if nullable {
                    "NULL".to_string()
                } else {
                    self.bytes_literal("00000000")
                };
                // Only MySQL pads: a 4-byte address in BINARY(16) ends in twelve zero bytes.
                self.truncated_packed(c, self == Dialect::MySql, &not_an_ip)
            }
            // An integer holding IPv4 in network byte order: its lowest byte cleared.
            (ColumnKind::Integer, _) => format!("({c} - ({c} & 255))"),
            // `transform_fits` admits no other type; the value as it is, so nothing is selected
            // or changed.
            _ => c.to_string(),
        }
    }

    /// A packed address `b` (4 bytes IPv4, 16 bytes IPv6) truncated; any other length is not an
    /// address and becomes `not_an_ip`. With `padded_v4`, a 16-byte value whose bytes 5 and 6
    /// are zero also loses its fourth byte: it may be an IPv4 address zero-padded into a
    /// `BINARY(16)` column, whose /48 would keep all of it.
    fn truncated_packed(self, b: &str, padded_v4: bool, not_an_ip: &str) -> String {
        let sub = |from, len| self.bytes_substring(b, from, len);
        let lit = |hex| self.bytes_literal(hex);
        let mapped_prefix = lit("00000000000000000000ffff");
        let v4 = self.bytes_concat(&[sub(1, 3), lit("00")]);
        let mapped = self.bytes_concat(&[sub(1, 15), lit("00")]);
        let fourth = if padded_v4 {
            format!(
                "CASE WHEN {} = {} THEN {} ELSE {} END",
                sub(5, 2),
                lit("0000"),
                lit("00"),
                sub(4, 1)
            )
        } else {
            sub(4, 1)
        };
        let v6 = self.bytes_concat(&[sub(1, 3), fourth, sub(5, 2), lit("00000000000000000000")]);
        format!(
            "CASE length({b}) WHEN 4 THEN {v4} WHEN 16 THEN CASE WHEN {} = {mapped_prefix} THEN {mapped} ELSE {v6} END ELSE {not_an_ip} END",
            sub(1, 12)
        )
    }

    /// A value of the database's own date or timestamp type holds a real instant: not a
    /// PostgreSQL infinity, not a MariaDB zero or partly zero date (`'0000-00-00'`,
    /// `'2020-05-00'`). Never NULL for a non-NULL `expr`. `None`: every non-NULL value is one.
    pub fn real_date(self, expr: &str) -> Option<String> {
        match self {
            Dialect::Postgres => Some(format!("isfinite({expr})")),
            Dialect::MySql => Some(format!(
                "YEAR({expr}) <> 0 AND MONTH({expr}) <> 0 AND DAYOFMONTH({expr}) <> 0"
            )),
            Dialect::Sqlite => None,
        }
    }

    /// An epoch number is a real instant: positive, in the range of its unit (and, in SQLite, a
    /// number at all). `check` refuses a column whose values contradict its unit; the range
    /// keeps a value written in the wrong unit after that check (seconds into a milliseconds
    /// column, read as 1970) undated instead of expired.
    pub fn real_epoch(self, expr: &str, unit: EpochUnit) -> String {
        let range = match unit {
            EpochUnit::Seconds => format!("{expr} > 0 AND {expr} < {EPOCH_SPLIT}"),
            EpochUnit::Milliseconds => format!("{expr} >= {EPOCH_SPLIT}"),
        };
        match self {
            Dialect::Sqlite => format!("typeof({expr}) IN ('integer', 'real') AND {range}"),
            Dialect::Postgres | Dialect::MySql => range,
        }
    }

    /// `DELETE` from a table named with an alias (`aliased` is `<table> AS <alias>`): MySQL
    /// names the alias to delete from.
    pub fn delete_from(self, aliased: &str, alias: &str) -> String {
        match self {
            Dialect::MySql => format!("DELETE {alias} FROM {aliased}"),
            Dialect::Postgres | Dialect::Sqlite => format!("DELETE FROM {aliased}"),
        }
    }

    /// A temporary table of this session, as statements name it. PostgreSQL keeps it in the
    /// session's own schema, which no application table can shadow.
    pub fn temp_table(self, name: &str) -> String {
        match self {
            Dialect::Postgres => format!("pg_temp.{}", self.quote(name)),
            Dialect::MySql | Dialect::Sqlite => self.quote(name),
        }
    }

    /// `CREATE TEMPORARY TABLE <table> AS <select>`, empty when `select` returns no rows: the
    /// columns take the selected columns' types.
    pub fn create_temp_table_as(self, table: &str, select: &str) -> String {
        match self {
            Dialect::Postgres => format!("CREATE TEMPORARY TABLE {table} AS {select}"),
            Dialect::MySql => format!("CREATE TEMPORARY TABLE {table} ENGINE = InnoDB AS {select}"),
            Dialect::Sqlite => format!("CREATE TEMPORARY TABLE {table} AS {select}"),
        }
    }

    pub fn drop_temp_table(self, table: &str) -> String {
        match self {
            Dialect::MySql => format!("DROP TEMPORARY TABLE IF EXISTS {table}"),
            Dialect::Postgres | Dialect::Sqlite => format!("DROP TABLE IF EXISTS {table}"),
        }
    }

    /// MariaDB: the prefix that makes one statement look up related rows per row through
    /// their index instead of materializing the related table. `None` elsewhere.
    pub fn lookups_per_row_prefix(self, mariadb: bool) -> Option<&'static str> {
        (self == Dialect::MySql && mariadb)
            .then_some("SET STATEMENT optimizer_switch = 'semijoin=off,materialization=off' FOR ")
    }

    /// What to run after a large purge of `table`, in the database's own terms (a message).
    pub fn maintenance_advice(self, table: &str) -> String {
        match self {
            Dialect::Postgres => format!(
                "VACUUM (ANALYZE) {table} makes the space reusable and refreshes the planner's statistics now \
                 (autovacuum does the same, later)"
            ),
            Dialect::MySql => format!(
                "ANALYZE TABLE {table} refreshes the statistics; OPTIMIZE TABLE {table} also returns the space \
                 to the filesystem, but rebuilds the table"
            ),
            Dialect::Sqlite => {
                format!(
                    "ANALYZE {table} refreshes the statistics; VACUUM returns the space to the filesystem"
                )
            }
        }
    }
}

impl DatePart {
    /// The `DATE_FORMAT` / `strftime` pattern of the period's first day.
    fn first_day_format(self) -> &'static str {
        match self {
            DatePart::Year => "%Y-01-01",
            DatePart::Month => "%Y-%m-01",
        }
    }
}

/// SQLite's reading of a value as UTC text that sorts like the instant (the form of
/// `cutoff::bound`'s `Instant` texts).
pub fn sqlite_instant(expr: &str) -> String {
    format!("strftime('%Y-%m-%d %H:%M:%f', {expr})")
}

/// SQLite: `expr` is ISO-8601 text that SQLite's date functions read, with a date part that
/// names a real day (SQLite itself reads `'2026-02-31'` as 3 March) and that ends in a digit or
/// `Z`: SQLite also reads `'... 10:00:00+01:00 '`, whose trailing space would hide the offset
/// from the test that decides between wall time and instant. Never NULL.
pub fn sqlite_text_date(expr: &str) -> String {
    format!(
        "(typeof({expr}) = 'text' AND {expr} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*' \
         AND substr({expr}, -1) GLOB '[0-9Zz]' \
         AND julianday({expr}) IS NOT NULL AND date(substr({expr}, 1, 10)) IS substr({expr}, 1, 10))"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Dialect; 3] = [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite];

    /// One fragment on every dialect, in `ALL`'s order.
    fn each(f: impl Fn(Dialect) -> String) -> [String; 3] {
        ALL.map(f)
    }

    #[test]
    fn quoting_doubles_embedded_quotes() {
        assert_eq!(
            Dialect::Postgres.quote(r#"x"; DROP TABLE t; --"#),
            r#""x""; DROP TABLE t; --""#
        );
        assert_eq!(Dialect::MySql.quote("a`b"), "`a``b`");
    }

    /// Undoes `quote`: what the database reads as the identifier.
    fn unquote(d: Dialect, quoted: &str) -> Option<String> {
        let q = if d == Dialect::MySql { '`' } else { '"' };
        let inner = quoted.strip_prefix(q)?.strip_suffix(q)?;
        let doubled = format!("{q}{q}");
        // Every quote character inside must be doubled, or the identifier would end early.
        if inner.replace(&doubled, "").contains(q) {
            return None;
        }
        Some(inner.replace(&doubled, &q.to_string()))
    }

    proptest::proptest! {
        /// Whatever a config names, the quoted identifier reads back as exactly that name
        /// and cannot close early: no quote character is left undoubled inside it.
        #[test]
        fn quoting_round_trips_any_identifier(name in "\\PC{0,30}") {
            for d in [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite] {
                proptest::prop_assert_eq!(unquote(d, &d.quote(&name)), Some(name.clone()));
            }
        }
    }

    #[test]
    fn placeholders_number_from_one_on_postgres_only() {
        assert_eq!(
            each(|d| d.placeholder(3)),
            ["$3".to_string(), "?".into(), "?".into()]
        );
    }

    #[test]
    fn casts() {
        assert_eq!(
            each(|d| d.as_i64("MAX(t.\"id\")")),
            [
                "CAST(MAX(t.\"id\") AS BIGINT)",
                "CAST(MAX(t.\"id\") AS SIGNED)",
                "CAST(MAX(t.\"id\") AS INTEGER)"
            ]
        );
        assert_eq!(
            each(|d| d.as_text("c")),
            ["CAST(c AS TEXT)", "CAST(c AS CHAR)", "CAST(c AS TEXT)"]
        );
        assert_eq!(
            each(|d| d.hex_text("c")),
            ["encode(c, 'hex')", "LOWER(HEX(c))", "lower(hex(c))"]
        );
    }

    #[test]
    fn dates_and_instants_as_text() {
        assert_eq!(
            each(|d| d.instant_text("c")),
            [
                "to_char(c AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')",
                "DATE_FORMAT(c, '%Y-%m-%d %H:%i:%s.%f')",
                "CAST(c AS TEXT)"
            ]
        );
        assert_eq!(
            each(|d| d.date_text("c")),
            [
                "to_char(c, 'YYYY-MM-DD')",
                "DATE_FORMAT(c, '%Y-%m-%d')",
                "CAST(c AS TEXT)"
            ]
        );
        assert_eq!(
            each(|d| format!("SELECT {}", d.utc_text(d.now()))),
            [
                "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')",
                "SELECT CAST(DATE_FORMAT(UTC_TIMESTAMP(6), '%Y-%m-%d %H:%i:%s.%f') AS CHAR)",
                "SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')"
            ]
        );
    }

    #[test]
    fn seconds_from_now_binds_the_number() {
        let texts = each(|d| {
            let mut q = Sql::new(d);
            d.push_seconds_from_now(&mut q, 30);
            q.text
        });
        assert_eq!(
            texts,
            [
                "now() + make_interval(secs => $1)",
                "UTC_TIMESTAMP(6) + INTERVAL ? SECOND",
                "strftime('%Y-%m-%d %H:%M:%f', 'now', ?)"
            ]
        );
        let mut q = Sql::new(Dialect::Sqlite);
        Dialect::Sqlite.push_seconds_from_now(&mut q, 30);
        assert_eq!(q.args, [Value::Text("+30 seconds".into())]);
    }

    #[test]
    fn transform_tests_and_values() {
        assert_eq!(
            each(|d| d.not_sha256_hex("c")),
            [
                "c !~ '^[0-9a-f]{64}$'",
                "NOT (BINARY c REGEXP '^[0-9a-f]{64}$')",
                "NOT (length(c) = 64 AND c NOT GLOB '*[^0-9a-f]*')"
            ]
        );
        assert_eq!(
            each(|d| d.email_domain("c")),
            [
                "substr(c, strpos(c, '@') + 1)",
                "SUBSTRING(c, LOCATE('@', c) + 1)",
                "substr(c, instr(c, '@') + 1)"
            ]
        );
        assert_eq!(
            each(|d| d.is_distinct_from("a", "b")),
            ["a IS DISTINCT FROM b", "NOT (a <=> b)", "a IS NOT b"]
        );
    }

    #[test]
    fn date_truncation_keeps_the_column_type() {
        assert_eq!(
            each(|d| d.date_trunc("c", ColumnKind::Date, DatePart::Year)),
            [
                "CAST(date_trunc('year', c) AS date)",
                "CAST(DATE_FORMAT(c, '%Y-01-01') AS DATE)",
                "strftime('%Y-01-01', c)"
            ]
        );
        assert_eq!(
            each(|d| d.date_trunc("c", ColumnKind::Timestamp, DatePart::Month)),
            [
                "date_trunc('month', c)",
                "CAST(DATE_FORMAT(c, '%Y-%m-01 00:00:00') AS DATETIME)",
                "strftime('%Y-%m-01 00:00:00', c)"
            ]
        );
    }

    #[test]
    fn byte_functions() {
        let [pg, my, _] =
            each(|d| d.bytes_concat(&[d.bytes_substring("b", 1, 3), d.bytes_literal("00")]));
        assert_eq!(pg, "(substring(b from 1 for 3) || decode('00', 'hex'))");
        assert_eq!(my, "CONCAT(SUBSTRING(b, 1, 3), UNHEX('00'))");
    }

    #[test]
    fn ip_truncation_in_the_column_type() {
        assert_eq!(
            Dialect::Postgres.truncated_ip("c", ColumnKind::Inet, true),
            "set_masklen(network(set_masklen(c, LEAST(masklen(c), CASE WHEN family(c) = 4 THEN 24 \
             WHEN c << inet '::ffff:0.0.0.0/96' THEN 120 ELSE 48 END))), masklen(c))"
        );
        assert_eq!(
            Dialect::MySql.truncated_ip("c", ColumnKind::Integer, false),
            "(c - (c & 255))"
        );
        let mariadb_inet6 = Dialect::MySql.truncated_ip("c", ColumnKind::Inet, true);
        assert!(mariadb_inet6.starts_with(
            "INET6_NTOA(CASE length(INET6_ATON(c)) WHEN 4 THEN CONCAT(SUBSTRING(INET6_ATON(c), 1, 3), UNHEX('00'))"
        ));
        assert!(mariadb_inet6.ends_with(" ELSE NULL END)"));
        // Only MySQL's BINARY(16) may hold a zero-padded IPv4 address.
        let binary = |d: Dialect| d.truncated_ip("c", ColumnKind::Binary, false);
        assert!(binary(Dialect::MySql).contains("CASE WHEN SUBSTRING(c, 5, 2) = UNHEX('0000')"));
        assert!(!binary(Dialect::Postgres).contains("CASE WHEN substring(c from 5 for 2)"));
        assert!(binary(Dialect::Postgres).ends_with(" ELSE decode('00000000', 'hex') END"));
    }

    #[test]
    fn zero_date_guards() {
        assert_eq!(
            ALL.map(|d| d.real_date("c")),
            [
                Some("isfinite(c)".to_string()),
                Some("YEAR(c) <> 0 AND MONTH(c) <> 0 AND DAYOFMONTH(c) <> 0".into()),
                None
            ]
        );
        assert_eq!(
            each(|d| d.real_epoch("c", EpochUnit::Seconds)),
            [
                "c > 0 AND c < 100000000000",
                "c > 0 AND c < 100000000000",
                "typeof(c) IN ('integer', 'real') AND c > 0 AND c < 100000000000"
            ]
        );
        assert_eq!(
            each(|d| d.real_epoch("c", EpochUnit::Milliseconds)),
            [
                "c >= 100000000000",
                "c >= 100000000000",
                "typeof(c) IN ('integer', 'real') AND c >= 100000000000"
            ]
        );
    }

    #[test]
    fn statement_forms() {
        assert_eq!(
            each(|d| d.delete_from("\"s\".\"t\" AS t", "t")),
            [
                "DELETE FROM \"s\".\"t\" AS t",
                "DELETE t FROM \"s\".\"t\" AS t",
                "DELETE FROM \"s\".\"t\" AS t"
            ]
        );
        assert_eq!(
            [
                Dialect::MySql.lookups_per_row_prefix(true),
                Dialect::MySql.lookups_per_row_prefix(false),
                Dialect::Postgres.lookups_per_row_prefix(true),
            ],
            [
                Some("SET STATEMENT optimizer_switch = 'semijoin=off,materialization=off' FOR "),
                None,
                None
            ]
        );
    }

    #[test]
    fn sqlite_instants() {
        assert_eq!(sqlite_instant("c"), "strftime('%Y-%m-%d %H:%M:%f', c)");
        assert!(sqlite_text_date("c").starts_with("(typeof(c) = 'text' AND c GLOB"));
    }
}
