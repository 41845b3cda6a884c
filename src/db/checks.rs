//! What the catalog says a written value must satisfy beyond its type: CHECK constraints
//! (including the implicit `json_valid(col)` of a MariaDB `JSON` column) and PostgreSQL's
//! `UNIQUE NULLS NOT DISTINCT` keys, on which NULL collides like any other value.

use super::schema::Schema;
use super::{Context, Db, DbError, Decode, Dialect, Sql, Value};

/// One CHECK constraint of a table, with the columns its expression mentions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckConstraint {
    pub name: String,
    /// The expression as the catalog gives it, for messages.
    pub clause: String,
    pub columns: Vec<String>,
}

impl CheckConstraint {
    /// Whether writing NULL into `column` is proved to satisfy this constraint: a CHECK refuses
    /// only false, and an expression that reads no other column and uses no construct that
    /// turns NULL into a value (`IS`, `COALESCE`, `CASE`, ...) gives NULL for NULL, as
    /// `json_valid(col)` (MariaDB's JSON columns) and `char_length(col) >= 3` do.
    pub fn passes_null_in(&self, column: &str) -> bool {
        null_stays_null(&self.clause, &self.columns, column)
    }
}

/// Whether an expression that reads `columns` is proved to give NULL when `column` is NULL:
/// it reads no other column and uses no construct that turns NULL into a value (`IS`,
/// `COALESCE`, `CASE`, ...).
pub fn null_stays_null(expression: &str, columns: &[String], column: &str) -> bool {
    const NULL_AWARE: [&str; 13] = [
        "is",
        "coalesce",
        "ifnull",
        "nvl",
        "isnull",
        "notnull",
        "case",
        "nullif",
        "concat",
        "concat_ws",
        "greatest",
        "least",
        "format",
    ];
    columns == [column] && !words(expression).any(|w| NULL_AWARE.contains(&w.as_str()))
}

/// The words of an expression, lowercased: names, keywords, numbers.
pub fn words(expression: &str) -> impl Iterator<Item = String> + '_ {
    expression
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// Fills `Table::checks` and `Table::nulls_not_distinct` from the catalog.
pub async fn load(db: &Db, schema: &mut Schema) -> Result<(), DbError> {
    let found = match db.dialect {
        Dialect::Postgres => postgres(db).await?,
        Dialect::MySql => mysql(db, schema).await?,
        Dialect::Sqlite => sqlite(db, schema).await?,
    };
    for (table, check) in found.checks {
        if let Some(t) = schema.tables.get_mut(&table) {
            t.checks.push(check);
        }
    }
    for (table, columns) in found.nulls_not_distinct {
        if let Some(t) = schema.tables.get_mut(&table) {
            t.nulls_not_distinct.push(columns);
        }
    }
    Ok(())
}

#[derive(Default)]
struct Found {
    checks: Vec<(String, CheckConstraint)>,
    nulls_not_distinct: Vec<(String, Vec<String>)>,
}

fn text(v: &Value) -> String {
    match v {
        Value::Text(s) => s.clone(),
        _ => String::new(),
    }
}

const CTX: &str = "reading the database's CHECK constraints";

async fn postgres(db: &Db) -> Result<Found, DbError> {
    let ns = Value::Text(db.schema.clone().unwrap_or_else(|| "public".into()));
    let mut tx = db.begin().await?;
    let mut q = Sql::new(Dialect::Postgres);
    q.push(
        "SELECT t.relname::text, c.conname::text, pg_get_constraintdef(c.oid)::text, \
         COALESCE((SELECT string_agg(a.attname::text, ',' ORDER BY a.attnum) FROM pg_attribute a \
           WHERE a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)), '') \
         FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE c.contype = 'c' AND n.nspname = ",
    )
    .bind(ns.clone())
    .push(" ORDER BY 1, 2");
    let rows = tx.fetch(&q, &[Decode::Text; 4]).await.ctx(|| CTX.into())?;
    let mut found = Found::default();
    for r in rows {
        let columns = text(&r[3])
            .split(',')
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect();
        found.checks.push((
            text(&r[0]),
            CheckConstraint {
                name: text(&r[1]),
                clause: text(&r[2]),
                columns,
            },
        ));
    }
    // indnullsnotdistinct exists from PostgreSQL 15 on; before, NULLs never collide.
    let version = tx
        .fetch_i64(&Sql::raw(
            Dialect::Postgres,
            "SELECT current_setting('server_version_num')::bigint",
        ))
        .await
        .ctx(|| CTX.into())?;
    if version >= 150_000 {
        let mut q = Sql::new(Dialect::Postgres);
        q.push(
            "SELECT t.relname::text, (SELECT string_agg(a.attname::text, ',' ORDER BY k.ord) \
               FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
               JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum) \
             FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             WHERE ix.indisunique AND ix.indnullsnotdistinct AND n.nspname = ",
        )
        .bind(ns);
        let rows = tx.fetch(&q, &[Decode::Text; 2]).await.ctx(|| CTX.into())?;
        for r in rows {
            let columns = text(&r[1]).split(',').map(str::to_string).collect();
            found.nulls_not_distinct.push((text(&r[0]), columns));
        }
    }
    tx.rollback().await.ctx(|| CTX.into())?;
    Ok(found)
}

