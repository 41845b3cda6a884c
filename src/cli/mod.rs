//! The command line: parsing and routing, one file per command. Each command returns its exit
//! code or an error; `crate::exit` alone turns outcomes and errors into codes.

mod archive;
mod audit;
mod audit_export;
mod check;
mod completions;
mod daemon;
mod demo;
mod erase;
mod health;
mod hold;
mod install;
pub mod output;
mod plan;
pub mod progress;
mod report;
mod run;
mod runs;

use crate::config::{self, Config};
use crate::db::Access;
use crate::engine::Engine;
use crate::exit;
use crate::telemetry::{self, LogFormat};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "retentiond",
    version,
    about = "Enforces data-retention rules on your own SQL database",
    long_about = "retentiond reads retention policies from a config file (how long each kind of record \
is kept, from which moment, what happens when it expires, and why), finds the records whose \
retention has run out, and deletes or anonymizes them in small batches. Every batch is committed \
together with an entry in a hash-chained audit trail.\n\n\
Start with `retentiond demo` to see it work on a generated SQLite shop database.",
    after_help = "Exit codes: 0 ok, 1 run failed, 2 bad usage or config, 3 stopped by a safety limit, \
4 another instance holds the lock, 130 stopped by Ctrl-C.\n\nExamples:\n  retentiond demo\n  retentiond --config shop.toml check\n  \
retentiond --config shop.toml plan\n  retentiond --config shop.toml run --dry-run\n  retentiond --config shop.toml run"
)]
pub struct Cli {
    /// The config file. Every key can be overridden by an environment variable
    /// RETENTIOND_SECTION__KEY, e.g. RETENTIOND_DATABASE__URL.
    #[arg(long, short, global = true, env = "RETENTIOND_CONFIG", default_value = config::DEFAULT_PATH)]
    config: PathBuf,

    /// Log format on stderr: human, or json for containers and log collectors.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Human, env = "RETENTIOND_LOG_FORMAT")]
    log_format: LogFormat,

    /// More log detail (-v debug, -vv trace). RUST_LOG overrides this.
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check the config against the live database schema, changing nothing.
    #[command(long_about = check::LONG_ABOUT, after_help = check::EXAMPLES)]
    Check(check::Args),

    /// Show what a run would do, in a read-only transaction.
    #[command(long_about = plan::LONG_ABOUT, after_help = plan::EXAMPLES)]
    Plan(plan::Args),

    /// Delete or anonymize the records whose retention has run out.
    #[command(long_about = run::LONG_ABOUT, after_help = run::EXAMPLES)]
    Run(run::Args),

    /// Run on the configured schedule and e-mail a summary after each run.
    #[command(long_about = daemon::LONG_ABOUT, after_help = daemon::EXAMPLES)]
    Daemon(daemon::Args),

    /// Inspect the audit trail.
    #[command(subcommand)]
    Audit(audit::Command),

    /// Find and export what the archive database keeps (action = "archive").
    #[command(subcommand, long_about = archive::LONG_ABOUT)]
    Archive(archive::Command),

    /// Print the retention statement for your privacy statement and GDPR art. 30 register.
    #[command(long_about = report::LONG_ABOUT, after_help = report::EXAMPLES)]
    Report(report::Args),

    /// Erasure request (GDPR art. 17): erase one data subject now, except what the law keeps.
    #[command(long_about = erase::LONG_ABOUT, after_help = erase::EXAMPLES)]
    Erase(erase::Args),

    /// Create or upgrade retentiond's own tables, and nothing else.
    #[command(long_about = install::LONG_ABOUT, after_help = install::EXAMPLES)]
    Install,

    /// The latest runs: when, how long, how they ended, rows per action, backlog, next run.
    #[command(visible_alias = "status", long_about = runs::LONG_ABOUT, after_help = runs::EXAMPLES)]
    Runs(runs::Args),

    /// Legal holds: keep a record, or everything of one data subject, until released.
    #[command(subcommand, long_about = hold::LONG_ABOUT)]
    Hold(hold::Command),

