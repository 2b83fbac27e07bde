"""Metrics: accuracy from labels, one-hot rows or probabilities."""

from __future__ import annotations

import numpy as np

from glassnet.errors import ShapeError


def to_labels(y: np.ndarray) -> np.ndarray:
    """Class labels from labels (N,), one-hot or probabilities (N, C), or one score (N, 1) at 0.5.

    Shapes:
        y (N,), (N, 1) or (N, C) -> (N,).
    """
    y = np.asarray(y)
    if y.ndim == 1:
        return y
    if y.ndim == 2 and y.shape[1] == 1:
        return (y[:, 0] > 0.5).astype(np.int64)
    if y.ndim == 2:
        labels: np.ndarray = y.argmax(axis=1)
        return labels
    raise ShapeError(f"accuracy expected labels (N,) or scores (N, C), got shape {y.shape}: reshape to (N, C)")


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The fraction of samples whose predicted class equals the true one.

    Shapes:
        y_true, y_pred: each (N,) labels, (N, C) one-hot/probabilities, or (N, 1) scores.
    """
    true, pred = to_labels(y_true), to_labels(y_pred)
    if len(true) != len(pred):
        raise ShapeError(f"accuracy expected as many predictions as labels, got {len(pred)} and {len(true)}")
    if len(true) == 0:
        raise ShapeError("accuracy of no samples is undefined: give at least one sample")
    return float(np.mean(true == pred))
