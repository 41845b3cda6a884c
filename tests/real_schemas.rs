//! Schemas laid out the way common stacks lay them out (Supabase, WordPress, Django, Prisma,
//! Rails, Laravel, pg_partman, plain Python `sqlite3`), not the minimal tables of the other
//! tests: what a run keeps and what it removes there, row by row, on every backend each case
//! concerns. One module per area; each test gets its own fresh database.

mod common;

#[path = "real_schemas/catalog.rs"]
mod catalog;
#[path = "real_schemas/clocks.rs"]
mod clocks;
#[path = "real_schemas/keys.rs"]
mod keys;
#[path = "real_schemas/run_safety.rs"]
mod run_safety;
#[path = "real_schemas/uniques.rs"]
mod uniques;
