"""`glassnet report`: one self-contained HTML page about a trained model, and its figures.

Every image is a PNG embedded as a data URI, so the file opens anywhere without a server or a
network. The figures are also usable on their own, in a notebook:

    figure = mistakes_figure(x_test, y_test, net.predict(x_test))
    figure = filters_figure(first_conv(net))                      # glassnet.apps.activations
    figure = activations_figure(layer_activations(net, x_test[0]), x_test[0])
    figure = training_curves(net.history)                         # glassnet.curves (net.plot_history())
    figure = confusion_figure(confusion_matrix(y_test, predicted, 10), DIGITS)   # glassnet.apps.plotting
"""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from glassnet.apps.activations import (
    activations_figure,
    filters_by_epoch_figure,
    filters_figure,
    first_conv,
    layer_activations,
)
from glassnet.apps.plotting import confusion_figure, confusion_matrix, per_class_accuracy
from glassnet.apps.run_summary import run_section
from glassnet.curves import shown_in_notebooks, training_curves
from glassnet.errors import InputError, ShapeError
from glassnet.extras import import_extra
from glassnet.io.atomic import atomic_write
from glassnet.io.files import check_output
from glassnet.network.loop import BATCH_POINTS_CAP
from glassnet.network.network import Network

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DIGITS = tuple("0123456789")
MISTAKES = 16  # how many of the most confident mistakes the report shows
STYLE = """
body { font-family: system-ui, sans-serif; color: #1d2330; max-width: 1100px; margin: 0 auto; padding: 16px; }
h1 { margin-bottom: 4px; } h2 { margin-top: 32px; border-bottom: 1px solid #d9dde5; padding-bottom: 4px; }
.lead { color: #667085; margin-top: 0; } .score { font-size: 1.4rem; }
img { max-width: 100%; height: auto; display: block; margin: 8px 0; }
pre { background: #f6f7f9; padding: 10px; border-radius: 6px; overflow-x: auto; font-size: 0.85rem; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
td, th { padding: 3px 10px; border-bottom: 1px solid #e5e7eb; text-align: right; }
.note { color: #667085; font-style: italic; }
table.run td { text-align: left; } table.run th { text-align: left; } code { font-size: 0.85rem; }
"""


