//! Erasure requests (GDPR art. 17): for one data subject, apply now every policy's action,
//! except where the policy's `kept_for` keeps the records (a legal obligation, legal claims),
//! and say what was erased, what was only pseudonymised, what was kept, why and until when.
//! A do-not-mail entry (`kept_for = "suppression"`) gets its action, and the row stays. The same batches, audit entries, foreign-key
//! order and holds as a run; the run carries a request id, and the subject's surrogate key
//! goes into the ledger that `erase --replay` re-applies after a restore.

use super::query::{Queries, Thresholds};
use super::run::{Mode, RunContext, walk_once};
use super::target::Target;
use super::{Engine, EngineError, PolicyOutcome, RunOptions, cutoff};
use crate::config::{Action, KeptFor, Transform};
use crate::db::Context;
use crate::store::{RunStatus, Store, audit, format_utc};
use chrono::{NaiveDate, NaiveDateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::time::Instant;

/// What happened to one policy's rows of the subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PartKind {
    /// Deleted, or every changed column removed or replaced by a fixed value.
    Erased,
    /// At least one column hashed, truncated or reduced: still personal data (recital 26).
    Pseudonymised,
}

/// One column an anonymize policy changed, and how (`hash`, `truncate_ip`, ...).
#[derive(Debug, Clone, Serialize)]
pub struct ColumnChange {
    pub column: String,
    pub transform: &'static str,
    /// Only `null` and `redact` erase the value; every other transform leaves personal data.
    pub erased: bool,
}

/// One policy's part of the answer: what it did now.
#[derive(Debug, Clone, Serialize)]
pub struct ErasedPart {
    pub policy: String,
    pub category: String,
    pub kind: PartKind,
    /// The whole records were deleted (else `columns` says what changed).
    pub deleted: bool,
    pub columns: Vec<ColumnChange>,
    pub rows: u64,
    /// Rows of the subject that a legal hold keeps.
    pub held: u64,
    /// Rows still referenced by rows that must stay (deleted later, by the normal policy).
    pub blocked: u64,
    /// The rows were in the archive database.
    pub in_archive: bool,
}

/// One policy's rows that the erasure leaves, on the ground its `kept_for` names.
#[derive(Debug, Clone, Serialize)]
pub struct KeptPart {
    pub policy: String,
    pub category: String,
    pub kind: KeptFor,
    pub rows: u64,
    pub basis: String,
    /// The day the normal policy changes the last of them, when the clock gives one.
    pub until: Option<NaiveDate>,
    /// For a do-not-mail entry: what was done to keep only what the list needs.
    pub columns: Vec<ColumnChange>,
    /// The rows are kept in the restricted archive (there already, or moved there now).
    pub in_archive: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct EraseReport {
    pub request_id: String,
    pub subject: String,
    pub dry_run: bool,
    pub run_id: Option<i64>,
    pub date: String,
    /// Some record of the subject was found (erased, held, blocked or kept).
    pub found: bool,
    pub erased: Vec<ErasedPart>,
    pub kept: Vec<KeptPart>,
}

#[derive(Serialize, serde::Deserialize)]
struct LedgerLine {
    request_id: String,
    subject: String,
    erased_at: String,
}

/// Appends to the file copy of the ledger, readable by its owner only.
fn append_ledger_file(
    path: &std::path::Path,
    request_id: &str,
    subject: &str,
    erased_at: &str,
) -> Result<(), EngineError> {
    use std::io::Write;
    let fail = |e: std::io::Error| {
        EngineError::Io(format!(
            "the erasure is done, but writing the ledger file {} failed: {e}",
            path.display()
        ))
    };
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(fail)?;
    let line = serde_json::to_string(&LedgerLine {
        request_id: request_id.into(),
        subject: subject.into(),
        erased_at: erased_at.into(),
    })
    .map_err(|e| fail(std::io::Error::other(e)))?;
    writeln!(file, "{line}").map_err(fail)
}

/// (subject, request id, erased at) from the file copy of the ledger; none if it is missing.
fn read_ledger_file(path: &std::path::Path) -> Result<Vec<(String, String, String)>, EngineError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(EngineError::Io(format!(
                "reading the ledger file {}: {e}",
                path.display()
            )));
        }
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str::<LedgerLine>(l)
                .map(|e| (e.subject, e.request_id, e.erased_at))
                .map_err(|e| {
                    EngineError::Io(format!(
                        "ledger file {} line {}: {e}",
                        path.display(),
                        i + 1
                    ))
                })
        })
        .collect()
}

