//! SQLite: `sqlite_master` and the table-valued pragmas, one table at a time.

use super::{
    Catalog, CatalogRow, Cells, ColumnRow, ForeignKeyRow, KeyRow, LeaderRow, RelationKind,
    RelationRow, fetch,
};
use crate::db::schema::TableName;
use crate::db::{DbError, Decode, Dialect, Sql, Tx, Value};

pub async fn read(tx: &mut Tx) -> Result<Catalog, DbError> {
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

fn on_table(before: &str, table: &str, after: &str) -> Sql {
    let mut q = Sql::new(Dialect::Sqlite);
    q.push(before)
        .bind(Value::Text(table.to_string()))
        .push(after);
    q
}

async fn read_table(tx: &mut Tx, table: &str, catalog: &mut Catalog) -> Result<(), DbError> {
    let mut q = on_table("SELECT ", table, "");
    q.push(
        ", name, type, NULL, CASE WHEN \"notnull\" = 0 AND pk = 0 THEN 1 ELSE 0 END, type, pk \
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
        "SELECT name FROM pragma_index_list(",
        table,
        ") WHERE \"unique\" = 1 AND partial = 0 ORDER BY name",
    );
    for index in fetch::<Name>(tx, &q, "keys")
        .await?
        .into_iter()
        .filter_map(|n| n.0)
    {
        let q = on_table(
            "SELECT name FROM pragma_index_info(",
            &index,
            ") ORDER BY seqno",
        );
        let cols = fetch::<Name>(tx, &q, "keys").await?;
        // An index on an expression is no key a row can be addressed by.
        if let Some(cols) = cols.into_iter().map(|n| n.0).collect::<Option<Vec<_>>>() {
            catalog.keys.extend(cols.into_iter().map(|column| KeyRow {
                table: table.to_string(),
                index: index.clone(),
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
