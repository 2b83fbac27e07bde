"""Training beside another program: one epoch of each benchmark model quiet, then beside a NumPy matmul job.

    python benchmarks/contention.py [--models M1,M2,M3] [--images 60000] [--threads 2]

For each model and framework (glassnet with its default threads="auto", glassnet with a fixed
--threads count, PyTorch with --threads), a fresh run_one.py process trains one epoch on a quiet
machine, then again while another process multiplies 2000x2000 matrices with its default BLAS
threads. Prints the seconds and the slow-down of each; the issue's target: glassnet's slow-down
at most 2.5x for every model (a fair share of 2 cores is about 2x) and never above PyTorch's.
Only meaningful on an otherwise quiet machine: the load average is printed with the table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import benchlib

BENCH = Path(__file__).resolve().parent
HOG = "import numpy as np\na = np.random.rand(2000, 2000)\nwhile True:\n    a @ a\n"


def one_epoch(framework: str, model: str, images: int, threads: int, gn_threads: str) -> float:
    """Seconds of one training epoch in a fresh process."""
    command = [sys.executable, str(BENCH / "run_one.py"), "--framework", framework, "--model", model]
    command += ["--images", str(images), "--test-images", "1000", "--threads", str(threads)]
    if framework == "glassnet":
        command += ["--gn-threads", gn_threads]
    result = subprocess.run(command, capture_output=True, text=True, env=benchlib.child_env(threads), check=True)
    return float(json.loads(result.stdout.strip().splitlines()[-1])["train_seconds"])


def beside_a_matmul_job(run: Callable[[], float]) -> float:
    """run() while another process multiplies matrices with NumPy's default threads."""
    env = {key: value for key, value in os.environ.items() if key not in benchlib.THREAD_ENV_VARS}
    hog = subprocess.Popen([sys.executable, "-c", HOG], env=env)
    try:
        time.sleep(1.0)  # let it start multiplying
        return run()
    finally:
        hog.kill()
        hog.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="M1,M2,M3")
    parser.add_argument("--images", type=int, default=60000)
    parser.add_argument("--threads", type=int, default=2, help="the cap for every framework (default 2)")
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args()
    variants = [("glassnet", "auto"), ("glassnet", str(args.threads))] + ([] if args.no_torch else [("torch", "")])
    rows = []
    for model in args.models.split(","):
        for framework, gn_threads in variants:

            def run(framework: str = framework, gn_threads: str = gn_threads, model: str = model) -> float:
                return one_epoch(framework, model, args.images, args.threads, gn_threads)

            quiet = run()
            busy = beside_a_matmul_job(run)
            name = framework + (f" threads={gn_threads}" if gn_threads else f" threads={args.threads}")
            rows.append([model, name, benchlib.fmt(quiet), benchlib.fmt(busy), f"{busy / quiet:.1f}x"])
            print(" | ".join(rows[-1]), file=sys.stderr, flush=True)
    print(
        f"{args.images} images per epoch, cap {args.threads} threads; load average {os.getloadavg()[0]:.2f} at the end"
    )
    print(benchlib.markdown_table(["model", "framework", "quiet (s)", "beside matmul (s)", "slow-down"], rows))


if __name__ == "__main__":
    main()
