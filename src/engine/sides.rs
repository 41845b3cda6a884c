//! A plan or a run across both databases: the live policies first (an archive policy moves
//! rows into the archive), then the archive's own policies (`database = "archive"`), which
//! delete or anonymize there when the archived rows' own period ends. Each database keeps
//! its own runs, audit trail and instance lock; the report joins the two.

use super::erase::EraseReport;
use super::{Engine, EngineError, FAILED, Plan, PolicyOutcome, RunOptions, RunReport, Stop};
use crate::config::Side;

impl Engine {
    /// Counts what each selected policy of either database would do.
    pub async fn plan(&self, opts: &RunOptions) -> Result<Plan, EngineError> {
        let mut plan = self.plan_here(opts).await?;
        if let Ok(Some(archive)) = &self.archive_side
            && archive.selects_any(opts)
        {
            let theirs = archive.plan_here(opts).await?;
            plan.policies.extend(theirs.policies);
        } else if let Err(why) = &self.archive_side
            && self.archive_policies(opts).next().is_some()
        {
            return Err(EngineError::Usage(format!(
                "the archive's own policies cannot be planned: {why}"
            )));
        }
        Ok(plan)
    }

    /// Runs every selected policy: the live ones, then the archive's.
    pub async fn run(&self, opts: &RunOptions) -> Result<RunReport, EngineError> {
        let mut report = self.run_here(opts).await?;
        let stopped = report.stop_reason.is_some();
        match &self.archive_side {
            Ok(Some(archive)) if archive.selects_any(opts) && !stopped => {
                // The live policies have committed: whatever stops the archive's run (its lock
                // held elsewhere, its clock guard, a lost connection) fails its policies, not
                // the report of what was done live.
                match archive.run_here(opts).await {
                    Ok(theirs) => join(&mut report, theirs),
                    Err(e) => self.fail_archive_policies(&mut report, opts, &e.to_string()),
                }
            }
            Err(why) => self.fail_archive_policies(&mut report, opts, why),
            _ => {}
        }
        Ok(report)
    }

    /// Each selected archive policy fails with `why`; nothing of them ran.
    fn fail_archive_policies(&self, report: &mut RunReport, opts: &RunOptions, why: &str) {
        let failed: Vec<PolicyOutcome> = self
            .archive_policies(opts)
            .map(|p| PolicyOutcome {
                error: Some(format!("policy \"{}\": {why}", p.name)),
                ..PolicyOutcome::unstarted(p)
            })
            .collect();
        if !failed.is_empty() {
            report.status = FAILED.into();
            report.policies.extend(failed);
        }
    }

    /// An erasure request on both databases: live first (where a kept record of an archive
    /// policy moves to the archive now), then the archive, whose own policies erase there or
    /// say until when a record is kept. An archive that cannot be reached while its policies
    /// name subjects stops the request before anything is erased.
    pub async fn erase(
        &self,
        subject: &str,
        dry_run: bool,
        request_id: Option<String>,
        opts: &RunOptions,
    ) -> Result<EraseReport, EngineError> {
        let linked = |e: &Engine| e.targets.iter().any(|t| t.subject.is_some());
        let archive = match &self.archive_side {
            Ok(a) => a.as_deref().filter(|a| linked(a)),
            Err(why)
                if self
                    .config
                    .policies
                    .iter()
                    .any(|p| p.database == Side::Archive && p.subject.is_some()) =>
            {
                return Err(EngineError::Usage(format!(
                    "nothing was erased: the archive's policies name subjects, and {why}"
                )));
            }
            Err(_) => None,
        };
        // A record kept for a legal ground moves to the archive now: that needs the archive.
        let moves = self.targets.iter().any(|t| {
            t.is_archive()
                && t.subject.is_some()
                && matches!(
                    t.policy.kept_for,
                    Some(
                        crate::config::KeptFor::LegalObligation
                            | crate::config::KeptFor::LegalClaims
                    )
                )
        });
        if moves && !dry_run {
            self.archive()
                .map_err(|e| EngineError::Usage(format!("nothing was erased: {e}")))?;
        }
        let Some(archive) = archive else {
            return self.erase_here(subject, dry_run, request_id, opts).await;
        };
        let request_id = request_id.unwrap_or_else(super::erase::new_request_id);
        if !linked(self) {
            return archive
                .erase_here(subject, dry_run, Some(request_id), opts)
                .await;
        }
        let mut report = self
            .erase_here(subject, dry_run, Some(request_id.clone()), opts)
            .await?;
        let theirs = archive
            .erase_here(subject, dry_run, Some(request_id), opts)
            .await?;
        report.found |= theirs.found;
        report.erased.extend(theirs.erased);
        report.kept.extend(theirs.kept);
        Ok(report)
    }

    /// Whether the archive's own policies answer for a table's rows of a subject.
    pub(super) fn archive_answers_for(&self, table: &str) -> bool {
        matches!(&self.archive_side, Ok(Some(a))
            if a.targets.iter().any(|t| t.table() == table && t.subject.is_some()))
    }

    /// Whether `opts` selects any of this engine's policies.
    fn selects_any(&self, opts: &RunOptions) -> bool {
        opts.policies.is_empty()
            || self
                .targets
                .iter()
                .any(|t| opts.policies.iter().any(|n| n == t.name()))
    }

    /// The selected policies on archive tables, from the config.
    fn archive_policies<'a>(
        &'a self,
        opts: &'a RunOptions,
    ) -> impl Iterator<Item = &'a crate::config::Policy> {
        self.config.policies.iter().filter(move |p| {
            p.database == Side::Archive
                && (opts.policies.is_empty() || opts.policies.contains(&p.name))
        })
    }
}

/// The archive's run joined to the live one's report: its policies after the live ones, and
/// the worse of the two outcomes.
fn join(report: &mut RunReport, theirs: RunReport) {
    report.archive_run_id = theirs.run_id;
    report.policies.extend(theirs.policies);
    report.stale_holds.extend(theirs.stale_holds);
    if theirs.status == FAILED || report.status == "ok" {
        report.status = theirs.status;
    }
    if report.stop_reason.is_none() {
        report.stop_reason = theirs.stop_reason;
    }
}

impl PolicyOutcome {
    /// A policy that never started: nothing done, nothing counted.
    pub(super) fn unstarted(p: &crate::config::Policy) -> PolicyOutcome {
        PolicyOutcome {
            name: p.name.clone(),
            database: p.database,
            table: p.table.clone(),
            action: p.action.name().to_string(),
            affected: 0,
            batches: 0,
            blocked: 0,
            undated: 0,
            held: 0,
            backlog: 0,
            duration_ms: 0,
            stop_reason: Some(Stop::NotStarted),
            error: None,
            waited_for_replica_ms: 0,
        }
    }
}
