//! The summary of a run for the controller, who is not a technician: the verdict first (in the
//! subject and the first line), then per kind of data what was done, what needs attention and
//! what to do about it, what expires in the coming months, and when the next run is. Counts
//! and kinds of data only, never a personal value; nothing technical but in the closing "for
//! the operator" part. In the config's language (`[report] language`).

pub mod mailer;
mod words;

use crate::config::{Action, Config, ReportOn};
use crate::engine::forecast::Forecast;
use crate::engine::{RunReport, Stop};
use crate::text::{Lang, count, wrap};
use askama::Template;
use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;
use words::Words;

/// The plain-text part fits this many columns.
pub const TEXT_WIDTH: usize = 72;

/// Why a run did not complete, as the controller needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The database could not be reached, or the connection was lost during the run.
    Database,
    /// A safety limit stopped the run before it wrote anything.
    Safety,
    /// The database clock looked wrong, so nothing was purged.
    Clock,
    Other,
}

/// What happened, as far as the summary cares.
pub enum Outcome<'a> {
    Finished(&'a RunReport),
    Failed {
        failure: Failure,
        /// The technical reason, for the operator.
        reason: String,
        /// The run never reached the point of writing (it failed to start, or was stopped
        /// before its first batch). Otherwise batches committed before the failure stay done.
        before_writing: bool,
    },
}

/// What the summary is rendered with, besides the outcome.
pub struct Context<'a> {
    pub config: &'a Config,
    /// When the run ended.
    pub finished_at: DateTime<Utc>,
    /// The next scheduled run, computed after this one ended.
    pub next_run: Option<DateTime<Utc>>,
    /// What expires in the coming months, when it could be counted.
    pub forecast: Option<&'a Forecast>,
}

impl Context<'_> {
    fn lang(&self) -> Lang {
        self.config.report.as_ref().map_or(Lang::En, |r| r.language)
    }

    fn tz(&self) -> Tz {
        zone(self.config)
    }
}

/// The time zone a summary speaks in: the schedule's (the database's when there is none).
pub fn zone(config: &Config) -> Tz {
    config
        .schedule
        .as_ref()
        .map_or(config.database.timezone, |s| s.timezone)
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

/// One point that needs the controller: what is the matter and what to do.
pub struct Item {
    pub what: String,
    pub todo: Option<String>,
}

/// One kind of data in the forecast: the months as bars.
pub struct Bars {
    pub category: String,
    pub in_words: String,
    pub months: Vec<Bar>,
}

pub struct Bar {
    pub label: String,
    pub count: String,
    /// Pixels, 0 for an empty month.
    pub height: u32,
}

/// Everything both parts show, in the reader's language.
struct View {
    lang: &'static str,
    w: &'static Words,
    verdict: String,
    when: String,
    attention: Vec<Item>,
    done: Vec<String>,
    kept: Vec<String>,
    forecast: Vec<Bars>,
    forecast_note: Option<String>,
    next: String,
    operator: Vec<String>,
    /// The run ended with a report: what was done and what comes are known.
    finished: bool,
}

#[derive(Template)]
#[template(path = "summary.txt", escape = "none")]
struct Text<'a> {
    v: &'a View,
}

#[derive(Template)]
#[template(path = "summary.html")]
struct Html<'a> {
    v: &'a View,
}

/// Per kind of data (a `category` may cover several policies), summed.
#[derive(Default)]
struct Kind {
    category: String,
    deleted: u64,
    archived: u64,
    deleted_from_archive: u64,
    anonymized: u64,
    pseudonymized: u64,
    backlog: u64,
    blocked: u64,
    held: u64,
    failed: bool,
    not_reached: bool,
    stopped: bool,
}

impl Kind {
    /// Deleted, moved to the archive, deleted from the archive, pseudonymised, anonymised.
    fn counts(&self) -> [u64; 5] {
        [
            self.deleted,
            self.archived,
            self.deleted_from_archive,
            self.pseudonymized,
            self.anonymized,
        ]
    }
}

fn kinds(r: &RunReport, config: &Config, lang: Lang) -> Vec<Kind> {
    let mut out: Vec<Kind> = Vec::new();
    for p in &r.policies {
        let policy = config.policies.iter().find(|c| c.name == p.name);
        let category =
            policy.map_or_else(|| p.name.clone(), |c| crate::statement::category(c, lang));
        let i = match out.iter().position(|k| k.category == category) {
            Some(i) => i,
            None => {
                out.push(Kind {
                    category,
                    ..Kind::default()
                });
                out.len() - 1
            }
        };
        let k = &mut out[i];
        match policy.map(|c| &c.action) {
            Some(Action::Anonymize(_)) if policy.is_some_and(crate::statement::pseudonymizes) => {
                k.pseudonymized += p.affected
            }
            Some(Action::Anonymize(_)) => k.anonymized += p.affected,
            Some(Action::Archive) => k.archived += p.affected,
            _ if p.database == crate::config::Side::Archive => k.deleted_from_archive += p.affected,
            _ => k.deleted += p.affected,
        }
        k.backlog += p.backlog;
        k.blocked += p.blocked;
        k.held += p.held;
        k.failed |= p.error.is_some();
        let not_reached = p.stop_reason == Some(Stop::NotStarted);
        k.not_reached |= not_reached && p.error.is_none();
        k.stopped |= p.stop_reason.is_some() && !not_reached && p.error.is_none();
    }
    out
}

