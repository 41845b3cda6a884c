//! The order policies run in: deletes children-first along the schema's foreign keys, so that
//! a parent row whose children expire in the same run is not needlessly blocked; then
//! anonymizations, which never conflict with foreign keys.

use super::target::Target;
use crate::db::schema::Schema;

pub fn order(targets: Vec<Target>, schema: &Schema) -> Vec<Target> {
    let (mut deletes, anonymize): (Vec<Target>, Vec<Target>) =
        targets.into_iter().partition(Target::is_delete);
    let mut ordered = Vec::with_capacity(deletes.len() + anonymize.len());
    // Kahn's algorithm: take the first delete whose table no remaining delete's table
    // references as a child. A cycle falls back to config order.
    while !deletes.is_empty() {
        let must_wait = |t: &Target| {
            deletes.iter().any(|other| {
                other.table() != t.table()
                    && schema
                        .foreign_keys
                        .iter()
                        .any(|fk| fk.child.is_local(other.table()) && fk.parent == t.table())
            })
        };
        let next = deletes.iter().position(|t| !must_wait(t)).unwrap_or(0);
        ordered.push(deletes.remove(next));
    }
    ordered.extend(anonymize);
    ordered
}
