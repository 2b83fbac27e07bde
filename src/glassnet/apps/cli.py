"""The `glassnet` command line: the argument parser of every subcommand, and main, which runs one.

The commands themselves are in glassnet.apps.commands (evaluate, predict, summary, models, serve, report,
export), glassnet.apps.train and glassnet.apps.diagnose (doctor, reproduce).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import numpy as np

from glassnet import __version__
from glassnet.apps.commands import (
    evaluate_command,
    export_command,
    models_command,
    predict_command,
    report_command,
    serve_command,
    summary_command,
)
from glassnet.apps.data import DATASETS
from glassnet.apps.diagnose import add_commands
from glassnet.apps.model_entry import VALIDATION_SPLIT
from glassnet.apps.pretrained import HELP as PRETRAINED_HELP
from glassnet.apps.pretrained import resolve, split_model_and_images
from glassnet.apps.train import INTERRUPTED, train_command
from glassnet.apps.zoo import DEFAULT_MODEL
from glassnet.errors import GlassnetError
from glassnet.optimizers import NAMED as OPTIMIZER_NAMES

DATA_HELP = "a data set, or a folder holding one subfolder of images per class (overrides --dataset)"


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _number(kind: Callable[[str], float], minimum: float, strict: bool) -> Callable[[str], float]:
    """An argparse type: a `kind` number above (strict) or at least `minimum`."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {'an integer' if kind is int else 'a number'}, got {text!r}"
            ) from None
        if value < minimum or (strict and value == minimum) or value != value:
            raise argparse.ArgumentTypeError(f"expected a number {'>' if strict else '>='} {minimum:g}, got {text!r}")
        return value

    return parse


