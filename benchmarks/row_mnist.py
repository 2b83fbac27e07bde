"""Row-by-row MNIST: each image read as 28 time steps of 28 pixels by LSTM(28, 128) and a Dense head.

    python benchmarks/row_mnist.py [--epochs 8] [--final-epochs 2] [--limit N] [--threads 2] [--no-torch]

glassnet and PyTorch's nn.LSTM train the same model (Adam, learning rate 1e-3, then 1e-4 for
the `--final-epochs`, batch 128, float32, softmax cross-entropy from the logits), one epoch
each in turn, in the same process and on the same thread count, so that a change in the
machine's load hits both alike. It prints each epoch's seconds and test accuracy for both, the
median seconds per epoch and the load (`uptime`) before and after. Initialisations differ
(each framework's default).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time

import numpy as np
from benchlib import ensure_src_on_path, limit_threads

ensure_src_on_path()


def load(limit: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST as sequences (N, 28 rows, 28 pixels), float32 in [0, 1], and int64 labels."""
    import glassnet as gn

    (x_train, y_train), (x_test, y_test) = gn.datasets.load_mnist()
    if limit is not None:
        x_train, y_train, x_test, y_test = x_train[:limit], y_train[:limit], x_test[:limit], y_test[:limit]
    return x_train[..., 0], y_train, x_test[..., 0], y_test  # (N, 28, 28): the channel axis dropped


def glassnet_model(seed: int):  # type: ignore[no-untyped-def]
    import glassnet as gn

    return (
        gn.Network(batch_size=128, optimizer=gn.optimizers.Adam(1e-3), seed=seed, verbose=0)
        .add(gn.LSTM(28, 128))
        .add(gn.Dense(128, 10))
        .add(gn.Softmax())
        .use("cross_entropy")
    )


class TorchRunner:
    """nn.LSTM(28, 128) and nn.Linear(128, 10) trained with Adam, one epoch per call."""

    def __init__(self, seed: int, threads: int) -> None:
        import torch

        torch.set_num_threads(threads)
        torch.manual_seed(seed)
        self.torch = torch
        self.lstm = torch.nn.LSTM(28, 128, batch_first=True)
        self.head = torch.nn.Linear(128, 10)
        params = [*self.lstm.parameters(), *self.head.parameters()]
        self.optimizer = torch.optim.Adam(params, lr=1e-3)
        self.generator = torch.Generator().manual_seed(seed)

    def set_learning_rate(self, rate: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = rate

    def logits(self, x):  # type: ignore[no-untyped-def]
        out, _ = self.lstm(x)
        return self.head(out[:, -1])

    def epoch(self, x: np.ndarray, y: np.ndarray) -> float:
        torch = self.torch
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        start = time.perf_counter()
        order = torch.randperm(len(xt), generator=self.generator)
        for i in range(0, len(xt), 128):
            batch = order[i : i + 128]
            loss = torch.nn.functional.cross_entropy(self.logits(xt[batch]), yt[batch])
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
        return time.perf_counter() - start

    def accuracy(self, x: np.ndarray, y: np.ndarray) -> float:
        with self.torch.no_grad():
            predicted = np.concatenate(
                [self.logits(self.torch.from_numpy(x[i : i + 1000])).argmax(1).numpy() for i in range(0, len(x), 1000)]
            )
        return float(np.mean(predicted == y))


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=8, help="epochs at learning rate 1e-3 (default 8)")
    parser.add_argument("--final-epochs", type=int, default=2, help="then epochs at 1e-4 (default 2)")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N train and test images")
    parser.add_argument(
        "--threads", type=int, default=2, help="BLAS and torch threads (default 2; 1 on a busy machine)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-torch", action="store_true", help="time glassnet alone")
    args = parser.parse_args(argv)
    import glassnet as gn

    x_train, y_train, x_test, y_test = load(args.limit)
    net = glassnet_model(args.seed)
    runner = None
    if not args.no_torch:
        try:
            runner = TorchRunner(args.seed, args.threads)
        except ImportError:
            print("PyTorch is not installed: timing glassnet alone")
    limiter = limit_threads(args.threads)  # every BLAS pool and torch's, kept for the whole run
    print(f"load before: {uptime()}")
    ours, theirs, accuracy = [], [], 0.0
    total = args.epochs + args.final_epochs
    for epoch in range(1, total + 1):
        if epoch == args.epochs + 1:  # settle: a tenth of the learning rate, in both frameworks
            net.optimizer.learning_rate = 1e-4
            if runner is not None:
                runner.set_learning_rate(1e-4)
        start = time.perf_counter()
        net.fit(x_train, y_train, epochs=1, verbose=0)
        ours.append(time.perf_counter() - start)
        accuracy = gn.metrics.accuracy(y_test, net.predict(x_test))
        line = f"epoch {epoch}: glassnet {ours[-1]:6.1f} s, test accuracy {accuracy:.4f}"
        if runner is not None:
            theirs.append(runner.epoch(x_train, y_train))
            line += f" | torch {theirs[-1]:6.1f} s, test accuracy {runner.accuracy(x_test, y_test):.4f}"
        print(line, flush=True)
    print(f"load after: {uptime()}")
    summary = f"median seconds per epoch: glassnet {statistics.median(ours):.1f}"
    if theirs:
        ratio = statistics.median(ours) / statistics.median(theirs)
        summary += f", torch {statistics.median(theirs):.1f} (glassnet / torch = {ratio:.2f})"
    print(summary)
    print(f"glassnet test accuracy {accuracy:.4f} on {len(x_test)} images after {total} epochs")
    del limiter
    return accuracy


if __name__ == "__main__":
    main()
