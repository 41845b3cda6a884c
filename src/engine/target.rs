//! Checks each policy against the live schema and turns it into a `Target`: only names that
//! exist in the catalog survive, with their types. Everything that later goes into SQL comes
//! from a `Target`, never straight from the config.

use crate::config::{Action, Clock, EpochUnit, Policy, SubjectLink, Transform};
use crate::db::Dialect;
use crate::db::checks::{null_stays_null, words};
use crate::db::schema::{Column, ColumnKind, ForeignKey, RelationKind, Schema, Table, UniqueIndex};
use std::fmt;

/// A problem found while checking the config against the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckIssue {
    pub policy: String,
    pub path: String,
    pub message: String,
}

impl fmt::Display for CheckIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.policy.is_empty() {
            write!(f, "{}: {}", self.path, self.message)
        } else {
            write!(
                f,
                "{} (policy \"{}\"): {}",
                self.path, self.policy, self.message
            )
        }
    }
}

/// A column confirmed to exist, with its kind.
#[derive(Debug, Clone)]
pub struct Col {
    pub name: String,
    pub kind: ColumnKind,
    pub max_len: Option<i64>,
    pub nullable: bool,
}

impl From<&Column> for Col {
    fn from(c: &Column) -> Self {
        Col {
            name: c.name.clone(),
            kind: c.kind,
            max_len: c.max_len,
            nullable: c.nullable,
        }
    }
}

/// How the values of a clock column are read as instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockRead {
    /// The column's own date or timestamp type (PostgreSQL, MySQL).
    Native,
    /// Epoch numbers (instants, UTC) in this unit.
    Epoch(EpochUnit),
    /// SQLite text all in one form that sorts like the instant it denotes: compared as text,
    /// so an index on the column serves the comparison.
    SortableText(TextForm),
    /// SQLite values in several forms (ISO-8601 text with or without offset, Julian day
    /// numbers): compared through SQLite's date functions, which no index serves.
    Instant,
}

/// The SQLite text forms that sort like their instant, when all values of a column share one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextForm {
    /// `YYYY-MM-DD`: the day's midnight, as wall time in `database.timezone`.
    Date,
    /// `YYYY-MM-DD HH:MM:SS`, as wall time in `database.timezone`.
    Seconds,
    /// `YYYY-MM-DDTHH:MM:SS`, as wall time in `database.timezone`.
    SecondsT,
}

impl TextForm {
    pub const ALL: [TextForm; 3] = [TextForm::Date, TextForm::Seconds, TextForm::SecondsT];

    /// A GLOB that matches exactly the text of this form.
    pub fn glob(self) -> &'static str {
        match self {
            TextForm::Date => "[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]",
            TextForm::Seconds => {
                "[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-5][0-9]"
            }
            TextForm::SecondsT => {
                "[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]"
            }
        }
    }

    /// The chrono format of this form.
    pub fn format(self) -> &'static str {
        match self {
            TextForm::Date => "%Y-%m-%d",
            TextForm::Seconds => "%Y-%m-%d %H:%M:%S",
            TextForm::SecondsT => "%Y-%m-%dT%H:%M:%S",
        }
    }
}

/// A clock column and how its values are read.
#[derive(Debug, Clone)]
pub struct ClockCol {
    pub col: Col,
    pub read: ClockRead,
}

impl std::ops::Deref for ClockCol {
    type Target = Col;
    fn deref(&self) -> &Col {
        &self.col
    }
}

#[derive(Debug, Clone)]
pub enum TargetClock {
    Own(ClockCol),
    Related {
        table: String,
        column: ClockCol,
        /// (column of the target table, column of the related table)
        matches: Vec<(String, String)>,
        otherwise: Option<ClockCol>,
    },
}

impl TargetClock {
    /// Every clock column: (table, column, config path).
    pub fn columns_mut<'a>(
        &'a mut self,
        own_table: &'a str,
    ) -> Vec<(&'a str, &'a mut ClockCol, &'static str)> {
        match self {
            TargetClock::Own(c) => vec![(own_table, c, "since")],
            TargetClock::Related {
                table,
                column,
                otherwise,
                ..
            } => {
                let mut cols = vec![(table.as_str(), column, "since.column")];
                if let Some(o) = otherwise {
                    cols.push((own_table, o, "since.otherwise"));
                }
                cols
            }
        }
    }
}

/// Where a row's data-subject key is: the value a subject hold names.
#[derive(Debug, Clone)]
pub enum TargetSubject {
    Own(Col),
    Related {
        table: String,
        column: Col,
        /// (column of the target table, column of the related table)
        matches: Vec<(String, String)>,
    },
}

