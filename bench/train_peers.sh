#!/usr/bin/env bash
# Times one training epoch of the default beat classifier ("beatnet", 1 lead x 128 points +
# 8 RR features, 5 AAMI classes) on de Chazal's DS1 (MIT-BIH, 22 records, ~51 k beats):
# Sinus's Rust trainer against the same architecture and recipe in PyTorch on the CPU
# (bench/train_peers.py), with the same number of threads.
#
#   bash bench/train_peers.sh                     # 5 epochs, 2 threads, MIT-BIH found as in tests
#   bash bench/train_peers.sh --epochs 3 --threads 1 --db /path/to/mitdb
#
# PyTorch comes from PyPI into target/peers-venv-torch (the default wheel: ~3 GB, a CUDA build
# that runs on the CPU; only PyPI is reachable, so no CPU-only wheel index).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
epochs=5
threads=2
db="${SINUS_MITDB:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --epochs) epochs="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --db) db="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
# Thread pools sized explicitly on both sides (BLAS/OpenMP would otherwise take every core).
export OMP_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" \
  RAYON_NUM_THREADS="$threads"

data="target/peers-data/ds1"
cargo build --release --quiet -p sinus-ml --example dump_dataset
if [ ! -f "$data/labels.npy" ]; then
  target/release/examples/dump_dataset ${db:+--db "$db"} --set ds1 --out "$data"
fi

# ---------------------------------------------------------------------------------------------
# >>> RUST SIDE (to be filled in by the integrator once `sinus train` exists) <<<
# Train the same architecture on the same DS1 beats with the same thread count and epochs, and
# print a line of the same form as the PyTorch one below, e.g.
#   cargo build --release --quiet -p sinus-cli
#   target/release/sinus train ${db:+--db "$db"} --out target/peers-train --epochs "$epochs" \
#       --threads "$threads" ...
#   echo "RESULT sinus threads=$threads epochs=$epochs s_per_epoch_mean=... s_per_epoch_median=... s_per_epoch_min=..."
# <<< END RUST SIDE
# ---------------------------------------------------------------------------------------------

py="$(SINUS_VENV="$root/target/peers-venv-torch" bash scripts/peers-venv.sh \
  "$root/bench/requirements-torch.txt")"
"$py" bench/train_peers.py --data "$data" --epochs "$epochs" --threads "$threads"
