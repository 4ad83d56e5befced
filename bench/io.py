#!/usr/bin/env python3
"""I/O benchmark: load all 48 MIT-BIH records (signals + .atr) with Sinus and with wfdb-python,
in the same run, and print a Markdown table with MB/s, samples/s and the ratio.

Sinus is timed five ways (see crates/sinus-io/examples/load_mitdb.rs): one thread with fresh
memory for every record (all records kept), one thread with wfdb-python's loop (read_record per
record, dropped before the next), one thread reusing its buffers (RecordReader), and N threads
with fresh memory (read_records) or reused buffers (map_records). wfdb-python runs its usual loop:
rdrecord(physical=False) + rdann per record, each record dropped before the next.

"time" is the best wall time of a pass; "CPU/pass" is the process's CPU time per pass (all
threads, user + system), which unlike wall time does not grow when other programs share the
cores; "1st pass" is the wall time of the first pass in a fresh process (memory never used
before, so every page of the samples is faulted in). Speed-ups are against wfdb-python's best
wall time and its CPU time per pass.

Run: bash bench/io.sh [REPEATS] [THREADS]   (builds Sinus in release mode, sets up the peer venv)
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


def wfdb_pass(db):
    samples = annotations = 0
    for rec in MITDB_RECORDS:
        path = os.path.join(db, rec)
        r = wfdb.rdrecord(path, physical=False)
        a = wfdb.rdann(path, "atr")
        samples += r.d_signal.size
        annotations += len(a.sample)
    return samples, annotations


def time_wfdb_python(db, repeats):
    t0 = time.perf_counter()
    counts = wfdb_pass(db)
    first = time.perf_counter() - t0
    times = []
    cpu0 = time.process_time()
    for _ in range(repeats):
        t0 = time.perf_counter()
        if wfdb_pass(db) != counts:
            raise SystemExit("wfdb-python passes read different amounts")
        times.append(time.perf_counter() - t0)
    cpu = (time.process_time() - cpu0) / repeats
    times.sort()
    return {"tool": "wfdb-python " + wfdb.__version__, "threads": 1,
            "memory": "fresh per record (dropped after use)",
            "best_s": times[0], "median_s": statistics.median(times), "cpu_s": cpu,
            "first_s": first, "samples": counts[0], "annotations": counts[1],
            "repeats": repeats}


MEMORY = {
    "fresh": "fresh, all records kept",
    "fresh-drop": "fresh per record (dropped after use)",
    "reuse": "reused (RecordReader)",
    "threads": "fresh, all records kept",
    "threads-reuse": "reused per thread (map_records)",
}


def main():
    sinus_example = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    threads = sys.argv[3] if len(sys.argv) > 3 else "0"
    db = find_db()
    out = subprocess.run([sinus_example, db, str(repeats), threads], check=True,
                         capture_output=True, text=True).stdout
    ours = [json.loads(line) for line in out.splitlines() if line.strip()]
    peer = time_wfdb_python(db, max(2, repeats // 4))
    for r in ours:
        assert peer["samples"] == r["samples"], (peer["samples"], r["samples"])
        assert peer["annotations"] == r["annotations"], (peer["annotations"], r["annotations"])
        r["tool"] = "sinus"
        r["memory"] = MEMORY.get(r["mode"], r["mode"])
    first = ours[0]
    mb = first["bytes"] / 1e6
    print(f"Load all 48 MIT-BIH records + .atr ({mb:.1f} MB, {first['samples']/1e6:.1f} M samples, "
          f"{first['annotations']} annotations); best of {first['repeats']} passes (Sinus) / "
          f"{peer['repeats']} (wfdb-python); {os.cpu_count()} cores\n")
    print("| tool | threads | sample memory | time (s) | CPU/pass (s) | 1st pass (s) | MB/s "
          "| M samples/s | speed-up | CPU speed-up |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in ours + [peer]:
        t = r["best_s"]
        cpu_ratio = f"{peer['cpu_s'] / r['cpu_s']:.1f}x" if r["cpu_s"] > 0 else "n/a"
        print(f"| {r['tool']} | {r['threads']} | {r['memory']} | {t:.3f} | {r['cpu_s']:.3f} | "
              f"{r['first_s']:.3f} | {mb / t:.0f} | {r['samples'] / t / 1e6:.0f} | "
              f"{peer['best_s'] / t:.1f}x | {cpu_ratio} |")


if __name__ == "__main__":
    main()
