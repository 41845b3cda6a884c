//! From the run's cutoff to the value each clock column is compared with. All calendar
//! arithmetic happens here, in `database.timezone`, once per run.

use crate::config::{Policy, Rounding};
use crate::db::schema::ColumnKind;
use crate::db::{Dialect, Value};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// The instant, as a local wall-clock time, before which a clock value has expired: every
/// clock value `v < threshold` has `v (+ rounding) + retain < cutoff`.
pub fn threshold(policy: &Policy, cutoff: DateTime<Utc>, tz: Tz) -> Option<NaiveDateTime> {
    let local = cutoff.with_timezone(&tz).naive_local();
    // Whole seconds, rounded down: never later than the exact value.
    let local = local.with_nanosecond(0)?;
    let s = policy.retain.subtract_from(local)?;
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

/// The threshold as a bound value that compares correctly with a column of this kind.
pub fn bound_value(kind: ColumnKind, dialect: Dialect, local: NaiveDateTime, tz: Tz) -> Value {
    match (kind, dialect) {
        (ColumnKind::Date, _) => {
            // A date means its midnight: `d < local` ⇔ `d < ceil(local)`.
            let midnight = local.time() == chrono::NaiveTime::MIN;
            let date = if midnight {
                local.date()
            } else {
                local.date().succ_opt().unwrap_or(local.date())
            };
            match dialect {
                Dialect::Sqlite => Value::Text(date.format("%Y-%m-%d").to_string()),
                _ => Value::Date(date),
            }
        }
        (ColumnKind::TimestampTz, Dialect::Postgres) => Value::TimestampTz(to_utc(local, tz)),
        // MySQL TIMESTAMP columns are read in the session zone, which is UTC.
        (ColumnKind::TimestampTz, Dialect::MySql) => {
            Value::Timestamp(to_utc(local, tz).naive_utc())
        }
        (_, Dialect::Sqlite) => Value::Text(local.format("%Y-%m-%d %H:%M:%S").to_string()),
        _ => Value::Timestamp(local),
    }
}

/// A local time as UTC; of two possible instants (autumn DST change) the earlier one, and a
/// time that does not exist (spring gap) moves back an hour: both err on the side of keeping.
fn to_utc(local: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    tz.from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(local - chrono::Duration::hours(1)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| local.and_utc())
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
            clock: Clock::Column("c".into()),
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
            confidence: None,
            nl: None,
            keep_for_obligation: false,
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
    fn date_columns_compare_with_the_ceiling_date() {
        let noon =
            NaiveDateTime::parse_from_str("2026-03-01 12:00:00", "%Y-%m-%d %H:%M:%S").expect("t");
        assert_eq!(
            bound_value(ColumnKind::Date, Dialect::Postgres, noon, Tz::UTC),
            Value::Date(NaiveDate::from_ymd_opt(2026, 3, 2).expect("d"))
        );
        let midnight = noon.date().and_hms_opt(0, 0, 0).expect("t");
        assert_eq!(
            bound_value(ColumnKind::Date, Dialect::Sqlite, midnight, Tz::UTC),
            Value::Text("2026-03-01".into())
        );
    }
}
