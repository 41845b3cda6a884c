//! The live catalog of each database, read as typed rows: one module per dialect, each
//! answering the same questions (which relations, columns, unique keys, index leaders and
//! foreign keys there are). `Schema::load` assembles the answers.

mod mysql;
mod postgres;
mod sqlite;

use super::schema::{HiddenReference, OnDelete, RelationKind, TableName};
use super::{Context, Db, DbError, Decode, Dialect, Sql, Tx, Value};

/// A named relation of the configured schema (database, SQLite file) and what it is.
#[derive(Debug, Clone)]
pub struct RelationRow {
    pub name: String,
    pub kind: RelationKind,
    /// MySQL: the table's storage engine, where that engine cannot roll a transaction back.
    pub non_transactional_engine: Option<String>,
}

/// One column of a base table of the configured schema.
#[derive(Debug, Clone)]
pub struct ColumnRow {
    pub table: String,
    pub name: String,
    pub data_type: String,
    pub column_type: String,
    pub max_len: Option<i64>,
    pub nullable: bool,
    /// The expression of a generated column.
    pub generation: Option<String>,
}

/// One column of a unique index (or the primary key), in index order.
#[derive(Debug, Clone)]
pub struct KeyRow {
    pub table: String,
    pub index: String,
    pub primary: bool,
    pub column: String,
}

/// A unique index that is no key a row can be addressed by: one on expressions, or a partial
/// one (with a `WHERE` condition).
#[derive(Debug, Clone)]
pub struct UniqueIndexRow {
    pub table: String,
    pub index: String,
    /// The index as the catalog prints it (`CREATE UNIQUE INDEX ...`), for messages.
    pub definition: String,
    /// The columns it holds as they are, comma-separated.
    pub columns: String,
    /// Its expressions, as text.
    pub expressions: Option<String>,
    /// Its condition, as text.
    pub predicate: Option<String>,
}

/// The first column of an index, of a table in the configured schema or of one elsewhere that
/// references it.
#[derive(Debug, Clone)]
pub struct LeaderRow {
    pub table: TableName,
    pub column: String,
}

/// One column pair of a foreign key that references a table of the configured schema, from any
/// schema or database the account can see, in key order.
#[derive(Debug, Clone)]
pub struct ForeignKeyRow {
    pub name: String,
    pub child: TableName,
    pub parent: String,
    pub on_delete: OnDelete,
    pub child_column: String,
    /// Empty where SQLite leaves it out: the parent's primary key.
    pub parent_column: String,
}

/// Everything `Schema` is built from.
#[derive(Debug, Default)]
pub struct Catalog {
    pub relations: Vec<RelationRow>,
    pub columns: Vec<ColumnRow>,
    pub keys: Vec<KeyRow>,
    pub unique_indexes: Vec<UniqueIndexRow>,
    pub leaders: Vec<LeaderRow>,
    pub foreign_keys: Vec<ForeignKeyRow>,
    /// Every foreign key the storage engine enforces on the schema's tables, visible to this
    /// account or not; `None` where the account may not read that list (MySQL without the
    /// PROCESS privilege). PostgreSQL and SQLite show every key: nothing beyond them.
    pub enforced_references: Option<Vec<HiddenReference>>,
}

/// Reads the catalog of the connected database in `tx`.
pub async fn read(db: &Db, tx: &mut Tx<'_>) -> Result<Catalog, DbError> {
    match db.dialect {
        Dialect::Postgres => {
            let schema = db.schema.clone().unwrap_or_else(|| "public".into());
            postgres::read(tx, &schema).await
        }
        Dialect::MySql => mysql::read(tx, db.mariadb).await,
        Dialect::Sqlite => sqlite::read(tx).await,
    }
}

/// A row of a catalog query, decoded from its cells in the order the query selects them.
trait CatalogRow: Sized {
    const CELLS: &'static [Decode];
    fn decode(cells: &mut Cells) -> Result<Self, DbError>;
}

/// The cells of one fetched row, taken in order.
struct Cells {
    what: &'static str,
    values: std::vec::IntoIter<Value>,
}

impl Cells {
    fn next(&mut self) -> Value {
        self.values.next().unwrap_or(Value::Null)
    }

    fn text(&mut self) -> Result<String, DbError> {
        self.opt_text()?.ok_or_else(|| {
            DbError::Unexpected(format!(
                "reading the database schema ({}): the catalog gave no value where a name belongs",
                self.what
            ))
        })
    }

    fn opt_text(&mut self) -> Result<Option<String>, DbError> {
        match self.next() {
            Value::Text(s) => Ok(Some(s)),
            Value::Null => Ok(None),
            other => Err(self.unexpected(&other)),
        }
    }

    fn opt_int(&mut self) -> Result<Option<i64>, DbError> {
        match self.next() {
            Value::Int(n) => Ok(Some(n)),
            Value::Null => Ok(None),
            other => Err(self.unexpected(&other)),
        }
    }

    /// A 0/1 flag (NULL is false).
    fn flag(&mut self) -> Result<bool, DbError> {
        Ok(self.opt_int()? == Some(1))
    }

