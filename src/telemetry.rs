//! Logging, set up in one place: human-readable on a terminal, JSON lines for containers,
//! filtered by `RUST_LOG`. Logs go to stderr; stdout carries the command's own output.

use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

pub fn init(format: LogFormat, verbose: u8) {
    let default = match verbose {
        0 => "retentiond=info",
        1 => "retentiond=debug",
        _ => "retentiond=trace,sqlx=debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // journald adds its own timestamps and shows escape codes literally.
    let journald = std::env::var_os("JOURNAL_STREAM").is_some();
    let ansi = !journald && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let result = match format {
        LogFormat::Human if journald => builder
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