/// A policy whose every identifier has been found in the live schema.
#[derive(Debug, Clone)]
pub struct Target {
    pub index: usize,
    pub policy: Policy,
    pub key: Vec<Col>,
    pub clock: TargetClock,
    /// Foreign keys from other tables to this one: rows they reference are blocked.
    pub blockers: Vec<ForeignKey>,
    pub transforms: Vec<(Col, Transform)>,
    pub subject: Option<TargetSubject>,
    /// retentiond's holds table, once it exists: held rows are never selected.
    pub holds: Option<String>,
    /// Every lookup of the batch predicate (related clock, referencing tables) has an index.
    pub lookups_indexed: bool,
}

impl Target {
    pub fn name(&self) -> &str {
        &self.policy.name
    }
    pub fn table(&self) -> &str {
        &self.policy.table
    }
    /// Whether the policy removes its rows from the live table: a delete, or an archive
    /// (which deletes them once their copies are verified in the archive).
    pub fn is_delete(&self) -> bool {
        matches!(self.policy.action, Action::Delete | Action::Archive)
    }

    pub fn is_archive(&self) -> bool {
        matches!(self.policy.action, Action::Archive)
    }
    /// Hash and IP truncation of text are computed here, not in SQL.
    pub fn needs_row_values(&self) -> bool {
        self.transforms
            .iter()
            .any(|(c, t)| super::transform::computed_outside_sql(c, *t))
    }
}

struct Checker<'a> {
    schema: &'a Schema,
    dialect: Dialect,
    /// The tables of this database's archive policies.
    archived: std::collections::BTreeSet<String>,
    issues: Vec<CheckIssue>,
    policy: String,
    at: String,
}

impl Checker<'_> {
    fn issue(&mut self, path: &str, message: impl Into<String>) {
        self.issues.push(CheckIssue {
            policy: self.policy.clone(),
            path: format!("{}{}", self.at, path),
            message: message.into(),
        });
    }

    fn table(&mut self, name: &str, path: &str) -> Option<&Table> {
        let schema = self.schema;
        match schema.table(name) {
            Some(t) => Some(t),
            None => {
                let message = match schema.relation(name) {
                    Some(kind) => not_a_table(name, kind),
                    None => {
                        let hint = schema
                            .similar_table(name)
                            .map(|s| format!(" (did you mean \"{s}\"?)"))
                            .unwrap_or_default();
                        format!("table \"{name}\" does not exist in the database{hint}")
                    }
                };
                self.issue(path, message);
                None
            }
        }
    }

    /// A reference the account cannot read could neither block a row nor show a cascade.
    fn hidden_references(&mut self, table: &Table) {
        let schema = self.schema;
        for r in schema
            .hidden_references
            .iter()
            .filter(|r| r.parent == table.name)
        {
            self.issue(
                "table",
                format!(
                    "\"{}\" is referenced by foreign key \"{}\" of {}, a table this account may not read, so the rows it still references could not be kept (blocked) and a cascade into it would go unseen; grant the account SELECT on {}",
                    table.name, r.name, r.child, r.child
                ),
            );
        }
    }

    /// A batch and its audit entry commit together only where the table can roll back.
    fn transactional(&mut self, table: &Table, path: &str) -> bool {
        let Some(engine) = &table.non_transactional_engine else {
            return true;
        };
        self.issue(
            path,
            format!(
                "\"{}\" uses the {engine} storage engine, which cannot roll back: a batch that fails halfway would leave rows written without their audit entry, so a batch and its audit entry cannot commit together there; convert the table to InnoDB (ALTER TABLE {} ENGINE=InnoDB)",
                table.name,
                self.dialect.quote(&table.name)
            ),
        );
        false
    }

    fn column(&mut self, table: &Table, name: &str, path: &str) -> Option<Col> {
        match table.column(name) {
            Some(c) => Some(c.into()),
            None => {
                let hint = table
                    .columns
                    .iter()
                    .find(|c| c.name.eq_ignore_ascii_case(name))
                    .map(|c| format!(" (did you mean \"{}\"?)", c.name))
                    .unwrap_or_default();
                self.issue(
                    path,
                    format!(
                        "column \"{name}\" does not exist in table \"{}\"{hint}",
                        table.name
                    ),
                );
                None
            }
        }
    }

    /// Every `match` pair names a column of each table; reports each one that does not.
    fn matches(
        &mut self,
        table: &Table,
        related: &Table,
        matches: &[(String, String)],
        path: &str,
    ) -> bool {
        let mut ok = true;
        for (own, theirs) in matches {
            ok &= self.column(table, own, path).is_some();
            ok &= self
                .column(related, theirs, &format!("{path}.{own}"))
                .is_some();
        }
        ok
    }

    /// A clock column and how it is read. On SQLite the declared type says little (Prisma
    /// declares `DATETIME` and writes epoch milliseconds), so the values decide, in
    /// `Engine::sqlite_clock_formats`; here a SQLite column starts as `Instant`.
    fn clock_column(
        &mut self,
        table: &Table,
        name: &str,
        unit: Option<EpochUnit>,
        path: &str,
    ) -> Option<ClockCol> {
        let col = self.column(table, name, path)?;
        let data_type = table
            .column(name)
            .map(|c| c.data_type.clone())
            .unwrap_or_default();
        let units = EpochUnit::ALL.map(|(n, _)| format!("\"{n}\"")).join(" or ");
        let read = match (unit, self.dialect) {
            (Some(unit), Dialect::Sqlite) => ClockRead::Epoch(unit),
            (Some(unit), _) if col.kind == ColumnKind::Integer => ClockRead::Epoch(unit),
            (Some(_), _) => {
                self.issue(
                    path,
                    format!("column \"{name}\" has type {data_type}; \"unit\" is for integer columns of epoch numbers, leave it out"),
                );
                return None;
            }
            (None, Dialect::Sqlite) => ClockRead::Instant,
            (None, _) if col.kind.is_temporal() => ClockRead::Native,
            (None, _) if col.kind == ColumnKind::Integer => {
                self.issue(
                    path,
                    format!(
                        "column \"{name}\" has type {data_type}; a retention clock needs a date or timestamp column, or epoch numbers with their unit, since seconds and milliseconds look alike: since = {{ column = \"{name}\", unit = {units} }}"
                    ),
                );
                return None;
            }
            (None, _) => {
                self.issue(
                    path,
                    format!("column \"{name}\" has type {data_type}; a retention clock needs a date or timestamp column, or an integer column of epoch numbers with a \"unit\" ({units})"),
                );
                return None;
            }
        };
        Some(ClockCol { col, read })
    }
}