/// `erase-20261128-1a2b3c4d`: unique, and says nothing about the subject.
pub(super) fn new_request_id() -> String {
    let now = Utc::now();
    let mut h = Sha256::new();
    h.update(now.timestamp_nanos_opt().unwrap_or_default().to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    format!(
        "erase-{}-{}",
        now.format("%Y%m%d"),
        &hex::encode(h.finalize())[..8]
    )
}

fn column_changes(t: &Target) -> Vec<ColumnChange> {
    match &t.policy.action {
        Action::Delete | Action::Archive => Vec::new(),
        Action::Anonymize(cols) => cols
            .iter()
            .map(|(c, tr)| ColumnChange {
                column: c.clone(),
                transform: tr.name(),
                erased: matches!(tr, Transform::Null | Transform::Redact),
            })
            .collect(),
    }
}

fn category(t: &Target) -> String {
    t.policy
        .category
        .clone()
        .unwrap_or_else(|| t.name().to_string())
}

/// A clock value as the databases render it as text: a date, or a date and time.
fn parse_clock(text: &str) -> Option<NaiveDateTime> {
    let head = text.get(..19).unwrap_or(text).replace('T', " ");
    NaiveDateTime::parse_from_str(&head, "%Y-%m-%d %H:%M:%S")
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d")
                .ok()?
                .and_hms_opt(0, 0, 0)
        })
}

impl Engine {
    /// Erases one subject now in this engine's database (or, with `dry_run`, counts what it
    /// would do in read-only transactions). `request_id` is given when replaying the ledger.
    /// `sides::erase` runs it on both databases.
    pub(super) async fn erase_here(
        &self,
        subject: &str,
        dry_run: bool,
        request_id: Option<String>,
        opts: &RunOptions,
    ) -> Result<EraseReport, EngineError> {
        if subject.trim().is_empty() {
            return Err(EngineError::Usage("--subject is empty".into()));
        }
        let linked: Vec<&Target> = self
            .targets
            .iter()
            .filter(|t| t.subject.is_some())
            .collect();
        if linked.is_empty() {
            return Err(EngineError::Usage(
                "no policy says how its rows belong to a subject, so there is nothing to erase; \
                 add subject = \"customer_id\" (or subject = { table, column, match }) to the policies"
                    .into(),
            ));
        }
        let request_id = request_id.unwrap_or_else(new_request_id);
        let prefix = self.config.database.table_prefix.as_str();
        let store = Store::new(&self.db, prefix);
        if dry_run {
            return self
                .erase_in(&store, &linked, subject, &request_id, None, opts)
                .await;
        }
        self.begin_writing(&store).await?;
        let result = async {
            let now = self.db.now().await?;
            let run_id = store
                .start_run(now, "erase", &self.config.fingerprint)
                .await?;
            store.set_request_id(run_id, &request_id).await?;
            let report = self
                .erase_in(&store, &linked, subject, &request_id, Some(run_id), opts)
                .await;
            let (status, reason) = match &report {
                Ok(_) => (RunStatus::Ok, None),
                Err(e) => (RunStatus::Failed, Some(e.to_string())),
            };
            store.finish_run(run_id, status, reason.as_deref()).await?;
            let report = report?;
            store.record_erasure(&request_id, subject, run_id).await?;
            if let Some(path) = &self.config.ledger_file {
                append_ledger_file(path, &request_id, subject, &report.date)?;
            }
            Ok(report)
        }
        .await;
        self.release_lock().await;
        result
    }

