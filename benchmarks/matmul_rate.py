"""The machine's float32 matrix-multiply rate (1024 x 1024 x 1024), NumPy and PyTorch.

    python benchmarks/matmul_rate.py [--threads 2] [--size 1024] [--repeats 10] [--json]

Prints GFLOP/s (2 * n**3 FLOPs per product, best of `repeats` after a warm-up) for NumPy's BLAS
and, when installed, for PyTorch, both capped at the same thread count. compare.py runs it in
its own subprocess so the rate is measured in the same run as the training.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import limit_threads


def best_seconds(fn: Callable[[], Any], repeats: int) -> float:
    """Fastest of `repeats` timed calls of `fn`, after one untimed warm-up call."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def numpy_gflops(size: int = 1024, repeats: int = 10, seed: int = 0) -> float:
    """GFLOP/s of a float32 `size`-cubed product through NumPy's BLAS."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    out = np.empty((size, size), dtype=np.float32)
    seconds = best_seconds(lambda: np.matmul(a, b, out=out), repeats)
    return 2 * size**3 / seconds / 1e9


def torch_gflops(size: int = 1024, repeats: int = 10, seed: int = 0) -> float | None:
    """GFLOP/s of the same product through PyTorch, or None without torch."""
    try:
        import torch
    except ImportError:
        return None
    gen = torch.Generator().manual_seed(seed)
    a = torch.randn(size, size, generator=gen)
    b = torch.randn(size, size, generator=gen)
    out = torch.empty(size, size)
    seconds = best_seconds(lambda: torch.matmul(a, b, out=out), repeats)
    return 2 * size**3 / seconds / 1e9


def measure(threads: int, size: int = 1024, repeats: int = 10, with_torch: bool = True) -> dict[str, Any]:
    """Both rates at `threads` BLAS threads, as a dict ready for JSON."""
    if with_torch:
        with contextlib.suppress(ImportError):
            import torch  # noqa: F401  (imported first so limit_threads also caps it)
    _limiter = limit_threads(threads)
    result: dict[str, Any] = {"size": size, "threads": threads, "numpy_gflops": numpy_gflops(size, repeats)}
    result["torch_gflops"] = torch_gflops(size, repeats) if with_torch else None
    rates = [r for r in (result["numpy_gflops"], result["torch_gflops"]) if r]
    result["peak_gflops"] = max(rates)
    return result


def main() -> None:
    """Command line: print the rates (or one JSON line with --json)."""
    parser = argparse.ArgumentParser(description="float32 matrix-multiply rate")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--no-torch", action="store_true", help="NumPy only")
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args()
    result = measure(args.threads, args.size, args.repeats, with_torch=not args.no_torch)
    if args.json:
        print(json.dumps(result))
        return
    print(f"float32 {args.size}^3 matmul, {args.threads} thread(s):")
    print(f"  numpy  {result['numpy_gflops']:7.1f} GFLOP/s")
    if result["torch_gflops"] is not None:
        print(f"  torch  {result['torch_gflops']:7.1f} GFLOP/s")


if __name__ == "__main__":
    main()
