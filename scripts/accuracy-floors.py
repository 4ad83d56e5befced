#!/usr/bin/env python3
"""Accuracy floors checked in CI: each evaluation is run on the full database and its figures
must stay at or above the floors, which sit just under the README's figures, so a regression
fails the build. Usage: accuracy-floors.py PATH/TO/sinus [DB_DIR]
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "peers"))
from mitdb_path import find_db  # noqa: E402

# (detector, statistic, floor in %). README: offline 99.945/99.940 (both leads), streaming
# 99.844/99.838 and streaming-250 99.838/99.841 (channel 0); all 48 MIT-BIH records, whole
# records, ±150 ms, bxb rules.
QRS_FLOORS = [
    ("offline", "se", 99.92), ("offline", "ppv", 99.92),
    ("streaming", "se", 99.80), ("streaming", "ppv", 99.80),
    ("streaming-250", "se", 99.80), ("streaming-250", "ppv", 99.80),
]

# Beat classification with the shipped model on DS2 (inter-patient), reference R-peaks and end
# to end (offline detector): (mode, class, statistic, floor in %), just under the README's
# figures (crates/sinus-ml/models/MODEL_CARD.md): reference S 58.08/72.78, V 94.97/85.56,
# macro-F1 68.21; end to end S 34.95/60.28, V 94.82/81.90, macro-F1 62.80.
BEAT_FLOORS = [
    ("reference", "S", "se", 57.5), ("reference", "S", "ppv", 72.0),
    ("reference", "V", "se", 94.5), ("reference", "V", "ppv", 85.0),
    ("reference", "macro", "", 67.5),
    ("end_to_end", "S", "se", 34.5), ("end_to_end", "S", "ppv", 59.5),
    ("end_to_end", "V", "se", 94.3), ("end_to_end", "V", "ppv", 81.4),
    ("end_to_end", "macro", "", 62.3),
]


def check_beats(sinus, db):
    """Run `sinus eval beats` once (both modes) and compare with BEAT_FLOORS."""
    if not BEAT_FLOORS:
        return 0, 0
    out = subprocess.run([sinus, "--quiet", "eval", "beats", "--db", db, "--json"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        print(f"FAIL beats: {out.stderr.strip()}")
        return 0, 1
    result = json.loads(out.stdout)
    passed = failed = 0
    for mode, cls, stat, floor in BEAT_FLOORS:
        r = result if mode == "reference" else result["end_to_end"]
        value = r["macro_f1"] if cls == "macro" else r["classes"][cls][stat]
        ok = value is not None and value >= floor
        print(f"{'ok  ' if ok else 'FAIL'} beats {mode:<10} {cls} {stat:<4} {value:.2f} (floor {floor})")
        passed, failed = (passed + 1, failed) if ok else (passed, failed + 1)
    return passed, failed


def main():
    sinus = sys.argv[1]
    db = sys.argv[2] if len(sys.argv) > 2 else find_db()
    passed = failed = 0
    results = {}
    for detector in sorted({d for d, _, _ in QRS_FLOORS}):
        out = subprocess.run([sinus, "--quiet", "eval", "qrs", "--db", db, "--detector", detector,
                              "--json"], capture_output=True, text=True)
        if out.returncode != 0:
            print(f"FAIL qrs {detector}: {out.stderr.strip()}")
            failed += 1
            continue
        results[detector] = json.loads(out.stdout)["gross"]
    for detector, stat, floor in QRS_FLOORS:
        if detector not in results:
            continue
        value = results[detector][stat]
        ok = value is not None and value >= floor
        print(f"{'ok  ' if ok else 'FAIL'} qrs {detector:<14} {stat:<4} {value:.3f} (floor {floor})")
        passed, failed = (passed + 1, failed) if ok else (passed, failed + 1)
    p, f = check_beats(sinus, db)
    passed, failed = passed + p, failed + f
    print(f"accuracy-floors: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
