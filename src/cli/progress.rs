//! The live progress display on a terminal: which policy of how many, a spinner while its
//! rows are counted, then a bar with the rows done of those expected, the rate and the time
//! left. Drawn on stderr only when a person reads it there (see `telemetry::live_terminal`);
//! under journald, with JSON logs or into a pipe or file nothing is drawn and the log lines
//! are as they always are. Log lines written while a bar is shown go above it.

use super::output::count;
use crate::engine::progress::{Observer, Progress};
use crate::telemetry::{self, LogFormat};
use indicatif::{ProgressBar, ProgressState, ProgressStyle};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often the display redraws by itself, so the spinner turns and the time moves on
/// between batches.
const TICK: Duration = Duration::from_millis(120);

/// The bar on screen now, if any; the log writer prints above it.
static LIVE: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// The observer for a run: the live display on a terminal, else one that shows nothing.
pub fn observer(format: LogFormat) -> Observer {
    if telemetry::live_terminal(format) {
        Observer::new(Arc::new(Terminal {
            colour: !telemetry::no_color(),
        }))
    } else {
        Observer::default()
    }
}

/// Removes the display (before the command prints its result or an error).
pub fn clear() {
    if let Some(bar) = take() {
        bar.finish_and_clear();
    }
}

/// Leaves the display's last state on screen and draws no more (the process is ending).
pub fn abandon() {
    if let Some(bar) = take() {
        bar.abandon();
    }
}

fn take() -> Option<ProgressBar> {
    match LIVE.lock() {
        Ok(mut live) => live.take(),
        Err(poisoned) => poisoned.into_inner().take(),
    }
}

fn current() -> Option<ProgressBar> {
    match LIVE.lock() {
        Ok(live) => live.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    }
}

fn show(bar: ProgressBar) {
    bar.enable_steady_tick(TICK);
    let old = match LIVE.lock() {
        Ok(mut live) => live.replace(bar),
        Err(poisoned) => poisoned.into_inner().replace(bar),
    };
    if let Some(old) = old {
        old.finish_and_clear();
    }
}

struct Terminal {
    colour: bool,
}

impl Terminal {
    fn counting_style(&self) -> ProgressStyle {
        let template = if self.colour {
            "{spinner:.cyan} {prefix:.bold}: {msg} ({elapsed})"
        } else {
            "{spinner} {prefix}: {msg} ({elapsed})"
        };
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner())
    }

    fn batches_style(&self) -> ProgressStyle {
        let template = if self.colour {
            "{prefix:.bold} [{wide_bar:.cyan/blue}] {rows}, {rate}{left}{msg:.yellow}"
        } else {
            "{prefix} [{wide_bar}] {rows}, {rate}{left}{msg}"
        };
        ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ")
            .with_key("rows", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(
                    w,
                    "{} of {} rows",
                    count(s.pos()),
                    count(s.len().unwrap_or(0))
                );
            })
            .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{} rows/s", count(s.per_sec() as u64));
            })
            .with_key("left", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let started = s.pos() > 0 && s.len().is_some_and(|len| len > s.pos());
                if started && s.eta() >= Duration::from_secs(1) {
                    let _ = write!(w, ", {} left", time_left(s.eta()));
                }
            })
    }
}

/// "4 s", "2 min 5 s", "1 h 3 min": short, so that the line fits 80 columns.
fn time_left(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

fn prefix(policy: usize, of: usize, name: &str) -> String {
    format!("policy {policy} of {of} ({name})")
}

impl Progress for Terminal {
    fn counting(&self, policy: usize, of: usize, name: &str) {
        let bar = ProgressBar::new_spinner()
            .with_style(self.counting_style())
            .with_prefix(prefix(policy, of, name))
            .with_message("counting rows");
        show(bar);
    }

    fn counted(&self, expected: u64) {
        if let Some(bar) = current() {
            bar.set_message(format!("counted {} rows to process", count(expected)));
        }
    }

    fn policy_started(&self, policy: usize, of: usize, name: &str, expected: u64) {
        let bar = ProgressBar::new(expected)
            .with_style(self.batches_style())
            .with_prefix(prefix(policy, of, name));
        show(bar);
    }

    fn batch_written(&self, rows: u64) {
        if let Some(bar) = current() {
            bar.inc(rows);
        }
    }

    fn waiting(&self, reason: Option<&str>) {
        if let Some(bar) = current() {
            bar.set_message(reason.map_or_else(String::new, |r| format!(" ({r})")));
        }
    }

    fn policy_done(&self) {
        clear();
    }

    fn is_live(&self) -> bool {
        true
    }
}

/// Where log lines go: stderr, above the live display when one is shown.
pub fn log_writer() -> LogWriter {
    LogWriter
}

pub struct LogWriter;

impl std::io::Write for LogWriter {
    /// tracing writes each formatted line in one call: it is printed whole. A line that cannot
    /// be written (stderr is a closed pipe: `retentiond daemon 2>&1 | tee`, then Ctrl-C) is
    /// dropped: an error here would make tracing report it on that same stderr, which panics,
    /// and the run would end before it is recorded and its summary queued.
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = match current() {
            Some(bar) => bar.suspend(|| std::io::stderr().write_all(buf)),
            None => std::io::stderr().write_all(buf),
        };
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::time_left;
    use std::time::Duration;

    #[test]
    fn time_left_is_short() {
        assert_eq!(time_left(Duration::from_millis(4_900)), "4 s");
        assert_eq!(time_left(Duration::from_secs(125)), "2 min 5 s");
        assert_eq!(time_left(Duration::from_secs(3_780)), "1 h 3 min");
    }
}
