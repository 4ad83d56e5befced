#!/usr/bin/env python3
"""The int8 beat classifier against the official LiteRT interpreter, in the same run.

For each shipped int8 model: `sinus export-model --format tflite` writes the TensorFlow Lite
file, and LiteRT (`ai-edge-litert`, the venv of tests/peers/requirements-litert.txt) runs it
beat by beat on one thread with its default XNNPACK delegate; ours runs the same network with
`sinus-ml`'s `infer_speed` example (one thread, batches of beats through `sinus-core`'s int8
kernels). Also the device monitor's whole pipeline on the host (`sinus edge simulate`, all
records of MIT-BIH, one core), for scale. Prints a table of beats per second and ratios.

Usage: python3 scripts/bench-edge.py [--sinus target/release/sinus] [--db MITDB]
(needs `cargo build --release -p sinus-cli --example infer_speed -p sinus-ml` first; the
script builds what is missing).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
MODELS = ["beatnet.int8.snnm", "beatnet-1lead.int8.snnm"]


def litert_python():
    env = dict(os.environ, SINUS_VENV=os.path.join(ROOT, "target", "peers-venv-litert"))
    out = subprocess.run(["bash", os.path.join(ROOT, "scripts", "peers-venv.sh"),
                          os.path.join(ROOT, "tests", "peers", "requirements-litert.txt")],
                         env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


LITERT_TIMER = r"""
import sys, time, numpy as np
from ai_edge_litert.interpreter import Interpreter
path, beats, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
it = Interpreter(model_path=path, num_threads=1)
it.allocate_tensors()
ins = {d["name"]: d for d in it.get_input_details()}
out = it.get_output_details()[0]["index"]
rng = np.random.default_rng(1)
w = rng.standard_normal((beats,) + tuple(ins["waveform"]["shape"][1:])).astype(np.float32)
rr = (0.8 + 0.1 * rng.standard_normal((beats,) + tuple(ins["rr"]["shape"][1:]))).astype(np.float32)
def run(k):
    it.set_tensor(ins["waveform"]["index"], w[k:k + 1])
    it.set_tensor(ins["rr"]["index"], rr[k:k + 1])
    it.invoke()
    return it.get_tensor(out)
for k in range(min(beats, 200)):
    run(k)
rates = []
for _ in range(5):
    t0, n = time.perf_counter(), 0
    while time.perf_counter() - t0 < seconds:
        run(n % beats)
        n += 1
    rates.append(n / (time.perf_counter() - t0))
rates.sort()
print(rates[len(rates) // 2])
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sinus", default=os.path.join(ROOT, "target", "release", "sinus"))
    ap.add_argument("--db", default=os.environ.get("SINUS_MITDB",
                    os.path.join(ROOT, "..", "shared", "data", "mitdb")))
    ap.add_argument("--seconds", type=float, default=1.0)
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--quiet", "--release", "-p", "sinus-ml", "--example",
                    "infer_speed"], cwd=ROOT, check=True)
    py = litert_python()
    rows = []
    with tempfile.TemporaryDirectory(prefix="sinus-bench-edge-") as work:
        for name in MODELS:
            model = os.path.join(ROOT, "crates", "sinus-ml", "models", name)
            tfl = os.path.join(work, name.replace(".snnm", ".tflite"))
            subprocess.run([args.sinus, "-q", "export-model", model, "--format", "tflite",
                            "--out", tfl], check=True, capture_output=True)
            ours = subprocess.run([os.path.join(ROOT, "target", "release", "examples",
                                                "infer_speed"), "--model", model,
                                   "--repeats", "5", "--seconds", str(args.seconds)],
                                  capture_output=True, text=True, check=True).stdout
            m = re.search(r"RESULT sinus-infer variant=int8 .*beats_per_s_median=(\d+)", ours)
            ours_rate = float(m.group(1))
            lite = subprocess.run([py, "-c", LITERT_TIMER, tfl, "1000", str(args.seconds)],
                                  capture_output=True, text=True, check=True)
            lite_rate = float(lite.stdout.strip().splitlines()[-1])
            rows.append((name, ours_rate, lite_rate))
    monitor = None
    if os.path.isdir(args.db):
        out = subprocess.run([args.sinus, "-q", "edge", "simulate", "--db", args.db, "--json"],
                             capture_output=True, text=True, check=True)
        t = json.loads(out.stdout)["total"]
        monitor = (t["seconds"], t["host_run_s"], t["latency_ms"]["n"])
    print("| int8 beat classifier, 1 thread | sinus-core | LiteRT 2.3 (XNNPACK) | ratio |")
    print("|---|---|---|---|")
    for name, ours, lite in rows:
        print(f"| {name} | {ours / 1e3:.1f} k beats/s | {lite / 1e3:.1f} k beats/s | "
              f"{ours / lite:.1f}× |")
    if monitor:
        secs, run_s, beats = monitor
        print(f"\nThe whole device monitor on the host (filters, detector, features, int8 model, "
              f"rhythm): {secs / 3600:.1f} h of ECG in {run_s:.1f} s on one core "
              f"({secs / run_s:.0f}× real time, {beats / run_s / 1e3:.1f} k beats/s).")


if __name__ == "__main__":
    main()
