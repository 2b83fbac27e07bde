"""Model files written by an earlier glassnet, kept in tests/data so that later code must read them.

The files and the outputs they gave when written are in tests/data/ (v1_*.npz); they were made by
running this script on the code before issue 12 regrouped the package:

    python tests/model_fixtures.py

tests/io/test_fixtures.py loads them with today's code and expects the same outputs, bit for bit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import glassnet as gn

DATA = Path(__file__).parent / "data"
MODEL, CHECKPOINT, EXPECTED = DATA / "v1_mlp.npz", DATA / "v1_cnn_checkpoint.npz", DATA / "v1_expected.npz"


def inputs() -> tuple[np.ndarray, np.ndarray]:
    """The images and labels both fixtures were trained and are checked on."""
    data = np.random.default_rng(2024)
    return data.random((64, 10, 10, 1), dtype=np.float32), data.integers(0, 3, 64)


def mlp() -> gn.Network:
    return (
        gn.Network(epochs=2, learning_rate=0.05, batch_size=16, optimizer="momentum", seed=4, verbose=0)
        .add(gn.Flatten())
        .add(gn.Dense(100, 12))
        .add(gn.Tanh())
        .add(gn.Dense(12, 3))
        .add(gn.Softmax())
        .use("cross_entropy")
    )


def cnn() -> gn.Network:
    return (
        gn.Network(epochs=3, learning_rate=0.01, batch_size=16, optimizer="adam", seed=8, verbose=0)
        .add(gn.Conv2D(1, 4, 3, padding="same"))
        .add(gn.BatchNorm(4))
        .add(gn.ReLU())
        .add(gn.MaxPool2D(2))
        .add(gn.Flatten())
        .add(gn.Dropout(0.2))
        .add(gn.Dense(100, 3))
        .add(gn.Softmax())
        .use("cross_entropy")
    )


def resume_to_two_epochs(path: Path) -> gn.Network:
    """A fresh cnn() resumed from the checkpoint (written after epoch 1) and trained to epoch 2."""
    x, y = inputs()
    return cnn().fit(x, y, epochs=2, resume=path)


def main() -> None:
    x, y = inputs()
    mlp().fit(x, y).save(MODEL)
    cnn().fit(x, y, epochs=1, checkpoint=CHECKPOINT)
    resumed = resume_to_two_epochs(CHECKPOINT)
    np.savez(
        EXPECTED,
        mlp_predict=gn.Network.load(MODEL).predict(x),
        checkpoint_predict=gn.Network.load(CHECKPOINT).predict(x),
        resumed_weights=np.concatenate([p.value.ravel() for p in resumed.parameters()]),
        resumed_loss=np.asarray(resumed.history["loss"]),
    )


if __name__ == "__main__":
    main()
