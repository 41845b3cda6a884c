//! Logging, set up in one place: human-readable on a terminal, JSON lines for containers,
//! filtered by `RUST_LOG`. Logs go to stderr; stdout carries the command's own output.

use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

/// journald adds its own timestamps and shows escape codes literally.
fn journald() -> bool {
    std::env::var_os("JOURNAL_STREAM").is_some()
}

/// `NO_COLOR` set and not empty (https://no-color.org).
pub fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// A person reads stderr as it is written: a terminal, human log lines, not journald. Only
/// then is progress drawn live.
pub fn live_terminal(format: LogFormat) -> bool {
    format == LogFormat::Human
        && !journald()
        && std::io::IsTerminal::is_terminal(&std::io::stderr())
}

pub fn init(format: LogFormat, verbose: u8) {
    let default = match verbose {
        0 => "retentiond=info",
        1 => "retentiond=debug",
        _ => "retentiond=trace,sqlx=debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    // Log lines go above a live progress display, not through it.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(crate::cli::progress::log_writer);
    let ansi = live_terminal(format) && !no_color();
    let result = match format {
        LogFormat::Human if journald() => builder
            .with_target(false)
            .with_ansi(false)
            .without_time()
            .try_init(),
        LogFormat::Human => builder.with_target(false).with_ansi(ansi).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    // A second initialisation (tests) keeps the first subscriber.
    let _ = result;
}
