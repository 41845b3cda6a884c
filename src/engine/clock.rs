//! What a clock column holds, read once per check: the forms of its values decide how they are
//! compared with the threshold, and what cannot be compared safely is refused with the reason.

use super::target::{ClockCol, ClockRead, TextForm};
use crate::config::{EPOCH_SPLIT, EpochUnit};
use crate::db::dialect::{JULIAN_DAYS, sqlite_text_date};
use crate::db::{Db, Decode, Dialect, Sql, Tx, Value};

/// Counts of a clock column's non-NULL values by form.
#[derive(Debug, Default, Clone)]
pub struct Census {
    pub values: i64,
    pub integers: i64,
    pub reals: i64,
    /// Reals in the range of Julian day numbers.
    pub julian: i64,
    /// ISO-8601 text that SQLite's date functions read.
    pub text_dates: i64,
    /// Text dates of each `TextForm::ALL`.
    pub forms: [i64; 3],
    /// Text dates with a UTC offset or `Z`.
    pub zoned: i64,
    pub min_positive: Option<i64>,
    pub max: Option<i64>,
}

/// Counts the values of `table.col`. Columns of the database's own date types need nothing.
pub async fn census(
    db: &Db,
    tx: &mut Tx<'_>,
    table: &str,
    col: &ClockCol,
) -> Result<Census, sqlx::Error> {
    let c = db.quote(&col.name);
    let d = db.dialect;
    let sql = match (d, col.read) {
        (Dialect::Sqlite, _) => {
            let date = sqlite_text_date(&c);
            let forms: Vec<String> = TextForm::ALL
                .iter()
                .map(|f| format!("COALESCE(SUM({c} GLOB '{}' AND {date}), 0)", f.glob()))
                .collect();
            format!(
                "SELECT COUNT({c}), COALESCE(SUM(typeof({c}) = 'integer'), 0), \
                 COALESCE(SUM(typeof({c}) = 'real'), 0), \
                 COALESCE(SUM(typeof({c}) = 'real' AND {c} BETWEEN {} AND {}), 0), \
                 COALESCE(SUM({date}), 0), {}, \
                 COALESCE(SUM({date} AND ({c} GLOB '*[+-][0-9][0-9]:[0-9][0-9]' OR {c} GLOB '*[Zz]')), 0), \
                 CAST(MIN(CASE WHEN typeof({c}) IN ('integer', 'real') AND {c} > 0 THEN {c} END) AS INTEGER), \
                 CAST(MAX(CASE WHEN typeof({c}) IN ('integer', 'real') THEN {c} END) AS INTEGER) \
                 FROM {}",
                JULIAN_DAYS.0,
                JULIAN_DAYS.1,
                forms.join(", "),
                db.table(table)
            )
        }
        // Two index lookups where the column has an index, not a scan.
        (_, ClockRead::Epoch(_)) => {
            let t = db.table(table);
            let min = format!(
                "SELECT {} FROM {t} WHERE {c} > 0",
                d.as_i64(&format!("MIN({c})"))
            );
            let max = format!("SELECT {} FROM {t}", d.as_i64(&format!("MAX({c})")));
            return Ok(Census {
                min_positive: scalar(tx, d, &min).await?,
                max: scalar(tx, d, &max).await?,
                ..Census::default()
            });
        }
        _ => return Ok(Census::default()),
    };
    let rows = tx.fetch(&Sql::raw(d, &sql), &[Decode::Int; 11]).await?;
    let n: Vec<Option<i64>> = rows
        .first()
        .map(|r| {
            r.iter()
                .map(|v| match v {
                    Value::Int(n) => Some(*n),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let at = |i: usize| n.get(i).copied().flatten();
    let count = |i: usize| at(i).unwrap_or(0);
    Ok(Census {
        values: count(0),
        integers: count(1),
        reals: count(2),
        julian: count(3),
        text_dates: count(4),
        forms: [count(5), count(6), count(7)],
        zoned: count(8),
        min_positive: at(9),
        max: at(10),
    })
}

/// The one integer a statement returns, `None` for NULL.
async fn scalar(tx: &mut Tx<'_>, d: Dialect, sql: &str) -> Result<Option<i64>, sqlx::Error> {
    let rows = tx.fetch(&Sql::raw(d, sql), &[Decode::Int]).await?;
    Ok(match rows.first().and_then(|r| r.first()) {
        Some(Value::Int(n)) => Some(*n),
        _ => None,
    })
}

/// How `table.col` is read, with what `check` should say about it; or why it cannot be a clock.
pub fn decide(
    census: &Census,
    table: &str,
    col: &ClockCol,
) -> Result<(ClockRead, Vec<String>), String> {
    let name = format!("{table}.{}", col.name);
    match col.read {
        ClockRead::Native => Ok((ClockRead::Native, Vec::new())),
        ClockRead::Epoch(unit) => epoch(census, &name, unit).map(|notes| (col.read, notes)),
        ClockRead::SortableText(_) | ClockRead::Instant => sqlite_values(census, &name),
    }
}

const UNITS: &str = "add unit = \"unix_seconds\" or unit = \"unix_milliseconds\" to since";

/// Epoch numbers must fit their unit: the wrong one would date them decades early or late.
fn epoch(census: &Census, name: &str, unit: EpochUnit) -> Result<Vec<String>, String> {
    match unit {
        EpochUnit::Seconds => {
            if let Some(max) = census.max.filter(|m| *m >= EPOCH_SPLIT) {
                return Err(format!(
                    "{name} holds {max}, which as unix_seconds is after the year 5000; values of {EPOCH_SPLIT} and more are milliseconds: use unit = \"unix_milliseconds\""
                ));
            }
        }
        EpochUnit::Milliseconds => {
            if let Some(min) = census.min_positive.filter(|m| *m < EPOCH_SPLIT) {
                return Err(format!(
                    "{name} holds {min}, which as unix_milliseconds is before 1973-03-03, so it would count as expired long ago; values below {EPOCH_SPLIT} are seconds: use unit = \"unix_seconds\""
                ));
            }
        }
    }
    // Only SQLite counts values by form; elsewhere the column's type makes each one a number.
    let others = census.values - census.integers - census.reals;
    let mut notes = Vec::new();
    if others > 0 {
        notes.push(format!(
            "{others} value(s) of {name} are not epoch numbers: those rows are undated and kept"
        ));
    }
    Ok(notes)
}

/// SQLite values without a unit: ISO-8601 text and Julian day numbers are dates, integers
/// need a unit, anything else is undated.
fn sqlite_values(census: &Census, name: &str) -> Result<(ClockRead, Vec<String>), String> {
    if census.integers > 0 {
        let hint = match (census.min_positive, census.max) {
            (_, Some(max)) if max >= EPOCH_SPLIT => {
                format!(" (the largest, {max}, looks like milliseconds)")
            }
            (Some(min), _) if min >= 100_000_000 => " (they look like seconds)".to_string(),
            _ => String::new(),
        };
        return Err(format!(
            "{} value(s) of {name} are integers; a retention clock needs a date or timestamp column, or epoch numbers with their unit, since seconds and milliseconds look alike: {UNITS}{hint}",
            census.integers
        ));
    }
    let other_reals = census.reals - census.julian;
    if other_reals > 0 {
        return Err(format!(
            "{other_reals} value(s) of {name} are numbers but not Julian day numbers (years 0000 to 9999); if they are epoch numbers, {UNITS}"
        ));
    }
    let dates = census.text_dates + census.julian;
    if census.values > 0 && dates == 0 {
        return Err(format!(
            "none of the {} value(s) of {name} is a date; a retention clock needs a date or timestamp column (ISO-8601 text such as 2026-11-01 14:20:00, or Julian day numbers)",
            census.values
        ));
    }
    let mut notes = Vec::new();
    let undated = census.values - dates;
    if undated > 0 {
        notes.push(format!(
            "{undated} value(s) of {name} are not dates SQLite can read (such as '2026-11-01junk' or '0000-00-00'): those rows are undated and kept"
        ));
    }
    let uniform = TextForm::ALL
        .iter()
        .zip(census.forms)
        .find(|(_, n)| *n > 0 && *n == census.text_dates && census.julian == 0)
        .map(|(f, _)| *f);
    if let Some(form) = uniform {
        return Ok((ClockRead::SortableText(form), notes));
    }
    if dates > 0 {
        let mut kinds = Vec::new();
        if census.zoned > 0 {
            kinds.push(format!("{} with a UTC offset", census.zoned));
        }
        if census.text_dates > census.zoned {
            kinds.push(format!(
                "{} ISO-8601 text without offset",
                census.text_dates - census.zoned
            ));
        }
        if census.julian > 0 {
            kinds.push(format!("{} Julian day numbers", census.julian));
        }
        notes.push(format!(
            "{name} holds dates whose text does not sort like their instants ({}), so they are compared through SQLite's date functions, which no index serves: every run reads the whole table; values all of one form such as YYYY-MM-DD HH:MM:SS would be compared with an index",
            kinds.join(", ")
        ));
    }
    Ok((ClockRead::Instant, notes))
}
