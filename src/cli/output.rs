//! What the commands print on stdout: aligned tables for people, JSON on request.

use crate::config::{Action, Clock, Rounding};
use crate::engine::{Engine, Plan, RunReport};
use crate::store::audit::Verification;

/// `println!` that does not panic when stdout is closed early (`retentiond plan | head -1`).
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

pub use crate::text::count;

/// Rows as aligned columns; numeric columns (index in `right`) are right-aligned.
pub fn render_table(header: &[&str], rows: &[Vec<String>], right: &[usize]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, cell) in r.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if right.contains(&i) {
                    format!("{c:>w$}", w = widths[i])
                } else {
                    format!("{c:<w$}", w = widths[i])
                }
            })
            .collect();
        parts.join("  ").trim_end().to_string()
    };
    let mut out = line(&header.iter().map(|h| h.to_string()).collect::<Vec<_>>());
    for r in rows {
        out.push('\n');
        out.push_str(&line(r));
    }
    out
}

pub fn table(header: &[&str], rows: &[Vec<String>], right: &[usize]) {
    crate::out!("{}", render_table(header, rows, right));
}

pub fn print_check(engine: &Engine) {
    crate::out!(
        "Config {} fits {} ({}): {} policies checked.",
        engine.config.path.display(),
        engine.db.display_url,
        engine.db.dialect.name(),
        engine.targets.len()
    );
    crate::out!("Policies in the order they run:");
    print_policies(&engine.targets);
    print_check_notes(engine);
}

/// One line per policy: table, key, clock, period and action.
pub fn print_policies(targets: &[crate::engine::Target]) {
    let rows: Vec<Vec<String>> = targets
        .iter()
        .map(|t| {
            let p = &t.policy;
            let clock = match &p.clock {
                Clock::Column { name, .. } => name.clone(),
                Clock::Related {
                    table,
                    column,
                    otherwise,
                    ..
                } => {
                    let mut s = format!("latest {table}.{column}");
                    if let Some(o) = otherwise {
                        s.push_str(&format!(", else {o}"));
                    }
                    s
                }
            };
            let round = if p.round == Rounding::EndOfYear {
                " from end of year"
            } else {
                ""
            };
            let action = match &p.action {
                Action::Delete => "delete".to_string(),
                Action::Archive => "archive".to_string(),
                Action::Anonymize(cols) => {
                    let cols: Vec<String> = cols
                        .iter()
                        .map(|(c, t)| format!("{c}:{}", t.name()))
                        .collect();
                    format!("anonymize {}", cols.join(" "))
                }
            };
            vec![
                p.name.clone(),
                p.table.clone(),
                t.key
                    .iter()
                    .map(|k| k.name.clone())
                    .collect::<Vec<_>>()
                    .join(","),
                clock,
                format!("{}{round}", p.retain),
                action,
            ]
        })
        .collect();
    table(
        &["POLICY", "TABLE", "KEY", "CLOCK", "RETAIN", "ACTION"],
        &rows,
        &[],
    );
}

fn print_check_notes(engine: &Engine) {
    let weak: Vec<String> = engine
        .targets
        .iter()
        .filter(|t| t.policy.confidence == Some(crate::config::Confidence::Low))
        .map(|t| t.name().to_string())
        .collect();
    if !weak.is_empty() {
        crate::out!(
            "\nReview required: these rules have a low-confidence period (a reasoned default, no source sets it): {}",
            weak.join(", ")
        );
    }
    let wording = crate::statement::advice(&engine.config);
    if !wording.is_empty() {
        crate::out!("\nRetention statement (`retentiond report`):");
        for line in wording {
            crate::out!("  warning: {line}");
        }
    }
    if let Some(why) = engine.config.review.missing() {
        crate::out!("\nNot yet reviewed: {why}.");
    }
    let erasure = erasure_warnings(&engine.config);
    if !erasure.is_empty() {
        crate::out!("\nErasure answers:");
        for line in erasure {
            crate::out!("  warning: {line}");
        }
    }
    let advice = engine.index_advice();
    if !advice.is_empty() {
        crate::out!("\nMissing indexes (runs work without them, but slowly on big tables):");
        for line in advice {
            crate::out!("  warning: {line}");
        }
    }
    let unseen = engine.unseen_references();
    if !unseen.is_empty() {
        crate::out!("\nForeign keys this account cannot see:");
        for line in unseen {
            crate::out!("  warning: {line}");
        }
    }
    if !engine.clock_warnings.is_empty() {
        crate::out!("\nClock values:");
        for line in &engine.clock_warnings {
            crate::out!("  warning: {line}");
        }
    }
}

