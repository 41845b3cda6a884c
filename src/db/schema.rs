//! What the live catalog says about the tables of the configured schema (PostgreSQL), database
//! (MySQL) or file (SQLite): tables, columns, keys and the foreign keys that reference them.
//! The per-dialect reading is in `super::catalog`.

use super::catalog::{self, Catalog, ColumnRow, ForeignKeyRow, KeyRow, LeaderRow, UniqueIndexRow};
use super::{Context, Db, DbError};
use std::collections::BTreeMap;
use std::fmt;

/// What a column holds, as far as retention cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Integer,
    Text,
    Date,
    /// A timestamp without zone: read in `database.timezone`.
    Timestamp,
    /// A point in time (PostgreSQL `timestamptz`, MySQL `TIMESTAMP`).
    TimestampTz,
    Boolean,
    Numeric,
    /// PostgreSQL `uuid`, MariaDB `UUID`.
    Uuid,
    /// Bytes: `BINARY`/`VARBINARY`, `bytea`, SQLite `BLOB`.
    Binary,
    /// An IP address type that holds both families: PostgreSQL `inet`/`cidr`, MariaDB `INET6`.
    Inet,
    /// MariaDB `INET4`.
    Inet4,
    Other,
}

impl ColumnKind {
    pub fn is_temporal(self) -> bool {
        matches!(
            self,
            ColumnKind::Date | ColumnKind::Timestamp | ColumnKind::TimestampTz
        )
    }
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub kind: ColumnKind,
    /// The type as the catalog names it, for messages.
    pub data_type: String,
    /// The type in full, where the catalog has more than `data_type` says: PostgreSQL's
    /// `udt_name` (`uuid`, `inet`, `int4`), MySQL's `COLUMN_TYPE` (`int(10) unsigned`,
    /// `binary(16)`), SQLite's declared type.
    pub column_type: String,
    pub max_len: Option<i64>,
    pub nullable: bool,
    /// The expression of a generated column (MariaDB `AS (...) VIRTUAL`, PostgreSQL
    /// `GENERATED ALWAYS AS (...) STORED`).
    pub generation: Option<String>,
}

/// A table by its place: `schema` is `None` for the configured PostgreSQL schema or the
/// connection's MySQL database (and always on SQLite), else the other schema or database.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TableName {
    pub schema: Option<String>,
    pub name: String,
}

impl TableName {
    /// A table of the configured schema.
    pub fn local(name: &str) -> TableName {
        TableName {
            schema: None,
            name: name.to_string(),
        }
    }

    /// Whether this is `name` of the configured schema.
    pub fn is_local(&self, name: &str) -> bool {
        self.schema.is_none() && self.name == name
    }
}

/// `invoices`, or `billing.invoices` outside the configured schema (for messages).
impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// What a name in the schema is when it is not a table a policy can purge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelationKind {
    Table,
    /// PostgreSQL's declarative partitioning: the table a policy names.
    PartitionedTable,
    /// One partition of the partitioned table `root`.
    Partition {
        root: String,
    },
    View,
    MaterializedView,
    ForeignTable,
    /// Anything else the catalog lists (a MariaDB sequence, a system-versioned table).
    Other(String),
}