/// "1 December 2026 at 04:30" in `tz`.
fn when(t: DateTime<Utc>, tz: Tz, w: &Words) -> String {
    let local = t.with_timezone(&tz);
    // To the minute; a schedule with seconds (a cron line of six fields) to the second.
    let time = if local.second() == 0 {
        local.format("%H:%M")
    } else {
        local.format("%H:%M:%S")
    };
    w.at.replace("{date}", &day(local.date_naive(), w))
        .replace("{time}", &time.to_string())
}

fn day(d: NaiveDate, w: &Words) -> String {
    format!("{} {} {}", d.day(), w.months[d.month0() as usize], d.year())
}

fn n(x: u64, w: &Words) -> String {
    if x == 1 {
        w.one_record.to_string()
    } else {
        w.records.replace("{n}", &count(x))
    }
}

pub fn render(outcome: &Outcome, ctx: &Context) -> Summary {
    let lang = ctx.lang();
    let w = words::of(lang);
    let tz = ctx.tz();
    let next = match ctx.next_run {
        Some(t) => w.next_run.replace("{when}", &when(t, tz, w)),
        None => w.no_next_run.to_string(),
    };
    let mut view = View {
        lang: lang.code(),
        w,
        verdict: String::new(),
        when: w
            .ended
            .replace("{when}", &when(ctx.finished_at, tz, w))
            .replace("{zone}", tz.name()),
        attention: Vec::new(),
        done: Vec::new(),
        kept: Vec::new(),
        forecast: Vec::new(),
        forecast_note: None,
        next,
        operator: Vec::new(),
        finished: matches!(outcome, Outcome::Finished(_)),
    };
    let (subject, is_error, changed) = match outcome {
        Outcome::Failed {
            failure,
            reason,
            before_writing,
        } => {
            let (verdict, what) = match failure {
                Failure::Database => (w.verdict_failed, w.failed_database),
                Failure::Safety => (w.verdict_stopped, w.failed_safety),
                Failure::Clock => (w.verdict_stopped, w.failed_clock),
                Failure::Other => (w.verdict_failed, w.failed_other),
            };
            let changed = if *before_writing {
                w.nothing_changed
            } else {
                w.batches_stay
            };
            view.verdict = format!("{} {verdict}", w.attention);
            view.attention.push(Item {
                what: format!("{what} {changed}"),
                todo: Some(match (failure, ctx.next_run) {
                    (Failure::Safety, _) => w.todo_safety.to_string(),
                    (_, Some(t)) => w.todo_retry_at.replace("{when}", &when(t, tz, w)),
                    (_, None) => w.todo_retry.to_string(),
                }),
            });
            view.operator.push(w.reason.replace("{reason}", reason));
            (view.verdict.clone(), true, false)
        }
        Outcome::Finished(r) => finished(r, ctx, lang, &mut view),
    };
    if let Some(f) = ctx.forecast {
        forecast(f, ctx.config, lang, &mut view);
    } else if matches!(outcome, Outcome::Finished(_)) {
        view.forecast_note = Some(w.forecast_unknown.to_string());
    }
    let text = Text { v: &view }.render().unwrap_or_else(|e| e.to_string());
    let html = Html { v: &view }.render().unwrap_or_else(|e| e.to_string());
    Summary {
        subject: format!("{} (retentiond)", subject.trim_end_matches('.')),
        text: wrap(&format!("{}\n", text.trim_end()), TEXT_WIDTH),
        html: format!("{}\n", html.trim_end()),
        is_error,
        changed,
    }
}

