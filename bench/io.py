#!/usr/bin/env python3
"""I/O benchmark: load all 48 MIT-BIH records (signals + .atr) with Sinus and with wfdb-python,
in the same run, and print a Markdown table with MB/s, samples/s and the ratio.

Run: bash bench/io.sh   (builds Sinus in release mode and sets up the peer venv)
"""
import json
import os
import statistics
import subprocess
import sys
import time

import wfdb

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "peers"))
from wfdb_parity import MITDB_RECORDS, find_db  # noqa: E402


def time_wfdb_python(db, repeats):
    times = []
    samples = annotations = 0
    for _ in range(repeats):
        samples = annotations = 0
        t0 = time.perf_counter()
        for rec in MITDB_RECORDS:
            path = os.path.join(db, rec)
            r = wfdb.rdrecord(path, physical=False)
            a = wfdb.rdann(path, "atr")
            samples += r.d_signal.size
            annotations += len(a.sample)
        times.append(time.perf_counter() - t0)
    times.sort()
    return {"tool": "wfdb-python " + wfdb.__version__, "best_s": times[0],
            "median_s": statistics.median(times), "samples": samples,
            "annotations": annotations, "repeats": repeats}


def main():
    sinus_example = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    db = find_db()
    ours = json.loads(subprocess.run([sinus_example, db, str(repeats)], check=True,
                                     capture_output=True, text=True).stdout)
    peer = time_wfdb_python(db, max(1, repeats // 2))
    peer["bytes"] = ours["bytes"]
    assert peer["samples"] == ours["samples"], (peer["samples"], ours["samples"])
    assert peer["annotations"] == ours["annotations"], (peer["annotations"], ours["annotations"])
    mb = ours["bytes"] / 1e6
    print(f"Load all 48 MIT-BIH records + .atr ({mb:.1f} MB, {ours['samples']/1e6:.1f} M samples, "
          f"{ours['annotations']} annotations), best of {ours['repeats']} (ours) / {peer['repeats']} (peer), "
          f"{os.cpu_count()} cores, one thread\n")
    print("| tool | time (s) | MB/s | M samples/s | speed-up |")
    print("|---|---:|---:|---:|---:|")
    for r in (ours, peer):
        t = r["best_s"]
        print(f"| {r['tool']} | {t:.3f} | {mb / t:.0f} | {r['samples'] / t / 1e6:.0f} | "
              f"{peer['best_s'] / t:.1f}x |")


if __name__ == "__main__":
    main()
