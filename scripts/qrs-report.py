#!/usr/bin/env python3
"""The README's QRS tables: `sinus eval qrs` on MIT-BIH, offline against streaming detector, at
the records' 360 Hz and resampled to 250 and 128 Hz (detections scored at 360 Hz), whole
records and 10 s strips (a fresh detector on each strip, 0.15 s at each strip edge not scored).
One `eval qrs --json` run per detector, rate and mode, records in parallel.

Usage: qrs-report.py PATH/TO/sinus [MITDB_DIR]   (prints Markdown; ~1 min)
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "peers"))
from mitdb_path import find_db  # noqa: E402

# (row title, --fs value or None for the records' own rate)
RATES = [("360 Hz (native)", None), ("250 Hz", "250"), ("128 Hz", "128")]
DETECTORS = ["offline", "streaming"]
STRIP_SECONDS = "10"


def run(sinus, db, detector, fs, strips):
    args = [sinus, "--quiet", "eval", "qrs", "--db", db, "--detector", detector, "--json"]
    if fs is not None:
        args += ["--fs", fs]
    if strips:
        args += ["--strip-seconds", STRIP_SECONDS]
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(args[2:])} failed: {out.stderr.strip()}")
    return json.loads(out.stdout)


def pct(v):
    return "–" if v is None else f"{v:.2f}"


def diff(a, b):
    """b − a in percentage points, signed."""
    return "–" if a is None or b is None else f"{b - a:+.2f}"


def largest_se_gap(offline, streaming):
    """The record where the streaming detector's Se falls furthest below the offline one's."""
    se = {r["name"]: r["se"] for r in streaming["records"]}
    gaps = [(r["se"] - se[r["name"]], r["name"]) for r in offline["records"]
            if r["se"] is not None and se.get(r["name"]) is not None]
    if not gaps:
        return "–"
    gap, name = max(gaps)
    return f"{name} ({gap:+.2f})"


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__.strip())
    sinus = sys.argv[1]
    db = sys.argv[2] if len(sys.argv) > 2 else find_db()
    t0 = time.monotonic()
    results = {(d, fs, strips): run(sinus, db, d, fs, strips)
               for strips in (False, True) for _, fs in RATES for d in DETECTORS}
    elapsed = time.monotonic() - t0

    n = len(results[("offline", None, False)]["records"])
    print(f"MIT-BIH, {n} records, whole records, ±150 ms (bxb rules); Se and +P in %, "
          "differences in percentage points\n")
    print("| rate | offline Se / +P | streaming Se / +P | Se streaming − offline "
          "| +P streaming − offline | largest Se gap (offline − streaming) |")
    print("|---|---|---|---:|---:|---|")
    for title, fs in RATES:
        off, st = results[("offline", fs, False)], results[("streaming", fs, False)]
        go, gs = off["gross"], st["gross"]
        print(f"| {title} | {pct(go['se'])} / {pct(go['ppv'])} | {pct(gs['se'])} / {pct(gs['ppv'])} "
              f"| {diff(go['se'], gs['se'])} | {diff(go['ppv'], gs['ppv'])} "
              f"| {largest_se_gap(off, st)} |")

    strips = results[("offline", None, True)]["strips"]
    print(f"\n{STRIP_SECONDS} s strips ({strips} per detector), a fresh detector on each, "
          "0.15 s at each strip edge not scored\n")
    print("| rate | offline Se / +P | streaming Se / +P | Se streaming − offline "
          "| +P streaming − offline |")
    print("|---|---|---|---:|---:|")
    for title, fs in RATES:
        go = results[("offline", fs, True)]["gross"]
        gs = results[("streaming", fs, True)]["gross"]
        print(f"| {title} | {pct(go['se'])} / {pct(go['ppv'])} | {pct(gs['se'])} / {pct(gs['ppv'])} "
              f"| {diff(go['se'], gs['se'])} | {diff(go['ppv'], gs['ppv'])} |")
    print(f"\n{len(results)} runs of `sinus eval qrs` in {elapsed:.0f} s")


if __name__ == "__main__":
    main()