    fn unexpected(&self, v: &Value) -> DbError {
        DbError::Unexpected(format!(
            "reading the database schema ({}): unexpected value {}",
            self.what,
            v.render()
        ))
    }
}

/// Runs a catalog query and decodes its rows; `what` names it in errors.
async fn fetch<R: CatalogRow>(
    tx: &mut Tx<'_>,
    q: &Sql,
    what: &'static str,
) -> Result<Vec<R>, DbError> {
    let rows = tx
        .fetch(q, R::CELLS)
        .await
        .ctx(|| format!("reading the database schema ({what})"))?;
    rows.into_iter()
        .map(|values| {
            R::decode(&mut Cells {
                what,
                values: values.into_iter(),
            })
        })
        .collect()
}

/// Selected as: name, kind (see `RelationKind::from_catalog`), root of a partition, the
/// engine where it cannot roll back.
impl CatalogRow for RelationRow {
    const CELLS: &'static [Decode] = &[Decode::Text, Decode::Text, Decode::Text, Decode::Text];
    fn decode(c: &mut Cells) -> Result<Self, DbError> {
        let name = c.text()?;
        let kind = c.text()?;
        let root = c.opt_text()?;
        Ok(RelationRow {
            name,
            kind: RelationKind::from_catalog(&kind, root),
            non_transactional_engine: c.opt_text()?,
        })
    }
}

/// Selected as: table, column, data type, maximum length, nullable (0/1), full type,
/// generation expression (NULL: not generated).
impl CatalogRow for ColumnRow {
    const CELLS: &'static [Decode] = &[
        Decode::Text,
        Decode::Text,
        Decode::Text,
        Decode::Int,
        Decode::Int,
        Decode::Text,
        Decode::Text,
    ];
    fn decode(c: &mut Cells) -> Result<Self, DbError> {
        Ok(ColumnRow {
            table: c.text()?,
            name: c.text()?,
            data_type: c.text()?,
            max_len: c.opt_int()?,
            nullable: c.flag()?,
            column_type: c.opt_text()?.unwrap_or_default(),
            generation: c.opt_text()?,
        })
    }
}

/// Selected as: table, index, primary (0/1), column.
impl CatalogRow for KeyRow {
    const CELLS: &'static [Decode] = &[Decode::Text, Decode::Text, Decode::Int, Decode::Text];
    fn decode(c: &mut Cells) -> Result<Self, DbError> {
        Ok(KeyRow {
            table: c.text()?,
            index: c.text()?,
            primary: c.flag()?,
            column: c.text()?,
        })
    }
}

/// Selected as: table, index, definition, plain columns (comma-separated), expressions,
/// condition.
impl CatalogRow for UniqueIndexRow {
    const CELLS: &'static [Decode] = &[Decode::Text; 6];
    fn decode(c: &mut Cells) -> Result<Self, DbError> {
        Ok(UniqueIndexRow {
            table: c.text()?,
            index: c.text()?,
            definition: c.text()?,
            columns: c.opt_text()?.unwrap_or_default(),
            expressions: c.opt_text()?,
            predicate: c.opt_text()?,
        })
    }
}

/// Selected as: schema (NULL for the configured one), table, column.
impl CatalogRow for LeaderRow {
    const CELLS: &'static [Decode] = &[Decode::Text, Decode::Text, Decode::Text];
    fn decode(c: &mut Cells) -> Result<Self, DbError> {
        let schema = c.opt_text()?;
        Ok(LeaderRow {
            table: TableName {
                schema,
                name: c.text()?,
            },
            column: c.text()?,
        })
    }
}

/// Selected as: constraint, child schema (NULL for the configured one), child table, parent
/// table, delete rule (SQL words), child column, parent column (NULL: the parent's key).
impl CatalogRow for ForeignKeyRow {
    const CELLS: &'static [Decode] = &[Decode::Text; 7];
    fn decode(c: &mut Cells) -> Result<Self, DbError> {
        let name = c.text()?;
        let schema = c.opt_text()?;
        let child = TableName {
            schema,
            name: c.text()?,
        };
        Ok(ForeignKeyRow {
            name,
            child,
            parent: c.text()?,
            on_delete: delete_rule(&c.text()?),
            child_column: c.text()?,
            parent_column: c.opt_text()?.unwrap_or_default(),
        })
    }
}

fn delete_rule(rule: &str) -> OnDelete {
    match rule.to_ascii_uppercase().as_str() {
        "CASCADE" => OnDelete::Cascade,
        "SET NULL" => OnDelete::SetNull,
        "SET DEFAULT" => OnDelete::SetDefault,
        _ => OnDelete::Restrict,
    }
}

/// Selected as: constraint, child schema (NULL for the configured one), child table, parent
/// table.
impl CatalogRow for HiddenReference {
    const CELLS: &'static [Decode] = &[Decode::Text; 4];
    fn decode(c: &mut Cells) -> Result<Self, DbError> {
        let name = c.text()?;
        let schema = c.opt_text()?;
        Ok(HiddenReference {
            name,
            child: TableName {
                schema,
                name: c.text()?,
            },
            parent: c.text()?,
        })
    }
}
