"""Where a training step's time goes: each layer's forward and backward, and the rest of the step.

    python benchmarks/profile_layers.py [--model M3] [--fast 0|1] [--images 20000]
        [--batch-size 128] [--threads 2]

Wraps every layer's forward, backward (and MaxPool2D's fused forward_relu) with a timer, trains
one epoch over --images, and prints milliseconds per step for each, plus "rest of the step":
the loss, the optimizer, batch gathering, metrics and checks. Run by hand on a quiet machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib
from model_specs import build_glassnet, flattens_input, get_spec


def timed(method: Callable[..., Any], label: str, totals: dict[str, float]) -> Callable[..., Any]:
    """method, adding its wall time to totals[label] at every call."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        result = method(*args, **kwargs)
        totals[label] += time.perf_counter() - start
        return result

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="M3")
    parser.add_argument("--fast", type=int, choices=(0, 1), default=1)
    parser.add_argument("--images", type=int, default=20000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    benchlib.request_fast_env(bool(args.fast))
    benchlib.ensure_src_on_path()
    import glassnet as gn

    benchlib.apply_fast_mode(gn, bool(args.fast))
    _limiter = benchlib.limit_threads(args.threads)
    spec = get_spec(args.model)
    (x, y), _ = benchlib.load_mnist_glassnet(gn)
    x, y = x[: args.images], y[: args.images]
    if flattens_input(spec):
        x = x.reshape(len(x), -1)  # (N, 784)

    def new_net() -> Any:
        return build_glassnet(gn, spec, learning_rate=0.1, batch_size=args.batch_size, seed=0)

    new_net().fit(x[: 10 * args.batch_size], y[: 10 * args.batch_size], verbose=0)  # warm-up, JIT
    net = new_net()
    totals: dict[str, float] = defaultdict(float)
    for index, layer in enumerate(net.layers):
        for name in ("forward", "forward_relu", "backward"):
            if hasattr(layer, name):
                label = f"{index} {layer!r} {name}"
                setattr(layer, name, timed(getattr(layer, name), label, totals))
    start = time.perf_counter()
    net.fit(x, y, verbose=0)
    total = time.perf_counter() - start
    steps = -(-len(x) // args.batch_size)
    setting = f"{args.model}, fast={args.fast}, batch {args.batch_size}, {args.threads} threads"
    print(f"{setting}: {total / steps * 1e3:.2f} ms/step")
    rows = [[label, f"{seconds / steps * 1e3:.2f}"] for label, seconds in totals.items()]
    rows.append(["rest of the step", f"{(total - sum(totals.values())) / steps * 1e3:.2f}"])
    print(benchlib.markdown_table(["layer and method", "ms/step"], rows, left=1))


if __name__ == "__main__":
    main()
