//! The one configuration loader: a TOML file, overridden by `RETENTIOND_SECTION__KEY`
//! environment variables, checked as a whole so that every mistake is reported at once with its
//! path (`policies[2].retain: ...`). Nothing here touches a database.

pub mod budget;
mod period;
mod raw;
mod suggest;
mod tree;

pub use budget::WriteBudget;
pub use period::{Period, PeriodError, earliest_instant, parse_duration};

use chrono_tz::Tz;
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the config is looked for when `--config` is not given.
pub const DEFAULT_PATH: &str = crate::defaults::CONFIG_PATH;

/// One mistake in the configuration, with the key it is about and where that key was set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// "line 12, column 1" of the file, or the environment variable that set the key.
    pub place: Option<String>,
    pub path: String,
    pub message: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(place) = &self.place {
            write!(f, "{place}: ")?;
        }
        write!(f, "{}: {}", self.path, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}{}", read_hint(source))]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error(
        "config file {path} has {} problem{}:\n{}",
        issues.len(),
        if issues.len() == 1 { "" } else { "s" },
        render_issues(issues)
    )]
    Invalid { path: PathBuf, issues: Vec<Issue> },
}

/// A config file that is not there: how to name one, and how to try retentiond without.
fn read_hint(e: &std::io::Error) -> &'static str {
    if e.kind() == std::io::ErrorKind::NotFound {
        "\n  name the config file with --config PATH (or RETENTIOND_CONFIG=PATH);\n  \
         to try retentiond first, `retentiond demo` runs it on a sample database"
    } else {
        ""
    }
}

fn render_issues(issues: &[Issue]) -> String {
    issues
        .iter()
        .map(|i| format!("  - {i}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A value that must never be printed: database URLs with passwords, keys.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub database: DatabaseConfig,
    pub run: RunConfig,
    /// The HMAC key for the `hash` transform, when a policy needs one.
    pub hash_key: Option<Secret>,
    pub policies: Vec<Policy>,
    /// When the daemon runs; `None` when the config has no `[schedule]`.
    pub schedule: Option<crate::schedule::Schedule>,
    /// Where summaries go; `None` when the config has no `[report]`.
    pub report: Option<ReportConfig>,
    /// Address of the optional /healthz and /metrics listener.
    pub http_listen: Option<std::net::SocketAddr>,
    /// SHA-256 of the config file, recorded with every run.
    pub fingerprint: String,
    /// Things worth fixing that do not stop a run (logged at start).
    pub warnings: Vec<String>,
    /// The sign-off a preset asks for before it may write.
    pub review: Review,
    /// How long erased subjects stay in the ledger that `erase --replay` re-applies after a
    /// restore: longer than the oldest backup is kept.
    pub ledger_retain: Period,
    /// A copy of the ledger outside the database (JSON lines), which a restore of the
    /// database cannot roll back.
    pub ledger_file: Option<PathBuf>,
    /// How long the oldest backup is kept (`[erase] backup_retention`): the erasure answer
    /// says when erased data is gone from backups too.
    pub backup_retention: Option<Period>,
    /// `[replica] url`: the MariaDB/MySQL replica whose lag `run.max_replica_lag` limits.
    pub replica: Option<Secret>,
    /// `[archive]`: where `action = "archive"` moves rows, a database of its own.
    pub archive: Option<DatabaseConfig>,
    /// Which database `database` is: the live one, or (in the config `for_archive` makes) the
    /// archive, whose policies are those with `database = "archive"`.
    pub side: Side,
}

/// The database a policy's table is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    #[default]
    Live,
    Archive,
}

impl Config {
    /// The config the archive's own policies run under: the archive as the database, the
    /// policies with `database = "archive"`; `None` when there are none.
    pub fn for_archive(&self) -> Option<Config> {
        let archive = self.archive.clone()?;
        if self.side != Side::Live || !self.policies.iter().any(|p| p.database == Side::Archive) {
            return None;
        }
        Some(Config {
            database: archive,
            archive: None,
            side: Side::Archive,
            replica: None,
            ..self.clone()
        })
    }

    /// The policies whose tables are in `database` (see `side`).
    pub fn policies_here(&self) -> impl Iterator<Item = (usize, &Policy)> {
        self.policies
            .iter()
            .enumerate()
            .filter(|(_, p)| p.database == self.side)
    }
}

/// Printed by every command on a config that asks for a review (a preset).
pub const NOT_LEGAL_ADVICE: &str = "Not legal advice. These retention rules are a starting point compiled from \
public sources; they are not a legal opinion and may be incomplete or out of date for your business, \
contracts, VAT position or open disputes. Review every rule, record your reasons (GDPR art. 5(2)), \
ask a lawyer, tax adviser or privacy officer when in doubt, and run `plan` and `run --dry-run` first: \
deletion cannot be undone.";

/// `[review]`: a preset's rules are a starting point, not advice; a real run needs someone to
/// have read them and said so.
#[derive(Debug, Clone, Default)]
pub struct Review {
    pub required: bool,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<chrono::NaiveDate>,
}

impl Review {
    /// Why a real run may not go ahead yet, if it may not.
    pub fn missing(&self) -> Option<String> {
        (self.required && (self.reviewed_by.is_none() || self.reviewed_at.is_none())).then(|| {
            "this config asks for a review before it may change data: read every rule, then set \
             [review] reviewed_by = \"your name\" and reviewed_at = \"YYYY-MM-DD\" \
             (plan and run --dry-run work without)"
                .to_string()
        })
    }
}

/// A policy's own words for the retention statement in another language.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wording {
    pub category: Option<String>,
    pub from: Option<String>,
    /// The moment the period starts when a related clock has no related rows (`otherwise`).
    pub from_otherwise: Option<String>,
    pub basis: Option<String>,
}

