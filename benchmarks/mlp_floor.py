"""The floor under M1's epoch: what NumPy's BLAS alone needs for its two large products, beside PyTorch's epoch.

    python benchmarks/mlp_floor.py [--rounds 5] [--threads 2]

M1 is Dense 784->128, ReLU, Dense 128->10, SGD, batch 128, 60,000 images (469 steps). Each step
needs at least the first layer's forward product (128x784 @ 784x128) and its weight gradient
(784x128 @ 128x128); glassnet skips that layer's input gradient. This times only those two
products for 469 steps (no gather, no loss, no optimizer, no Python around them), then one
PyTorch M1 epoch, alternately in one process, and prints the medians: if the products alone take
longer than 0.6x PyTorch's epoch, no NumPy implementation meets issue 13's M1 target here.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import benchlib
import numpy as np

STEPS, BATCH, INPUTS, HIDDEN = 469, 128, 784, 128


def products_only(x: np.ndarray, weight: np.ndarray) -> float:
    """Seconds for STEPS forward products and weight-gradient products of the first layer."""
    start = time.perf_counter()
    for step in range(STEPS):
        batch = x[step * BATCH : (step + 1) * BATCH]  # (BATCH, INPUTS), contiguous
        hidden = batch @ weight  # (BATCH, HIDDEN)
        _ = batch.T @ hidden  # (INPUTS, HIDDEN): the weight gradient's shape and cost
    return time.perf_counter() - start


def torch_epoch(torch: object, x: object, y: object, model: object, optimizer: object, loss_fn: object) -> float:
    """Seconds for one PyTorch M1 epoch in fixed batches, as benchmarks/compare.py trains it."""
    start = time.perf_counter()
    for step in range(STEPS):
        optimizer.zero_grad(set_to_none=True)  # type: ignore[attr-defined]
        rows = slice(step * BATCH, (step + 1) * BATCH)
        loss_fn(model(x[rows]), y[rows]).backward()  # type: ignore[operator]
        optimizer.step()  # type: ignore[attr-defined]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    with benchlib.limit_threads(args.threads):
        import torch

        torch.set_num_threads(args.threads)
        rng = np.random.default_rng(0)
        x = rng.random((STEPS * BATCH, INPUTS), dtype=np.float32)
        weight = rng.standard_normal((INPUTS, HIDDEN), dtype=np.float32) * 0.05
        tx, ty = torch.from_numpy(x), torch.from_numpy(rng.integers(0, 10, len(x)))
        model = torch.nn.Sequential(torch.nn.Linear(INPUTS, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, 10))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        loss_fn = torch.nn.CrossEntropyLoss()
        floors, epochs = [], []
        for _ in range(args.rounds + 1):  # the first round warms caches and thread pools: dropped
            floors.append(products_only(x, weight))
            epochs.append(torch_epoch(torch, tx, ty, model, optimizer, loss_fn))
    floor, epoch = statistics.median(floors[1:]), statistics.median(epochs[1:])
    print(f"M1 floor, {args.threads} threads, {args.rounds} rounds; load average {os.getloadavg()[0]:.2f} at the end")
    print(f"NumPy, the two first-layer products only: {floor:.3f} s")
    print(f"PyTorch, a whole M1 epoch:                {epoch:.3f} s")
    print(f"products / PyTorch epoch: {floor / epoch:.2f} (issue 13's target for glassnet's whole epoch: 0.6)")


if __name__ == "__main__":
    main()
