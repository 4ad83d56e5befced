#!/usr/bin/env bash
# The project's whole test suite: formatting, lints, unit/integration tests, peer parity.
# This is the README's test command and exactly what CI (.ci/run) runs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

step() { printf '\n==> %s\n' "$*"; }

step "toolchain components"
rustup component add rustfmt clippy >/dev/null 2>&1 || true

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "sinus-core builds for the device (thumbv6m-none-eabi, Cortex-M0+, no_std)"
if rustup target add thumbv6m-none-eabi >/dev/null 2>&1; then
  cargo build --quiet -p sinus-core --target thumbv6m-none-eabi
else
  echo "note: the thumbv6m-none-eabi target could not be installed here; device build skipped"
fi

step "cargo test"
mkdir -p target
# Property tests draw from a fixed seed here, so a build passes or fails on its own merits and
# not on the luck of the draw; to explore new cases, run `cargo test` directly (a random seed
# each run) or set SINUS_PROPTEST_EXPLORE=1. Failures found either way are kept in the
# proptest-regressions files and replayed first.
if [ -z "${SINUS_PROPTEST_EXPLORE:-}" ]; then
  export PROPTEST_RNG_SEED="${PROPTEST_RNG_SEED:-20261122}"
fi
# One profile for everything (release): the tests and the CLI share one build, which halves
# CI's compile time.
cargo test --workspace --release --quiet 2>&1 | tee target/cargo-test.log
grep -q "test result: ok" target/cargo-test.log

step "peer parity: wfdb-python reads what we read and what we write (48 MIT-BIH records)"
# `cargo test` above already built target/release/sinus (the integration tests run it); a
# separate `cargo build -p sinus-cli` would resolve features without the dev-dependencies and
# rebuild half the dependency tree for nothing.
test -x target/release/sinus || cargo build --release --quiet -p sinus-cli
py="$(bash scripts/peers-venv.sh)"
"$py" tests/peers/wfdb_parity.py --sinus target/release/sinus

step "peer parity: HRV time and frequency domain against NeuroKit2 (MIT-BIH and synthetic)"
"$py" tests/peers/hrv_parity.py --sinus target/release/sinus

# --- LiteRT parity (sinus export-model --format tflite) ------------------------------------
step "peer parity: LiteRT runs the exported int8 model (≥1000 DS2 beats)"
# Its own venv (target/peers-venv-litert, override with SINUS_LITERT_VENV): ai-edge-litert
# brings its own NumPy and protobuf pins, kept apart from the other peers'.
litert_py="$(SINUS_VENV="${SINUS_LITERT_VENV:-$root/target/peers-venv-litert}" \
  bash scripts/peers-venv.sh "$root/tests/peers/requirements-litert.txt")"
"$litert_py" tests/peers/litert_parity.py --sinus target/release/sinus
# --- end LiteRT parity ----------------------------------------------------------------------

step "accuracy floors (QRS, beat classes, rhythm: MIT-BIH at 360/250/128 Hz, LTAFDB)"
python3 scripts/accuracy-floors.py target/release/sinus
