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

impl FromStr for Period {
    type Err = PeriodError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let words: Vec<&str> = s.split_whitespace().collect();
        if words.is_empty() {
            return Err(PeriodError::Empty);
        }
        let (mut months, mut days, mut seconds) = (0u64, 0u64, 0u64);
        for pair in words.chunks(2) {
            let amount: u64 = pair[0]
                .parse()
                .map_err(|_| PeriodError::NotANumber(pair[0].to_string()))?;
            let unit = pair
                .get(1)
                .ok_or_else(|| PeriodError::MissingUnit(pair[0].to_string()))?;
            match unit.to_ascii_lowercase().as_str() {
                "minute" | "minutes" => seconds = seconds.saturating_add(amount.saturating_mul(60)),
                "hour" | "hours" => seconds = seconds.saturating_add(amount.saturating_mul(3600)),
                "day" | "days" => days += amount,
                "week" | "weeks" => days += amount.saturating_mul(7),
                "month" | "months" => months += amount,
                "year" | "years" => months += amount.saturating_mul(12),
                other => return Err(PeriodError::UnknownUnit(other.to_string())),
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
    fn displays_readably() {
        let p: Period = "18 months".parse().expect("period");
        assert_eq!(p.to_string(), "1 year 6 months");
    }
}
