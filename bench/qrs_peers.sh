#!/usr/bin/env bash
# Reproduces the README's QRS tables: Sinus vs peer detectors (NeuroKit2, wfdb-python xqrs and
# gqrs, py-ecg-detectors) on the 48 MIT-BIH records, channel 0, whole records, scored by the
# same bxb-equivalent matcher (`sinus eval qrs`), with detection throughput on one core; then
# Se/+P per SNR on the noise-stress copies of records 118 and 119.
#
#   bash bench/qrs_peers.sh                 # everything (about 30-40 min on one core)
#   bash bench/qrs_peers.sh --quick         # a few records, fast peers only
#   bash bench/qrs_peers.sh --records 100,203 --peers xqrs,nk-pantompkins --no-noise
# Options are those of bench/qrs_peers.py (--help).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# One thread everywhere: timings are per core, and BLAS/OpenMP pools would blur them.
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 NUMEXPR_NUM_THREADS=1 \
  VECLIB_MAXIMUM_THREADS=1 RAYON_NUM_THREADS=1
cargo build --release --quiet -p sinus-cli
cargo build --release --quiet -p sinus-signal --example make_noisy_db
if [ ! -f target/nstdb-sim/mix_-6/RECORDS ]; then
  echo "generating the noise-stress records into target/nstdb-sim ..." >&2
  target/release/examples/make_noisy_db --out target/nstdb-sim >/dev/null
fi
py="$(bash scripts/peers-venv.sh "$root/bench/requirements-qrs.txt")"
"$py" bench/qrs_peers.py --sinus target/release/sinus --noise-root target/nstdb-sim "$@"
