//! The command line: parsing, dispatch and exit codes. Library errors become exit codes here
//! and nowhere else.

pub mod output;

use crate::config::{self, Config};
use crate::db::Access;
use crate::engine::{Engine, EngineError, RunOptions};
use crate::store::Store;
use crate::telemetry::{self, LogFormat};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit codes, as documented in the README.
pub mod exit {
    pub const OK: u8 = 0;
    pub const FAILED: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const SAFETY: u8 = 3;
    pub const LOCKED: u8 = 4;
}

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
4 another instance holds the lock.\n\nExamples:\n  retentiond demo\n  retentiond --config shop.toml check\n  \
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
    #[command(
        long_about = "Loads the config, connects, and checks every policy against the live schema: \
each table, key, clock column and its type, and whether each column's type fits its transform. \
Every problem is reported at once, with the config key it is about. Exits 2 on any problem.\n\n\
With --coverage it also looks for personal data that no policy will ever remove: columns whose \
name suggests contact or identity data (email, phone, ip, name, address, iban, birth, ...) or \
whose sampled values look like e-mail or IP addresses, in tables no delete policy covers and \
that no anonymize policy strips. It names tables and columns, never values.",
        after_help = "Examples:\n  retentiond --config /etc/retentiond/retentiond.toml check\n  \
retentiond check --coverage --strict    # exit 2 when personal data is left uncovered"
    )]
    Check {
        /// Also look for personal data that no policy covers.
        #[arg(long)]
        coverage: bool,
        /// With --coverage: uncovered personal data is an error (exit 2).
        #[arg(long, requires = "coverage")]
        strict: bool,
    },

    /// Show what a run would do, in a read-only transaction.
    #[command(
        long_about = "Counts, per policy, the rows whose retention has run out (eligible), the expired \
rows still referenced by other rows (blocked), the rows whose clock never started (undated) and \
the table's size, using the same queries as the real run, in a read-only transaction.\n\n\
Blocked rows can become eligible during a run when an earlier policy deletes the rows that \
reference them (children are purged before their parents).",
        after_help = "Examples:\n  retentiond plan\n  retentiond plan --json | jq '.policies[] | {name, eligible}'"
    )]
    Plan {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Only this policy (repeatable).
        #[arg(long = "policy", value_name = "NAME")]
        policies: Vec<String>,
    },

    /// Delete or anonymize the records whose retention has run out.
    #[command(
        long_about = "Runs every policy (or those named with --policy) in keyset batches: each batch \
selects the next keys, writes them while repeating the expiry test, and records an audit entry, \
all in one transaction. Delete policies run children first. Before writing, a policy that would \
touch more than max_fraction of its table or more than max_rows stops the run (exit 3).\n\n\
With --dry-run the same batches are selected on a read-only connection and nothing is written.",
        after_help = "Examples:\n  retentiond run --dry-run\n  retentiond run --policy support-messages\n  \
retentiond run --force    # past a safety stop you have checked"
    )]
    Run {
        /// Walk the batches on a read-only connection; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Only this policy (repeatable).
        #[arg(long = "policy", value_name = "NAME")]
        policies: Vec<String>,
        /// Proceed although a policy exceeds max_fraction or max_rows (once).
        #[arg(long)]
        force: bool,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },

    /// Run on the configured schedule and e-mail a summary after each run.
    #[command(
        long_about = "Runs as a service: waits for [schedule] cron (in its time zone), runs every \
policy, and e-mails a summary to the [report] addresses (queued in the outbox and retried when \
mail is down). Runs never overlap. A run missed while the daemon was down is made up once at \
start. SIGTERM or SIGINT finishes the current batch, records the run as interrupted and exits 0. \
Under systemd (Type=notify) it reports READY, STATUS and watchdog pings; with [http] listen it \
serves /healthz and /metrics.",
        after_help = "Examples:\n  retentiond daemon\n  retentiond daemon --once    # from a systemd timer or a Kubernetes CronJob"
    )]
    Daemon {
        /// Run once now and exit (exit code as for `run`).
        #[arg(long)]
        once: bool,
    },

    /// Inspect the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),

    /// Print the retention statement for your privacy statement and GDPR art. 30 register.
    #[command(
        long_about = "Renders, from the policies in the config (no database needed), the table for a \
privacy statement: per kind of data, where it is, how long it is kept, from which moment, what \
happens then and why (the policy's basis), followed by the entries for the record of processing \
activities (GDPR art. 30(1)(f)). Pseudonymising transforms (hash, truncate_ip) are labelled as \
such. A policy's optional `category` and `from` keys give the wording for the data and the \
starting moment; without them the policy name and the clock column are shown.",
        after_help = "Examples:\n  retentiond report\n  retentiond report --lang nl --format html > bewaartermijnen.html"
    )]
    Report {
        /// markdown or html.
        #[arg(long, value_enum, default_value_t = crate::statement::Format::Markdown)]
        format: crate::statement::Format,
        /// Language of the fixed text: en or nl (what the config says stays as written).
        #[arg(long, value_enum, default_value_t = crate::statement::Lang::En)]
        lang: crate::statement::Lang,
    },

    /// Erasure request (GDPR art. 17): erase one data subject now, except what the law keeps.
    #[command(
        long_about = "For one data subject (the key the policies' `subject` links hold, e.g. a customer \
id), applies now every policy's action, whatever its clock says: rows are deleted or anonymized \
in audited batches, children first, as in a run. A policy with kept_for (legal_obligation: \
invoices; legal_claims: proof of accepted terms) keeps the subject's rows as they are until its \
period runs out; kept_for = \"suppression\" applies the action and keeps the row (a do-not-mail \
entry). Held records stay. Prints the answer the controller owes the data subject, in English or \
Dutch, as Markdown or HTML: what was erased, what was only pseudonymised, what is kept, on which \
ground and until when, when backups lose it ([erase] backup_retention), and the right to \
complain (--output FILE writes it too). The run records a request id; the \
subject's key goes into a ledger for [erase] ledger_retain (default 90 days) so that \
`erase --replay` can erase it again after a backup is restored.",
        after_help = "Examples:\n  retentiond erase --subject 4711 --dry-run\n  \
retentiond erase --subject 4711 --lang nl --format html --output antwoord-4711.html\n  \
retentiond erase --replay    # after restoring a backup"
    )]
    Erase {
        /// The data subject's key, e.g. the customer id.
        #[arg(
            long,
            value_name = "KEY",
            required_unless_present = "replay",
            conflicts_with = "replay"
        )]
        subject: Option<String>,
        /// Count what would happen, in read-only transactions; write nothing.
        #[arg(long, conflicts_with = "replay")]
        dry_run: bool,
        /// Also write the answer to the data subject to this file.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// The answer as Markdown (also fit to read as plain text) or as an HTML page.
        #[arg(long, value_enum, default_value_t = crate::statement::Format::Markdown)]
        format: crate::statement::Format,
        /// Language of the answer: en or nl (the policies' own words as the config gives them).
        #[arg(long, value_enum, default_value_t = crate::statement::Lang::En)]
        lang: crate::statement::Lang,
        /// Erase again every subject in the ledger (run after restoring a backup).
        #[arg(long)]
        replay: bool,
        /// Print JSON instead of the answer.
        #[arg(long)]
        json: bool,
    },

    /// Create or upgrade retentiond's own tables, and nothing else.
    #[command(
        long_about = "Creates or upgrades retentiond's own tables (runs, audit, holds, outbox, \
erasures, migrations; named with [database] table_prefix) and exits. A real run does this \
itself when its account may create tables. Run it once with an administrator's account when \
retentiond's own account may not: MariaDB and MySQL cannot grant privileges on a table before it \
exists, so install first, then grant SELECT, INSERT, UPDATE, DELETE on these tables. Once the \
tables are current, runs issue no DDL.",
        after_help = "Example:\n  RETENTIOND_DATABASE__URL=mysql://admin@db/shop retentiond install"
    )]
    Install,

    /// Legal holds: keep a record, or everything of one data subject, until released.
    #[command(
        subcommand,
        long_about = "A legal hold keeps records that a policy would otherwise delete or anonymize: \
one record (--table and its key), or every record of one data subject (--subject, through the \
policies' `subject` links). Held records are left out of every policy's selection and counted as \
held in plans and summaries. A hold stays in force until it is released; its review date only \
makes it appear in every summary once it has passed."
    )]
    Hold(HoldCommand),

    /// Build a demo shop database (SQLite), plan and run retention on it.
    #[command(
        long_about = "Creates a SQLite database of a small subscription website (customers, \
subscriptions, messages, invoices, payments, marketing consents over 12 years), writes the \
config used (config/demo.toml) beside it, shows the plan, runs it, and shows what changed and \
where the audit trail is. Needs no server. Any earlier demo database in DIR is replaced.",
        after_help = "Example:\n  retentiond demo --dir /tmp/retentiond-demo"
    )]
    Demo {
        /// Where the demo database and its config are written.
        #[arg(long, default_value = "demo")]
        dir: PathBuf,
        /// How many customers to generate.
        #[arg(long, default_value_t = 3000)]
        customers: u32,
    },
}

