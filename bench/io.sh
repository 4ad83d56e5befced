#!/usr/bin/env bash
# Reproduces the README's I/O speed table: Sinus vs wfdb-python, same files, same run.
# Usage: bash bench/io.sh [REPEATS (default 10)] [THREADS (default: all cores)]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
cargo build --release --quiet -p sinus-io --example load_mitdb
py="$(bash scripts/peers-venv.sh)"
"$py" bench/io.py target/release/examples/load_mitdb "${1:-10}" "${2:-0}"
