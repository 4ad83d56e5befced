#!/usr/bin/env bash
# Run every fuzz target for SECONDS (default 300) each, one after another, seeding the corpora
# from the MIT-BIH copy (if present) and the test fixtures. Needs the nightly toolchain and
# `cargo install cargo-fuzz`. Crashes land in fuzz/artifacts/<target>/; turn each into a
# regression test under crates/sinus-io/tests/.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-300}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(wfdb_header wfdb_signal wfdb_annotation edf csv nn_model rr_list rhythm chunked_edf beat_cache monitor model_export wire_decode holter_recovery compress_decode)
db="${SINUS_MITDB:-$(cd .. && pwd)/../shared/data/mitdb}"
fixtures=../crates/sinus-io/tests/data
seed() { mkdir -p "corpus/$1"; shift; for f in "$@"; do [ -f "$f" ] && cp -n "$f" corpus/"$t"/ 2>/dev/null || true; done; }
for t in "${targets[@]}"; do
  case "$t" in
    wfdb_header) seed "$t" "$db"/1*.hea "$fixtures"/*.hea ;;
    wfdb_signal) mkdir -p corpus/$t; [ -f "$db/100.dat" ] && head -c 3004 "$db/100.dat" > corpus/$t/mitdb100 || true
                 seed "$t" "$fixtures"/*.dat ;;
    wfdb_annotation) seed "$t" "$db"/10[0-3].atr "$db"/201.atr "$db"/232.atr ;;
    edf|chunked_edf) seed "$t" "$fixtures"/*.edf ;;
    csv) seed "$t" "$fixtures"/*.csv ;;
    # Shipped models without the signature and CRC (the target adds both back).
    nn_model) mkdir -p corpus/$t; for m in ../crates/sinus-ml/models/*.snnm; do
                [ -f "$m" ] && tail -c +5 "$m" | head -c -4 > "corpus/$t/$(basename "$m")"; done ;;
    rr_list) mkdir -p corpus/$t; printf '0.8\n0.81 N\n0.5 V\n1.1\n# c\n0.79,S\n' > corpus/$t/seed ;;
    rhythm) mkdir -p corpus/$t; head -c 4096 /dev/urandom > corpus/$t/seed ;;
    # Real ECG codes: 250 Hz, 12 bit (`sinus edge simulate --firmware-input`), each i16 standing
    # for a run of 8 samples in the target; a 6-byte configuration header in front (250 Hz,
    # 372 codes per mV, zero code 2048).
    monitor) mkdir -p corpus/$t; if [ -x ../target/release/sinus ] && [ -d "$db" ]; then
               ../target/release/sinus -q edge simulate "$db/100" --seconds 120 \
                 --firmware-input corpus/$t/.in.bin >/dev/null &&
               { printf '\xa0\x00\x17\x5d\x00\x08'; tail -c +21 corpus/$t/.in.bin | head -c 8000; } \
                 > corpus/$t/mitdb100 && rm -f corpus/$t/.in.bin; fi ;;
    # Frames of every message type (`cargo test -p sinus-core wire` writes none; a few
    # hand-made frames: HELLO-request, START_RAW, and garbage with delimiters).
    wire_decode) mkdir -p corpus/$t; printf '\x06\x10\x44\x01\x02\x03\x01\x00' > corpus/$t/seed1
                 printf '\x00\x00abc\x00\x05\x10\x40\x00\x01\x00' > corpus/$t/seed2 ;;
    model_export) mkdir -p corpus/$t; for m in ../crates/sinus-ml/models/*.int8.snnm; do
                [ -f "$m" ] && tail -c +5 "$m" | head -c -4 > "corpus/$t/$(basename "$m")"; done ;;
    # Structured seeds (first byte's top bit): 16 sectors, write size 256 / 1 / 16, some
    # hundred appends of mixed tiers and lengths, then a few damaged bytes.
    holter_recovery) mkdir -p corpus/$t
                for w in 255 0 15; do { printf "\\x80\\x$(printf %02x $w)\\x60"; head -c 2400 /dev/urandom; } \
                  > corpus/$t/seed-w$w; done ;;
    # Real MIT-BIH codes as the target reads them (a mode byte, then little-endian i32).
    compress_decode) mkdir -p corpus/$t; [ -f "$db/100.dat" ] && python3 -c "
import sys; d=open('$db/100.dat','rb').read(3000); v=[]
for i in range(0,len(d)-2,3):
    a=d[i]|((d[i+1]&15)<<8); b=d[i+2]|((d[i+1]>>4)<<8); v+=[a-(a>>11<<12), b-(b>>11<<12)]
sys.stdout.buffer.write(bytes([1])+b''.join(x.to_bytes(4,'little',signed=True) for x in v))" \
                 > corpus/$t/mitdb100 || true ;;
    # The first 2 KB of real caches (`sinus train --cache DIR`; BEAT_CACHE_DIR, default
    # ../runs/cache): header, configuration, record list and the first beats.
    beat_cache) mkdir -p corpus/$t; for f in "${BEAT_CACHE_DIR:-../runs/cache}"/*.bin; do
                  [ -f "$f" ] && head -c 2048 "$f" > "corpus/$t/$(basename "$f")"; done ;;
  esac
  echo "== $t for ${seconds}s"
  # The monitor runs every sample through the whole pipeline: shorter inputs (≤ 32 k samples,
  # about 2 minutes of ECG) keep it at tens of runs a second instead of one.
  max_len=262144
  [ "$t" = monitor ] && max_len=8192
  cargo +nightly fuzz run -O "$t" "corpus/$t" -- -max_total_time="$seconds" -rss_limit_mb=2048 \
    -max_len="$max_len" 2>&1 | tail -n 4 || echo "== $t: CRASH (see fuzz/artifacts/$t)"
done