/// What an erasure answer cannot say truthfully with this config.
fn erasure_warnings(config: &crate::config::Config) -> Vec<String> {
    if !config.policies.iter().any(|p| p.subject.is_some()) {
        return Vec::new();
    }
    match config.backup_retention {
        None => vec![
            "[erase] backup_retention is not set: the answer to an erasure request cannot say \
             when the erased data is gone from backups, and asks you to fill it in by hand"
                .to_string(),
        ],
        Some(backups) => {
            let day = chrono::NaiveDate::from_ymd_opt(2000, 1, 1)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .unwrap_or_default();
            if config.ledger_retain.add_to(day) < backups.add_to(day) {
                vec![format!(
                    "[erase] ledger_retain ({}) is shorter than backup_retention ({backups}): a \
                     restore of an old backup brings back subjects that `erase --replay` no \
                     longer knows",
                    config.ledger_retain
                )]
            } else {
                Vec::new()
            }
        }
    }
}

pub fn print_plan(plan: &Plan) {
    crate::out!(
        "Plan at cutoff {} UTC on {} (nothing was changed)",
        plan.cutoff,
        plan.database
    );
    let rows: Vec<Vec<String>> = plan
        .policies
        .iter()
        .map(|p| {
            vec![
                p.name.clone(),
                p.table.clone(),
                p.action.clone(),
                count(p.eligible),
                count(p.blocked),
                count(p.undated),
                count(p.held),
                p.total.map_or_else(|| "-".into(), count),
                p.expires_before.clone(),
            ]
        })
        .collect();
    table(
        &[
            "POLICY",
            "TABLE",
            "ACTION",
            "ELIGIBLE",
            "BLOCKED",
            "UNDATED",
            "HELD",
            "TOTAL",
            "CLOCK BEFORE",
        ],
        &rows,
        &[3, 4, 5, 6, 7],
    );
    for p in &plan.policies {
        if let Some(stop) = &p.safety_stop {
            crate::out!("! a run would stop here: {stop}");
        }
        if p.freed_by_own_deletes > 0 {
            crate::out!(
                "{} of the {} eligible rows of {} are referenced only by rows of {} that go first \
                 in the same run (replies to replies): the run walks the table again for them.",
                count(p.freed_by_own_deletes),
                count(p.eligible),
                p.name,
                p.table
            );
        }
    }
    for p in &plan.policies {
        if p.freed_by_earlier_policies > 0 {
            crate::out!(
                "{}: {} of the {} eligible rows are referenced now by rows that earlier policies of \
                 this run delete first; the run deletes them after those.",
                p.name,
                count(p.freed_by_earlier_policies),
                count(p.eligible)
            );
        }
        if p.deleted_by_earlier_policies > 0 {
            crate::out!(
                "{}: {} more rows have expired, but a delete policy of this run deletes them first; \
                 they are not counted as eligible.",
                p.name,
                count(p.deleted_by_earlier_policies)
            );
        }
        let clock_table = p.clock_table.as_deref().unwrap_or("-");
        if p.undated_by_earlier_policies > 0 {
            crate::out!(
                "{}: {} more rows have expired, but their clock's rows in {clock_table} are deleted \
                 earlier in this run; then they have no clock and are kept (not counted as eligible).",
                p.name,
                count(p.undated_by_earlier_policies)
            );
        }
        if p.may_change_by > 0 {
            crate::out!(
                "{}: the count may change during the run by up to {} rows: their clock's rows in \
                 {clock_table} are deleted earlier in this run, and then `otherwise` dates them.",
                p.name,
                count(p.may_change_by)
            );
        }
        if p.blocked > 0 {
            let by: Vec<String> = p
                .blocked_by
                .iter()
                .map(|b| format!("{} by {}.{}", count(b.rows), b.table, b.columns.join(", ")))
                .collect();
            crate::out!(
                "{}: {} blocked rows stay after the run, still referenced: {}.",
                p.name,
                count(p.blocked),
                by.join("; ")
            );
        }
    }
    if plan.policies.iter().any(|p| p.blocked > 0) {
        crate::out!("Blocked rows are retried on every run; they go once nothing references them.");
    }
}

pub fn print_run(r: &RunReport) {
    match (r.dry_run, r.run_id) {
        (true, _) => crate::out!(
            "Dry run at cutoff {} UTC on {} (nothing was changed)",
            r.cutoff,
            r.database
        ),
        (false, Some(id)) => crate::out!(
            "Run {id} at cutoff {} UTC on {}: {}",
            r.cutoff,
            r.database,
            r.status
        ),
        (false, None) => crate::out!(
            "Run at cutoff {} UTC on {}: {}",
            r.cutoff,
            r.database,
            r.status
        ),
    }
    crate::out!("{}", run_table(r));
    let failures = r.failures();
    for f in &failures {
        crate::out!("{f}");
    }
    if !failures.is_empty() {
        crate::out!(
            "The other policies ran; the run counts as failed, and the next run tries again."
        );
    }
    if let Some(reason) = &r.stop_reason {
        crate::out!("The run stopped early: {reason}. The next run continues where it left off.");
    }
    if !r.dry_run {
        let total: u64 = r.policies.iter().map(|p| p.affected).sum();
        crate::out!(
            "{} rows changed; every batch is recorded in {}.",
            count(total),
            r.audit_table
        );
    }
}

