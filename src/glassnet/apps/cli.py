"""The `glassnet` command: train, evaluate, predict, summary, models, serve, report, export, doctor, reproduce."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from glassnet import __version__
from glassnet.apps.data import DATASETS, class_names, expand, load_data, read_images, relabel
from glassnet.apps.diagnose import add_commands
from glassnet.apps.epochs import load_run
from glassnet.apps.export import ExportTarget, export_model
from glassnet.apps.model_entry import INPUT_SHAPE, VALIDATION_SPLIT
from glassnet.apps.plotting import (
    check_plot_path,
    confusion_figure,
    confusion_matrix,
    format_confusion,
    save_figure,
)
from glassnet.apps.pretrained import HELP as PRETRAINED_HELP
from glassnet.apps.pretrained import resolve, split_model_and_images
from glassnet.apps.report import write_report
from glassnet.apps.serve import serve
from glassnet.apps.train import INTERRUPTED, train_command
from glassnet.apps.zoo import DEFAULT_MODEL, describe_models
from glassnet.errors import GlassnetError, InputError
from glassnet.io.files import check_distinct, check_output
from glassnet.io.limits import DEFAULT_LIMITS, check_network_size, forward_elements
from glassnet.metrics import to_labels
from glassnet.network.network import Network
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


def evaluate_command(args: argparse.Namespace) -> int:
    """glassnet evaluate: test accuracy, per-class accuracy and the confusion matrix."""
    if args.plot:
        check_plot_path(args.plot)
        check_distinct({"--plot": args.plot}, {"MODEL": args.model})
    net = _load_classifier(args.model)
    source = args.data or args.dataset
    color = "rgb" if _input_shape(net)[-1] == 3 else "gray"
    data = load_data(source, color, quiet=True)
    title, classes = data.title, class_names(net, source)
    x_test, y_test = data.test
    if data.folder:
        y_test = relabel(y_test, data.class_names, classes, source)
    batch = _batch_size(net)
    scores = net.evaluate(x_test, y_test, batch_size=batch)
    matrix = confusion_matrix(y_test, to_labels(net.predict(x_test, batch_size=batch)), len(classes))
    kind = "" if data.folder else " test"
    print(f"Accuracy {scores['accuracy']:.2%} (loss {scores['loss']:.4f}) on {len(x_test)} {title}{kind} images\n")
    print(format_confusion(matrix, classes))
    if args.plot:
        save_figure(confusion_figure(matrix, classes, title=f"{Path(args.model).name} on {title}"), args.plot)
        print(f"\nSaved the confusion matrix to {args.plot}")
    return 0


def predict_command(args: argparse.Namespace) -> int:
    """glassnet predict: each image (or every image in a folder) read as the model was trained, its class, the top 3."""
    net = _load_classifier(args.model)
    paths = expand(args.images)
    outputs = net.predict(read_images(paths, net), batch_size=_batch_size(net))
    names = class_names(net)
    is_probability = bool(np.all(outputs >= 0) and np.allclose(outputs.sum(axis=1), 1, atol=1e-3))
    for path, row in zip(paths, outputs, strict=True):
        best = np.argsort(-row, kind="stable")[:3]
        if args.json:
            scores = {names[k]: round(float(row[k]), 6) for k in range(len(row))}
            key = "probabilities" if is_probability else "scores"
            print(json.dumps({"file": path, "class": names[best[0]], key: scores}), flush=True)
            continue
        shown = ", ".join(f"{names[k]}: {row[k]:.1%}" if is_probability else f"{names[k]}: {row[k]:.3f}" for k in best)
        print(f"{path}: {names[best[0]]}  (top 3 {'probabilities' if is_probability else 'scores'}: {shown})")
    return 0


def _load_classifier(model: str) -> Network:
    """A model file's network, checked to take 28x28x1 images within the size limits and give class scores.

    Args:
        model: the model file.
    """
    return _check_classifier(Network.load(model), model)


def _check_classifier(net: Network, model: str) -> Network:
    """net, checked to take 28x28x1 images within the size limits and give class scores.

    Args:
        net: the loaded network.
        model: the file it came from, for messages.
    """
    shape = _input_shape(net)
    try:
        check_network_size(net.layers, shape, DEFAULT_LIMITS, model)
        shapes = net.layer_shapes(shape)
    except ValueError as error:
        raise InputError(f"{model}: the model cannot read {'x'.join(map(str, shape))} images: {error}") from None
    if not shapes or shapes[-1] is None or len(shapes[-1]) != 1:
        got = "nothing" if not shapes or shapes[-1] is None else f"(N, {', '.join(map(str, shapes[-1]))})"
        raise InputError(
            f"{model}: the model gives {got} for an image; evaluate, predict and report need one score per "
            "class, (N, classes): end the network with Flatten() and a Dense layer"
        )
    return net


def _batch_size(net: Network) -> int:
    """Images per forward pass such that a batch holds at most the limit of values one image may need."""
    return max(1, min(256, DEFAULT_LIMITS.activations // forward_elements(net.layers, _input_shape(net))))


def _input_shape(net: Network) -> tuple[int, ...]:
    """The image shape the model was trained on when it is 28x28 with 1 or 3 channels, else MNIST's."""
    shape = net.input_shape
    return shape if shape is not None and len(shape) == 3 and shape[:2] == INPUT_SHAPE[:2] else INPUT_SHAPE


def models_command(args: argparse.Namespace) -> int:
    """glassnet models: the registry, one architecture a line."""
    print(describe_models())
    return 0


def summary_command(args: argparse.Namespace) -> int:
    """glassnet summary: the model's layer table."""
    net = Network.load(args.model)
    print(net.summary())
    return 0


def serve_command(args: argparse.Namespace) -> int:
    """glassnet serve: the drawing page on a local web server, until Ctrl-C."""
    serve(args.model, args.host, args.port, args.verbose)
    return 0


def report_command(args: argparse.Namespace) -> int:
    """glassnet report: one HTML page with curves, test accuracy, mistakes, filters and activations."""
    check_output(args.out, "report")
    check_distinct({"--out": args.out}, {"MODEL": args.model})
    net, epochs = load_run(args.model)
    _check_classifier(net, args.model)
    data = load_data(args.dataset, quiet=True)
    title, classes = data.title, class_names(net, args.dataset)
    x_test, y_test = data.test
    name = f"{Path(args.model).name} on {title}"
    path = write_report(net, args.out, x_test, y_test, classes, name, _batch_size(net), epochs)
    print(f"Wrote the report to {path}")
    return 0


def export_command(args: argparse.Namespace) -> int:
    """glassnet export: the model as ONNX, its class names and preprocessing in the metadata; --check runs it."""
    title, _, classes = DATASETS[args.dataset]
    target = ExportTarget(Path(args.out) if args.out else None, args.layout, title, classes)
    for line in export_model(Path(args.model), target, lambda: load_data(args.dataset, quiet=True).test[0], args.check):
        print(line, flush=True)
    return 0


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
