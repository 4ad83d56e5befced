#!/usr/bin/env python3
"""Model selection for the beat classifier on DS1 only (no peeking at DS2).

Every configuration is trained on DS1 less 5 whole records and scored on those 5 records
(patient-wise validation), for several draws of the validation records (--folds). The table
gives, over the draws, the mean ± sd of the validation macro-F1 (N, S, V, F) and S/V F1 of the
best epoch (the model early stopping keeps) on reference beats; with --end-to-end the same
model is also run end to end on the validation records (`sinus eval beats --records`: our
detector finds the beats) and its macro-F1 and S Se are added, beside the reference ones.
Usage: select-beat-model.py PATH/TO/sinus DB_DIR OUT_DIR [--folds 3] [--configs NAME,...]
       [--end-to-end] [--fs HZ]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

CONFIGS = {
    # name: `sinus train` arguments (the other settings are the defaults: GAP head, template
    # channel on, windows aligned on the fiducial point, cross-entropy, lr 1e-3, one network).
    # The chosen recipe, "two-leads-aug-sqrt", is `sinus train`'s default.
    "template-aligned": ["--leads", "0", "--augment", "false", "--weights", "none"],
    "template-unaligned": ["--leads", "0", "--augment", "false", "--weights", "none",
                           "--align", "false"],
    "template-aligned-aug": ["--leads", "0", "--augment", "true", "--weights", "none"],
    "ensemble-5": ["--leads", "0", "--augment", "false", "--weights", "none", "--ensemble", "5"],
    "two-leads": ["--leads", "0,1", "--augment", "false", "--weights", "none"],
    "two-leads-aug": ["--leads", "0,1", "--augment", "true", "--weights", "none"],
    "two-leads-ensemble-3": ["--leads", "0,1", "--augment", "false", "--weights", "none",
                             "--ensemble", "3"],
    # From here on: premature beats kept out of the template, fiducial on a 2 ms grid.
    "two-leads-aug-normal-template": ["--leads", "0,1", "--augment", "true", "--weights", "none"],
    "two-leads-aug-sqrt": ["--leads", "0,1", "--augment", "true", "--weights", "sqrt"],
}


def eval_beats(a, model, records, mode):
    cmd = [a.sinus, "--quiet", "eval", "beats", "--db", a.db, "--model", model, "--records",
           ",".join(records), "--mode", mode, "--json"]
    if a.fs:
        cmd += ["--fs", str(a.fs)]
    r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    return r.get("end_to_end", r)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sinus")
    ap.add_argument("db")
    ap.add_argument("out")
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--end-to-end", action="store_true")
    ap.add_argument("--fs", type=float)
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
            if "valid_final" in h:
                # The final network (for an ensemble, the merged one) on the validation beats.
                v = h["valid_final"]
                s = [v["macro_f1"], v["classes"]["S"]["f1"] or 0.0, v["classes"]["V"]["f1"] or 0.0]
            else:
                best = h["epochs"][h["best_epoch"] - 1]
                f1 = {c["class"]: (c["f1"] or 0.0) for c in best["classes"]}
                s = [best["valid_macro_f1"] * 100, f1.get("S", 0.0) * 100, f1.get("V", 0.0) * 100]
            if a.end_to_end:
                model = os.path.join(out, "model.snnm")
                for mode in ["reference", "end-to-end"]:
                    e = eval_beats(a, model, h["valid_records"], mode)
                    s += [e["macro_f1"], e["classes"]["S"]["se"] or 0.0]
            scores.append(s)
            print(f"{name} fold {fold}: " + " ".join(f"{v:.1f}" for v in s)
                  + f" (epoch {h['best_epoch']}, valid {h['valid_records']})", file=sys.stderr)
        n = len(scores[0])
        m = [statistics.mean(s[i] for s in scores) for i in range(n)]
        sd = [statistics.pstdev(s[i] for s in scores) for i in range(n)]
        rows.append((name, m, sd))
    heads = ["macro-F1", "S F1", "V F1"]
    if a.end_to_end:
        heads += ["ref macro-F1", "ref S Se", "e2e macro-F1", "e2e S Se"]
    print(f"{'config':<24}" + "".join(f"{h:>16}" for h in heads))
    for name, m, sd in sorted(rows, key=lambda r: -r[1][0]):
        print(f"{name:<24}" + "".join(f"{m[i]:>9.1f} ± {sd[i]:<4.1f}" for i in range(len(m))))


if __name__ == "__main__":
    main()