    async fn erase_in(
        &self,
        store: &Store<'_>,
        linked: &[&Target],
        subject: &str,
        request_id: &str,
        run_id: Option<i64>,
        opts: &RunOptions,
    ) -> Result<EraseReport, EngineError> {
        let now = match opts.now {
            Some(now) => now,
            None => self.db.now().await?,
        };
        let opts = RunOptions {
            dry_run: run_id.is_none(),
            ..opts.clone()
        };
        let no_parents = super::parents::Parents::default();
        let mut run = RunContext {
            engine: self,
            store,
            mode: run_id.map_or(Mode::DryRun, |run_id| Mode::Real { run_id }),
            cutoff: now,
            opts: &opts,
            started: Instant::now(),
            chain: match run_id {
                Some(_) => store.last_audit_hash().await?,
                None => audit::GENESIS.to_string(),
            },
            session: None,
            parents: &no_parents,
        };
        let mut report = EraseReport {
            request_id: request_id.to_string(),
            subject: subject.to_string(),
            dry_run: run_id.is_none(),
            run_id,
            date: format_utc(now),
            found: false,
            erased: Vec::new(),
            kept: Vec::new(),
        };
        for t in linked {
            let th = Thresholds::unused();
            let q = Queries {
                db: &self.db,
                target: t,
                thresholds: &th,
                subject: Some(subject),
                walk_end: None,
                parents: None,
            };
            let ctx = |what: &str| format!("policy \"{}\": {what}", t.name());
            let kept_for = t.policy.kept_for;
            let in_archive = t.policy.database == crate::config::Side::Archive;
            if let Some(kind @ (KeptFor::LegalObligation | KeptFor::LegalClaims)) = kept_for
                && t.is_archive()
            {
                // Kept, but not on the live site: the subject's rows move to the restricted
                // archive now, where the archive's own policy (if it names the subject) answers
                // for them.
                let mut outcome = PolicyOutcome::new(t);
                if let Some(stop) = walk_once(&mut run, &q, &mut outcome).await? {
                    return Err(EngineError::Usage(format!(
                        "the erasure stopped at policy \"{}\": {stop}; run it again to finish",
                        t.name()
                    )));
                }
                if outcome.affected > 0
                    && (run_id.is_none() || !self.archive_answers_for(t.table()))
                {
                    report.kept.push(KeptPart {
                        policy: t.name().to_string(),
                        category: category(t),
                        kind,
                        rows: outcome.affected,
                        basis: t.policy.basis.clone(),
                        until: None,
                        columns: Vec::new(),
                        in_archive: true,
                    });
                }
                continue;
            }
            if let Some(kind @ (KeptFor::LegalObligation | KeptFor::LegalClaims)) = kept_for {
                let mut tx = self.db.begin().await?;
                let rows = tx
                    .fetch_i64(&q.count_changeable())
                    .await
                    .ctx(|| ctx("counting the subject's rows"))? as u64;
                let latest = tx
                    .fetch(&q.latest_clock(), &[crate::db::Decode::Text])
                    .await
                    .ctx(|| ctx("reading the latest clock"))?
                    .first()
                    .and_then(|r| match r.first() {
                        Some(crate::db::Value::Text(s)) => parse_clock(s),
                        _ => None,
                    });
                let _ = tx.rollback().await;
                let until = latest.and_then(|c| cutoff::expires(&t.policy, c));
                // A ground that has run out keeps nothing: the action applies now, as the next
                // run would apply it.
                let lapsed = until.is_some_and(|u| u <= now.naive_utc());
                if rows == 0 {
                    continue;
                }
                if !lapsed {
                    report.kept.push(KeptPart {
                        policy: t.name().to_string(),
                        category: category(t),
                        kind,
                        rows,
                        basis: t.policy.basis.clone(),
                        until: until.map(|u| u.date()),
                        columns: Vec::new(),
                        in_archive,
                    });
                    continue;
                }
            }
            let suppression_rows = if kept_for == Some(KeptFor::Suppression) {
                Some(
                    self.count(&q.count_matching(), || ctx("counting the subject's rows"))
                        .await?,
                )
            } else {
                None
            };
            let mut outcome = PolicyOutcome::new(t);
            let mut tx = self.db.begin().await?;
            let held = match t.holds {
                Some(_) => tx.fetch_i64(&q.count_held()).await.ctx(|| ctx("held"))? as u64,
                None => 0,
            };
            let _ = tx.rollback().await;
            if let Some(stop) = walk_once(&mut run, &q, &mut outcome).await? {
                return Err(EngineError::Usage(format!(
                    "the erasure stopped at policy \"{}\": {stop}; run it again to finish",
                    t.name()
                )));
            }
            let blocked = self.count(&q.count_blocked(), || ctx("blocked")).await?;
            let columns = column_changes(t);
            if let Some(rows) = suppression_rows {
                if rows > 0 {
                    report.kept.push(KeptPart {
                        policy: t.name().to_string(),
                        category: category(t),
                        kind: KeptFor::Suppression,
                        rows,
                        basis: t.policy.basis.clone(),
                        until: None,
                        columns,
                        in_archive,
                    });
                }
                continue;
            }
            if outcome.affected + held + blocked == 0 {
                continue;
            }
            let kind = if columns.iter().all(|c| c.erased) {
                PartKind::Erased
            } else {
                PartKind::Pseudonymised
            };
            report.erased.push(ErasedPart {
                policy: t.name().to_string(),
                category: category(t),
                kind,
                deleted: t.is_delete(),
                columns,
                rows: outcome.affected,
                held,
                blocked,
                in_archive,
            });
        }
        report.found = !report.kept.is_empty() || !report.erased.is_empty();
        Ok(report)
    }

    /// One count, in a transaction of its own that writes nothing.
    async fn count(
        &self,
        sql: &crate::db::Sql,
        what: impl FnOnce() -> String,
    ) -> Result<u64, EngineError> {
        let mut tx = self.db.begin().await?;
        let n = tx.fetch_i64(sql).await.ctx(what)? as u64;
        let _ = tx.rollback().await;
        Ok(n)
    }

    /// Erases again every subject in the ledger (after a backup was restored); first drops
    /// the entries older than `[erase] ledger_retain`.
    pub async fn replay_erasures(
        &self,
        opts: &RunOptions,
    ) -> Result<Vec<EraseReport>, EngineError> {
        let prefix = self.config.database.table_prefix.as_str();
        let store = Store::new(&self.db, prefix);
        store.migrate().await?;
        let now = self.db.now().await?.naive_utc();
        if let Some(oldest) = self.config.ledger_retain.subtract_from(now) {
            store.prune_erasures(oldest.and_utc()).await?;
        }
        let mut subjects = store.erased_subjects().await?;
        if let Some(path) = &self.config.ledger_file {
            let oldest = self
                .config
                .ledger_retain
                .subtract_from(now)
                .map(|t| format_utc(t.and_utc()))
                .unwrap_or_default();
            for (subject, request, at) in read_ledger_file(path)? {
                if at >= oldest && !subjects.iter().any(|(s, _)| *s == subject) {
                    subjects.push((subject, request));
                }
            }
        }
        let mut reports = Vec::new();
        for (subject, first_request) in subjects {
            let id = format!("{first_request}-replay");
            reports.push(self.erase(&subject, false, Some(id), opts).await?);
        }
        Ok(reports)
    }
}
