#!/usr/bin/env python3
"""The README's beat-classifier tables: train the chosen configuration with several seeds on DS1
(patient-wise validation), evaluate each finished model ONCE on DS2 (reference R-peaks and end to
end), and train/test the seeds' leaky random 80/20 beat split beside it. Prints markdown tables
with mean ± sd over the seeds.

Usage: beat-classifier-report.py PATH/TO/sinus DB_DIR OUT_DIR [--seeds 1,2,3] [-- TRAIN_ARGS...]
Models land in OUT_DIR/seed-N/ (model.snnm, model.int8.snnm, history.json, plots).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{r.stderr}")
    return r.stdout


def fmt(values):
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.1f}"
    return f"{statistics.mean(values):.1f} ± {statistics.stdev(values):.1f}"


def table(title, evals):
    rows = [f"**{title}** ({len(evals)} seeds)", "",
            "| | N Se | N +P | S Se | S +P | V Se | V +P | F Se | F +P | accuracy | macro-F1 |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    cells = []
    for c in "NSVF":
        for k in ("se", "ppv"):
            cells.append(fmt([e["classes"][c][k] for e in evals]))
    cells.append(fmt([e["accuracy"] for e in evals]))
    cells.append(fmt([e["macro_f1"] for e in evals]))
    rows.append("| mean ± sd | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main():
    argv = sys.argv[1:]
    extra = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser()
    ap.add_argument("sinus")
    ap.add_argument("db")
    ap.add_argument("out")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--no-leaky", action="store_true")
    a = ap.parse_args(argv)
    seeds = [int(s) for s in a.seeds.split(",")]
    ref, e2e, int8, leaky = [], [], [], []
    for seed in seeds:
        out = os.path.join(a.out, f"seed-{seed}")
        if not os.path.exists(os.path.join(out, "model.snnm")):
            run([a.sinus, "--quiet", "train", "--db", a.db, "--out", out, "--seed", str(seed),
                 "--cache", os.path.join(a.out, "cache")] + extra)
        r = json.loads(run([a.sinus, "--quiet", "eval", "beats", "--model",
                            os.path.join(out, "model.snnm"), "--db", a.db, "--json"]))
        ref.append(r)
        e2e.append(r["end_to_end"])
        q = json.loads(run([a.sinus, "--quiet", "eval", "beats", "--model",
                            os.path.join(out, "model.int8.snnm"), "--db", a.db,
                            "--mode", "reference", "--json"]))
        int8.append(q)
        print(f"seed {seed}: DS2 S {r['classes']['S']['se']:.1f}/{r['classes']['S']['ppv']:.1f} "
              f"V {r['classes']['V']['se']:.1f}/{r['classes']['V']['ppv']:.1f} "
              f"macro-F1 {r['macro_f1']:.1f}", file=sys.stderr)
        if not a.no_leaky:
            lout = os.path.join(a.out, f"leaky-seed-{seed}")
            hist = os.path.join(lout, "history.json")
            if not os.path.exists(hist):
                run([a.sinus, "--quiet", "train", "--db", a.db, "--out", lout, "--seed", str(seed),
                     "--split", "leaky", "--split-seed", str(seed),
                     "--cache", os.path.join(a.out, "cache")] + extra)
            leaky.append(json.load(open(hist))["leaky_test"])
    print(table("DS2, reference R-peaks (inter-patient), float32", ref))
    print()
    print(table("DS2, reference R-peaks (inter-patient), int8 kernels", int8))
    print()
    print(table("DS2, end to end (our offline QRS detector; missed beats count as errors)", e2e))
    if leaky:
        print()
        print(table("LEAKY random 80/20 beat split over DS1+DS2 (same patients in training and test)",
                    leaky))


if __name__ == "__main__":
    main()