/// Why a relation that is not a table cannot be a policy's table, and what to name instead.
fn not_a_table(name: &str, kind: &RelationKind) -> String {
    match kind {
        RelationKind::View => {
            format!("\"{name}\" is a view; name its base table, where the rows are stored")
        }
        RelationKind::MaterializedView => format!(
            "\"{name}\" is a materialized view, a copy of a query that the next REFRESH rebuilds; name the base table the rows come from"
        ),
        RelationKind::ForeignTable => format!(
            "\"{name}\" is a foreign table, stored on another server; run retentiond against the database that stores it"
        ),
        RelationKind::Partition { root } => format!(
            "\"{name}\" is a partition of \"{root}\"; name the partitioned table \"{root}\", whose policy covers every partition"
        ),
        RelationKind::Other(what) => {
            format!("\"{name}\" is a {what}, which retentiond does not purge")
        }
        RelationKind::Table | RelationKind::PartitionedTable => {
            format!("table \"{name}\" does not exist in the database")
        }
    }
}

/// Checks every policy; returns the targets, or every problem found.
pub fn check(
    policies: &[Policy],
    side: crate::config::Side,
    skip: &std::collections::BTreeSet<usize>,
    schema: &Schema,
    dialect: Dialect,
    reserved_prefix: &str,
) -> Result<Vec<Target>, Vec<CheckIssue>> {
    let archived = policies
        .iter()
        .filter(|p| p.database == side && p.action == Action::Archive)
        .map(|p| p.table.clone())
        .collect();
    let mut checker = Checker {
        schema,
        dialect,
        archived,
        issues: Vec::new(),
        policy: String::new(),
        at: String::new(),
    };
    let mut targets = Vec::new();
    for (index, policy) in policies.iter().enumerate() {
        if policy.database != side || skip.contains(&index) {
            continue;
        }
        checker.policy = policy.name.clone();
        checker.at = format!("policies[{index}].");
        if let Some(t) = check_policy(&mut checker, index, policy, reserved_prefix) {
            targets.push(t);
        }
    }
    checker.policy = String::new();
    checker.at = String::new();
    for own in crate::store::TABLES {
        if let Some(table) = schema.table(&format!("{reserved_prefix}{own}")) {
            checker.transactional(table, "database.table_prefix");
        }
    }
    if checker.issues.is_empty() {
        Ok(targets)
    } else {
        Err(checker.issues)
    }
}

