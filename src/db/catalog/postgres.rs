//! PostgreSQL: `pg_catalog` for relations, keys and foreign keys (it shows every schema),
//! `information_schema.columns` for the columns this account may see.

use super::{
    Catalog, ColumnRow, ForeignKeyRow, KeyRow, LeaderRow, RelationRow, UniqueIndexRow, fetch,
};
use crate::db::{DbError, Dialect, Sql, Tx, Value};

pub async fn read(tx: &mut Tx<'_>, schema: &str) -> Result<Catalog, DbError> {
    let ns = || Value::Text(schema.to_string());
    Ok(Catalog {
        relations: fetch::<RelationRow>(tx, &relations(ns()), "relations").await?,
        columns: fetch::<ColumnRow>(tx, &columns(ns()), "columns").await?,
        keys: fetch::<KeyRow>(tx, &keys(ns()), "keys").await?,
        unique_indexes: fetch::<UniqueIndexRow>(tx, &unique_indexes(ns()), "unique indexes")
            .await?,
        leaders: fetch::<LeaderRow>(tx, &leaders(ns), "indexes").await?,
        foreign_keys: fetch::<ForeignKeyRow>(tx, &foreign_keys(ns), "foreign keys").await?,
        // pg_catalog shows every foreign key to every account: none is hidden.
        enforced_references: Some(Vec::new()),
    })
}

/// Partitions are named with their root, the table a policy names.
fn relations(ns: Value) -> Sql {
    let mut q = Sql::new(Dialect::Postgres);
    q.push(
        "SELECT c.relname::text, \
         CASE WHEN c.relispartition THEN 'partition' WHEN c.relkind = 'p' THEN 'partitioned table' \
         WHEN c.relkind = 'r' THEN 'table' WHEN c.relkind = 'v' THEN 'view' \
         WHEN c.relkind = 'm' THEN 'materialized view' ELSE 'foreign table' END, \
         CASE WHEN c.relispartition THEN (SELECT r.relname::text FROM pg_class r WHERE r.oid = pg_partition_root(c.oid)) END, \
         NULL::text \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname = ",
    )
    .bind(ns)
    .push(" ORDER BY 1");
    q
}

fn columns(ns: Value) -> Sql {
    let mut q = Sql::new(Dialect::Postgres);
    q.push(
        "SELECT c.table_name::text, c.column_name::text, c.data_type::text, \
         c.character_maximum_length::bigint, CASE WHEN c.is_nullable = 'YES' THEN 1 ELSE 0 END::bigint, \
         c.udt_name::text, CASE WHEN c.is_generated = 'ALWAYS' THEN c.generation_expression END::text \
         FROM information_schema.columns c JOIN information_schema.tables t \
         ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE' \
         WHERE c.table_schema = ",
    )
    .bind(ns)
    .push(" ORDER BY c.table_name, c.ordinal_position");
    q
}

fn keys(ns: Value) -> Sql {
    let mut q = Sql::new(Dialect::Postgres);
    q.push(
        "SELECT t.relname::text, i.relname::text, CASE WHEN ix.indisprimary THEN 1 ELSE 0 END::bigint, a.attname::text \
         FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_class i ON i.oid = ix.indexrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         CROSS JOIN LATERAL unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
         WHERE ix.indisunique AND ix.indpred IS NULL AND ix.indexprs IS NULL AND n.nspname = ",
    )
    .bind(ns)
    .push(" ORDER BY t.relname, i.relname, k.ord");
    q
}

/// Unique indexes on expressions or with a condition: `indkey` is 0 where an expression
/// stands.
fn unique_indexes(ns: Value) -> Sql {
    let mut q = Sql::new(Dialect::Postgres);
    q.push(
        "SELECT t.relname::text, i.relname::text, pg_get_indexdef(ix.indexrelid)::text, \
         (SELECT string_agg(a.attname::text, ',' ORDER BY k.ord) \
           FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
           JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum), \
         pg_get_expr(ix.indexprs, ix.indrelid)::text, pg_get_expr(ix.indpred, ix.indrelid)::text \
         FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_class i ON i.oid = ix.indexrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE ix.indisunique AND (ix.indpred IS NOT NULL OR ix.indexprs IS NOT NULL) AND n.nspname = ",
    )
    .bind(ns)
    .push(" ORDER BY 1, 2");
    q
}

/// Of the schema's tables and of the tables elsewhere that reference one of them.
fn leaders(ns: impl Fn() -> Value) -> Sql {
    let mut q = Sql::new(Dialect::Postgres);
    q.push("SELECT CASE WHEN n.nspname = ")
        .bind(ns())
        .push(
            " THEN NULL ELSE n.nspname::text END, t.relname::text, a.attname::text FROM pg_index ix \
             JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ix.indkey[0] \
             WHERE ix.indpred IS NULL AND (n.nspname = ",
        )
        .bind(ns())
        .push(
            " OR t.oid IN (SELECT con.conrelid FROM pg_constraint con \
             JOIN pg_class p ON p.oid = con.confrelid JOIN pg_namespace pn ON pn.oid = p.relnamespace \
             WHERE con.contype = 'f' AND pn.nspname = ",
        )
        .bind(ns())
        .push("))");
    q
}

/// Every foreign key whose parent is in the schema, whatever schema its child is in. A key on
/// a partitioned table is listed once, on the partitioned tables (`conparentid = 0`), not
/// again for each partition it was cloned to.
fn foreign_keys(ns: impl Fn() -> Value) -> Sql {
    let mut q = Sql::new(Dialect::Postgres);
    q.push("SELECT con.conname::text, CASE WHEN cn.nspname = ")
        .bind(ns())
        .push(
            " THEN NULL ELSE cn.nspname::text END, child.relname::text, parent.relname::text, \
             CASE con.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' \
             WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END, ca.attname::text, pa.attname::text \
             FROM pg_constraint con \
             JOIN pg_class child ON child.oid = con.conrelid JOIN pg_namespace cn ON cn.oid = child.relnamespace \
             JOIN pg_class parent ON parent.oid = con.confrelid JOIN pg_namespace pn ON pn.oid = parent.relnamespace \
             CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(ck, pk, ord) \
             JOIN pg_attribute ca ON ca.attrelid = con.conrelid AND ca.attnum = k.ck \
             JOIN pg_attribute pa ON pa.attrelid = con.confrelid AND pa.attnum = k.pk \
             WHERE con.contype = 'f' AND con.conparentid = 0 AND pn.nspname = ",
        )
        .bind(ns())
        .push(" ORDER BY cn.nspname, child.relname, con.conname, k.ord");
    q
}