/// The columns of `table` whose quoted name (`` `col` `` or `"col"`) or bare name appears in
/// `clause`; a false mention only makes the check stricter.
pub(super) fn mentioned(schema: &Schema, table: &str, clause: &str) -> Vec<String> {
    let lower = clause.to_lowercase();
    let Some(t) = schema.table(table) else {
        return Vec::new();
    };
    t.columns
        .iter()
        .filter(|c| {
            let name = c.name.to_lowercase();
            lower.match_indices(&name).any(|(i, _)| {
                let before = lower[..i].chars().next_back();
                let after = lower[i + name.len()..].chars().next();
                let boundary = |ch: Option<char>| {
                    ch.is_none_or(|ch| !(ch.is_alphanumeric() || ch == '_' || ch == '$'))
                };
                boundary(before) && boundary(after)
            })
        })
        .map(|c| c.name.clone())
        .collect()
}

async fn mysql(db: &Db, schema: &Schema) -> Result<Found, DbError> {
    let mut tx = db.begin().await?;
    // MariaDB lists the table with each constraint; MySQL 8 names it in TABLE_CONSTRAINTS.
    let sql = if db.mariadb {
        "SELECT CAST(TABLE_NAME AS CHAR), CAST(CONSTRAINT_NAME AS CHAR), CAST(CHECK_CLAUSE AS CHAR) \
         FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() ORDER BY 1, 2"
    } else {
        "SELECT CAST(tc.TABLE_NAME AS CHAR), CAST(cc.CONSTRAINT_NAME AS CHAR), CAST(cc.CHECK_CLAUSE AS CHAR) \
         FROM information_schema.CHECK_CONSTRAINTS cc JOIN information_schema.TABLE_CONSTRAINTS tc \
         ON tc.CONSTRAINT_SCHEMA = cc.CONSTRAINT_SCHEMA AND tc.CONSTRAINT_NAME = cc.CONSTRAINT_NAME \
         AND tc.CONSTRAINT_TYPE = 'CHECK' WHERE cc.CONSTRAINT_SCHEMA = DATABASE() ORDER BY 1, 2"
    };
    let rows = tx
        .fetch(&Sql::raw(Dialect::MySql, sql), &[Decode::Text; 3])
        .await
        .ctx(|| CTX.into())?;
    tx.rollback().await.ctx(|| CTX.into())?;
    let mut found = Found::default();
    for r in rows {
        let (table, clause) = (text(&r[0]), text(&r[2]));
        let columns = mentioned(schema, &table, &clause);
        found.checks.push((
            table,
            CheckConstraint {
                name: text(&r[1]),
                clause,
                columns,
            },
        ));
    }
    Ok(found)
}

/// Every `CHECK (...)` in a table's SQL, column and table constraints alike, with its name
/// when a `CONSTRAINT name` precedes it.
fn sqlite_checks(sql: &str) -> Vec<(String, String)> {
    let lower = sql.to_lowercase();
    let mut out = Vec::new();
    for (i, _) in lower.match_indices("check") {
        let before = lower[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &sql[i + 5..];
        let Some(open) = rest.find('(') else { continue };
        if !rest[..open].trim().is_empty() {
            continue;
        }
        let mut depth = 0;
        let mut end = None;
        for (j, ch) in rest[open..].char_indices() {
            match ch {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(open + j);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(end) = end else { continue };
        let clause = rest[open + 1..end].trim().to_string();
        let name = lower[..i]
            .trim_end()
            .rsplit_once("constraint")
            .filter(|(_, n)| n.split_whitespace().count() == 1)
            .map(|(_, n)| n.trim().trim_matches(['"', '`', '[', ']']).to_string())
            .unwrap_or_else(|| "CHECK".to_string());
        out.push((name, clause));
    }
    out
}

async fn sqlite(db: &Db, schema: &Schema) -> Result<Found, DbError> {
    let mut tx = db.begin().await?;
    let rows = tx
        .fetch(
            &Sql::raw(
                Dialect::Sqlite,
                "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL",
            ),
            &[Decode::Text; 2],
        )
        .await
        .ctx(|| CTX.into())?;
    tx.rollback().await.ctx(|| CTX.into())?;
    let mut found = Found::default();
    for r in rows {
        let table = text(&r[0]);
        for (name, clause) in sqlite_checks(&text(&r[1])) {
            let columns = mentioned(schema, &table, &clause);
            found.checks.push((
                table.clone(),
                CheckConstraint {
                    name,
                    clause,
                    columns,
                },
            ));
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_sqlite_checks_with_their_names() {
        let sql = "CREATE TABLE t (id INTEGER PRIMARY KEY, doc TEXT CHECK (json_valid(doc)), \
                   n INT, CONSTRAINT n_positive CHECK ((n > 0) AND (n < 10)))";
        assert_eq!(
            sqlite_checks(sql),
            vec![
                ("CHECK".to_string(), "json_valid(doc)".to_string()),
                ("n_positive".to_string(), "(n > 0) AND (n < 10)".to_string()),
            ]
        );
    }

    #[test]
    fn null_passes_only_null_strict_checks_of_the_column_alone() {
        let c = |clause: &str, columns: &[&str]| CheckConstraint {
            name: "c".into(),
            clause: clause.into(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
        };
        assert!(c("json_valid(`doc`)", &["doc"]).passes_null_in("doc"));
        assert!(
            c("CHECK ((char_length(username) >= 3))", &["username"]).passes_null_in("username")
        );
        assert!(!c("`doc` is not null", &["doc"]).passes_null_in("doc"));
        assert!(!c("coalesce(doc, '') <> ''", &["doc"]).passes_null_in("doc"));
        assert!(!c("doc <> other", &["doc", "other"]).passes_null_in("doc"));
    }
}
