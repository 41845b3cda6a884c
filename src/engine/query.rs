//! The compiled statements of a policy. Plan, dry run and the real run all build their SQL
//! here, from the same predicate functions, so that what is counted is what is written.

use super::target::{ClockCol, ClockRead, Col, Target, TargetClock, TargetSubject};
use super::transform;
use crate::archive::{ArchivedTable, columns};
use crate::config::Transform;
use crate::db::dialect::{DatePart, JULIAN_DAYS, sqlite_instant, sqlite_text_date};
use crate::db::schema::{ColumnKind, ForeignKey};
use crate::db::{Db, Decode, Dialect, Sql, Value};

/// The values each clock is compared with in this run.
#[derive(Debug, Clone)]
pub struct Thresholds {
    pub clock: Bound,
    pub otherwise: Option<Bound>,
}

impl Thresholds {
    /// For statements that select by something else than the clock (an erasure request).
    pub fn unused() -> Thresholds {
        Thresholds {
            clock: Bound {
                value: Value::Null,
                utc: Value::Null,
                shown: String::new(),
            },
            otherwise: None,
        }
    }
}

/// The threshold of one clock column.
#[derive(Debug, Clone)]
pub struct Bound {
    /// What the column's values compare with (naive values: as wall time in
    /// `database.timezone`).
    pub value: Value,
    /// What SQLite values that carry their own offset (and Julian day numbers) compare with.
    pub utc: Value,
    /// How `plan` shows it.
    pub shown: String,
}

#[derive(Clone, Copy)]
pub struct Queries<'a> {
    pub db: &'a Db,
    pub target: &'a Target,
    pub thresholds: &'a Thresholds,
    /// An erasure request: every row of this data subject instead of the expired rows.
    pub subject: Option<&'a str>,
    /// The highest key the walk visits (see `count_and_last_key`).
    pub walk_end: Option<&'a [Value]>,
    /// A related clock's parents whose clock had run out when the run began, as a temporary
    /// table (see `engine::parents`). Where it is set, the statements that read (the walk's
    /// selection, the counts) look a row's parent up there instead of asking the related
    /// table; the statements that write always ask the related table (`exact`).
    pub parents: Option<&'a str>,
}

/// The alias of the policy's own table in every statement.
pub(super) const T: &str = "t";

/// One row to anonymize with values computed outside SQL: its key, and per column of
/// `row_value_columns` (in that order) the value read and, where it changes, its new value
/// (`Some(None)`: NULL).
pub struct RowUpdate<'a> {
    pub key: &'a [Value],
    pub columns: Vec<(&'a Value, Option<Option<String>>)>,
}

/// The derived table of the rows one statement anonymizes. Its name and its columns' names
/// are retentiond's own, so that they shadow no table or column a policy's filter names.
const ROWS: &str = "retentiond_rows";

/// A column of [`ROWS`]: `key0`..., then per computed column `set`, `new` and `old`.
fn rows_column(what: &str, i: usize) -> String {
    format!("retentiond_{what}{i}")
}

/// One row of [`ROWS`], in the order of its columns.
fn rows_values(r: &RowUpdate<'_>) -> Vec<Value> {
    let mut v = r.key.to_vec();
    for (read, new) in &r.columns {
        v.push(Value::Int(i64::from(new.is_some())));
        v.push(match new {
            Some(Some(text)) => Value::Text(text.clone()),
            _ => Value::Null,
        });
        v.push((*read).clone());
    }
    v
}

/// What a row's subject is compared with.
#[derive(Debug, Clone, Copy)]
enum Subject<'s> {
    /// An erasure request's subject key.
    Value(&'s str),
    /// The `subject` column of a hold in the enclosing `EXISTS`.
    HoldColumn,
}

