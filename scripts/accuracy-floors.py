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
    ("streaming", "se", 99.82), ("streaming", "ppv", 99.82),
    ("streaming-250", "se", 99.80), ("streaming-250", "ppv", 99.80),
]

# The streaming detector at 128 Hz and on 10 s strips (README "Streaming beside offline",
# `scripts/qrs-report.py`): (label, extra arguments, statistic, floor in %), just under
# 99.83/99.84 (128 Hz) and 99.36/99.85, 99.09/99.85 (10 s strips at 360 and 128 Hz).
QRS_MODE_FLOORS = [
    ("streaming-128", ["--fs", "128"], "se", 99.80), ("streaming-128", ["--fs", "128"], "ppv", 99.81),
    ("streaming-strips", ["--strip-seconds", "10"], "se", 99.30),
    ("streaming-strips", ["--strip-seconds", "10"], "ppv", 99.82),
    ("streaming-strips-128", ["--fs", "128", "--strip-seconds", "10"], "se", 99.03),
    ("streaming-strips-128", ["--fs", "128", "--strip-seconds", "10"], "ppv", 99.82),
]

# Beat classification with the shipped model on DS2 (inter-patient), reference beats and end to
# end (offline detector), at 360 Hz and resampled to 128 Hz: (rate, mode, class, statistic, floor
# in %), just under the README's figures (crates/sinus-ml/models/MODEL_CARD.md): 360 Hz
# reference S 43.22/68.10, V 94.41/88.45, macro-F1 64.46; end to end S 42.03/67.13, V
# 94.19/87.99, macro-F1 64.05; 128 Hz end to end S 39.30/69.16, V 94.57/87.43, macro-F1 63.50.
BEAT_FLOORS = [
    (360, "reference", "S", "se", 42.7), (360, "reference", "S", "ppv", 67.6),
    (360, "reference", "V", "se", 93.9), (360, "reference", "V", "ppv", 87.9),
    (360, "reference", "macro", "", 63.9),
    (360, "end_to_end", "S", "se", 41.5), (360, "end_to_end", "S", "ppv", 66.6),
    (360, "end_to_end", "V", "se", 93.7), (360, "end_to_end", "V", "ppv", 87.5),
    (360, "end_to_end", "macro", "", 63.5),
    (128, "end_to_end", "S", "se", 38.8), (128, "end_to_end", "S", "ppv", 68.6),
    (128, "end_to_end", "V", "se", 94.0), (128, "end_to_end", "V", "ppv", 86.9),
    (128, "end_to_end", "macro", "", 63.0),
]


# Rhythm analysis (`sinus eval rhythm`, whole records, epicmp rules): (name, extra arguments,
# database, path into the JSON, floor in %), just under the README's rhythm table
# (`scripts/rhythm-report.py`): MIT-BIH end to end AF duration Se/+P 94.4/84.9 (360 Hz),
# 94.5/84.9 (250 Hz), 94.7/80.1 (128 Hz), AF episode Se 65.4, VT episode Se 73.8; LTAFDB AF beats
# Se/Sp 98.9/96.4 (reference beats), 98.0/79.1 (sqrs beats). Databases:
# "mitdb" (all 48 records) or "ltafdb" (84 records, annotations only; skipped when absent).
RHYTHM_FLOORS = [
    # MIT-BIH end to end at 360 Hz (the record's rate), 250 Hz and 128 Hz.
    ("mitdb-360", [], "mitdb", "AF/duration_se", 93.9),
    ("mitdb-360", [], "mitdb", "AF/duration_ppv", 84.4),
    ("mitdb-360", [], "mitdb", "AF/se", 64.5),
    ("mitdb-360", [], "mitdb", "VT/se", 73.0),
    ("mitdb-250", ["--fs", "250"], "mitdb", "AF/duration_se", 94.0),
    ("mitdb-250", ["--fs", "250"], "mitdb", "AF/duration_ppv", 84.4),
    ("mitdb-128", ["--fs", "128"], "mitdb", "AF/duration_se", 94.2),
    ("mitdb-128", ["--fs", "128"], "mitdb", "AF/duration_ppv", 79.6),
    # LTAFDB from the reference beats (labels used) and from the unlabelled `qrs` beats.
    ("ltafdb-atr", ["--beats", "atr"], "ltafdb", "af_beats/se", 98.5),
    ("ltafdb-atr", ["--beats", "atr"], "ltafdb", "af_beats/sp", 96.0),
    ("ltafdb-qrs", ["--beats", "qrs"], "ltafdb", "af_beats/se", 97.5),
    ("ltafdb-qrs", ["--beats", "qrs"], "ltafdb", "af_beats/sp", 78.5),
    # The device's monitor behind the AD8232-like front end (README "Device beside host"):
    # AF duration 90.3/66.3.
    ("mitdb-device", ["--engine", "device-ad8232"], "mitdb", "AF/duration_se", 89.8),
    ("mitdb-device", ["--engine", "device-ad8232"], "mitdb", "AF/duration_ppv", 65.8),
]

# The device as it sees a recording (`sinus edge simulate`, AD8232-like 12-bit codes at 250 Hz,
# one-lead int8 model, the monitor): (records, statistic path in "total", floor in %), just under
# the README's "Device beside host": QRS 99.84/99.85 (48 records), DS2 V 92.80/87.63, S
# 21.80/38.11.
DS2 = ("100,103,105,111,113,117,121,123,200,202,210,212,213,214,219,221,222,228,231,232,233,"
       "234")