/// Fills the view for a run that ended with a report; returns (subject, is_error, changed).
fn finished(r: &RunReport, ctx: &Context, lang: Lang, view: &mut View) -> (String, bool, bool) {
    let w = view.w;
    let kinds = kinds(r, ctx.config, lang);
    let totals = kinds.iter().fold([0; 5], |a, k| {
        let c = k.counts();
        std::array::from_fn(|i| a[i] + c[i])
    });
    let changed = totals.iter().sum::<u64>() > 0;
    for k in &kinds {
        let parts = changes(
            k.counts(),
            [
                w.deleted,
                w.archived,
                w.deleted_from_archive,
                w.pseudonymized,
                w.anonymized,
            ],
            w,
        );
        if !parts.is_empty() {
            view.done
                .push(format!("{}: {}.", k.category, parts.join("; ")));
        }
        let overdue = n(k.backlog, w);
        let matter = if k.failed {
            Some((w.kind_failed, w.todo_failed))
        } else if k.not_reached {
            Some((w.kind_not_reached, w.todo_continue))
        } else if k.stopped {
            Some((w.kind_stopped, w.todo_continue))
        } else if k.backlog > 0 {
            Some((w.kind_left, w.todo_left))
        } else {
            None
        };
        if let Some((what, todo)) = matter {
            view.attention.push(Item {
                what: format!("{}: {}", k.category, what.replace("{overdue}", &overdue)),
                todo: Some(todo.to_string()),
            });
        }
        if k.blocked > 0 {
            view.kept.push(format!(
                "{}: {}",
                k.category,
                w.kept_blocked.replace("{n}", &n(k.blocked, w))
            ));
        }
        if k.held > 0 {
            view.kept.push(format!(
                "{}: {}",
                k.category,
                w.kept_held.replace("{n}", &n(k.held, w))
            ));
        }
    }
    if !r.stale_holds.is_empty() {
        view.attention.push(Item {
            what: w
                .stale_holds
                .replace("{n}", &count(r.stale_holds.len() as u64)),
            todo: Some(w.todo_stale_holds.to_string()),
        });
    }
    let failed = kinds.iter().any(|k| k.failed);
    let stopped = r.status != "ok" && !failed;
    let overdue = kinds.iter().any(|k| k.backlog > 0);
    let verdict = if failed {
        format!("{} {}", w.attention, w.verdict_rule_failed)
    } else if stopped {
        format!("{} {}", w.attention, w.verdict_run_stopped)
    } else if overdue {
        format!("{} {}", w.attention, w.verdict_overdue)
    } else if !r.stale_holds.is_empty() {
        format!("{} {}", w.attention, w.verdict_stale_holds)
    } else if changed {
        let parts = changes(
            totals,
            [
                w.deleted,
                w.archived,
                w.deleted_from_archive,
                w.pseudonymized_short,
                w.anonymized_short,
            ],
            w,
        );
        format!("{} {}.", w.done, parts.join(", "))
    } else {
        w.nothing_to_do.to_string()
    };
    view.verdict = verdict.clone();
    if let Some(id) = r.run_id {
        view.operator.push(
            w.run_id
                .replace("{id}", &id.to_string())
                .replace("{cutoff}", &r.cutoff),
        );
    }
    for f in r.failures() {
        view.operator.push(w.reason.replace("{reason}", &f));
    }
    if let Some(reason) = &r.stop_reason {
        view.operator
            .push(w.stopped_because.replace("{reason}", &reason.to_string()));
    }
    for h in &r.stale_holds {
        view.operator.push(h.clone());
    }
    let waited: u64 = r.policies.iter().map(|p| p.waited_for_replica_ms).sum();
    if waited > 0 {
        view.operator.push(
            w.waited_for_replica
                .replace("{duration}", &waited_for(waited, view.lang)),
        );
    }
    (verdict, r.status != "ok", changed)
}

/// "3 min 20 s", "12 s", "1 h 5 min" ("u" for hours in Dutch).
fn waited_for(ms: u64, lang: &str) -> String {
    let s = ms.div_ceil(1000);
    let hour = if lang == "nl" { "u" } else { "h" };
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} {hour} {} min", s / 3600, s % 3600 / 60),
    }
}

/// "40 records deleted", "2 records pseudonymised", for the counts that are not 0.
fn changes(counts: [u64; 5], phrases: [&str; 5], w: &Words) -> Vec<String> {
    counts
        .iter()
        .zip(phrases)
        .filter(|(c, _)| **c > 0)
        .map(|(c, p)| p.replace("{n}", &n(*c, w)))
        .collect()
}

/// Pixels of the tallest bar.
const BAR_MAX: u32 = 48;

