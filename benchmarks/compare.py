"""glassnet against PyTorch CPU (and against the article's per-sample code): one command.

    python benchmarks/compare.py [--models M1,M2,M3,article_mlp,article_cnn] [--repeats 3]
        [--warmup 1] [--threads 2] [--fast auto|off|on|both] [--images 60000]
        [--article-images 1000] [--no-torch] [--quick] [--output PATH]

Each run is a fresh `run_one.py` process (so peak memory is per framework and model). For each
model the variants alternate, round after round: glassnet, glassnet[fast], PyTorch, glassnet,
...; the first --warmup rounds are discarded; medians over the --repeats kept rounds are
reported. The float32 matrix-multiply rate is measured in the same run. Everything, including
every single run, is written as JSON to benchmarks/results/compare-<date>.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib
from benchlib import fmt, fmt_factor, markdown_table, median
from model_specs import ARTICLE_MODELS, MODELS

DEFAULT_MODELS = "M1,M2,M3,article_mlp,article_cnn"
ARTICLE_GLASSNET_BATCH = 32


@dataclass(frozen=True)
class Variant:
    """One side of a comparison: a framework, and for glassnet the [fast] switch."""

    framework: str
    fast: bool = False

    @property
    def label(self) -> str:
        if self.framework == "glassnet":
            return "glassnet[fast]" if self.fast else "glassnet"
        return {"torch": "PyTorch", "article": "article (per sample)"}[self.framework]


def percent(fraction: float | None) -> str:
    """0.123 -> '12%'; None -> 'n/a'."""
    return "n/a" if fraction is None else f"{100 * fraction:.0f}%"


def has_module(name: str) -> bool:
    """True when `name` is importable by the measurement processes."""
    benchlib.ensure_src_on_path()
    spec = importlib.util.find_spec(name)
    return spec is not None and spec.origin is not None  # not a bare namespace directory


def fast_modes(choice: str) -> list[bool]:
    """glassnet [fast] settings to run: auto = both when numba is installed, else off only."""
    if choice == "auto":
        return [False, True] if has_module("numba") else [False]
    return {"off": [False], "on": [True], "both": [False, True]}[choice]


def variants_for(model: str, args: argparse.Namespace) -> list[Variant]:
    """The alternating variants of one model."""
    out = [Variant("glassnet", fast) for fast in fast_modes(args.fast)] if args.glassnet else []
    if model in ARTICLE_MODELS:
        out.append(Variant("article"))
    elif args.torch:
        out.append(Variant("torch"))
    return out


def run_options(model: str, variant: Variant, args: argparse.Namespace) -> list[str]:
    """run_one.py's command line for one run."""
    article = model in ARTICLE_MODELS
    images = args.article_images if variant.framework == "article" else args.images
    test_images = args.article_images if variant.framework == "article" else 10000
    batch = ARTICLE_GLASSNET_BATCH if article else args.batch_size
    return [
        "--framework",
        variant.framework,
        "--model",
        model,
        "--threads",
        str(args.threads),
        "--fast",
        str(int(variant.fast)),
        "--images",
        str(images),
        "--test-images",
        str(test_images),
        "--batch-size",
        str(batch),
        "--learning-rate",
        str(args.learning_rate),
        "--seed",
        str(args.seed),
    ]


