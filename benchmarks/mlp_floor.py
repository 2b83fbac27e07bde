"""The floor under M1's epoch: what NumPy alone needs, beside PyTorch's epoch.

    python benchmarks/mlp_floor.py [--rounds 5] [--threads 2]

M1 is Dense 784->128, ReLU, Dense 128->10, SGD, batch 128, 60,000 images (469 steps). Each step
needs at least the first layer's forward product (128x784 @ 784x128) and its weight gradient
(784x128 @ 128x128); glassnet skips that layer's input gradient. Timed alternately in one
process, medians printed:
- the products: only those two, for 469 steps (no gather, no loss, no optimizer);
- a bare NumPy epoch: the whole step written out in 20 lines (shuffled gather, both layers,
  softmax cross-entropy, backward, SGD), with no library around it;
- glassnet's fit of one M1 epoch, everything it does included (the checks, the card's data
  hash, the doctor);
- one PyTorch M1 epoch.
Issue 13 asks glassnet's epoch for at most 0.6x PyTorch's: the bare epoch's ratio is the floor
any NumPy library can reach here, glassnet's own overhead comes on top.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

import benchlib
import numpy as np
from model_specs import build_glassnet, get_spec

STEPS, BATCH, INPUTS, HIDDEN = 469, 128, 784, 128


def products_only(x: np.ndarray, weight: np.ndarray) -> float:
    """Seconds for STEPS forward products and weight-gradient products of the first layer."""
    start = time.perf_counter()
    for step in range(STEPS):
        batch = x[step * BATCH : (step + 1) * BATCH]  # (BATCH, INPUTS), contiguous
        hidden = batch @ weight  # (BATCH, HIDDEN)
        _ = batch.T @ hidden  # (INPUTS, HIDDEN): the weight gradient's shape and cost
    return time.perf_counter() - start


def bare_numpy_epoch(x: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> float:
    """Seconds for one M1 epoch written out in NumPy: shuffled batches, forward, loss, backward, SGD."""
    w1 = rng.standard_normal((INPUTS, HIDDEN), dtype=np.float32) * 0.05
    w2 = rng.standard_normal((HIDDEN, 10), dtype=np.float32) * 0.1
    b1, b2 = np.zeros(HIDDEN, np.float32), np.zeros(10, np.float32)
    rate = np.float32(0.01)
    start = time.perf_counter()
    order = rng.permutation(len(x))
    for step in range(STEPS):
        rows = order[step * BATCH : (step + 1) * BATCH]
        batch, batch_labels, picked = x[rows], labels[rows], np.arange(len(rows))
        hidden = batch @ w1  # (BATCH, HIDDEN)
        hidden += b1
        np.maximum(hidden, 0, out=hidden)
        scores = hidden @ w2  # (BATCH, 10)
        scores += b2
        scores -= scores.max(axis=1, keepdims=True)
        probabilities = np.exp(scores)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        _ = -np.log(probabilities[picked, batch_labels]).mean()  # the loss, as every loop reports it
        probabilities[picked, batch_labels] -= 1  # dLoss/dScores times the batch size
        probabilities /= len(rows)
        grad_w2, grad_b2 = hidden.T @ probabilities, probabilities.sum(axis=0)
        grad_hidden = probabilities @ w2.T  # (BATCH, HIDDEN)
        grad_hidden *= hidden > 0
        grad_w1, grad_b1 = batch.T @ grad_hidden, grad_hidden.sum(axis=0)
        w1 -= rate * grad_w1
        b1 -= rate * grad_b1
        w2 -= rate * grad_w2
        b2 -= rate * grad_b2
    return time.perf_counter() - start


def glassnet_epoch(gn: Any, x: np.ndarray, labels: np.ndarray) -> float:
    """Seconds for glassnet's fit of one M1 epoch (shuffled, SGD at the same rate)."""
    net = build_glassnet(gn, get_spec("M1"), learning_rate=0.01, batch_size=BATCH, seed=0)
    start = time.perf_counter()
    net.fit(x, labels)
    return time.perf_counter() - start


def torch_epoch(torch: object, x: object, y: object, model: object, optimizer: object, loss_fn: object) -> float:
    """Seconds for one PyTorch M1 epoch of shuffled batches, as benchmarks/compare.py trains it."""
    start = time.perf_counter()
    order = torch.randperm(STEPS * BATCH)  # type: ignore[attr-defined]
    for step in range(STEPS):
        optimizer.zero_grad(set_to_none=True)  # type: ignore[attr-defined]
        rows = order[step * BATCH : (step + 1) * BATCH]
        loss_fn(model(x[rows]), y[rows]).backward()  # type: ignore[index, operator]
        optimizer.step()  # type: ignore[attr-defined]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    with benchlib.limit_threads(args.threads):
        import torch

        benchlib.ensure_src_on_path()
        import glassnet as gn

        torch.set_num_threads(args.threads)
        rng = np.random.default_rng(0)
        x = rng.random((STEPS * BATCH, INPUTS), dtype=np.float32)
        weight = rng.standard_normal((INPUTS, HIDDEN), dtype=np.float32) * 0.05
        labels = rng.integers(0, 10, len(x))
        tx, ty = torch.from_numpy(x), torch.from_numpy(labels)
        model = torch.nn.Sequential(torch.nn.Linear(INPUTS, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, 10))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        loss_fn = torch.nn.CrossEntropyLoss()
        floors, bares, fits, epochs = [], [], [], []
        for _ in range(args.rounds + 1):  # the first round warms caches and thread pools: dropped
            floors.append(products_only(x, weight))
            bares.append(bare_numpy_epoch(x, labels, rng))
            fits.append(glassnet_epoch(gn, x, labels))
            epochs.append(torch_epoch(torch, tx, ty, model, optimizer, loss_fn))
    floor, bare, fit, epoch = (statistics.median(times[1:]) for times in (floors, bares, fits, epochs))
    print(f"M1 floor, {args.threads} threads, {args.rounds} rounds; load average {os.getloadavg()[0]:.2f} at the end")
    print(f"NumPy, the two first-layer products only: {floor:.3f} s ({floor / epoch:.2f} of PyTorch's epoch)")
    print(f"NumPy, a bare M1 epoch (no library):      {bare:.3f} s ({bare / epoch:.2f} of PyTorch's epoch)")
    print(f"glassnet, fit of one M1 epoch:            {fit:.3f} s ({fit / epoch:.2f} of PyTorch's epoch)")
    print(f"PyTorch, a whole M1 epoch:                {epoch:.3f} s")
    print("issue 13's target for glassnet's whole epoch: 0.6 of PyTorch's")


if __name__ == "__main__":
    main()