/// Why `erase` keeps a policy's rows (`kept_for`): the exceptions of GDPR art. 17(3) an
/// erasure answer has to name, and the do-not-mail list that honours an objection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeptFor {
    /// A law requires keeping them (tax records): art. 17(3)(b).
    LegalObligation,
    /// Evidence to establish or defend legal claims (proof of accepted terms): art. 17(3)(e).
    LegalClaims,
    /// A do-not-mail entry that keeps an address off future mailings.
    Suppression,
}

impl KeptFor {
    pub const ALL: [(&'static str, KeptFor); 3] = [
        ("legal_obligation", KeptFor::LegalObligation),
        ("legal_claims", KeptFor::LegalClaims),
        ("suppression", KeptFor::Suppression),
    ];
}

/// How sure the rule's author is of its period: shown by `check` so that weak rules get read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn name(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub url: Secret,
    pub timezone: Tz,
    pub table_prefix: String,
    /// PostgreSQL schema holding the application's tables (default: the connection's
    /// `current_schema()`).
    pub schema: Option<String>,
}

impl DatabaseConfig {
    /// The URL with any password replaced, fit for logs and errors.
    pub fn display_url(&self) -> String {
        redact_url(self.url.expose())
    }
}

/// `scheme://user:pass@host/db` → `scheme://user:***@host/db`, whatever the password holds:
/// an unencoded `/`, `@`, `?` or `#` in it must not move the cut, so nothing before the last
/// `@` is shown but a user name of plain characters, and the query (which may carry a
/// password) is dropped. A text that is not `scheme://...` shows only its scheme.
pub fn redact_url(url: &str) -> String {
    let plain = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'))
    };
    let Some((scheme, rest)) = url.split_once("://").filter(|(scheme, _)| plain(scheme)) else {
        return match url.split_once(':') {
            Some((scheme, _)) if plain(scheme) => format!("{scheme}:***"),
            _ => "***".to_string(),
        };
    };
    let without_query = |s: &str| s.split(['?', '#']).next().unwrap_or_default().to_string();
    match rest.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            let host = without_query(host);
            if plain(user) {
                format!("{scheme}://{user}:***@{host}")
            } else {
                format!("{scheme}://***@{host}")
            }
        }
        None => format!("{scheme}://{}", without_query(rest)),
    }
}

#[derive(Debug, Clone)]
pub struct ReportConfig {
    pub to: Vec<String>,
    pub from: String,
    pub transport: MailTransport,
    pub user: Option<String>,
    pub password: Option<Secret>,
    pub on: ReportOn,
    /// Undelivered summaries kept for retry; beyond this the oldest are dropped.
    pub outbox_max: u32,
    /// The language of the summary (and a language the retention statement must have).
    pub language: crate::text::Lang,
}

