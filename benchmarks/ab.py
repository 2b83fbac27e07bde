"""This checkout against another one (before and after a change), alternating, one process per run.

    python benchmarks/ab.py OTHER_CHECKOUT [--models M1,M2,M3] [--rounds 3] [--warmup 1]
        [--fast 0,1] [--threads 2] [--images 60000]

For example, to compare the working tree with the last commit:

    git worktree add /tmp/before HEAD && python benchmarks/ab.py /tmp/before

Each round runs every (model, [fast] setting) in both checkouts, this one and the other taking
turns to go first; the first --warmup rounds are discarded. Each run is the other checkout's own
benchmarks/run_one.py with its own src/ first on the path (one epoch of training, then
inference). Prints the median seconds of each and the ratio this/other.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib
from benchlib import fmt, markdown_table, median

HERE = Path(__file__).resolve().parents[1]


def measure(checkout: Path, model: str, fast: int, args: argparse.Namespace) -> dict[str, Any]:
    """One run of checkout's run_one.py for glassnet; its JSON record."""
    options = ["--framework", "glassnet", "--model", model, "--fast", str(fast), "--threads", str(args.threads)]
    options += ["--images", str(args.images)]
    env = benchlib.child_env(args.threads) | {"PYTHONPATH": str(checkout / "src")}
    command = [sys.executable, str(checkout / "benchmarks" / "run_one.py"), *options]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=3600)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise benchlib.MeasurementError(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr[-2000:]}")
    record: dict[str, Any] = json.loads(lines[-1])
    return record


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("other", type=Path, help="the other checkout (a folder with src/ and benchmarks/)")
    p.add_argument("--models", default="M1,M2,M3")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--fast", default="0,1", help="[fast] settings to run, comma list")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--images", type=int, default=60000)
    args = p.parse_args()
    checkouts = {"this": HERE, "other": args.other.resolve()}
    cases = [(model, int(fast)) for model in args.models.split(",") for fast in args.fast.split(",")]
    runs: dict[tuple[str, int, str], list[dict[str, Any]]] = {}
    for round_ in range(args.warmup + args.rounds):
        order = list(checkouts) if round_ % 2 == 0 else list(reversed(checkouts))
        for model, fast in cases:
            for name in order:
                record = measure(checkouts[name], model, fast, args)
                print(
                    f"round {round_ + 1} {model} fast={fast} {name}: train {record['train_seconds']:.2f} s", flush=True
                )
                if round_ >= args.warmup:
                    runs.setdefault((model, fast, name), []).append(record)
    rows = []
    for model, fast in cases:
        train = {name: median([r["train_seconds"] for r in runs[(model, fast, name)]]) for name in checkouts}
        infer = {name: median([r["infer_seconds"] for r in runs[(model, fast, name)]]) for name in checkouts}
        rows.append(
            [
                model,
                "on" if fast else "off",
                fmt(train["other"]),
                fmt(train["this"]),
                f"{train['this'] / train['other']:.2f}",  # type: ignore[operator]
                fmt(infer["other"]),
                fmt(infer["this"]),
            ]
        )
    header = ["model", "[fast]", "train other (s)", "train this (s)", "this/other", "infer other (s)", "infer this (s)"]
    print(markdown_table(header, rows))


if __name__ == "__main__":
    main()
