//! Whether the database user may do what a run will do, asked of the server before anything is
//! written. Each kind of statement a run needs is planned with `EXPLAIN` (never executed), so
//! the server applies its own rules: table and column grants, roles, ownership. A missing grant
//! then shows in `check` and stops a run before its first batch, instead of failing halfway.

use super::target::{CheckIssue, Target, TargetClock, TargetSubject};
use crate::db::schema::TableName;
use crate::db::{Db, DbError, Dialect};
use std::collections::BTreeSet;

/// One statement to plan, and what to say when the server refuses it.
struct Need {
    path: String,
    policy: String,
    what: String,
    statement: String,
    /// One of retentiond's own tables (named), which the first real run creates if it may.
    own: Option<String>,
    /// Only a real run does this (writes, and keeps its records in its own tables); `plan` and
    /// a dry run only count.
    run_only: bool,
}

/// The grants the server refuses, split by who needs them.
#[derive(Debug, Default)]
pub struct Denied {
    /// Needed to count: by every command.
    pub to_count: Vec<CheckIssue>,
    /// Needed by a real run only: a warning for `plan` and a dry run.
    pub to_write: Vec<CheckIssue>,
}

/// "No such table" on PostgreSQL and MySQL. MySQL says "denied" instead when the account has
/// no privilege in the database at all, so it cannot tell a missing table from a hidden one.
fn no_such_table(e: &dyn sqlx::error::DatabaseError) -> bool {
    matches!(e.code().as_deref(), Some("42P01" | "42S02"))
}

/// Every privilege the run needs that the server refuses, each named once with the first policy
/// that needs it. SQLite has no privileges: nothing to ask.
pub async fn missing(db: &Db, targets: &[Target], prefix: &str) -> Result<Denied, DbError> {
    let mut denied = Denied::default();
    if db.dialect == Dialect::Sqlite {
        return Ok(denied);
    }
    let mut asked = BTreeSet::new();
    // Own tables found missing: their other statements are not asked (each would log an
    // error on the server), nor any own table once the first, `runs`, is missing.
    let mut absent = BTreeSet::new();
    let first_own = format!("{prefix}{}", crate::store::TABLES[0]);
    for need in needs(db, targets, prefix) {
        if let Some(own) = &need.own
            && (absent.contains(own) || absent.contains(&first_own))
        {
            continue;
        }
        if !asked.insert(need.statement.clone()) {
            continue;
        }
        if let Err(e) = db.explain(&need.statement).await {
            match e {
                sqlx::Error::Database(d) if need.own.is_some() && no_such_table(d.as_ref()) => {
                    absent.extend(need.own);
                }
                sqlx::Error::Database(d) => {
                    let issue = CheckIssue {
                        policy: need.policy,
                        path: need.path,
                        message: format!(
                            "the database user may not {}: {}",
                            need.what,
                            d.message()
                        ),
                    };
                    if need.run_only {
                        denied.to_write.push(issue);
                    } else {
                        denied.to_count.push(issue);
                    }
                }
                // Not an answer about privileges (a lost connection): say so as such.
                other => {
                    return Err(DbError::Query {
                        context: format!("checking whether the database user may {}", need.what),
                        source: other,
                    });
                }
            }
        }
    }
    Ok(denied)
}

fn needs(db: &Db, targets: &[Target], prefix: &str) -> Vec<Need> {
    let mut out = Vec::new();
    for t in targets {
        let at = |key: &str| format!("policies[{}].{key}", t.index);
        let policy = t.name().to_string();
        let mut reads = vec![(TableName::local(t.table()), at("table"))];
        if let TargetClock::Related { table, .. } = &t.clock {
            reads.push((TableName::local(table), at("since.table")));
        }
        if let Some(TargetSubject::Related { table, .. }) = &t.subject {
            reads.push((TableName::local(table), at("subject.table")));
        }
        if t.is_delete() {
            // The blocked count reads every table that references this one.
            for fk in &t.blockers {
                reads.push((fk.child.clone(), at("table")));
            }
        }
        for (table, path) in reads {
            out.push(Need {
                path,
                policy: policy.clone(),
                what: format!("read \"{table}\""),
                statement: format!("SELECT 1 FROM {} WHERE 1 = 0", db.qualified(&table)),
                own: None,
                run_only: false,
            });
        }
        let table = db.table(t.table());
        if t.is_archive() && db.dialect != crate::db::Dialect::Sqlite {
            // An archive batch locks the rows it copies until it deletes them. PostgreSQL lets
            // only an account with UPDATE on some column lock rows.
            out.push(Need {
                path: at("action"),
                policy: policy.clone(),
                what: format!(
                    "lock rows of \"{}\" (SELECT ... FOR UPDATE; on PostgreSQL this needs UPDATE on one column, e.g. GRANT UPDATE (id))",
                    t.table()
                ),
                statement: format!("SELECT 1 FROM {table} WHERE 1 = 0 FOR UPDATE"),
                own: None,
                run_only: true,
            });
        }
        if t.is_delete() {
            out.push(Need {
                path: at("action"),
                policy: policy.clone(),
                what: format!("delete from \"{}\"", t.table()),
                statement: format!("DELETE FROM {table} WHERE 1 = 0"),
                own: None,
                run_only: true,
            });
        } else if !t.transforms.is_empty() {
            let columns: Vec<&str> = t.transforms.iter().map(|(c, _)| c.name.as_str()).collect();
            let set = columns
                .iter()
                .map(|c| format!("{0} = {0}", db.quote(c)))
                .collect::<Vec<_>>()
                .join(", ");
            out.push(Need {
                path: at("columns"),
                policy,
                what: format!("update \"{}\" ({})", t.table(), columns.join(", ")),
                statement: format!("UPDATE {table} SET {set} WHERE 1 = 0"),
                own: None,
                run_only: true,
            });
        }
    }
    // retentiond reads, inserts into, updates and prunes its own tables. They are asked about
    // even when the catalog does not list them: MySQL hides the tables an account may not use.
    for own in crate::store::TABLES {
        let name = format!("{prefix}{own}");
        let table = db.table(&name);
        let column = db.quote(if own == "migrations" { "version" } else { "id" });
        for (what, statement) in [
            ("read", format!("SELECT 1 FROM {table} WHERE 1 = 0")),
            (
                "insert into",
                format!("INSERT INTO {table} SELECT * FROM {table} WHERE 1 = 0"),
            ),
            (
                "update",
                format!("UPDATE {table} SET {column} = {column} WHERE 1 = 0"),
            ),
            ("delete from", format!("DELETE FROM {table} WHERE 1 = 0")),
        ] {
            out.push(Need {
                path: "database.table_prefix".into(),
                policy: String::new(),
                what: format!("{what} retentiond's own table \"{name}\""),
                statement,
                own: Some(name.clone()),
                // Counting reads only the holds table, and only once the catalog shows it.
                run_only: true,
            });
        }
    }
    out
}
