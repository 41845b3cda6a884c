//! The archive: a database of its own (`[archive]`) where `action = "archive"` moves rows
//! before they are deleted live. Its tables are made here from the live tables' columns; each
//! row there carries the run and batch that copied it, its digest, and whether its live delete
//! has committed (`archived`) or not yet (`copied`).

pub mod columns;
pub mod copy;

use crate::config::{DatabaseConfig, RunConfig};
use crate::db::schema::{ForeignKey, OnDelete, Schema};
use crate::db::{Access, Context, Db, DbError, Decode, Dialect, Sql, Tx, Value};
use crate::engine::{CheckIssue, Target};
use crate::store::Store;
use columns::{ArchivedColumn, Carried};
use std::collections::BTreeMap;

/// The state of a copy whose live delete has not committed (or not been seen to commit).
pub const COPIED: &str = "copied";
/// The state of a copy whose live row is gone: the archive is its one place.
pub const ARCHIVED: &str = "archived";

/// retentiond's columns in every archived table, after the live table's own.
pub const POLICY: &str = "retentiond_policy";
pub const RUN: &str = "retentiond_run";
pub const BATCH: &str = "retentiond_batch";
pub const STATE: &str = "retentiond_state";
pub const DIGEST: &str = "retentiond_digest";
pub const ARCHIVED_AT: &str = "retentiond_archived_at";
const BOOKKEEPING: [&str; 6] = [POLICY, RUN, BATCH, STATE, DIGEST, ARCHIVED_AT];

/// One live table as the archive keeps it.
#[derive(Debug, Clone)]
pub struct ArchivedTable {
    /// The table's name, the same in the archive as live.
    pub name: String,
    /// Every live column, in the live table's order.
    pub columns: Vec<ArchivedColumn>,
    /// The key's columns, as positions in `columns`, in the policy's key order.
    pub key: Vec<usize>,
}

impl ArchivedTable {
    /// How each of `target`'s table's columns is carried, or what stops one of them.
    pub fn plan(target: &Target, schema: &Schema, live: Dialect) -> Result<Self, Vec<CheckIssue>> {
        let issue = |message: String| CheckIssue {
            policy: target.name().to_string(),
            path: format!("policies[{}].table", target.index),
            message,
        };
        let Some(table) = schema.table(target.table()) else {
            return Err(vec![issue(format!(
                "table \"{}\" is not in the live schema",
                target.table()
            ))]);
        };
        let mut issues = Vec::new();
        let mut cols = Vec::new();
        for c in &table.columns {
            if BOOKKEEPING.contains(&c.name.as_str()) {
                issues.push(issue(format!(
                    "column \"{}\" has the name of a column retentiond adds to archived tables",
                    c.name
                )));
                continue;
            }
            let is_key = target.key.iter().any(|k| k.name == c.name);
            match columns::carried(live, c) {
                // An unsigned BIGINT key is paged as a signed one everywhere (live too); as
                // NUMERIC(20,0) in a PostgreSQL archive the archive's own policies could not
                // page it at all. A value past the signed range is refused by the archive's
                // column, so the row stays live.
                Ok(Carried::BigInteger) if is_key => cols.push(ArchivedColumn {
                    name: c.name.clone(),
                    carried: Carried::Integer,
                    is_key,
                    max_len: c.max_len,
                }),
                Ok(carried) => {
                    if is_key && !key_kind_supported(live, &carried) {
                        issues.push(issue(format!(
                            "key column \"{}\" is {}: an archived table's key must be an integer, \
                             text, uuid or binary column{}",
                            c.name,
                            c.column_type,
                            if live == Dialect::Sqlite {
                                ""
                            } else {
                                ", a date or a timestamp"
                            }
                        )));
                    }
                    cols.push(ArchivedColumn {
                        name: c.name.clone(),
                        carried,
                        is_key,
                        max_len: c.max_len,
                    });
                }
                Err(why) => issues.push(issue(why)),
            }
        }
        if !issues.is_empty() {
            return Err(issues);
        }
        let key = target
            .key
            .iter()
            .filter_map(|k| cols.iter().position(|c| c.name == k.name))
            .collect();
        Ok(ArchivedTable {
            name: target.table().to_string(),
            columns: cols,
            key,
        })
    }

