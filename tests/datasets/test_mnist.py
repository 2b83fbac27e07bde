"""End to end on the real MNIST: the MLP in CI, the LeNet-like CNN in the slow suite."""

from __future__ import annotations

import pytest

import glassnet as gn


@pytest.fixture(scope="module")
def mnist():
    return gn.datasets.load_mnist()


def test_mlp_reaches_97_percent(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    net = (
        gn.Network(epochs=4, learning_rate=0.05, batch_size=64, optimizer="momentum", seed=0, verbose=0)
        .add(gn.Flatten())
        .add(gn.Dense(784, 128))
        .add(gn.ReLU())
        .add(gn.Dense(128, 10))
        .add(gn.Softmax())
        .use("cross_entropy")
        .fit(x_train, y_train)
    )
    assert net.evaluate(x_test, y_test)["accuracy"] >= 0.97


@pytest.mark.slow
def test_lenet_like_cnn_reaches_99_percent(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    net = (
        gn.Network(epochs=3, learning_rate=0.05, batch_size=64, optimizer="momentum", seed=0, verbose=0)
        .add(gn.Conv2D(1, 32, 3))
        .add(gn.ReLU())
        .add(gn.MaxPool2D(2))
        .add(gn.Conv2D(32, 64, 3))
        .add(gn.ReLU())
        .add(gn.MaxPool2D(2))
        .add(gn.Flatten())
        .add(gn.Dense(1600, 128))
        .add(gn.ReLU())
        .add(gn.Dense(128, 10))
        .add(gn.Softmax())
        .use("cross_entropy")
        .fit(x_train, y_train)
    )
    net.fit(x_train, y_train, epochs=1, learning_rate=0.01)  # a fourth epoch at a 5x smaller rate
    assert net.evaluate(x_test, y_test)["accuracy"] >= 0.99