#[derive(Debug, Clone)]
pub enum MailTransport {
    /// An SMTP URL as lettre reads it: smtp://host:25, smtp://host:587?tls=required (STARTTLS),
    /// smtps://host:465 (implicit TLS).
    Smtp(Secret),
    /// Writes each message as an .eml file into this directory.
    File(PathBuf),
}

/// Which runs are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportOn {
    Always,
    /// Runs that changed rows, stopped early or failed.
    Changes,
    /// Runs that failed or stopped early.
    Errors,
}

#[derive(Debug, Clone)]
pub struct RunConfig {
    pub batch_size: u32,
    /// Adapt the batch size (up to `batch_size`) so that a batch takes about this long.
    pub batch_target: Option<Duration>,
    pub pause: Duration,
    /// An extra pause of this many times the last batch's duration (pt-archiver's sleep-coef).
    pub pause_factor: f64,
    pub max_fraction: f64,
    pub max_rows: Option<u64>,
    pub lock_timeout: Duration,
    pub statement_timeout: Duration,
    pub max_runtime: Option<Duration>,
    /// Server writes per second a purge may cause (see `engine::pacing`).
    pub write_budget: WriteBudget,
    /// Between batches, wait while a replica is further behind than this.
    pub max_replica_lag: Option<Duration>,
    /// A cutoff further than this past the previous run's stops the run (a clock set ahead
    /// must not wipe a table); `--force` overrides.
    pub max_clock_jump: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub name: String,
    pub table: String,
    /// The key columns as configured; `None` means the table's primary key.
    pub key: Option<Vec<String>>,
    pub clock: Clock,
    pub retain: Period,
    pub round: Rounding,
    pub filter: Option<String>,
    pub action: Action,
    pub basis: String,
    pub batch_size: u32,
    pub max_fraction: f64,
    pub max_rows: Option<u64>,
    pub allow_cascade: bool,
    /// How this table's rows belong to a data subject: a hold on the subject keeps them.
    pub subject: Option<SubjectLink>,
    /// On what ground an erasure request leaves this policy's rows of the subject as they are
    /// (`kept_for`): `erase` then says why and until when; `None` applies the action now.
    pub kept_for: Option<KeptFor>,
    /// Dutch wording of category, from and basis for `report --lang nl`.
    pub nl: Option<Wording>,
    /// Where the table is: live, or in the archive (`database = "archive"`), where the rows
    /// an archive policy moved keep their own retention.
    pub database: Side,
    /// How well the period is founded (presets say; `check` lists the low ones).
    pub confidence: Option<Confidence>,
    /// For the retention statement: what kind of data this is ("Support e-mail").
    pub category: Option<String>,
    /// For the retention statement: the moment the period starts, in words ("the end of the
    /// customer's last subscription").
    pub from: Option<String>,
    /// For the retention statement: the starting moment when a related clock falls back to
    /// its `otherwise` column ("the day they wrote").
    pub from_otherwise: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clock {
    /// A column of the policy's own table.
    Column {
        name: String,
        /// For a column of epoch numbers: their unit.
        unit: Option<EpochUnit>,
    },
    /// The latest value of a column of related rows; not started while any is NULL.
    Related {
        table: String,
        column: String,
        /// For a related column of epoch numbers: their unit.
        unit: Option<EpochUnit>,
        /// (column of the policy's table, column of the related table)
        matches: Vec<(String, String)>,
        /// Column of the policy's table used when there are no related rows.
        otherwise: Option<String>,
    },
}

/// Epoch numbers of 10^11 and more are after the year 5000 as seconds; below it they are
/// before 1973-03-03 as milliseconds. No application's records are either.
pub const EPOCH_SPLIT: i64 = 100_000_000_000;

/// What an epoch number counts since 1970-01-01 00:00 UTC. Nothing in the data says which
/// (1 700 000 000 is 2023 in seconds and 1970 in milliseconds), so the policy does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpochUnit {
    Seconds,
    Milliseconds,
}

impl EpochUnit {
    pub const ALL: [(&'static str, EpochUnit); 2] = [
        ("unix_seconds", EpochUnit::Seconds),
        ("unix_milliseconds", EpochUnit::Milliseconds),
    ];

    pub fn name(self) -> &'static str {
        match self {
            EpochUnit::Seconds => "unix_seconds",
            EpochUnit::Milliseconds => "unix_milliseconds",
        }
    }