impl RelationKind {
    /// From the words the catalog queries select: `table`, `partitioned table`, `partition`
    /// (with its root), `view`, `materialized view`, `foreign table`.
    pub fn from_catalog(kind: &str, root: Option<String>) -> RelationKind {
        match (kind, root) {
            ("table", _) => RelationKind::Table,
            ("partitioned table", _) => RelationKind::PartitionedTable,
            ("partition", Some(root)) => RelationKind::Partition { root },
            ("view", _) => RelationKind::View,
            ("materialized view", _) => RelationKind::MaterializedView,
            ("foreign table", _) => RelationKind::ForeignTable,
            (other, _) => RelationKind::Other(other.to_string()),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    pub primary_key: Vec<String>,
    pub unique_keys: Vec<Vec<String>>,
    /// Columns that lead some index: a range on them can be read without scanning the table.
    pub index_leaders: std::collections::BTreeSet<String>,
    /// MySQL: the storage engine, where it cannot roll a transaction back (MyISAM, Aria,
    /// MEMORY).
    pub non_transactional_engine: Option<String>,
    /// CHECK constraints (see `checks::load`).
    pub checks: Vec<super::checks::CheckConstraint>,
    /// PostgreSQL `UNIQUE NULLS NOT DISTINCT` keys: NULL collides there like any value.
    pub nulls_not_distinct: Vec<Vec<String>>,
    /// Unique indexes that are no key (on expressions, or partial): the server enforces them,
    /// but no row can be addressed by them.
    pub unique_indexes: Vec<UniqueIndex>,
}

/// A unique index on expressions (`lower(email)`) or with a condition (`WHERE deleted_at IS
/// NULL`), with the columns each part reads. A column is counted wherever its name appears in
/// the text, which at worst makes `check` stricter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UniqueIndex {
    pub name: String,
    /// As the catalog prints it, for messages.
    pub definition: String,
    /// The columns it holds as they are.
    pub columns: Vec<String>,
    /// Its expressions as text, and the columns they read.
    pub expressions: Option<String>,
    pub expression_columns: Vec<String>,
    /// Its condition as text, and the columns it reads.
    pub predicate: Option<String>,
    pub predicate_columns: Vec<String>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDelete {
    /// RESTRICT or NO ACTION: the parent cannot go while children reference it.
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

/// A foreign key that references a table of the configured schema; its child may be in
/// another schema or database.
#[derive(Debug, Clone)]
pub struct ForeignKey {
    pub name: String,
    pub child: TableName,
    pub child_columns: Vec<String>,
    pub parent: String,
    pub parent_columns: Vec<String>,
    pub on_delete: OnDelete,
}

/// A foreign key the storage engine enforces on a table of the configured database from a
/// table this account has no privilege on (MySQL's `information_schema` hides those).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HiddenReference {
    pub name: String,
    pub child: TableName,
    pub parent: String,
}

#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// The base tables (and partitioned tables) of the configured schema, by name.
    pub tables: BTreeMap<String, Table>,
    /// The other relations of the configured schema (views, partitions, ...), for messages.
    pub other_relations: BTreeMap<String, RelationKind>,
    /// Tables of other schemas or databases that reference one in it: their index leaders.
    pub referencing_elsewhere: BTreeMap<TableName, Table>,
    pub foreign_keys: Vec<ForeignKey>,
    /// Foreign keys that reference a table of the schema from tables this account cannot see.
    pub hidden_references: Vec<HiddenReference>,
    /// The account may not read the list of enforced foreign keys (MySQL without PROCESS):
    /// references from tables it cannot see would go unnoticed.
    pub hidden_references_unknown: bool,
}

impl Schema {
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(name)
    }

    /// A table of the configured schema or one elsewhere that references it.
    pub fn table_named(&self, name: &TableName) -> Option<&Table> {
        match &name.schema {
            None => self.tables.get(&name.name),
            Some(_) => self.referencing_elsewhere.get(name),
        }
    }

    /// What `name` is, when it is no table of the schema.
    pub fn relation(&self, name: &str) -> Option<&RelationKind> {
        self.other_relations.get(name)
    }

    /// Foreign keys whose parent is `table`.
    pub fn referencing(&self, table: &str) -> impl Iterator<Item = &ForeignKey> {
        self.foreign_keys
            .iter()
            .filter(move |fk| fk.parent == table)
    }

    /// A name that differs only in case, to suggest when a lookup fails.
    pub fn similar_table(&self, name: &str) -> Option<&str> {
        self.tables
            .keys()
            .find(|t| t.eq_ignore_ascii_case(name))
            .map(String::as_str)
    }

    pub async fn load(db: &Db) -> Result<Schema, DbError> {
        let mut tx = db.begin().await?;
        let catalog = catalog::read(db, &mut tx).await?;
        tx.rollback()
            .await
            .ctx(|| "reading the database schema".to_string())?;
        let kind = match db.dialect {
            super::Dialect::Postgres => pg_kind,
            super::Dialect::MySql => mysql_kind,
            super::Dialect::Sqlite => sqlite_kind,
        };
        let mut schema = Schema::assemble(catalog, kind);
        super::checks::load(db, &mut schema).await?;
        Ok(schema)
    }