    pub fn key_columns(&self) -> impl Iterator<Item = &ArchivedColumn> {
        self.key.iter().map(|&i| &self.columns[i])
    }

    /// Of one row's common-form values (in `columns` order), its key's.
    pub fn key_of(&self, values: &[Option<String>]) -> Vec<Option<String>> {
        self.key.iter().map(|&i| values[i].clone()).collect()
    }
}

/// SQLite keeps dates and times as the text the application wrote, which the common form
/// rewrites: a key read back in another form would not find its live row.
fn key_kind_supported(live: Dialect, c: &Carried) -> bool {
    match c {
        Carried::Integer
        | Carried::BigInteger
        | Carried::Text
        | Carried::Uuid
        | Carried::Binary => true,
        Carried::Date | Carried::Timestamp | Carried::Instant => live != Dialect::Sqlite,
        _ => false,
    }
}

/// The connected archive and the tables the archive policies keep there.
pub struct Archive {
    pub db: Db,
    pub config: DatabaseConfig,
    /// By live table name.
    pub tables: BTreeMap<String, ArchivedTable>,
    /// The live foreign keys from one archived table to another. The archive has no foreign
    /// keys of its own, so its policies would otherwise delete an invoice before the payment
    /// that points to it, leaving the payment without the row its own rules read.
    pub references: Vec<ForeignKey>,
}

impl Archive {
    pub async fn connect(
        config: &DatabaseConfig,
        run: &RunConfig,
        access: Access,
    ) -> Result<Archive, DbError> {
        Ok(Archive {
            db: Db::connect(config, run, access).await?,
            config: config.clone(),
            tables: BTreeMap::new(),
            references: Vec::new(),
        })
    }

