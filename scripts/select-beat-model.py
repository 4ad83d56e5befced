#!/usr/bin/env python3
"""Model selection for the beat classifier on DS1 only (no peeking at DS2).

Every configuration is trained on DS1 less 5 whole records and scored on those 5 records
(patient-wise validation), for several draws of the validation records (--folds); the table
gives the mean and sd of the best-epoch validation macro-F1 (N, S, V, F) and of the S and V F1.
Usage: select-beat-model.py PATH/TO/sinus DB_DIR OUT_DIR [--folds 3] [--configs NAME,...]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

CONFIGS = {
    # name: `sinus train` arguments (defaults: GAP head, template channel on, no class weights,
    # cross-entropy, lr 1e-3, no augmentation)
    "gap-none-template": [],
    "gap-sqrt-template": ["--weights", "sqrt"],
    "gap-sqrt-template-lr3e-4": ["--weights", "sqrt", "--lr", "3e-4"],
    "gap-sqrt-template-aug": ["--weights", "sqrt", "--augment"],
    "gap-sqrt": ["--weights", "sqrt", "--template", "false"],
    "gap-inverse": ["--weights", "inverse", "--template", "false"],
    "gap-sqrt-focal": ["--weights", "sqrt", "--loss", "focal", "--template", "false"],
    "flatten-sqrt": ["--weights", "sqrt", "--arch", "beatnet-flatten", "--template", "false"],
    "gap-none": ["--template", "false"],
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sinus")
    ap.add_argument("db")
    ap.add_argument("out")
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--epochs", type=int, default=30)
    a = ap.parse_args()
    rows = []
    for name in a.configs.split(","):
        scores = []
        for fold in range(1, a.folds + 1):
            out = os.path.join(a.out, f"{name}-fold{fold}")
            hist = os.path.join(out, "history.json")
            if not os.path.exists(hist):
                cmd = [a.sinus, "--quiet", "train", "--db", a.db, "--out", out,
                       "--epochs", str(a.epochs), "--split-seed", str(fold),
                       "--cache", os.path.join(a.out, "cache")] + CONFIGS[name]
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            h = json.load(open(hist))
            best = h["epochs"][h["best_epoch"] - 1]
            f1 = {c["class"]: (c["f1"] or 0.0) for c in best["classes"]}
            scores.append((best["valid_macro_f1"], f1.get("S", 0.0), f1.get("V", 0.0), h["best_epoch"]))
            print(f"{name} fold {fold}: macro-F1 {100*scores[-1][0]:.1f} S {100*scores[-1][1]:.1f} "
                  f"V {100*scores[-1][2]:.1f} (epoch {scores[-1][3]}, valid {h['valid_records']})",
                  file=sys.stderr)
        m = [statistics.mean(s[i] for s in scores) * 100 for i in range(3)]
        sd = [statistics.pstdev(s[i] for s in scores) * 100 for i in range(3)]
        rows.append((name, m, sd))
    print(f"{'config':<18}{'macro-F1':>16}{'S F1':>16}{'V F1':>16}")
    for name, m, sd in sorted(rows, key=lambda r: -r[1][0]):
        print(f"{name:<18}" + "".join(f"{m[i]:>9.1f} ± {sd[i]:<4.1f}" for i in range(3)))


if __name__ == "__main__":
    main()
