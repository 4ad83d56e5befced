#!/usr/bin/env python3
"""Parity of Sinus's WFDB reader and writer with wfdb-python, on every MIT-BIH record.

For each record:
  1. every digital sample `sinus export REC --format json` gives equals wfdb-python's
     rdrecord(..., physical=False) (a missing sample, null in our JSON, must be the format's
     invalid-sample value in wfdb-python's array), and so do fs, sample count, gains, baselines,
     units, ADC resolution/zero, initial values and descriptions;
  2. every annotation (sample, symbol, subtype, chan, num, aux note) equals wfdb-python's rdann;
  3. a copy written by `sinus export REC --format wfdb` (format 212, and format 16 for a few
     records) reads back in wfdb-python with identical samples, header fields and annotations.

Usage: wfdb_parity.py --sinus PATH/TO/sinus [--db DIR] [--records 100,101]
Exit status 0 when every check passes; prints a summary line "N passed, M failed".
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import wfdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mitdb_path import find_db  # noqa: E402

# WFDB invalid-sample values by storage format (what wfdb-python leaves in d_signal).
INVALID = {8: -128, 16: -32768, 24: -(2**23), 32: -(2**31), 61: -32768, 80: -128, 160: -32768,
           212: -2048, 310: -512, 311: -512}

MITDB_RECORDS = """100 101 102 103 104 105 106 107 108 109 111 112 113 114 115 116 117 118 119 121
122 123 124 200 201 202 203 205 207 208 209 210 212 213 214 215 217 219 220 221 222 223 228 230 231
232 233 234""".split()


def sinus_json(sinus, rec_path):
    out = subprocess.run([sinus, "--quiet", "export", rec_path, "--format", "json"],
                         capture_output=True, check=False)
    if out.returncode != 0:
        raise AssertionError(f"sinus export failed: {out.stderr.decode(errors='replace')}")
    return json.loads(out.stdout)


def compare_record(ours, rec_path, label):
    """Compare our JSON export with wfdb-python's reading of rec_path. Returns a list of problems."""
    problems = []
    theirs = wfdb.rdrecord(rec_path, physical=False)
    if ours["frame_frequency"] != theirs.fs:
        problems.append(f"{label}: fs {ours['frame_frequency']} != {theirs.fs}")
    if ours["frames"] != theirs.sig_len:
        problems.append(f"{label}: frames {ours['frames']} != {theirs.sig_len}")
    if len(ours["signals"]) != theirs.n_sig:
        problems.append(f"{label}: {len(ours['signals'])} signals != {theirs.n_sig}")
        return problems
    for s, sig in enumerate(ours["signals"]):
        fields = {
            "description": theirs.sig_name[s],
            "units": theirs.units[s],
            "gain": float(theirs.adc_gain[s]),
            "baseline": int(theirs.baseline[s]),
            "adc_resolution": int(theirs.adc_res[s]),
            "adc_zero": int(theirs.adc_zero[s]),
        }
        for k, v in fields.items():
            if sig[k] != v:
                problems.append(f"{label}: signal {s} {k}: ours {sig[k]!r}, wfdb {v!r}")
        fmt = int(theirs.fmt[s])
        col = theirs.d_signal[:, s].astype(np.int64)
        ours_arr = np.array([INVALID.get(fmt, -(2**31)) if v is None else v for v in sig["samples"]],
                            dtype=np.int64)
        if ours_arr.shape != col.shape:
            problems.append(f"{label}: signal {s}: {ours_arr.shape[0]} samples != {col.shape[0]}")
        elif not np.array_equal(ours_arr, col):
            bad = np.flatnonzero(ours_arr != col)
            problems.append(f"{label}: signal {s}: {bad.size} samples differ, first at {bad[0]}: "
                            f"ours {ours_arr[bad[0]]}, wfdb {col[bad[0]]}")
        if int(theirs.init_value[s]) != col[0]:
            problems.append(f"{label}: signal {s}: initial value {theirs.init_value[s]} != first sample")
    return problems


def compare_annotations(ours_ann, rec_path, label):
    problems = []
    ann = wfdb.rdann(rec_path, "atr")
    items = ours_ann
    if len(items) != len(ann.sample):
        return [f"{label}: {len(items)} annotations != wfdb {len(ann.sample)}"]
    for i, a in enumerate(items):
        theirs = (int(ann.sample[i]), ann.symbol[i], int(ann.subtype[i]), int(ann.chan[i]),
                  int(ann.num[i]), ann.aux_note[i])
        mine = (a["sample"], a["symbol"], a["subtype"], a["chan"], a["num"], a["aux"] or "")
        if mine != theirs:
            problems.append(f"{label}: annotation {i}: ours {mine}, wfdb {theirs}")
            if len(problems) > 5:
                break
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sinus", required=True)
    ap.add_argument("--db", default=None)
    ap.add_argument("--records", default=None)
    args = ap.parse_args()
    db = args.db or find_db()
    records = args.records.split(",") if args.records else MITDB_RECORDS
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for rec in records:
            path = os.path.join(db, rec)
            problems = []
            try:
                ours = sinus_json(args.sinus, path)
                problems += compare_record(ours, path, f"{rec} read")
                problems += compare_annotations(ours["annotations"], path, f"{rec} atr")
                formats = ["212", "16"] if rec in ("100", "203", "232") else ["212"]
                for fmt in formats:
                    out = os.path.join(tmp, f"{rec}_{fmt}")
                    r = subprocess.run([args.sinus, "--quiet", "export", path, "--format", "wfdb",
                                        "--wfdb-format", fmt, "--out", out], capture_output=True)
                    if r.returncode != 0:
                        problems.append(f"{rec} write {fmt}: {r.stderr.decode(errors='replace')}")
                        continue
                    written = wfdb.rdrecord(out, physical=False)
                    if written.fmt[0] != fmt:
                        problems.append(f"{rec} write {fmt}: wfdb reads format {written.fmt}")
                    problems += compare_record(ours, out, f"{rec} written fmt {fmt}")
                    problems += compare_annotations(ours["annotations"], out, f"{rec} written atr")
            except Exception as e:  # noqa: BLE001 - report every failure as a failed record
                problems.append(f"{rec}: {type(e).__name__}: {e}")
            if problems:
                failed += 1
                print(f"FAIL {rec}")
                for p in problems[:10]:
                    print(f"     {p}")
            else:
                passed += 1
                print(f"ok   {rec}")
    print(f"wfdb-parity: {passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