fn check_policy(
    c: &mut Checker,
    index: usize,
    policy: &Policy,
    reserved_prefix: &str,
) -> Option<Target> {
    if policy.table.starts_with(reserved_prefix) {
        c.issue(
            "table",
            format!("\"{}\" is one of retentiond's own tables", policy.table),
        );
        return None;
    }
    let table = c.table(&policy.table, "table")?.clone();
    if !c.transactional(&table, "table") {
        return None;
    }

    let key = check_key(c, &table, policy.key.as_deref())?;

    let clock = match &policy.clock {
        Clock::Column { name, unit } => {
            TargetClock::Own(c.clock_column(&table, name, *unit, "since")?)
        }
        Clock::Related {
            table: rel,
            column,
            unit,
            matches,
            otherwise,
        } => {
            let related = c.table(rel, "since.table")?.clone();
            let column = c.clock_column(&related, column, *unit, "since.column");
            let ok = c.matches(&table, &related, matches, "since.match");
            let otherwise = match otherwise {
                Some(o) => Some(c.clock_column(&table, o, None, "since.otherwise")?),
                None => None,
            };
            if !ok {
                return None;
            }
            TargetClock::Related {
                table: related.name.clone(),
                column: column?,
                matches: matches.clone(),
                otherwise,
            }
        }
    };

    let mut transforms = Vec::new();
    if let Action::Anonymize(columns) = &policy.action {
        for (name, t) in columns {
            let path = format!("columns.{name}");
            let Some(col) = c.column(&table, name, &path) else {
                continue;
            };
            if key.iter().any(|k| k.name == col.name) {
                c.issue(
                    &path,
                    format!("\"{name}\" is part of the key and cannot be anonymized"),
                );
                continue;
            }
            if let Some(generation) = table.column(name).and_then(|c| c.generation.as_ref()) {
                c.issue(
                    &path,
                    format!(
                        "\"{name}\" is a generated column ({generation}): the database computes it and refuses \
                         to have it written, so the run would fail; anonymize the columns it is computed from instead"
                    ),
                );
                continue;
            }
            if let Err(e) = transform_fits(*t, &col, c.dialect) {
                c.issue(&path, e);
                continue;
            }
            transforms.push((col, *t));
        }
        if transforms.len() != columns.len() {
            return None;
        }
        if !transforms_satisfy_constraints(c, &table, &transforms) {
            return None;
        }
    }

    // Rows referenced from elsewhere are blocked, whatever the foreign key's ON DELETE says:
    // a cascade would delete rows that no policy found expired.
    // Nor may a cascade reach a table an archive policy keeps: its rows would be deleted
    // without their copies.
    let blockers: Vec<ForeignKey> = if policy.allow_cascade {
        c.schema
            .referencing(&table.name)
            .filter(|fk| {
                fk.on_delete == crate::db::schema::OnDelete::Restrict
                    || fk.child.schema.is_none() && c.archived.contains(&fk.child.name)
            })
            .cloned()
            .collect()
    } else {
        c.schema.referencing(&table.name).cloned().collect()
    };

    if matches!(policy.action, Action::Delete | Action::Archive) {
        c.hidden_references(&table);
    }

    let subject = match &policy.subject {
        None => None,
        Some(SubjectLink::Column(name)) => {
            Some(TargetSubject::Own(c.column(&table, name, "subject")?))
        }
        Some(SubjectLink::Related {
            table: rel,
            column,
            matches,
        }) => {
            let related = c.table(rel, "subject.table")?.clone();
            let column = c.column(&related, column, "subject.column");
            let ok = c.matches(&table, &related, matches, "subject.match");
            if !ok {
                return None;
            }
            Some(TargetSubject::Related {
                table: related.name.clone(),
                column: column?,
                matches: matches.clone(),
            })
        }
    };
    let holds = format!("{reserved_prefix}holds");
    let holds = c.schema.table(&holds).map(|_| holds);

    let mut target = Target {
        index,
        policy: policy.clone(),
        key,
        clock,
        blockers,
        transforms,
        subject,
        holds,
        lookups_indexed: false,
    };
    target.lookups_indexed = super::advice::missing_for_lookups(&target, c.schema).is_empty();
    Some(target)
}

/// True when a transform gives many rows one value: two anonymized rows collide in a unique key.
fn collapses(t: Transform) -> bool {
    matches!(
        t,
        Transform::Redact
            | Transform::EmailDomain
            | Transform::YearOnly
            | Transform::MonthOnly
            | Transform::TruncateIp
    )
}

