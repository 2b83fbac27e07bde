"""One measurement in this process: train one model for one epoch, then time inference.

    python benchmarks/run_one.py --framework {glassnet,torch,article} --model M3
        [--hidden 128] [--threads 2] [--fast 0|1] [--images 60000] [--test-images 10000]
        [--batch-size 128] [--learning-rate 0.1] [--seed 0] [--warmup-steps 10]
        [--infer-batch 1000]

Prints exactly one JSON line on stdout (everything else goes to stderr). compare.py and
scaling.py start one of these per run, so peak resident memory (ru_maxrss) belongs to one
framework and one model. The process warms up on a throw-away copy of the model (a few steps,
which also triggers any JIT compilation), then trains a fresh model for one timed epoch over
shuffled data, then times `predict` over the test images in batches of --infer-batch.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib
from model_specs import (
    ModelSpec,
    build_glassnet,
    build_torch,
    flattens_input,
    get_spec,
    training_flops_per_image,
)

Data = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def log(message: str) -> None:
    """Progress to stderr, keeping stdout for the JSON line."""
    print(message, file=sys.stderr, flush=True)


def select_data(mnist: Any, args: argparse.Namespace, spec: ModelSpec) -> Data:
    """Training/test subsets in the model's input layout; one-hot float32 targets for MSE."""
    (x_train, y_train), (x_test, y_test) = mnist
    x_train, y_train = x_train[: args.images], y_train[: args.images]
    x_test, y_test = x_test[: args.test_images], y_test[: args.test_images]
    if flattens_input(spec):
        x_train = x_train.reshape(len(x_train), -1)  # (N, 784)
        x_test = x_test.reshape(len(x_test), -1)  # (N, 784)
    return x_train, y_train, x_test, y_test


def targets(spec: ModelSpec, y: np.ndarray) -> np.ndarray:
    """Integer labels for cross-entropy, one-hot float32 rows for MSE."""
    return np.eye(10, dtype=np.float32)[y] if spec.loss == "mse" else y


# ---------------------------------------------------------------------------------------------
# glassnet
# ---------------------------------------------------------------------------------------------
def run_glassnet(args: argparse.Namespace, spec: ModelSpec) -> dict[str, Any]:
    """Warm up, train one epoch and time inference with glassnet."""
    benchlib.request_fast_env(bool(args.fast))
    benchlib.ensure_src_on_path()
    import glassnet as gn

    fast = benchlib.apply_fast_mode(gn, bool(args.fast))
    _limiter = benchlib.limit_threads(args.threads)
    if hasattr(gn, "set_threads"):  # fit's own choice within the --threads cap
        gn.set_threads(None if args.gn_threads == "none" else args.gn_threads)
    x, y, x_test, y_test = select_data(benchlib.load_mnist_glassnet(gn), args, spec)
    y_fit = targets(spec, y)

    def new_net() -> Any:
        return build_glassnet(gn, spec, learning_rate=args.learning_rate, batch_size=args.batch_size, seed=args.seed)

    warm = args.warmup_steps * args.batch_size
    if warm:
        new_net().fit(x[:warm], y_fit[:warm], epochs=1, shuffle=True, verbose=0)
    rss_before = benchlib.current_rss_mb()

    net = new_net()
    start = time.perf_counter()
    net.fit(x, y_fit, epochs=1, shuffle=True, verbose=0)
    train_seconds = time.perf_counter() - start

    start = time.perf_counter()
    outputs = [net.predict(x_test[i : i + args.infer_batch]) for i in range(0, len(x_test), args.infer_batch)]
    infer_seconds = time.perf_counter() - start
    history = getattr(net, "history", {}) or {}
    return {
        **fast,
        "glassnet_version": getattr(gn, "__version__", None),
        "train_seconds": train_seconds,
        "infer_seconds": infer_seconds,
        "test_accuracy": float(np.mean(np.argmax(np.concatenate(outputs), 1) == y_test)),
        "train_loss": (history.get("loss") or [None])[-1],
        "fuse_relu_pool": getattr(net, "fuse_relu_pool", None),
        "rss_before_train_mb": rss_before,
    }


