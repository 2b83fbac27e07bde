"""The zoo's architectures, each a function returning a fresh list of layers for 28x28x1 images and 10 classes."""

from __future__ import annotations

from glassnet.layers import BatchNorm, Conv2D, Dense, Flatten, Layer, MaxPool2D, ReLU, Softmax, Tanh


# The architectures, one layer block per line. fmt: off keeps them in the shape of the network.
# fmt: off
def cnn() -> list[Layer]:
    return [
        Conv2D(1, 16, 5), BatchNorm(16), ReLU(), MaxPool2D(),   # -> (N, 12, 12, 16)
        Conv2D(16, 32, 5), BatchNorm(32), ReLU(), MaxPool2D(),  # -> (N, 4, 4, 32)
        Flatten(), Dense(512, 128), ReLU(),
        Dense(128, 10), Softmax(),
    ]


def speedrun() -> list[Layer]:
    return [
        Conv2D(1, 24, 5), ReLU(), MaxPool2D(),   # -> (N, 12, 12, 24); ReLU then pool: one fused step
        Conv2D(24, 32, 3), ReLU(), MaxPool2D(),  # -> (N, 5, 5, 32)
        Flatten(), Dense(800, 256), ReLU(),
        Dense(256, 10), Softmax(),
    ]


def mlp() -> list[Layer]:
    return [Flatten(), Dense(784, 128), ReLU(), Dense(128, 10), Softmax()]


def lenet() -> list[Layer]:
    return [
        Conv2D(1, 6, 5, padding=2), ReLU(), MaxPool2D(),  # -> (N, 14, 14, 6)
        Conv2D(6, 16, 5), ReLU(), MaxPool2D(),            # -> (N, 5, 5, 16)
        Flatten(), Dense(400, 120), ReLU(),
        Dense(120, 84), ReLU(),
        Dense(84, 10), Softmax(),
    ]


def article_mlp() -> list[Layer]:
    return [Flatten(), Dense(784, 100), Tanh(), Dense(100, 50), Tanh(), Dense(50, 10), Tanh()]


def article_cnn() -> list[Layer]:
    return [Conv2D(1, 1, 3), Tanh(), Flatten(), Dense(26 * 26, 100), Tanh(), Dense(100, 10), Tanh()]
# fmt: on
