"""The commands of `glassnet` that use a saved model: evaluate, predict, summary, models, serve, report, export.

Each takes the parsed arguments (glassnet.apps.cli.build_parser) and returns the exit status.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from glassnet.apps.data import DATASETS, class_names, expand, load_data, read_images, relabel
from glassnet.apps.epochs import load_run
from glassnet.apps.export import ExportTarget, export_model
from glassnet.apps.model_entry import INPUT_SHAPE
from glassnet.apps.plotting import (
    check_plot_path,
    confusion_figure,
    confusion_matrix,
    format_confusion,
    save_figure,
)
from glassnet.apps.report import write_report
from glassnet.apps.serve import serve
from glassnet.apps.zoo import describe_models
from glassnet.errors import InputError
from glassnet.io.files import check_distinct, check_output
from glassnet.io.limits import DEFAULT_LIMITS, check_network_size, forward_elements
from glassnet.metrics import to_labels
from glassnet.network.network import Network


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
