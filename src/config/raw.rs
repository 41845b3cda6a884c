//! The file as written, before validation. Scalars that need parsing (periods, durations,
//! zones) stay strings here so that validation can report all of them at once.

use super::tree::{self, NameOr, Places, Step};
use super::{
    Action, Clock, Confidence, Config, DatabaseConfig, EpochUnit, Issue, KeptFor, Period, Policy,
    Review, Rounding, RunConfig, Secret, Side, SubjectLink, Transform, Wording, WriteBudget,
    parse_duration,
};
use crate::defaults;
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    database: Option<RawDatabase>,
    #[serde(default)]
    run: RawRun,
    #[serde(default)]
    hash: RawHash,
    #[serde(default)]
    policies: Vec<RawPolicy>,
    schedule: Option<RawSchedule>,
    report: Option<RawReport>,
    http: Option<RawHttp>,
    review: Option<RawReview>,
    erase: Option<RawErase>,
    replica: Option<RawReplica>,
    archive: Option<RawDatabase>,
    /// What reading found wrong, and where each key was set.
    #[serde(skip)]
    read: Read,
    /// Set by `without_secrets`: a hash policy then needs no key.
    #[serde(skip)]
    keyless: bool,
}

#[derive(Debug, Default)]
struct Read {
    issues: Vec<Issue>,
    places: Places,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawErase {
    ledger_retain: Option<String>,
    ledger_file: Option<String>,
    backup_retention: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReplica {
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReview {
    required: Option<bool>,
    reviewed_by: Option<String>,
    reviewed_at: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchedule {
    cron: Option<String>,
    timezone: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReport {
    to: Option<Vec<String>>,
    from: Option<String>,
    smtp_url: Option<String>,
    user: Option<String>,
    password: Option<String>,
    password_file: Option<String>,
    on: Option<String>,
    outbox_max: Option<i64>,
    language: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttp {
    listen: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    url: Option<String>,
    url_file: Option<String>,
    timezone: Option<String>,
    table_prefix: Option<String>,
    schema: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRun {
    batch_size: Option<i64>,
    batch_target: Option<String>,
    pause: Option<String>,
    pause_factor: Option<f64>,
    max_fraction: Option<f64>,
    max_rows: Option<i64>,
    lock_timeout: Option<String>,
    statement_timeout: Option<String>,
    max_runtime: Option<String>,
    max_clock_jump: Option<String>,
    write_budget: Option<String>,
    max_replica_lag: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHash {
    key: Option<String>,
    key_file: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    name: Option<String>,
    table: Option<String>,
    key: Option<OneOrMany>,
    since: Option<RawClock>,
    retain: Option<String>,
    round: Option<String>,
    filter: Option<String>,
    action: Option<String>,
    columns: Option<BTreeMap<String, String>>,
    basis: Option<String>,
    batch_size: Option<i64>,
    max_fraction: Option<f64>,
    max_rows: Option<i64>,
    allow_cascade: Option<bool>,
    subject: Option<RawSubject>,
    category: Option<String>,
    from: Option<String>,
    from_otherwise: Option<String>,
    confidence: Option<String>,
    nl: Option<RawWording>,
    kept_for: Option<String>,
    database: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWording {
    category: Option<String>,
    from: Option<String>,
    from_otherwise: Option<String>,
    basis: Option<String>,
}

#[derive(Debug)]
enum RawSubject {
    Column(String),
    Related(RawSubjectRelated),
}

impl<'de> Deserialize<'de> for RawSubject {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(
            match tree::name_or_table(
                d,
                "a column name such as \"customer_id\", or a table { table = ..., column = ..., match = { ... } }",
            )? {
                NameOr::Name(c) => RawSubject::Column(c),
                NameOr::Table(r) => RawSubject::Related(r),
            },
        )
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSubjectRelated {
    table: Option<String>,
    column: Option<String>,
    #[serde(rename = "match")]
    matches: Option<BTreeMap<String, String>>,
}

#[derive(Debug)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(
            match tree::name_or_list(
                d,
                "a column name such as \"id\", or a list of them such as [\"order_id\", \"line\"]",
            )? {
                NameOr::Name(c) => OneOrMany::One(c),
                NameOr::Table(cs) => OneOrMany::Many(cs),
            },
        )
    }
}

#[derive(Debug)]
enum RawClock {
    Column(String),
    Related(RawRelated),
}

impl<'de> Deserialize<'de> for RawClock {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(
            match tree::name_or_table(
                d,
                "a column name such as \"created_at\", or a table { column = ..., unit = ... } \
                 or { table = ..., column = ..., match = { ... } }",
            )? {
                NameOr::Name(c) => RawClock::Column(c),
                NameOr::Table(r) => RawClock::Related(r),
            },
        )
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRelated {
    table: Option<String>,
    column: Option<String>,
    unit: Option<String>,
    #[serde(rename = "match")]
    matches: Option<BTreeMap<String, String>>,
    otherwise: Option<String>,
}

const ENV_PREFIX: &str = "RETENTIOND";

/// Merges the TOML text with `RETENTIOND_SECTION__KEY` overrides and reads it. A syntax
/// error stops here; unknown keys and values of the wrong type are kept as issues (with their
/// line or variable) for `validate` to report together with its own.
pub(super) fn parse(
    text: &str,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<RawConfig, String> {
    let mut root = tree::parse(text)?;
    let mut issues = Vec::new();
    let report =
        |issues: &mut Vec<Issue>, steps: &[Step], place: Option<String>, message: String| {
            issues.push(Issue {
                place,
                path: tree::path_of(steps),
                message,
            })
        };
    // The secrets may come from the environment or a file of their own, never from the config.
    for (section, key, what, file_key, var) in [
        (
            "hash",
            "key",
            "the HMAC key",
            "hash.key_file",
            "RETENTIOND_HASH__KEY",
        ),
        (
            "report",
            "password",
            "the SMTP password",
            "report.password_file",
            "RETENTIOND_REPORT__PASSWORD",
        ),
    ] {
        let steps = [Step::Key(section.into()), Step::Key(key.into())];
        if let Some(origin) = root.written_in_file(&steps) {
            report(
                &mut issues,
                &steps,
                Some(origin.to_string()),
                format!(
                    "{what} must not be written in the config file; use {file_key} or the environment variable {var}"
                ),
            );
            root.skip(&steps);
        }
    }
    for (var, name, value) in env_overrides(env) {
        let keys: Vec<String> = name
            .to_lowercase()
            .split("__")
            .map(str::to_string)
            .collect();
        // Every value stays the string it was given: read as a number or a boolean, a key or
        // password such as `0012345678901234567890` would silently become another one. The
        // typed keys (batch_size, max_fraction ...) are converted when read.
        let list = keys == ["report", "to"];
        if let Err(e) = root.set_from_env(&var, &keys, &value, list) {
            issues.push(Issue {
                place: Some(var.clone()),
                path: keys.join("."),
                message: e,
            });
        }
    }
    let places = root.places();
    let mut meant = Vec::new();
    // Each attempt that fails leaves out the value it failed on, so the next finds the next
    // mistake; every attempt leaves out one more value, so this ends.
    let mut raw = loop {
        match RawConfig::deserialize(tree::Reader::new(&root)) {
            Ok(raw) => break raw,
            Err(e) => {
                meant.extend(e.meant_path());
                report(
                    &mut issues,
                    e.steps(),
                    e.origin().map(|o| o.to_string()),
                    e.message().to_string(),
                );
                if !root.skip(e.steps()) {
                    return Err(issues
                        .iter()
                        .map(|i| i.to_string())
                        .collect::<Vec<_>>()
                        .join("\n"));
                }
            }
        }
    };
    let mut places = places;
    places.reported = issues.iter().map(|i| i.path.clone()).chain(meant).collect();
    raw.read = Read { issues, places };
    Ok(raw)
}

/// The `RETENTIOND_SECTION__KEY` variables, without the prefix. RETENTIOND_CONFIG and the
/// like are not overrides.
fn env_overrides(
    env: impl IntoIterator<Item = (String, String)>,
) -> impl Iterator<Item = (String, String, String)> {
    let prefix = format!("{ENV_PREFIX}_");
    env.into_iter().filter_map(move |(k, v)| {
        let name = k.strip_prefix(&prefix)?.to_string();
        name.contains("__").then_some((k, name, v))
    })
}

/// Collects issues instead of stopping at the first one; each is placed where its key was
/// set. A key already reported while reading (unknown, or of the wrong type) is not reported
/// again as missing.
struct Issues(Vec<Issue>, Places);

impl Issues {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        let path = path.into();
        if self.1.reported.contains(&path) {
            return;
        }
        self.0.push(Issue {
            place: self.1.of(&path).map(|o| o.to_string()),
            path,
            message: message.into(),
        });
    }

    fn required<T: Clone>(&mut self, value: &Option<T>, path: &str, hint: &str) -> Option<T> {
        if value.is_none() {
            self.add(path, format!("is required ({hint})"));
        }
        value.clone()
    }

    fn identifier(&mut self, value: &str, path: &str) {
        if value.trim().is_empty() {
            self.add(path, "must not be empty");
        } else if value.len() > 64 || value.contains('\0') {
            self.add(path, "is not a possible table or column name");
        }
    }
}

fn read_secret_file(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map(|s| s.trim_end_matches(['\n', '\r']).to_string())
        .map_err(|e| format!("cannot read {path}: {e}"))
}

/// A secret file that every user of the machine can read deserves a warning (container
/// secrets are often mounted that way, so it is not refused).
fn world_readable(path: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o004 != 0)
}

impl RawConfig {
    /// The config as a document needs it (the retention statement): the secrets it names
    /// (key, passwords, the database URL's file) are neither read nor required.
    pub(super) fn without_secrets(mut self) -> Self {
        self.hash = RawHash::default();
        if let Some(db) = &mut self.database
            && (db.url_file.take().is_some() || db.url.is_none())
        {
            db.url = Some("sqlite://statement-needs-no-database.db".into());
        }
        if let Some(a) = &mut self.archive
            && (a.url_file.take().is_some() || a.url.is_none())
        {
            a.url = Some("sqlite://statement-needs-no-archive.db".into());
        }
        if let Some(r) = &mut self.report {
            r.password = None;
            r.password_file = None;
        }
        self.keyless = true;
        self
    }

    pub(super) fn validate(
        mut self,
        path: &Path,
        fingerprint: String,
    ) -> Result<Config, Vec<Issue>> {
        let read = std::mem::take(&mut self.read);
        let mut issues = Issues(read.issues, read.places);
        let mut warnings = Vec::new();

        let database = match &self.database {
            None => {
                issues.add("database", "is required (a [database] section with url)");
                None
            }
            Some(db) => validate_database(db, "database", &mut issues),
        };
        let archive = self
            .archive
            .as_ref()
            .and_then(|a| validate_archive(a, database.as_ref(), &mut issues));
        let run = validate_run(&self.run, &mut issues);
        let replica = validate_pacing(
            database.as_ref(),
            run.as_ref(),
            self.replica.as_ref(),
            &mut issues,
            &mut warnings,
        );
        let hash_key = match (&self.hash.key, &self.hash.key_file) {
            (Some(key), _) => Some(Secret::new(key.clone())),
            (None, Some(file)) => match read_secret_file(file) {
                Ok(key) => {
                    if world_readable(file) {
                        warnings.push(format!(
                            "hash.key_file {file} is readable by every user of this machine; chmod 600 it"
                        ));
                    }
                    Some(Secret::new(key))
                }
                Err(e) => {
                    issues.add("hash.key_file", e);
                    None
                }
            },
            (None, None) => None,
        };
        if let Some(key) = &hash_key {
            if key.expose().len() < 16 {
                issues.add(
                    "hash.key",
                    format!("is too short: use at least 16 bytes of random data; {MAKE_A_KEY}"),
                );
            } else if let Some(why) = placeholder(key.expose()) {
                issues.add(
                    "hash.key",
                    format!("is a placeholder, not a key ({why}); {MAKE_A_KEY}"),
                );
            }
        }

        if self.policies.is_empty() {
            issues.add(
                "policies",
                "no policy is defined; add at least one [[policies]] entry",
            );
        }
        let mut names = HashSet::new();
        let mut policies = Vec::new();
        for (i, raw) in self.policies.iter().enumerate() {
            let at = format!("policies[{i}]");
            if let Some(name) = &raw.name
                && !names.insert(name.clone())
            {
                issues.add(
                    format!("{at}.name"),
                    format!("\"{name}\" is used by another policy"),
                );
            }
            if let Some(p) = validate_policy(raw, &at, run.as_ref(), &mut issues) {
                if p.database == Side::Archive && self.archive.is_none() {
                    issues.add(
                        format!("{at}.database"),
                        "\"archive\" needs an [archive] section naming the archive database",
                    );
                }
                if p.action == Action::Archive && self.archive.is_none() {
                    issues.add(
                        format!("{at}.action"),
                        "\"archive\" needs an [archive] section naming the archive database \
                         (url = \"sqlite:///var/lib/retentiond/archive.db\", or a PostgreSQL or \
                         MariaDB database with its own credentials)",
                    );
                }
                if matches!(&p.action, Action::Anonymize(cols) if cols.iter().any(|(_, t)| *t == Transform::Hash))
                    && hash_key.is_none()
                    && !self.keyless
                {
                    issues.add(
                        format!("{at}.columns"),
                        "uses \"hash\" but no key is configured: set hash.key_file or RETENTIOND_HASH__KEY",
                    );
                }
                policies.push(p);
            }
        }

        let schedule = self
            .schedule
            .as_ref()
            .and_then(|s| validate_schedule(s, &mut issues));
        // Credentials alone (e.g. RETENTIOND_REPORT__PASSWORD_FILE set by a unit file for a
        // config without [report]) do not make a report section.
        let report = self
            .report
            .as_ref()
            .filter(|r| {
                r.to.is_some() || r.from.is_some() || r.smtp_url.is_some() || r.on.is_some()
            })
            .and_then(|r| validate_report(r, &mut issues));
        let http_listen =
            self.http
                .as_ref()
                .and_then(|h| match h.listen.as_deref().map(str::parse) {
                    Some(Ok(addr)) => Some(addr),
                    Some(Err(_)) => {
                        issues.add(
                            "http.listen",
                            "must be an address and port such as \"127.0.0.1:9187\"",
                        );
                        None
                    }
                    None => {
                        issues.add(
                            "http.listen",
                            "is required in [http], e.g. \"127.0.0.1:9187\"",
                        );
                        None
                    }
                });

        let review = match &self.review {
            None => Review::default(),
            Some(r) => Review {
                required: r.required.unwrap_or(false),
                reviewed_by: r.reviewed_by.clone().filter(|s| !s.trim().is_empty()),
                reviewed_at: r.reviewed_at.as_deref().and_then(|d| {
                    match chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d") {
                        Ok(d) => Some(d),
                        Err(_) => {
                            issues.add(
                                "review.reviewed_at",
                                format!("\"{d}\" is not a date; write it as YYYY-MM-DD"),
                            );
                            None
                        }
                    }
                }),
            },
        };

        let ledger_retain = match self
            .erase
            .as_ref()
            .and_then(|e| e.ledger_retain.as_deref())
            .unwrap_or(defaults::LEDGER_RETAIN)
            .parse::<Period>()
        {
            Ok(p) => Some(p),
            Err(e) => {
                issues.add("erase.ledger_retain", format!("{e}"));
                None
            }
        };

        let backup_retention = self
            .erase
            .as_ref()
            .and_then(|e| e.backup_retention.as_deref())
            .and_then(|b| match b.parse::<Period>() {
                Ok(p) => Some(p),
                Err(e) => {
                    issues.add("erase.backup_retention", format!("\"{b}\": {e}"));
                    None
                }
            });

        match (issues.0.is_empty(), database, run, ledger_retain) {
            (true, Some(database), Some(run), Some(ledger_retain)) => Ok(Config {
                path: path.to_path_buf(),
                database,
                run,
                hash_key,
                policies,
                schedule,
                report,
                http_listen,
                fingerprint,
                warnings,
                review,
                ledger_retain,
                ledger_file: self
                    .erase
                    .as_ref()
                    .and_then(|e| e.ledger_file.as_ref())
                    .map(PathBuf::from),
                backup_retention,
                replica,
                archive,
                side: Side::Live,
            }),
            _ => {
                let mut found = issues.0;
                // In the order of the file, then the environment's.
                found.sort_by_key(|i| place_order(i.place.as_deref()));
                Err(found)
            }
        }
    }
}

/// Sorts "line 3, column 1" before "line 12, column 5" before variables and unplaced issues.
fn place_order(place: Option<&str>) -> (u8, usize, usize) {
    let numbers = place.and_then(|p| {
        let (line, column) = p.strip_prefix("line ")?.split_once(", column ")?;
        Some((line.parse().ok()?, column.parse().ok()?))
    });
    match (numbers, place) {
        (Some((line, column)), _) => (0, line, column),
        (None, Some(_)) => (1, 0, 0),
        (None, None) => (2, 0, 0),
    }
}

const MAKE_A_KEY: &str = "make one with `head -c 32 /dev/urandom | base64` and give it as \
                          hash.key_file or RETENTIOND_HASH__KEY";

/// Why `key` is a placeholder rather than random data, if it is: the words examples use
/// ("CHANGE-ME", "placeholder", "replace me") or one character repeated.
fn placeholder(key: &str) -> Option<String> {
    let letters: String = key
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let word = [
        "changeme",
        "changethis",
        "placeholder",
        "replaceme",
        "yourkey",
        "yoursecret",
    ]
    .into_iter()
    .find(|w| letters.contains(w));
    if let Some(w) = word {
        return Some(format!("it contains \"{w}\""));
    }
    let mut chars = key.chars();
    let first = chars.next()?;
    chars
        .all(|c| c == first)
        .then(|| "it is one character repeated".to_string())
}

fn validate_schedule(s: &RawSchedule, issues: &mut Issues) -> Option<crate::schedule::Schedule> {
    let tz = match s
        .timezone
        .as_deref()
        .unwrap_or(defaults::SCHEDULE_TIMEZONE)
        .parse::<chrono_tz::Tz>()
    {
        Ok(tz) => tz,
        Err(_) => {
            issues.add(
                "schedule.timezone",
                "is not an IANA time zone name such as \"UTC\" or \"Europe/Amsterdam\"",
            );
            return None;
        }
    };
    let Some(cron) = &s.cron else {
        issues.add(
            "schedule.cron",
            "is required in [schedule], e.g. \"30 3 * * *\" for 03:30 every day",
        );
        return None;
    };
    match crate::schedule::Schedule::parse(cron, tz) {
        Ok(s) => Some(s),
        Err(e) => {
            issues.add("schedule.cron", e);
            None
        }
    }
}

fn validate_report(r: &RawReport, issues: &mut Issues) -> Option<super::ReportConfig> {
    use super::{MailTransport, ReportOn};
    let to = r.to.clone().unwrap_or_default();
    if to.is_empty() {
        issues.add(
            "report.to",
            "needs at least one address, e.g. [\"privacy@shop.example\"]",
        );
    }
    for (i, addr) in to.iter().enumerate() {
        if addr.parse::<lettre::message::Mailbox>().is_err() {
            issues.add(
                format!("report.to[{i}]"),
                format!("\"{addr}\" is not an e-mail address"),
            );
        }
    }
    let from = r.from.clone().unwrap_or_default();
    if from.parse::<lettre::message::Mailbox>().is_err() {
        issues.add(
            "report.from",
            format!("\"{from}\" is not an e-mail address"),
        );
    }
    let transport = match r.smtp_url.as_deref() {
        None => {
            issues.add(
                "report.smtp_url",
                "is required: smtp://host:587?tls=required, smtps://host:465, smtp://host:25 or file:///directory",
            );
            None
        }
        Some(url) if url.starts_with("file://") => Some(MailTransport::File(
            url.trim_start_matches("file://").into(),
        )),
        Some(url) if url.starts_with("smtp://") || url.starts_with("smtps://") => {
            Some(MailTransport::Smtp(Secret::new(url)))
        }
        Some(url) => {
            issues.add(
                "report.smtp_url",
                format!(
                    "\"{}\" must start with smtp://, smtps:// or file://",
                    super::redact_url(url)
                ),
            );
            None
        }
    };
    let password = match (&r.password, &r.password_file) {
        (Some(p), _) => Some(Secret::new(p.clone())),
        (None, Some(file)) => match read_secret_file(file) {
            Ok(p) => Some(Secret::new(p)),
            Err(e) => {
                issues.add("report.password_file", e);
                None
            }
        },
        (None, None) => None,
    };
    let on = match r.on.as_deref().unwrap_or(defaults::REPORT_ON) {
        "always" => Some(ReportOn::Always),
        "changes" => Some(ReportOn::Changes),
        "errors" => Some(ReportOn::Errors),
        other => {
            issues.add(
                "report.on",
                format!("\"{other}\" is not known; use \"always\", \"changes\" or \"errors\""),
            );
            None
        }
    };
    let language = match r.language.as_deref().unwrap_or(defaults::REPORT_LANGUAGE) {
        "en" => Some(crate::text::Lang::En),
        "nl" => Some(crate::text::Lang::Nl),
        other => {
            issues.add(
                "report.language",
                format!("\"{other}\" is not known; use \"en\" or \"nl\""),
            );
            None
        }
    };
    let outbox_max = match r.outbox_max {
        None => defaults::OUTBOX_MAX,
        Some(n) if (1..=100_000).contains(&n) => n as u32,
        Some(n) => {
            issues.add(
                "report.outbox_max",
                format!("must be between 1 and 100000 (got {n})"),
            );
            return None;
        }
    };
    Some(super::ReportConfig {
        to,
        from,
        transport: transport?,
        user: r.user.clone(),
        password,
        on: on?,
        outbox_max,
        language: language?,
    })
}

/// `[database]`, or `[archive]` (`section`), which has the same keys.
fn validate_database(
    db: &RawDatabase,
    section: &str,
    issues: &mut Issues,
) -> Option<DatabaseConfig> {
    let key = |k: &str| format!("{section}.{k}");
    let url = match (&db.url, &db.url_file) {
        (Some(url), None) => Some(url.clone()),
        // url_file wins: it is how secrets arrive (systemd credentials, container secrets),
        // usually as an environment override of a config that also names a url.
        (_, Some(file)) => match read_secret_file(file) {
            Ok(url) => Some(url),
            Err(e) => {
                issues.add(key("url_file"), e);
                None
            }
        },
        (None, None) => {
            issues.add(
                key("url"),
                format!(
                    "is required (e.g. postgres://user@host/db, mysql://user@host/db or sqlite://path.db), \
                     or set {section}.url_file or RETENTIOND_{}__URL",
                    section.to_ascii_uppercase()
                ),
            );
            None
        }
    };
    if let Some(url) = &url {
        let scheme = url.split("://").next().unwrap_or("");
        if !["postgres", "postgresql", "mysql", "mariadb", "sqlite"].contains(&scheme)
            || !url.contains("://")
        {
            issues.add(
                key("url"),
                format!(
                    "must start with postgres://, mysql:// or sqlite:// (got \"{}\")",
                    super::redact_url(url)
                ),
            );
        }
    }
    let timezone = match db
        .timezone
        .as_deref()
        .unwrap_or(defaults::DATABASE_TIMEZONE)
        .parse::<chrono_tz::Tz>()
    {
        Ok(tz) => Some(tz),
        Err(_) => {
            issues.add(
                key("timezone"),
                format!(
                    "\"{}\" is not an IANA time zone name such as \"UTC\" or \"Europe/Amsterdam\"",
                    db.timezone.as_deref().unwrap_or_default()
                ),
            );
            None
        }
    };
    let table_prefix = db
        .table_prefix
        .clone()
        .unwrap_or_else(|| defaults::TABLE_PREFIX.to_string());
    if table_prefix.is_empty()
        || table_prefix.len() > 30
        || !table_prefix
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        || table_prefix.starts_with(|c: char| c.is_ascii_digit())
    {
        issues.add(
            key("table_prefix"),
            "must be 1 to 30 characters of a-z, 0-9 and _, not starting with a digit",
        );
    }
    if let Some(schema) = &db.schema {
        issues.identifier(schema, &key("schema"));
    }
    Some(DatabaseConfig {
        url: Secret::new(url?),
        timezone: timezone?,
        table_prefix,
        schema: db.schema.clone(),
    })
}

/// `[archive]`: a database of its own, never the live one, read in the live database's time
/// zone unless it says otherwise (the rows keep their wall-clock times).
fn validate_archive(
    raw: &RawDatabase,
    live: Option<&DatabaseConfig>,
    issues: &mut Issues,
) -> Option<DatabaseConfig> {
    let mut archive = validate_database(raw, "archive", issues)?;
    let Some(live) = live else {
        return Some(archive);
    };
    if raw.timezone.is_none() {
        archive.timezone = live.timezone;
    }
    if same_database(archive.url.expose(), live.url.expose()) {
        issues.add(
            "archive.url",
            "names the live database: the archive must be a database of its own (another \
             SQLite file, or another PostgreSQL/MariaDB database with its own account)",
        );
        return None;
    }
    Some(archive)
}

/// Whether two URLs name the same database, ignoring the credentials and options.
fn same_database(a: &str, b: &str) -> bool {
    let place = |url: &str| {
        let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
        let scheme = match scheme {
            "postgresql" => "postgres",
            "mariadb" => "mysql",
            s => s,
        };
        let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
        let rest = rest.split(['?', '#']).next().unwrap_or_default();
        format!("{scheme}://{}", rest.trim_end_matches('/'))
    };
    place(a) == place(b)
}

fn duration_or(
    value: &Option<String>,
    default: &str,
    path: &str,
    issues: &mut Issues,
) -> Option<std::time::Duration> {
    match parse_duration(value.as_deref().unwrap_or(default)) {
        Ok(d) => Some(d),
        Err(e) => {
            issues.add(path, e);
            None
        }
    }
}

const MAX_BATCH: i64 = 100_000;

fn batch_size(value: Option<i64>, path: &str, issues: &mut Issues) -> Option<u32> {
    match value {
        Some(n) if !(1..=MAX_BATCH).contains(&n) => {
            issues.add(path, format!("must be between 1 and {MAX_BATCH} (got {n})"));
            None
        }
        Some(n) => Some(n as u32),
        None => Some(defaults::BATCH_SIZE),
    }
}

fn fraction(value: Option<f64>, default: f64, path: &str, issues: &mut Issues) -> Option<f64> {
    let v = value.unwrap_or(default);
    if v.is_finite() && v > 0.0 && v <= 1.0 {
        Some(v)
    } else {
        issues.add(
            path,
            format!("must be a share above 0 and at most 1, e.g. 0.5 (got {v})"),
        );
        None
    }
}

fn max_rows(
    value: Option<i64>,
    default: Option<u64>,
    path: &str,
    issues: &mut Issues,
) -> Option<Option<u64>> {
    match value {
        Some(n) if n < 1 => {
            issues.add(path, format!("must be at least 1 (got {n})"));
            None
        }
        Some(n) => Some(Some(n as u64)),
        None => Some(default),
    }
}

fn validate_run(run: &RawRun, issues: &mut Issues) -> Option<RunConfig> {
    let batch_size = batch_size(run.batch_size, "run.batch_size", issues);
    let pause = duration_or(&run.pause, defaults::PAUSE, "run.pause", issues);
    let max_fraction = fraction(
        run.max_fraction,
        defaults::MAX_FRACTION,
        "run.max_fraction",
        issues,
    );
    let max_rows = max_rows(run.max_rows, None, "run.max_rows", issues);
    let lock_timeout = duration_or(
        &run.lock_timeout,
        defaults::LOCK_TIMEOUT,
        "run.lock_timeout",
        issues,
    );
    let statement_timeout = duration_or(
        &run.statement_timeout,
        defaults::STATEMENT_TIMEOUT,
        "run.statement_timeout",
        issues,
    );
    let max_runtime = match &run.max_runtime {
        None => Some(None),
        Some(s) => duration_or(&Some(s.clone()), "0s", "run.max_runtime", issues).map(Some),
    };
    let batch_target = match &run.batch_target {
        None => Some(None),
        Some(s) => match duration_or(&Some(s.clone()), "0s", "run.batch_target", issues) {
            Some(d) if d.is_zero() => {
                issues.add(
                    "run.batch_target",
                    "must be longer than zero, e.g. \"50ms\"",
                );
                None
            }
            d => d.map(Some),
        },
    };
    let pause_factor = match run.pause_factor {
        Some(f) if !(f.is_finite() && (0.0..=100.0).contains(&f)) => {
            issues.add(
                "run.pause_factor",
                format!("must be between 0 and 100 (got {f})"),
            );
            None
        }
        f => Some(f.unwrap_or(defaults::PAUSE_FACTOR)),
    };
    let max_clock_jump = match run
        .max_clock_jump
        .as_deref()
        .unwrap_or(defaults::MAX_CLOCK_JUMP)
        .parse::<Period>()
    {
        Ok(p) if p.months == 0 => Some(std::time::Duration::from_secs(
            u64::from(p.days) * 86_400 + p.seconds,
        )),
        Ok(_) => {
            issues.add(
                "run.max_clock_jump",
                "write it in days or weeks, e.g. \"400 days\"",
            );
            None
        }
        Err(e) => {
            issues.add("run.max_clock_jump", format!("{e}"));
            None
        }
    };
    let write_budget = match run
        .write_budget
        .as_deref()
        .unwrap_or(defaults::WRITE_BUDGET)
        .parse::<WriteBudget>()
    {
        Ok(b) => Some(b),
        Err(e) => {
            issues.add("run.write_budget", e);
            None
        }
    };
    let max_replica_lag = match &run.max_replica_lag {
        None => Some(None),
        Some(s) => duration_or(&Some(s.clone()), "0s", "run.max_replica_lag", issues).map(Some),
    };
    Some(RunConfig {
        batch_size: batch_size?,
        batch_target: batch_target?,
        pause: pause?,
        pause_factor: pause_factor?,
        max_fraction: max_fraction?,
        max_rows: max_rows?,
        lock_timeout: lock_timeout?,
        statement_timeout: statement_timeout?,
        max_runtime: max_runtime?,
        max_clock_jump: max_clock_jump?,
        write_budget: write_budget?,
        max_replica_lag: max_replica_lag?,
    })
}

/// The pacing keys against the database they pace: what a dialect cannot measure is refused,
/// never silently skipped.
fn validate_pacing(
    database: Option<&DatabaseConfig>,
    run: Option<&RunConfig>,
    replica: Option<&RawReplica>,
    issues: &mut Issues,
    warnings: &mut Vec<String>,
) -> Option<Secret> {
    let scheme = database.map(|d| d.url.expose().split("://").next().unwrap_or_default());
    let mysql = matches!(scheme, Some("mysql" | "mariadb"));
    let sqlite = scheme == Some("sqlite");
    let url = match replica {
        None => None,
        Some(RawReplica { url: None }) => {
            issues.add(
                "replica.url",
                "is required in [replica], e.g. \"mysql://monitor@replica-host:3306/\"",
            );
            None
        }
        Some(RawReplica { url: Some(url) }) => {
            let replica_scheme = url.split("://").next().unwrap_or_default();
            if !url.contains("://") || !matches!(replica_scheme, "mysql" | "mariadb") {
                issues.add(
                    "replica.url",
                    format!(
                        "must start with mysql:// or mariadb:// (got \"{}\")",
                        super::redact_url(url)
                    ),
                );
            } else if database.is_some() && !mysql {
                issues.add(
                    "replica.url",
                    "is for a MariaDB/MySQL replica; with PostgreSQL, run.max_replica_lag reads \
                     pg_stat_replication on the primary and needs no [replica]",
                );
            }
            Some(Secret::new(url.clone()))
        }
    };
    let Some(run) = run else {
        return url;
    };
    if sqlite && matches!(run.write_budget, WriteBudget::PerSecond(_)) {
        issues.add(
            "run.write_budget",
            "SQLite reports no write volume to pace by; set it to \"off\" (or \"auto\", which is off on SQLite)",
        );
    }
    match (run.max_replica_lag.is_some(), url.is_some()) {
        (true, _) if sqlite => {
            issues.add("run.max_replica_lag", "SQLite has no replicas to wait for");
        }
        (true, false) if mysql => {
            issues.add(
                "run.max_replica_lag",
                "on MariaDB/MySQL needs the replica to ask: set [replica] url",
            );
        }
        (false, true) => warnings.push(
            "[replica] url is set but run.max_replica_lag is not: the replica is not checked"
                .into(),
        ),
        _ => {}
    }
    url
}

fn validate_policy(
    raw: &RawPolicy,
    at: &str,
    run: Option<&RunConfig>,
    issues: &mut Issues,
) -> Option<Policy> {
    let name = issues.required(
        &raw.name,
        &format!("{at}.name"),
        "a short name such as \"support-messages\"",
    );
    if let Some(name) = &name
        && (name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    {
        issues.add(
            format!("{at}.name"),
            "use 1 to 64 characters of a-z, 0-9, - and _",
        );
    }
    let table = issues.required(
        &raw.table,
        &format!("{at}.table"),
        "the table this policy purges",
    );
    if let Some(t) = &table {
        issues.identifier(t, &format!("{at}.table"));
    }
    let key = raw.key.as_ref().map(|k| match k {
        OneOrMany::One(c) => vec![c.clone()],
        OneOrMany::Many(cs) => cs.clone(),
    });
    if let Some(cols) = &key {
        if cols.is_empty() {
            issues.add(format!("{at}.key"), "must name at least one column");
        }
        for (j, c) in cols.iter().enumerate() {
            issues.identifier(c, &format!("{at}.key[{j}]"));
        }
    }
    let clock = match &raw.since {
        None => {
            issues.add(
                format!("{at}.since"),
                "is required: a column (\"issued_at\") or related rows ({ table = ..., column = ..., match = {...} })",
            );
            None
        }
        Some(RawClock::Column(c)) => {
            issues.identifier(c, &format!("{at}.since"));
            Some(Clock::Column {
                name: c.clone(),
                unit: None,
            })
        }
        Some(RawClock::Related(r)) => validate_related(r, &format!("{at}.since"), issues),
    };
    let retain = match &raw.retain {
        None => {
            issues.add(
                format!("{at}.retain"),
                "is required, e.g. \"6 months\" or \"7 years\"",
            );
            None
        }
        Some(s) => match s.parse::<Period>() {
            Ok(p) => Some(p),
            Err(e) => {
                issues.add(format!("{at}.retain"), format!("\"{s}\": {e}"));
                None
            }
        },
    };
    let round = match raw.round.as_deref() {
        None | Some("none") => Some(Rounding::None),
        Some("end_of_year") => Some(Rounding::EndOfYear),
        Some(other) => {
            issues.add(
                format!("{at}.round"),
                format!("\"{other}\" is not known; use \"end_of_year\" or leave it out"),
            );
            None
        }
    };
    if let Some(f) = &raw.filter {
        if f.trim().is_empty() {
            issues.add(format!("{at}.filter"), "is empty; leave it out instead");
        } else if f.contains(';') || f.contains("--") || f.contains("/*") || f.contains("*/") {
            issues.add(
                format!("{at}.filter"),
                "must be one SQL condition: statement separators (;) and comments (--, /* */) are not allowed",
            );
        }
    }
    let action = match raw.action.as_deref() {
        None => {
            issues.add(
                format!("{at}.action"),
                "is required: \"delete\", \"anonymize\" or \"archive\"",
            );
            None
        }
        Some("delete") => {
            if raw.columns.is_some() {
                issues.add(
                    format!("{at}.columns"),
                    "only applies with action = \"anonymize\"",
                );
            }
            Some(Action::Delete)
        }
        Some("anonymize") => {
            validate_columns(raw.columns.as_ref(), &format!("{at}.columns"), issues)
        }
        Some("archive") => {
            if raw.columns.is_some() {
                issues.add(
                    format!("{at}.columns"),
                    "only applies with action = \"anonymize\"",
                );
            }
            Some(Action::Archive)
        }
        Some(other) => {
            issues.add(
                format!("{at}.action"),
                format!("\"{other}\" is not known; use \"delete\", \"anonymize\" or \"archive\""),
            );
            None
        }
    };
    let basis = issues.required(
        &raw.basis,
        &format!("{at}.basis"),
        "the law or reason, shown in reports",
    );
    if basis.as_deref().is_some_and(|b| b.trim().is_empty()) {
        issues.add(
            format!("{at}.basis"),
            "must say why the data is kept this long",
        );
    }
    let batch_size = batch_size(
        raw.batch_size.or(run.map(|r| r.batch_size as i64)),
        &format!("{at}.batch_size"),
        issues,
    );
    let max_fraction = fraction(
        raw.max_fraction,
        run.map_or(defaults::MAX_FRACTION, |r| r.max_fraction),
        &format!("{at}.max_fraction"),
        issues,
    );
    let max_rows = max_rows(
        raw.max_rows,
        run.and_then(|r| r.max_rows),
        &format!("{at}.max_rows"),
        issues,
    );

    let confidence = match raw.confidence.as_deref() {
        None => Some(None),
        Some("high") => Some(Some(Confidence::High)),
        Some("medium") => Some(Some(Confidence::Medium)),
        Some("low") => Some(Some(Confidence::Low)),
        Some(other) => {
            issues.add(
                format!("{at}.confidence"),
                format!("\"{other}\" is not known; use \"high\", \"medium\" or \"low\""),
            );
            None
        }
    };
    let kept_for = match raw.kept_for.as_deref() {
        None => Some(None),
        Some(k) => match KeptFor::ALL.iter().find(|(n, _)| *n == k) {
            Some((_, kept)) => Some(Some(*kept)),
            None => {
                issues.add(
                    format!("{at}.kept_for"),
                    format!(
                        "\"{k}\" is not known; use \"legal_obligation\", \"legal_claims\" or \"suppression\" (or leave it out: erase applies the action)"
                    ),
                );
                None
            }
        },
    };
    let subject = match &raw.subject {
        None => Some(None),
        Some(RawSubject::Column(c)) => {
            issues.identifier(c, &format!("{at}.subject"));
            Some(Some(SubjectLink::Column(c.clone())))
        }
        Some(RawSubject::Related(r)) => {
            validate_subject_related(r, &format!("{at}.subject"), issues).map(Some)
        }
    };

    let database = match raw.database.as_deref() {
        None | Some("live") => Some(Side::Live),
        Some("archive") => Some(Side::Archive),
        Some(other) => {
            issues.add(
                format!("{at}.database"),
                format!("\"{other}\" is not known; use \"live\" (the default) or \"archive\""),
            );
            None
        }
    };
    if raw.allow_cascade == Some(true) && raw.action.as_deref() == Some("archive") {
        issues.add(
            format!("{at}.allow_cascade"),
            "cannot go with action = \"archive\": the rows a cascade deletes would never reach the archive",
        );
    }
    if database == Some(Side::Archive) && raw.action.as_deref() == Some("archive") {
        issues.add(
            format!("{at}.action"),
            "a policy on an archive table deletes or anonymizes there; \"archive\" moves rows out of the live database",
        );
    }

    Some(Policy {
        database: database?,
        name: name?,
        table: table?,
        key,
        clock: clock?,
        retain: retain?,
        round: round?,
        filter: raw.filter.clone(),
        action: action?,
        basis: basis?,
        batch_size: batch_size?,
        max_fraction: max_fraction?,
        max_rows: max_rows?,
        allow_cascade: raw.allow_cascade.unwrap_or(false),
        subject: subject?,
        category: raw.category.clone(),
        from: raw.from.clone(),
        from_otherwise: raw.from_otherwise.clone(),
        confidence: confidence?,
        kept_for: kept_for?,
        nl: raw.nl.as_ref().map(|w| Wording {
            category: w.category.clone(),
            from: w.from.clone(),
            from_otherwise: w.from_otherwise.clone(),
            basis: w.basis.clone(),
        }),
    })
}

fn validate_subject_related(
    r: &RawSubjectRelated,
    at: &str,
    issues: &mut Issues,
) -> Option<SubjectLink> {
    let table = issues.required(
        &r.table,
        &format!("{at}.table"),
        "the table that holds the subject's key, e.g. \"invoices\"",
    );
    let column = issues.required(
        &r.column,
        &format!("{at}.column"),
        "the column of that table holding the subject's key, e.g. \"customer_id\"",
    );
    let matches = matches_of(r.matches.as_ref(), at, issues);
    for (value, path) in [(&table, "table"), (&column, "column")] {
        if let Some(v) = value {
            issues.identifier(v, &format!("{at}.{path}"));
        }
    }
    Some(SubjectLink::Related {
        table: table?,
        column: column?,
        matches,
    })
}

/// `match = { own_column = "their_column", ... }`: required, every name an identifier.
fn matches_of(
    m: Option<&BTreeMap<String, String>>,
    at: &str,
    issues: &mut Issues,
) -> Vec<(String, String)> {
    let matches: Vec<(String, String)> = m
        .map(|m| m.iter().map(|(a, b)| (a.clone(), b.clone())).collect())
        .unwrap_or_default();
    if matches.is_empty() {
        issues.add(
            format!("{at}.match"),
            "is required: which columns link the rows, e.g. match = { customer_id = \"customer_id\" }",
        );
    }
    for (a, b) in &matches {
        issues.identifier(a, &format!("{at}.match"));
        issues.identifier(b, &format!("{at}.match.{a}"));
    }
    matches
}

/// `{ column = "created", unit = "unix_milliseconds" }` is an own column with a unit; with a
/// `table` the clock is related rows.
fn validate_related(r: &RawRelated, at: &str, issues: &mut Issues) -> Option<Clock> {
    let unit = match r.unit.as_deref() {
        None => Ok(None),
        Some(u) => match EpochUnit::ALL.iter().find(|(n, _)| *n == u) {
            Some((_, unit)) => Ok(Some(*unit)),
            None => {
                issues.add(
                    format!("{at}.unit"),
                    format!(
                        "\"{u}\" is not an epoch unit; use \"unix_seconds\" or \"unix_milliseconds\" (leave it out for date and timestamp columns)"
                    ),
                );
                Err(())
            }
        },
    };
    if r.table.is_none() && r.matches.is_none() && r.otherwise.is_none() {
        let column = issues.required(
            &r.column,
            &format!("{at}.column"),
            "the date or epoch column, e.g. \"created\"",
        );
        if let Some(c) = &column {
            issues.identifier(c, &format!("{at}.column"));
        }
        return Some(Clock::Column {
            name: column?,
            unit: unit.ok()?,
        });
    }
    let table = issues.required(
        &r.table,
        &format!("{at}.table"),
        "the related table, e.g. \"subscriptions\"",
    );
    let column = issues.required(
        &r.column,
        &format!("{at}.column"),
        "the related table's date column",
    );
    let matches = matches_of(r.matches.as_ref(), at, issues);
    for (value, path) in [
        (&table, "table"),
        (&column, "column"),
        (&r.otherwise, "otherwise"),
    ] {
        if let Some(v) = value {
            issues.identifier(v, &format!("{at}.{path}"));
        }
    }
    Some(Clock::Related {
        table: table?,
        column: column?,
        unit: unit.ok()?,
        matches,
        otherwise: r.otherwise.clone(),
    })
}

fn validate_columns(
    columns: Option<&BTreeMap<String, String>>,
    at: &str,
    issues: &mut Issues,
) -> Option<Action> {
    let Some(columns) = columns.filter(|c| !c.is_empty()) else {
        issues.add(
            at,
            "anonymize needs at least one column, e.g. columns = { email = \"hash\" }",
        );
        return None;
    };
    let mut out = Vec::new();
    for (column, name) in columns {
        issues.identifier(column, at);
        match Transform::ALL.iter().find(|(n, _)| n == name) {
            Some((_, t)) => out.push((column.clone(), *t)),
            None => issues.add(
                format!("{at}.{column}"),
                format!(
                    "\"{name}\" is not a transform; use one of {}",
                    Transform::ALL
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        }
    }
    (out.len() == columns.len()).then_some(Action::Anonymize(out))
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, ConfigError};
    use std::path::Path;

    const GOOD: &str = r#"
        [database]
        url = "sqlite://shop.db"
        [[policies]]
        name = "messages"
        table = "messages"
        since = { table = "subscriptions", column = "ended_at", match = { customer_id = "customer_id" } }
        retain = "6 months"
        action = "delete"
        basis = "GDPR art. 5(1)(e)"
    "#;

    fn load(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_toml(
            Path::new("test.toml"),
            text,
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
    }

    fn issues(text: &str) -> Vec<String> {
        match load(text, &[]) {
            Err(ConfigError::Invalid { issues, .. }) => {
                issues.iter().map(|i| i.to_string()).collect()
            }
            other => panic!("expected invalid config, got {other:?}"),
        }
    }

    #[test]
    fn accepts_a_good_config_with_defaults() {
        let c = load(GOOD, &[]).expect("valid");
        assert_eq!(c.policies[0].batch_size, 1000);
        assert_eq!(c.policies[0].max_fraction, 0.5);
        assert_eq!(c.database.table_prefix, "retentiond_");
    }

    #[test]
    fn environment_overrides_the_file() {
        let c = load(
            GOOD,
            &[
                ("RETENTIOND_DATABASE__URL", "sqlite://other.db"),
                ("RETENTIOND_RUN__BATCH_SIZE", "50"),
            ],
        )
        .expect("valid");
        assert_eq!(c.database.url.expose(), "sqlite://other.db");
        assert_eq!(c.policies[0].batch_size, 50);
    }

    #[test]
    fn an_epoch_clock_names_its_unit() {
        use crate::config::{Clock, EpochUnit};
        let own = GOOD.replace(
            r#"{ table = "subscriptions", column = "ended_at", match = { customer_id = "customer_id" } }"#,
            r#"{ column = "last_activity", unit = "unix_seconds" }"#,
        );
        let c = load(&own, &[]).expect("valid");
        assert_eq!(
            c.policies[0].clock,
            Clock::Column {
                name: "last_activity".into(),
                unit: Some(EpochUnit::Seconds)
            }
        );
        let related = GOOD.replace(
            r#"column = "ended_at","#,
            r#"column = "ended_at", unit = "unix_milliseconds","#,
        );
        let c = load(&related, &[]).expect("valid");
        assert!(matches!(
            c.policies[0].clock,
            Clock::Related {
                unit: Some(EpochUnit::Milliseconds),
                ..
            }
        ));
        let got = issues(&own.replace("unix_seconds", "ms"));
        assert!(
            got.iter().any(|g| g.contains(
                "policies[0].since.unit: \"ms\" is not an epoch unit; use \"unix_seconds\" or \"unix_milliseconds\""
            )),
            "{got:#?}"
        );
    }

    #[test]
    fn reports_every_problem_at_once_with_its_path() {
        let text = GOOD
            .replace("6 months", "1 fortnight")
            .replace("\"delete\"", "\"shred\"")
            + r#"
        [[policies]]
        name = "messages"
        table = "x"
        since = "at"
        retain = "0 days"
        action = "delete"
        basis = "b"
        filter = "1=1; DROP TABLE customers"
        "#;
        let got = issues(&text);
        let expect = [
            "policies[0].retain: \"1 fortnight\": unknown unit \"fortnight\"",
            "policies[0].action: \"shred\" is not known",
            "policies[1].name: \"messages\" is used by another policy",
            "policies[1].retain: \"0 days\": must be longer than zero",
            "policies[1].filter: must be one SQL condition",
        ];
        for e in expect {
            assert!(
                got.iter().any(|g| g.contains(e)),
                "missing {e:?} in {got:#?}"
            );
        }
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_placed_and_reported_with_the_rest() {
        let text = GOOD
            .replace("retain =", "retian =")
            .replace(
                "action = \"delete\"",
                "action = \"shred\"\n        batch_size = \"many\"",
            )
            .replace("table = \"subscriptions\"", "tabel = \"subscriptions\"");
        let got = issues(&text);
        let expect = [
            "line 7, column 19: policies[0].since.tabel: is not a known key; did you mean `table`? (accepted here: table, column, unit, match, otherwise)",
            "line 8, column 9: policies[0].retian: is not a known key; did you mean `retain`?",
            "line 9, column 9: policies[0].action: \"shred\" is not known",
            "line 10, column 9: policies[0].batch_size: must be a whole number, e.g. 500 (found text)",
        ];
        for e in expect {
            assert!(
                got.iter().any(|g| g.starts_with(e)),
                "missing {e:?} in {got:#?}"
            );
        }
        // The keys found wrong are not also reported as missing.
        assert_eq!(got.len(), 4, "{got:#?}");
    }

    #[test]
    fn environment_overrides_are_placed_at_their_variable() {
        let got = match load(
            GOOD,
            &[
                ("RETENTIOND_RUN__BATCHSIZE", "5"),
                ("RETENTIOND_RUN__MAX_FRACTION", "half"),
                ("RETENTIOND_DATABASE__URL__HOST", "db"),
            ],
        ) {
            Err(ConfigError::Invalid { issues, .. }) => {
                issues.iter().map(|i| i.to_string()).collect::<Vec<_>>()
            }
            other => panic!("expected invalid config, got {other:?}"),
        };
        for e in [
            "RETENTIOND_RUN__BATCHSIZE: run.batchsize: is not a known key; did you mean `batch_size`?",
            "RETENTIOND_RUN__MAX_FRACTION: run.max_fraction: must be a number",
            "RETENTIOND_DATABASE__URL__HOST: database.url.host: database.url is not a section",
        ] {
            assert!(
                got.iter().any(|g| g.starts_with(e)),
                "missing {e:?} in {got:#?}"
            );
        }
    }

    #[test]
    fn placeholder_keys_are_refused() {
        use super::placeholder;
        for key in [
            "CHANGE-ME-openssl-rand-hex-32",
            "change_me_please_0123",
            "ChangeMe",
            "<placeholder>",
            "replace-me-with-a-real-key",
            "aaaaaaaaaaaaaaaaaaaaaaaa",
            "00000000000000000000000000000000",
        ] {
            assert!(placeholder(key).is_some(), "{key}");
        }
        for key in [
            "q3Jw9k2mZt7VbX1cR8yN4pLs6Hd0Fg5A",
            "test-hmac-key-0123456789",
            "0123456789abcdef0123",
            "abababababababababab",
        ] {
            assert_eq!(placeholder(key), None, "{key}");
        }
    }

    #[test]
    fn hash_key_is_never_read_from_the_file() {
        let text = GOOD.to_string() + "\n[hash]\nkey = \"0123456789abcdef0123\"\n";
        let err = load(&text, &[]).expect_err("key in file");
        assert!(
            err.to_string()
                .contains("must not be written in the config file"),
            "{err}"
        );
    }

    #[test]
    fn hash_transform_needs_a_key() {
        let text = GOOD.replace(
            "\"delete\"",
            "\"anonymize\"\n        columns = { email = \"hash\" }",
        );
        assert!(
            issues(&text)
                .iter()
                .any(|i| i.contains("policies[0].columns: uses \"hash\""))
        );
        load(&text, &[("RETENTIOND_HASH__KEY", "a-long-enough-test-key")]).expect("key from env");
    }

    #[test]
    fn schedule_report_and_http_are_checked_together() {
        let text = GOOD.to_string()
            + r#"
        [schedule]
        cron = "61 3 * * *"
        timezone = "Mars/Olympus"
        [report]
        to = ["not an address"]
        from = "retentiond@shop.example"
        smtp_url = "ftp://mail"
        on = "sometimes"
        [http]
        listen = "everywhere"
        "#;
        let got = issues(&text);
        for e in [
            "schedule.timezone:",
            "report.to[0]:",
            "report.smtp_url:",
            "report.on:",
            "http.listen:",
        ] {
            assert!(
                got.iter().any(|g| g.contains(e)),
                "missing {e:?} in {got:#?}"
            );
        }
        let text = text.replace("Mars/Olympus", "Europe/Amsterdam");
        assert!(
            issues(&text)
                .iter()
                .any(|g| g.contains("schedule.cron: \"61 3 * * *\" is not a valid cron line"))
        );
    }

    #[test]
    fn a_good_daemon_config_loads() {
        let text = GOOD.to_string()
            + r#"
        [schedule]
        cron = "30 3 * * *"
        timezone = "Europe/Amsterdam"
        [report]
        to = ["privacy@shop.example"]
        from = "retentiond@shop.example"
        smtp_url = "smtps://mail.shop.example:465"
        user = "retentiond"
        on = "changes"
        "#;
        let c = load(
            &text,
            &[
                ("RETENTIOND_REPORT__PASSWORD", "pw"),
                ("RETENTIOND_REPORT__TO", "a@x.example,b@x.example"),
            ],
        )
        .expect("valid");
        let report = c.report.expect("report");
        assert_eq!(
            report.to,
            vec!["a@x.example".to_string(), "b@x.example".to_string()]
        );
        assert_eq!(
            report.password.map(|p| p.expose().to_string()).as_deref(),
            Some("pw")
        );
        assert_eq!(
            c.schedule.map(|s| s.pattern),
            Some("30 3 * * *".to_string())
        );
    }

    #[test]
    fn smtp_password_is_never_read_from_the_file() {
        let text = GOOD.to_string() + "\n[report]\npassword = \"hunter2\"\n";
        let err = load(&text, &[]).expect_err("password in file");
        assert!(err.to_string().contains("report.password"), "{err}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn a_world_readable_key_file_is_warned_about() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let key = dir.path().join("key");
        std::fs::write(&key, "0123456789abcdef0123").expect("write");
        let text = GOOD.to_string() + &format!("\n[hash]\nkey_file = \"{}\"\n", key.display());
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        assert_eq!(load(&text, &[]).expect("valid").warnings.len(), 1);
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        assert!(load(&text, &[]).expect("valid").warnings.is_empty());
    }

    #[test]
    fn environment_values_are_the_strings_given() {
        let text = GOOD.to_string()
            + r#"
        [report]
        to = ["privacy@shop.example"]
        from = "retentiond@shop.example"
        smtp_url = "smtps://mail.shop.example:465"
        user = "retentiond"
        "#;
        for password in ["0123456", "False", "1e5", "00.50", "p/@:?#%"] {
            let c = load(
                &text,
                &[
                    ("RETENTIOND_REPORT__PASSWORD", password),
                    ("RETENTIOND_RUN__MAX_FRACTION", "0.25"),
                    ("RETENTIOND_REVIEW__REQUIRED", "true"),
                ],
            )
            .expect("valid");
            let report = c.report.expect("report");
            assert_eq!(
                report.password.map(|p| p.expose().to_string()).as_deref(),
                Some(password)
            );
            // Typed keys still take their types from the strings.
            assert_eq!(c.policies[0].max_fraction, 0.25);
            assert!(c.review.required);
        }
    }

    #[test]
    fn secrets_from_files_win_and_stray_credentials_are_ignored() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = dir.path().join("url");
        std::fs::write(&url, "sqlite://from-file.db\n").expect("write");
        let env = [
            (
                "RETENTIOND_DATABASE__URL_FILE",
                url.to_str().expect("utf-8"),
            ),
            ("RETENTIOND_REPORT__PASSWORD", "pw"),
        ];
        let c = load(GOOD, &env).expect("valid");
        assert_eq!(c.database.url.expose(), "sqlite://from-file.db");
        assert!(
            c.report.is_none(),
            "a password alone is no [report] section"
        );
    }
}
