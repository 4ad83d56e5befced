#!/usr/bin/env python3
"""The README's rhythm table: `sinus eval rhythm` on MIT-BIH end to end at 360, 250 and 128 Hz,
on MIT-BIH's reference beats, and on LTAFDB from its reference beats (labels used) and from its
unlabelled `qrs` beats. Whole records, epicmp rules (episode and duration Se/+P) and the AF
literature's beat-by-beat Se/Sp/+P/accuracy.

Usage: rhythm-report.py PATH/TO/sinus [MITDB_DIR [LTAFDB_DIR]]   (prints Markdown; ~2 min)
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "peers"))
from mitdb_path import find_db  # noqa: E402


def run(sinus, db, extra):
    out = subprocess.run([sinus, "--quiet", "eval", "rhythm", "--db", db, "--json"] + extra,
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"sinus eval rhythm {' '.join(extra)} failed: {out.stderr.strip()}")
    return json.loads(out.stdout)


def gross(result, rhythm):
    for t in result["types"]:
        if t["rhythm"] == rhythm:
            return t["gross"]
    return None


def pct(v):
    return "–" if v is None else f"{v:.1f}"


def main():
    sinus = sys.argv[1]
    mitdb = sys.argv[2] if len(sys.argv) > 2 else find_db()
    ltafdb = sys.argv[3] if len(sys.argv) > 3 else os.environ.get(
        "SINUS_LTAFDB", os.path.join(os.path.dirname(os.path.abspath(mitdb)), "ltafdb"))
    rows = [
        ("MIT-BIH 48, end to end, 360 Hz", mitdb, []),
        ("MIT-BIH 48, end to end, 250 Hz", mitdb, ["--fs", "250"]),
        ("MIT-BIH 48, end to end, 128 Hz", mitdb, ["--fs", "128"]),
        ("MIT-BIH 48, reference beats (`--beats atr`)", mitdb, ["--beats", "atr"]),
    ]
    if os.path.isdir(ltafdb):
        rows += [
            ("LTAFDB 84, reference beats (`--beats atr`)", ltafdb, ["--beats", "atr"]),
            ("LTAFDB 84, unlabelled sqrs beats (`--beats qrs`)", ltafdb, ["--beats", "qrs"]),
        ]
    print("| data, beats | AF episode Se / +P | AF duration Se / +P | AF beats Se / Sp / +P / acc "
          "| AF+AFL duration Se / +P | VT episode Se / +P |")
    print("|---|---|---|---|---|---|")
    for title, db, extra in rows:
        r = run(sinus, db, extra)
        af = gross(r, "AF") or {}
        vt = gross(r, "VT") or {}
        afl = gross(r, "AF+AFL") or {}
        b = r["af_beats"]["gross"]
        print(f"| {title} | {pct(af.get('se'))} / {pct(af.get('ppv'))} | "
              f"{pct(af.get('duration_se'))} / {pct(af.get('duration_ppv'))} | "
              f"{pct(b['se'])} / {pct(b['sp'])} / {pct(b['ppv'])} / {pct(b['accuracy'])} | "
              f"{pct(afl.get('duration_se'))} / {pct(afl.get('duration_ppv'))} | "
              f"{pct(vt.get('se'))} / {pct(vt.get('ppv'))} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
