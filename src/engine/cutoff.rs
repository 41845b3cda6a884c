//! From the run's cutoff to the value each clock column is compared with. All calendar
//! arithmetic happens here, in `database.timezone`, once per run.

use super::query::Bound;
use super::target::{ClockRead, TextForm};
use crate::config::earliest_instant;
use crate::config::{Policy, Rounding};
use crate::db::schema::ColumnKind;
use crate::db::{Dialect, Value};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};
use chrono_tz::Tz;

/// The instant, as a local wall-clock time, before which a clock value has expired: every
/// clock value `v < threshold` has `v (+ rounding) + retain < cutoff`.
pub fn threshold(policy: &Policy, cutoff: DateTime<Utc>, tz: Tz) -> Option<NaiveDateTime> {
    // Whole seconds, rounded down: never later than the exact value. A clock value read with
    // its fraction rounded to the millisecond (SQLite) then compares as the exact one would.
    let cutoff = cutoff.with_nanosecond(0)?;
    let s = policy.retain.subtract_from_instant(cutoff, tz)?;
    match policy.round {
        Rounding::None => Some(s),
        // Rounded up to the end of its year, a clock value counts from 1 January of the next
        // year, which must lie strictly before `s`.
        Rounding::EndOfYear => {
            let year_start =
                |y: i32| NaiveDate::from_ymd_opt(y, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0));
            let this_year = year_start(s.year())?;
            if s > this_year {
                Some(this_year)
            } else {
                year_start(s.year() - 1)
            }
        }
    }
}

/// When a record whose clock reads `clock` (local time) expires under the policy: the first
/// run after this instant takes it.
pub fn expires(policy: &Policy, clock: NaiveDateTime) -> Option<NaiveDateTime> {
    let start = match policy.round {
        Rounding::None => clock,
        Rounding::EndOfYear => {
            NaiveDate::from_ymd_opt(clock.year() + 1, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0))?
        }
    };
    policy.retain.add_to(start)
}

/// The threshold as the values a clock column is compared with, read the way `read` says.
pub fn bound(
    read: ClockRead,
    kind: ColumnKind,
    dialect: Dialect,
    local: NaiveDateTime,
    tz: Tz,
) -> Bound {
    let instant = earliest_instant(local, tz);
    let one = |value: Value| Bound {
        utc: value.clone(),
        shown: value.render(),
        value,
    };
    match read {
        ClockRead::Native => one(bound_value(kind, dialect, local, tz)),
        // `v < t` in whole units ⇔ the instant `v` lies before the instant `t`.
        ClockRead::Epoch(unit) => {
            let n = instant.timestamp() * unit.per_second();
            Bound {
                shown: format!("{n} ({} UTC)", instant.format("%Y-%m-%d %H:%M:%S")),
                ..one(Value::Int(n))
            }
        }
        ClockRead::SortableText(TextForm::Date) => one(Value::Text(
            ceiling_date(local).format("%Y-%m-%d").to_string(),
        )),
        ClockRead::SortableText(form) => one(Value::Text(local.format(form.format()).to_string())),
        // The form of SQLite's `strftime('%Y-%m-%d %H:%M:%f', v)`.
        ClockRead::Instant => Bound {
            value: Value::Text(local.format(INSTANT_TEXT).to_string()),
            utc: Value::Text(instant.naive_utc().format(INSTANT_TEXT).to_string()),
            shown: local.format("%Y-%m-%d %H:%M:%S").to_string(),
        },
    }
}

/// How SQLite's `strftime('%Y-%m-%d %H:%M:%f', …)` writes an instant.
const INSTANT_TEXT: &str = "%Y-%m-%d %H:%M:%S%.3f";

/// A date means its midnight: `d < local` ⇔ `d < ceil(local)`.
fn ceiling_date(local: NaiveDateTime) -> NaiveDate {
    if local.time() == chrono::NaiveTime::MIN {
        local.date()
    } else {
        local.date().succ_opt().unwrap_or(local.date())
    }
}

