#!/usr/bin/env python3
"""Beats per second of "beatnet" inference in PyTorch on the CPU, for bench/train_peers.sh.

The same network as bench/train_peers.py with batch normalisation folded away (as in the
model Sinus exports: BN replaced by identity, which costs the same as folding it into the
convolutions), eval mode, `torch.inference_mode()`, random weights and beats, batches of
--beats. Two forms are timed: eager, and TorchScript traced + frozen
(`torch.jit.optimize_for_inference`); each repeat runs batches for about --seconds and
the median and best repeat are printed, closing with lines
`RESULT pytorch-infer variant=eager threads=T beats=N beats_per_s_median=X beats_per_s_best=Y`.

    python bench/infer_peers.py --threads 1 --beats 4096
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_peers import BeatNet, macs_per_beat  # noqa: E402


def rate(fn, n, seconds, repeats):
    fn()  # warm-up
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        beats = 0
        while True:
            fn()
            beats += n
            dt = time.perf_counter() - t0
            if dt >= seconds:
                break
        rates.append(beats / dt)
    rates.sort()
    return rates[len(rates) // 2], rates[-1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--beats", type=int, default=4096)
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(1)

    model = BeatNet()
    for i, m in enumerate(model.features):
        if isinstance(m, nn.BatchNorm1d):
            model.features[i] = nn.Identity()
    model.eval()
    rng = np.random.default_rng(2)
    wave = torch.from_numpy(rng.standard_normal((args.beats, 1, 128), dtype=np.float32))
    rr = torch.from_numpy(rng.standard_normal((args.beats, 8), dtype=np.float32))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), beatnet "
          f"{sum(p.numel() for p in model.parameters())} parameters (BN folded), "
          f"{macs_per_beat(model, 1, 128)} MACs per beat; batches of {args.beats} beats")

    with torch.inference_mode():
        traced = torch.jit.optimize_for_inference(torch.jit.trace(model, (wave, rr)))
        for name, m in [("eager", model), ("torchscript", traced)]:
            def run(m=m):
                return torch.softmax(m(wave, rr), dim=1)
            median, best = rate(run, args.beats, args.seconds, args.repeats)
            print(f"{name:>12}: {median / 1e3:.0f} k beats/s median, {best / 1e3:.0f} k best")
            print(f"RESULT pytorch-infer variant={name} threads={args.threads} beats={args.beats} "
                  f"beats_per_s_median={median:.0f} beats_per_s_best={best:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
