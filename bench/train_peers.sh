#!/usr/bin/env bash
# Speed of the default beat classifier ("beatnet", 1 lead x 128 points + 8 RR features,
# 5 AAMI classes), Sinus against PyTorch on the CPU in the same run, printed as one table:
#   1. training: seconds per epoch on de Chazal's DS1 (MIT-BIH, 22 records, ~51 k beats), Sinus
#      (`sinus train`, burn 0.22.1 flex backend, threads set by RAYON_NUM_THREADS, which the
#      flex backend's rayon pool and its gemm honour) and PyTorch (bench/train_peers.py, same
#      architecture and recipe, torch.set_num_threads) at each thread count, with the ratio
#      PyTorch / Sinus (> 1: Sinus faster);
#   2. one full `sinus train` on DS1 with default settings (30 epochs at most, early stopping,
#      beats cached by step 1), wall time; goal <= 5 min on 2 cores;
#   3. inference, one core: beats/s of Sinus's `sinus_core::nn` kernels (float32 and int8,
#      examples/infer_speed.rs) next to PyTorch eager and TorchScript (bench/infer_peers.py).
#
#   bash bench/train_peers.sh                     # 5 epochs at 1 and 2 threads, everything
#   bash bench/train_peers.sh --epochs 3 --threads 2 --no-full --db /path/to/mitdb
#
# The machine's load average is printed beside the figures: on a shared machine the mean
# epoch time is inflated by other processes; the median and minimum are steadier.
# PyTorch comes from PyPI into target/peers-venv-torch (the default wheel: ~3 GB, a CUDA build
# that runs on the CPU; only PyPI is reachable, so no CPU-only wheel index).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
epochs=5
threads="1,2"
db="${SINUS_MITDB:-}"
full=1
infer=1
while [ $# -gt 0 ]; do
  case "$1" in
    --epochs) epochs="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --db) db="$2"; shift 2 ;;
    --no-full) full=0; shift ;;
    --no-infer) infer=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if [ -z "$db" ]; then
  for d in "$root/../shared/data/mitdb" "$root/../../shared/data/mitdb" /work/shared/data/mitdb; do
    if [ -f "$d/100.hea" ]; then db="$(cd "$d" && pwd)"; break; fi
  done
fi
[ -f "$db/100.hea" ] || { echo "MIT-BIH not found: pass --db DIR or set SINUS_MITDB" >&2; exit 2; }
ds1="101,106,108,109,112,114,115,116,118,119,122,124,201,203,205,207,208,209,215,220,223,230"

out="target/peers-train"
mkdir -p "$out"
results="$out/results.txt"
: > "$results"
load() { awk '{print $1}' /proc/loadavg; }  # 1-minute load average
note() { echo "$*" | tee -a "$results"; }

data="target/peers-data/ds1"
# One build command: separate ones would unify features differently and build burn twice.
cargo build --release --quiet -p sinus-cli -p sinus-ml --bin sinus --example dump_dataset \
  --example infer_speed
if [ ! -f "$data/labels.npy" ]; then
  target/release/examples/dump_dataset --db "$db" --set ds1 --out "$data"
fi
py="$(SINUS_VENV="$root/target/peers-venv-torch" bash scripts/peers-venv.sh \
  "$root/bench/requirements-torch.txt")"

# Seconds of history.json's epochs -> a RESULT line of the same form as the PyTorch one.
epoch_stats() {
  "$py" - "$1" "$2" "$3" <<'PY'
import json, statistics, sys
h = json.load(open(sys.argv[1]))
s = [e["seconds"] for e in h["epochs"]]
print(f"RESULT sinus threads={sys.argv[2]} epochs={len(s)} s_per_epoch_mean={statistics.mean(s):.2f} "
      f"s_per_epoch_median={statistics.median(s):.2f} s_per_epoch_min={min(s):.2f} load={sys.argv[3]}")
PY
}

