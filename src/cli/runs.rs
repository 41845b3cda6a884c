//! `retentiond runs`: whether retention ran, from the runs table and the audit trail, without
//! a database client.

use super::output::{count, table};
use super::test_now;
use crate::config::Config;
use crate::db::{Access, Db};
use crate::exit;
use crate::store::Store;
use crate::store::runs::RunRecord;
use serde::Serialize;

pub const LONG_ABOUT: &str = "Lists the latest runs recorded in retentiond's own tables, newest first: \
when each started, how long it took, its mode (run or erase), how it ended (ok, failed, stopped, \
interrupted, abandoned, or running), the rows it deleted and anonymized (summed from its audit \
entries), the rows still past their cutoff when it ended (backlog), and why it stopped. Then the \
next run that [schedule] plans. Read-only.";

pub const EXAMPLES: &str = "Examples:\n  retentiond runs\n  \
retentiond runs --limit 50 --json | jq '.runs[] | select(.status != \"ok\")'";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many runs to show.
    #[arg(long, default_value_t = 10, value_name = "N")]
    limit: u32,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct History {
    database: String,
    runs: Vec<RunRecord>,
    /// The next run `[schedule]` plans, in UTC; `None` without a schedule.
    next_run: Option<String>,
    schedule: Option<String>,
}

pub async fn run(args: Args, config: Config) -> anyhow::Result<u8> {
    let Args { limit, json } = args;
    let now = test_now()?.unwrap_or_else(chrono::Utc::now);
    let db = Db::connect(&config.database, &config.run, Access::ReadOnly).await?;
    let store = Store::new(&db, &config.database.table_prefix);
    let schema = crate::db::schema::Schema::load(&db).await?;
    let runs = if store.installed(&schema) {
        store
            .recent_runs(limit, store.has_backlog_column(&schema))
            .await?
    } else {
        Vec::new()
    };
    db.close().await;
    let history = History {
        database: db.display_url.clone(),
        runs,
        next_run: config
            .schedule
            .as_ref()
            .and_then(|s| s.next_after(now))
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()),
        schedule: config
            .schedule
            .as_ref()
            .map(|s| format!("{} ({})", s.pattern, s.timezone)),
    };
    if json {
        crate::out!("{}", serde_json::to_string_pretty(&history)?);
    } else {
        print(&history);
    }
    Ok(exit::OK)
}

fn print(h: &History) {
    if h.runs.is_empty() {
        crate::out!(
            "No runs yet on {}: retentiond has not run there.",
            h.database
        );
    } else {
        crate::out!("Runs on {}, latest first:", h.database);
        let rows: Vec<Vec<String>> = h
            .runs
            .iter()
            .map(|r| {
                vec![
                    r.id.to_string(),
                    r.started_at.get(..19).unwrap_or(&r.started_at).to_string(),
                    r.duration_s.map_or_else(|| "-".into(), duration),
                    r.mode.clone(),
                    r.status.clone(),
                    count(r.deleted.max(0) as u64),
                    count(r.anonymized.max(0) as u64),
                    r.backlog
                        .map_or_else(|| "-".into(), |b| count(b.max(0) as u64)),
                    r.stop_reason.clone().unwrap_or_default(),
                ]
            })
            .collect();
        table(
            &[
                "RUN",
                "STARTED (UTC)",
                "DURATION",
                "MODE",
                "STATUS",
                "DELETED",
                "ANONYMIZED",
                "BACKLOG",
                "STOP REASON",
            ],
            &rows,
            &[0, 2, 5, 6, 7],
        );
    }
    match (&h.next_run, &h.schedule) {
        (Some(next), Some(schedule)) => {
            crate::out!("Next scheduled run: {next} UTC ([schedule] cron {schedule}).")
        }
        _ => crate::out!(
            "No [schedule] in the config: runs happen when `retentiond run` or `retentiond daemon --once` is started."
        ),
    }
}

/// 0.4 s, 12 s, 3 min 05 s, 2 h 01 min.
fn duration(s: f64) -> String {
    let secs = s.max(0.0).round() as u64;
    match secs {
        _ if s < 10.0 => format!("{s:.1} s"),
        0..=59 => format!("{secs} s"),
        60..=3599 => format!("{} min {:02} s", secs / 60, secs % 60),
        _ => format!("{} h {:02} min", secs / 3600, secs % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_read_at_a_glance() {
        assert_eq!(super::duration(0.42), "0.4 s");
        assert_eq!(super::duration(12.4), "12 s");
        assert_eq!(super::duration(185.0), "3 min 05 s");
        assert_eq!(super::duration(7260.0), "2 h 01 min");
    }
}
