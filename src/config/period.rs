//! Retention periods in calendar arithmetic: "6 months" from 31 January is 31 July, and a year is
//! twelve months, never 365.25 days. Hours and minutes are elapsed time: "2 hours" across the
//! spring DST change is two real hours, not two hours of wall time.

use chrono::{DateTime, Days, Months, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use std::fmt;
use std::str::FromStr;

/// A period such as `7 years`, `1 year 6 months` or `2 hours 30 minutes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub months: u32,
    pub days: u32,
    /// Hours and minutes, as elapsed seconds.
    pub seconds: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("is empty; write a period such as \"30 days\", \"6 months\" or \"7 years\"")]
    Empty,
    #[error(
        "\"{0}\" is not a number; write a period such as \"30 days\", \"6 months\" or \"7 years\""
    )]
    NotANumber(String),
    #[error("\"{0}\" needs a unit after it (minutes, hours, days, weeks, months or years)")]
    MissingUnit(String),
    #[error("unknown unit \"{0}\"; use minutes, hours, days, weeks, months or years")]
    UnknownUnit(String),
    #[error("must be longer than zero")]
    Zero,
    #[error("is too long (more than 1000 years)")]
    TooLong,
}

const MAX_MONTHS: u64 = 12_000;

/// A unit of time, as periods and durations write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Millisecond,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

/// Every name of every unit, long and short. Periods take only the long names: in a
/// retention period "6m" could be read as months or minutes. Durations take both.
const UNIT_NAMES: &[(&str, Unit, Short)] = &[
    ("millisecond", Unit::Millisecond, Short::No),
    ("milliseconds", Unit::Millisecond, Short::No),
    ("ms", Unit::Millisecond, Short::Yes),
    ("second", Unit::Second, Short::No),
    ("seconds", Unit::Second, Short::No),
    ("s", Unit::Second, Short::Yes),
    ("minute", Unit::Minute, Short::No),
    ("minutes", Unit::Minute, Short::No),
    ("m", Unit::Minute, Short::Yes),
    ("min", Unit::Minute, Short::Yes),
    ("hour", Unit::Hour, Short::No),
    ("hours", Unit::Hour, Short::No),
    ("h", Unit::Hour, Short::Yes),
    ("day", Unit::Day, Short::No),
    ("days", Unit::Day, Short::No),
    ("week", Unit::Week, Short::No),
    ("weeks", Unit::Week, Short::No),
    ("month", Unit::Month, Short::No),
    ("months", Unit::Month, Short::No),
    ("year", Unit::Year, Short::No),
    ("years", Unit::Year, Short::No),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Short {
    Yes,
    No,
}

/// Splits "1 year 6 months", "2 hours" or "250ms" into amounts and units. A number and its
/// unit may be written together ("5m") or apart ("5 minutes").
fn amounts(s: &str, short: Short) -> Result<Vec<(u64, Unit, &str)>, PeriodError> {
    let mut out = Vec::new();
    let mut rest = s.trim_start();
    if rest.is_empty() {
        return Err(PeriodError::Empty);
    }
    while !rest.is_empty() {
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let not_a_number = || PeriodError::NotANumber(rest[..word_end].to_string());
        let amount: u64 = rest[..digits].parse().map_err(|_| not_a_number())?;
        let after = &rest[digits..];
        if after.starts_with(|c: char| !c.is_whitespace() && !c.is_alphabetic()) {
            return Err(not_a_number());
        }
        let after = after.trim_start();
        let unit_end = after.find(char::is_whitespace).unwrap_or(after.len());
        let word = &after[..unit_end];
        if word.is_empty() || word.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(PeriodError::MissingUnit(rest[..digits].to_string()));
        }
        let unit = UNIT_NAMES
            .iter()
            .find(|(name, _, s)| {
                name.eq_ignore_ascii_case(word) && (short == Short::Yes || *s == Short::No)
            })
            .map(|(_, unit, _)| *unit)
            .ok_or_else(|| PeriodError::UnknownUnit(word.to_string()))?;
        out.push((amount, unit, word));
        rest = after[unit_end..].trim_start();
    }
    Ok(out)
}

