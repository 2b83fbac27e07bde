"""Seconds per epoch against batch size (M1, M3) and against M1's hidden width, with a plot.

    python benchmarks/scaling.py [--batch-sizes 32,64,128,256,512] [--models M1,M3]
        [--widths 128,256,512,1024,2048] [--repeats 1] [--threads 2] [--fast 0|1]
        [--images 60000] [--quick] [--no-torch] [--plot PATH] [--output PATH]

Each point is the median of --repeats fresh `run_one.py` processes per framework, glassnet and
PyTorch alternating. Prints two markdown tables (ready for benchmarks/README.md) and writes
them, the JSON and a PNG plot under benchmarks/results/ (or where --plot/--output say).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib
from benchlib import fmt, fmt_factor, markdown_table, median

Point = dict[str, Any]  # one (sweep, model, x, framework) median


def int_list(text: str) -> list[int]:
    """'32,64' -> [32, 64]."""
    return [int(v) for v in text.split(",") if v.strip()]


def measure_point(
    framework: str, model: str, batch: int, hidden: int | None, args: argparse.Namespace
) -> list[dict[str, Any]]:
    """One run of one configuration; [] (and a message) if it failed."""
    options = [
        "--framework",
        framework,
        "--model",
        model,
        "--threads",
        str(args.threads),
        "--fast",
        str(args.fast),
        "--images",
        str(args.images),
        "--test-images",
        "1000",
        "--batch-size",
        str(batch),
        "--learning-rate",
        "0.1",
        "--seed",
        "0",
    ]
    if hidden is not None:
        options += ["--hidden", str(hidden)]
    benchlib.wait_until_idle(args.wait_idle)
    try:
        record = benchlib.run_measurement(options, args.threads, timeout=args.timeout)
    except (benchlib.MeasurementError, OSError) as err:
        print(f"  FAILED {framework} {model} batch={batch} hidden={hidden}: {err}", flush=True)
        return []
    print(
        f"  {framework:8s} {model:3s} batch={batch:<4d} hidden={hidden or '-':<5} "
        f"{record['epoch_seconds_60k']:7.2f} s/epoch  others busy "
        f"{100 * (record.get('others_busy_during') or 0):.0f}%",
        flush=True,
    )
    return [record]


def sweep(name: str, model: str, xs: list[int], args: argparse.Namespace) -> list[Point]:
    """Run a sweep over batch size (name='batch') or M1 hidden width (name='width')."""
    points: list[Point] = []
    for x in xs:
        batch, hidden = (x, None) if name == "batch" else (128, x)
        runs: dict[str, list[dict[str, Any]]] = {fw: [] for fw in args.frameworks}
        for _ in range(args.repeats):
            for fw in args.frameworks:  # alternate glassnet / PyTorch
                runs[fw] += measure_point(fw, model, batch, hidden, args)
        for fw, recs in runs.items():
            points.append(
                {
                    "sweep": name,
                    "model": model,
                    "x": x,
                    "framework": fw,
                    "epoch_seconds": median([r["epoch_seconds_60k"] for r in recs]),
                    "runs": recs,
                }
            )
    return points


def lookup(points: list[Point], sweep_name: str, model: str, x: int, fw: str) -> float | None:
    """The median seconds per epoch of one point, or None."""
    for p in points:
        if (p["sweep"], p["model"], p["x"], p["framework"]) == (sweep_name, model, x, fw):
            return p["epoch_seconds"]
    return None


def table(
    points: list[Point], sweep_name: str, models: list[str], xs: list[int], frameworks: list[str], x_label: str
) -> str:
    """Markdown: one row per x, per model a column per framework and the ratio."""
    names = {"glassnet": "glassnet", "torch": "PyTorch"}
    headers = [x_label]
    for m in models:
        headers += [f"{m} {names[fw]} s" for fw in frameworks]
        if len(frameworks) == 2:
            headers.append(f"{m} glassnet/PyTorch")
    rows = []
    for x in xs:
        row = [str(x)]
        for m in models:
            values = [lookup(points, sweep_name, m, x, fw) for fw in frameworks]
            row += [fmt(v) for v in values]
            if len(frameworks) == 2:
                ratio = values[0] / values[1] if None not in values and values[1] else None
                row.append(fmt_factor(ratio))
        rows.append(row)
    return markdown_table(headers, rows, left=1)


def plot(points: list[Point], args: argparse.Namespace, path: Path) -> Path | None:
    """Three panels (M1 and M3 vs batch size, M1 vs width), log-log; None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
    except ImportError:
        print("matplotlib not installed: no plot (pip install matplotlib)")
        return None
    panels = [("batch", m, "batch size") for m in args.models] + [("width", "M1", "M1 hidden width")]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6))
    for ax, (sweep_name, model, xlabel) in zip(list(axes), panels, strict=True):
        xs = args.batch_sizes if sweep_name == "batch" else args.widths
        for fw in args.frameworks:
            ys = [lookup(points, sweep_name, model, x, fw) for x in xs]
            ax.plot(
                xs,
                [float("nan") if y is None else y for y in ys],
                marker="o",
                label="PyTorch" if fw == "torch" else "glassnet",
            )
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(xs, [str(x) for x in xs])
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(xlabel)
        ax.set_ylabel("seconds per epoch")
        ax.set_title(f"{model}, {'batch 128' if sweep_name == 'width' else 'vs batch size'}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    source = "" if args.images == 60000 else f" (extrapolated from {args.images:,})"
    fig.suptitle(
        f"seconds per epoch of 60,000 MNIST images{source}, {args.threads} threads, {benchlib.timestamp()[:10]}",
        fontsize=10,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description="seconds per epoch vs batch size and hidden width")
    p.add_argument("--batch-sizes", type=int_list, default=[32, 64, 128, 256, 512])
    p.add_argument("--models", default="M1,M3", help="models for the batch-size sweep")
    p.add_argument(
        "--widths",
        type=int_list,
        default=[128, 256, 512, 1024, 2048],
        help="M1 hidden widths (batch 128); empty string to skip",
    )
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--fast", type=int, choices=(0, 1), default=0, help="glassnet [fast] switch")
    p.add_argument("--images", type=int, default=None, help="training images (default 60000)")
    p.add_argument("--quick", action="store_true", help="smoke run: 5,000 images")
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--timeout", type=float, default=3600.0)
    p.add_argument(
        "--wait-idle", type=float, default=30.0, help="seconds to wait for an idle machine before each run (0: don't)"
    )
    p.add_argument("--plot", type=Path, default=None, help="PNG path")
    p.add_argument("--output", type=Path, default=None, help="JSON path")
    args = p.parse_args(argv)
    args.images = args.images or (5000 if args.quick else 60000)
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    has_torch = importlib.util.find_spec("torch") is not None
    args.frameworks = ["glassnet"] + (["torch"] if has_torch and not args.no_torch else [])
    return args


def main(argv: list[str] | None = None) -> None:
    """Run both sweeps, print the tables, write JSON, markdown and the plot."""
    args = parse_args(argv)
    header = benchlib.environment_report()
    warning = benchlib.slow_blas_env_warning()
    if warning:
        print(warning)
    print(
        f"threads={args.threads} images={args.images} repeats={args.repeats} frameworks={','.join(args.frameworks)}",
        flush=True,
    )
    points: list[Point] = []
    for model in args.models:
        points += sweep("batch", model, args.batch_sizes, args)
    if args.widths:
        points += sweep("width", "M1", args.widths, args)

    note = "" if args.images == 60000 else f" (extrapolated from {args.images:,} images)"
    md = [
        f"Seconds per epoch{note}, {args.threads} threads, medians of {args.repeats} run(s).",
        "",
        "### Against batch size",
        "",
        table(points, "batch", args.models, args.batch_sizes, args.frameworks, "batch"),
    ]
    if args.widths:
        md += [
            "",
            "### Against M1's hidden width (batch 128)",
            "",
            table(points, "width", ["M1"], args.widths, args.frameworks, "hidden"),
        ]
    text = "\n".join(md)
    print("\n" + text)

    stamp = benchlib.timestamp()
    out = args.output or benchlib.RESULTS_DIR / f"scaling-{stamp}.json"
    benchlib.write_json(out, {"header": header, "settings": vars(args), "points": points})
    out.with_suffix(".md").write_text(text + "\n")
    png = plot(points, args, args.plot or benchlib.RESULTS_DIR / f"scaling-{stamp}.png")
    print(f"\nwrote {out}, {out.with_suffix('.md')}" + (f", {png}" if png else ""))


if __name__ == "__main__":
    main()