# ---------------------------------------------------------------------------------------------
# PyTorch
# ---------------------------------------------------------------------------------------------
def torch_epoch(
    torch: Any,
    model: Any,
    x: Any,
    y: Any,
    batch_size: int,
    lr: float,
    loss_fn: Any,
    generator: Any,
    steps: int | None = None,
) -> None:
    """One epoch (or `steps` batches) of shuffled mini-batch SGD."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    model.train()
    order = torch.randperm(len(x), generator=generator)
    starts = range(0, len(x), batch_size)
    for step, i in enumerate(starts):
        if steps is not None and step >= steps:
            break
        idx = order[i : i + batch_size]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        optimizer.step()


def run_torch(args: argparse.Namespace, spec: ModelSpec) -> dict[str, Any]:
    """Warm up, train one epoch and time inference with PyTorch (NCHW, logits)."""
    import torch

    _limiter = benchlib.limit_threads(args.threads)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    x_np, y_np, xt_np, yt_np = select_data(benchlib.load_mnist_local(), args, spec)

    def to_tensor(a: np.ndarray) -> Any:
        t = torch.from_numpy(a)
        return t if a.ndim == 2 else t.permute(0, 3, 1, 2).contiguous()  # NHWC -> NCHW

    x, x_test = to_tensor(x_np), to_tensor(xt_np)
    y = torch.from_numpy(targets(spec, y_np))
    loss_fn = torch.nn.MSELoss() if spec.loss == "mse" else torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(args.seed)

    if args.warmup_steps:
        torch_epoch(
            torch,
            build_torch(torch, spec),
            x,
            y,
            args.batch_size,
            args.learning_rate,
            loss_fn,
            generator,
            steps=args.warmup_steps,
        )
    rss_before = benchlib.current_rss_mb()

    model = build_torch(torch, spec)
    start = time.perf_counter()
    torch_epoch(torch, model, x, y, args.batch_size, args.learning_rate, loss_fn, generator)
    train_seconds = time.perf_counter() - start

    model.eval()
    start = time.perf_counter()
    with torch.no_grad():
        outputs = [model(x_test[i : i + args.infer_batch]) for i in range(0, len(x_test), args.infer_batch)]
    infer_seconds = time.perf_counter() - start
    predicted = torch.cat(outputs).argmax(1).numpy()
    return {
        "torch_version": torch.__version__,
        "train_seconds": train_seconds,
        "infer_seconds": infer_seconds,
        "test_accuracy": float(np.mean(predicted == yt_np)),
        "rss_before_train_mb": rss_before,
    }


# ---------------------------------------------------------------------------------------------
# The article's per-sample algorithm
# ---------------------------------------------------------------------------------------------
def run_article(args: argparse.Namespace, spec: ModelSpec) -> dict[str, Any]:
    """Warm up, train one per-sample epoch over --images, and time per-sample predict."""
    import article_reference as ar

    _limiter = benchlib.limit_threads(args.threads)
    np.random.seed(args.seed)  # the article draws its weights from the global state
    (x_train, y_train), (x_test, y_test) = benchlib.load_mnist_local()
    x = ar.prepare_inputs(spec.name, x_train[: args.images])
    y = ar.one_hot(y_train[: args.images])
    x_test = ar.prepare_inputs(spec.name, x_test[: args.test_images])
    y_test = y_test[: args.test_images]

    if args.warmup_steps:
        ar.build(spec.name).fit(x[: args.warmup_steps], y[: args.warmup_steps], 1, args.learning_rate, verbose=False)
    rss_before = benchlib.current_rss_mb()

    net = ar.build(spec.name)
    start = time.perf_counter()
    errors = net.fit(x, y, 1, args.learning_rate, verbose=False)
    train_seconds = time.perf_counter() - start
    start = time.perf_counter()
    outputs = net.predict(x_test)
    infer_seconds = time.perf_counter() - start
    return {
        "train_seconds": train_seconds,
        "infer_seconds": infer_seconds,
        "test_accuracy": ar.accuracy(outputs, y_test),
        "train_loss": errors[-1],
        "rss_before_train_mb": rss_before,
        "note": "per-sample updates (batch 1), float64, as in the article",
    }


# ---------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description="one benchmark measurement, one JSON line")
    p.add_argument("--framework", choices=("glassnet", "torch", "article"), required=True)
    p.add_argument("--model", default="M1", help="M1, M2, M3, article_mlp, article_cnn")
    p.add_argument("--hidden", type=int, default=None, help="M1's hidden width (default 128)")
    p.add_argument("--threads", type=int, default=2, help="BLAS/OpenMP/torch threads")
    p.add_argument("--fast", type=int, choices=(0, 1), default=0, help="glassnet [fast] switch")
    p.add_argument(
        "--gn-threads",
        type=lambda text: text if text in ("auto", "none") else int(text),
        default="auto",
        help='glassnet\'s gn.set_threads within the --threads cap: "auto" (default), N, or "none"',
    )
    p.add_argument("--images", type=int, default=60000, help="training images in the epoch")
    p.add_argument("--test-images", type=int, default=10000)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--learning-rate", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--warmup-steps", type=int, default=10, help="steps (article: samples) on a throw-away model before timing"
    )
    p.add_argument("--infer-batch", type=int, default=1000)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Run one measurement and print its JSON line."""
    args = parse_args(argv)
    spec = get_spec(args.model, args.hidden)
    runner = {"glassnet": run_glassnet, "torch": run_torch, "article": run_article}
    log(
        f"run_one: {args.framework} {spec.name} images={args.images} "
        f"batch={args.batch_size} threads={args.threads} fast={args.fast}"
    )
    result = runner[args.framework](args, spec)

    images = min(args.images, 60000)
    flops = training_flops_per_image(spec)
    rate = images / result["train_seconds"]
    record = {
        "framework": args.framework,
        "model": spec.name,
        "description": spec.description,
        "fast": bool(args.fast) if args.framework == "glassnet" else None,
        "threads": args.threads,
        "batch_size": 1 if args.framework == "article" else args.batch_size,
        "learning_rate": args.learning_rate,
        "images": images,
        "images_per_s": rate,
        "epoch_seconds_60k": 60000 / rate,
        "test_images": min(args.test_images, 10000),
        "infer_images_per_s": min(args.test_images, 10000) / result["infer_seconds"],
        "training_flops_per_image": flops["training"],
        "achieved_gflops": flops["training"] * rate / 1e9,
        **result,
        "peak_rss_mb": benchlib.peak_rss_mb(),
        "blas": benchlib.blas_info(),
    }
    print(json.dumps(record, default=str), flush=True)


if __name__ == "__main__":
    main()
