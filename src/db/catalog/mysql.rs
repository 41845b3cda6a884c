//! MySQL/MariaDB: `information_schema` of the connection's database, and the foreign keys of
//! every database the account can see that reference it.

use super::{Catalog, ColumnRow, ForeignKeyRow, KeyRow, LeaderRow, RelationRow, fetch};
use crate::db::schema::HiddenReference;
use crate::db::{DbError, Dialect, Sql, Tx};

pub async fn read(tx: &mut Tx<'_>, mariadb: bool) -> Result<Catalog, DbError> {
    let enforced = if mariadb {
        ENFORCED_MARIADB
    } else {
        ENFORCED_MYSQL
    };
    Ok(Catalog {
        relations: fetch::<RelationRow>(tx, &raw(RELATIONS), "relations").await?,
        columns: fetch::<ColumnRow>(tx, &raw(COLUMNS), "columns").await?,
        keys: fetch::<KeyRow>(tx, &raw(KEYS), "keys").await?,
        // MariaDB has neither indexes on expressions nor partial indexes.
        unique_indexes: Vec::new(),
        leaders: fetch::<LeaderRow>(tx, &raw(LEADERS), "indexes").await?,
        foreign_keys: fetch::<ForeignKeyRow>(tx, &raw(FOREIGN_KEYS), "foreign keys").await?,
        // Without the PROCESS privilege the server refuses this list; a failed statement
        // leaves a MySQL transaction usable.
        enforced_references: fetch::<HiddenReference>(tx, &raw(enforced), "InnoDB foreign keys")
            .await
            .ok(),
    })
}

fn raw(text: &str) -> Sql {
    Sql::raw(Dialect::MySql, text)
}

/// The engine is named only where it cannot roll back (MyISAM, Aria, MEMORY, ...).
const RELATIONS: &str = "SELECT CAST(t.TABLE_NAME AS CHAR), \
     CAST(CASE t.TABLE_TYPE WHEN 'BASE TABLE' THEN 'table' WHEN 'VIEW' THEN 'view' \
     WHEN 'SYSTEM VERSIONED' THEN 'system-versioned table' ELSE LOWER(t.TABLE_TYPE) END AS CHAR), \
     CAST(NULL AS CHAR), CAST(IF(e.TRANSACTIONS = 'YES' OR t.ENGINE IS NULL, NULL, t.ENGINE) AS CHAR) \
     FROM information_schema.TABLES t LEFT JOIN information_schema.ENGINES e ON e.ENGINE = t.ENGINE \
     WHERE t.TABLE_SCHEMA = DATABASE() ORDER BY t.TABLE_NAME";

const COLUMNS: &str = "SELECT CAST(c.TABLE_NAME AS CHAR), CAST(c.COLUMN_NAME AS CHAR), CAST(c.DATA_TYPE AS CHAR), \
     CAST(c.CHARACTER_MAXIMUM_LENGTH AS SIGNED), CAST(c.IS_NULLABLE = 'YES' AS SIGNED), \
     CAST(c.COLUMN_TYPE AS CHAR), CAST(NULLIF(c.GENERATION_EXPRESSION, '') AS CHAR) \
     FROM information_schema.COLUMNS c JOIN information_schema.TABLES t \
     ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME AND t.TABLE_TYPE = 'BASE TABLE' \
     WHERE c.TABLE_SCHEMA = DATABASE() ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION";

const KEYS: &str = "SELECT CAST(TABLE_NAME AS CHAR), CAST(INDEX_NAME AS CHAR), CAST(INDEX_NAME = 'PRIMARY' AS SIGNED), \
     CAST(COLUMN_NAME AS CHAR) FROM information_schema.STATISTICS \
     WHERE TABLE_SCHEMA = DATABASE() AND NON_UNIQUE = 0 AND SUB_PART IS NULL AND COLUMN_NAME IS NOT NULL \
     ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX";

/// Of the database's tables and of the tables in other databases that reference one of them.
const LEADERS: &str = "SELECT CAST(IF(s.TABLE_SCHEMA = DATABASE(), NULL, s.TABLE_SCHEMA) AS CHAR), \
     CAST(s.TABLE_NAME AS CHAR), CAST(s.COLUMN_NAME AS CHAR) FROM information_schema.STATISTICS s \
     WHERE s.SEQ_IN_INDEX = 1 AND s.COLUMN_NAME IS NOT NULL AND (s.TABLE_SCHEMA = DATABASE() \
     OR (s.TABLE_SCHEMA, s.TABLE_NAME) IN (SELECT k.TABLE_SCHEMA, k.TABLE_NAME \
     FROM information_schema.KEY_COLUMN_USAGE k WHERE k.REFERENCED_TABLE_SCHEMA = DATABASE()))";

/// Every foreign key whose parent is in the database, whatever database its child is in.
/// MariaDB lists a key in `REFERENTIAL_CONSTRAINTS` only to accounts with a database-wide
/// grant, but in `KEY_COLUMN_USAGE` to any account that may read the child table: a key whose
/// delete rule is not shown counts as RESTRICT, which blocks (never an unseen cascade).
const FOREIGN_KEYS: &str = "SELECT CAST(k.CONSTRAINT_NAME AS CHAR), \
     CAST(IF(k.TABLE_SCHEMA = DATABASE(), NULL, k.TABLE_SCHEMA) AS CHAR), CAST(k.TABLE_NAME AS CHAR), \
     CAST(k.REFERENCED_TABLE_NAME AS CHAR), CAST(COALESCE(r.DELETE_RULE, 'RESTRICT') AS CHAR), \
     CAST(k.COLUMN_NAME AS CHAR), CAST(k.REFERENCED_COLUMN_NAME AS CHAR) \
     FROM information_schema.KEY_COLUMN_USAGE k LEFT JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
     ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME \
     WHERE k.REFERENCED_TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL \
     ORDER BY k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION";

/// InnoDB's own list of foreign keys (`db/name` pairs), which shows the keys of tables the
/// account has no privilege on: MariaDB's `INNODB_SYS_FOREIGN`, MySQL 8's `INNODB_FOREIGN`.
const ENFORCED_MARIADB: &str = "SELECT CAST(SUBSTRING_INDEX(f.ID, '/', -1) AS CHAR), \
     CAST(IF(SUBSTRING_INDEX(f.FOR_NAME, '/', 1) = DATABASE(), NULL, SUBSTRING_INDEX(f.FOR_NAME, '/', 1)) AS CHAR), \
     CAST(SUBSTRING_INDEX(f.FOR_NAME, '/', -1) AS CHAR), CAST(SUBSTRING_INDEX(f.REF_NAME, '/', -1) AS CHAR) \
     FROM information_schema.INNODB_SYS_FOREIGN f WHERE SUBSTRING_INDEX(f.REF_NAME, '/', 1) = DATABASE()";

const ENFORCED_MYSQL: &str = "SELECT CAST(SUBSTRING_INDEX(f.ID, '/', -1) AS CHAR), \
     CAST(IF(SUBSTRING_INDEX(f.FOR_NAME, '/', 1) = DATABASE(), NULL, SUBSTRING_INDEX(f.FOR_NAME, '/', 1)) AS CHAR), \
     CAST(SUBSTRING_INDEX(f.FOR_NAME, '/', -1) AS CHAR), CAST(SUBSTRING_INDEX(f.REF_NAME, '/', -1) AS CHAR) \
     FROM information_schema.INNODB_FOREIGN f WHERE SUBSTRING_INDEX(f.REF_NAME, '/', 1) = DATABASE()";