def confident_mistakes(outputs: np.ndarray, y_true: np.ndarray, count: int = MISTAKES) -> np.ndarray:
    """Indices of the wrong predictions, most confident first.

    Args:
        outputs: the network's outputs (probabilities or scores).
        y_true: the true labels.
        count: how many to return at most.

    Shapes:
        outputs (N, C), y_true (N,) -> output (min(count, mistakes),).
    """
    predicted = outputs.argmax(axis=1)
    wrong = np.flatnonzero(predicted != y_true)
    confidence = outputs[wrong, predicted[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")[:count]]


def mistakes_figure(
    images: np.ndarray,
    y_true: np.ndarray,
    outputs: np.ndarray,
    class_names: Sequence[str] = DIGITS,
    count: int = MISTAKES,
) -> Figure:
    """The most confident mistakes, each titled with its predicted class, confidence and true class.

    Args:
        images: the inputs (N, H, W, 1) or (N, H, W).
        y_true: the true labels (N,).
        outputs: the network's outputs (N, C) for those inputs.
        class_names: C names for the titles.
        count: how many mistakes to show at most.
    """
    images, y_true, outputs = np.asarray(images), np.asarray(y_true), np.asarray(outputs)
    if not len(images) == len(y_true) == len(outputs) or outputs.ndim != 2:
        raise ShapeError(
            f"mistakes_figure expected images (N, H, W[, 1]), labels (N,) and outputs (N, C), "
            f"got {images.shape}, {y_true.shape} and {outputs.shape}"
        )
    figure_module = import_extra("matplotlib.figure", "plot", "plotting")
    indices = confident_mistakes(outputs, y_true, count)
    columns = 8
    rows = max(1, -(-len(indices) // columns))
    figure: Figure = figure_module.Figure(figsize=(1.4 * columns, 1.7 * rows + 0.4), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for ax in axes:
        ax.set_axis_off()
    for ax, index in zip(axes, indices, strict=False):
        predicted = int(outputs[index].argmax())
        ax.imshow(images[index].reshape(images.shape[1:3]), cmap="gray_r")
        ax.set_title(
            f"pred {class_names[predicted]} ({outputs[index, predicted]:.2f})\ntrue {class_names[y_true[index]]}",
            fontsize=8,
            color="#b42318",
        )
    figure.suptitle(f"the {len(indices)} most confident mistakes" if len(indices) else "no mistakes")
    return shown_in_notebooks(figure)


def figure_data_uri(figure: Figure) -> str:
    """The figure as a data:image/png;base64 URI for an <img src>.

    Args:
        figure: a matplotlib Figure.
    """
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _image(figure: Figure, alt: str) -> str:
    return f'<img src="{figure_data_uri(figure)}" alt="{html.escape(alt)}">'


def _accuracy_table(matrix: np.ndarray, class_names: Sequence[str]) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(str(name))}</th><td>{int(total):,}</td>"
        f"<td>{'-' if np.isnan(accuracy) else f'{accuracy:.2%}'}</td></tr>"
        for name, total, accuracy in zip(class_names, matrix.sum(axis=1), per_class_accuracy(matrix), strict=True)
    )
    return f"<table><tr><th>class</th><th>images</th><th>accuracy</th></tr>{rows}</table>"


def build_report(
    net: Network,
    x_test: np.ndarray,
    y_test: np.ndarray,
    class_names: Sequence[str] = DIGITS,
    title: str = "glassnet model report",
    batch_size: int = 256,
    epochs: dict[int, Network] | None = None,
) -> str:
    """The report as one HTML document with its images embedded.

    Args:
        net: a trained network giving one output per class.
        x_test: test inputs (N, ...), as the network takes them.
        y_test: their integer labels (N,).
        class_names: C names of the classes.
        title: the page's title.
        batch_size: test images per forward pass.
        epochs: the run's per-epoch snapshots (glassnet.apps.epochs): their first layer's filters
            are shown side by side.
    """
    import_extra("matplotlib.figure", "plot", "the report's plots")
    y_test = np.asarray(y_test)
    outputs = net.predict(x_test, batch_size=batch_size)
    if outputs.ndim != 2 or outputs.shape[1] != len(class_names):
        raise ShapeError(f"the report expected outputs (N, {len(class_names)}), one per class, got {outputs.shape}")
    if y_test.shape != (len(outputs),) or y_test.dtype.kind not in "iu":
        raise InputError(f"the report expected integer labels ({len(outputs)},), got {y_test.dtype} {y_test.shape}")
    predicted = outputs.argmax(axis=1)
    matrix = confusion_matrix(y_test, predicted, len(class_names))
    accuracy = float(np.mean(predicted == y_test))
    conv = first_conv(net)
    sample = np.asarray(x_test[0])
    score = (
        f'<p class="score">Test accuracy <b>{accuracy:.2%}</b> on {len(y_test):,} images '
        f"({len(y_test) - int(np.trace(matrix)):,} mistakes)</p>"
    )
    lead = (
        f'<p class="lead">Test image 0: true class {html.escape(str(class_names[y_test[0]]))}, '
        f"predicted {html.escape(str(class_names[predicted[0]]))}.</p>"
    )
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        score,
        "<h2>Layers</h2>",
        f"<pre>{html.escape(net.summary(sample.shape))}</pre>",
        "<h2>Training</h2>",
        *_curves(net.history),
        *run_section(net),
        "<h2>Accuracy per class</h2>",
        _accuracy_table(matrix, class_names),
        _image(confusion_figure(matrix, class_names), "confusion matrix"),
        '<p class="note">Confusion matrix: the count of test images in each (true, predicted) cell; the diagonal '
        "(right answers) is gray, and only mistakes are coloured, on a log scale, so that rare and common "
        "confusions both stand out.</p>",
        "<h2>Most confident mistakes</h2>",
        _image(mistakes_figure(x_test, y_test, outputs, class_names), "most confident mistakes"),
        "<h2>Learned filters of the first convolution</h2>",
        _image(filters_figure(conv), "filters")
        if conv is not None
        else '<p class="note">The model has no convolution.</p>',
        *_epoch_section(epochs),
        "<h2>Inside: every layer for one test image</h2>",
        lead,
        _image(activations_figure(layer_activations(net, sample), sample), "activations"),
    ]
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head>\n<body>\n" + "\n".join(parts) + "\n</body></html>\n"
    )


def _curves(history: dict[str, list[float]]) -> list[str]:
    """The training curves and what their points are, or a note for a model saved without a history."""
    if not history.get("loss"):
        return ['<p class="note">No training history saved with this model.</p>']
    counts = history.get("batch_points") or []
    if not counts:
        note = (
            "This model's history has no per-batch losses (saved by a glassnet before model file format 3, which "
            "records them): the curves show one point per epoch."
        )
    else:
        last = "the last " if len(counts) < len(history["loss"]) else ""
        epochs = f"{last}{len(counts)} epoch{'s' if len(counts) > 1 else ''}"
        note = (
            f"Dots: the training loss of each batch ({len(history['batch_loss']):,} points over {epochs}; an epoch "
            f"of more than {BATCH_POINTS_CAP} batches shows the means of runs of consecutive batches). Lines: the "
            "mean per epoch, training and validation."
        )
    return [_image(training_curves(history), "training curves"), f'<p class="note">{note}</p>']


def _epoch_section(epochs: dict[int, Network] | None) -> list[str]:
    """The report's "filters per epoch" part, empty without per-epoch snapshots."""
    figure = filters_by_epoch_figure(epochs) if epochs else None
    if figure is None:
        return []
    return ["<h2>The first layer's filters, epoch by epoch</h2>", _image(figure, "filters per epoch")]


def write_report(
    net: Network,
    path: str | os.PathLike[str],
    x_test: np.ndarray,
    y_test: np.ndarray,
    class_names: Sequence[str] = DIGITS,
    title: str = "glassnet model report",
    batch_size: int = 256,
    epochs: dict[int, Network] | None = None,
) -> Path:
    """Write build_report's page to path (atomically) and return the path.

    Args:
        net: a trained network.
        path: the .html file to write.
        x_test: test inputs (N, ...).
        y_test: their integer labels (N,).
        class_names: C names of the classes.
        title: the page's title.
        batch_size: test images per forward pass.
        epochs: the run's per-epoch snapshots, for the filters per epoch.
    """
    path = check_output(path, "report")
    page = build_report(net, x_test, y_test, class_names, title, batch_size, epochs)
    with atomic_write(path) as file:
        file.write(page.encode("utf-8"))
    return path