    fn assemble(catalog: Catalog, kind: fn(&str, &str) -> ColumnKind) -> Schema {
        let mut schema = Schema::default();
        schema.add_columns(catalog.columns, kind);
        schema.add_relations(catalog.relations);
        schema.add_keys(catalog.keys);
        schema.add_unique_indexes(catalog.unique_indexes);
        schema.add_index_leaders(catalog.leaders);
        schema.add_foreign_keys(catalog.foreign_keys);
        schema.add_hidden_references(catalog.enforced_references);
        schema
    }

    fn add_columns(&mut self, rows: Vec<ColumnRow>, kind: fn(&str, &str) -> ColumnKind) {
        for r in rows {
            let t = self.tables.entry(r.table.clone()).or_insert_with(|| Table {
                name: r.table,
                ..Table::default()
            });
            t.columns.push(Column {
                name: r.name,
                kind: kind(&r.data_type, &r.column_type),
                data_type: r.data_type,
                column_type: r.column_type,
                max_len: r.max_len,
                nullable: r.nullable,
                generation: r.generation,
            });
        }
    }

    /// Partitions leave the tables: a policy names their partitioned table.
    fn add_relations(&mut self, rows: Vec<catalog::RelationRow>) {
        for r in rows {
            match r.kind {
                RelationKind::Table | RelationKind::PartitionedTable => {
                    if let Some(t) = self.tables.get_mut(&r.name) {
                        t.non_transactional_engine = r.non_transactional_engine;
                    }
                }
                kind => {
                    self.tables.remove(&r.name);
                    self.other_relations.insert(r.name, kind);
                }
            }
        }
    }

    fn add_index_leaders(&mut self, rows: Vec<LeaderRow>) {
        for r in rows {
            let table = match &r.table.schema {
                None => self.tables.get_mut(&r.table.name),
                Some(_) => Some(
                    self.referencing_elsewhere
                        .entry(r.table.clone())
                        .or_insert_with(|| Table {
                            name: r.table.name.clone(),
                            ..Table::default()
                        }),
                ),
            };
            if let Some(t) = table {
                t.index_leaders.insert(r.column);
            }
        }
    }

    fn add_keys(&mut self, rows: Vec<KeyRow>) {
        let mut keys: BTreeMap<(String, String), (bool, Vec<String>)> = BTreeMap::new();
        for r in rows {
            keys.entry((r.table, r.index))
                .or_insert((r.primary, Vec::new()))
                .1
                .push(r.column);
        }
        for ((table, index), (primary, columns)) in keys {
            if let Some(generated) = self.generated_key(&table, &index, &columns)
                && let Some(t) = self.tables.get_mut(&table)
            {
                t.unique_indexes.push(generated);
            }
            if let Some(t) = self.tables.get_mut(&table) {
                if primary {
                    t.primary_key = columns;
                } else {
                    t.unique_keys.push(columns);
                }
            }
        }
    }