    pub fn store(&self) -> Store<'_> {
        Store::new(&self.db, &self.config.table_prefix)
    }

    pub fn table(&self, live_table: &str) -> Option<&ArchivedTable> {
        self.tables.get(live_table)
    }

    /// Keeps the live foreign keys of `schema` whose child and parent are both archived, as
    /// references the archive's policies respect (blocked rows, children first) though no
    /// database enforces them there.
    pub fn inherit_references(&mut self, schema: &Schema) {
        self.references = schema
            .foreign_keys
            .iter()
            .filter(|fk| {
                fk.child.schema.is_none()
                    && self.tables.contains_key(&fk.child.name)
                    && self.tables.contains_key(&fk.parent)
            })
            .map(|fk| ForeignKey {
                on_delete: OnDelete::Restrict,
                ..fk.clone()
            })
            .collect();
    }

    /// The inherited references that `schema` (the archive's) has both ends and every
    /// column of.
    pub fn references_in(&self, schema: &Schema) -> Vec<ForeignKey> {
        let has = |table: &str, cols: &[String]| {
            schema
                .table(table)
                .is_some_and(|t| cols.iter().all(|c| t.column(c).is_some()))
        };
        self.references
            .iter()
            .filter(|fk| {
                has(&fk.child.name, &fk.child_columns) && has(&fk.parent, &fk.parent_columns)
            })
            .cloned()
            .collect()
    }

    /// What `check` says of the archive's tables: those that the first run will create, and
    /// those whose columns differ from what the live table now needs.
    pub async fn describe(&self) -> Result<(Vec<String>, Vec<String>), DbError> {
        let schema = Schema::load(&self.db).await?;
        let mut notes = Vec::new();
        let mut problems = Vec::new();
        for t in self.tables.values() {
            match schema.table(&t.name) {
                None => notes.push(format!(
                    "archive table \"{}\" does not exist yet: the first run creates it",
                    t.name
                )),
                Some(existing) => {
                    let missing: Vec<&str> = t
                        .columns
                        .iter()
                        .map(|c| c.name.as_str())
                        .chain(BOOKKEEPING)
                        .filter(|c| existing.column(c).is_none())
                        .collect();
                    let key: Vec<&str> = t.key_columns().map(|c| c.name.as_str()).collect();
                    if existing.primary_key != key {
                        problems.push(format!(
                            "archive table \"{}\" has the primary key ({}), not the live key ({}): \
                             rename it, and the next run creates the table anew",
                            t.name,
                            existing.primary_key.join(", "),
                            key.join(", ")
                        ));
                    } else if !missing.is_empty() {
                        notes.push(format!(
                            "archive table \"{}\" lacks the column(s) {}: the next run adds them",
                            t.name,
                            missing.join(", ")
                        ));
                    }
                }
            }
        }
        Ok((notes, problems))
    }

    /// Before a writing run: retentiond's own tables in the archive (its audit trail), and
    /// every archived table with every column it needs now. A live column added since the
    /// table was made is added to it (NULL in the rows archived before).
    pub async fn prepare(&self) -> Result<(), DbError> {
        self.store().migrate().await?;
        let schema = Schema::load(&self.db).await?;
        for t in self.tables.values() {
            let what = || format!("creating the archive table \"{}\"", t.name);
            match schema.table(&t.name) {
                None => {
                    for statement in self.create_table(t) {
                        self.db
                            .write(&Sql::raw(self.db.dialect, &statement), &what())
                            .await?;
                    }
                }
                Some(existing) => {
                    let key: Vec<&str> = t.key_columns().map(|c| c.name.as_str()).collect();
                    if existing.primary_key != key {
                        return Err(DbError::Refused {
                            context: format!("archive table \"{}\"", t.name),
                            reason: format!(
                                "its primary key is ({}), the live key is ({})",
                                existing.primary_key.join(", "),
                                key.join(", ")
                            ),
                        });
                    }
                    for c in t
                        .columns
                        .iter()
                        .filter(|c| existing.column(&c.name).is_none())
                    {
                        let statement = format!(
                            "ALTER TABLE {} ADD COLUMN {} {}",
                            self.db.table(&t.name),
                            self.db.quote(&c.name),
                            columns::archive_type(self.db.dialect, self.db.mariadb, c)
                        );
                        self.db
                            .write(&Sql::raw(self.db.dialect, &statement), &what())
                            .await?;
                        tracing::info!(
                            table = t.name,
                            column = c.name,
                            "added a column to the archive table"
                        );
                    }
                }
            }
        }
        Ok(())
    }

    fn create_table(&self, t: &ArchivedTable) -> Vec<String> {
        let d = self.db.dialect;
        let text = |len: u32| match d {
            Dialect::MySql => format!("VARCHAR({len})"),
            _ => "TEXT".to_string(),
        };
        let mut defs: Vec<String> = t
            .columns
            .iter()
            .map(|c| {
                let ty = columns::archive_type(d, self.db.mariadb, c);
                let not_null = if c.is_key && !ty.contains("NOT NULL") {
                    " NOT NULL"
                } else {
                    ""
                };
                format!("{} {ty}{not_null}", d.quote(&c.name))
            })
            .collect();
        defs.extend([
            format!("{} {} NOT NULL", d.quote(POLICY), text(200)),
            format!("{} BIGINT NOT NULL", d.quote(RUN)),
            format!("{} BIGINT NOT NULL", d.quote(BATCH)),
            // MySQL rewrites a row whose VARCHAR grows ('copied' to 'archived'); a fixed-width
            // column is updated in place, four times faster per batch.
            format!(
                "{} {} NOT NULL",
                d.quote(STATE),
                match d {
                    Dialect::MySql => "CHAR(8) CHARACTER SET ascii COLLATE ascii_bin".to_string(),
                    _ => text(16),
                }
            ),
            format!("{} {} NOT NULL", d.quote(DIGEST), text(64)),
            format!("{} {} NOT NULL", d.quote(ARCHIVED_AT), text(32)),
        ]);
        let key: Vec<String> = t.key_columns().map(|c| d.quote(&c.name)).collect();
        defs.push(format!("PRIMARY KEY ({})", key.join(", ")));
        // Index names within every dialect's limit (MySQL's 64 characters).
        let prefix: String = t.name.chars().take(40).collect();
        let table = self.db.table(&t.name);
        // The inherited references are looked up from the parent's side on every delete there.
        let mut indexes = vec![(format!("{prefix}_retentiond_state"), vec![d.quote(STATE)])];
        for (n, fk) in self
            .references
            .iter()
            .filter(|fk| fk.child.name == t.name)
            .enumerate()
        {
            indexes.push((
                format!("{prefix}_retentiond_ref{}", n + 1),
                fk.child_columns.iter().map(|c| d.quote(c)).collect(),
            ));
        }
        match d {
            Dialect::MySql => {
                for (name, cols) in &indexes {
                    defs.push(format!("KEY {} ({})", d.quote(name), cols.join(", ")));
                }
                vec![format!(
                    "CREATE TABLE IF NOT EXISTS {table} ({}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
                    defs.join(", ")
                )]
            }
            Dialect::Postgres | Dialect::Sqlite => {
                let mut statements = vec![format!(
                    "CREATE TABLE IF NOT EXISTS {table} ({})",
                    defs.join(", ")
                )];
                statements.extend(indexes.iter().map(|(name, cols)| {
                    format!(
                        "CREATE INDEX IF NOT EXISTS {} ON {table} ({})",
                        d.quote(name),
                        cols.join(", ")
                    )
                }));
                statements
            }
        }
    }

    /// Makes the copies' transaction as strict and durable as the live delete relies on: a
    /// commit on a PostgreSQL archive is on disk (whatever `synchronous_commit` says), and
    /// MySQL refuses a value its column cannot hold instead of cutting it.
    pub async fn durable(&self, tx: &mut Tx<'_>) -> Result<(), DbError> {
        let statement = match self.db.dialect {
            Dialect::Postgres => "SET LOCAL synchronous_commit = on",
            Dialect::MySql => {
                "SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',STRICT_ALL_TABLES')"
            }
            Dialect::Sqlite => return Ok(()),
        };
        tx.execute(&Sql::raw(self.db.dialect, statement))
            .await
            .ctx(|| "setting up the archive's transaction".into())?;
        Ok(())
    }

    /// `SELECT` of every column in its carried form, from the archived table `t`.
    fn select_values(&self, t: &ArchivedTable, extra: &[&str]) -> String {
        let d = self.db.dialect;
        let mut cols: Vec<String> = t
            .columns
            .iter()
            .map(|c| columns::read_text(d, &c.carried, &format!("a.{}", d.quote(&c.name))))
            .collect();
        cols.extend(extra.iter().map(|e| format!("a.{}", d.quote(e))));
        format!(
            "SELECT {} FROM {} AS a",
            cols.join(", "),
            self.db.table(&t.name)
        )
    }

    /// `(k1, k2) IN ((..), (..))` (or `k IN (..)`) for keys in their common form; `alias`
    /// qualifies the columns (`a.`), or is empty.
    fn push_keys_in(
        &self,
        q: &mut Sql,
        t: &ArchivedTable,
        keys: &[&[Option<String>]],
        alias: &str,
    ) -> Result<(), DbError> {
        let d = self.db.dialect;
        let names: Vec<String> = t
            .key_columns()
            .map(|c| format!("{alias}{}", d.quote(&c.name)))
            .collect();
        let many = names.len() > 1;
        // SQLite takes a list of row values only as a table: `IN (VALUES (..), ..)`.
        let values = if many && d == Dialect::Sqlite {
            "VALUES "
        } else {
            ""
        };
        q.push(&if many {
            format!("({}) IN ({values}", names.join(", "))
        } else {
            format!("{} IN (", names[0])
        });
        for (i, key) in keys.iter().enumerate() {
            q.push(if i > 0 { ", " } else { "" });
            if many {
                q.push("(");
            }
            for (j, (c, v)) in t.key_columns().zip(key.iter()).enumerate() {
                if j > 0 {
                    q.push(", ");
                }
                columns::push_value(q, &c.carried, v.as_deref())
                    .map_err(|why| refused(&t.name, why))?;
            }
            if many {
                q.push(")");
            }
        }
        q.push(")");
        Ok(())
    }

    /// The archived table's rows with these keys: per key, its state and the digest of the
    /// values the archive holds now (computed from them, not the stored digest).
    pub async fn read_back(
        &self,
        tx: &mut Tx<'_>,
        t: &ArchivedTable,
        keys: &[&[Option<String>]],
    ) -> Result<BTreeMap<Vec<Option<String>>, HeldCopy>, DbError> {
        let mut out = BTreeMap::new();
        for chunk in keys.chunks(self.keys_per_statement(t)) {
            let mut q = self.db.sql();
            q.push(&self.select_values(t, &[STATE]));
            q.push(" WHERE ");
            self.push_keys_in(&mut q, t, chunk, "a.")?;
            let decode = vec![Decode::Text; t.columns.len() + 1];
            let rows = tx
                .fetch(&q, &decode)
                .await
                .ctx(|| format!("reading back the archive's copies in \"{}\"", t.name))?;
            for row in rows {
                let values = common_form(t, &row[..t.columns.len()]);
                let state = match row.last() {
                    Some(Value::Text(s)) => s.clone(),
                    _ => String::new(),
                };
                out.insert(
                    t.key_of(&values),
                    HeldCopy {
                        state,
                        digest: columns::digest(&t.columns, &values),
                        values,
                    },
                );
            }
        }
        Ok(out)
    }

    /// How many keys one statement lists: each server limits the bound values per statement.
    pub fn keys_per_statement(&self, t: &ArchivedTable) -> usize {
        (10_000 / t.key.len().max(1)).max(1)
    }

    /// Rows per upsert statement, within the same limit.
    fn rows_per_insert(&self, t: &ArchivedTable) -> usize {
        (10_000 / (t.columns.len() + BOOKKEEPING.len())).clamp(1, 500)
    }

    /// Writes `rows` (common-form values, in `columns` order) as copies of this batch, one
    /// statement per group: a key already there is overwritten, so that a repeated batch
    /// leaves one copy, and the newest.
    pub async fn upsert(
        &self,
        tx: &mut Tx<'_>,
        t: &ArchivedTable,
        rows: &[(&[Option<String>], &str)],
        stamp: &Stamp<'_>,
    ) -> Result<(), DbError> {
        let d = self.db.dialect;
        let mut names: Vec<String> = t.columns.iter().map(|c| d.quote(&c.name)).collect();
        names.extend(BOOKKEEPING.iter().map(|b| d.quote(b)));
        let key: Vec<String> = t.key_columns().map(|c| d.quote(&c.name)).collect();
        let updates: Vec<String> = names
            .iter()
            .filter(|n| !key.contains(n))
            .map(|n| match d {
                Dialect::Postgres => format!("{n} = EXCLUDED.{n}"),
                Dialect::MySql => format!("{n} = VALUES({n})"),
                Dialect::Sqlite => format!("{n} = excluded.{n}"),
            })
            .collect();
        for group in rows.chunks(self.rows_per_insert(t)) {
            let mut q = self.db.sql();
            q.push(&format!(
                "INSERT INTO {} ({}) VALUES ",
                self.db.table(&t.name),
                names.join(", ")
            ));
            for (i, (values, digest)) in group.iter().enumerate() {
                q.push(if i > 0 { ", (" } else { "(" });
                for (c, v) in t.columns.iter().zip(values.iter()) {
                    columns::push_value(&mut q, &c.carried, v.as_deref())
                        .map_err(|why| refused(&t.name, why))?;
                    q.push(", ");
                }
                q.bind(Value::Text(stamp.policy.to_string())).push(", ");
                q.bind(Value::Int(stamp.run)).push(", ");
                q.bind(Value::Int(stamp.batch)).push(", ");
                q.bind(Value::Text(COPIED.into())).push(", ");
                q.bind(Value::Text(digest.to_string())).push(", ");
                q.bind(Value::Text(stamp.at.to_string())).push(")");
            }
            q.push(&match d {
                Dialect::MySql => " ON DUPLICATE KEY UPDATE ".to_string(),
                _ => format!(" ON CONFLICT ({}) DO UPDATE SET ", key.join(", ")),
            });
            q.push(&updates.join(", "));
            tx.execute(&q)
                .await
                .ctx(|| format!("writing copies to the archive table \"{}\"", t.name))?;
        }
        Ok(())
    }

    /// Marks these copies archived (their live rows are gone) or, with `remove`, deletes
    /// those of them still in state `copied` (their live rows stay).
    pub async fn settle(
        &self,
        tx: &mut Tx<'_>,
        t: &ArchivedTable,
        keys: &[&[Option<String>]],
        remove: bool,
    ) -> Result<u64, DbError> {
        let mut n = 0;
        for chunk in keys.chunks(self.keys_per_statement(t)) {
            let d = self.db.dialect;
            let mut q = self.db.sql();
            // MySQL's DELETE and UPDATE name the table without an alias here.
            if remove {
                q.push(&format!("DELETE FROM {} ", self.db.table(&t.name)));
            } else {
                q.push(&format!(
                    "UPDATE {} SET {} = ",
                    self.db.table(&t.name),
                    d.quote(STATE)
                ))
                .bind(Value::Text(ARCHIVED.into()));
            }
            // Removal only ever takes a copy still `copied`. Marking needs no such condition
            // (an `archived` copy stays so), and without it MariaDB finds the rows by their key
            // instead of walking the state's index: 360 ms against a few ms per 10 000 rows.
            q.push(" WHERE ");
            if remove {
                q.push(&format!("{} = ", d.quote(STATE)))
                    .bind(Value::Text(COPIED.into()))
                    .push(" AND ");
            }
            self.push_keys_in(&mut q, t, chunk, "")?;
            n += tx
                .execute(&q)
                .await
                .ctx(|| format!("settling copies in the archive table \"{}\"", t.name))?;
        }
        Ok(n)
    }

    /// Copies that a policy wrote and whose live delete was not seen to commit, at most
    /// `limit` of them.
    pub async fn unsettled(
        &self,
        t: &ArchivedTable,
        policy: &str,
        limit: u32,
    ) -> Result<Vec<Unsettled>, DbError> {
        let d = self.db.dialect;
        let mut q = self.db.sql();
        q.push(&self.select_values(t, &[RUN, BATCH]));
        q.push(&format!(" WHERE a.{} = ", d.quote(STATE)))
            .bind(Value::Text(COPIED.into()))
            .push(&format!(" AND a.{} = ", d.quote(POLICY)))
            .bind(Value::Text(policy.into()))
            .push(" LIMIT ")
            .bind(Value::Int(limit.into()));
        let mut decode = vec![Decode::Text; t.columns.len()];
        decode.extend([Decode::Int, Decode::Int]);
        let rows = self
            .db
            .read(&q, &decode, "reading unsettled archive copies")
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let values = common_form(t, &r[..t.columns.len()]);
                let int = |v: Option<&Value>| match v {
                    Some(Value::Int(i)) => *i,
                    _ => -1,
                };
                Unsettled {
                    key: t.key_of(&values),
                    digest: columns::digest(&t.columns, &values),
                    run: int(r.get(t.columns.len())),
                    batch: int(r.get(t.columns.len() + 1)),
                }
            })
            .collect())
    }
}

/// A copy in state `copied`: its key, the digest of what it holds, and the batch that wrote it.
pub struct Unsettled {
    pub key: Vec<Option<String>>,
    pub digest: String,
    pub run: i64,
    pub batch: i64,
}

/// A row as the archive holds it.
pub struct HeldCopy {
    pub state: String,
    pub digest: String,
    pub values: Vec<Option<String>>,
}

/// What every copy of one batch records about where it came from.
pub struct Stamp<'a> {
    pub policy: &'a str,
    pub run: i64,
    pub batch: i64,
    pub at: &'a str,
}

/// Text values read by `read_text`, in their common form.
pub fn common_form(t: &ArchivedTable, row: &[Value]) -> Vec<Option<String>> {
    t.columns
        .iter()
        .zip(row)
        .map(|(c, v)| match v {
            Value::Text(s) => Some(columns::canonical(&c.carried, s)),
            _ => None,
        })
        .collect()
}

pub fn refused(table: &str, reason: String) -> DbError {
    DbError::Refused {
        context: format!("archiving \"{table}\""),
        reason,
    }
}
