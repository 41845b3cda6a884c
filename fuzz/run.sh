#!/usr/bin/env bash
# Fuzzes the config loader for a bounded time (default 60 s): bytes as a config file, and as
# environment overrides of the demo config. Needs a nightly toolchain (rustup) and cargo-fuzz,
# which it installs when missing. A crash leaves its input in fuzz/artifacts/config/ and
# exits non-zero.
#
#   fuzz/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    echo "fuzz/run.sh: no nightly toolchain (rustup toolchain install nightly); not fuzzing" >&2
    exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "Installing cargo-fuzz ..."
    cargo install --locked --quiet cargo-fuzz
fi

# Seeds: the shipped configs (the corpus itself is not kept in the repository).
mkdir -p corpus/config
cp ../config/*.toml ../config/presets/*.toml corpus/config/

# `--dev -s none`: the loader is safe Rust, so AddressSanitizer adds little; without it, and with
# the dev profile at opt-level 1 (Cargo.toml), the build takes a third of the time and a minute
# runs over ten times as many inputs as the release ASan build did.
cargo +nightly fuzz run --dev -s none config corpus/config -- \
    -max_total_time="$seconds" -max_len=8192 -rss_limit_mb=1024 -timeout=5 -print_final_stats=1