def _threads(text: str) -> int | str:
    """--threads: "auto" or an int >= 1."""
    if text == "auto":
        return text
    return int(_number(int, 1, False)(text))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = _Parser(prog="glassnet", description="Train, evaluate and use glassnet networks on MNIST.")
    parser.add_argument("--version", action="version", version=f"glassnet {__version__} (NumPy {np.__version__})")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    dataset: dict[str, Any] = {"choices": list(DATASETS), "default": "mnist", "help": "the data set (default: mnist)"}

    train = commands.add_parser("train", help="train a network and save it")
    train.add_argument(
        "--model",
        help=f"a registered architecture (default: {DEFAULT_MODEL}; list them with "
        "`glassnet models`) or FILE.json, a spec of layers",
    )
    train.add_argument(
        "--epochs", type=_number(int, 1, False), help="passes over the training data (total, with --resume)"
    )
    train.add_argument("--batch-size", type=_number(int, 1, False), help="images per gradient step")
    train.add_argument("--lr", type=_number(float, 0, True), help="learning rate")
    train.add_argument("--optimizer", choices=list(OPTIMIZER_NAMES), help="the optimizer")
    train.add_argument(
        "--schedule",
        metavar="NAME[:KEY=VALUE,...]",
        help="learning-rate schedule from --lr: constant, step, exponential, cosine, onecycle, with options, "
        "e.g. onecycle, cosine:warmup=100, step:gamma=0.5 (default: the model's)",
    )
    train.add_argument(
        "--threads",
        type=_threads,
        default="auto",
        help='BLAS threads: a number, or "auto" (the default): timed on the first batches, and again when '
        "the steps slow down, e.g. because another program computes on the same cores",
    )
    train.add_argument("--seed", type=_number(int, 0, False), default=0, help="random seed (default: 0)")
    train.add_argument("--limit", type=_number(int, 1, False), help="train on the first N training images only")
    train.add_argument(
        "--validation-split",
        type=_number(float, 0, False),
        help=f"fraction of the training images held out for validation (default: the model's, mostly "
        f"{VALIDATION_SPLIT}; 0: none)",
    )
    train.add_argument(
        "--out",
        help="save the model exactly there, checkpoint included (default: a new run folder runs/MODEL-N/; "
        "with --resume: the checkpoint)",
    )
    train.add_argument("--runs", default="runs", help="the folder of run folders (default: ./runs)")
    train.add_argument("--plot", help="write the training curves to this image file (.png, .svg, .pdf)")
    train.add_argument("--resume", metavar="PATH", help="continue training a checkpoint (saved after every epoch)")
    train.add_argument("--dataset", **dataset)
    train.add_argument("--data", metavar="mnist|fashion-mnist|DIR", help=DATA_HELP)
    train.add_argument("--color", choices=["gray", "rgb"], default="gray", help="images of --data DIR (default: gray)")
    train.add_argument("--quiet", action="store_true", help="print only the final results")
    train.add_argument(
        "--keep-epochs",
        action="store_true",
        help="also keep the model after every epoch in OUT-epochs/ (for serve's epoch slider and the report)",
    )
    train.add_argument(
        "--distributed",
        action="store_true",
        help="data-parallel over MPI: run as `mpiexec -n K glassnet train --distributed`",
    )
    train.set_defaults(run=train_command)

    evaluate = commands.add_parser("evaluate", help="accuracy, per-class accuracy and confusion matrix on the test set")
    evaluate.add_argument("model", metavar="MODEL", nargs="?", help=PRETRAINED_HELP)
    evaluate.add_argument("--dataset", **dataset)
    evaluate.add_argument("--data", metavar="mnist|fashion-mnist|DIR", help=DATA_HELP)
    evaluate.add_argument("--plot", help="write the confusion matrix to this image file")
    evaluate.set_defaults(run=evaluate_command)

    predict = commands.add_parser("predict", help="the digit in each image (PNG, JPEG or .npy)")
    predict.add_argument("model", metavar="MODEL", nargs="?", help=f"{PRETRAINED_HELP}; a .npz file")
    predict.add_argument(
        "images", metavar="IMAGE", nargs="+", help="a picture (any size and colours), or a folder of pictures"
    )
    predict.add_argument(
        "--json", action="store_true", help="one JSON object per image: file, class, probabilities (or scores)"
    )
    predict.set_defaults(run=predict_command)

    summary = commands.add_parser("summary", help="the layers of a saved model")
    summary.add_argument("model", metavar="MODEL", nargs="?", help=PRETRAINED_HELP)
    summary.set_defaults(run=summary_command)

    models = commands.add_parser("models", help="list the registered architectures and their defaults")
    models.set_defaults(run=models_command)

    web = commands.add_parser("serve", help="a local web page: draw a digit, see the prediction and every layer")
    web.add_argument("model", metavar="MODEL", nargs="?", help=f"{PRETRAINED_HELP}, or its folder of epoch snapshots")
    web.add_argument(
        "--port", type=_number(int, 0, False), default=8000, help="TCP port (default: 8000; 0: any free one)"
    )
    web.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    web.add_argument("--verbose", action="store_true", help="log every request")
    web.set_defaults(run=serve_command)

    export = commands.add_parser("export", help="write a model as an ONNX file for onnxruntime and other runtimes")
    export.add_argument("model", metavar="MODEL", nargs="?", help=PRETRAINED_HELP)
    export.add_argument("--format", choices=["onnx"], default="onnx", help="the format (default: onnx)")
    export.add_argument("--out", help="the file to write (default: MODEL with the suffix .onnx)")
    export.add_argument(
        "--layout",
        choices=["nhwc", "nchw"],
        default="nhwc",
        help="image layout of the graph's input (default: nhwc, glassnet's; nchw is ONNX's and PyTorch's)",
    )
    export.add_argument("--dataset", **{**dataset, "help": "the data set, for the class names (default: mnist)"})
    export.add_argument(
        "--check", action="store_true", help="run the file in onnxruntime and report the largest difference"
    )
    export.set_defaults(run=export_command)

    report = commands.add_parser("report", help="a self-contained HTML report: curves, accuracy, mistakes, layers")
    report.add_argument(
        "model", metavar="MODEL", nargs="?", help=f"{PRETRAINED_HELP} (with its -epochs/ folder), or that folder"
    )
    report.add_argument("--out", default="report.html", help="the HTML file to write (default: report.html)")
    report.add_argument("--dataset", **dataset)
    report.set_defaults(run=report_command)
    add_commands(commands, dataset)
    return parser


def _one_line(error: BaseException) -> str:
    """The error as one line: 'path: reason' for OS errors, the message otherwise."""
    if isinstance(error, OSError) and error.strerror and error.filename is not None:
        message = f"{error.filename}: {error.strerror}"
    else:
        message = str(error) or type(error).__name__
    return " ".join(part.strip() for part in message.splitlines() if part.strip())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the glassnet command; returns the exit status. Args: argv: the arguments (default sys.argv[1:])."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "predict":
            args.model, args.images = split_model_and_images(args.model, args.images)
        elif args.command != "train" and "model" in args:
            args.model = resolve(args.model)
        status: int = args.run(args)
        return status
    except BrokenPipeError:  # the reader went away (`glassnet evaluate m.npz | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (GlassnetError, ValueError, TypeError, OSError) as error:
        print(f"glassnet: error: {_one_line(error)}", file=sys.stderr)
        return 1
    except MemoryError:
        print(
            f"glassnet: error: {args.command} ran out of memory: use a smaller model, batch or input", file=sys.stderr
        )
        return 1
    except RecursionError:
        print(f"glassnet: error: {args.command} met input nested too deeply to process", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nglassnet: interrupted", file=sys.stderr)
        return INTERRUPTED