    /// Build a demo shop database (SQLite), plan and run retention on it.
    #[command(long_about = demo::LONG_ABOUT, after_help = demo::EXAMPLES)]
    Demo(demo::Args),

    /// Ask a running daemon's /healthz: exit 0 healthy, 1 not.
    #[command(long_about = health::LONG_ABOUT, after_help = health::EXAMPLES)]
    Health(health::Args),

    /// Print the shell completion script for bash, zsh, fish, elvish or powershell.
    #[command(after_help = completions::EXAMPLES)]
    Completions(completions::Args),

    /// Write the manual pages to a directory (for packagers).
    #[command(hide = true)]
    Man(completions::ManArgs),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.log_format, cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            warn_stderr(&format!("error: cannot start the async runtime: {e}"));
            return ExitCode::from(exit::FAILED);
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            warn_stderr(&format!("error: {}", describe(&e)));
            ExitCode::from(exit::of_error(&e))
        }
    }
}

/// `eprintln!` that does not panic when stderr is closed (`retentiond run 2>&1 | head -1`):
/// the exit code still tells what happened.
fn warn_stderr(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}

async fn dispatch(cli: Cli) -> anyhow::Result<u8> {
    let config = || load(&cli.config);
    match cli.command {
        Command::Check(args) => check::run(args, config()?).await,
        Command::Plan(args) => plan::run(args, config()?, cli.log_format).await,
        Command::Run(args) => run::run(args, config()?, cli.log_format).await,
        Command::Daemon(args) => daemon::run(args, config()?).await,
        Command::Audit(command) => audit::run(command, config()?).await,
        Command::Archive(command) => archive::run(command, config()?).await,
        // The statement reads the policies only: no key, password or database.
        Command::Report(args) => {
            report::run(
                args,
                crate::config::Config::load_without_secrets(&cli.config)?,
            )
            .await
        }
        Command::Erase(args) => erase::run(args, config()?).await,
        Command::Install => install::run(config()?).await,
        Command::Runs(args) => runs::run(args, config()?).await,
        Command::Hold(command) => hold::run(command, config()?).await,
        Command::Demo(args) => demo::run(args).await,
        Command::Health(args) => health::run(args, &cli.config),
        Command::Completions(args) => completions::completions(args),
        Command::Man(args) => completions::man(args),
    }
}

/// Loads the config and logs what it warns about.
fn load(path: &Path) -> Result<Config, config::ConfigError> {
    Config::load(path).inspect(|c| {
        for w in &c.warnings {
            tracing::warn!("{w}");
        }
        if c.review.required {
            tracing::warn!("{}", config::NOT_LEGAL_ADVICE);
        }
    })
}

/// The error and its causes, leaving out a cause whose text the message already contains
/// (library errors embed their source in their own message).
fn describe(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
    }
    out
}

/// The debug-build hook that lets tests fix "now".
fn test_now() -> anyhow::Result<Option<chrono::DateTime<chrono::Utc>>> {
    if !cfg!(debug_assertions) {
        return Ok(None);
    }
    match std::env::var("RETENTIOND_TEST_NOW") {
        Ok(s) => Ok(Some(
            chrono::DateTime::parse_from_rfc3339(&s)?.with_timezone(&chrono::Utc),
        )),
        Err(_) => Ok(None),
    }
}

/// The engine for a command that writes unless `read_only`. A read-only command goes ahead
/// without the grants only a real run needs, and says which those are.
async fn prepare(config: Config, read_only: bool) -> anyhow::Result<Engine> {
    let access = if read_only {
        Access::ReadOnly
    } else {
        Access::ReadWrite
    };
    let engine = Engine::prepare(config, access).await?;
    for issue in &engine.write_denied {
        tracing::warn!("{issue}; a real run needs this grant");
    }
    Ok(engine)
}

pub use output::{print_plan as output_plan, print_run as output_run, table as output_table};
