"""Draw learning_rate.png: what a too small, a good and a too large learning rate do.

    python examples/learning_rate.py [--limit 2000] [--epochs 10] [--out learning_rate.png]

The figure goes to the current folder unless --out says otherwise (the tutorial's copy was made
with --out docs/images/learning_rate.png).

Left: gradient descent on the error E(w) = (w - 3)^2, starting from w = 0. Right: the article's
784-100-50-10 tanh network with MSE, trained on the first --limit MNIST images.
Needs matplotlib (pip install glassnet[plot]).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import glassnet as gn
from glassnet.extras import MissingExtraError, import_extra

PARABOLA_RATES = {"too small (0.01)": 0.01, "good (0.3)": 0.3, "too large (1.05)": 1.05}
NETWORK_RATES = {"too small (0.01)": 0.01, "good (0.5)": 0.5, "too large (5)": 5.0}


def descend(learning_rate: float, steps: int = 20, w: float = 0.0) -> list[float]:
    """w after each step of w -= learning_rate * dE/dw, with dE/dw = 2 (w - 3)."""
    path = [w]
    for _ in range(steps):
        w -= learning_rate * 2 * (w - 3)
        path.append(w)
    return path


def train(learning_rate: float, x: np.ndarray, y: np.ndarray, epochs: int) -> list[float]:
    """The loss after each epoch of the article's network at this learning rate."""
    net = (
        gn.Network(epochs=epochs, learning_rate=learning_rate, batch_size=32, seed=0, verbose=0)
        .add(gn.Dense(784, 100))
        .add(gn.Tanh())
        .add(gn.Dense(100, 50))
        .add(gn.Tanh())
        .add(gn.Dense(50, 10))
        .add(gn.Tanh())
        .use("mse")
    )
    net.fit(x, y)
    print(
        f"learning rate {learning_rate:g}: loss {net.history['loss'][-1]:.4f}, "
        f"accuracy {net.history['accuracy'][-1]:.4f}"
    )
    return net.history["loss"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=2000, help="MNIST training images to use (default 2000)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs per learning rate (default 10)")
    parser.add_argument("--out", type=Path, default=Path("learning_rate.png"), help="where to write the PNG")
    args = parser.parse_args(argv)
    try:
        figure_module = import_extra("matplotlib.figure", "plot", "this example's figure")
    except MissingExtraError as error:
        sys.exit(str(error))  # one line, before any training

    (x, y), _ = gn.datasets.load_mnist()
    x = x[: args.limit].reshape(-1, 784)  # (N, 784)
    y = gn.datasets.to_categorical(y[: args.limit], 10)  # (N, 10)

    fig = figure_module.Figure(figsize=(10, 4), layout="tight")
    left, right = fig.subplots(1, 2)
    for label, rate in PARABOLA_RATES.items():
        left.plot(descend(rate), marker=".", label=label)
    left.axhline(3, color="gray", linewidth=0.8, linestyle="--")
    left.set(title="E(w) = (w - 3)²: w after each step", xlabel="step", ylabel="w", ylim=(-4, 10))
    left.legend(loc="lower right")
    for label, rate in NETWORK_RATES.items():
        losses = train(rate, x, y, args.epochs)
        right.plot(range(1, len(losses) + 1), losses, marker="o", label=label)
    right.set(title=f"784-100-50-10 tanh on {len(x)} MNIST images", xlabel="epoch", ylabel="MSE loss", yscale="log")
    right.legend()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=100)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