impl FromStr for Period {
    type Err = PeriodError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (mut months, mut days, mut seconds) = (0u64, 0u64, 0u64);
        for (amount, unit, word) in amounts(s, Short::No)? {
            match unit {
                Unit::Minute => seconds = seconds.saturating_add(amount.saturating_mul(60)),
                Unit::Hour => seconds = seconds.saturating_add(amount.saturating_mul(3600)),
                Unit::Day => days = days.saturating_add(amount),
                Unit::Week => days = days.saturating_add(amount.saturating_mul(7)),
                Unit::Month => months = months.saturating_add(amount),
                Unit::Year => months = months.saturating_add(amount.saturating_mul(12)),
                Unit::Millisecond | Unit::Second => {
                    return Err(PeriodError::UnknownUnit(word.to_string()));
                }
            }
            if months > MAX_MONTHS || days > MAX_MONTHS * 31 || seconds > MAX_MONTHS * 31 * 86_400 {
                return Err(PeriodError::TooLong);
            }
        }
        if months == 0 && days == 0 && seconds == 0 {
            return Err(PeriodError::Zero);
        }
        Ok(Period {
            months: months as u32,
            days: days as u32,
            seconds,
        })
    }
}

/// What `parse_duration` accepts, for its messages.
const DURATION_FORMS: &str = "write e.g. \"250ms\", \"2s\", \"5m\", \"1h\", \"90 seconds\", \"30 minutes\", \"2 hours\" or \"1 day\"";

/// Parses elapsed time: "250ms", "2s", "5m", "1h", or with the unit names periods take
/// ("90 seconds", "30 minutes", "2 hours", "1 day", "1 hour 30 minutes").
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let refused = |why: String| format!("\"{s}\" is not a duration: {why}; {DURATION_FORMS}");
    let amounts = amounts(s, Short::Yes).map_err(|e| {
        refused(match e {
            PeriodError::NotANumber(w) => format!("\"{w}\" is not a number"),
            PeriodError::MissingUnit(n) => format!("\"{n}\" needs a unit after it"),
            PeriodError::UnknownUnit(u) => format!("unknown unit \"{u}\""),
            _ => "it is empty".to_string(),
        })
    })?;
    let mut ms: u64 = 0;
    for (amount, unit, _) in amounts {
        let per = match unit {
            Unit::Millisecond => 1,
            Unit::Second => 1_000,
            Unit::Minute => 60_000,
            Unit::Hour => 3_600_000,
            Unit::Day => 86_400_000,
            Unit::Week => 7 * 86_400_000,
            Unit::Month | Unit::Year => {
                return Err(refused(
                    "months and years have no fixed length; use days or weeks".to_string(),
                ));
            }
        };
        ms = ms.saturating_add(amount.saturating_mul(per));
    }
    Ok(std::time::Duration::from_millis(ms))
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        let (years, months) = (self.months / 12, self.months % 12);
        let plural = |n: u32, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
        if years > 0 {
            parts.push(plural(years, "year"));
        }
        if months > 0 {
            parts.push(plural(months, "month"));
        }
        if self.days > 0 {
            parts.push(plural(self.days, "day"));
        }
        let (hours, minutes) = self.hours_minutes();
        if hours > 0 {
            parts.push(plural(hours, "hour"));
        }
        if minutes > 0 {
            parts.push(plural(minutes, "minute"));
        }
        f.write_str(&parts.join(" "))
    }
}

