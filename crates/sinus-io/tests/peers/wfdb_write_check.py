#!/usr/bin/env python3
"""Check that wfdb-python reads records written by sinus-io's `write_record` exactly.

Usage:
    SINUS_PEER_DIR=/tmp/peer cargo test -p sinus-io --test wfdb_record peer_records_for_wfdb_python
    python3 crates/sinus-io/tests/peers/wfdb_write_check.py /tmp/peer

Needs `pip install wfdb`. For every NAME.expected in the directory, reads NAME with
`wfdb.rdrecord(..., physical=False, smooth_frames=False)` and compares the digital samples
(missing samples as the format's invalid value), the signal fields, the frequency, length, base
time/date and comments, and that the header's checksums and initial values are what
wfdb-python computes from the samples. Exits 1 on any difference.
"""
import datetime
import math
import sys
from pathlib import Path

import numpy as np
import wfdb


def parse_expected(path):
    lines = path.read_text().split("\n")
    pos = 0

    def take(key):
        nonlocal pos
        line = lines[pos]
        pos += 1
        k, _, v = line.partition(" ")
        assert k == key, f"{path}: expected {key!r}, found {line!r}"
        return v

    exp = {
        "fs": float(take("fs")),
        "frames": int(take("frames")),
        "base_time": take("base_time"),
        "base_date": take("base_date"),
    }
    n = int(take("comments"))
    exp["comments"] = lines[pos : pos + n]
    pos += n
    exp["signals"] = []
    for _ in range(int(take("signals"))):
        s = {
            "desc": take("desc"),
            "units": take("units"),
            "gain": float(take("gain")),
            "baseline": int(take("baseline")),
            "adc_res": int(take("adc_res")),
            "adc_zero": int(take("adc_zero")),
            "spf": int(take("spf")),
            "fmt": take("fmt"),
        }
        text = take("samples")
        s["samples"] = [int(v) for v in text.split()] if text else []
        exp["signals"].append(s)
    return exp


def check(dir_path, name):
    exp = parse_expected(dir_path / f"{name}.expected")
    errors = []
    if all(s["fmt"] == "61" for s in exp["signals"]):
        # wfdb-python 4.3 cannot return format 61 digitally (its dtype check chokes on the
        # big-endian dtype name), so compare physical values instead.
        return check_physical(dir_path, name, exp)
    rec = wfdb.rdrecord(str(dir_path / name), physical=False, smooth_frames=False)

    def same(what, got, want):
        if got != want:
            errors.append(f"{name}: {what}: wfdb-python {got!r}, expected {want!r}")

    same("fs", float(rec.fs), exp["fs"])
    same("sig_len", rec.sig_len, exp["frames"])
    same("n_sig", rec.n_sig, len(exp["signals"]))
    if exp["base_time"] != "-":
        t = datetime.datetime.strptime(exp["base_time"], "%H:%M:%S.%f").time()
        same("base_time", rec.base_time, t)
    if exp["base_date"] != "-":
        same("base_date", rec.base_date, datetime.date.fromisoformat(exp["base_date"]))
    same("comments", rec.comments, exp["comments"])
    checksums = rec.calc_checksum(expanded=True)
    for i, s in enumerate(exp["signals"]):
        same(f"signal {i} sig_name", rec.sig_name[i], s["desc"])
        same(f"signal {i} units", rec.units[i], s["units"])
        # wfdb-python reads a gain of 0 (uncalibrated) as 200.
        same(f"signal {i} adc_gain", rec.adc_gain[i], s["gain"] if s["gain"] != 0 else 200.0)
        same(f"signal {i} baseline", rec.baseline[i], s["baseline"])
        same(f"signal {i} adc_res", rec.adc_res[i], s["adc_res"])
        same(f"signal {i} adc_zero", rec.adc_zero[i], s["adc_zero"])
        same(f"signal {i} samps_per_frame", rec.samps_per_frame[i], s["spf"])
        same(f"signal {i} fmt", rec.fmt[i], s["fmt"])
        got = [int(v) for v in np.asarray(rec.e_d_signal[i])]
        if got != s["samples"]:
            diff = next(
                (k for k, (a, b) in enumerate(zip(got, s["samples"])) if a != b),
                min(len(got), len(s["samples"])),
            )
            errors.append(
                f"{name}: signal {i} samples differ at {diff} "
                f"(wfdb-python {len(got)} samples, expected {len(s['samples'])})"
            )
        same(f"signal {i} checksum", rec.checksum[i] % 65536, checksums[i])
        if got:
            same(f"signal {i} init_value", rec.init_value[i], got[0])
    return errors


def check_physical(dir_path, name, exp):
    rec = wfdb.rdrecord(str(dir_path / name), physical=True, smooth_frames=False)
    errors = []
    for i, s in enumerate(exp["signals"]):
        gain = s["gain"] if s["gain"] != 0 else 200.0
        invalid = -32768
        want = [math.nan if v == invalid else (v - s["baseline"]) / gain for v in s["samples"]]
        got = [float(v) for v in np.asarray(rec.e_p_signal[i])]
        ok = len(got) == len(want) and all(
            (math.isnan(a) and math.isnan(b)) or abs(a - b) <= 1e-9 * max(1.0, abs(b))
            for a, b in zip(got, want)
        )
        if not ok:
            errors.append(f"{name}: signal {i} physical samples differ")
        if rec.sig_name[i] != s["desc"]:
            errors.append(f"{name}: signal {i} sig_name {rec.sig_name[i]!r}")
    return errors


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    dir_path = Path(sys.argv[1])
    names = sorted(p.stem for p in dir_path.glob("*.expected"))
    if not names:
        sys.exit(f"no *.expected files in {dir_path}")
    errors = []
    for name in names:
        errors += check(dir_path, name)
    for e in errors:
        print(e)
    print(f"{len(names)} records checked, {len(errors)} differences")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
