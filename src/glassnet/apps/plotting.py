"""Results as tables and matplotlib Figures: the confusion matrix; training curves (from glassnet.curves)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from glassnet.curves import shown_in_notebooks
from glassnet.curves import training_curves as training_curves
from glassnet.errors import InputError, ShapeError
from glassnet.extras import import_extra
from glassnet.io.atomic import atomic_write
from glassnet.io.files import check_output

if TYPE_CHECKING:
    from matplotlib.figure import Figure

CORNER = "true \\ pred"  # the confusion table's top-left cell
MUTED = "#e4e7ec"  # the confusion figure's diagonal: right answers, not what the eye should look for


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts of each (true class, predicted class) pair.

    Args:
        y_true: true labels.
        y_pred: predicted labels.
        num_classes: C, the number of classes.

    Shapes:
        y_true, y_pred (N,) -> output int64 (C, C), rows true, columns predicted.
    """
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ShapeError(f"confusion_matrix expected two label arrays (N,), got {y_true.shape} and {y_pred.shape}")
    for labels in (y_true, y_pred):
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise InputError(
                f"confusion_matrix expected labels in 0..{num_classes - 1}, got {labels.min()}..{labels.max()}"
            )
    return np.bincount(y_true * num_classes + y_pred, minlength=num_classes**2).reshape(num_classes, num_classes)


def per_class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """The fraction of each true class predicted right (NaN for a class with no samples). Shapes: (C, C) -> (C,)."""
    totals = matrix.sum(axis=1)
    fractions: np.ndarray = np.divide(np.diag(matrix), totals, out=np.full(len(matrix), np.nan), where=totals > 0)
    return fractions


def format_confusion(matrix: np.ndarray, class_names: Sequence[str]) -> str:
    """The confusion matrix as a text table, with each true class's accuracy in the last column.

    Args:
        matrix: counts (C, C), rows true, columns predicted.
        class_names: C names for the rows and columns.
    """
    names = [str(name) for name in class_names]
    label_width = max(len(CORNER), *(len(name) for name in names))
    width = max(5, *(len(str(int(v))) for v in matrix.ravel()), *(len(name[:5]) for name in names))
    header = f"{CORNER:<{label_width}} " + " ".join(f"{name[:5]:>{width}}" for name in names) + "  accuracy"
    lines = [header]
    for name, row, acc in zip(names, matrix, per_class_accuracy(matrix), strict=True):
        shown = "-" if np.isnan(acc) else f"{acc:.4f}"
        lines.append(f"{name:<{label_width}} " + " ".join(f"{int(v):>{width}}" for v in row) + f"  {shown:>8}")
    return "\n".join(lines)


def confusion_figure(matrix: np.ndarray, class_names: Sequence[str], title: str = "") -> Figure:
    """The confusion matrix with each cell's count: mistakes coloured on a log scale, the diagonal in gray.

    A colour scale over every cell would be spent on the diagonal (hundreds right per class) and
    leave the mistakes (a few each) all the same pale colour; here only mistakes are coloured, on
    a log scale, so 1 and 30 confusions look different. Cells with no mistake stay white.

    Args:
        matrix: counts (C, C), rows true, columns predicted.
        class_names: C names for the axes.
        title: the figure's title.
    """
    figure_module = import_extra("matplotlib.figure", "plot", "plotting")
    colors = import_extra("matplotlib.colors", "plot", "plotting")
    matplotlib = import_extra("matplotlib", "plot", "plotting")
    size = len(class_names)
    figure: Figure = figure_module.Figure(figsize=(2.0 + 0.6 * size, 1.0 + 0.6 * size), layout="constrained")
    axes = figure.subplots()
    diagonal = np.eye(size, dtype=bool)
    axes.imshow(np.where(diagonal, 1.0, np.nan), cmap=colors.ListedColormap([MUTED]), vmin=0, vmax=1)
    mistakes = np.ma.masked_where(diagonal | (matrix == 0), matrix)
    top = max(int(mistakes.max()) if mistakes.count() else 1, 2)
    reds = colors.ListedColormap(matplotlib.colormaps["Reds"](np.linspace(0.2, 1.0, 256)))  # 1 visible on white
    image = axes.imshow(mistakes, cmap=reds, norm=colors.LogNorm(vmin=1, vmax=top))
    ticks = [step * 10**power for power in range(7) for step in (1, 2, 5) if step * 10**power <= top]
    figure.colorbar(image, ax=axes, label="mistakes in the cell (log scale)", ticks=ticks, format="%d")
    for (row, col), count in np.ndenumerate(matrix):
        if row == col or count:
            dark = row != col and np.log(count) > 0.6 * np.log(top)
            colour = "#475467" if row == col else ("white" if dark else "black")
            axes.text(col, row, str(count), ha="center", va="center", fontsize=8, color=colour)
    names = [str(name) for name in class_names]
    axes.set_xticks(range(size), names, rotation=45 if any(len(name) > 2 for name in names) else 0)
    axes.set_yticks(range(size), names)
    axes.set(xlabel="predicted", ylabel="true", title=title or "confusion matrix (gray: right)")
    return shown_in_notebooks(figure)


def check_plot_path(path: str | os.PathLike[str]) -> None:
    """Fail before any work when a plot cannot be written: no matplotlib, unknown format, no folder.

    Args:
        path: the image file to be written.
    """
    backend_bases = import_extra("matplotlib.backend_bases", "plot", "plotting")
    formats = backend_bases.FigureCanvasBase.get_supported_filetypes()
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in formats:
        raise InputError(
            f"cannot write a plot to {os.fspath(path)}: name a file ending in one of "
            f"{', '.join('.' + name for name in sorted(formats))}"
        )
    check_output(path, "plot")


def save_figure(figure: Figure, path: str | os.PathLike[str]) -> None:
    """Write a Figure to an image file (format from the extension, e.g. .png, .svg, .pdf).

    Args:
        figure: the Figure.
        path: where to write it, atomically (a failed plot leaves the previous file whole).
    """
    try:
        with atomic_write(path) as f:
            figure.savefig(f, dpi=120, format=Path(path).suffix.lower().lstrip(".") or None)
    except ValueError as error:  # matplotlib's message for an unknown extension
        raise InputError(f"cannot write the plot {os.fspath(path)}: {error}") from None
