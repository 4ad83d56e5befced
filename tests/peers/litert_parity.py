"""LiteRT parity: the exported TensorFlow Lite model, run by the official LiteRT interpreter
(`ai-edge-litert`, pinned in requirements-litert.txt), against our int8 kernels on DS2 beats.

For each shipped int8 model, `sinus export-model MODEL --format tflite --vectors N --db MITDB`
writes the .tflite file and N DS2 beats of MIT-BIH (de Chazal's test records; half evenly
spaced over the non-N beats, half over the others) with the int8 logits that
sinus_core::nn::QuantModel gives (logits.npy), and the logits of the same network with
TensorFlow Lite's reference kernels' rounding (logits_tflite_ref.npy,
sinus_ml::model_export::emulate).
Each beat is then run by LiteRT with three op resolvers:

- AUTO (the default: XNNPACK delegate): must equal ours on >= 99.5 % of beats, never by more
  than 1 LSB, with >= 99.9 % class agreement. XNNPACK requantises these convolutions in
  float32 (acc * scale, rounded to nearest even), so it parts from our exact fixed-point
  result only where acc * scale lies within float32 precision (~1e-7 relative) of a half:
  measured, one convolution output in one beat per 1200 for each shipped model (e.g.
  exact 165.50000042, float32 165.49998 -> 165 where we give 166), which moves 1-2 logits by
  1 LSB.
- BUILTIN_REF (reference kernels): must equal logits_tflite_ref on every beat, bit for bit.
  Their convolutions and int8 -> int8 QUANTIZE requantise with gemmlowp's two roundings
  (SaturatingRoundingDoublingHighMul, half up, then RoundingDivideByPOT, half away from zero)
  where we round once: about 0.1-0.4 % of the values of each convolution come out 1 LSB apart,
  and that is the only difference (their FULLY_CONNECTED rounds once, as we do).
- BUILTIN_WITHOUT_DEFAULT_DELEGATES (optimised builtin kernels): reported; the sanity bound
  is class agreement >= 98 % and max |delta| <= 8 LSB (their depthwise kernel rounds like
  the reference one but not always identically).

Usage: python tests/peers/litert_parity.py --sinus target/release/sinus [--beats 1200]
       [--models crates/sinus-ml/models/beatnet.int8.snnm ...] [--json]
Prints a table; exits 1 when a criterion fails.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mitdb_path import find_db  # noqa: E402

from ai_edge_litert.interpreter import Interpreter, OpResolverType  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS = [
    os.path.join(ROOT, "crates/sinus-ml/models/beatnet.int8.snnm"),
    os.path.join(ROOT, "crates/sinus-ml/models/beatnet-1lead.int8.snnm"),
]
RESOLVERS = [
    ("xnnpack", OpResolverType.AUTO),
    ("reference", OpResolverType.BUILTIN_REF),
    ("builtin", OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES),
]


def check(name, row):
    """Whether a resolver's figures meet its criterion (see the module docs)."""
    if name == "xnnpack":
        return (row["bit_exact_beats"] >= 0.995 and row["max_abs_delta"] <= 1
                and row["class_agreement"] >= 0.999)
    if name == "reference":
        return row["bit_exact_tflite_ref"] == 1.0
    return row["class_agreement"] >= 0.98 and row["max_abs_delta"] <= 8


def export(sinus, model, out_dir, beats, db):
    tfl = os.path.join(out_dir, os.path.basename(model).replace(".snnm", ".tflite"))
    vec = os.path.join(out_dir, os.path.basename(model).replace(".snnm", "-vectors"))
    subprocess.run(
        [sinus, "--quiet", "export-model", model, "--format", "tflite", "--out", tfl,
         "--vectors", str(beats), "--db", db, "--vectors-dir", vec],
        check=True, capture_output=True, text=True)
    return tfl, vec


def run_litert(tfl, resolver, waveforms, rr):
    it = Interpreter(model_path=tfl, experimental_op_resolver_type=resolver, num_threads=1)
    it.allocate_tensors()
    ins = {d["name"]: d["index"] for d in it.get_input_details()}
    out = it.get_output_details()[0]
    assert out["dtype"] == np.int8, out
    logits = np.zeros((len(waveforms), out["shape"][-1]), np.int8)
    for i in range(len(waveforms)):
        it.set_tensor(ins["waveform"], waveforms[i:i + 1])
        if "rr" in ins:
            it.set_tensor(ins["rr"], rr[i:i + 1])
        it.invoke()
        logits[i] = it.get_tensor(out["index"])[0]
    return logits


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sinus", required=True)
    ap.add_argument("--beats", type=int, default=1200)
    ap.add_argument("--models", nargs="*", default=MODELS)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    db = find_db()
    rows, failures = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for model in args.models:
            tfl, vec = export(args.sinus, model, tmp, args.beats, db)
            waveforms = np.load(os.path.join(vec, "waveforms.npy"))
            rr = np.load(os.path.join(vec, "rr.npy"))
            ours = np.load(os.path.join(vec, "logits.npy"))
            ours_class = np.load(os.path.join(vec, "classes.npy"))
            tflite_ref = np.load(os.path.join(vec, "logits_tflite_ref.npy"))
            n = len(ours)
            if n < 1000:
                failures.append(f"{os.path.basename(model)}: only {n} beats (need >= 1000)")
            for name, resolver in RESOLVERS:
                theirs = run_litert(tfl, resolver, waveforms, rr)
                delta = np.abs(theirs.astype(np.int32) - ours.astype(np.int32))
                exact = float(np.mean(np.all(delta == 0, axis=1)))
                agree = float(np.mean(np.argmax(theirs, axis=1) == ours_class))
                row = {
                    "model": os.path.basename(model), "resolver": name, "beats": n,
                    "bit_exact_beats": exact, "differing_logits": float(np.mean(delta != 0)),
                    "max_abs_delta": int(delta.max()), "class_agreement": agree,
                    "bit_exact_tflite_ref": float(np.mean(np.all(theirs == tflite_ref, axis=1))),
                }
                rows.append(row)
                if not check(name, row):
                    failures.append(f"{row['model']} / {name}: {row}")
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print("vs ours: beats with identical int8 logits, logits that differ, max |delta| (LSB),")
        print("class agreement; last column: beats identical to ours with TFLite reference rounding")
        print(f"{'model':<26}{'resolver':<10}{'beats':>6}{'identical':>11}"
              f"{'logits !=':>11}{'max|Δ|':>8}{'class =':>10}{'= ref rnd':>12}")
        for r in rows:
            print(f"{r['model']:<26}{r['resolver']:<10}{r['beats']:>6}"
                  f"{100 * r['bit_exact_beats']:>10.2f}%{100 * r['differing_logits']:>10.2f}%"
                  f"{r['max_abs_delta']:>8}{100 * r['class_agreement']:>9.2f}%"
                  f"{100 * r['bit_exact_tflite_ref']:>11.2f}%")
    for f in failures:
        print("FAIL", f, file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