/// The per-policy table of a run, shared by the terminal and the summary e-mail.
pub fn run_table(r: &RunReport) -> String {
    let verb = if r.dry_run {
        "WOULD AFFECT"
    } else {
        "AFFECTED"
    };
    render_table(
        &[
            "POLICY", "ACTION", verb, "BATCHES", "BLOCKED", "UNDATED", "HELD", "BACKLOG", "TIME",
            "STOPPED",
        ],
        &run_rows(r),
        &[2, 3, 4, 5, 6, 7, 8],
    )
}

pub fn run_rows(r: &RunReport) -> Vec<Vec<String>> {
    r.policies
        .iter()
        .map(|p| {
            vec![
                p.name.clone(),
                p.action.clone(),
                count(p.affected),
                count(p.batches),
                count(p.blocked),
                count(p.undated),
                count(p.held),
                if r.dry_run {
                    "-".into()
                } else {
                    count(p.backlog)
                },
                format!("{:.1}s", p.duration_ms as f64 / 1000.0),
                match (&p.error, &p.stop_reason) {
                    (Some(_), _) => "FAILED (see below)".to_string(),
                    (None, reason) => reason.as_ref().map(|r| r.to_string()).unwrap_or_default(),
                },
            ]
        })
        .collect()
}

pub fn print_coverage(findings: &[crate::engine::coverage::Finding]) {
    if findings.is_empty() {
        crate::out!("\nCoverage: no uncovered column looks like personal data.");
        return;
    }
    crate::out!(
        "\nCoverage: {} column(s) look like personal data that no policy removes:",
        findings.len()
    );
    for f in findings {
        crate::out!("  warning: {}.{}: {}", f.table, f.column, f.why);
    }
}

pub fn print_replay(reports: &[crate::engine::erase::EraseReport]) {
    let rows: u64 = reports
        .iter()
        .flat_map(|r| r.erased.iter().map(|e| e.rows))
        .sum();
    crate::out!(
        "Replayed {} erasure(s) from the ledger: {} record(s) erased again.",
        reports.len(),
        count(rows)
    );
}

pub fn print_hold_added(id: i64, hold: &crate::store::holds::NewHold) {
    use crate::store::holds::HoldScope;
    let what = match &hold.scope {
        HoldScope::Record { table, key } => format!("record {key} of {table}"),
        HoldScope::Subject(s) => format!("every record of subject {s}"),
    };
    let review = hold.review_at.map_or_else(
        || "no review date".to_string(),
        |t| format!("review on {}", t.format("%Y-%m-%d")),
    );
    crate::out!(
        "Hold {id} set on {what} by {} ({review}). No policy touches these records until `retentiond hold release {id}`.",
        hold.set_by
    );
}

pub fn print_holds(holds: &[crate::store::holds::Hold], now: chrono::DateTime<chrono::Utc>) {
    if holds.is_empty() {
        crate::out!("No holds in force.");
        return;
    }
    let day = |s: &str| s.get(..10).unwrap_or(s).to_string();
    let rows: Vec<Vec<String>> = holds
        .iter()
        .map(|h| {
            let mut review = h.review_at.as_deref().map_or_else(|| "-".into(), day);
            if h.is_stale(now) {
                review.push_str(" (past)");
            }
            vec![
                h.id.to_string(),
                h.what(),
                h.reason.clone(),
                h.set_by.clone(),
                day(&h.set_at),
                review,
                match (&h.released_at, &h.released_by, &h.release_reason) {
                    (None, _, _) => "-".into(),
                    (Some(at), Some(by), Some(why)) => format!("{} by {by}: {why}", day(at)),
                    (Some(at), _, _) => day(at),
                },
            ]
        })
        .collect();
    table(
        &[
            "ID", "HOLDS", "REASON", "SET BY", "SET ON", "REVIEW", "RELEASED",
        ],
        &rows,
        &[0],
    );
}

pub fn print_verification(v: &Verification, table: &str) {
    match &v.broken {
        None => {
            crate::out!(
                "Audit trail {table} is intact: {} entries, {} rows recorded.",
                count(v.entries),
                count(v.rows.max(0) as u64)
            );
        }
        Some((id, why)) => {
            crate::out!("Audit trail {table} is BROKEN at entry id {id}: {why}.");
        }
    }
}
