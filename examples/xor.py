"""XOR, the article's first network: a perceptron cannot learn it, two layers of tanh can.

python examples/xor.py [--epochs 1000] [--learning-rate 0.1] [--seed 0]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

import glassnet as gn


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=1000, help="passes over the four examples (default 1000)")
    parser.add_argument("--learning-rate", type=float, default=0.1, help="gradient-descent step (default 0.1)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial weights (default 0)")
    args = parser.parse_args(argv)

    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([[0], [1], [1], [0]], dtype=np.float32)

    # A single perceptron: no straight line separates XOR's two classes, so it never converges.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", gn.ConvergenceWarning)
        perceptron = gn.Perceptron(max_epochs=100, seed=args.seed).fit(x, y[:, 0])
    perceptron_accuracy = float(np.mean(perceptron.predict(x) == y[:, 0]))
    print(
        f"perceptron: converged={perceptron.converged} after {perceptron.epochs_run} epochs, "
        f"accuracy {perceptron_accuracy:.2f}" + (" (ConvergenceWarning)" if caught else "")
    )

    # The article's network: 2 inputs -> 3 tanh units -> 1 tanh output, mean squared error.
    net = (
        gn.Network(epochs=args.epochs, learning_rate=args.learning_rate, batch_size=1, seed=args.seed, verbose=0)
        .add(gn.Dense(2, 3))
        .add(gn.Tanh())
        .add(gn.Dense(3, 1))
        .add(gn.Tanh())
        .use(gn.losses.mse, gn.losses.mse_prime)
    )
    net.fit(x, y)
    out = net.predict(x)
    for inputs, value in zip(x, out[:, 0], strict=True):
        print(f"  {inputs.astype(int)} -> {value:+.3f}")
    accuracy = gn.metrics.accuracy(y, out)  # one output column: a score above 0.5 means 1
    print(f"network: final loss {net.history['loss'][-1]:.4f}, accuracy {accuracy:.2f}")
    return accuracy


if __name__ == "__main__":
    main()