impl Queries<'_> {
    /// The same statements asking the related table itself: what every write repeats, at the
    /// moment it writes.
    pub fn exact(&self) -> Self {
        Queries {
            parents: None,
            ..*self
        }
    }

    fn d(&self) -> Dialect {
        self.db.dialect
    }

    pub(super) fn col(&self, alias: &str, name: &str) -> String {
        format!("{alias}.{}", self.db.quote(name))
    }

    fn target_table(&self) -> String {
        format!("{} AS {T}", self.db.table(self.target.table()))
    }

    /// `r.a = t.b AND ...` for the related clock's match columns.
    pub(super) fn related_match(&self, q: &mut Sql, table: &str, matches: &[(String, String)]) {
        q.push(&format!(
            "SELECT 1 FROM {} AS r WHERE ",
            self.db.table(table)
        ));
        q.push(&self.matching("r", matches));
    }

    /// `alias.theirs = t.own AND ...`: the related rows under `alias` that match this row.
    fn matching(&self, alias: &str, matches: &[(String, String)]) -> String {
        matches
            .iter()
            .map(|(own, theirs)| format!("{} = {}", self.col(alias, theirs), self.col(T, own)))
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// `expr` holds a real instant: not a MariaDB zero or partly zero date
    /// (`'0000-00-00'`, `'2020-05-00'`), not a PostgreSQL infinity, not SQLite text that is
    /// no date; for epoch numbers, a positive number. Never NULL for a non-NULL `expr`, so that
    /// `NOT` of it is safe. `None`: every non-NULL value is one.
    fn dated(&self, expr: &str, c: &ClockCol) -> Option<String> {
        let text_date = || sqlite_text_date(expr);
        Some(match (c.read, self.d()) {
            (ClockRead::Native, d) => return d.real_date(expr),
            (ClockRead::Epoch(unit), d) => d.real_epoch(expr, unit),
            (ClockRead::SortableText(form), Dialect::Sqlite) => {
                format!("{expr} GLOB '{}' AND {}", form.glob(), text_date())
            }
            (ClockRead::Instant, Dialect::Sqlite) => format!(
                "({} OR (typeof({expr}) = 'real' AND {expr} BETWEEN {} AND {}))",
                text_date(),
                JULIAN_DAYS.0,
                JULIAN_DAYS.1
            ),
            _ => return None,
        })
    }

    /// `expr`'s instant lies before the threshold, for a dated value: as text in the stored
    /// form where it sorts like the instant (an index range), else through SQLite's date
    /// functions, values with an offset (and Julian days) against the UTC threshold.
    fn before(&self, q: &mut Sql, expr: &str, c: &ClockCol, bound: &Bound) {
        if c.read == ClockRead::Instant {
            let instant = sqlite_instant(expr);
            q.push(&format!(
                "(CASE WHEN typeof({expr}) = 'real' OR {expr} GLOB '*[+-][0-9][0-9]:[0-9][0-9]' OR {expr} GLOB '*[Zz]' THEN {instant} < "
            ))
            .bind(bound.utc.clone())
            .push(&format!(" ELSE {instant} < "))
            .bind(bound.value.clone())
            .push(" END)");
        } else {
            q.push(&format!("{expr} < ")).bind(bound.value.clone());
        }
    }

    /// `(expr < threshold AND <dated>)`: the comparison first, so that it can drive an index
    /// range, the guard as a residual condition.
    fn clock_expired(&self, q: &mut Sql, expr: &str, c: &ClockCol, bound: &Bound) {
        q.push("(");
        self.before(q, expr, c, bound);
        if let Some(dated) = self.dated(expr, c) {
            q.push(" AND ").push(&dated);
        }
        q.push(")");
    }

    /// `expr` has no real instant: NULL, or a value that `dated` refuses.
    fn clock_undated(&self, expr: &str, c: &ClockCol) -> String {
        match self.dated(expr, c) {
            Some(dated) => format!("({expr} IS NULL OR NOT ({dated}))"),
            None => format!("{expr} IS NULL"),
        }
    }

    /// The clock has run out (and the filter holds); for an erasure request, the row belongs
    /// to the subject instead, whatever its clock says.
    pub(super) fn expired(&self, q: &mut Sql) {
        if let Some(subject) = self.subject {
            q.push("(");
            self.subject_is(q, Subject::Value(subject));
            q.push(")");
            self.filter(q);
            return;
        }
        q.push("(");
        match &self.target.clock {
            TargetClock::Own(c) => {
                self.clock_expired(q, &self.col(T, &c.name), c, &self.thresholds.clock);
            }
            TargetClock::Related {
                table,
                column,
                matches,
                otherwise,
            } => {
                if otherwise.is_some() {
                    q.push("(");
                }
                if let Some(parents) = self.parents {
                    // Only ever where a write asks the related table again (see `parents`).
                    let on: Vec<String> = matches
                        .iter()
                        .enumerate()
                        .map(|(i, (own, _))| {
                            format!(
                                "p.{} = {}",
                                self.db.quote(&parent_column(i)),
                                self.col(T, own)
                            )
                        })
                        .collect();
                    q.push(&format!(
                        "EXISTS (SELECT 1 FROM {parents} AS p WHERE {})",
                        on.join(" AND ")
                    ));
                } else {
                    q.push("EXISTS (");
                    self.related_match(q, table, matches);
                    // No related row whose clock is open, undated or not yet run out.
                    q.push(") AND NOT EXISTS (");
                    self.related_match(q, table, matches);
                    let rc = self.col("r", &column.name);
                    q.push(&format!(" AND ({rc} IS NULL OR NOT "));
                    self.clock_expired(q, &rc, column, &self.thresholds.clock);
                    q.push("))");
                }
                if let (Some(o), Some(bound)) = (otherwise, &self.thresholds.otherwise) {
                    q.push(") OR (NOT EXISTS (");
                    self.related_match(q, table, matches);
                    q.push(") AND ");
                    self.clock_expired(q, &self.col(T, &o.name), o, bound);
                    q.push(")");
                }
            }
        }
        q.push(")");
        self.filter(q);
    }

    /// The empty shape of the parents table: one column per match column of the related
    /// clock, in the related table's own types. `None` without a related clock.
    pub fn parents_shape(&self, parents: &str) -> Option<String> {
        let TargetClock::Related { table, matches, .. } = &self.target.clock else {
            return None;
        };
        let cols: Vec<String> = matches
            .iter()
            .enumerate()
            .map(|(i, (_, theirs))| {
                format!(
                    "{} AS {}",
                    self.col("r", theirs),
                    self.db.quote(&parent_column(i))
                )
            })
            .collect();
        let select = format!(
            "SELECT {} FROM {} AS r WHERE 1 = 0",
            cols.join(", "),
            self.db.table(table)
        );
        Some(self.d().create_temp_table_as(parents, &select))
    }

    /// `ALTER TABLE <parents> ADD PRIMARY KEY (...)`: each parent once, found by its key.
    pub fn parents_key(&self, parents: &str) -> Option<String> {
        let TargetClock::Related { matches, .. } = &self.target.clock else {
            return None;
        };
        let cols: Vec<String> = (0..matches.len())
            .map(|i| self.db.quote(&parent_column(i)))
            .collect();
        Some(format!(
            "ALTER TABLE {parents} ADD PRIMARY KEY ({})",
            cols.join(", ")
        ))
    }

    /// Fills the parents table: the match values of the related rows whose clocks have all
    /// run out (none open, none undated, none recent), in one aggregate over the related
    /// table. Exactly the parents for which the walk's `EXISTS ... AND NOT EXISTS ...` holds.
    pub fn fill_parents(&self, parents: &str) -> Option<Sql> {
        let TargetClock::Related {
            table,
            column,
            matches,
            ..
        } = &self.target.clock
        else {
            return None;
        };
        let theirs: Vec<String> = matches.iter().map(|(_, c)| self.col("r", c)).collect();
        let not_null: Vec<String> = theirs.iter().map(|c| format!("{c} IS NOT NULL")).collect();
        let rc = self.col("r", &column.name);
        let mut q = self.db.sql();
        q.push(&format!(
            "INSERT INTO {parents} SELECT {} FROM {} AS r WHERE {} GROUP BY {} HAVING SUM(CASE WHEN ",
            theirs.join(", "),
            self.db.table(table),
            not_null.join(" AND "),
            theirs.join(", ")
        ));
        self.clock_expired(&mut q, &rc, column, &self.thresholds.clock);
        q.push(" THEN 0 ELSE 1 END) = 0");
        Some(q)
    }

    fn filter(&self, q: &mut Sql) {
        if let Some(f) = &self.target.policy.filter {
            q.push(" AND (").push(f).push(")");
        }
    }

    /// Some other row still references this one.
    pub(super) fn blocked(&self, q: &mut Sql) {
        self.blocked_through(q, |_| true);
    }

    /// A row of another table references this one.
    fn blocked_from_elsewhere(&self, q: &mut Sql) {
        let table = self.target.table();
        self.blocked_through(q, |fk| !fk.child.is_local(table));
    }

    /// Some row references this one through a foreign key that `through` accepts.
    fn blocked_through(&self, q: &mut Sql, through: impl Fn(&ForeignKey) -> bool) {
        let parts: Vec<String> = self
            .target
            .blockers
            .iter()
            .enumerate()
            .filter(|(_, fk)| through(fk))
            .map(|(i, fk)| {
                let alias = format!("c{i}");
                let conds: Vec<String> = fk
                    .child_columns
                    .iter()
                    .zip(&fk.parent_columns)
                    .map(|(cc, pc)| format!("{} = {}", self.col(&alias, cc), self.col(T, pc)))
                    .collect();
                format!(
                    "EXISTS (SELECT 1 FROM {} AS {alias} WHERE {})",
                    self.referencing_rows(fk),
                    conds.join(" AND ")
                )
            })
            .collect();
        if parts.is_empty() {
            q.push("1 = 0");
        } else {
            q.push("(").push(&parts.join(" OR ")).push(")");
        }
    }

    /// At least one column still needs its transform (anonymizing is idempotent).
    fn needs_any(&self, q: &mut Sql) {
        q.push("(");
        for (i, (col, t)) in self.target.transforms.iter().enumerate() {
            if i > 0 {
                q.push(" OR ");
            }
            self.needs(q, col, *t);
        }
        q.push(")");
    }

    fn needs(&self, q: &mut Sql, col: &Col, t: Transform) {
        let c = self.col(T, &col.name);
        match t {
            Transform::Null => {
                q.push(&format!("{c} IS NOT NULL"));
            }
            Transform::Redact => {
                q.push(&format!("{c} <> ")).bind(redact_value(col));
            }
            Transform::YearOnly | Transform::MonthOnly => {
                let e = self.d().date_trunc(&c, col.kind, date_part(t));
                q.push(&format!("{c} <> {e}"));
            }
            Transform::EmailDomain => {
                q.push(&format!("{c} LIKE '%@%'"));
            }
            // Truncated, an IPv4 address ends in `.0` and an IPv6 one in `::` after at most
            // three groups (`2001:db8:85a3::`): a longer prefix (`2a02:a45:1234:5600::`, a /56)
            // still holds more than its /48.
            Transform::TruncateIp if col.kind == ColumnKind::Text => {
                q.push(&format!(
                    "({c} NOT LIKE '%.0' AND ({c} NOT LIKE '%::' OR length({c}) - length(replace({c}, ':', '')) > 4))"
                ));
            }
            Transform::TruncateIp => {
                let new = self.d().truncated_ip(&c, col.kind, col.nullable);
                q.push(&self.d().is_distinct_from(&c, &new));
            }
            Transform::Hash => {
                q.push(&self.d().not_sha256_hex(&c));
            }
        }
    }

    /// `expr` as text, the form in which holds store keys and subjects.
    fn as_text(&self, expr: &str) -> String {
        self.d().as_text(expr)
    }

    /// A column's value as a hold or an erasure request names it: bytes as lowercase hex,
    /// dates and timestamps in one fixed form (`YYYY-MM-DD HH:MM:SS.ffffff`, a point in time in
    /// UTC; SQLite's text as it is stored), everything else as the database renders it as
    /// text. `hold::canonical_key_text` brings what a user types into the same form.
    fn column_text(&self, alias: &str, col: &Col) -> String {
        let c = self.col(alias, &col.name);
        match col.kind {
            ColumnKind::Binary => self.d().hex_text(&c),
            ColumnKind::Date => self.d().date_text(&c),
            ColumnKind::Timestamp => self.d().timestamp_text(&c),
            ColumnKind::TimestampTz => self.d().instant_text(&c),
            _ => self.as_text(&c),
        }
    }

    /// The row's key as a hold stores it: the key values joined by commas.
    fn key_text(&self) -> String {
        self.target
            .key
            .iter()
            .map(|k| self.column_text(T, k))
            .collect::<Vec<_>>()
            .join(" || ',' || ")
    }

    /// A legal hold that has not been released names this row, or its data subject.
    /// Without retentiond's holds table (before the first real run) nothing can be held.
    pub(super) fn held(&self, q: &mut Sql) {
        let Some(holds) = &self.target.holds else {
            q.push("1 = 0");
            return;
        };
        q.push(&format!(
            "EXISTS (SELECT 1 FROM {} AS h WHERE h.released_at IS NULL AND ((h.table_name = ",
            self.db.table(holds)
        ))
        .bind(Value::Text(self.target.table().to_string()))
        .push(&format!(" AND h.key_value = {})", self.key_text()));
        if self.target.subject.is_some() {
            q.push(" OR ");
            self.subject_is(q, Subject::HoldColumn);
        }
        q.push("))");
    }

    /// The row belongs to the data subject (the policy must have a `subject` link; without
    /// one, no row does).
    fn subject_is(&self, q: &mut Sql, subject: Subject) {
        // uuids and bytes have one canonical text form, lowercase; accept any case for them.
        let rhs = |q: &mut Sql, col: &Col| {
            let canonical = matches!(col.kind, ColumnKind::Uuid | ColumnKind::Binary);
            match (subject, canonical) {
                (Subject::Value(v), true) => q.bind(Value::Text(v.to_ascii_lowercase())),
                (Subject::Value(v), false) => q.bind(Value::Text(v.to_string())),
                (Subject::HoldColumn, true) => q.push("LOWER(h.subject)"),
                (Subject::HoldColumn, false) => q.push("h.subject"),
            };
        };
        match &self.target.subject {
            None => {
                q.push("1 = 0");
            }
            Some(TargetSubject::Own(c)) => {
                q.push(&format!("{} = ", self.column_text(T, c)));
                rhs(q, c);
            }
            Some(TargetSubject::Related {
                table,
                column,
                matches,
            }) => {
                q.push(&format!(
                    "EXISTS (SELECT 1 FROM {} AS s WHERE {} AND {} = ",
                    self.db.table(table),
                    self.matching("s", matches),
                    self.column_text("s", column)
                ));
                rhs(q, column);
                q.push(")");
            }
        }
    }

    /// What the run writes: expired, not held, not blocked and (for anonymize) not yet done.
    pub(super) fn eligible(&self, q: &mut Sql) {
        self.expired(q);
        q.push(" AND NOT ");
        self.held(q);
        if self.target.is_delete() {
            q.push(" AND NOT ");
            self.blocked(q);
        } else {
            q.push(" AND ");
            self.needs_any(q);
        }
    }

    pub(super) fn count_where(&self, build: impl FnOnce(&Self, &mut Sql)) -> Sql {
        let mut q = self.db.sql();
        q.push(&format!(
            "SELECT COUNT(*) FROM {} WHERE ",
            self.target_table()
        ));
        build(self, &mut q);
        q
    }

    pub fn count_eligible(&self) -> Sql {
        self.count_where(Self::eligible)
    }

    /// For a single integer key, the count of eligible rows (`blocked`: of blocked rows) and
    /// their highest key, in one scan. The walk ends at the higher of the two (a row blocked
    /// now may be freed by an earlier policy of the same run), so that its last batch does not
    /// read the table's live tail, where nothing has expired, only to find that out.
    pub fn count_and_last_key(&self, blocked: bool) -> Option<Sql> {
        let [k] = self.target.key.as_slice() else {
            return None;
        };
        if k.kind != ColumnKind::Integer {
            return None;
        }
        let mut q = self.db.sql();
        q.push(&format!(
            "SELECT COUNT(*), {} FROM {} WHERE ",
            self.d().as_i64(&format!("MAX({})", self.col(T, &k.name))),
            self.target_table()
        ));
        if blocked {
            self.expired_and_blocked(&mut q);
        } else {
            self.eligible(&mut q);
        }
        Some(q)
    }

    /// Expired rows that a reference keeps (delete policies only).
    fn expired_and_blocked(&self, q: &mut Sql) {
        if self.target.is_delete() {
            self.expired(q);
            q.push(" AND NOT ");
            self.held(q);
            q.push(" AND ");
            self.blocked(q);
        } else {
            q.push("1 = 0");
        }
    }

    /// Rows whose clock never started: NULL, or no related rows and no fallback.
    fn undated(&self, q: &mut Sql) {
        match &self.target.clock {
            TargetClock::Own(c) => {
                q.push(&self.clock_undated(&self.col(T, &c.name), c));
            }
            TargetClock::Related {
                table,
                matches,
                otherwise,
                ..
            } => {
                q.push("NOT EXISTS (");
                self.related_match(q, table, matches);
                q.push(")");
                if let Some(o) = otherwise {
                    q.push(&format!(
                        " AND {}",
                        self.clock_undated(&self.col(T, &o.name), o)
                    ));
                }
            }
        }
        self.filter(q);
    }

    /// Rows the selection matches (expired, or an erasure request's subject), before holds,
    /// references and transforms are considered.
    pub fn count_matching(&self) -> Sql {
        self.count_where(Self::expired)
    }

    /// Selected rows the policy would still change: for anonymize, rows with a column not yet
    /// transformed (what an erasure request keeps on a policy's ground).
    pub fn count_changeable(&self) -> Sql {
        self.count_where(|s, q| {
            s.expired(q);
            if !s.target.is_delete() {
                q.push(" AND ");
                s.needs_any(q);
            }
        })
    }

    /// The latest clock value among the selected rows, as text (for an erasure answer: when
    /// the normal policy will change what is kept now). For a related clock, the latest
    /// related value, NULL while any related row is open.
    pub fn latest_clock(&self) -> Sql {
        let mut q = self.db.sql();
        match &self.target.clock {
            TargetClock::Own(c) => {
                q.push(&format!(
                    "SELECT {} FROM {} WHERE ",
                    self.as_text(&format!("MAX({})", self.col(T, &c.name))),
                    self.target_table()
                ));
                self.expired(&mut q);
            }
            TargetClock::Related {
                table,
                column,
                matches,
                ..
            } => {
                let rc = self.col("lr", &column.name);
                q.push(&format!(
                    "SELECT {} FROM {} AS lr WHERE EXISTS (SELECT 1 FROM {} WHERE {} AND ",
                    self.as_text(&format!(
                        "CASE WHEN COUNT(*) = COUNT({rc}) THEN MAX({rc}) END"
                    )),
                    self.db.table(table),
                    self.target_table(),
                    self.matching("lr", matches)
                ));
                self.expired(&mut q);
                q.push(")");
            }
        }
        q
    }

    /// Expired rows that a legal hold keeps (and that the policy would otherwise change).
    pub fn count_held(&self) -> Sql {
        self.count_where(|s, q| {
            s.expired(q);
            if !s.target.is_delete() {
                q.push(" AND ");
                s.needs_any(q);
            }
            q.push(" AND ");
            s.held(q);
        })
    }

    /// The rows of a foreign key's child table, to look up. MySQL refuses a DELETE whose
    /// subquery reads the table it deletes from (error 1093) unless that read is a derived
    /// table, which it materializes first: a self-reference is read that way there.
    pub(super) fn referencing_rows(&self, fk: &ForeignKey) -> String {
        let table = self.db.qualified(&fk.child);
        if self.d() != Dialect::MySql || !fk.child.is_local(self.target.table()) {
            return table;
        }
        let columns: Vec<String> = fk.child_columns.iter().map(|c| self.db.quote(c)).collect();
        let not_null: Vec<String> = columns.iter().map(|c| format!("{c} IS NOT NULL")).collect();
        format!(
            "(SELECT {} FROM {table} WHERE {})",
            columns.join(", "),
            not_null.join(" AND ")
        )
    }

    /// The table's foreign keys to its own single-column key (a reply to a message), as
    /// (referencing column, key column).
    fn self_references(&self) -> Vec<(&str, &str)> {
        let [key] = self.target.key.as_slice() else {
            return Vec::new();
        };
        self.target
            .blockers
            .iter()
            .filter(|fk| fk.child.is_local(self.target.table()))
            .filter_map(
                |fk| match (fk.child_columns.as_slice(), fk.parent_columns.as_slice()) {
                    ([child], [parent]) if *parent == key.name => {
                        Some((child.as_str(), parent.as_str()))
                    }
                    _ => None,
                },
            )
            .collect()
    }

    /// Expired, blocked rows that only rows of their own table reference, every one of which
    /// goes in this run too (a thread of expired replies): the run's repeated walk deletes
    /// them (see `Engine::walk`). A row stays when a row that stays references it: `stays`
    /// starts from what the rows that are not deleted reference and climbs to the thread's top.
    pub fn count_freed_by_own_deletes(&self) -> Option<Sql> {
        let refs = self.self_references();
        if refs.is_empty() || !self.target.is_delete() || self.subject.is_some() {
            return None;
        }
        let key = self.db.quote(refs[0].1);
        let table = self.db.table(self.target.table());
        let mut q = self.db.sql();
        q.push("WITH RECURSIVE stays (k) AS (");
        for (i, (child, _)) in refs.iter().enumerate() {
            let child = self.db.quote(child);
            if i > 0 {
                q.push(" UNION ");
            }
            q.push(&format!(
                "SELECT c.{child} FROM {table} AS c WHERE c.{child} IS NOT NULL AND c.{key} NOT IN \
                 (SELECT {T}.{key} FROM {table} AS {T} WHERE "
            ));
            self.expired(&mut q);
            q.push(" AND NOT ");
            self.held(&mut q);
            q.push(" AND NOT ");
            self.blocked_from_elsewhere(&mut q);
            q.push(")");
        }
        for (child, _) in &refs {
            let child = self.db.quote(child);
            q.push(&format!(
                " UNION SELECT c.{child} FROM {table} AS c JOIN stays AS s ON c.{key} = s.k \
                 WHERE c.{child} IS NOT NULL"
            ));
        }
        q.push(&format!(
            ") SELECT COUNT(*) FROM {} WHERE ",
            self.target_table()
        ));
        self.expired_and_blocked(&mut q);
        q.push(" AND NOT ");
        self.blocked_from_elsewhere(&mut q);
        q.push(&format!(" AND {T}.{key} NOT IN (SELECT k FROM stays)"));
        Some(q)
    }

    pub fn count_blocked(&self) -> Sql {
        self.count_where(Self::expired_and_blocked)
    }

    pub fn count_undated(&self) -> Sql {
        self.count_where(Self::undated)
    }

    pub fn count_total(&self) -> Sql {
        self.count_where(|_, q| {
            q.push("1 = 1");
        })
    }

    /// How a key column is selected so that the value read back compares equal when bound
    /// (see `key_value`): integers as i64, bytes as bytes, dates and timestamps in their own
    /// type at full precision (SQLite keeps them as text), uuids and text as text.
    fn key_select(&self, alias: &str, k: &Col) -> (String, Decode) {
        let c = self.col(alias, &k.name);
        match (k.kind, self.d()) {
            (ColumnKind::Integer, Dialect::Sqlite) => (c, Decode::Int),
            (ColumnKind::Integer, d) => (d.as_i64(&c), Decode::Int),
            (ColumnKind::Binary, _) => (c, Decode::Bytes),
            (ColumnKind::Date, Dialect::Postgres | Dialect::MySql) => (c, Decode::Date),
            (ColumnKind::Timestamp, Dialect::Postgres | Dialect::MySql) => (c, Decode::Timestamp),
            (ColumnKind::TimestampTz, Dialect::Postgres | Dialect::MySql) => {
                (c, Decode::TimestampTz)
            }
            (_, Dialect::Sqlite) => (c, Decode::Text),
            (_, d) => (d.as_text(&c), Decode::Text),
        }
    }

    fn key_selects(&self, alias: &str) -> (Vec<String>, Vec<Decode>) {
        self.target
            .key
            .iter()
            .map(|k| self.key_select(alias, k))
            .unzip()
    }

    /// Columns whose new value is computed outside SQL.
    pub fn row_value_columns(&self) -> Vec<&Col> {
        self.target
            .transforms
            .iter()
            .filter(|(c, t)| transform::computed_outside_sql(c, *t))
            .map(|(c, _)| c)
            .collect()
    }

    /// Keyset condition on the full key: strictly after `after`.
    fn after(&self, q: &mut Sql, after: &[Value]) {
        self.key_compare(q, after, ">");
    }

    /// Up to and including `last`.
    fn up_to(&self, q: &mut Sql, last: &[Value]) {
        self.key_compare(q, last, "<=");
    }

    /// `(k1 op1 v1) OR (k1 = v1 AND k2 op2 v2) OR ...`, where only the last column's operator
    /// may include equality: a single-column key becomes one plain range (`k1 <= v1`) that
    /// every planner turns into an index range.
    fn key_compare(&self, q: &mut Sql, values: &[Value], op: &str) {
        let keys = &self.target.key;
        let strict = op.trim_end_matches('=');
        q.push("(");
        for i in 0..keys.len() {
            if i > 0 {
                q.push(" OR ");
            }
            q.push("(");
            for (j, k) in keys.iter().enumerate().take(i) {
                q.push(&format!("{} = ", self.col(T, &k.name)));
                self.key_value(q, k, &values[j]);
                q.push(" AND ");
            }
            let op = if i + 1 == keys.len() { op } else { strict };
            q.push(&format!("{} {op} ", self.col(T, &keys[i].name)));
            self.key_value(q, &keys[i], &values[i]);
            q.push(")");
        }
        q.push(")");
    }

    /// The next batch: key values (and the current values of hashed/truncated columns).
    pub fn select_batch(&self, after: Option<&[Value]>, limit: u32) -> (Sql, Vec<Decode>) {
        let (mut cols, mut decode) = self.key_selects(T);
        if !self.target.is_delete() {
            for c in self.row_value_columns() {
                cols.push(self.col(T, &c.name));
                decode.push(Decode::Text);
            }
        }
        let mut q = self.db.sql();
        self.lookups_per_row(&mut q);
        self.next_keys(&mut q, &cols, after, limit);
        (q, decode)
    }

    /// The next batch of an archive policy: its keys, then every column of the table in the
    /// form it is carried to the archive (`archive::columns::read_text`). `lock`: a writing
    /// run locks the rows it read until its transaction ends (SQLite's write transaction
    /// holds the whole file already), so that the values copied are the values deleted.
    pub fn select_rows(
        &self,
        after: Option<&[Value]>,
        limit: u32,
        table: &ArchivedTable,
        lock: bool,
    ) -> (Sql, Vec<Decode>) {
        let (cols, decode) = self.keys_and_carried(&table.columns);
        let mut q = self.db.sql();
        self.lookups_per_row(&mut q);
        self.next_keys(&mut q, &cols, after, limit);
        if lock {
            match self.d() {
                Dialect::Postgres => {
                    q.push(&format!(" FOR UPDATE OF {T}"));
                }
                Dialect::MySql => {
                    q.push(" FOR UPDATE");
                }
                Dialect::Sqlite => {}
            }
        }
        (q, decode)
    }

    /// The key's columns as `key_select` reads them, then `carried` in the form each travels to
    /// the archive.
    fn keys_and_carried(
        &self,
        carried: &[crate::archive::columns::ArchivedColumn],
    ) -> (Vec<String>, Vec<Decode>) {
        let (mut cols, mut decode) = self.key_selects(T);
        for c in carried {
            cols.push(columns::read_text(
                self.d(),
                &c.carried,
                &self.col(T, &c.name),
            ));
            decode.push(Decode::Text);
        }
        (cols, decode)
    }

    /// Deletes exactly these rows (keys as `key_select` reads them) while the whole predicate
    /// still holds for them.
    pub fn delete_keys(&self, keys: &[Vec<Value>]) -> Sql {
        let mut q = self.db.sql();
        self.lookups_per_row(&mut q);
        q.push(&self.d().delete_from(&self.target_table(), T))
            .push(" WHERE ");
        self.key_in(&mut q, keys);
        q.push(" AND ");
        self.exact().eligible(&mut q);
        q
    }

    /// Which of these keys the table holds: each row's key, and with `table` every column in
    /// the form it is carried to the archive.
    pub fn existing_keys(
        &self,
        keys: &[Vec<Value>],
        table: Option<&ArchivedTable>,
    ) -> (Sql, Vec<Decode>) {
        let (cols, decode) =
            self.keys_and_carried(table.map(|t| t.columns.as_slice()).unwrap_or_default());
        let mut q = self.db.sql();
        q.push(&format!(
            "SELECT {} FROM {} WHERE ",
            cols.join(", "),
            self.target_table()
        ));
        self.key_in(&mut q, keys);
        (q, decode)
    }

    /// `t.k IN (..)`, or `(t.k1, t.k2) IN ((..), ..)` for a composite key.
    fn key_in(&self, q: &mut Sql, keys: &[Vec<Value>]) {
        let cols = &self.target.key;
        let many = cols.len() > 1;
        q.push(&if many {
            // SQLite takes a list of row values only as a table: `IN (VALUES (..), ..)`.
            let values = if self.d() == Dialect::Sqlite {
                "VALUES "
            } else {
                ""
            };
            format!("({}) IN ({values}", self.key_list(T))
        } else {
            format!("{} IN (", self.key_list(T))
        });
        for (i, key) in keys.iter().enumerate() {
            q.push(if i > 0 { ", " } else { "" });
            if many {
                q.push("(");
            }
            for (j, (k, v)) in cols.iter().zip(key).enumerate() {
                if j > 0 {
                    q.push(", ");
                }
                self.key_value(q, k, v);
            }
            if many {
                q.push(")");
            }
        }
        q.push(")");
    }

    /// MariaDB: run this batch statement with per-row index lookups. Its optimizer sizes a
    /// batch by the table's range, not by the LIMIT or the key range, and so materializes the
    /// related (or referencing) table whole for every batch: on the benchmark's 119 000
    /// subscriptions 52 ms for a 1 000-row select and 64 ms for its delete, against 10 ms and
    /// 18 ms with lookups. Only where every lookup has an index; without one, materializing
    /// once per batch is the cheaper way.
    fn lookups_per_row(&self, q: &mut Sql) {
        if let Some(prefix) = self.d().lookups_per_row_prefix(self.db.mariadb)
            && self.target.lookups_indexed
        {
            q.push(prefix);
        }
    }

    /// `SELECT <cols> ... WHERE <eligible> AND <after> AND <up to the walk's end> ORDER BY
    /// <key> LIMIT <limit>`.
    fn next_keys(&self, q: &mut Sql, cols: &[String], after: Option<&[Value]>, limit: u32) {
        q.push(&format!(
            "SELECT {} FROM {} WHERE ",
            cols.join(", "),
            self.target_table()
        ));
        self.eligible(q);
        self.within_walk(q, after);
        q.push(&format!(" ORDER BY {} LIMIT ", self.key_list(T)))
            .bind(Value::Int(limit.into()));
    }

    /// ` AND <after> AND <up to the walk's end>`: the key range still to walk.
    fn within_walk(&self, q: &mut Sql, after: Option<&[Value]>) {
        if let Some(after) = after {
            q.push(" AND ");
            self.after(q, after);
        }
        if let Some(end) = self.walk_end {
            q.push(" AND ");
            self.up_to(q, end);
        }
    }

    fn key_list(&self, alias: &str) -> String {
        self.target
            .key
            .iter()
            .map(|k| self.col(alias, &k.name))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// PostgreSQL: a whole batch as one statement, for a delete or an anonymization done in
    /// SQL. It selects the next keys, writes exactly those rows while repeating the whole
    /// predicate (a row changed meanwhile is re-checked in its new version), and returns the
    /// keys seen, each followed by the number of rows written. Against a select followed by
    /// a range write this saves a round trip and, above all, the planner's choice of hashing
    /// whole related tables for a range it cannot size: the write joins the selected keys.
    /// `None` where another dialect or per-row values need the separate statements.
    pub fn write_batch(&self, after: Option<&[Value]>, limit: u32) -> Option<(Sql, Vec<Decode>)> {
        if !self.writes_in_one_statement() {
            return None;
        }
        const K: &str = "k";
        let mut q = self.db.sql();
        q.push(&format!("WITH {K} AS ("));
        self.next_keys(&mut q, &[self.key_list(T)], after, limit);
        q.push("), w AS (");
        let join: Vec<String> = self
            .target
            .key
            .iter()
            .map(|k| format!("{} = {}", self.col(T, &k.name), self.col(K, &k.name)))
            .collect();
        if self.target.is_delete() {
            q.push(&format!(
                "DELETE FROM {} USING {K} WHERE ",
                self.target_table()
            ));
        } else {
            q.push(&format!("UPDATE {} SET ", self.target_table()));
            self.set_sql_transforms(&mut q);
            q.push(&format!(" FROM {K} WHERE "));
        }
        q.push(&join.join(" AND ")).push(" AND ");
        if self.parents.is_some() {
            // Asked per selected row (`IS TRUE` keeps PostgreSQL from turning the related
            // checks into joins): planned as joins, their row estimates are so low that the
            // planner scans the whole table to join the selected keys last.
            q.push("(");
            self.exact().eligible(&mut q);
            q.push(") IS TRUE");
        } else {
            self.eligible(&mut q);
        }
        // The selected keys lie in this range anyway; stated as constants, it lets the planner
        // leave out the partitions of a partitioned table that lie outside it.
        self.within_walk(&mut q, after);
        q.push(" RETURNING 1)");
        let (cols, mut decode) = self.key_selects(K);
        q.push(&format!(
            " SELECT {}, (SELECT COUNT(*) FROM w) FROM {K} ORDER BY {}",
            cols.join(", "),
            self.key_list(K)
        ));
        decode.push(Decode::Int);
        Some((q, decode))
    }

    /// Whether [`Self::write_batch`] can write this policy's batches.
    pub fn writes_in_one_statement(&self) -> bool {
        self.d() == Dialect::Postgres && !self.target.needs_row_values()
    }

    /// Deletes the eligible rows of one batch's key range, repeating the whole predicate.
    pub fn delete_range(&self, after: Option<&[Value]>, last: &[Value]) -> Sql {
        let mut q = self.db.sql();
        self.lookups_per_row(&mut q);
        q.push(&self.d().delete_from(&self.target_table(), T))
            .push(" WHERE ");
        self.range_and_eligible(&mut q, after, last);
        q
    }

    fn range_and_eligible(&self, q: &mut Sql, after: Option<&[Value]>, last: &[Value]) {
        if let Some(after) = after {
            self.after(q, after);
            q.push(" AND ");
        }
        self.up_to(q, last);
        q.push(" AND ");
        self.exact().eligible(q);
    }

    /// `col = CASE WHEN <needs> THEN <new> ELSE col END` for the transforms done in SQL.
    fn set_sql_transforms(&self, q: &mut Sql) -> bool {
        let mut first = true;
        for (col, t) in &self.target.transforms {
            if transform::computed_outside_sql(col, *t) {
                continue;
            }
            if !first {
                q.push(", ");
            }
            first = false;
            let c = self.col(T, &col.name);
            q.push(&format!("{} = CASE WHEN ", self.db.quote(&col.name)));
            self.needs(q, col, *t);
            q.push(" THEN ");
            match t {
                Transform::Null => {
                    q.push("NULL");
                }
                Transform::Redact => {
                    q.bind(redact_value(col));
                }
                Transform::YearOnly | Transform::MonthOnly => {
                    q.push(&self.d().date_trunc(&c, col.kind, date_part(*t)));
                }
                Transform::EmailDomain => {
                    q.push(&self.d().email_domain(&c));
                }
                Transform::TruncateIp => {
                    q.push(&self.d().truncated_ip(&c, col.kind, col.nullable));
                }
                Transform::Hash => {}
            }
            q.push(&format!(" ELSE {c} END"));
        }
        !first
    }

    /// Anonymizes a batch's key range in one statement (transforms that SQL can compute).
    pub fn update_range(&self, after: Option<&[Value]>, last: &[Value]) -> Sql {
        let mut q = self.db.sql();
        self.lookups_per_row(&mut q);
        q.push(&format!("UPDATE {} SET ", self.target_table()));
        self.set_sql_transforms(&mut q);
        q.push(" WHERE ");
        self.range_and_eligible(&mut q, after, last);
        q
    }

    /// Each row of a batch read by `select_batch`, with the values computed for it here.
    pub fn row_updates<'r>(&self, rows: &'r [Vec<Value>], hash_key: &[u8]) -> Vec<RowUpdate<'r>> {
        const NULL: &Value = &Value::Null;
        let nkey = self.target.key.len();
        let computed: Vec<(&Col, Transform)> = self
            .target
            .transforms
            .iter()
            .filter(|(c, t)| transform::computed_outside_sql(c, *t))
            .map(|(c, t)| (c, *t))
            .collect();
        rows.iter()
            .map(|row| RowUpdate {
                key: row.get(..nkey).unwrap_or_default(),
                columns: computed
                    .iter()
                    .enumerate()
                    .map(|(i, (col, t))| {
                        let read = row.get(nkey + i).unwrap_or(NULL);
                        let new = match read {
                            Value::Text(current) => {
                                transform::computed_value(*t, col.nullable, current, hash_key)
                            }
                            _ => None,
                        };
                        (read, new)
                    })
                    .collect(),
            })
            .collect()
    }

    /// The statements that anonymize a batch read by `select_batch`, with values computed
    /// outside SQL (`hash_key` for `hash`): set-based, each statement joins the policy's table
    /// to a derived table of its rows (key, and per computed column whether it changes, the
    /// new value and the value it was computed from). A row is written only while it still
    /// holds the values read, and while the whole predicate still holds, so that a row
    /// changed since it was read is left for the next run.
    pub fn update_rows(&self, rows: &[Vec<Value>], hash_key: &[u8]) -> Vec<Sql> {
        let in_sql = self
            .target
            .transforms
            .iter()
            .any(|(c, t)| !transform::computed_outside_sql(c, *t));
        // Without transforms done in SQL, a row with nothing computed has nothing to change.
        let updates: Vec<RowUpdate<'_>> = self
            .row_updates(rows, hash_key)
            .into_iter()
            .filter(|r| in_sql || r.columns.iter().any(|(_, new)| new.is_some()))
            .collect();
        updates
            .chunks(self.rows_per_update())
            .map(|group| self.update_group(group))
            .collect()
    }

    /// How many rows one statement of [`Self::update_rows`] carries. PostgreSQL binds a whole
    /// batch as one array per column. The others bind every value: each server limits the
    /// number of bound parameters (SQLite to 32 766, MySQL to 65 535), and a very long
    /// statement costs more to parse than it saves in round trips.
    pub fn rows_per_update(&self) -> usize {
        const MAX_BINDS: usize = 20_000;
        const MAX_ROWS: usize = 500;
        if self.d() == Dialect::Postgres {
            return usize::MAX;
        }
        // Per row: its key, and a flag, a new and an old value per computed column.
        let per_row = self.target.key.len() + 3 * self.row_value_columns().len();
        (MAX_BINDS / per_row.max(1)).clamp(1, MAX_ROWS)
    }

    /// One statement of [`Self::update_rows`].
    fn update_group(&self, rows: &[RowUpdate<'_>]) -> Sql {
        let computed = self.row_value_columns();
        let mut names: Vec<String> = (0..self.target.key.len())
            .map(|j| rows_column("key", j))
            .collect();
        for i in 0..computed.len() {
            names.extend(["set", "new", "old"].map(|what| rows_column(what, i)));
        }
        let table: Vec<Vec<Value>> = rows.iter().map(rows_values).collect();
        let mut q = self.db.sql();
        let key_arrays = match self.d() {
            Dialect::Postgres => self.update_from_arrays(&mut q, &names, &table),
            Dialect::MySql => {
                self.update_join_selects(&mut q, &names, &table);
                Vec::new()
            }
            Dialect::Sqlite => {
                self.update_from_values(&mut q, &names, &table);
                Vec::new()
            }
        };
        if self.d() != Dialect::MySql {
            self.rows_key_match(&mut q);
            q.push(" AND ");
        }
        for restriction in &key_arrays {
            q.push(restriction).push(" AND ");
        }
        for (i, col) in computed.iter().enumerate() {
            q.push(&self.d().still_holds(
                &self.col(T, &col.name),
                &format!("{ROWS}.{}", rows_column("old", i)),
            ))
            .push(" AND ");
        }
        self.exact().eligible(&mut q);
        q
    }

    /// PostgreSQL: `UPDATE ... SET ... FROM unnest($1, $2, ...) AS retentiond_rows(...) WHERE `,
    /// one array per column. Returns `t.k = ANY($1)` for each key column, to add to the
    /// condition: without it the planner reaches the related clock's table through the key's
    /// equivalence and hashes all of it for every statement (135 ms for 1 000 rows against
    /// 119 000 subscriptions, 11 ms with it: the rows looked up by index first).
    fn update_from_arrays(
        &self,
        q: &mut Sql,
        names: &[String],
        table: &[Vec<Value>],
    ) -> Vec<String> {
        q.push(&format!("UPDATE {} SET ", self.target_table()));
        self.set_from_rows(q);
        q.push(" FROM unnest(");
        let mut key_arrays = Vec::new();
        for c in 0..names.len() {
            if c > 0 {
                q.push(", ");
            }
            let column = Value::Array(
                table
                    .iter()
                    .map(|r| r.get(c).cloned().unwrap_or(Value::Null))
                    .collect(),
            );
            let start = q.text.len();
            // A uuid key is read as text (see `key_value`).
            match self.target.key.get(c) {
                Some(k) if k.kind == ColumnKind::Uuid => {
                    q.push("CAST(").bind(column).push(" AS uuid[])");
                }
                _ => {
                    q.bind(column);
                }
            }
            if let Some(k) = self.target.key.get(c) {
                let array = q.text[start..].to_string();
                key_arrays.push(format!("{} = ANY({array})", self.col(T, &k.name)));
            }
        }
        q.push(&format!(") AS {ROWS}({}) WHERE ", names.join(", ")));
        key_arrays
    }

    /// MySQL: `UPDATE ... JOIN (SELECT ? AS key0, ... UNION ALL SELECT ?, ...) AS
    /// retentiond_rows ON <key> SET ... WHERE `.
    fn update_join_selects(&self, q: &mut Sql, names: &[String], table: &[Vec<Value>]) {
        self.lookups_per_row(q);
        q.push(&format!("UPDATE {} JOIN (", self.target_table()));
        for (i, row) in table.iter().enumerate() {
            q.push(if i == 0 {
                "SELECT "
            } else {
                " UNION ALL SELECT "
            });
            for (c, v) in row.iter().enumerate() {
                if c > 0 {
                    q.push(", ");
                }
                q.bind(v.clone());
                if let (0, Some(name)) = (i, names.get(c)) {
                    q.push(&format!(" AS {name}"));
                }
            }
        }
        q.push(&format!(") AS {ROWS} ON "));
        self.rows_key_match(q);
        q.push(" SET ");
        self.set_from_rows(q);
        q.push(" WHERE ");
    }

    /// SQLite: `WITH retentiond_rows(...) AS (VALUES (?, ...), ...) UPDATE ... SET ... FROM
    /// retentiond_rows WHERE `.
    fn update_from_values(&self, q: &mut Sql, names: &[String], table: &[Vec<Value>]) {
        q.push(&format!("WITH {ROWS}({}) AS (VALUES ", names.join(", ")));
        for (i, row) in table.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" });
            for (c, v) in row.iter().enumerate() {
                if c > 0 {
                    q.push(", ");
                }
                q.bind(v.clone());
            }
            q.push(")");
        }
        q.push(&format!(") UPDATE {} SET ", self.target_table()));
        self.set_from_rows(q);
        q.push(&format!(" FROM {ROWS} WHERE "));
    }

    /// `t.k0 = retentiond_rows.key0 AND ...`.
    fn rows_key_match(&self, q: &mut Sql) {
        let matches: Vec<String> = self
            .target
            .key
            .iter()
            .enumerate()
            .map(|(j, k)| {
                format!(
                    "{} = {ROWS}.{}",
                    self.col(T, &k.name),
                    rows_column("key", j)
                )
            })
            .collect();
        q.push(&matches.join(" AND "));
    }

    /// The SET list of [`Self::update_group`]: the transforms done in SQL, then each computed
    /// column from the derived table where its row changes it.
    fn set_from_rows(&self, q: &mut Sql) {
        let mut any = self.set_sql_transforms(q);
        for (i, col) in self.row_value_columns().iter().enumerate() {
            if any {
                q.push(", ");
            }
            any = true;
            q.push(&format!(
                "{} = CASE WHEN {ROWS}.{} = 1 THEN {ROWS}.{} ELSE {} END",
                self.db.quote(&col.name),
                rows_column("set", i),
                rows_column("new", i),
                self.col(T, &col.name)
            ));
        }
    }

    /// A key value read by `key_select`, bound in the column's own type: PostgreSQL compares a
    /// uuid with a text parameter only after a cast (which also keeps the uuid index usable).
    fn key_value(&self, q: &mut Sql, k: &Col, v: &Value) {
        if self.d() == Dialect::Postgres && k.kind == ColumnKind::Uuid {
            q.push("CAST(").bind(v.clone()).push(" AS uuid)");
        } else {
            q.bind(v.clone());
        }
    }

    /// Checks that the policy's statement (its filter above all) is valid SQL on this table.
    /// The false conjunct lets the planner skip reading rows: with nothing expired, the
    /// statement alone would read the whole table.
    pub fn probe(&self) -> Sql {
        let mut q = self.db.sql();
        q.push(&format!(
            "SELECT COUNT(*) FROM (SELECT 1 AS x FROM {} WHERE ",
            self.target_table()
        ));
        self.eligible(&mut q);
        q.push(" AND 1 = 0 LIMIT 1) AS probe");
        q
    }
}

/// The name of the parents table's `i`-th column.
fn parent_column(i: usize) -> String {
    format!("k{i}")
}

/// A constant that fits the column: text shortened to the column's length, numbers zero.
fn redact_value(col: &Col) -> Value {
    match col.kind {
        ColumnKind::Integer | ColumnKind::Numeric => Value::Int(0),
        _ => {
            let text = "redacted";
            let n = col
                .max_len
                .map_or(text.len(), |n| (n.max(1) as usize).min(text.len()));
            Value::Text(text[..n].to_string())
        }
    }
}

/// The period `year_only` or `month_only` keeps.
fn date_part(t: Transform) -> DatePart {
    if t == Transform::YearOnly {
        DatePart::Year
    } else {
        DatePart::Month
    }
}
