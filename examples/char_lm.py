"""A character-level language model: an LSTM learns to predict the next character of a text file.

    python examples/char_lm.py FILE [--epochs 20] [--length 64] [--hidden 128] [--temperature 0.8]

The text is cut into windows of `length` characters; the target of each character is the next
one. The network is Embedding -> LSTM (every step's state) -> TimeDense -> Softmax, trained with
per-character cross-entropy. It then writes `--sample` characters, one at a time, carrying the
LSTM's state from step to step and drawing each character from softmax(logits / temperature):
low temperatures pick the likeliest characters, high ones take more risks.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

import glassnet as gn


def windows(ids: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and next-character targets. Shapes: ids (L,) -> x, y (N, length), N = (L - 1) // length."""
    count = (len(ids) - 1) // length
    if count < 1:
        raise SystemExit(f"the text has {len(ids)} characters: give one longer than --length {length}")
    x = ids[: count * length].reshape(count, length)  # (N, length)
    y = ids[1 : count * length + 1].reshape(count, length)  # (N, length), shifted by one
    return x, y


def build(vocab: int, hidden: int, seed: int) -> gn.Network:
    return (
        gn.Network(batch_size=32, optimizer=gn.optimizers.Adam(3e-3), seed=seed, verbose=2)
        .add(gn.Embedding(vocab, 32))
        .add(gn.LSTM(32, hidden, return_sequences=True))
        .add(gn.TimeDense(hidden, vocab))
        .add(gn.Softmax())
        .use("cross_entropy")
    )


def sample(net: gn.Network, start: int, count: int, temperature: float, rng: np.random.Generator) -> list[int]:
    """`count` token ids after `start`, one step at a time, the LSTM's state carried along."""
    embedding, lstm, head = net.layers[0], net.layers[1], net.layers[2]
    token, state, out = start, None, []
    for _ in range(count):
        h = lstm.forward(embedding.forward(np.array([[token]])), initial_state=state)  # (1, 1, hidden)
        state = lstm.final_state
        logits = head.forward(h)[0, -1].astype(np.float64) / temperature  # the Softmax layer is skipped
        p = np.exp(logits - logits.max())
        token = int(rng.choice(len(p), p=p / p.sum()))
        out.append(token)
    return out


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path, help="a text file (UTF-8)")
    parser.add_argument("--epochs", type=int, default=20, help="passes over the text (default 20)")
    parser.add_argument("--length", type=int, default=64, help="characters per training window (default 64)")
    parser.add_argument("--hidden", type=int, default=128, help="LSTM units (default 128)")
    parser.add_argument("--temperature", type=float, default=0.8, help="sampling temperature > 0 (default 0.8)")
    parser.add_argument("--sample", type=int, default=300, help="characters to write after training (default 300)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights, shuffling and sampling")
    args = parser.parse_args(argv)
    if args.temperature <= 0:
        parser.error(f"--temperature must be > 0, got {args.temperature}")

    text = args.file.read_text(encoding="utf-8")
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    ids = np.array([index[c] for c in text], dtype=np.int64)
    x, y = windows(ids, args.length)
    print(f"{len(text)} characters, {len(chars)} distinct, {len(x)} windows of {args.length}")

    net = build(len(chars), args.hidden, args.seed)
    net.fit(x, y, epochs=args.epochs)
    uniform = math.log(len(chars))
    final = net.history["loss"][-1]
    print(f"final loss {final:.4f} per character (uniform guessing: {uniform:.4f})")

    written = sample(net, int(ids[0]), args.sample, args.temperature, np.random.default_rng(args.seed))
    print(f"sample at temperature {args.temperature}:")
    print(text[0] + "".join(chars[i] for i in written))
    return final


if __name__ == "__main__":
    main()