    /// A key on generated columns is also a unique index on their expressions: MariaDB's
    /// stand-in for an index on `lower(email)`. It stays a key too.
    fn generated_key(&self, table: &str, index: &str, columns: &[String]) -> Option<UniqueIndex> {
        let t = self.tables.get(table)?;
        let generated: Vec<(&String, &String)> = columns
            .iter()
            .filter_map(|c| Some((c, t.column(c)?.generation.as_ref()?)))
            .collect();
        if generated.is_empty() {
            return None;
        }
        let expressions = generated
            .iter()
            .map(|(_, e)| e.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let definition = format!(
            "UNIQUE ({}), {}",
            columns.join(", "),
            generated
                .iter()
                .map(|(c, e)| format!("\"{c}\" generated as ({e})"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        Some(UniqueIndex {
            name: index.to_string(),
            definition,
            columns: columns
                .iter()
                .filter(|c| !generated.iter().any(|(g, _)| g == c))
                .cloned()
                .collect(),
            expression_columns: super::checks::mentioned(self, table, &expressions),
            expressions: Some(expressions),
            ..UniqueIndex::default()
        })
    }

    fn add_unique_indexes(&mut self, rows: Vec<UniqueIndexRow>) {
        for r in rows {
            let read = |text: &Option<String>| {
                text.as_deref()
                    .map(|t| super::checks::mentioned(self, &r.table, t))
                    .unwrap_or_default()
            };
            let index = UniqueIndex {
                name: r.index.clone(),
                definition: r.definition.clone(),
                columns: r
                    .columns
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(str::to_string)
                    .collect(),
                expression_columns: read(&r.expressions),
                predicate_columns: read(&r.predicate),
                expressions: r.expressions,
                predicate: r.predicate,
            };
            if let Some(t) = self.tables.get_mut(&r.table) {
                t.unique_indexes.push(index);
            }
        }
    }

    /// The enforced references that the visible foreign keys do not account for.
    fn add_hidden_references(&mut self, enforced: Option<Vec<HiddenReference>>) {
        let Some(enforced) = enforced else {
            self.hidden_references_unknown = true;
            return;
        };
        self.hidden_references = enforced
            .into_iter()
            .filter(|r| {
                !self
                    .foreign_keys
                    .iter()
                    .any(|fk| fk.name == r.name && fk.child == r.child && fk.parent == r.parent)
            })
            .collect();
    }

    fn add_foreign_keys(&mut self, rows: Vec<ForeignKeyRow>) {
        for r in rows {
            match self.foreign_keys.last_mut() {
                Some(fk) if fk.name == r.name && fk.child == r.child => {
                    fk.child_columns.push(r.child_column);
                    fk.parent_columns.push(r.parent_column);
                }
                _ => self.foreign_keys.push(ForeignKey {
                    name: r.name,
                    child: r.child,
                    child_columns: vec![r.child_column],
                    parent: r.parent,
                    parent_columns: vec![r.parent_column],
                    on_delete: r.on_delete,
                }),
            }
        }
        // A key may reference one partition: deleting through the partitioned table reaches
        // the partition's rows, so the key blocks (or cascades from) the partitioned table.
        for fk in &mut self.foreign_keys {
            if let Some(RelationKind::Partition { root }) = self.other_relations.get(&fk.parent) {
                fk.parent = root.clone();
            }
        }
        // SQLite leaves the referenced columns out when they are the parent's primary key.
        for fk in &mut self.foreign_keys {
            if fk.parent_columns.iter().any(String::is_empty)
                && let Some(parent) = self.tables.get(&fk.parent)
            {
                fk.parent_columns = parent.primary_key.clone();
            }
        }
    }
}

fn pg_kind(t: &str, udt: &str) -> ColumnKind {
    match udt {
        "uuid" => return ColumnKind::Uuid,
        "bytea" => return ColumnKind::Binary,
        "inet" | "cidr" => return ColumnKind::Inet,
        _ => {}
    }
    match t {
        "smallint" | "integer" | "bigint" => ColumnKind::Integer,
        "text" | "character varying" | "character" => ColumnKind::Text,
        "date" => ColumnKind::Date,
        "timestamp without time zone" => ColumnKind::Timestamp,
        "timestamp with time zone" => ColumnKind::TimestampTz,
        "boolean" => ColumnKind::Boolean,
        "numeric" | "real" | "double precision" => ColumnKind::Numeric,
        _ => ColumnKind::Other,
    }
}

fn mysql_kind(t: &str, _column_type: &str) -> ColumnKind {
    match t.to_ascii_lowercase().as_str() {
        "uuid" => ColumnKind::Uuid,
        "binary" | "varbinary" => ColumnKind::Binary,
        "inet6" => ColumnKind::Inet,
        "inet4" => ColumnKind::Inet4,
        "tinyint" | "smallint" | "mediumint" | "int" | "bigint" => ColumnKind::Integer,
        "varchar" | "char" | "text" | "tinytext" | "mediumtext" | "longtext" => ColumnKind::Text,
        "date" => ColumnKind::Date,
        "datetime" => ColumnKind::Timestamp,
        "timestamp" => ColumnKind::TimestampTz,
        "decimal" | "float" | "double" => ColumnKind::Numeric,
        _ => ColumnKind::Other,
    }
}

/// SQLite's declared types follow its affinity rules; dates are text in ISO-8601 form.
fn sqlite_kind(t: &str, _declared: &str) -> ColumnKind {
    let t = t.to_ascii_uppercase();
    if t == "DATE" {
        ColumnKind::Date
    } else if t.contains("DATETIME") || t.contains("TIMESTAMP") {
        ColumnKind::Timestamp
    } else if t.contains("INT") {
        ColumnKind::Integer
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
        ColumnKind::Text
    } else if t.contains("BLOB") {
        ColumnKind::Binary
    } else if t.contains("BOOL") {
        ColumnKind::Boolean
    } else if ["REAL", "FLOA", "DOUB", "NUMERIC", "DECIMAL"]
        .iter()
        .any(|k| t.contains(k))
    {
        ColumnKind::Numeric
    } else {
        ColumnKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::catalog::RelationRow;

    fn column(table: &str, name: &str) -> ColumnRow {
        ColumnRow {
            table: table.into(),
            name: name.into(),
            data_type: "bigint".into(),
            column_type: "int8".into(),
            max_len: None,
            nullable: false,
            generation: None,
        }
    }

    fn reference(name: &str, schema: Option<&str>, child: &str, parent: &str) -> HiddenReference {
        HiddenReference {
            name: name.into(),
            child: TableName {
                schema: schema.map(String::from),
                name: child.into(),
            },
            parent: parent.into(),
        }
    }

    fn fk_row(name: &str, child: TableName, column: &str, parent_column: &str) -> ForeignKeyRow {
        ForeignKeyRow {
            name: name.into(),
            child,
            parent: "customers".into(),
            on_delete: OnDelete::Cascade,
            child_column: column.into(),
            parent_column: parent_column.into(),
        }
    }

    /// Partitions and views leave the tables; a foreign key's column pairs group per child
    /// (one name in two schemas is two keys); a missing parent column is the parent's key;
    /// only the enforced references no visible key accounts for are hidden.
    #[test]
    fn assembles_the_catalog_rows() {
        let billing = TableName {
            schema: Some("billing".into()),
            name: "invoices".into(),
        };
        let catalog = Catalog {
            relations: vec![
                RelationRow {
                    name: "events_p0".into(),
                    kind: RelationKind::Partition {
                        root: "events".into(),
                    },
                    non_transactional_engine: None,
                },
                RelationRow {
                    name: "customers".into(),
                    kind: RelationKind::Table,
                    non_transactional_engine: Some("MyISAM".into()),
                },
            ],
            columns: vec![
                column("customers", "id"),
                column("invoices", "customer_id"),
                column("events_p0", "id"),
            ],
            keys: vec![KeyRow {
                table: "customers".into(),
                index: "customers_pkey".into(),
                primary: true,
                column: "id".into(),
            }],
            unique_indexes: Vec::new(),
            leaders: vec![LeaderRow {
                table: billing.clone(),
                column: "customer_id".into(),
            }],
            foreign_keys: vec![
                fk_row("fk", billing.clone(), "customer_id", "id"),
                fk_row("fk", TableName::local("invoices"), "customer_id", ""),
            ],
            enforced_references: Some(vec![
                reference("fk", Some("billing"), "invoices", "customers"),
                reference("fk", Some("archive"), "invoices", "customers"),
            ]),
        };
        let schema = Schema::assemble(catalog, pg_kind);
        assert_eq!(
            schema.tables.keys().collect::<Vec<_>>(),
            ["customers", "invoices"]
        );
        assert_eq!(
            schema.relation("events_p0"),
            Some(&RelationKind::Partition {
                root: "events".into()
            })
        );
        let customers = schema.table("customers").unwrap();
        assert_eq!(
            customers.non_transactional_engine.as_deref(),
            Some("MyISAM")
        );
        assert_eq!(schema.foreign_keys.len(), 2);
        assert_eq!(schema.foreign_keys[1].parent_columns, ["id"]);
        assert!(
            schema
                .table_named(&billing)
                .is_some_and(|t| t.index_leaders.contains("customer_id"))
        );
        assert_eq!(
            schema.hidden_references,
            [reference("fk", Some("archive"), "invoices", "customers")]
        );
    }

    #[test]
    fn names_outside_the_schema_are_qualified() {
        let billing = TableName {
            schema: Some("billing".into()),
            name: "invoices".into(),
        };
        assert_eq!(billing.to_string(), "billing.invoices");
        assert_eq!(TableName::local("invoices").to_string(), "invoices");
        assert!(TableName::local("invoices").is_local("invoices"));
        assert!(!billing.is_local("invoices"));
    }
}