/// Whether the values the transforms write can satisfy the table's unique keys and CHECK
/// constraints. The server would refuse a value that does not, failing the run at the first
/// such batch (and, before the run went on without it, every policy after it), so `check`
/// refuses the policy instead and says what would work.
fn transforms_satisfy_constraints(
    c: &mut Checker,
    table: &Table,
    transforms: &[(Col, Transform)],
) -> bool {
    let before = c.issues.len();
    let transform_of = |name: &str| {
        transforms
            .iter()
            .find(|(col, _)| col.name == name)
            .map(|(_, t)| *t)
    };
    let keys: Vec<&Vec<String>> = std::iter::once(&table.primary_key)
        .chain(table.unique_keys.iter())
        .filter(|k| !k.is_empty())
        .collect();
    let mut refused: Vec<&str> = Vec::new();
    for key in &keys {
        let nulls_collide = table
            .nulls_not_distinct
            .iter()
            .any(|k| sorted(k) == sorted(key));
        // A NULL in any column of a unique key keeps the row out of it, except where the key
        // is UNIQUE NULLS NOT DISTINCT: there NULL is one more value many rows share.
        if !nulls_collide && key.iter().any(|k| transform_of(k) == Some(Transform::Null)) {
            continue;
        }
        let Some((col, t)) = transforms.iter().find(|(col, t)| {
            (collapses(*t) || (*t == Transform::Null && nulls_collide)) && key.contains(&col.name)
        }) else {
            continue;
        };
        if refused.contains(&col.name.as_str()) {
            continue;
        }
        // Columns that keep distinct values keep the key distinct when they hold a unique
        // key of their own.
        let distinct: Vec<&String> = key
            .iter()
            .filter(|k| matches!(transform_of(k), None | Some(Transform::Hash)))
            .collect();
        if keys
            .iter()
            .any(|other| other.iter().all(|k| distinct.contains(&k)))
        {
            continue;
        }
        let which = match key.as_slice() {
            [only] => format!("\"{only}\" is a unique key"),
            _ => format!("({}) is a unique key", key.join(", ")),
        };
        let null = match (col.nullable, nulls_collide) {
            (true, false) => ", or \"null\" (NULLs never collide in a unique key)",
            (true, true) => " (\"null\" collides too: the key is UNIQUE NULLS NOT DISTINCT)",
            (false, _) => &format!(", not \"null\" (\"{}\" is NOT NULL)", col.name),
        };
        refused.push(&col.name);
        c.issue(
            &format!("columns.{}", col.name),
            format!(
                "\"{}\" gives many anonymized rows the same value, but {which}: the second such row \
                 would be refused and the run would fail; use \"hash\" (distinct values stay distinct){null}, \
                 or delete the rows instead",
                t.name()
            ),
        );
    }
    for index in &table.unique_indexes {
        for (col, t) in transforms {
            if refused.contains(&col.name.as_str()) {
                continue;
            }
            if let Some(why) = breaks_unique_index(table, index, col, *t) {
                refused.push(&col.name);
                c.issue(&format!("columns.{}", col.name), why);
            }
        }
    }
    for (col, t) in transforms {
        for check in table
            .checks
            .iter()
            .filter(|k| k.columns.contains(&col.name))
        {
            let null_passes = col.nullable && check.passes_null_in(&col.name);
            if *t == Transform::Null && null_passes {
                continue;
            }
            let instead = if null_passes {
                "use \"null\" (NULL passes this constraint) or delete the rows instead"
            } else {
                "delete the rows instead, or leave the column out of this policy"
            };
            c.issue(
                &format!("columns.{}", col.name),
                format!(
                    "\"{}\" is read by the CHECK constraint \"{}\" ({}); whether the value \"{}\" writes \
                     satisfies it cannot be known in advance, and a refused value would fail the run; {instead}",
                    col.name,
                    check.name,
                    check.clause,
                    t.name()
                ),
            );
        }
    }
    c.issues.len() == before
}

/// Why writing `t` into `col` could make two rows collide in a unique index that is no key (on
/// expressions, or partial), if it could. Whether an expired row is inside a partial index
/// cannot be known in advance, so each one counts as inside.
fn breaks_unique_index(
    table: &Table,
    index: &UniqueIndex,
    col: &Col,
    t: Transform,
) -> Option<String> {
    let (name, definition) = (&index.name, &index.definition);
    if index.predicate_columns.contains(&col.name) {
        return Some(format!(
            "\"{}\" is read by the condition of the partial unique index \"{name}\" ({definition}): \
             writing it can bring anonymized rows into the index, where they could collide with the rows \
             already there, and the run would fail; leave \"{}\" out of this policy, or delete the rows instead",
            col.name, col.name
        ));
    }
    let in_expression = index.expression_columns.contains(&col.name);
    if !in_expression && !index.columns.contains(&col.name) {
        return None;
    }
    let hash_keeps = !in_expression || case_fold_only(index);
    let null_fits = null_fits_unique_index(table, index, col);
    let null = match &null_fits {
        Ok(()) => "\"null\" (NULLs never collide in a unique index)".to_string(),
        Err(why) => format!("not \"null\" ({why})"),
    };
    let hash = match &index.expressions {
        Some(e) if in_expression => format!(
            "\"hash\" (distinct values stay distinct, and their lowercase hex stays distinct under {e})"
        ),
        _ => "\"hash\" (distinct values stay distinct)".to_string(),
    };
    let instead = match (hash_keeps, &null_fits) {
        (true, Ok(())) => format!("use {hash}, or {null}, or delete the rows instead"),
        (true, Err(_)) => format!("use {hash}, {null}, or delete the rows instead"),
        (false, Ok(())) => format!("use {null}, or delete the rows instead"),
        (false, Err(_)) => format!(
            "delete the rows instead, or leave \"{}\" out of this policy ({null})",
            col.name
        ),
    };
    let shares = collapses(t) || (t == Transform::Null && null_fits.is_err());
    if shares {
        return Some(format!(
            "\"{}\" gives many anonymized rows the same value, but the unique index \"{name}\" ({definition}) \
             reads \"{}\": the second such row would be refused and the run would fail; {instead}",
            t.name(),
            col.name
        ));
    }
    if t == Transform::Hash && !hash_keeps {
        return Some(format!(
            "\"hash\" keeps distinct values distinct, but the unique index \"{name}\" ({definition}) \
             computes an expression of \"{}\" that may give two different hashes one value, and the run \
             would fail; {instead}",
            col.name
        ));
    }
    None
}

