//! When the daemon runs: a cron line read in a named time zone. The next run is computed
//! afresh from the wall clock each time, so a DST change never shifts the schedule.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds};

#[derive(Debug, Clone)]
pub struct Schedule {
    pub pattern: String,
    pub timezone: Tz,
    cron: croner::Cron,
}

impl PartialEq for Schedule {
    fn eq(&self, other: &Self) -> bool {
        self.pattern == other.pattern && self.timezone == other.timezone
    }
}

impl Schedule {
    /// Accepts 5-field crontab lines and 6-field lines with seconds first.
    pub fn parse(pattern: &str, timezone: Tz) -> Result<Schedule, String> {
        let fields = pattern.split_whitespace().count();
        if !(pattern.starts_with('@') || fields == 5 || fields == 6) {
            return Err(format!(
                "\"{pattern}\" has {fields} fields; write 5 (minute hour day month weekday, e.g. \"30 3 * * *\") \
                 or 6 with seconds first"
            ));
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Optional)
            .build()
            .parse(pattern)
            .map_err(|e| format!("\"{pattern}\" is not a valid cron line: {e}"))?;
        Ok(Schedule {
            pattern: pattern.to_string(),
            timezone,
            cron,
        })
    }

    /// The first scheduled instant strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .find_next_occurrence(&t.with_timezone(&self.timezone), false)
            .ok()
            .map(|n| n.with_timezone(&Utc))
    }

    /// The last scheduled instant at or before `t`.
    pub fn previous(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .find_previous_occurrence(&t.with_timezone(&self.timezone), true)
            .ok()
            .map(|n| n.with_timezone(&Utc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn ams() -> Tz {
        "Europe/Amsterdam".parse().expect("zone")
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .expect("time")
    }

    #[test]
    fn local_time_holds_across_both_dst_changes() {
        let s = Schedule::parse("30 3 * * *", ams()).expect("cron");
        // Winter: 03:30 CET is 02:30 UTC.
        assert_eq!(
            s.next_after(utc(2026, 3, 28, 12, 0)),
            Some(utc(2026, 3, 29, 1, 30))
        );
        // Summer after the spring change (29 March 2026): 03:30 CEST is 01:30 UTC.
        assert_eq!(
            s.next_after(utc(2026, 3, 29, 12, 0)),
            Some(utc(2026, 3, 30, 1, 30))
        );
        // After the autumn change (25 October 2026): back to 02:30 UTC.
        assert_eq!(
            s.next_after(utc(2026, 10, 25, 12, 0)),
            Some(utc(2026, 10, 26, 2, 30))
        );
        assert_eq!(
            s.next_after(utc(2026, 10, 24, 12, 0)),
            Some(utc(2026, 10, 25, 2, 30))
        );
    }

    #[test]
    fn a_time_skipped_by_the_spring_change_still_runs_that_day() {
        // 02:30 does not exist in Amsterdam on 29 March 2026.
        let s = Schedule::parse("30 2 * * *", ams()).expect("cron");
        let next = s.next_after(utc(2026, 3, 28, 12, 0)).expect("next");
        assert!(
            next > utc(2026, 3, 28, 12, 0) && next < utc(2026, 3, 30, 0, 0),
            "{next}"
        );
    }

    #[test]
    fn five_and_six_field_lines() {
        let five = Schedule::parse("*/5 * * * *", Tz::UTC).expect("5 fields");
        assert_eq!(
            five.next_after(utc(2026, 1, 1, 0, 1)),
            Some(utc(2026, 1, 1, 0, 5))
        );
        let daily = Schedule::parse("@daily", Tz::UTC).expect("nickname");
        assert_eq!(
            daily.next_after(utc(2026, 1, 1, 0, 1)),
            Some(utc(2026, 1, 2, 0, 0))
        );
        let six = Schedule::parse("*/10 * * * * *", Tz::UTC).expect("6 fields");
        let t = utc(2026, 1, 1, 0, 0);
        assert_eq!(six.next_after(t), Some(t + chrono::Duration::seconds(10)));
    }

    #[test]
    fn bad_lines_are_rejected_with_a_reason() {
        for bad in ["", "61 * * * *", "* * *", "every night", "30 3 * * * * * *"] {
            assert!(Schedule::parse(bad, Tz::UTC).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn previous_finds_the_slot_a_stopped_daemon_missed() {
        let s = Schedule::parse("30 3 * * *", Tz::UTC).expect("cron");
        assert_eq!(
            s.previous(utc(2026, 5, 2, 10, 0)),
            Some(utc(2026, 5, 2, 3, 30))
        );
    }
}
