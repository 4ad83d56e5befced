#!/usr/bin/env python3
"""Lossless compression table for the Holter store (issue 10 item 3): runs
`cargo run --release -p sinus-core --example compress_ratio [BLOCK_SECONDS]` and puts xz
(Python's lzma, preset 9 | PRESET_EXTREME) on the same samples beside it: each record's two leads
as 16-bit little-endian samples, frame-interleaved, one xz stream per record. All ratios are
against 2 bytes per sample per lead. Data: SINUS_MITDB or /work/shared/data/mitdb.

Usage: scripts/compress-report.py [BLOCK_SECONDS]   (default 10)
(COMPRESS_RATIO_BIN=path runs an already built example instead of `cargo run`.)
"""
import lzma
import os
import struct
import subprocess
import sys

db = os.environ.get("SINUS_MITDB", "/work/shared/data/mitdb")
block = sys.argv[1] if len(sys.argv) > 1 else "10"
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_212(path):
    """Both leads of a MIT-BIH format-212 file as interleaved 12-bit two's complement codes."""
    d = open(path, "rb").read()
    out = []
    for i in range(0, len(d) - 2, 3):
        a = d[i] | ((d[i + 1] & 0x0F) << 8)
        b = d[i + 2] | ((d[i + 1] >> 4) << 8)
        out.append(a - 4096 if a & 0x800 else a)
        out.append(b - 4096 if b & 0x800 else b)
    return out


# COMPRESS_RATIO_BIN: an already built example binary (skips cargo and its locks).
cmd = ["cargo", "run", "-q", "--release", "-p", "sinus-core", "--example", "compress_ratio"]
run = subprocess.run(
    [os.environ["COMPRESS_RATIO_BIN"], block] if "COMPRESS_RATIO_BIN" in os.environ else cmd + [block],
    cwd=root, capture_output=True, text=True, check=True,
    env={**os.environ, "SINUS_MITDB": db},
)
lines = run.stdout.strip().splitlines()
rows = [l.split() for l in lines[1:] if l[0].isdigit()]
speed = [l for l in lines if l.startswith("speed")]

print(f"block {block} s; ratios against 16-bit samples (2 bytes per sample per lead)")
print(f"{'record':>6} {'lead0':>6} {'lead1':>6} {'perlead':>7} {'2-lead':>6} {'naive':>6} {'xz':>6}")
raw_all = xz_all = 0
for r in rows:
    v = read_212(f"{db}/{r[0]}.dat")
    raw = struct.pack(f"<{len(v)}h", *v)
    xz = len(lzma.compress(raw, preset=9 | lzma.PRESET_EXTREME))
    raw_all += len(raw)
    xz_all += xz
    print(f"{r[0]:>6} {r[1]:>6} {r[2]:>6} {r[3]:>7} {r[4]:>6} {r[5]:>6} {len(raw) / xz:6.3f}")
a = [l.split() for l in lines if l.startswith("ALL")][0]
print(f"{'ALL':>6} {a[1]:>6} {a[2]:>6} {a[3]:>7} {a[4]:>6} {a[5]:>6} {raw_all / xz_all:6.3f}")
for s in speed:
    print(s)