/// Whether the index's expressions only read columns and fold their case (`lower(email)`,
/// PostgreSQL's `lower((email)::text)`): `hash` writes lowercase hex, which folding keeps
/// distinct. Any other function may map two hashes to one value (`substr(email, 1, 3)`).
fn case_fold_only(index: &UniqueIndex) -> bool {
    const CASE_FOLD: [&str; 9] = [
        "lower",
        "upper",
        "lcase",
        "ucase",
        "text",
        "varchar",
        "character",
        "varying",
        "citext",
    ];
    let columns: Vec<String> = index
        .expression_columns
        .iter()
        .map(|c| c.to_lowercase())
        .collect();
    index
        .expressions
        .as_deref()
        .is_some_and(|e| words(e).all(|w| CASE_FOLD.contains(&w.as_str()) || columns.contains(&w)))
}

/// Whether NULL written into `col` keeps rows apart in the index, or why not.
fn null_fits_unique_index(table: &Table, index: &UniqueIndex, col: &Col) -> Result<(), String> {
    if !col.nullable {
        return Err(format!("\"{}\" is NOT NULL", col.name));
    }
    if index.expression_columns.contains(&col.name)
        && !index
            .expressions
            .as_deref()
            .is_some_and(|e| null_stays_null(e, &index.expression_columns, &col.name))
    {
        return Err("the index's expression may turn NULL into a value many rows share".into());
    }
    if index.columns.contains(&col.name)
        && table
            .nulls_not_distinct
            .iter()
            .any(|k| sorted(k) == sorted(&index.columns))
    {
        return Err("the index is UNIQUE NULLS NOT DISTINCT: NULL collides there too".into());
    }
    Ok(())
}

fn sorted(columns: &[String]) -> Vec<&String> {
    let mut v: Vec<&String> = columns.iter().collect();
    v.sort();
    v
}

fn check_key(c: &mut Checker, table: &Table, configured: Option<&[String]>) -> Option<Vec<Col>> {
    let names: Vec<String> = match configured {
        Some(cols) => {
            let mut sorted = cols.to_vec();
            sorted.sort();
            let is_key = std::iter::once(&table.primary_key)
                .chain(table.unique_keys.iter())
                .any(|k| {
                    let mut k = k.clone();
                    k.sort();
                    !k.is_empty() && k == sorted
                });
            if !is_key {
                let pk = if table.primary_key.is_empty() {
                    "it has no primary key".to_string()
                } else {
                    format!("its primary key is ({})", table.primary_key.join(", "))
                };
                c.issue(
                    "key",
                    format!(
                        "({}) is not a primary or unique key of \"{}\"; {pk}",
                        cols.join(", "),
                        table.name
                    ),
                );
                return None;
            }
            cols.to_vec()
        }
        None if !table.primary_key.is_empty() => table.primary_key.clone(),
        None => match table.unique_keys.iter().find(|k| {
            k.iter()
                .all(|n| table.column(n).is_some_and(|c| !c.nullable))
        }) {
            Some(k) => k.clone(),
            None => {
                c.issue(
                    "table",
                    format!(
                        "\"{}\" has no primary key or NOT NULL unique key; retentiond refuses tables whose rows it cannot address one by one",
                        table.name
                    ),
                );
                return None;
            }
        },
    };
    let mut key = Vec::new();
    for name in &names {
        let col = c.column(table, name, "key")?;
        if col.nullable {
            c.issue(
                "key",
                format!(
                    "key column \"{name}\" of \"{}\" may be NULL, and a row whose key is NULL can never be selected by its key: it would stay in the backlog for ever; make the column NOT NULL or name a NOT NULL key (the primary key)",
                    table.name
                ),
            );
            return None;
        }
        if !key_kind_fits(col.kind, c.dialect) {
            let data_type = table
                .column(name)
                .map(|c| c.data_type.clone())
                .unwrap_or_default();
            c.issue(
                "key",
                format!(
                    "key column \"{name}\" of \"{}\" has type {data_type}, which retentiond cannot page through exactly; \
                     a key column must be an integer, text, uuid, binary, date or timestamp column \
                     (set key = [...] to another primary or unique key of the table)",
                    table.name
                ),
            );
            return None;
        }
        key.push(col);
    }
    Some(key)
}