impl Period {
    /// The period in words of a language: `units` are (singular, plural) for years, months,
    /// days, hours and minutes.
    pub fn in_units(&self, units: [(&str, &str); 5]) -> String {
        let (hours, minutes) = self.hours_minutes();
        [
            (self.months / 12, units[0]),
            (self.months % 12, units[1]),
            (self.days, units[2]),
            (hours, units[3]),
            (minutes, units[4]),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, (one, many))| format!("{n} {}", if *n == 1 { one } else { many }))
        .collect::<Vec<_>>()
        .join(" ")
    }

    /// The sub-day part as whole hours and the minutes left over.
    pub fn hours_minutes(&self) -> (u32, u32) {
        let minutes = self.seconds / 60;
        (
            u32::try_from(minutes / 60).unwrap_or(u32::MAX),
            (minutes % 60) as u32,
        )
    }

    fn elapsed(&self) -> Option<chrono::Duration> {
        chrono::Duration::try_seconds(i64::try_from(self.seconds).ok()?)
    }

    /// `t + self`; a day that does not exist in the target month becomes that month's last day.
    pub fn add_to(&self, t: NaiveDateTime) -> Option<NaiveDateTime> {
        t.checked_add_months(Months::new(self.months))?
            .checked_add_days(Days::new(self.days.into()))?
            .checked_add_signed(self.elapsed()?)
    }

    /// The latest instant `s` such that every clock value strictly before `s` has
    /// `clock + self < cutoff`. Subtracting months clamps to the month's last day, which can
    /// only move `s` earlier, so a record is never selected early.
    pub fn subtract_from(&self, cutoff: NaiveDateTime) -> Option<NaiveDateTime> {
        self.subtract_calendar(cutoff.checked_sub_signed(self.elapsed()?)?)
    }

    fn subtract_calendar(&self, t: NaiveDateTime) -> Option<NaiveDateTime> {
        t.checked_sub_days(Days::new(self.days.into()))?
            .checked_sub_months(Months::new(self.months))
    }

    /// [`Self::subtract_from`] for a cutoff instant, as wall time in `tz`: hours and minutes
    /// come off the instant (elapsed time, whatever DST does meanwhile), then days, months and
    /// years off the wall time (calendar arithmetic, as people count them).
    pub fn subtract_from_instant(&self, cutoff: DateTime<Utc>, tz: Tz) -> Option<NaiveDateTime> {
        let elapsed_before = cutoff.checked_sub_signed(self.elapsed()?)?;
        self.subtract_calendar(wall_bound(elapsed_before, tz))
    }
}

/// The wall time in `tz` before which every wall-time value denotes an instant before `t`.
/// Usually `t`'s own wall time; but in the hour the autumn change repeats, a value read on the
/// clock may mean the later of its two instants: when `t` lies in the first pass of that hour,
/// `02:10` on the clock can be an hour after `t` although it reads before `02:40`. Going back by
/// the change itself keeps every such value (and, within that hour, some already expired ones
/// for one more run).
pub fn wall_bound(t: DateTime<Utc>, tz: Tz) -> NaiveDateTime {
    let wall = t.with_timezone(&tz).naive_local();
    match tz.from_local_datetime(&wall) {
        chrono::LocalResult::Ambiguous(earlier, later) if t < later.with_timezone(&Utc) => {
            wall - (later.with_timezone(&Utc) - earlier.with_timezone(&Utc))
        }
        _ => wall,
    }
}

