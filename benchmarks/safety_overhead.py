"""What the training guards cost: an MNIST MLP epoch with them, and with them switched off.

Run by hand: OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/safety_overhead.py [--runs 9]

"Off" replaces, for the measurement only, the per-batch checks (finite loss, output shape) and the
per-epoch work (snapshot, parameter check, errstate) of glassnet.network.loop by no-ops, so the two
runs differ in nothing else. Runs alternate; medians and minima of the wall time per epoch and of
the process's CPU time per epoch are compared (CPU time is the steadier on a busy machine; with
one BLAS thread it is the work done).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import statistics
import time
from types import SimpleNamespace

import numpy as np

import glassnet as gn
from glassnet import training


class NoSnapshot:
    """Stands in for training.Snapshot: copies nothing."""

    def __init__(self, net: gn.Network) -> None:
        pass

    def restore(self, net: gn.Network) -> None:
        pass


GUARDS = {
    "Snapshot": training.Snapshot,
    "broken_parameter": training.broken_parameter,
    "quiet": training.quiet,
    "check_output_shape": training.check_output_shape,
    "math": training.math,
}
NO_GUARDS = {
    "Snapshot": NoSnapshot,
    "broken_parameter": lambda net: None,
    "quiet": contextlib.nullcontext,
    "check_output_shape": lambda output, shape: None,
    "math": SimpleNamespace(ceil=math.ceil, isfinite=lambda value: True),
}


def epoch_seconds(x: np.ndarray, y: np.ndarray, guarded: bool, epochs: int) -> tuple[float, float]:
    """Wall and CPU seconds per epoch of a 784-100-10 tanh MLP, batch 32, SGD."""
    for name, value in (GUARDS if guarded else NO_GUARDS).items():
        setattr(training, name, value)
    net = (
        gn.Network(epochs=epochs, learning_rate=0.1, batch_size=32, seed=0, verbose=0)
        .add(gn.Flatten())
        .add(gn.Dense(784, 100))
        .add(gn.Tanh())
        .add(gn.Dense(100, 10))
        .add(gn.Softmax())
        .use("cross_entropy")
    )
    cpu = time.process_time()
    net.fit(x, y)
    return sum(net.history["seconds"]) / epochs, (time.process_time() - cpu) / epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--epochs-per-run", type=int, default=1)
    args = parser.parse_args()
    (x, y), _ = gn.datasets.load_mnist()
    times: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    for _ in range(args.runs):
        for guarded in (False, True):
            times[guarded].append(epoch_seconds(x, y, guarded, args.epochs_per_run))
    for index, clock in enumerate(("wall", "cpu")):
        for guarded in (False, True):
            values = [run[index] for run in times[guarded]]
            label = "guards on " if guarded else "guards off"
            print(f"{clock} {label}: median {statistics.median(values):.3f} s, min {min(values):.3f} s per epoch")
        for name, pick in (("median", statistics.median), ("min", min)):
            on, off = (pick([run[index] for run in times[flag]]) for flag in (True, False))
            print(f"{clock} overhead ({name}): {100 * (on - off) / off:+.2f}%")
    for name, value in GUARDS.items():
        setattr(training, name, value)
    print(f"direct cost of the added work: {added_work_seconds(x, y) * 1e3:.2f} ms per epoch")


def added_work_seconds(x: np.ndarray, y: np.ndarray, repeats: int = 20) -> float:
    """Time the guards' own work for one epoch (1875 batches) in isolation: less noisy than A/B."""
    net = gn.Network(seed=0).add(gn.Flatten()).add(gn.Dense(784, 100)).add(gn.Tanh()).add(gn.Dense(100, 10))
    net.add(gn.Softmax()).use("cross_entropy")
    net.fit(x[:64], y[:64], epochs=1, verbose=0)
    batches = math.ceil(len(x) / 32)
    out, targets = np.zeros((32, 10), np.float32), np.zeros((32, 10), np.float32)
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        snapshot = training.Snapshot(net)
        with training.quiet():
            for _ in range(batches):
                training.check_output_shape(out.shape[1:], targets.shape)
                if not math.isfinite(0.5) or training.STOP.requested:
                    raise RuntimeError
        training.broken_parameter(net)
        best = min(best, time.perf_counter() - start)
        del snapshot
    return best


if __name__ == "__main__":
    main()
