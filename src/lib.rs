//! retentiond enforces data-retention rules on a business's own SQL database: it finds the
//! records whose retention has run out and deletes or anonymizes them in small batches, each
//! committed together with its entry in a hash-chained audit trail.

pub mod answer;
pub mod archive;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod db;
pub mod defaults;
pub mod demo;
pub mod engine;
pub mod exit;
pub mod report;
pub mod schedule;
pub mod signals;
pub mod statement;
pub mod store;
pub mod telemetry;
pub mod text;
