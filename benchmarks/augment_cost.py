"""What augmentation costs: one epoch of M3 training with and without each augmentation, and the augmentation alone.

The issue's target: augmentation under 15% of an M3 epoch. Run on a quiet machine:

    python benchmarks/augment_cost.py [--limit N] [--batch-size 128]

Prints a table: seconds of the augmentation alone over the epoch's batches, of the epoch
without and with it, and the share. Timings on a loaded machine are not trustworthy; the
script prints the load average with them.
"""

from __future__ import annotations

import argparse
import os
import time

import benchlib
from model_specs import M3, build_glassnet

benchlib.ensure_src_on_path()

import glassnet as gn  # noqa: E402

AUGMENTATIONS = {
    "RandomAffine": lambda: gn.augment.RandomAffine(shift=0.1, rotation=10, scale=0.1, shear=10),
    "Elastic": lambda: gn.augment.Elastic(alpha=34.0, sigma=4.0),
}


def epoch_seconds(x, y, batch_size: int, augment: gn.augment.Augmentation | None) -> float:
    net = build_glassnet(gn, M3, learning_rate=1e-3, batch_size=batch_size, seed=0)
    net.verbose = 0
    start = time.perf_counter()
    net.fit(x, y, epochs=1, augment=augment)
    return time.perf_counter() - start


def augment_seconds(x, batch_size: int, augment: gn.augment.Augmentation) -> float:
    rng = __import__("numpy").random.default_rng(0)
    start = time.perf_counter()
    for first in range(0, len(x), batch_size):
        augment(x[first : first + batch_size], rng)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=60000, help="training images (default: all 60000)")
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()
    (x, y), _ = gn.datasets.load_mnist()
    x, y = x[: args.limit], y[: args.limit]
    plain = epoch_seconds(x, y, args.batch_size, None)
    rows = [["none", "-", benchlib.fmt(plain), "-"]]
    for name, make in AUGMENTATIONS.items():
        alone = augment_seconds(x, args.batch_size, make())
        with_it = epoch_seconds(x, y, args.batch_size, make())
        rows.append([name, benchlib.fmt(alone), benchlib.fmt(with_it), f"{alone / plain:.0%}"])
    print(f"M3, {len(x)} images, batch {args.batch_size}; load average {os.getloadavg()[0]:.2f}")
    print(benchlib.markdown_table(["augmentation", "alone (s)", "M3 epoch (s)", "alone / plain epoch"], rows))


if __name__ == "__main__":
    main()