def measure_model(model: str, args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    """All rounds of one model, variants alternating; every run per variant, warm-ups flagged."""
    variants = variants_for(model, args)
    kept: dict[str, list[dict[str, Any]]] = {v.label: [] for v in variants}
    failed: set[str] = set()
    rounds = args.warmup + args.repeats
    for r in range(rounds):
        for v in variants:
            if v.label in failed:
                continue
            tag = "warm-up" if r < args.warmup else f"run {r - args.warmup + 1}/{args.repeats}"
            busy = benchlib.wait_until_idle(args.wait_idle)
            try:
                rec = benchlib.run_measurement(run_options(model, v, args), args.threads, timeout=args.timeout)
            except (benchlib.MeasurementError, OSError) as err:
                print(f"  {model:12s} {v.label:22s} FAILED: {err}", flush=True)
                failed.add(v.label)
                kept[v.label].append({"error": str(err)})
                continue
            print(
                f"  {model:12s} {v.label:22s} {tag:9s} {rec['train_seconds']:8.2f} s "
                f"({rec['images']} images)  acc {rec['test_accuracy']:.3f}  "
                f"peak {rec['peak_rss_mb']:.0f} MiB  others busy before/during: "
                f"{percent(busy)}/{percent(rec.get('others_busy_during'))}",
                flush=True,
            )
            rec["busy_before"] = busy
            rec["round"] = r
            rec["warmup"] = r < args.warmup
            kept[v.label].append(rec)
    return kept


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over one variant's runs, warm-up rounds left out."""
    ok = [r for r in runs if "error" not in r and not r.get("warmup")]
    if not ok:
        return {"runs": 0, "error": runs[0]["error"] if runs else "not run"}

    def med(key: str) -> float | None:
        return median([r.get(key) for r in ok])

    return {
        "runs": len(ok),
        "images": ok[0]["images"],
        "batch_size": ok[0]["batch_size"],
        "train_seconds": med("train_seconds"),
        "epoch_seconds_60k": med("epoch_seconds_60k"),
        "images_per_s": med("images_per_s"),
        "test_accuracy": med("test_accuracy"),
        "infer_seconds": med("infer_seconds"),
        "test_images": ok[0]["test_images"],
        "infer_images_per_s": med("infer_images_per_s"),
        "peak_rss_mb": med("peak_rss_mb"),
        "achieved_gflops": med("achieved_gflops"),
        "fast_active": ok[0].get("fast_active"),
        "busy_before_max": max((r.get("busy_before") or 0.0) for r in ok),
        "others_busy_during_max": max((r.get("others_busy_during") or 0.0) for r in ok),
    }


def add_ratios(summary: dict[str, dict[str, Any]], model: str) -> None:
    """glassnet/PyTorch time ratio, or glassnet's speed-up over the article's code."""
    base_label = "article (per sample)" if model in ARTICLE_MODELS else "PyTorch"
    base = summary.get(base_label, {})
    for label, s in summary.items():
        if not label.startswith("glassnet") or not s.get("runs") or not base.get("runs"):
            continue
        if model in ARTICLE_MODELS:
            s["speedup_vs_article"] = s["images_per_s"] / base["images_per_s"]
        else:
            s["ratio_vs_torch"] = s["epoch_seconds_60k"] / base["epoch_seconds_60k"]


def shown(label: str, s: dict[str, Any]) -> str:
    """The variant's label, flagged when the [fast] switch was asked for but is not on."""
    return label + " (not on)" if label.endswith("[fast]") and s.get("fast_active") is False else label


def model_table(results: dict[str, dict[str, dict[str, Any]]], models: list[str]) -> str:
    """The PyTorch comparison table (M1-M3)."""
    headers = [
        "model",
        "variant",
        "s/epoch",
        "images/s",
        "glassnet/PyTorch",
        "test acc",
        "infer s",
        "infer images/s",
        "peak RSS MiB",
    ]
    rows = []
    for model in models:
        for label, s in results[model].items():
            if not s.get("runs"):
                rows.append([model, label] + ["failed"] + [""] * 6)
                continue
            rows.append(
                [
                    model,
                    shown(label, s),
                    fmt(s["epoch_seconds_60k"]),
                    fmt(s["images_per_s"], ",.0f"),
                    fmt_factor(s.get("ratio_vs_torch")) if label != "PyTorch" else "1",
                    fmt(s["test_accuracy"], ".4f"),
                    fmt(s["infer_seconds"], ".3f"),
                    fmt(s["infer_images_per_s"], ",.0f"),
                    fmt(s["peak_rss_mb"], ".0f"),
                ]
            )
    return markdown_table(headers, rows)


def article_table(results: dict[str, dict[str, dict[str, Any]]], models: list[str]) -> str:
    """glassnet against the article's per-sample code."""
    headers = [
        "network",
        "implementation",
        "batch",
        "images timed",
        "images/s",
        "s per 60k epoch",
        "test acc",
        "speed-up",
    ]
    rows = []
    for model in models:
        for label, s in results[model].items():
            if not s.get("runs"):
                rows.append([model, label] + ["failed"] + [""] * 5)
                continue
            rows.append(
                [
                    model,
                    shown(label, s),
                    str(s["batch_size"]),
                    f"{s['images']:,}",
                    fmt(s["images_per_s"], ",.0f"),
                    fmt(s["epoch_seconds_60k"], ".1f"),
                    fmt(s["test_accuracy"], ".3f"),
                    fmt_factor(s.get("speedup_vs_article")) if label.startswith("glassnet") else "1",
                ]
            )
    return markdown_table(headers, rows)


def add_matmul_fractions(results: dict[str, dict[str, dict[str, Any]]], matmul: dict[str, Any] | None) -> None:
    """Each M3 variant's achieved training FLOP rate as a fraction of the matmul rate."""
    if "M3" not in results or not matmul:
        return
    for s in results["M3"].values():
        if s.get("achieved_gflops"):
            s["fraction_of_matmul"] = s["achieved_gflops"] / matmul["peak_gflops"]


def arithmetic_lines(results: dict[str, dict[str, dict[str, Any]]], matmul: dict[str, Any] | None) -> list[str]:
    """Report lines for M3's arithmetic rate (after add_matmul_fractions)."""
    if "M3" not in results or not matmul:
        return []
    lines = [
        f"M3 training arithmetic (conv/dense products only) against the "
        f"{matmul['peak_gflops']:.1f} GFLOP/s float32 matmul rate:"
    ]
    for label, s in results["M3"].items():
        if s.get("fraction_of_matmul"):
            lines.append(
                f"  {label:16s} {s['achieved_gflops']:6.1f} GFLOP/s = {100 * s['fraction_of_matmul']:.0f}% of it"
            )
    return lines


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; --quick changes only the defaults not given explicitly."""
    p = argparse.ArgumentParser(description="glassnet vs PyTorch CPU on MNIST, one epoch")
    p.add_argument("--models", default=DEFAULT_MODELS, help=f"comma list (default {DEFAULT_MODELS})")
    p.add_argument("--repeats", type=int, default=None, help="kept runs per variant (default 3)")
    p.add_argument("--warmup", type=int, default=None, help="discarded rounds (default 1)")
    p.add_argument("--threads", type=int, default=2, help="BLAS/OpenMP/torch threads, both")
    p.add_argument(
        "--fast",
        choices=("auto", "off", "on", "both"),
        default="auto",
        help="glassnet [fast] runs: auto = both if numba is installed",
    )
    p.add_argument("--images", type=int, default=None, help="training images (default 60000)")
    p.add_argument(
        "--article-images", type=int, default=1000, help="images the article's per-sample code trains and predicts on"
    )
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--learning-rate", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-torch", action="store_true", help="glassnet alone")
    p.add_argument("--no-glassnet", action="store_true", help="PyTorch / article alone")
    p.add_argument("--quick", action="store_true", help="smoke run: 10,000 images, 1 run, no warm-up round")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds per run")
    p.add_argument(
        "--wait-idle",
        type=float,
        default=30.0,
        help="before each run, wait up to this many seconds for the machine to be "
        "under 20%% busy (0: don't wait); the busy fraction is recorded",
    )
    p.add_argument(
        "--output", type=Path, default=None, help="JSON path (default benchmarks/results/compare-<date>.json)"
    )
    args = p.parse_args(argv)
    quick = args.quick
    args.repeats = args.repeats if args.repeats is not None else (1 if quick else 3)
    args.warmup = args.warmup if args.warmup is not None else (0 if quick else 1)
    args.images = args.images if args.images is not None else (10000 if quick else 60000)
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in args.models if m not in MODELS]
    if unknown:
        p.error(f"unknown model(s) {unknown}: expected some of {sorted(MODELS)}")
    args.torch = not args.no_torch and has_module("torch")
    args.glassnet = not args.no_glassnet and has_module("glassnet")
    return args


def main(argv: list[str] | None = None) -> None:
    """Measure, print the tables, write the JSON."""
    args = parse_args(argv)
    header = benchlib.environment_report()
    warning = benchlib.slow_blas_env_warning()
    if warning:
        print(warning)
    if not args.torch:
        print("PyTorch not available (or --no-torch): reporting glassnet alone.")
    if not args.glassnet:
        print("glassnet not importable (or --no-glassnet): no glassnet runs.")
    if header.get("loadavg", [0])[0] > 0.5:
        print(
            f"note: load average {header['loadavg'][0]:.2f} before starting; other work on the machine skews timings."
        )
    print(
        f"threads={args.threads} images={args.images} repeats={args.repeats} "
        f"warmup={args.warmup} models={','.join(args.models)}",
        flush=True,
    )

    try:
        matmul = benchlib.run_measurement(
            ["--threads", str(args.threads), "--json"] + ([] if args.torch else ["--no-torch"]),
            args.threads,
            timeout=600,
            script="matmul_rate.py",
        )
        print(
            f"float32 1024^3 matmul: numpy {matmul['numpy_gflops']:.1f} GFLOP/s, "
            f"torch {fmt(matmul['torch_gflops'], '.1f')} GFLOP/s",
            flush=True,
        )
    except benchlib.MeasurementError as err:
        print(f"matmul rate FAILED: {err}")
        matmul = None

    runs: dict[str, dict[str, list[dict[str, Any]]]] = {}
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for model in args.models:
        runs[model] = measure_model(model, args)
        results[model] = {label: summarize(r) for label, r in runs[model].items()}
        add_ratios(results[model], model)

    report: list[str] = []
    torch_models = [m for m in args.models if m not in ARTICLE_MODELS]
    article_models = [m for m in args.models if m in ARTICLE_MODELS]
    if torch_models:
        report += ["", "## glassnet vs PyTorch CPU (one epoch, medians)", "", model_table(results, torch_models)]
    if article_models:
        report += [
            "",
            f"## glassnet (batch {ARTICLE_GLASSNET_BATCH}) vs the article's per-sample code",
            "",
            article_table(results, article_models),
        ]
    add_matmul_fractions(results, matmul)
    report += ["", *arithmetic_lines(results, matmul)]
    if args.images != 60000:
        report.append(f"(s/epoch extrapolated to 60,000 images from {args.images:,})")
    print("\n".join(report))

    payload = {
        "header": header,
        "settings": {k: v for k, v in vars(args).items()},
        "matmul": matmul,
        "results": results,
        "runs": runs,
    }
    path = args.output or benchlib.RESULTS_DIR / f"compare-{benchlib.timestamp()}.json"
    print(f"\nwrote {benchlib.write_json(path, payload)}")


if __name__ == "__main__":
    main()