#[derive(Debug, Subcommand)]
enum HoldCommand {
    /// Put a record or a data subject on hold.
    #[command(
        after_help = "Examples:\n  retentiond hold add --subject 4711 --reason \"tax audit 2026\" --until 2027-06-30\n  \
retentiond hold add --table invoices --key 90210 --reason \"disputed invoice\" --by ann"
    )]
    Add {
        /// The table of the record to hold (one a policy purges).
        #[arg(long, requires = "key")]
        table: Option<String>,
        /// The record's key value; once per key column, in key order.
        #[arg(long = "key", value_name = "VALUE")]
        key: Vec<String>,
        /// The data subject's key (e.g. the customer id) whose records to hold.
        #[arg(long, value_name = "KEY")]
        subject: Option<String>,
        /// Why (shown in `hold list`; not sent in summaries).
        #[arg(long)]
        reason: String,
        /// Review date (YYYY-MM-DD): from then on every summary lists the hold.
        #[arg(long, value_name = "DATE")]
        until: Option<chrono::NaiveDate>,
        /// Who sets the hold (default: the login name).
        #[arg(long)]
        by: Option<String>,
    },
    /// List the holds in force.
    #[command(
        after_help = "Examples:\n  retentiond hold list\n  retentiond hold list --all --json   # released ones too, for scripts"
    )]
    List {
        /// Include released holds.
        #[arg(long)]
        all: bool,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Release a hold: the next run treats its records like any other.
    #[command(
        after_help = "Example:\n  retentiond hold release 3   # the id shown by `hold list`; the row stays, marked released"
    )]
    Release {
        /// The hold's id, from `hold list`.
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check the audit trail's hash chain; exits 1 if an entry was edited, inserted or removed.
    #[command(after_help = "Example:\n  retentiond audit verify")]
    Verify,
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
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::FAILED);
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {}", describe(&e));
            ExitCode::from(exit_code(&e))
        }
    }
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

