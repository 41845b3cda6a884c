//! Reads tables, columns, keys and foreign keys from the live catalog of each database.

use super::{Context, Db, DbError, Decode, Dialect, Sql, Value};
use std::collections::BTreeMap;

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
}

#[derive(Debug, Clone, Default)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    pub primary_key: Vec<String>,
    pub unique_keys: Vec<Vec<String>>,
    /// Columns that lead some index: a range on them can be read without scanning the table.
    pub index_leaders: std::collections::BTreeSet<String>,
    /// CHECK constraints (see `checks::load`).
    pub checks: Vec<super::checks::CheckConstraint>,
    /// PostgreSQL `UNIQUE NULLS NOT DISTINCT` keys: NULL collides there like any value.
    pub nulls_not_distinct: Vec<Vec<String>>,
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

#[derive(Debug, Clone)]
pub struct ForeignKey {
    pub name: String,
    pub child: String,
    pub child_columns: Vec<String>,
    pub parent: String,
    pub parent_columns: Vec<String>,
    pub on_delete: OnDelete,
}

#[derive(Debug, Clone, Default)]
pub struct Schema {
    pub tables: BTreeMap<String, Table>,
    pub foreign_keys: Vec<ForeignKey>,
}

impl Schema {
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(name)
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
        let ctx = || "reading the database schema".to_string();
        let mut schema = Schema::default();
        match db.dialect {
            Dialect::Postgres => {
                let ns = Value::Text(db.schema.clone().unwrap_or_else(|| "public".into()));
                let mut q = Sql::new(Dialect::Postgres);
                q.push(
                    "SELECT c.table_name::text, c.column_name::text, c.data_type::text, \
                     c.character_maximum_length::bigint, CASE WHEN c.is_nullable = 'YES' THEN 1 ELSE 0 END::bigint, \
                     c.udt_name::text \
                     FROM information_schema.columns c JOIN information_schema.tables t \
                     ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE' \
                     WHERE c.table_schema = ",
                )
                .bind(ns.clone())
                .push(" ORDER BY c.table_name, c.ordinal_position");
                let columns = tx
                    .fetch(
                        &q,
                        &[
                            Decode::Text,
                            Decode::Text,
                            Decode::Text,
                            Decode::Int,
                            Decode::Int,
                            Decode::Text,
                        ],
                    )
                    .await
                    .ctx(ctx)?;
                schema.add_columns(columns, pg_kind);

                let mut q = Sql::new(Dialect::Postgres);
                q.push(
                    "SELECT t.relname::text, i.relname::text, CASE WHEN ix.indisprimary THEN 1 ELSE 0 END::bigint, a.attname::text \
                     FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_class i ON i.oid = ix.indexrelid \
                     JOIN pg_namespace n ON n.oid = t.relnamespace \
                     CROSS JOIN LATERAL unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
                     JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
                     WHERE ix.indisunique AND ix.indpred IS NULL AND ix.indexprs IS NULL AND n.nspname = ",
                )
                .bind(ns.clone())
                .push(" ORDER BY t.relname, i.relname, k.ord");
                let keys = tx
                    .fetch(&q, &[Decode::Text, Decode::Text, Decode::Int, Decode::Text])
                    .await
                    .ctx(ctx)?;
                schema.add_keys(keys.into_iter().map(|r| {
                    let primary = r[2] == Value::Int(1);
                    (text(&r[0]), text(&r[1]), primary, text(&r[3]))
                }));

                let mut q = Sql::new(Dialect::Postgres);
                q.push(
                    "SELECT t.relname::text, a.attname::text FROM pg_index ix \
                     JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
                     JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ix.indkey[0] \
                     WHERE ix.indpred IS NULL AND n.nspname = ",
                )
                .bind(ns.clone());
                let leaders = tx.fetch(&q, &[Decode::Text, Decode::Text]).await.ctx(ctx)?;
                schema.add_index_leaders(leaders.iter().map(|r| (text(&r[0]), text(&r[1]))));

                let mut q = Sql::new(Dialect::Postgres);
                q.push(
                    "SELECT con.conname::text, child.relname::text, parent.relname::text, con.confdeltype::text, \
                     ca.attname::text, pa.attname::text \
                     FROM pg_constraint con JOIN pg_class child ON child.oid = con.conrelid \
                     JOIN pg_class parent ON parent.oid = con.confrelid \
                     JOIN pg_namespace n ON n.oid = child.relnamespace \
                     CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(ck, pk, ord) \
                     JOIN pg_attribute ca ON ca.attrelid = con.conrelid AND ca.attnum = k.ck \
                     JOIN pg_attribute pa ON pa.attrelid = con.confrelid AND pa.attnum = k.pk \
                     WHERE con.contype = 'f' AND n.nspname = ",
                )
                .bind(ns)
                .push(" ORDER BY child.relname, con.conname, k.ord");
                let fks = tx.fetch(&q, &[Decode::Text; 6]).await.ctx(ctx)?;
                schema.add_foreign_keys(fks.into_iter().map(|r| {
                    let rule = match text(&r[3]).as_str() {
                        "c" => OnDelete::Cascade,
                        "n" => OnDelete::SetNull,
                        "d" => OnDelete::SetDefault,
                        _ => OnDelete::Restrict,
                    };
                    (
                        text(&r[0]),
                        text(&r[1]),
                        text(&r[2]),
                        rule,
                        text(&r[4]),
                        text(&r[5]),
                    )
                }));
            }
            Dialect::MySql => {
                let q = Sql::raw(
                    Dialect::MySql,
                    "SELECT CAST(c.TABLE_NAME AS CHAR), CAST(c.COLUMN_NAME AS CHAR), CAST(c.DATA_TYPE AS CHAR), \
                     CAST(c.CHARACTER_MAXIMUM_LENGTH AS SIGNED), CAST(c.IS_NULLABLE = 'YES' AS SIGNED), \
                     CAST(c.COLUMN_TYPE AS CHAR) \
                     FROM information_schema.COLUMNS c JOIN information_schema.TABLES t \
                     ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME AND t.TABLE_TYPE = 'BASE TABLE' \
                     WHERE c.TABLE_SCHEMA = DATABASE() ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION",
                );
                let columns = tx
                    .fetch(
                        &q,
                        &[
                            Decode::Text,
                            Decode::Text,
                            Decode::Text,
                            Decode::Int,
                            Decode::Int,
                            Decode::Text,
                        ],
                    )
                    .await
                    .ctx(ctx)?;
                schema.add_columns(columns, mysql_kind);

                let q = Sql::raw(
                    Dialect::MySql,
                    "SELECT CAST(TABLE_NAME AS CHAR), CAST(INDEX_NAME AS CHAR), CAST(INDEX_NAME = 'PRIMARY' AS SIGNED), \
                     CAST(COLUMN_NAME AS CHAR) FROM information_schema.STATISTICS \
                     WHERE TABLE_SCHEMA = DATABASE() AND NON_UNIQUE = 0 AND SUB_PART IS NULL AND COLUMN_NAME IS NOT NULL \
                     ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
                );
                let keys = tx
                    .fetch(&q, &[Decode::Text, Decode::Text, Decode::Int, Decode::Text])
                    .await
                    .ctx(ctx)?;
                schema.add_keys(keys.into_iter().map(|r| {
                    let primary = r[2] == Value::Int(1);
                    (text(&r[0]), text(&r[1]), primary, text(&r[3]))
                }));

                let q = Sql::raw(
                    Dialect::MySql,
                    "SELECT CAST(TABLE_NAME AS CHAR), CAST(COLUMN_NAME AS CHAR) FROM information_schema.STATISTICS \
                     WHERE TABLE_SCHEMA = DATABASE() AND SEQ_IN_INDEX = 1 AND COLUMN_NAME IS NOT NULL",
                );
                let leaders = tx.fetch(&q, &[Decode::Text, Decode::Text]).await.ctx(ctx)?;
                schema.add_index_leaders(leaders.iter().map(|r| (text(&r[0]), text(&r[1]))));

                let q = Sql::raw(
                    Dialect::MySql,
                    "SELECT CAST(k.CONSTRAINT_NAME AS CHAR), CAST(k.TABLE_NAME AS CHAR), CAST(k.REFERENCED_TABLE_NAME AS CHAR), \
                     CAST(r.DELETE_RULE AS CHAR), CAST(k.COLUMN_NAME AS CHAR), CAST(k.REFERENCED_COLUMN_NAME AS CHAR) \
                     FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
                     ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME \
                     WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL \
                     ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
                );
                let fks = tx.fetch(&q, &[Decode::Text; 6]).await.ctx(ctx)?;
                schema.add_foreign_keys(fks.into_iter().map(|r| {
                    (
                        text(&r[0]),
                        text(&r[1]),
                        text(&r[2]),
                        sql_rule(&text(&r[3])),
                        text(&r[4]),
                        text(&r[5]),
                    )
                }));
            }
            Dialect::Sqlite => {
                let q = Sql::raw(
                    Dialect::Sqlite,
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
                );
                let tables: Vec<String> = tx
                    .fetch(&q, &[Decode::Text])
                    .await
                    .ctx(ctx)?
                    .iter()
                    .map(|r| text(&r[0]))
                    .collect();
                for table in tables {
                    let mut q = Sql::new(Dialect::Sqlite);
                    q.push("SELECT ").bind(Value::Text(table.clone())).push(
                        ", name, type, NULL, CASE WHEN \"notnull\" = 0 AND pk = 0 THEN 1 ELSE 0 END, type, pk FROM pragma_table_info(",
                    )
                    .bind(Value::Text(table.clone()))
                    .push(") ORDER BY cid");
                    let rows = tx
                        .fetch(
                            &q,
                            &[
                                Decode::Text,
                                Decode::Text,
                                Decode::Text,
                                Decode::Int,
                                Decode::Int,
                                Decode::Text,
                                Decode::Int,
                            ],
                        )
                        .await
                        .ctx(ctx)?;
                    let mut pk: Vec<(i64, String)> = rows
                        .iter()
                        .filter_map(|r| match r[6] {
                            Value::Int(n) if n > 0 => Some((n, text(&r[1]))),
                            _ => None,
                        })
                        .collect();
                    pk.sort();
                    schema.add_columns(
                        rows.into_iter().map(|r| r[..6].to_vec()).collect(),
                        sqlite_kind,
                    );
                    let pk_columns: Vec<String> = pk.into_iter().map(|(_, c)| c).collect();
                    if let Some(t) = schema.tables.get_mut(&table) {
                        t.primary_key = pk_columns.clone();
                    }

                    let mut q = Sql::new(Dialect::Sqlite);
                    q.push("SELECT ii.name FROM pragma_index_list(")
                        .bind(Value::Text(table.clone()))
                        .push(") AS il, pragma_index_info(il.name) AS ii WHERE il.partial = 0 AND ii.seqno = 0 AND ii.name IS NOT NULL");
                    let leaders = tx.fetch(&q, &[Decode::Text]).await.ctx(ctx)?;
                    schema.add_index_leaders(leaders.iter().map(|r| (table.clone(), text(&r[0]))));
                    // The rowid alias is the table itself, ordered by that column.
                    if let [only] = pk_columns.as_slice() {
                        schema.add_index_leaders(std::iter::once((table.clone(), only.clone())));
                    }

                    let mut q = Sql::new(Dialect::Sqlite);
                    q.push("SELECT name FROM pragma_index_list(")
                        .bind(Value::Text(table.clone()))
                        .push(") WHERE \"unique\" = 1 AND partial = 0 ORDER BY name");
                    let indexes: Vec<String> = tx
                        .fetch(&q, &[Decode::Text])
                        .await
                        .ctx(ctx)?
                        .iter()
                        .map(|r| text(&r[0]))
                        .collect();
                    for index in indexes {
                        let mut q = Sql::new(Dialect::Sqlite);
                        q.push("SELECT name FROM pragma_index_info(")
                            .bind(Value::Text(index.clone()))
                            .push(") ORDER BY seqno");
                        let cols = tx.fetch(&q, &[Decode::Text]).await.ctx(ctx)?;
                        if cols.iter().all(|r| r[0] != Value::Null) {
                            schema.add_keys(
                                cols.iter()
                                    .map(|r| (table.clone(), index.clone(), false, text(&r[0]))),
                            );
                        }
                    }

                    let mut q = Sql::new(Dialect::Sqlite);
                    q.push("SELECT CAST(id AS TEXT), \"table\", on_delete, \"from\", \"to\" FROM pragma_foreign_key_list(")
                        .bind(Value::Text(table.clone()))
                        .push(") ORDER BY id, seq");
                    let fks = tx.fetch(&q, &[Decode::Text; 5]).await.ctx(ctx)?;
                    let fks: Vec<_> = fks
                        .into_iter()
                        .map(|r| {
                            (
                                format!("{table}#{}", text(&r[0])),
                                table.clone(),
                                text(&r[1]),
                                sql_rule(&text(&r[2])),
                                text(&r[3]),
                                text(&r[4]),
                            )
                        })
                        .collect();
                    schema.add_foreign_keys(fks.into_iter());
                }
                // SQLite leaves the referenced columns out when they are the parent's primary key.
                let tables = schema.tables.clone();
                for fk in &mut schema.foreign_keys {
                    if fk.parent_columns.iter().any(String::is_empty)
                        && let Some(parent) = tables.get(&fk.parent)
                    {
                        fk.parent_columns = parent.primary_key.clone();
                    }
                }
            }
        }
        tx.rollback().await.ctx(ctx)?;
        super::checks::load(db, &mut schema).await?;
        Ok(schema)
    }

    fn add_columns(&mut self, rows: Vec<Vec<Value>>, kind: fn(&str, &str) -> ColumnKind) {
        for r in rows {
            let table = text(&r[0]);
            let data_type = text(&r[2]);
            let column_type = text(&r[5]);
            let t = self.tables.entry(table.clone()).or_insert_with(|| Table {
                name: table,
                ..Table::default()
            });
            t.columns.push(Column {
                name: text(&r[1]),
                kind: kind(&data_type, &column_type),
                data_type,
                column_type,
                max_len: match r[3] {
                    Value::Int(n) => Some(n),
                    _ => None,
                },
                nullable: r[4] == Value::Int(1),
            });
        }
    }

    fn add_index_leaders(&mut self, rows: impl Iterator<Item = (String, String)>) {
        for (table, column) in rows {
            if let Some(t) = self.tables.get_mut(&table) {
                t.index_leaders.insert(column);
            }
        }
    }

    fn add_keys(&mut self, rows: impl Iterator<Item = (String, String, bool, String)>) {
        let mut keys: BTreeMap<(String, String), (bool, Vec<String>)> = BTreeMap::new();
        for (table, index, primary, column) in rows {
            keys.entry((table, index))
                .or_insert((primary, Vec::new()))
                .1
                .push(column);
        }
        for ((table, _), (primary, columns)) in keys {
            if let Some(t) = self.tables.get_mut(&table) {
                if primary {
                    t.primary_key = columns;
                } else {
                    t.unique_keys.push(columns);
                }
            }
        }
    }

    fn add_foreign_keys(
        &mut self,
        rows: impl Iterator<Item = (String, String, String, OnDelete, String, String)>,
    ) {
        for (name, child, parent, on_delete, child_col, parent_col) in rows {
            match self.foreign_keys.last_mut() {
                Some(fk) if fk.name == name && fk.child == child => {
                    fk.child_columns.push(child_col);
                    fk.parent_columns.push(parent_col);
                }
                _ => self.foreign_keys.push(ForeignKey {
                    name,
                    child,
                    child_columns: vec![child_col],
                    parent,
                    parent_columns: vec![parent_col],
                    on_delete,
                }),
            }
        }
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::Text(s) => s.clone(),
        _ => String::new(),
    }
}

fn sql_rule(rule: &str) -> OnDelete {
    match rule.to_ascii_uppercase().as_str() {
        "CASCADE" => OnDelete::Cascade,
        "SET NULL" => OnDelete::SetNull,
        "SET DEFAULT" => OnDelete::SetDefault,
        _ => OnDelete::Restrict,
    }
}

fn pg_kind(t: &str, _udt: &str) -> ColumnKind {
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