/// The column types `truncate_ip` truncates in place: text, the address types, packed bytes
/// (4 bytes for IPv4, 16 for IPv6, as `INET6_ATON` writes them) and integers holding IPv4.
fn ip_column(col: &Col, dialect: Dialect) -> Result<(), String> {
    match (col.kind, dialect) {
        (ColumnKind::Text | ColumnKind::Integer | ColumnKind::Inet | ColumnKind::Inet4, _) => {
            Ok(())
        }
        (ColumnKind::Binary, Dialect::Postgres | Dialect::MySql) => match col.max_len {
            Some(n) if n < 4 => Err(format!(
                "\"truncate_ip\" needs room for a packed address (4 or 16 bytes); \"{}\" holds at most {n}",
                col.name
            )),
            _ => Ok(()),
        },
        _ => Err(format!(
            "\"truncate_ip\" fits text, inet/cidr, INET4/INET6, packed VARBINARY(16)/bytea and integer (IPv4) columns; \
             \"{}\" is none of these (SQLite: store addresses as text or as an integer)",
            col.name
        )),
    }
}

/// Key types whose values read back exactly and compare in the database's own order of that
/// type (see `Queries::key_select`). SQLite has no time zone type.
fn key_kind_fits(kind: ColumnKind, dialect: Dialect) -> bool {
    match kind {
        ColumnKind::Integer
        | ColumnKind::Text
        | ColumnKind::Uuid
        | ColumnKind::Binary
        | ColumnKind::Date
        | ColumnKind::Timestamp => true,
        ColumnKind::TimestampTz => dialect != Dialect::Sqlite,
        ColumnKind::Boolean
        | ColumnKind::Numeric
        | ColumnKind::Inet
        | ColumnKind::Inet4
        | ColumnKind::Other => false,
    }
}

