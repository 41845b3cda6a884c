//! The summary of a run for the controller: subject, plain text and HTML, with counts and
//! policy names only, never a personal value.

pub mod mailer;

use crate::cli::output::{count, run_rows, run_table};
use crate::config::ReportOn;
use crate::engine::RunReport;
use chrono::{DateTime, Utc};

/// What happened, as far as the summary cares.
pub enum Outcome<'a> {
    Finished(&'a RunReport),
    /// The run failed, or (`stopped`) a safety limit or the clock guard stopped it before
    /// it wrote anything.
    Failed {
        error: String,
        database: String,
        stopped: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Failed or stopped early.
    pub is_error: bool,
    /// Changed at least one row.
    pub changed: bool,
}

impl Summary {
    /// Whether `report.on` asks for this summary.
    pub fn wanted(&self, on: ReportOn) -> bool {
        match on {
            ReportOn::Always => true,
            ReportOn::Changes => self.changed || self.is_error,
            ReportOn::Errors => self.is_error,
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn render(outcome: &Outcome, next_run: Option<DateTime<Utc>>) -> Summary {
    let next = next_run.map_or_else(
        || "not scheduled".to_string(),
        |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    );
    let footer = "This message holds counts and policy names only, no personal data.";
    match outcome {
        Outcome::Failed {
            error,
            database,
            stopped,
        } => {
            let (subject, what) = if *stopped {
                (
                    format!("retentiond: run STOPPED before writing on {database}"),
                    "was stopped by a safety check before it changed anything",
                )
            } else {
                (
                    format!("retentiond: run FAILED on {database}"),
                    "failed; nothing after the last committed batch was changed",
                )
            };
            let text = format!(
                "The retention run on {database} {what}.\n\n\
                 Reason: {error}\n\nNext scheduled run: {next}\n\n{footer}\n"
            );
            let html = format!(
                "<html><body><h2>{}</h2><p>The retention run on <b>{}</b> {what}.</p><p><b>Reason:</b> {}</p>\
                 <p>Next scheduled run: {}</p><p><small>{footer}</small></p></body></html>",
                escape(&subject),
                escape(database),
                escape(error),
                escape(&next)
            );
            Summary {
                subject,
                text,
                html,
                is_error: true,
                changed: false,
            }
        }
        Outcome::Finished(r) => {
            let rows: u64 = r.policies.iter().map(|p| p.affected).sum();
            let errors = r
                .policies
                .iter()
                .filter(|p| p.stop_reason.is_some())
                .count();
            let failures = r.failures();
            let failed_names: Vec<&str> = r
                .policies
                .iter()
                .filter(|p| p.error.is_some())
                .map(|p| p.name.as_str())
                .collect();
            let subject = match r.status.as_str() {
                _ if !failed_names.is_empty() => format!(
                    "retentiond: run FAILED on {} of {} policies ({}), {} rows purged",
                    failed_names.len(),
                    r.policies.len(),
                    failed_names.join(", "),
                    count(rows)
                ),
                "ok" => format!(
                    "retentiond: {} policies, {} rows purged, 0 errors",
                    r.policies.len(),
                    count(rows)
                ),
                status => format!(
                    "retentiond: run {status} after {} rows ({})",
                    count(rows),
                    r.stop_reason.as_deref().unwrap_or("see below")
                ),
            };
            let run = r
                .run_id
                .map_or_else(|| "-".to_string(), |id| id.to_string());
            let backlog: u64 = r.policies.iter().map(|p| p.backlog).sum();
            let mut text = format!(
                "Run {run} on {}: {}\nCutoff: {} UTC\nRows changed: {}\nBacklog (still past their cutoff): {}\n\
                 Policies that stopped early: {errors}\nNext scheduled run: {next}\n\n{}\n",
                r.database,
                r.status,
                r.cutoff,
                count(rows),
                count(backlog),
                run_table(r)
            );
            if !failures.is_empty() {
                text.push_str(&format!(
                    "\nFAILED (the other policies ran; the next run tries these again):\n{}",
                    failures
                        .iter()
                        .map(|f| format!("  - {f}\n"))
                        .collect::<String>()
                ));
            }
            if let Some(reason) = &r.stop_reason {
                text.push_str(&format!(
                    "\nThe run stopped early: {reason}. The next run continues where it left off.\n"
                ));
            }
            if !r.stale_holds.is_empty() {
                text.push_str(&format!(
                    "\nLegal holds past their review date (still in force; release them with `retentiond hold release ID` when they are no longer needed):\n{}",
                    r.stale_holds
                        .iter()
                        .map(|h| format!("  - {h}\n"))
                        .collect::<String>()
                ));
            }
            text.push_str(&format!(
                "\nEvery batch is recorded in the audit table {}; check it with `retentiond audit verify`.\n\n{footer}\n",
                r.audit_table
            ));
            let stale_html = if r.stale_holds.is_empty() {
                String::new()
            } else {
                format!(
                    "<p><b>Legal holds past their review date</b> (still in force):</p><ul>{}</ul>",
                    r.stale_holds
                        .iter()
                        .map(|h| format!("<li>{}</li>", escape(h)))
                        .collect::<String>()
                )
            };
            let header = [
                "Policy", "Action", "Affected", "Batches", "Blocked", "Undated", "Held", "Backlog",
                "Time", "Stopped",
            ];
            let mut table =
                String::from("<table border=\"1\" cellpadding=\"4\" cellspacing=\"0\"><tr>");
            for h in header {
                table.push_str(&format!("<th>{h}</th>"));
            }
            table.push_str("</tr>");
            for row in run_rows(r) {
                table.push_str("<tr>");
                for (i, cell) in row.iter().enumerate() {
                    let align = if (2..=8).contains(&i) {
                        " align=\"right\""
                    } else {
                        ""
                    };
                    table.push_str(&format!("<td{align}>{}</td>", escape(cell)));
                }
                table.push_str("</tr>");
            }
            table.push_str("</table>");
            let failures_html = if failures.is_empty() {
                String::new()
            } else {
                format!(
                    "<p><b>FAILED</b> (the other policies ran; the next run tries these again):</p><ul>{}</ul>",
                    failures
                        .iter()
                        .map(|f| format!("<li>{}</li>", escape(f)))
                        .collect::<String>()
                )
            };
            let html = format!(
                "<html><body><h2>retentiond: run {} {}</h2><p>Database: {}<br>Cutoff: {} UTC<br>Rows changed: {}<br>\
                 Backlog: {}<br>Next scheduled run: {}</p>{table}{failures_html}{}{stale_html}<p>Audit table: {}</p><p><small>{footer}</small></p></body></html>",
                escape(&run),
                escape(&r.status),
                escape(&r.database),
                escape(&r.cutoff),
                count(rows),
                count(backlog),
                escape(&next),
                r.stop_reason
                    .as_ref()
                    .map(|s| format!("<p><b>Stopped early:</b> {}</p>", escape(s)))
                    .unwrap_or_default(),
                escape(&r.audit_table)
            );
            Summary {
                subject,
                text,
                html,
                is_error: r.status != "ok",
                changed: rows > 0,
            }
        }
    }
}
