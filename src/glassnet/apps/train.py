"""glassnet train: build or resume a network, train it on a data set or a folder, save it (and its run folder)."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from glassnet.apps.data import DATASETS, load_data
from glassnet.apps.epochs import epochs_folder, keep_epochs
from glassnet.apps.model_entry import VALIDATION_SPLIT
from glassnet.apps.plotting import (
    check_plot_path,
    save_figure,
    training_curves,
)
from glassnet.apps.runs import RunFolder
from glassnet.apps.zoo import DEFAULT_MODEL, get_model
from glassnet.errors import InputError
from glassnet.io.files import check_distinct, check_output
from glassnet.layers.maxpool2x2 import warm_up_in_background
from glassnet.network.distributed import rank
from glassnet.network.hooks import EpochFunction
from glassnet.network.network import Network
from glassnet.threads import set_threads

INTERRUPTED = 130  # the shell's exit status for Ctrl-C


def train_command(args: argparse.Namespace) -> int:
    """glassnet train: build or resume, fit with a checkpoint per epoch, test, save, plot."""
    if args.resume and args.model:
        raise InputError("--resume continues the checkpoint's own model: drop --model")
    if args.validation_split is None:  # the model's own: a recipe may train on every image
        args.validation_split = (
            VALIDATION_SPLIT if args.resume else get_model(args.model or DEFAULT_MODEL).validation_split
        )
    if args.validation_split >= 1:
        raise InputError(f"--validation-split must be below 1, got {args.validation_split}")
    if args.plot:
        check_plot_path(args.plot)
    spec = args.model if args.model and args.model.lower().endswith(".json") else None
    check_distinct({"--out": args.out, "--plot": args.plot}, {"--model": spec})
    check_distinct({"--plot": args.plot}, {"--resume": args.resume})
    root = rank() == 0 if args.distributed else True
    set_threads(args.threads)
    args.quiet = args.quiet or not root  # only rank 0 talks and saves
    options = {
        "epochs": args.epochs,
        "learning_rate": args.lr,
        "batch_size": args.batch_size,
        "optimizer": args.optimizer,
        "limit": args.limit,
        "schedule": args.schedule,
    }
    verbose = 0 if args.quiet else 1
    source = args.data or args.dataset
    split = args.validation_split if source in DATASETS else 0.0  # a folder's held-out part is its test set
    warming = warm_up_in_background()  # numba's one-time load, on the other core while the data loads
    data = load_data(source, args.color, args.validation_split, args.seed, args.quiet)
    if args.resume:
        net = Network.load(args.resume)
        net.verbose = verbose
        name, limit, epochs = Path(args.resume).stem, args.limit, args.epochs or net.epochs
        out: Path | None = Path(args.out or args.resume)
        if args.optimizer:
            raise InputError("--resume keeps the checkpoint's optimizer: drop --optimizer")
        if args.schedule:
            raise InputError("--resume continues the checkpoint's learning-rate schedule: drop --schedule")
    else:
        entry = get_model(args.model or DEFAULT_MODEL).with_options(**options)
        channels, classes = data.train[0].shape[-1], len(data.class_names)
        net = entry.build(seed=args.seed, verbose=verbose, channels=channels, classes=classes)
        name, limit, epochs = entry.name, entry.limit, entry.epochs
        default = f"glassnet-{entry.name}.npz" if args.distributed else None  # ranks cannot agree on a run number
        chosen = args.out or default
        out = Path(chosen) if chosen else None
    if net.class_names is not None and net.class_names != data.class_names:
        raise InputError(f"{args.resume} was trained on the classes {net.class_names}, --data has {data.class_names}")
    net.class_names = data.class_names
    if out is not None:
        check_output(out, "model")
    done = len(net.history["loss"])
    if done >= epochs:
        raise InputError(f"{args.resume} already has {done} epochs: pass --epochs above {done} to train more")
    (x_train, y_train), (x_test, y_test) = data.train, data.test
    x_train, y_train = x_train[:limit], y_train[:limit]
    title, tested = data.title, "held-out" if data.folder else "test"
    if not args.quiet:
        held = int(len(x_train) * split)
        plan = f"{epochs} epoch{'s' * (epochs != 1)}" + (f", resuming after epoch {done}" if done else "")
        validating = f"validating on {len(x_test) if data.folder else held}" if held or data.folder else None
        print(
            f"Training {name} on {len(x_train) - held} {title} images ({validating or 'no validation split'}): {plan}, "
            f"{type(net.optimizer).__name__} lr {args.lr or net.optimizer.learning_rate:g}"
            f"{f' ({net.schedule})' if net.schedule is not None else ''}, "
            f"batch {args.batch_size or net.batch_size}",
            flush=True,
        )
    run, callbacks = None, list[EpochFunction]()
    if out is None:  # a new run without --out: its own folder runs/MODEL-N
        run = RunFolder.create(args.runs, name, _run_record(args, net, name, epochs, data.class_names))
        out, checkpoint, callbacks = run.model, run.last, [run.keep_best]
        if not args.quiet:
            print(f"Run folder: {run.path}", flush=True)
    else:
        checkpoint = out
    if args.keep_epochs:
        callbacks.append(keep_epochs(epochs_folder(out)))
    warming.join()  # "trained in" counts training, not the kernels' one-time load
    start = time.perf_counter()
    try:
        net.fit(
            x_train,
            y_train,
            epochs=epochs,
            batch_size=args.batch_size,
            learning_rate=args.lr,
            validation_split=split,
            validation_data=(x_test, y_test) if data.folder else None,
            checkpoint=checkpoint,
            resume=args.resume,
            distributed=args.distributed,
            callbacks=callbacks,
        )
    except KeyboardInterrupt:
        if run is not None:
            run.finish(net, "interrupted", seconds=round(time.perf_counter() - start, 3))
        return _interrupted(net, args, checkpoint, epochs, done)
    if not root:
        return 0
    seconds = time.perf_counter() - start
    scores = net.evaluate(x_test, y_test)
    print(
        f"{tested.capitalize()} accuracy {scores['accuracy']:.2%} (loss {scores['loss']:.4f}) on {len(x_test)} "
        f"{title} {tested} images after {_epochs(len(net.history['loss']))}, trained in {seconds:.1f}s"
    )
    net.card["evaluation"] = {  # what the model reached, for serve's page and the report
        "data": f"{title} {tested} images",
        "images": len(x_test),
        "accuracy": scores["accuracy"],
        "loss": scores["loss"],
        "seconds": round(seconds, 3),
    }
    net.save(out)
    print(f"Saved the model to {out} (try: glassnet evaluate {shlex.quote(str(out))})")
    if run is not None:
        run.finish(net, "finished", seconds=round(seconds, 3), **{f"{tested}_accuracy": scores["accuracy"]})
        print(f"Saved the run's history, best checkpoint and record in {run.path}")
    if args.plot:
        save_figure(training_curves(net.history, title=f"{name} on {title}"), args.plot)
        print(f"Saved the training curves to {args.plot}")
    return 0


def _run_record(args: argparse.Namespace, net: Network, name: str, epochs: int, classes: list[str]) -> dict[str, Any]:
    """What run.json records of a run before it starts: the command, hyper-parameters, data."""
    return {
        "command": shlex.join(["glassnet", *sys.argv[1:]]) if sys.argv[0] else None,
        "model": args.model or name,
        "hyper_parameters": {
            "epochs": epochs,
            "learning_rate": net.optimizer.learning_rate if args.lr is None else args.lr,
            "batch_size": args.batch_size or net.batch_size,
            "optimizer": type(net.optimizer).__name__,
            "seed": args.seed,
            "limit": args.limit,
            "validation_split": args.validation_split,
        },
        "data": {"source": args.data or args.dataset, "color": args.color, "classes": classes},
    }


def _epochs(count: int) -> str:
    """ "1 epoch", "2 epochs"."""
    return f"{count} epoch{'s' * (count != 1)}"


def _interrupted(net: Network, args: argparse.Namespace, out: Path, epochs: int, done: int) -> int:
    """After Ctrl-C: say what the checkpoint holds and print the command that resumes it."""
    completed = len(net.history["loss"])
    if completed == 0:
        print("\nInterrupted before the first epoch ended: nothing was saved.", file=sys.stderr)
        return INTERRUPTED
    checkpoint = out if completed > done else Path(args.resume)
    command = ["glassnet", "train", "--resume", str(checkpoint), "--epochs", str(epochs)]
    for flag, value in (
        ("--dataset", args.dataset if args.dataset != "mnist" and not args.data else None),
        ("--data", args.data),
        ("--color", args.color if args.color != "gray" else None),
        ("--limit", args.limit or (None if args.resume else get_model(args.model or DEFAULT_MODEL).limit)),
        ("--validation-split", args.validation_split if args.validation_split != VALIDATION_SPLIT else None),
        ("--plot", args.plot),
    ):
        if value is not None:
            command += [flag, str(value)]
    if args.quiet:
        command.append("--quiet")
    print(
        f"\nInterrupted: {checkpoint} holds the {completed} completed epochs. Resume with:\n  {shlex.join(command)}",
        file=sys.stderr,
    )
    return INTERRUPTED
