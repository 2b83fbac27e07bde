"""Data-parallel speed-up of M3 over MPI: seconds per epoch for 1 and 2 ranks, and the Allreduce cost.

Run by hand (never in CI), on a quiet machine:

    python benchmarks/distributed.py                 # 1 and 2 ranks, all 60,000 images
    python benchmarks/distributed.py --images 10000  # a quicker look

Each rank gets one BLAS thread (so K ranks use K cores); with --ranks 1 the same single thread
gives the baseline. As root, Open MPI needs OMPI_ALLOW_RUN_AS_ROOT(_CONFIRM), which this sets.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from benchlib import child_env, ensure_src_on_path, load_mnist_glassnet, markdown_table  # noqa: E402
from model_specs import M3, build_glassnet  # noqa: E402


def worker(images: int, batch_size: int, seed: int) -> None:
    """One rank: train M3 for an epoch with distributed=True, time it and the gradient Allreduce."""
    ensure_src_on_path()
    from mpi4py import MPI

    import glassnet as gn

    comm = MPI.COMM_WORLD
    (x_train, y_train), (x_test, y_test) = load_mnist_glassnet(gn)
    net = build_glassnet(gn, M3, learning_rate=0.1, batch_size=batch_size, seed=seed)
    comm.Barrier()
    start = time.perf_counter()
    net.fit(x_train[:images], y_train[:images], distributed=True, verbose=0)
    comm.Barrier()
    seconds = time.perf_counter() - start
    gradients = np.zeros(sum(p.size for p in net.parameters()), dtype=np.float32)  # one step's message
    rounds = 50
    comm.Barrier()
    tick = time.perf_counter()
    for _ in range(rounds):
        comm.Allreduce(MPI.IN_PLACE, gradients, op=MPI.SUM)
    allreduce = (time.perf_counter() - tick) / rounds
    if comm.Get_rank() == 0:
        steps = -(-images // batch_size)
        print(
            json.dumps(
                {
                    "ranks": comm.Get_size(),
                    "seconds_per_epoch": seconds * 60000 / images,
                    "test_accuracy": net.evaluate(x_test, y_test)["accuracy"],
                    "allreduce_bytes": int(gradients.nbytes),
                    "allreduce_ms": allreduce * 1e3,
                    "allreduce_share": allreduce * steps / seconds,
                }
            )
        )


def run_ranks(ranks: int, args: argparse.Namespace) -> dict[str, float]:
    """Start `ranks` workers under mpiexec and return rank 0's measurements."""
    mpiexec = shutil.which("mpiexec") or str(Path(sys.executable).parent / "mpiexec")
    env = child_env(1, {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"})
    command = [
        mpiexec,
        "-n",
        str(ranks),
        "--oversubscribe",
        "--bind-to",
        "none",
        sys.executable,
        __file__,
        "--worker",
        "--images",
        str(args.images),
        "--batch-size",
        str(args.batch_size),
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        raise SystemExit(f"mpiexec -n {ranks} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", default="1,2", help="comma-separated rank counts (default: 1,2)")
    parser.add_argument("--images", type=int, default=60000, help="training images per epoch")
    parser.add_argument("--batch-size", type=int, default=128, help="the global batch")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.images, args.batch_size, args.seed)
        return
    results = [run_ranks(int(k), args) for k in args.ranks.split(",")]
    base = results[0]["seconds_per_epoch"]
    headers = ["ranks", "s/epoch", "speed-up", "test acc", "Allreduce/step", "Allreduce share"]
    rows = [
        [
            str(r["ranks"]),
            f"{r['seconds_per_epoch']:.1f}",
            f"{base / r['seconds_per_epoch']:.2f}x",
            f"{r['test_accuracy']:.4f}",
            f"{r['allreduce_bytes'] / 1e6:.2f} MB, {r['allreduce_ms']:.2f} ms",
            f"{r['allreduce_share']:.1%}",
        ]
        for r in results
    ]
    print(
        f"M3, one epoch of {args.images} images, global batch {args.batch_size}, 1 BLAS thread per rank, "
        f"{os.cpu_count()} cores"
    )
    print(markdown_table(headers, rows))


if __name__ == "__main__":
    main()
