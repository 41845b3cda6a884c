//! SQLite: `sqlite_master` and the table-valued pragmas, one table at a time.

use super::{
    Catalog, CatalogRow, Cells, ColumnRow, ForeignKeyRow, KeyRow, LeaderRow, RelationKind,
    RelationRow, UniqueIndexRow, fetch,
};
use crate::db::schema::TableName;
use crate::db::{DbError, Decode, Dialect, Sql, Tx, Value};

pub async fn read(tx: &mut Tx<'_>) -> Result<Catalog, DbError> {
    let q = Sql::raw(
        Dialect::Sqlite,
        "SELECT name, type, NULL, NULL FROM sqlite_master WHERE type IN ('table', 'view') \
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    );
    let relations = fetch::<RelationRow>(tx, &q, "relations").await?;
    let mut catalog = Catalog::default();
    for table in relations.iter().filter(|r| r.kind == RelationKind::Table) {
        read_table(tx, &table.name, &mut catalog).await?;
    }
    catalog.relations = relations;
    // One file, no privileges: every foreign key is in the pragmas.
    catalog.enforced_references = Some(Vec::new());
    Ok(catalog)
}

/// A column with its place in the primary key (0: not part of it).
struct PragmaColumn {
    column: ColumnRow,
    pk: i64,
}

/// Selected as `ColumnRow`'s cells, then the place in the primary key.
impl CatalogRow for PragmaColumn {
    const CELLS: &'static [Decode] = &[
        Decode::Text,
        Decode::Text,
        Decode::Text,
        Decode::Int,
        Decode::Int,
        Decode::Text,
        Decode::Text,
        Decode::Int,
    ];
    fn decode(c: &mut Cells) -> Result<Self, DbError> {
        Ok(PragmaColumn {
            column: ColumnRow::decode(c)?,
            pk: c.opt_int()?.unwrap_or(0),
        })
    }
}

/// A single name (an index, or an index's column: NULL for an expression).
struct Name(Option<String>);

impl CatalogRow for Name {
    const CELLS: &'static [Decode] = &[Decode::Text];
    fn decode(c: &mut Cells) -> Result<Self, DbError> {
        Ok(Name(c.opt_text()?))
    }
}

/// A unique index: its name, whether it has a condition, and its SQL (none for the index of
/// a UNIQUE constraint).
struct UniqueIndex {
    name: String,
    partial: bool,
    sql: Option<String>,
}

impl CatalogRow for UniqueIndex {
    const CELLS: &'static [Decode] = &[Decode::Text, Decode::Int, Decode::Text];
    fn decode(c: &mut Cells) -> Result<Self, DbError> {
        Ok(UniqueIndex {
            name: c.text()?,
            partial: c.flag()?,
            sql: c.opt_text()?,
        })
    }
}

/// SQLite keeps an index's expressions and condition only in its `CREATE INDEX` text: the
/// column list starts at the first parenthesis and the condition at the `WHERE` after it. A
/// misplaced split only counts a column in more places, which makes `check` stricter.
fn unique_index_row(
    table: &str,
    index: UniqueIndex,
    plain: Vec<String>,
    on_expression: bool,
) -> UniqueIndexRow {
    let sql = index.sql.unwrap_or_default();
    let start = sql.find('(').unwrap_or(0);
    let lower = sql.to_ascii_lowercase();
    let condition = lower[start..]
        .match_indices("where")
        .map(|(i, _)| start + i)
        .find(|&i| {
            let word = |ch: Option<char>| ch.is_some_and(|ch| ch.is_alphanumeric() || ch == '_');
            !word(lower[..i].chars().next_back()) && !word(lower[i + 5..].chars().next())
        });
    let (list, predicate) = match condition {
        Some(i) => (&sql[start..i], Some(sql[i + 5..].trim().to_string())),
        None => (&sql[start..], None),
    };
    UniqueIndexRow {
        table: table.to_string(),
        index: index.name,
        columns: plain.join(","),
        expressions: on_expression.then(|| list.trim().to_string()),
        predicate: if index.partial {
            predicate.or_else(|| Some(sql.clone()))
        } else {
            None
        },
        definition: sql,
    }
}

fn on_table(before: &str, table: &str, after: &str) -> Sql {
    let mut q = Sql::new(Dialect::Sqlite);
    q.push(before)
        .bind(Value::Text(table.to_string()))
        .push(after);
    q
}

