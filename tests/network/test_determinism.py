"""Same seed, same run, across processes: bit-identical weights and history (docs/determinism.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[2] / "src")

RUN = """
import hashlib, sys
import numpy as np
import glassnet as gn

gn.set_threads(1)  # the two processes run side by side: "auto" could pick different counts (other last bits)
seed = None if sys.argv[1] == "none" else int(sys.argv[1])
data = np.random.default_rng(123)
x, y = data.random((96, 8, 8, 1), dtype=np.float32), data.integers(0, 4, 96)
net = (gn.Network(epochs=2, learning_rate=0.05, batch_size=16, optimizer="adam", seed=seed, verbose=0)
       .add(gn.Conv2D(1, 4, 3)).add(gn.BatchNorm(4)).add(gn.ReLU()).add(gn.MaxPool2D(2)).add(gn.Flatten())
       .add(gn.Dropout(0.25)).add(gn.Dense(36, 4)).add(gn.Softmax()).use("cross_entropy"))
net.fit(x, y, validation_split=0.25)
digest = hashlib.sha256()
for param in net.parameters():
    digest.update(param.value.tobytes())
for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
    digest.update(np.asarray(net.history[key], dtype=np.float64).tobytes())
print(digest.hexdigest())
"""


def run_twice(seed: str) -> tuple[str, str]:
    """Two separate processes, started together, each printing a hash of its weights and history."""
    env = {**os.environ, "PYTHONPATH": SRC, "GLASSNET_FAST": "0"}  # NumPy pooling: no numba start-up to wait for
    children = [
        subprocess.Popen(
            [sys.executable, "-c", RUN, seed], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        for _ in range(2)
    ]
    outputs = []
    for child in children:
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
        outputs.append(out.strip())
    return outputs[0], outputs[1]


def test_the_same_seed_gives_bit_identical_weights_and_history_in_two_processes():
    first, second = run_twice("7")
    assert len(first) == 64 and first == second


def test_without_a_seed_two_runs_differ():
    first, second = run_twice("none")
    assert first != second
