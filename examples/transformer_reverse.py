"""A tiny Transformer learns to reverse (or copy) sequences of random tokens.

    python examples/transformer_reverse.py [--task reverse] [--epochs 30] [--samples 4000]

Each sample is `--length` random tokens of a vocabulary of `--vocab`; the target of step t is
token T-1-t of the input (reverse) or token t (copy). Attention is what makes reversing
possible: step t must read step T-1-t, which only a position embedding tells it. The model:
Embedding + PositionalEmbedding -> TransformerBlock (attention, LayerNorm, feed-forward, each
added back) -> LayerNorm -> TimeDense -> Softmax, trained with per-token cross-entropy. It
prints the token accuracy on fresh sequences.
"""

from __future__ import annotations

import argparse

import numpy as np

import glassnet as gn


def task(rng: np.random.Generator, samples: int, length: int, vocab: int, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Random token sequences and their targets. Shapes: x, y (samples, length) int64."""
    x = rng.integers(0, vocab, (samples, length))
    return x, (x[:, ::-1].copy() if kind == "reverse" else x.copy())


def build(vocab: int, length: int, dim: int, blocks: int, seed: int) -> gn.Network:
    net = (
        gn.Network(batch_size=64, optimizer=gn.optimizers.Adam(3e-3), seed=seed, verbose=2)
        .add(gn.Embedding(vocab, dim))
        .add(gn.PositionalEmbedding(length, dim))
    )
    for _ in range(blocks):
        net.add(gn.TransformerBlock(dim, heads=4, hidden=2 * dim))
    return net.add(gn.LayerNorm(dim)).add(gn.TimeDense(dim, vocab)).add(gn.Softmax()).use("cross_entropy")


def token_accuracy(net: gn.Network, x: np.ndarray, y: np.ndarray) -> float:
    """The fraction of output tokens that are right. Shapes: x, y (N, T)."""
    return float(np.mean(net.predict(x).argmax(axis=-1) == y))  # (N, T, vocab) -> (N, T)


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", choices=("reverse", "copy"), default="reverse")
    parser.add_argument("--epochs", type=int, default=30, help="passes over the training set (default 30)")
    parser.add_argument("--samples", type=int, default=4000, help="training sequences (default 4000)")
    parser.add_argument("--length", type=int, default=8, help="tokens per sequence (default 8)")
    parser.add_argument("--vocab", type=int, default=10, help="distinct tokens (default 10)")
    parser.add_argument("--dim", type=int, default=32, help="model width (default 32)")
    parser.add_argument("--blocks", type=int, default=1, help="Transformer blocks (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    x, y = task(rng, args.samples, args.length, args.vocab, args.task)
    x_test, y_test = task(rng, 1000, args.length, args.vocab, args.task)
    net = build(args.vocab, args.length, args.dim, args.blocks, args.seed)
    net.fit(x, y, epochs=args.epochs)
    accuracy = token_accuracy(net, x_test, y_test)
    print(f"{args.task}: example {x_test[0].tolist()} -> {net.predict(x_test[:1]).argmax(-1)[0].tolist()}")
    print(f"token accuracy {accuracy:.4f} on {len(x_test)} test sequences")
    return accuracy


if __name__ == "__main__":
    main()
