//! Index advice for `check`: the statements a run issues walk the target table by its key,
//! but they find expired rows, related rows and referencing rows by other columns. Without an
//! index leading with those columns, each lookup scans a whole table, and a run that finds
//! nothing still reads everything.

use super::target::{Target, TargetClock};
use crate::db::schema::Schema;

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
    let mut need = |policy: &str, table: &str, column: &str, why: &str| {
        let indexed = schema
            .table(table)
            .is_some_and(|t| t.index_leaders.contains(column));
        if !indexed {
            advice.push(format!(
                "policy \"{policy}\": no index starts with {table}.{column}; {why}"
            ));
        }
    };
    let name = t.name();
    match &t.clock {
        TargetClock::Own(c) => need(
            name,
            t.table(),
            &c.name,
            "every run reads the whole table to find expired rows, even when none are",
        ),
        TargetClock::Related { table, matches, .. } => {
            if let Some((_, theirs)) = matches.first() {
                need(
                    name,
                    table,
                    theirs,
                    &format!(
                        "each row of {} looks up its {table} rows with a scan of {table}",
                        t.table()
                    ),
                );
            }
        }
    }
    if t.is_delete() {
        for fk in &t.blockers {
            if let Some(first) = fk.child_columns.first() {
                need(
                    name,
                    &fk.child,
                    first,
                    &format!(
                        "checking whether a {} row is still referenced scans {}",
                        t.table(),
                        fk.child
                    ),
                );
            }
        }
    }
    advice
}
