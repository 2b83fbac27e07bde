"""A LeNet-like convolutional network: over 99% on MNIST's test set in 4 epochs.

    python examples/mnist_cnn.py [--limit N] [--epochs 3] [--final-epochs 1] [--learning-rate 0.05]

It trains --epochs epochs at --learning-rate, then --final-epochs more at a learning rate 5 times
smaller, which settle the weights into the minimum instead of bouncing around it.
--limit N trains on the first N training images and tests on the first N test images.
"""

from __future__ import annotations

import argparse

import glassnet as gn


def build(seed: int, epochs: int, learning_rate: float, batch_size: int) -> gn.Network:
    """Two convolution + pooling blocks, then a small fully-connected classifier."""
    return (
        gn.Network(
            epochs=epochs,
            learning_rate=learning_rate,
            batch_size=batch_size,
            optimizer="momentum",
            seed=seed,
            verbose=2,
        )
        .add(gn.Conv2D(1, 32, kernel_size=3))  # (N, 28, 28, 1) -> (N, 26, 26, 32)
        .add(gn.ReLU())
        .add(gn.MaxPool2D(2))  # -> (N, 13, 13, 32)
        .add(gn.Conv2D(32, 64, kernel_size=3))  # -> (N, 11, 11, 64)
        .add(gn.ReLU())
        .add(gn.MaxPool2D(2))  # -> (N, 5, 5, 64)
        .add(gn.Flatten())  # -> (N, 1600)
        .add(gn.Dense(1600, 128))
        .add(gn.ReLU())
        .add(gn.Dense(128, 10))
        .add(gn.Softmax())
        .use("cross_entropy")
    )


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N train and test images")
    parser.add_argument("--epochs", type=int, default=3, help="passes over the training images (default 3)")
    parser.add_argument("--final-epochs", type=int, default=1, help="more at learning rate / 5 (default 1)")
    parser.add_argument("--learning-rate", type=float, default=0.05, help="SGD step, momentum 0.9 (default 0.05)")
    parser.add_argument("--batch-size", type=int, default=64, help="images per step (default 64)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and shuffling (default 0)")
    args = parser.parse_args(argv)

    (x_train, y_train), (x_test, y_test) = gn.datasets.load_mnist()
    if args.limit is not None:
        x_train, y_train = x_train[: args.limit], y_train[: args.limit]
        x_test, y_test = x_test[: args.limit], y_test[: args.limit]
    net = build(args.seed, args.epochs, args.learning_rate, args.batch_size)
    print(net.summary((28, 28, 1)))
    net.fit(x_train, y_train)
    if args.final_epochs:
        net.fit(x_train, y_train, epochs=args.final_epochs, learning_rate=args.learning_rate / 5)
    accuracy = net.evaluate(x_test, y_test)["accuracy"]
    print(f"test accuracy {accuracy:.4f} on {len(x_test)} images")
    return accuracy


if __name__ == "__main__":
    main()