for t in ${threads//,/ }; do
  # Thread pools sized explicitly on both sides (BLAS/OpenMP would otherwise take every core).
  export OMP_NUM_THREADS="$t" MKL_NUM_THREADS="$t" OPENBLAS_NUM_THREADS="$t" RAYON_NUM_THREADS="$t"
  # -------------------------------------------------------------------------------------------
  # >>> RUST SIDE
  # All 22 DS1 records for training, as PyTorch has; `sinus train` needs a validation set and
  # times it within the epoch, so it gets the smallest DS1 record (124, ~1.6 k beats: a
  # forward pass over 3 % of the epoch's beats, no backward). Early stopping off
  # (--patience = --epochs) so every epoch runs; the same "balanced, capped" class weights.
  l0="$(load)"
  target/release/sinus train --db "$db" --out "$out/sinus-t$t" --cache "$out/cache" \
    --epochs "$epochs" --patience "$epochs" --weights inverse --train "$ds1" --valid 124 \
    2> "$out/sinus-t$t.log"
  epoch_stats "$out/sinus-t$t/history.json" "$t" "$l0/$(load)" | tee -a "$results"
  # <<< END RUST SIDE
  # -------------------------------------------------------------------------------------------
  l0="$(load)"
  "$py" bench/train_peers.py --data "$data" --epochs "$epochs" --threads "$t" \
    > "$out/pytorch-t$t.log"
  note "$(grep '^RESULT' "$out/pytorch-t$t.log") load=$l0/$(load)"
done

maxt="$(echo "${threads//,/ }" | tr ' ' '\n' | sort -n | tail -1)"
if [ "$full" = 1 ]; then
  # One full training run with the defaults (DS1 minus 5 records held out for validation,
  # up to 30 epochs, early stopping), on the most threads asked for.
  export RAYON_NUM_THREADS="$maxt" OMP_NUM_THREADS="$maxt"
  rm -rf "$out/full"
  l0="$(load)"
  t0="$(date +%s.%N)"
  target/release/sinus train --db "$db" --out "$out/full" --cache "$out/cache" 2> "$out/full.log"
  t1="$(date +%s.%N)"
  n_ep="$("$py" -c "import json,sys; print(len(json.load(open(sys.argv[1]))['epochs']))" "$out/full/history.json")"
  note "RESULT sinus-full threads=$maxt seconds=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') epochs=$n_ep load=$l0/$(load)"
fi

if [ "$infer" = 1 ]; then
  export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 RAYON_NUM_THREADS=1
  l0="$(load)"
  target/release/examples/infer_speed > "$out/infer-sinus.log"
  l1="$(load)"
  "$py" bench/infer_peers.py --threads 1 > "$out/infer-pytorch.log"
  grep -h '^RESULT' "$out/infer-sinus.log" | sed "s|\$| load=$l0|" >> "$results"
  grep -h '^RESULT' "$out/infer-pytorch.log" | sed "s|\$| load=$l1|" >> "$results"
fi

# ---------------------------------------------------------------------------------------------
"$py" - "$results" <<'PY'
import re, sys
rows = [dict(re.findall(r"(\S+)=(\S+)", l)) | {"who": l.split()[1]}
        for l in open(sys.argv[1]) if l.startswith("RESULT")]
def get(who, **kw):
    return next((r for r in rows if r["who"] == who and all(r.get(k) == v for k, v in kw.items())), None)
print("\n## Training, seconds per epoch on DS1 (load average at start/end)")
print(f"{'threads':>7} | {'Sinus mean/median/min':>22} | {'PyTorch mean/median/min':>24} | {'PyTorch/Sinus (median)':>22} | load Sinus, PyTorch")
for t in sorted({r["threads"] for r in rows if r["who"] in ("sinus", "pytorch")}, key=int):
    s, p = get("sinus", threads=t), get("pytorch", threads=t)
    f = lambda r: f"{r['s_per_epoch_mean']}/{r['s_per_epoch_median']}/{r['s_per_epoch_min']}" if r else "-"
    ratio = f"{float(p['s_per_epoch_median']) / float(s['s_per_epoch_median']):.2f}" if s and p else "-"
    print(f"{t:>7} | {f(s):>22} | {f(p):>24} | {ratio:>22} | {s and s['load']}, {p and p['load']}")
full = get("sinus-full")
if full:
    m, sec = divmod(float(full["seconds"]), 60)
    print(f"\nFull `sinus train` on DS1, defaults, {full['threads']} threads: {int(m)} min {sec:.0f} s "
          f"({full['epochs']} epochs incl. early stopping; goal <= 5 min), load {full['load']}")
inf = [r for r in rows if r["who"] in ("sinus-infer", "pytorch-infer")]
if inf:
    base = get("sinus-infer", variant="float32")
    print("\n## Inference, one core, beats/s (batches of 4096; median / best of 5)")
    print(f"{'':>28} | {'median':>9} | {'best':>9} | {'Sinus float32 / this':>20} | load")
    for r in inf:
        name = ("Sinus " if r["who"] == "sinus-infer" else "PyTorch ") + r["variant"]
        ratio = float(base["beats_per_s_median"]) / float(r["beats_per_s_median"]) if base else float("nan")
        print(f"{name:>28} | {int(r['beats_per_s_median']):>9} | {int(r['beats_per_s_best']):>9} | {ratio:>20.2f} | {r['load']}")
PY
