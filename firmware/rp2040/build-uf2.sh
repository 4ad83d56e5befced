#!/usr/bin/env bash
# Builds the RP2040 firmware for the device, makes its UF2 and checks it; with --ci also
# checks formatting and lints and runs the host unit tests of its hardware-free parts.
#
#   bash firmware/rp2040/build-uf2.sh [--ci] [-o OUT.uf2]
#
# The UF2 goes to $CARGO_TARGET_DIR (default firmware/target)/thumbv6m-none-eabi/release/
# sinus-rp2040.uf2 unless -o says otherwise. Needs cargo with the thumbv6m-none-eabi target
# and python3; llvm-size or arm-none-eabi-size, when present, report the sizes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
fw="$(dirname "$here")"
cd "$fw"

ci=0
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --ci) ci=1 ;;
    -o) out="$2"; shift ;;
    *) echo "usage: $0 [--ci] [-o OUT.uf2]" >&2; exit 2 ;;
  esac
  shift
done

target_dir="${CARGO_TARGET_DIR:-$fw/target}"
elf="$target_dir/thumbv6m-none-eabi/release/sinus-rp2040"
out="${out:-$elf.uf2}"
host="$(rustc -vV | sed -n 's/^host: //p')"

if [ "$ci" = 1 ]; then
  cargo fmt -p sinus-rp2040 -- --check
  cargo clippy --quiet --locked --release --target thumbv6m-none-eabi -p sinus-rp2040 \
    -- -D warnings
  # The ring, the sampler's gap bookkeeping, the transmit queue and the front-end constants,
  # on the host.
  cargo test --quiet --locked --lib -p sinus-rp2040 --target "$host"
fi

cargo build --quiet --locked --release --target thumbv6m-none-eabi -p sinus-rp2040
python3 "$here/elf2uf2.py" "$elf" -o "$out"
python3 "$here/elf2uf2.py" --check "$out" --elf "$elf"

# Flash = the sections stored in flash (boot2, vectors, code, constants, data's initial
# values); static RAM = .data + .bss (+ .uninit). The stack comes on top (README.md).
for size in llvm-size arm-none-eabi-size rust-size; do
  if command -v "$size" >/dev/null 2>&1; then
    "$size" -A "$elf" | awk '
      $1 ~ /^\.(boot2|vector_table|text|rodata|data)$/ { flash += $2 }
      $1 ~ /^\.(data|bss|uninit)$/ { ram += $2 }
      END { printf "sizes: flash %d bytes, static RAM %d bytes\n", flash, ram }'
    break
  fi
done