/// The threshold as a bound value that compares correctly with a date or timestamp column of
/// PostgreSQL or MySQL (SQLite clocks are read by their values: see `bound`).
fn bound_value(kind: ColumnKind, dialect: Dialect, local: NaiveDateTime, tz: Tz) -> Value {
    match (kind, dialect) {
        (ColumnKind::Date, _) => Value::Date(ceiling_date(local)),
        (ColumnKind::TimestampTz, Dialect::Postgres) => {
            Value::TimestampTz(earliest_instant(local, tz))
        }
        // MySQL TIMESTAMP columns are read in the session zone, which is UTC.
        (ColumnKind::TimestampTz, Dialect::MySql) => {
            Value::Timestamp(earliest_instant(local, tz).naive_utc())
        }
        _ => Value::Timestamp(local),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Action, Clock, Policy};

    fn policy(retain: &str, round: Rounding) -> Policy {
        Policy {
            name: "p".into(),
            table: "t".into(),
            key: None,
            clock: Clock::Column {
                name: "c".into(),
                unit: None,
            },
            retain: retain.parse().expect("period"),
            round,
            filter: None,
            action: Action::Delete,
            basis: "b".into(),
            batch_size: 10,
            max_fraction: 0.5,
            max_rows: None,
            allow_cascade: false,
            subject: None,
            category: None,
            from: None,
            from_otherwise: None,
            confidence: None,
            nl: None,
            kept_for: None,
            database: crate::config::Side::Live,
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
            .expect("time")
            .and_utc()
    }

    #[test]
    fn end_of_year_rounding_counts_from_the_next_first_of_january() {
        // An invoice of 2019 may go once 2019-12-31 + 7 years has passed: from 2027-01-01.
        let p = policy("7 years", Rounding::EndOfYear);
        let t = threshold(&p, utc("2027-01-01 00:00:01"), Tz::UTC).expect("threshold");
        assert_eq!(t.to_string(), "2020-01-01 00:00:00");
        let t = threshold(&p, utc("2026-12-31 23:59:59"), Tz::UTC).expect("threshold");
        assert_eq!(t.to_string(), "2019-01-01 00:00:00");
        // At exactly midnight the invoice's expiry equals the cutoff: not yet before it.
        let t = threshold(&p, utc("2027-01-01 00:00:00"), Tz::UTC).expect("threshold");
        assert_eq!(t.to_string(), "2019-01-01 00:00:00");
    }

    #[test]
    fn calendar_is_read_in_the_configured_zone() {
        let p = policy("1 day", Rounding::None);
        let tz: Tz = "Europe/Amsterdam".parse().expect("tz");
        let t = threshold(&p, utc("2026-06-02 22:30:00"), tz).expect("threshold");
        assert_eq!(t.to_string(), "2026-06-02 00:30:00");
    }

    #[test]
    fn epoch_and_sqlite_instant_bounds_are_the_same_instant() {
        use crate::config::EpochUnit;
        // 03:00 EST on 2026-11-01 (the clocks went back at 02:00) is 08:00 UTC.
        let local =
            NaiveDateTime::parse_from_str("2026-11-01 03:00:00", "%Y-%m-%d %H:%M:%S").expect("t");
        let tz: Tz = "America/New_York".parse().expect("tz");
        let ms = bound(
            ClockRead::Epoch(EpochUnit::Milliseconds),
            ColumnKind::Integer,
            Dialect::MySql,
            local,
            tz,
        );
        assert_eq!(ms.value, Value::Int(1_793_520_000_000));
        assert_eq!(ms.shown, "1793520000000 (2026-11-01 08:00:00 UTC)");
        let s = bound(
            ClockRead::Epoch(EpochUnit::Seconds),
            ColumnKind::Integer,
            Dialect::Postgres,
            local,
            tz,
        );
        assert_eq!(s.value, Value::Int(1_793_520_000));
        let text = bound(
            ClockRead::Instant,
            ColumnKind::Other,
            Dialect::Sqlite,
            local,
            tz,
        );
        assert_eq!(text.value, Value::Text("2026-11-01 03:00:00.000".into()));
        assert_eq!(text.utc, Value::Text("2026-11-01 08:00:00.000".into()));
        let sortable = bound(
            ClockRead::SortableText(TextForm::SecondsT),
            ColumnKind::Text,
            Dialect::Sqlite,
            local,
            tz,
        );
        assert_eq!(sortable.value, Value::Text("2026-11-01T03:00:00".into()));
    }

    #[test]
    fn date_columns_compare_with_the_ceiling_date() {
        let noon =
            NaiveDateTime::parse_from_str("2026-03-01 12:00:00", "%Y-%m-%d %H:%M:%S").expect("t");
        assert_eq!(
            bound_value(ColumnKind::Date, Dialect::Postgres, noon, Tz::UTC),
            Value::Date(NaiveDate::from_ymd_opt(2026, 3, 2).expect("d"))
        );
        let midnight = noon.date().and_hms_opt(0, 0, 0).expect("t");
        assert_eq!(
            bound(
                ClockRead::SortableText(TextForm::Date),
                ColumnKind::Date,
                Dialect::Sqlite,
                midnight,
                Tz::UTC
            )
            .value,
            Value::Text("2026-03-01".into())
        );
    }
}
