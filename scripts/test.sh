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

# ---- RP2040 firmware (firmware/rp2040) ------------------------------------------------------
# Its own workspace (firmware/) and target dir (firmware/target). Lints and host unit tests of
# the firmware crate, then the release build for the device, linked, as a checked UF2
# (block count, addresses, RP2040 family, boot2 CRC, contents = the ELF). Not run on hardware.
step "RP2040 firmware: lints, unit tests, release build and UF2 (firmware/rp2040/build-uf2.sh)"
if rustup target list --installed 2>/dev/null | grep -qx thumbv6m-none-eabi; then
  bash firmware/rp2040/build-uf2.sh --ci
else
  echo "note: the thumbv6m-none-eabi target is not installed here; RP2040 firmware skipped"
fi
# ---- end RP2040 firmware ---------------------------------------------------------------------

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

# ---- The device pipeline on an emulated Cortex-M0 (firmware/qemu-m0) -------------------------
# qemu's micro:bit (Cortex-M0) runs the monitor on the codes `sinus edge simulate` writes; its
# events must equal the host monitor's byte for byte (the demo, a leads-off stretch, four
# whole MIT-BIH records); prints the RAM / flash / instruction budget (README).
step "device: the Cortex-M0 (qemu) and the host give identical events; budget"
if ! command -v qemu-system-arm >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-system-arm) \
    >/dev/null
fi
(
  cd firmware
  cargo fmt -p sinus-qemu-m0 -p sinus-model -- --check
  cargo clippy --quiet --locked --release -p sinus-qemu-m0 -p sinus-model -- -D warnings
  cargo build --quiet --locked --release -p sinus-qemu-m0
)
python3 scripts/device-check.py target/release/sinus \
  firmware/target/thumbv6m-none-eabi/release/sinus-qemu-m0 --json target/device-check.json
# ---- end Cortex-M0 -----------------------------------------------------------------------------
