//! Any bytes as a config file, with any of them also given as environment overrides: the
//! loader returns a config or an error, and never panics, loops or exhausts memory.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = retentiond::config::Config::from_toml(Path::new("fuzz.toml"), text, std::iter::empty());
    // The same text split into `KEY=value` lines, as overrides of a config that loads.
    let env = text.lines().filter_map(|l| {
        let (k, v) = l.split_once('=')?;
        Some((format!("RETENTIOND_{}", k.trim()), v.trim().to_string()))
    });
    let _ = retentiond::config::Config::from_toml(Path::new("fuzz.toml"), SEED, env);
});

const SEED: &str = include_str!("../../config/demo.toml");
