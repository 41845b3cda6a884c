//! What expires next: per policy, how many records reach the end of their retention in each
//! of the coming months, counted with the plan's own queries at each month's boundary.

use super::{Engine, EngineError, RunOptions};
use chrono::{DateTime, Datelike, Months, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Forecast {
    /// The first day of each month counted, in the zone asked for; the first month is the
    /// rest of the current one.
    pub months: Vec<NaiveDate>,
    /// Per policy, in run order: records whose retention runs out in each month.
    pub policies: Vec<(String, Vec<u64>)>,
}

impl Engine {
    /// The coming `months` months from `from`, month boundaries in `tz`. Records kept by a
    /// hold or without a date are not counted: they do not expire on a date.
    pub async fn forecast(
        &self,
        from: DateTime<Utc>,
        tz: Tz,
        months: u32,
    ) -> Result<Forecast, EngineError> {
        let local = from.with_timezone(&tz).date_naive();
        let first = local.with_day(1).unwrap_or(local);
        let starts: Vec<NaiveDate> = (0..=months)
            .filter_map(|i| first.checked_add_months(Months::new(i)))
            .collect();
        let mut points = vec![from];
        points.extend(starts[1..].iter().map(|d| midnight(*d, tz)));
        let opts = RunOptions::default();
        let mut expired: Vec<Vec<u64>> = Vec::new();
        for at in &points {
            let plan = self.plan_at(*at, &opts).await?;
            expired.push(
                plan.policies
                    .iter()
                    .map(|p| p.eligible + p.blocked)
                    .collect(),
            );
        }
        let policies = self
            .targets
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let counts = expired
                    .windows(2)
                    .map(|w| w[1][i].saturating_sub(w[0][i]))
                    .collect();
                (t.name().to_string(), counts)
            })
            .collect();
        Ok(Forecast {
            months: starts[..starts.len() - 1].to_vec(),
            policies,
        })
    }
}

/// The first instant of `day` in `tz`.
pub fn midnight(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let start = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&start)
        .earliest()
        .map_or_else(|| start.and_utc(), |t| t.with_timezone(&Utc))
}
