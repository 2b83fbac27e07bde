"""The article's MNIST network: 784-100-50-10 with tanh everywhere, one-hot targets and MSE.

    python examples/mnist_mlp.py [--limit N] [--epochs 10] [--learning-rate 0.1] [--batch-size 32]

--limit N trains on the first N training images and tests on the first N test images.
"""

from __future__ import annotations

import argparse

import glassnet as gn


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N train and test images")
    parser.add_argument("--epochs", type=int, default=10, help="passes over the training images (default 10)")
    parser.add_argument("--learning-rate", type=float, default=0.1, help="gradient-descent step (default 0.1)")
    parser.add_argument("--batch-size", type=int, default=32, help="images per step (default 32)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and shuffling (default 0)")
    args = parser.parse_args(argv)

    (x_train, y_train), (x_test, y_test) = gn.datasets.load_mnist()
    if args.limit is not None:
        x_train, y_train = x_train[: args.limit], y_train[: args.limit]
        x_test, y_test = x_test[: args.limit], y_test[: args.limit]
    # As in the article: flat rows of 784 pixels, and labels as one-hot rows (3 -> 0001000000).
    x_train, x_test = x_train.reshape(len(x_train), 784), x_test.reshape(len(x_test), 784)  # (N, 784)
    y_train_hot = gn.datasets.to_categorical(y_train, 10)  # (N, 10)

    net = (
        gn.Network(
            epochs=args.epochs, learning_rate=args.learning_rate, batch_size=args.batch_size, seed=args.seed, verbose=2
        )
        .add(gn.Dense(784, 100))
        .add(gn.Tanh())
        .add(gn.Dense(100, 50))
        .add(gn.Tanh())
        .add(gn.Dense(50, 10))
        .add(gn.Tanh())
        .use("mse")
    )
    net.fit(x_train, y_train_hot)
    accuracy = gn.metrics.accuracy(y_test, net.predict(x_test))  # the largest output is the digit
    print(f"test accuracy {accuracy:.4f} on {len(x_test)} images")
    return accuracy


if __name__ == "__main__":
    main()