async fn read_table(tx: &mut Tx<'_>, table: &str, catalog: &mut Catalog) -> Result<(), DbError> {
    let mut q = on_table("SELECT ", table, "");
    q.push(
        ", name, type, NULL, CASE WHEN \"notnull\" = 0 AND pk = 0 THEN 1 ELSE 0 END, type, NULL, pk \
         FROM pragma_table_info(",
    )
    .bind(Value::Text(table.to_string()))
    .push(") ORDER BY cid");
    let columns = fetch::<PragmaColumn>(tx, &q, "columns").await?;
    let mut pk: Vec<(i64, String)> = columns
        .iter()
        .filter(|c| c.pk > 0)
        .map(|c| (c.pk, c.column.name.clone()))
        .collect();
    pk.sort();
    catalog.keys.extend(pk.iter().map(|(_, column)| KeyRow {
        table: table.to_string(),
        index: String::new(),
        primary: true,
        column: column.clone(),
    }));
    catalog
        .columns
        .extend(columns.into_iter().map(|c| c.column));

    let q = on_table(
        "SELECT ii.name FROM pragma_index_list(",
        table,
        ") AS il, pragma_index_info(il.name) AS ii WHERE il.partial = 0 AND ii.seqno = 0 AND ii.name IS NOT NULL",
    );
    let leaders = fetch::<Name>(tx, &q, "indexes").await?;
    let local = || TableName::local(table);
    catalog.leaders.extend(
        leaders
            .into_iter()
            .filter_map(|n| n.0)
            .map(|column| LeaderRow {
                table: local(),
                column,
            }),
    );
    // The rowid alias is the table itself, ordered by that column.
    if let [(_, only)] = pk.as_slice() {
        catalog.leaders.push(LeaderRow {
            table: local(),
            column: only.clone(),
        });
    }

    let q = on_table(
        "SELECT il.name, il.partial, m.sql FROM pragma_index_list(",
        table,
        ") AS il LEFT JOIN sqlite_master m ON m.type = 'index' AND m.name = il.name \
         WHERE il.\"unique\" = 1 ORDER BY il.name",
    );
    for index in fetch::<UniqueIndex>(tx, &q, "keys").await? {
        let q = on_table(
            "SELECT name FROM pragma_index_info(",
            &index.name,
            ") ORDER BY seqno",
        );
        let cols: Vec<Option<String>> = fetch::<Name>(tx, &q, "keys")
            .await?
            .into_iter()
            .map(|n| n.0)
            .collect();
        let plain: Vec<String> = cols.iter().flatten().cloned().collect();
        let on_expression = plain.len() < cols.len();
        // An index on an expression or with a condition is no key a row can be addressed by.
        if index.partial || on_expression {
            catalog
                .unique_indexes
                .push(unique_index_row(table, index, plain, on_expression));
        } else {
            catalog.keys.extend(plain.into_iter().map(|column| KeyRow {
                table: table.to_string(),
                index: index.name.clone(),
                primary: false,
                column,
            }));
        }
    }

    let mut q = Sql::new(Dialect::Sqlite);
    q.push("SELECT ")
        .bind(Value::Text(format!("{table}#")))
        .push(" || id, NULL, ")
        .bind(Value::Text(table.to_string()))
        .push(", \"table\", on_delete, \"from\", \"to\" FROM pragma_foreign_key_list(")
        .bind(Value::Text(table.to_string()))
        .push(") ORDER BY id, seq");
    catalog
        .foreign_keys
        .extend(fetch::<ForeignKeyRow>(tx, &q, "foreign keys").await?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(sql: &str, partial: bool) -> UniqueIndex {
        UniqueIndex {
            name: "i".into(),
            partial,
            sql: Some(sql.into()),
        }
    }

    #[test]
    fn an_index_sql_splits_into_its_expressions_and_its_condition() {
        let row = unique_index_row(
            "users",
            index(
                "CREATE UNIQUE INDEX \"where_idx\" ON users (lower(email), tenant_id) WHERE deleted_at IS NULL",
                true,
            ),
            vec!["tenant_id".into()],
            true,
        );
        assert_eq!(row.columns, "tenant_id");
        assert_eq!(
            row.expressions.as_deref(),
            Some("(lower(email), tenant_id)")
        );
        assert_eq!(row.predicate.as_deref(), Some("deleted_at IS NULL"));
        // A condition the split cannot find counts the whole text.
        let row = unique_index_row(
            "users",
            index("CREATE UNIQUE INDEX i ON users (email)", true),
            vec!["email".into()],
            false,
        );
        assert_eq!(row.expressions, None);
        assert_eq!(
            row.predicate.as_deref(),
            Some("CREATE UNIQUE INDEX i ON users (email)")
        );
    }
}
