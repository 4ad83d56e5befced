#!/usr/bin/env python3
"""Train the "beatnet" beat classifier (notes: issue 4, default architecture) with PyTorch on
the CPU, to time it against Sinus's Rust trainer on the same data and architecture.

Input: a directory written by `cargo run -p sinus-ml --example dump_dataset` (waveforms.npy
n x leads x 128 float32, rr.npy n x 8 float32, labels.npy n uint8). Same recipe as the Rust
side: RR features normalised by the training set's mean and sd, class-weighted cross-entropy
with "balanced" weights capped at 10x the majority class's (sinus_ml::dataset::WeightScheme
default; DS1 has only 8 Q beats), Adam lr 1e-3, batch 256, shuffled every epoch.

    python bench/train_peers.py --data target/peers-data/ds1 --epochs 5 --threads 2

Prints the parameter count, MACs per beat, per-epoch time/loss/accuracy, and a closing line
`RESULT pytorch threads=N epochs=E params=P macs=M s_per_epoch_mean=X s_per_epoch_median=Y
s_per_epoch_min=Z`. On a shared machine the mean can be inflated by other processes (two
spinning worker threads on one free core); the median and minimum are steadier.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn


class BeatNet(nn.Module):
    """1-D CNN on the beat waveform, fused with the RR features (arch.md, "beatnet").

    Convolutions keep PyTorch's default bias (the Rust export folds batch norm into the
    preceding convolution either way)."""

    def __init__(self, leads=1, n_rr=8, n_classes=5):
        super().__init__()
        self.features = nn.Sequential(
            # 1. Conv(leads->16, k7, s2, p3) + BN + ReLU: 128 -> 64
            nn.Conv1d(leads, 16, 7, stride=2, padding=3),
            nn.BatchNorm1d(16),
            nn.ReLU(),
            # 2. depthwise Conv(16, k5, s2, p2), no activation; pointwise 16->32 + BN + ReLU: -> 32
            nn.Conv1d(16, 16, 5, stride=2, padding=2, groups=16),
            nn.Conv1d(16, 32, 1),
            nn.BatchNorm1d(32),
            nn.ReLU(),
            # 3. depthwise Conv(32, k5, s2, p2); pointwise 32->32 + BN + ReLU: -> 16
            nn.Conv1d(32, 32, 5, stride=2, padding=2, groups=32),
            nn.Conv1d(32, 32, 1),
            nn.BatchNorm1d(32),
            nn.ReLU(),
            # 4. depthwise Conv(32, k3, s2, p1); pointwise 32->32 + BN + ReLU: -> 8
            nn.Conv1d(32, 32, 3, stride=2, padding=1, groups=32),
            nn.Conv1d(32, 32, 1),
            nn.BatchNorm1d(32),
            nn.ReLU(),
            # 5. global average pool -> 32
            nn.AdaptiveAvgPool1d(1),
            nn.Flatten(),
        )
        # 5. concat the 8 normalised RR features -> 40; 6. Dense 40->32 + ReLU, Dropout, Dense 32->5
        self.head = nn.Sequential(
            nn.Linear(32 + n_rr, 32),
            nn.ReLU(),
            nn.Dropout(0.2),
            nn.Linear(32, n_classes),
        )

    def forward(self, wave, rr):
        return self.head(torch.cat([self.features(wave), rr], dim=1))


def macs_per_beat(model, leads, length):
    """Multiply-accumulates of one forward pass (convolutions and dense layers)."""
    total = 0
    n = length
    for m in model.features:
        if isinstance(m, nn.Conv1d):
            n = (n + 2 * m.padding[0] - m.kernel_size[0]) // m.stride[0] + 1
            total += n * m.out_channels * (m.in_channels // m.groups) * m.kernel_size[0]
    for m in model.head:
        if isinstance(m, nn.Linear):
            total += m.in_features * m.out_features
    return total


def class_weights(labels, n_classes=5, cap=10.0):
    """Balanced weights total/(present*count), capped at cap x the majority class's weight."""
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    present = (counts > 0).sum()
    total = counts.sum()
    w = np.zeros(n_classes)
    majority = total / (present * counts.max())
    for i, c in enumerate(counts):
        if c > 0:
            w[i] = min(total / (present * c), cap * majority)
    return w, counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="target/peers-data/ds1")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    wave = np.load(os.path.join(args.data, "waveforms.npy"))
    rr = np.load(os.path.join(args.data, "rr.npy"))
    labels = np.load(os.path.join(args.data, "labels.npy")).astype(np.int64)
    n, leads, length = wave.shape
    mean, sd = rr.mean(axis=0), rr.std(axis=0)
    sd[sd < 1e-6] = 1.0
    rr = ((rr - mean) / sd).astype(np.float32)
    weights, counts = class_weights(labels)

    model = BeatNet(leads=leads, n_rr=rr.shape[1])
    params = sum(p.numel() for p in model.parameters())
    macs = macs_per_beat(model, leads, length)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"{n} beats ({leads}x{length} + {rr.shape[1]} RR), counts N S V F Q = "
          f"{counts.astype(int).tolist()}, weights {np.round(weights, 3).tolist()}")
    print(f"beatnet: {params} parameters, {macs} MACs per beat")

    x = torch.from_numpy(wave)
    f = torch.from_numpy(rr)
    y = torch.from_numpy(labels)
    loss_fn = nn.CrossEntropyLoss(weight=torch.tensor(weights, dtype=torch.float32))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    times = []
    for epoch in range(1, args.epochs + 1):
        model.train()
        t0 = time.perf_counter()
        order = torch.from_numpy(rng.permutation(n))
        total_loss = 0.0
        correct = 0
        for i in range(0, n, args.batch):
            idx = order[i:i + args.batch]
            xb, fb, yb = x[idx], f[idx], y[idx]
            opt.zero_grad(set_to_none=True)
            logits = model(xb, fb)
            loss = loss_fn(logits, yb)
            loss.backward()
            opt.step()
            total_loss += loss.item() * len(idx)
            correct += (logits.argmax(1) == yb).sum().item()
        dt = time.perf_counter() - t0
        times.append(dt)
        print(f"epoch {epoch}: {dt:.2f} s, loss {total_loss / n:.4f}, "
              f"train accuracy {correct / n:.4f}", flush=True)
    print(f"RESULT pytorch threads={args.threads} epochs={args.epochs} params={params} "
          f"macs={macs} s_per_epoch_mean={np.mean(times):.2f} s_per_epoch_median={np.median(times):.2f} "
          f"s_per_epoch_min={np.min(times):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