/// A wall time in `tz` as an instant: of two possible instants (autumn DST change) the
/// earlier one, and a time that does not exist (spring gap) moves back an hour. Both err on the
/// side of keeping when the result is a threshold.
pub fn earliest_instant(local: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
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
    use chrono::NaiveDate;

    /// The latest instant a wall time in `tz` may denote (for a wall time the spring change skips,
    /// the instant it would have been an hour later): what a naive clock value must be taken as so
    /// that it never expires early.
    fn latest_instant(local: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
        tz.from_local_datetime(&local)
            .latest()
            .or_else(|| {
                tz.from_local_datetime(&(local + chrono::Duration::hours(1)))
                    .latest()
            })
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| local.and_utc())
    }

    fn at(y: i32, m: u32, d: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("valid test date")
    }

    /// Amsterdam, 25 October 2026: the clock goes from 03:00 summer time back to 02:00. A
    /// two-hour session stored as the naive wall time 02:10 (winter time, 01:10 UTC) expires at
    /// 03:10 UTC; at a cutoff of 02:40 UTC it must be kept.
    #[test]
    fn two_hours_in_the_repeated_autumn_hour_keep_a_wall_time_value() {
        let tz: Tz = "Europe/Amsterdam".parse().expect("tz");
        let p: Period = "2 hours".parse().expect("period");
        let cutoff = "2026-10-25T02:40:00Z".parse().expect("instant");
        let s = p.subtract_from_instant(cutoff, tz).expect("in range");
        let stored = NaiveDate::from_ymd_opt(2026, 10, 25)
            .and_then(|d| d.and_hms_opt(2, 10, 0))
            .expect("time");
        assert!(stored >= s, "threshold {s} would take {stored}");
    }

    #[test]
    fn parses_units_and_combinations() {
        assert_eq!(
            "7 years".parse(),
            Ok(Period {
                months: 84,
                days: 0,
                seconds: 0
            })
        );
        assert_eq!(
            "1 year 6 months".parse(),
            Ok(Period {
                months: 18,
                days: 0,
                seconds: 0
            })
        );
        assert_eq!(
            "2 weeks".parse(),
            Ok(Period {
                months: 0,
                days: 14,
                seconds: 0
            })
        );
        assert_eq!(
            "1 Day".parse(),
            Ok(Period {
                months: 0,
                days: 1,
                seconds: 0
            })
        );
    }

    proptest::proptest! {
        /// Hours and minutes are never early, in any zone and across every DST change: an
        /// instant just before the threshold plus the period lies before the cutoff.
        #[test]
        fn elapsed_parts_are_never_early(
            cutoff_s in 1_700_000_000i64..1_900_000_000,
            hours in 0u64..100,
            minutes in 0u64..600,
            zone in 0usize..3,
        ) {
            proptest::prop_assume!(hours + minutes > 0);
            let tz: Tz = ["Europe/Amsterdam", "America/New_York", "UTC"][zone].parse().expect("tz");
            let p: Period = format!("{hours} hours {minutes} minutes").parse().expect("period");
            let cutoff = DateTime::from_timestamp(cutoff_s, 0).expect("instant");
            let s = p.subtract_from_instant(cutoff, tz).expect("in range");
            let just_before = earliest_instant(s, tz) - chrono::Duration::seconds(1);
            let expiry = just_before + chrono::Duration::seconds(p.seconds as i64);
            proptest::prop_assert!(expiry < cutoff, "{p} {cutoff} {s}");
        }

        /// The same for clock values kept as wall time (naive timestamps): a value just below
        /// the threshold, read as the latest instant it may denote, has run out by the cutoff,
        /// also when the threshold falls in the hour the autumn change repeats.
        #[test]
        fn elapsed_parts_are_never_early_for_wall_time_values(
            cutoff_s in 1_700_000_000i64..1_900_000_000,
            hours in 0u64..6,
            minutes in 0u64..120,
            zone in 0usize..2,
        ) {
            proptest::prop_assume!(hours + minutes > 0);
            let tz: Tz = ["Europe/Amsterdam", "America/New_York"][zone].parse().expect("tz");
            let p: Period = format!("{hours} hours {minutes} minutes").parse().expect("period");
            let cutoff = DateTime::from_timestamp(cutoff_s, 0).expect("instant");
            let s = p.subtract_from_instant(cutoff, tz).expect("in range");
            let just_below = s - chrono::Duration::seconds(1);
            let expiry = latest_instant(just_below, tz) + chrono::Duration::seconds(p.seconds as i64);
            proptest::prop_assert!(expiry < cutoff, "{p} {cutoff} {s}");
        }

        /// Calendar and elapsed parts together, in a zone without DST: a clock just before the
        /// threshold has run out by the cutoff.
        #[test]
        fn calendar_and_elapsed_parts_are_never_early(
            cutoff_s in 1_700_000_000i64..1_900_000_000,
            months in 0u32..200,
            days in 0u32..400,
            minutes in 0u64..10_000,
        ) {
            proptest::prop_assume!(u64::from(months) + u64::from(days) + minutes > 0);
            let p = Period { months, days, seconds: minutes * 60 };
            let cutoff = DateTime::from_timestamp(cutoff_s, 0).expect("instant");
            let s = p.subtract_from_instant(cutoff, Tz::UTC).expect("in range");
            let just_before = s - chrono::Duration::seconds(1);
            let expiry = p.add_to(just_before).expect("in range").and_utc();
            proptest::prop_assert!(expiry < cutoff, "{p} {cutoff} {s}");
        }

        /// Any well-formed period with hours and minutes parses and its display parses back.
        #[test]
        fn periods_with_hours_round_trip(d in 0u32..400, h in 0u64..500, m in 0u64..5000) {
            proptest::prop_assume!(u64::from(d) + h + m > 0);
            let text = format!("{d} days {h} hours {m} minutes");
            let p: Period = text.parse().map_err(|e| proptest::test_runner::TestCaseError::fail(format!("{text}: {e}")))?;
            proptest::prop_assert_eq!(p, Period { months: 0, days: d, seconds: h * 3600 + m * 60 });
            proptest::prop_assert_eq!(p.to_string().parse::<Period>(), Ok(p));
        }

        /// Any well-formed period parses to its calendar parts, and its display parses back.
        #[test]
        fn well_formed_periods_round_trip(y in 0u32..900, m in 0u32..500, w in 0u32..300, d in 0u32..400) {
            proptest::prop_assume!(y + m + w + d > 0);
            let text = format!("{y} years {m} months {w} weeks {d} days");
            let p: Period = text.parse().map_err(|e| proptest::test_runner::TestCaseError::fail(format!("{text}: {e}")))?;
            proptest::prop_assert_eq!(p, Period { months: y * 12 + m, days: w * 7 + d, seconds: 0 });
            proptest::prop_assert_eq!(p.to_string().parse::<Period>(), Ok(p));
        }

        /// Arbitrary text never panics the parser, and what it accepts is longer than zero.
        #[test]
        fn arbitrary_text_is_parsed_or_refused(text in "\\PC{0,40}") {
            if let Ok(p) = text.parse::<Period>() {
                proptest::prop_assert!(p.months > 0 || p.days > 0);
            }
        }

        /// Adding a period never moves a date backwards.
        #[test]
        fn adding_never_goes_back(days in 0i64..40_000, months in 0u32..1200, extra in 0u32..400) {
            proptest::prop_assume!(months + extra > 0);
            let t = at(1990, 1, 1) + chrono::Duration::days(days);
            let p = Period { months, days: extra, seconds: 0 };
            if let Some(later) = p.add_to(t) {
                proptest::prop_assert!(later > t);
                // And subtracting it from the result lands on or before the start.
                if let Some(back) = p.subtract_from(later) {
                    proptest::prop_assert!(back <= t);
                }
            }
        }
    }

    #[test]
    fn rejects_malformed_periods() {
        assert_eq!("".parse::<Period>(), Err(PeriodError::Empty));
        assert_eq!(
            "1 fortnight".parse::<Period>(),
            Err(PeriodError::UnknownUnit("fortnight".into()))
        );
        assert_eq!("0 days".parse::<Period>(), Err(PeriodError::Zero));
        assert_eq!(
            "-3 days".parse::<Period>(),
            Err(PeriodError::NotANumber("-3".into()))
        );
        assert_eq!(
            "6".parse::<Period>(),
            Err(PeriodError::MissingUnit("6".into()))
        );
        assert_eq!("99999 years".parse::<Period>(), Err(PeriodError::TooLong));
    }

    #[test]
    fn month_ends_clamp() {
        let p: Period = "1 month".parse().expect("period");
        assert_eq!(p.add_to(at(2027, 1, 31)), Some(at(2027, 2, 28)));
        assert_eq!(p.add_to(at(2028, 1, 31)), Some(at(2028, 2, 29)));
        let y: Period = "1 year".parse().expect("period");
        assert_eq!(y.add_to(at(2024, 2, 29)), Some(at(2025, 2, 28)));
    }

    #[test]
    fn subtraction_never_selects_early() {
        // For every day of two years and several periods: a clock strictly before the
        // threshold must have expired by the cutoff.
        for spec in [
            "1 month",
            "6 months",
            "1 year",
            "30 days",
            "1 year 1 month 1 day",
            "90 minutes",
            "1 month 2 days 3 hours 4 minutes",
        ] {
            let p: Period = spec.parse().expect("period");
            let mut cutoff = at(2027, 1, 1);
            while cutoff < at(2029, 1, 1) {
                let s = p.subtract_from(cutoff).expect("in range");
                let just_before = s - chrono::Duration::seconds(1);
                assert!(
                    p.add_to(just_before).expect("in range") < cutoff,
                    "{spec} {cutoff}"
                );
                cutoff += chrono::Duration::days(1);
            }
        }
    }

    #[test]
    fn hours_and_minutes_are_elapsed_seconds() {
        assert_eq!(
            "120 minutes".parse(),
            Ok(Period {
                months: 0,
                days: 0,
                seconds: 7_200
            })
        );
        let p: Period = "1 day 2 hours 30 minutes".parse().expect("period");
        assert_eq!((p.days, p.seconds), (1, 9_000));
        assert_eq!(p.to_string(), "1 day 2 hours 30 minutes");
        assert_eq!(
            "90 minutes".parse::<Period>().map(|p| p.to_string()),
            Ok("1 hour 30 minutes".into())
        );
        assert_eq!("0 hours".parse::<Period>(), Err(PeriodError::Zero));
    }

    fn amsterdam() -> Tz {
        "Europe/Amsterdam".parse().expect("tz")
    }

    fn instant(s: &str) -> DateTime<Utc> {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
            .expect("time")
            .and_utc()
    }

    #[test]
    fn hours_across_a_dst_change_are_real_hours() {
        // 2026-03-29 03:30 CEST is 01:30 UTC; two real hours earlier is 23:30 UTC, which is
        // 00:30 CET. Two hours of wall time (01:30 CET = 00:30 UTC) would be one real hour.
        let two_hours: Period = "2 hours".parse().expect("period");
        let s = two_hours
            .subtract_from_instant(instant("2026-03-29 01:30:00"), amsterdam())
            .expect("in range");
        assert_eq!(s.to_string(), "2026-03-29 00:30:00");
        // Autumn: 2026-10-25 02:30 CET (01:30 UTC) minus two hours is 23:30 UTC = 01:30 CEST.
        let s = two_hours
            .subtract_from_instant(instant("2026-10-25 01:30:00"), amsterdam())
            .expect("in range");
        assert_eq!(s.to_string(), "2026-10-25 01:30:00");
        // Days stay calendar days in the zone: one day before 2026-03-29 12:00 CEST is
        // 2026-03-28 12:00 CET (23 real hours), as people count a day.
        let day: Period = "1 day".parse().expect("period");
        let s = day
            .subtract_from_instant(instant("2026-03-29 10:00:00"), amsterdam())
            .expect("in range");
        assert_eq!(s.to_string(), "2026-03-28 12:00:00");
    }

    #[test]
    fn durations_take_short_and_long_unit_names() {
        use std::time::Duration;
        for (text, ms) in [
            ("250ms", 250),
            ("2s", 2_000),
            ("5m", 300_000),
            ("5min", 300_000),
            ("1h", 3_600_000),
            ("90 seconds", 90_000),
            ("1 second", 1_000),
            ("30 minutes", 1_800_000),
            ("2 hours", 7_200_000),
            ("2 Hours", 7_200_000),
            ("1 day", 86_400_000),
            ("1 week", 604_800_000),
            ("1 hour 30 minutes", 5_400_000),
            ("1h 30m", 5_400_000),
            ("0ms", 0),
            (" 2 s ", 2_000),
        ] {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_millis(ms)),
                "{text}"
            );
        }
    }

    #[test]
    fn malformed_durations_show_the_accepted_forms() {
        for (text, why) in [
            ("2", "needs a unit"),
            ("2 parsecs", "unknown unit \"parsecs\""),
            ("", "it is empty"),
            ("-1s", "\"-1s\" is not a number"),
            ("1.5h", "is not a number"),
            ("3 months", "months and years have no fixed length"),
        ] {
            let e = parse_duration(text).expect_err(text);
            assert!(e.contains(why), "{text}: {e}");
            assert!(!e.contains("use minutes"), "the period's unit list: {e}");
            assert!(
                e.contains("\"250ms\", \"2s\", \"5m\", \"1h\", \"90 seconds\""),
                "{text}: {e}"
            );
        }
    }

    #[test]
    fn periods_refuse_the_short_names_and_seconds() {
        for text in ["6m", "2h", "30s", "2 seconds", "500ms"] {
            assert!(
                matches!(text.parse::<Period>(), Err(PeriodError::UnknownUnit(_))),
                "{text}"
            );
        }
        assert_eq!(
            "6months".parse::<Period>().map(|p| p.months),
            Ok(6),
            "a unit may follow its number directly"
        );
    }

    #[test]
    fn displays_readably() {
        let p: Period = "18 months".parse().expect("period");
        assert_eq!(p.to_string(), "1 year 6 months");
    }
}