    /// Units per second.
    pub fn per_second(self) -> i64 {
        match self {
            EpochUnit::Seconds => 1,
            EpochUnit::Milliseconds => 1_000,
        }
    }
}

/// The data subject (e.g. the customer) a row belongs to, as the subject's key value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectLink {
    /// A column of the policy's own table (`subject = "customer_id"`).
    Column(String),
    /// A column of the related row found through `matches`
    /// (`subject = { table = "invoices", column = "customer_id", match = { invoice_id = "id" } }`).
    Related {
        table: String,
        column: String,
        /// (column of the policy's table, column of the related table)
        matches: Vec<(String, String)>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    None,
    EndOfYear,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Delete,
    Anonymize(Vec<(String, Transform)>),
    /// Copy the rows to the archive database, verify the copies, then delete them live.
    Archive,
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Delete => "delete",
            Action::Anonymize(_) => "anonymize",
            Action::Archive => "archive",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    Null,
    Redact,
    Hash,
    TruncateIp,
    YearOnly,
    MonthOnly,
    EmailDomain,
}

impl Transform {
    pub const ALL: [(&'static str, Transform); 7] = [
        ("null", Transform::Null),
        ("redact", Transform::Redact),
        ("hash", Transform::Hash),
        ("truncate_ip", Transform::TruncateIp),
        ("year_only", Transform::YearOnly),
        ("month_only", Transform::MonthOnly),
        ("email_domain", Transform::EmailDomain),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, t)| *t == self)
            .map_or("?", |(n, _)| n)
    }

    /// `hash` and `truncate_ip` keep a link to the person: pseudonymization, still personal
    /// data (GDPR recital 26). The others erase.
    pub fn is_pseudonymization(self) -> bool {
        matches!(self, Transform::Hash | Transform::TruncateIp)
    }
}

impl Config {
    /// Loads `path`, applies `RETENTIOND_*` environment overrides and validates everything.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        Self::build(path, &read_file(path)?, std::env::vars(), Secrets::Required)
    }

    /// Loads `path` as `load` does, but without reading or requiring any secret (HMAC key,
    /// passwords, database URL file): for documents rendered from the policies alone.
    pub fn load_without_secrets(path: &Path) -> Result<Config, ConfigError> {
        Self::build(path, &read_file(path)?, std::env::vars(), Secrets::Skipped)
    }

    /// Builds the config from TOML text and an environment, so tests need not touch the
    /// process environment.
    pub fn from_toml(
        path: &Path,
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        Self::build(path, text, env, Secrets::Required)
    }

    fn build(
        path: &Path,
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
        secrets: Secrets,
    ) -> Result<Config, ConfigError> {
        let raw = raw::parse(text, env).map_err(|message| ConfigError::Syntax {
            path: path.to_path_buf(),
            message,
        })?;
        let raw = match secrets {
            Secrets::Required => raw,
            Secrets::Skipped => raw.without_secrets(),
        };
        let fingerprint = hex::encode(Sha256::digest(text.as_bytes()));
        raw.validate(path, fingerprint)
            .map_err(|issues| ConfigError::Invalid {
                path: path.to_path_buf(),
                issues,
            })
    }
}

#[derive(Clone, Copy)]
enum Secrets {
    Required,
    Skipped,
}

fn read_file(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_in_urls() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/shop?sslmode=require"),
            "postgres://app:***@db:5432/shop"
        );
        assert_eq!(redact_url("sqlite://demo/shop.db"), "sqlite://demo/shop.db");
        assert_eq!(
            redact_url("postgres://bob:pa/ss@db:5432/shop"),
            "postgres://bob:***@db:5432/shop"
        );
        assert_eq!(
            redact_url("mysql://bob:p@ss:w?rd#1%@db/shop"),
            "mysql://bob:***@db/shop"
        );
        assert_eq!(
            redact_url("postgres://db/shop?password=x@y"),
            "postgres://***@y"
        );
        assert_eq!(redact_url("postgres:bob:secret@db"), "postgres:***");
        assert_eq!(redact_url("bob:secret"), "bob:***");
        assert_eq!(redact_url("b/ob:secret"), "***");
    }
}
