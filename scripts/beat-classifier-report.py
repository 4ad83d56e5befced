#!/usr/bin/env python3
"""The README's beat-classifier tables: train the chosen recipe with several seeds on DS1
(patient-wise validation), evaluate each finished model ONCE on DS2 — reference beats and end to
end, float32 and int8 kernels, at the records' 360 Hz and resampled to 250 and 128 Hz — and
train/test the leaky random 80/20 beat split beside it. Prints markdown tables with mean ± sd
over the seeds, and writes every evaluation to OUT_DIR/report.json.

Usage: beat-classifier-report.py PATH/TO/sinus DB_DIR OUT_DIR [--seeds 1,2,3,4,5]
       [--rates 360,250,128] [--no-leaky] [-- TRAIN_ARGS...]
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


HEAD = ["| DS2 | S Se % | S +P % | V Se % | V +P % | F Se / +P % | N Se / +P % | accuracy % "
        "| macro-F1 % |", "|---|---|---|---|---|---|---|---|---|"]


def row(label, evals):
    def m(c, k):
        v = [e["classes"][c][k] for e in evals if e["classes"][c][k] is not None]
        return f"{statistics.mean(v):.1f}" if v else "-"
    cells = [fmt([e["classes"]["S"]["se"] for e in evals]),
             fmt([e["classes"]["S"]["ppv"] for e in evals]),
             fmt([e["classes"]["V"]["se"] for e in evals]),
             fmt([e["classes"]["V"]["ppv"] for e in evals]),
             f"{m('F', 'se')} / {m('F', 'ppv')}", f"{m('N', 'se')} / {m('N', 'ppv')}",
             fmt([e["accuracy"] for e in evals]), fmt([e["macro_f1"] for e in evals])]
    return f"| {label} | " + " | ".join(cells) + " |"


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
    ap.add_argument("--seeds", default="1,2,3,4,5")
    ap.add_argument("--rates", default="360,250,128")
    ap.add_argument("--no-leaky", action="store_true")
    a = ap.parse_args(argv)
    seeds = [int(s) for s in a.seeds.split(",")]
    rates = [int(r) for r in a.rates.split(",")]
    evals = {}  # (rate, kernels, mode) -> [evaluation per seed]
    leaky = []
    for seed in seeds:
        out = os.path.join(a.out, f"seed-{seed}")
        if not os.path.exists(os.path.join(out, "model.snnm")):
            run([a.sinus, "--quiet", "train", "--db", a.db, "--out", out, "--seed", str(seed),
                 "--cache", os.path.join(a.out, "cache")] + extra)
        for rate in rates:
            for kernels, model in [("float32", "model.snnm"), ("int8", "model.int8.snnm")]:
                cmd = [a.sinus, "--quiet", "eval", "beats", "--model", os.path.join(out, model),
                       "--db", a.db, "--json"]
                if rate != 360:
                    cmd += ["--fs", str(rate)]
                r = json.loads(run(cmd))
                evals.setdefault((rate, kernels, "reference"), []).append(r)
                evals.setdefault((rate, kernels, "end to end"), []).append(r["end_to_end"])
                if kernels == "float32":
                    e = r["end_to_end"]
                    print(f"seed {seed} {rate} Hz: reference S {r['classes']['S']['se']:.1f}/"
                          f"{r['classes']['S']['ppv']:.1f} macro-F1 {r['macro_f1']:.1f}; end to "
                          f"end S {e['classes']['S']['se']:.1f}/{e['classes']['S']['ppv']:.1f} "
                          f"V {e['classes']['V']['se']:.1f}/{e['classes']['V']['ppv']:.1f} "
                          f"macro-F1 {e['macro_f1']:.1f}", file=sys.stderr)
        if not a.no_leaky:
            lout = os.path.join(a.out, f"leaky-seed-{seed}")
            hist = os.path.join(lout, "history.json")
            if not os.path.exists(hist):
                run([a.sinus, "--quiet", "train", "--db", a.db, "--out", lout, "--seed", str(seed),
                     "--split", "leaky", "--split-seed", str(seed),
                     "--cache", os.path.join(a.out, "cache")] + extra)
            leaky.append(json.load(open(hist))["leaky_test"])
    print(f"DS2, mean ± sd over {len(seeds)} training seeds ({', '.join(map(str, seeds))})")
    print()
    print("\n".join(HEAD))
    for rate in rates:
        for mode in ["end to end", "reference"]:
            for kernels in ["float32", "int8"]:
                print(row(f"{rate} Hz, {mode}, {kernels}", evals[(rate, kernels, mode)]))
    if leaky:
        print(row("*LEAKY random 80/20 beat split (same patients in training and test), "
                  "360 Hz, reference, float32*", leaky))
    with open(os.path.join(a.out, "report.json"), "w") as f:
        json.dump({"seeds": seeds, "train_args": extra,
                   "evaluations": [{"rate": k[0], "kernels": k[1], "mode": k[2], "per_seed": v}
                                   for k, v in evals.items()],
                   "leaky": leaky}, f)


if __name__ == "__main__":
    main()