DEVICE_FLOORS = [
    ("all", "qrs/se", 99.80), ("all", "qrs/ppv", 99.80),
    ("ds2", "v/se", 92.3), ("ds2", "v/ppv", 87.1),
    ("ds2", "s/se", 21.4), ("ds2", "s/ppv", 37.6),
]


def check_device(sinus, db):
    """Run `sinus edge simulate` on all records and on DS2 and compare with DEVICE_FLOORS."""
    passed = failed = 0
    runs = {}
    for which in ("all", "ds2"):
        extra = ["--records", DS2] if which == "ds2" else []
        out = subprocess.run([sinus, "--quiet", "edge", "simulate", "--db", db, "--json", *extra],
                             capture_output=True, text=True)
        if out.returncode != 0:
            print(f"FAIL device {which}: {out.stderr.strip()}")
            failed += 1
            continue
        runs[which] = json.loads(out.stdout)["total"]
    for which, path, floor in DEVICE_FLOORS:
        if which not in runs:
            continue
        group, stat = path.split("/")
        value = runs[which][group][stat]
        ok = value is not None and value >= floor
        print(f"{'ok  ' if ok else 'FAIL'} device {which:<4} {path:<8} {value:.3f} (floor {floor})")
        passed, failed = (passed + 1, failed) if ok else (passed, failed + 1)
    return passed, failed


def find_ltafdb(mitdb):
    """LTAFDB beside MIT-BIH (shared/data/ltafdb), or $SINUS_LTAFDB."""
    env = os.environ.get("SINUS_LTAFDB")
    if env:
        return env
    candidate = os.path.join(os.path.dirname(os.path.abspath(mitdb)), "ltafdb")
    return candidate if os.path.isdir(candidate) else None


def rhythm_value(result, path):
    """A figure of `sinus eval rhythm --json`: TYPE/STAT from the gross episode table, or
    af_beats/STAT from the beat-by-beat AF table."""
    head, stat = path.split("/")
    if head == "af_beats":
        return result["af_beats"]["gross"][stat]
    for t in result["types"]:
        if t["rhythm"] == head:
            return t["gross"][stat]
    return None


def check_rhythm(sinus, mitdb):
    """Run each rhythm evaluation once and compare with RHYTHM_FLOORS."""
    dbs = {"mitdb": mitdb, "ltafdb": find_ltafdb(mitdb)}
    runs = {}
    passed = failed = 0
    for name, extra, db, path, floor in RHYTHM_FLOORS:
        if dbs[db] is None:
            print(f"skip rhythm {name}: {db} not found (set SINUS_LTAFDB)")
            continue
        if name not in runs:
            out = subprocess.run([sinus, "--quiet", "eval", "rhythm", "--db", dbs[db], "--json"]
                                 + extra, capture_output=True, text=True)
            if out.returncode != 0:
                print(f"FAIL rhythm {name}: {out.stderr.strip()}")
                runs[name] = None
            else:
                runs[name] = json.loads(out.stdout)
        if runs[name] is None:
            failed += 1
            continue
        value = rhythm_value(runs[name], path)
        ok = value is not None and value >= floor
        shown = "-" if value is None else f"{value:.2f}"
        print(f"{'ok  ' if ok else 'FAIL'} rhythm {name:<10} {path:<18} {shown} (floor {floor})")
        passed, failed = (passed + 1, failed) if ok else (passed, failed + 1)
    return passed, failed


def check_beats(sinus, db):
    """Run `sinus eval beats` (both modes) once per rate in BEAT_FLOORS and compare."""
    passed = failed = 0
    for fs in sorted({f[0] for f in BEAT_FLOORS}, reverse=True):
        cmd = [sinus, "--quiet", "eval", "beats", "--db", db, "--json"]
        if fs != 360:
            cmd += ["--fs", str(fs)]
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            print(f"FAIL beats {fs} Hz: {out.stderr.strip()}")
            failed += 1
            continue
        result = json.loads(out.stdout)
        for rate, mode, cls, stat, floor in BEAT_FLOORS:
            if rate != fs:
                continue
            r = result if mode == "reference" else result["end_to_end"]
            value = r["macro_f1"] if cls == "macro" else r["classes"][cls][stat]
            ok = value is not None and value >= floor
            print(f"{'ok  ' if ok else 'FAIL'} beats {fs} Hz {mode:<10} {cls} {stat:<4} "
                  f"{value:.2f} (floor {floor})")
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
    modes = {}
    for label, args, stat, floor in QRS_MODE_FLOORS:
        if label not in modes:
            out = subprocess.run([sinus, "--quiet", "eval", "qrs", "--db", db, "--detector",
                                  "streaming", "--json", *args], capture_output=True, text=True)
            if out.returncode != 0:
                print(f"FAIL qrs {label}: {out.stderr.strip()}")
                failed += 1
                modes[label] = None
                continue
            modes[label] = json.loads(out.stdout)["gross"]
        if modes[label] is None:
            continue
        value = modes[label][stat]
        ok = value is not None and value >= floor
        print(f"{'ok  ' if ok else 'FAIL'} qrs {label:<20} {stat:<4} {value:.3f} (floor {floor})")
        passed, failed = (passed + 1, failed) if ok else (passed, failed + 1)
    p, f = check_beats(sinus, db)
    passed, failed = passed + p, failed + f
    p, f = check_rhythm(sinus, db)
    passed, failed = passed + p, failed + f
    p, f = check_device(sinus, db)
    passed, failed = passed + p, failed + f
    print(f"accuracy-floors: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