fn exit_code(e: &anyhow::Error) -> u8 {
    if let Some(e) = e.downcast_ref::<EngineError>() {
        return e.exit_code() as u8;
    }
    if e.downcast_ref::<config::ConfigError>().is_some() {
        return exit::USAGE;
    }
    exit::FAILED
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

async fn dispatch(cli: Cli) -> anyhow::Result<u8> {
    let load = || {
        Config::load(&cli.config).inspect(|c| {
            for w in &c.warnings {
                tracing::warn!("{w}");
            }
            if c.review.required {
                tracing::warn!("{}", config::NOT_LEGAL_ADVICE);
            }
        })
    };
    match cli.command {
        Command::Check { coverage, strict } => {
            let engine = Engine::prepare(load()?, Access::ReadOnly).await?;
            // check answers for a real run: a grant only it needs is as missing as any other.
            if !engine.write_denied.is_empty() {
                return Err(crate::engine::EngineError::Check(engine.write_denied).into());
            }
            output::print_check(&engine);
            let findings = if coverage {
                let findings = engine.coverage().await?;
                output::print_coverage(&findings);
                findings
            } else {
                Vec::new()
            };
            engine.db.close().await;
            if strict && !findings.is_empty() {
                return Err(crate::engine::EngineError::Usage(format!(
                    "--strict: {} column(s) of personal data are not covered by any policy",
                    findings.len()
                ))
                .into());
            }
            Ok(exit::OK)
        }
        Command::Plan { json, policies } => {
            let engine = Engine::prepare(load()?, Access::ReadOnly).await?;
            warn_write_denied(&engine);
            let opts = RunOptions {
                policies,
                now: test_now()?,
                ..RunOptions::default()
            };
            let plan = engine.plan(&opts).await?;
            if json {
                crate::out!("{}", serde_json::to_string_pretty(&plan)?);
            } else {
                output::print_plan(&plan);
            }
            engine.db.close().await;
            Ok(exit::OK)
        }
        Command::Run {
            dry_run,
            policies,
            force,
            json,
        } => {
            let access = if dry_run {
                Access::ReadOnly
            } else {
                Access::ReadWrite
            };
            let engine = Engine::prepare(load()?, access).await?;
            warn_write_denied(&engine);
            let (stop, _) = crate::daemon::install_signals()?;
            let opts = RunOptions {
                dry_run,
                policies,
                force,
                now: test_now()?,
                stop: Some(stop),
                slot_start: None,
            };
            let report = engine.run(&opts).await;
            engine.db.close().await;
            let report = report?;
            if json {
                crate::out!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                output::print_run(&report);
            }
            let finished = report.status == "ok" || report.status == crate::engine::INTERRUPTED;
            Ok(if finished { exit::OK } else { exit::FAILED })
        }
        Command::Audit(AuditCommand::Verify) => {
            let config = load()?;
            let db =
                crate::db::Db::connect(&config.database, &config.run, Access::ReadOnly).await?;
            let store = Store::new(&db, &config.database.table_prefix);
            let schema = crate::db::schema::Schema::load(&db).await?;
            if !store.installed(&schema) {
                crate::out!(
                    "No audit trail yet: retentiond has not run on {}.",
                    db.display_url
                );
                return Ok(exit::OK);
            }
            let v = store.verify_audit().await?;
            db.close().await;
            Ok(output::print_verification(&v, &store.table("audit")))
        }
        Command::Hold(command) => hold(load()?, command).await,
        Command::Erase {
            subject,
            dry_run,
            output: answer_file,
            format,
            lang,
            replay,
            json,
        } => {
            let access = if dry_run {
                Access::ReadOnly
            } else {
                Access::ReadWrite
            };
            let engine = Engine::prepare(load()?, access).await?;
            warn_write_denied(&engine);
            let (stop, _) = crate::daemon::install_signals()?;
            let opts = RunOptions {
                stop: Some(stop),
                now: test_now()?,
                ..RunOptions::default()
            };
            let reports = match (replay, subject) {
                (true, _) => engine.replay_erasures(&opts).await,
                (false, Some(subject)) => engine
                    .erase(&subject, dry_run, None, &opts)
                    .await
                    .map(|r| vec![r]),
                (false, None) => Err(crate::engine::EngineError::Usage(
                    "give --subject KEY, or --replay".into(),
                )),
            };
            engine.db.close().await;
            let reports = reports?;
            if json {
                crate::out!("{}", serde_json::to_string_pretty(&reports)?);
            } else if replay {
                output::print_replay(&reports);
            } else {
                for r in &reports {
                    crate::out!("{}", crate::answer::render(r, &engine.config, format, lang));
                }
            }
            if let (Some(path), Some(r)) = (answer_file, reports.first()) {
                std::fs::write(
                    &path,
                    crate::answer::render(r, &engine.config, format, lang),
                )
                .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
            }
            Ok(exit::OK)
        }
        Command::Report { format, lang } => {
            crate::out!("{}", crate::statement::render(&load()?, format, lang));
            Ok(exit::OK)
        }
        Command::Install => {
            let config = load()?;
            let db =
                crate::db::Db::connect(&config.database, &config.run, Access::ReadWrite).await?;
            Store::new(&db, &config.database.table_prefix)
                .migrate()
                .await?;
            db.close().await;
            crate::out!(
                "retentiond's own tables ({}*) are installed and current on {}.",
                config.database.table_prefix,
                db.display_url
            );
            Ok(exit::OK)
        }
        Command::Daemon { once } => crate::daemon::run(load()?, once).await,
        Command::Demo { dir, customers } => crate::demo::run(&dir, customers).await,
    }
}

/// A read-only command goes ahead without the grants only a real run needs, and says which
/// those are.
fn warn_write_denied(engine: &Engine) {
    for issue in &engine.write_denied {
        tracing::warn!("{issue}; a real run needs this grant");
    }
}

async fn hold(config: Config, command: HoldCommand) -> anyhow::Result<u8> {
    let prefix = config.database.table_prefix.clone();
    match command {
        HoldCommand::Add {
            table,
            key,
            subject,
            reason,
            until,
            by,
        } => {
            let engine = Engine::prepare(config, Access::ReadWrite).await?;
            let scope = engine.hold_scope(table.as_deref(), &key, subject.as_deref())?;
            if reason.trim().is_empty() {
                return Err(crate::engine::EngineError::Usage("--reason is empty".into()).into());
            }
            let set_by = by
                .or_else(|| std::env::var("SUDO_USER").ok())
                .or_else(|| std::env::var("USER").ok())
                .unwrap_or_else(|| "unknown".into());
            let store = Store::new(&engine.db, &prefix);
            store.migrate().await?;
            let hold = crate::store::holds::NewHold {
                scope,
                reason,
                set_by,
                review_at: until
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map(|t| t.and_utc()),
            };
            let id = store.add_hold(&hold).await?;
            engine.db.close().await;
            output::print_hold_added(id, &hold);
            Ok(exit::OK)
        }
        HoldCommand::List { all, json } => {
            let db =
                crate::db::Db::connect(&config.database, &config.run, Access::ReadOnly).await?;
            let store = Store::new(&db, &prefix);
            let schema = crate::db::schema::Schema::load(&db).await?;
            let holds = if schema.table(&format!("{prefix}holds")).is_some() {
                store.holds(all).await?
            } else {
                Vec::new()
            };
            db.close().await;
            if json {
                crate::out!("{}", serde_json::to_string_pretty(&holds)?);
            } else {
                output::print_holds(&holds, chrono::Utc::now());
            }
            Ok(exit::OK)
        }
        HoldCommand::Release { id } => {
            let db =
                crate::db::Db::connect(&config.database, &config.run, Access::ReadWrite).await?;
            let store = Store::new(&db, &prefix);
            store.migrate().await?;
            let released = store.release_hold(id).await?;
            db.close().await;
            if !released {
                return Err(crate::engine::EngineError::Usage(format!(
                    "no hold {id} is in force (see `retentiond hold list --all`)"
                ))
                .into());
            }
            crate::out!("Hold {id} released: the next run treats its records like any other.");
            Ok(exit::OK)
        }
    }
}

pub use output::{print_plan as output_plan, print_run as output_run, table as output_table};
