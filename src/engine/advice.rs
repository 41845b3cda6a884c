//! Index advice for `check`: the statements a run issues walk the target table by its key,
//! but they find expired rows, related rows and referencing rows by other columns. Without an
//! index leading with those columns, each lookup scans a whole table, and a run that finds
//! nothing still reads everything.

use super::target::{ClockRead, Target, TargetClock};
use crate::db::schema::{Schema, TableName};

/// One line per missing index, naming the policy, the table and the column.
pub fn missing_indexes(targets: &[Target], schema: &Schema) -> Vec<String> {
    let mut advice: Vec<String> = targets
        .iter()
        .flat_map(|t| missing_for(t, schema))
        .collect();
    advice.sort();
    advice.dedup();
    advice
}

/// The missing indexes of one policy.
pub fn missing_for(t: &Target, schema: &Schema) -> Vec<String> {
    let mut advice = Vec::new();
    // Clock values compared through SQLite's date functions pass no index (check says so with
    // the clock's own warning): an index on the column would not help.
    if let TargetClock::Own(c) = &t.clock
        && c.read != ClockRead::Instant
    {
        advice.extend(need(
            schema,
            t.name(),
            &TableName::local(t.table()),
            &c.name,
            "every run reads the whole table to find expired rows, even when none are",
        ));
    }
    advice.extend(missing_for_lookups(t, schema));
    advice
}

/// The missing indexes of the per-row lookups in a policy's predicate: its related clock's
/// rows and, for a delete, the rows that reference it.
pub fn missing_for_lookups(t: &Target, schema: &Schema) -> Vec<String> {
    let mut advice = Vec::new();
    if let TargetClock::Related { table, matches, .. } = &t.clock
        && let Some((_, theirs)) = matches.first()
    {
        advice.extend(need(
            schema,
            t.name(),
            &TableName::local(table),
            theirs,
            &format!(
                "each row of {} looks up its {table} rows with a scan of {table}",
                t.table()
            ),
        ));
    }
    if t.is_delete() {
        for fk in &t.blockers {
            if let Some(first) = fk.child_columns.first() {
                advice.extend(need(
                    schema,
                    t.name(),
                    &fk.child,
                    first,
                    &format!(
                        "checking whether a {} row is still referenced scans {}",
                        t.table(),
                        fk.child
                    ),
                ));
            }
        }
    }
    advice
}

/// One line per delete policy whose table may be referenced from tables the account cannot
/// see, because it may not read the list of enforced foreign keys (MySQL without PROCESS).
pub fn unseen_references(targets: &[Target], schema: &Schema) -> Vec<String> {
    if !schema.hidden_references_unknown {
        return Vec::new();
    }
    targets
        .iter()
        .filter(|t| t.is_delete())
        .map(|t| {
            format!(
                "policy \"{}\": this account may not read InnoDB's list of foreign keys (the PROCESS privilege), so a foreign key to {} from a table it has no grant on goes unseen: rows it references would be neither blocked nor seen cascading; grant PROCESS, or SELECT on every table that references {}",
                t.name(),
                t.table(),
                t.table()
            )
        })
        .collect()
}

/// The advice line when no index of `table` starts with `column`.
fn need(
    schema: &Schema,
    policy: &str,
    table: &TableName,
    column: &str,
    why: &str,
) -> Option<String> {
    let indexed = schema
        .table_named(table)
        .is_some_and(|t| t.index_leaders.contains(column));
    (!indexed).then(|| format!("policy \"{policy}\": no index starts with {table}.{column}; {why}"))
}
