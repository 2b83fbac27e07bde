"""A small CNN trained in seconds, shared by the serve, report and browser tests (cached per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

import glassnet as gn


def small_cnn(epochs: int = 1) -> gn.Network:
    """Conv2D(1, 8, 3)-ReLU-MaxPool2D-Flatten-Dense-Softmax, untrained, Adam 2e-3, batch 32, seed 0."""
    return (
        gn.Network(epochs=epochs, learning_rate=2e-3, batch_size=32, optimizer="adam", seed=0, verbose=0)
        .add(gn.Conv2D(1, 8, 3))
        .add(gn.ReLU())
        .add(gn.MaxPool2D(2))
        .add(gn.Flatten())
        .add(gn.Dense(13 * 13 * 8, 10))
        .add(gn.Softmax())
        .use("cross_entropy")
    )


def small_cnn_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """small_cnn() trained 1 epoch on 3,000 MNIST images, saved once."""
    path = tmp_path_factory.getbasetemp() / "small-cnn.npz"
    if not path.exists():
        (x_train, y_train), _ = gn.datasets.load_mnist()
        net = small_cnn()
        net.fit(x_train[:3000], y_train[:3000], validation_split=0.1)
        net.save(path)
    return path