/// Whether a transform can write its result into a column of this type.
fn transform_fits(t: Transform, col: &Col, dialect: Dialect) -> Result<(), String> {
    let name = t.name();
    let text_only = || {
        if col.kind == ColumnKind::Text {
            Ok(())
        } else {
            Err(format!(
                "\"{name}\" needs a text column; \"{}\" is not one",
                col.name
            ))
        }
    };
    match t {
        Transform::Null if !col.nullable => Err(format!(
            "\"{}\" is NOT NULL, so \"null\" cannot be written; use \"redact\" instead",
            col.name
        )),
        Transform::Null => Ok(()),
        Transform::Redact => match col.kind {
            ColumnKind::Text | ColumnKind::Integer | ColumnKind::Numeric => Ok(()),
            _ => Err(format!(
                "\"redact\" fits text and number columns; for \"{}\" use null, year_only or month_only",
                col.name
            )),
        },
        Transform::Hash => {
            text_only()?;
            match col.max_len {
                Some(n) if n < 64 => Err(format!(
                    "\"hash\" writes 64 characters but \"{}\" holds at most {n}",
                    col.name
                )),
                _ => Ok(()),
            }
        }
        Transform::TruncateIp => ip_column(col, dialect),
        Transform::EmailDomain => text_only(),
        Transform::YearOnly | Transform::MonthOnly => {
            if col.kind.is_temporal()
                && !(dialect == Dialect::Sqlite && col.kind == ColumnKind::TimestampTz)
            {
                Ok(())
            } else {
                Err(format!(
                    "\"{name}\" needs a date or timestamp column; \"{}\" is not one",
                    col.name
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::schema::Column;

    fn column(name: &str, kind: ColumnKind, nullable: bool) -> Column {
        Column {
            name: name.into(),
            kind,
            data_type: "text".into(),
            column_type: "text".into(),
            max_len: None,
            nullable,
            generation: None,
        }
    }

    /// `members (id, tenant_id, email, handle, nick, seen)`: unique (tenant_id, email),
    /// unique (email, handle), unique nick (nullable).
    fn members() -> Schema {
        let mut schema = Schema::default();
        schema.tables.insert(
            "members".into(),
            Table {
                name: "members".into(),
                columns: vec![
                    column("id", ColumnKind::Integer, false),
                    column("tenant_id", ColumnKind::Integer, false),
                    column("email", ColumnKind::Text, false),
                    column("handle", ColumnKind::Text, false),
                    column("nick", ColumnKind::Text, true),
                    column("seen", ColumnKind::Timestamp, false),
                ],
                primary_key: vec!["id".into()],
                unique_keys: vec![
                    vec!["tenant_id".into(), "email".into()],
                    vec!["email".into(), "handle".into()],
                    vec!["nick".into()],
                ],
                ..Table::default()
            },
        );
        schema
    }

    fn issues(schema: &Schema, columns: &str) -> Vec<String> {
        let text = format!(
            "[database]\nurl = \"sqlite://x.db\"\n[[policies]]\nname = \"p\"\ntable = \"members\"\n\
             since = \"seen\"\nretain = \"1 year\"\naction = \"anonymize\"\ncolumns = {{ {columns} }}\nbasis = \"b\"\n"
        );
        let config = crate::config::Config::from_toml(
            std::path::Path::new("t.toml"),
            &text,
            [(
                "RETENTIOND_HASH__KEY".to_string(),
                "a test key, sixteen bytes or more".to_string(),
            )],
        )
        .expect("config");
        match check(
            &config.policies,
            crate::config::Side::Live,
            &Default::default(),
            schema,
            Dialect::Sqlite,
            "retentiond_",
        ) {
            Ok(_) => Vec::new(),
            Err(issues) => issues.iter().map(|i| i.path.clone()).collect(),
        }
    }

    #[test]
    fn a_unique_key_refuses_a_value_many_rows_share() {
        let schema = members();
        // (tenant_id, email): tenant_id alone is not unique, so two members of one tenant
        // would collide.
        assert_eq!(
            issues(&schema, "email = \"redact\""),
            ["policies[0].columns.email"]
        );
        // The same for every value many rows share.
        assert_eq!(
            issues(&schema, "email = \"email_domain\""),
            ["policies[0].columns.email"]
        );
        // Hashed columns keep distinct values: (email, handle) stays unique.
        assert!(issues(&schema, "email = \"hash\", handle = \"hash\"").is_empty());
        // NULLs never collide: a nullable unique column takes null, not redact.
        assert!(issues(&schema, "nick = \"null\"").is_empty());
        assert_eq!(
            issues(&schema, "nick = \"redact\""),
            ["policies[0].columns.nick"]
        );
    }

    #[test]
    fn a_key_that_holds_a_unique_key_of_kept_columns_stays_unique() {
        let mut schema = members();
        if let Some(t) = schema.tables.get_mut("members") {
            // (tenant_id, handle, email) with (tenant_id, handle) unique on its own.
            t.unique_keys = vec![
                vec!["tenant_id".into(), "handle".into()],
                vec!["tenant_id".into(), "handle".into(), "email".into()],
            ];
        }
        assert!(issues(&schema, "email = \"redact\"").is_empty());
    }

    /// `lower(nick)` and `UNIQUE (handle) WHERE seen IS NOT NULL`, which are no keys.
    fn with_unique_indexes() -> Schema {
        let mut schema = members();
        if let Some(t) = schema.tables.get_mut("members") {
            t.unique_keys.clear();
            t.unique_indexes = vec![
                UniqueIndex {
                    name: "members_lower_nick".into(),
                    definition: "CREATE UNIQUE INDEX members_lower_nick ON members (lower(nick))"
                        .into(),
                    expressions: Some("lower(nick)".into()),
                    expression_columns: vec!["nick".into()],
                    ..UniqueIndex::default()
                },
                UniqueIndex {
                    name: "members_live_handle".into(),
                    definition: "CREATE UNIQUE INDEX members_live_handle ON members (handle) WHERE seen IS NOT NULL".into(),
                    columns: vec!["handle".into()],
                    predicate: Some("seen IS NOT NULL".into()),
                    predicate_columns: vec!["seen".into()],
                    ..UniqueIndex::default()
                },
            ];
        }
        schema
    }

    #[test]
    fn a_unique_index_that_is_no_key_refuses_a_value_many_rows_share() {
        let schema = with_unique_indexes();
        for t in ["redact", "email_domain"] {
            assert_eq!(
                issues(&schema, &format!("nick = \"{t}\", handle = \"{t}\"")),
                ["policies[0].columns.nick", "policies[0].columns.handle"]
            );
        }
        // lower() keeps lowercase hex distinct; lower(NULL) is NULL.
        assert!(issues(&schema, "nick = \"hash\", handle = \"hash\"").is_empty());
        assert!(issues(&schema, "nick = \"null\"").is_empty());
        // Writing the condition's column moves rows into the index, whatever is written.
        assert_eq!(
            issues(&schema, "seen = \"year_only\""),
            ["policies[0].columns.seen"]
        );
    }

    #[test]
    fn an_index_expression_that_may_merge_hashes_refuses_hash() {
        let mut schema = with_unique_indexes();
        if let Some(t) = schema.tables.get_mut("members") {
            t.unique_indexes[0].expressions = Some("substr(nick, 1, 3)".into());
        }
        assert_eq!(
            issues(&schema, "nick = \"hash\""),
            ["policies[0].columns.nick"]
        );
        assert!(issues(&schema, "nick = \"null\"").is_empty());
    }

    #[test]
    fn nulls_not_distinct_refuses_null_too() {
        let mut schema = members();
        if let Some(t) = schema.tables.get_mut("members") {
            t.nulls_not_distinct = vec![vec!["nick".into()]];
        }
        // NULL is one more value there: every anonymized row would share it.
        assert_eq!(
            issues(&schema, "nick = \"null\""),
            ["policies[0].columns.nick"]
        );
    }
}