fn forecast(f: &Forecast, config: &Config, lang: Lang, view: &mut View) {
    let w = view.w;
    let mut per: Vec<(String, Vec<u64>)> = Vec::new();
    for (name, counts) in &f.policies {
        let category = config
            .policies
            .iter()
            .find(|c| &c.name == name)
            .map_or_else(|| name.clone(), |c| crate::statement::category(c, lang));
        match per.iter_mut().find(|(c, _)| *c == category) {
            Some((_, sum)) => {
                for (s, c) in sum.iter_mut().zip(counts) {
                    *s += c;
                }
            }
            None => per.push((category, counts.clone())),
        }
    }
    let most = per
        .iter()
        .flat_map(|(_, c)| c.iter().copied())
        .max()
        .unwrap_or(0);
    for (category, counts) in per {
        let total: u64 = counts.iter().sum();
        if total == 0 {
            continue;
        }
        let (peak_i, peak) = counts
            .iter()
            .enumerate()
            .max_by_key(|(i, c)| (**c, std::cmp::Reverse(*i)))
            .map_or((0, 0), |(i, c)| (i, *c));
        let peak_month = f.months.get(peak_i).map_or_else(String::new, |m| {
            format!("{} {}", w.months[m.month0() as usize], m.year())
        });
        let busy = counts.iter().filter(|c| **c > 0).count();
        let in_words = if busy == 1 {
            w.forecast_once
                .replace("{n}", &n(total, w))
                .replace("{month}", &peak_month)
        } else {
            w.forecast_spread
                .replace("{n}", &n(total, w))
                .replace("{months}", &busy.to_string())
                .replace("{peak}", &count(peak))
                .replace("{month}", &peak_month)
        };
        let months = f
            .months
            .iter()
            .zip(&counts)
            .map(|(m, c)| Bar {
                label: w.short_months[m.month0() as usize].to_string(),
                count: if *c == 0 { String::new() } else { count(*c) },
                height: match (*c, most) {
                    (0, _) | (_, 0) => 0,
                    (c, most) => ((c * BAR_MAX as u64).div_ceil(most) as u32).max(2),
                },
            })
            .collect();
        view.forecast.push(Bars {
            category,
            in_words,
            months,
        });
    }
    if view.forecast.is_empty() {
        view.forecast_note = Some(w.forecast_nothing.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{PolicyOutcome, RunReport};

    fn waited(ms: u64, lang: &str) -> Summary {
        let config = Config::from_toml(
            std::path::Path::new("waits.toml"),
            &format!(
                "[database]\nurl = \"sqlite://none.db\"\n[report]\nto = [\"a@shop.example\"]\n\
                 from = \"r@shop.example\"\nsmtp_url = \"file:///nonexistent\"\nlanguage = \"{lang}\"\n\
                 [[policies]]\nname = \"mail\"\ntable = \"messages\"\nsince = \"sent_at\"\n\
                 retain = \"6 months\"\naction = \"delete\"\nbasis = \"test\"\n"
            ),
            std::iter::empty(),
        )
        .expect("a config");
        let policy = PolicyOutcome {
            name: "mail".into(),
            database: crate::config::Side::Live,
            table: "messages".into(),
            action: "delete".into(),
            affected: 40,
            batches: 1,
            blocked: 0,
            undated: 0,
            held: 0,
            backlog: 0,
            duration_ms: 200_000,
            stop_reason: None,
            error: None,
            waited_for_replica_ms: ms,
        };
        let report = RunReport {
            run_id: Some(7),
            archive_run_id: None,
            dry_run: false,
            cutoff: "2026-06-01 00:00:00".into(),
            status: "ok".into(),
            stop_reason: None,
            database: "sqlite://none.db".into(),
            audit_table: "retentiond_audit".into(),
            policies: vec![policy],
            stale_holds: Vec::new(),
        };
        let ctx = Context {
            config: &config,
            finished_at: Utc::now(),
            next_run: None,
            forecast: None,
        };
        render(&Outcome::Finished(&report), &ctx)
    }

    #[test]
    fn the_operator_reads_how_long_the_run_waited_for_the_replica() {
        let s = waited(199_500, "en");
        let line = "Waited 3 min 20 s for the replica to catch up (run.max_replica_lag).";
        assert!(s.text.contains(line), "{}", s.text);
        assert!(s.html.contains(line), "{}", s.html);
        let nl = waited(12_000, "nl");
        assert!(
            nl.text.contains("12 s gewacht tot de replica bij was"),
            "{}",
            nl.text
        );
        let none = waited(0, "en");
        assert!(!none.text.contains("replica"), "{}", none.text);
        assert!(!none.html.contains("replica"), "{}", none.html);
    }

    #[test]
    fn dates_read_in_the_readers_language_and_zone() {
        let t = DateTime::parse_from_rfc3339("2026-12-01T03:30:00Z")
            .expect("time")
            .with_timezone(&Utc);
        let ams: Tz = "Europe/Amsterdam".parse().expect("zone");
        assert_eq!(
            when(t, ams, words::of(Lang::En)),
            "1 December 2026 at 04:30"
        );
        assert_eq!(
            when(t, ams, words::of(Lang::Nl)),
            "1 december 2026 om 04:30"
        );
    }
}
