#!/usr/bin/env bash
# Whole-analysis benchmark: `sinus analyze` on a synthetic 24 h two-lead Holter at 250 Hz (one
# core, peak RSS, time per stage), the 48 MIT-BIH records in directory mode (two threads), and
# the peer NeuroKit2 0.2.13 (`nk.ecg_process` + `nk.hrv`, lead 0 read with wfdb-python) on the
# same 24 h recording, in the same run; prints a table with ratios.
#
#   bash bench/analyze.sh [--mitdb DIR] [--no-peer] [--nk-max-s 600]
# MIT-BIH is looked for in $SINUS_MITDB, shared/data/mitdb or ../shared/data/mitdb.
# NeuroKit2 runs on the whole day only when 24 x its first hour fits in --nk-max-s (600 s);
# otherwise the table shows the first hour scaled by 24, and says so.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 NUMEXPR_NUM_THREADS=1
target="${CARGO_TARGET_DIR:-$root/target}"
cargo build --release --quiet -p sinus-cli
# Copy the binary: a shared target directory may be rebuilt by someone else meanwhile.
work="$root/target/bench-analyze"
mkdir -p "$work"
cp "$target/release/sinus" "$work/sinus"
mitdb="${SINUS_MITDB:-}"
for d in shared/data/mitdb ../shared/data/mitdb; do
  if [ -z "$mitdb" ] && [ -f "$d/100.hea" ]; then mitdb="$d"; fi
done
args=()
if [ -n "$mitdb" ]; then args+=(--mitdb "$mitdb"); fi
py="$(bash scripts/peers-venv.sh)"
"$py" bench/analyze.py --sinus "$work/sinus" --work "$work" "${args[@]}" "$@"
