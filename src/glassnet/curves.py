"""Training curves: a history's loss and accuracy as a matplotlib Figure, its per-batch losses as points.

Needs only matplotlib (imported when called) and the history dict, so `Network.plot_history`
and the apps (report, `glassnet train --plot`, run folders) draw the same figure.

The figure is made without pyplot (no global state, nothing left open), and carries its own PNG
for Jupyter: a notebook shows such a figure only as text until pyplot has been imported
(ipython/ipython#12190), so `net.plot_history()` as a cell's last line would not draw.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from glassnet.errors import InputError
from glassnet.extras import import_extra

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def batch_positions(history: Mapping[str, Sequence[float]]) -> tuple[np.ndarray, np.ndarray]:
    """Where each recorded batch loss goes on the epoch axis: epoch k's n points spread over (k - 1, k].

    The epochs recorded before per-batch losses were kept (a model file older than format 3,
    continued) come first and get none.

    Args:
        history: Network.history, with batch_loss and batch_points when recorded.

    Shapes:
        output x, y (P,): P the number of batch_loss values (0 without them).
    """
    losses = np.asarray(history.get("batch_loss") or [], dtype=np.float64)
    counts = np.asarray(history.get("batch_points") or [], dtype=np.int64)
    if counts.sum() != len(losses) or len(counts) > len(history.get("loss") or []):
        raise InputError(
            f"the history's per-batch losses do not match: batch_points adds up to {counts.sum()} for "
            f"{len(counts)} epochs, batch_loss has {len(losses)} values, loss {len(history.get('loss') or [])} "
            "epochs: pass Network.history as fit recorded it"
        )
    first = len(history["loss"]) - len(counts)  # epochs without per-batch losses
    epochs = np.repeat(np.arange(first, first + len(counts)), counts)  # (P,) each point's epoch, from 0
    starts = np.repeat(np.cumsum(counts) - counts, counts)  # (P,) the index of its epoch's first point
    within = np.arange(len(losses)) - starts + 1  # 1..n inside its epoch
    return epochs + within / np.repeat(np.maximum(counts, 1), counts), losses


def training_curves(history: Mapping[str, Sequence[float]], title: str = "") -> Figure:
    """Loss and accuracy per epoch, training and validation side by side; each batch's loss as faint points.

    Args:
        history: Network.history (loss, accuracy, val_loss, val_accuracy lists; batch_loss and
            batch_points when fit recorded them).
        title: the figure's title.
    """
    if not history.get("loss"):
        raise InputError("no training history to plot: the model has not completed an epoch")
    batch_x, batch_y = batch_positions(history)
    figure_module = import_extra("matplotlib.figure", "plot", "plotting")
    ticker = import_extra("matplotlib.ticker", "plot", "plotting")
    figure: Figure = figure_module.Figure(figsize=(10, 4), layout="constrained")
    left = 0.0 if len(batch_x) else 0.5
    for axes, metric in zip(figure.subplots(1, 2), ("loss", "accuracy"), strict=True):
        if metric == "loss" and len(batch_x):
            axes.plot(batch_x, batch_y, ".", markersize=2, alpha=0.35, color="C0", label="training, per batch")
        for key, label, colour in ((metric, "training", "C0"), (f"val_{metric}", "validation", "C1")):
            values = list(history.get(key) or [])
            if values:
                axes.plot(range(1, len(values) + 1), values, marker="o", color=colour, label=label)
        axes.set(xlabel="epoch", ylabel=metric, title=metric, xlim=(left, len(history["loss"]) + 0.5))
        axes.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        axes.grid(alpha=0.3)
        if axes.lines:
            axes.legend()
    if title:
        figure.suptitle(title)
    return shown_in_notebooks(figure)


def shown_in_notebooks(figure: Figure) -> Figure:
    """Give a Figure made without pyplot a `_repr_png_`, so that Jupyter draws it (once, with or without pyplot).

    Args:
        figure: the matplotlib Figure.
    """

    def png() -> bytes:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()

    figure._repr_png_ = png  # type: ignore[attr-defined]  # IPython reads it from the instance
    return figure
