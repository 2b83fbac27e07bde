"""Writing your own layer: the article's Sine layer, checked numerically, then trained on MNIST.

    python examples/custom_layer.py [--limit N] [--epochs 5]

A layer needs a forward(x) that returns its output and a backward(grad) that turns
dLoss/dOutput into dLoss/dInput. Nothing else: no registration, no super().__init__().
"""

from __future__ import annotations

import argparse

import numpy as np

import glassnet as gn


class Sine(gn.Layer):
    """sin(x), elementwise; its derivative is cos(x).

    Shapes:
        input (N, ...) -> output (N, ...).
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return np.sin(x)

    def backward(self, grad: np.ndarray) -> np.ndarray:  # dLoss/dOutput -> dLoss/dInput
        return grad * np.cos(self.x)


def gradient_error(layer: gn.Layer, seed: int = 0) -> float:
    """The largest gap between backward's gradient and a central finite difference (float64)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(4, 5))
    weights = rng.normal(size=(4, 5))  # loss = sum(weights * layer(x)), so dLoss/dOutput = weights
    layer.forward(x)
    analytic = layer.backward(weights)
    numeric = np.zeros_like(x)
    h = 1e-6
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = h
        up, down = np.sum(weights * layer.forward(x + step)), np.sum(weights * layer.forward(x - step))
        numeric[index] = (up - down) / (2 * h)
    return float(np.max(np.abs(analytic - numeric)))


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=10000, help="train and test images to use (default 10000)")
    parser.add_argument("--epochs", type=int, default=5, help="passes over the training images (default 5)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and shuffling (default 0)")
    args = parser.parse_args(argv)

    print(f"Sine backward vs finite differences: max error {gradient_error(Sine()):.2e}")

    (x_train, y_train), (x_test, y_test) = gn.datasets.load_mnist()
    x_train, y_train = x_train[: args.limit], y_train[: args.limit]
    x_test, y_test = x_test[: args.limit], y_test[: args.limit]
    net = (
        gn.Network(
            epochs=args.epochs, learning_rate=0.05, batch_size=32, optimizer="momentum", seed=args.seed, verbose=2
        )
        .add(gn.Flatten())
        .add(gn.Dense(784, 100))
        .add(Sine())  # our layer, used like any other
        .add(gn.Dense(100, 10))
        .add(gn.Softmax())
        .use("cross_entropy")
    )
    net.fit(x_train, y_train)
    accuracy = net.evaluate(x_test, y_test)["accuracy"]
    print(f"test accuracy {accuracy:.4f} on {len(x_test)} images")
    return accuracy


if __name__ == "__main__":
    main()
