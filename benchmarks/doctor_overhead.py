"""What the training doctor and the reproducibility card cost: one fit with and without the doctor, and the data hash.

Run: PYTHONPATH=src python benchmarks/doctor_overhead.py  (best of 3 each; quote with `uptime`).
"""

from __future__ import annotations

import time

import glassnet as gn
from glassnet.network.card import array_hash


def fit_seconds(doctor: bool, x, y) -> float:
    net = (
        gn.Network(seed=0, epochs=1, learning_rate=0.05, batch_size=64, verbose=0)
        .add(gn.Conv2D(1, 8, 3))
        .add(gn.ReLU())
        .add(gn.MaxPool2D(2))
        .add(gn.Flatten())
        .add(gn.Dense(13 * 13 * 8, 10))
        .add(gn.Softmax())
        .use("cross_entropy")
    )
    start = time.perf_counter()
    net.fit(x, y, doctor=doctor)
    return time.perf_counter() - start


def main() -> None:
    (x, y), _ = gn.datasets.load_mnist()
    start = time.perf_counter()
    array_hash(x)
    array_hash(y)
    print(f"SHA-256 of the whole MNIST training set (x {x.nbytes / 1e6:.0f} MB): {time.perf_counter() - start:.2f} s")
    x, y = x[:10000], y[:10000]
    for doctor in (False, True, False, True):
        best = min(fit_seconds(doctor, x, y) for _ in range(3))
        print(f"fit, 1 epoch of 10000 images, doctor={doctor}: {best:.2f} s")


if __name__ == "__main__":
    main()
