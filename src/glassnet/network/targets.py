"""Targets for the loss: integer labels, one-hot rows, probabilities or values, checked against the network."""

from __future__ import annotations

import numpy as np

from glassnet.checks import as_input_array, cast_input
from glassnet.errors import InputError, ShapeError
from glassnet.layers.base import Shape
from glassnet.metrics import to_labels

DISTRIBUTION_TOLERANCE = 1e-3  # how far from 1 a row of cross-entropy targets may sum


def one_hot(labels: np.ndarray, classes: int, dtype: np.dtype) -> np.ndarray:
    """One-hot rows from integer labels.

    Shapes:
        labels (N,) -> (N, classes).
    """
    rows = np.zeros((len(labels), classes), dtype=dtype)
    rows[np.arange(len(labels)), labels] = 1
    return rows


def prepare_targets(
    y: object, n: int, output: Shape | None, dtype: np.dtype, distributions: bool = False, name: str = "y"
) -> tuple[np.ndarray, np.ndarray | None]:
    """Targets for the loss and the integer labels for accuracy (None for N-D targets).

    Integer labels (N,) become one-hot rows, one column per output; integer labels (N, T) for a
    network giving (N, T, classes) become one-hot rows per step (labels None: no accuracy is
    kept for them); anything else is used as given, its labels being each row's argmax, or
    score > 0.5 for one column (metrics.to_labels).
    With distributions=True (cross-entropy) each row of 2-D targets must be one-hot or hold
    probabilities summing to 1: soft targets, as label smoothing makes, are fine.

    Args:
        y: what the user gave.
        n: the number of samples in x.
        output: the network's per-sample output shape, None where unknown.
        dtype: the floating-point type of the targets.
        distributions: check that rows are probability distributions.
        name: its name in messages.

    Shapes:
        y (N,) labels, or (N, ...) targets -> targets (N, classes or ...), labels (N,) or None.
    """
    y = as_input_array(y, name)
    if len(y) != n:
        raise ShapeError(f"x and {name} must have one entry per sample, got {n} samples in x and {len(y)} in {name}")
    classes = output[0] if output is not None and len(output) == 1 else None
    last = output[-1] if output else None
    if y.dtype.kind in "biu" and output is not None and last is not None and _one_label_per_step(y.shape, output):
        return _step_labels(y, last, dtype, name), None
    if y.ndim == 1 and y.dtype.kind in "biu" and classes != 1:
        return _labels(y, output, dtype, name)
    targets = cast_input(y, dtype, name)
    if targets.ndim == 1:
        if classes is not None and classes > 1:
            raise InputError(
                f"{name} holds one {y.dtype} value per sample, but the network gives {classes} outputs: "
                f"for class labels pass integers, {name.split()[-1]}.astype(np.int64); "
                "for one target per sample end with 1 output"
            )
        targets = targets.reshape(n, 1)  # (N, 1)
    if output is not None:
        check_output_shape(output, targets.shape, name)
    if distributions and targets.ndim == 2 and targets.shape[1] > 1:
        _check_distributions(targets, name)
    return targets, to_labels(targets) if targets.ndim == 2 else None


def _labels(y: np.ndarray, output: Shape | None, dtype: np.dtype, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Integer labels checked against the number of outputs, and their one-hot rows."""
    if output is not None and len(output) != 1:
        dims = ", ".join("?" if d is None else str(d) for d in output)
        raise ShapeError(
            f"integer labels {name} (N,) need a network ending in (N, classes), this one gives (N, {dims}): "
            "end it with Flatten() and Dense(..., classes)"
        )
    labels = y.astype(np.int64)
    low, high = int(labels.min()), int(labels.max())
    declared = output[0] if output is not None else None
    known = declared is not None
    classes = declared if declared is not None else high + 1
    if low < 0 and not known:
        raise InputError(
            f"labels must be ints >= 0, got {name} values from {low} to {high}: remap them to 0, 1, 2, ..."
        )
    if low < 0 or high >= classes:
        fix = f"give the last layer {high + 1} outputs, or remap them" if high >= classes else "remap them"
        raise InputError(
            f"labels must be in [0, {classes}) for a network with {classes} outputs, got {name} values from "
            f"{low} to {high}: {fix}"
        )
    return one_hot(labels, classes, dtype), labels


def _one_label_per_step(shape: tuple[int, ...], output: Shape) -> bool:
    """True for labels (N, T, ...) of a network giving (N, T, ..., classes), classes > 1."""
    steps = tuple(output[:-1])
    return (
        len(shape) >= 2
        and len(steps) == len(shape) - 1
        and all(s in (None, g) for s, g in zip(steps, shape[1:], strict=True))
        and output[-1] not in (None, 1)
    )


def _step_labels(y: np.ndarray, classes: int, dtype: np.dtype, name: str) -> np.ndarray:
    """One-hot targets from integer labels, one per step. Shapes: y (N, T) -> (N, T, classes)."""
    low, high = int(y.min()), int(y.max())
    if low < 0 or high >= classes:
        raise InputError(
            f"labels must be in [0, {classes}) for a network with {classes} outputs per step, got {name} "
            f"values from {low} to {high}: remap them, or give the last layer {max(high + 1, classes)} outputs"
        )
    targets = np.zeros((*y.shape, classes), dtype=dtype)
    np.put_along_axis(targets, y.astype(np.int64)[..., None], 1, axis=-1)
    return targets


def check_output_shape(output: Shape, shape: tuple[int, ...], name: str = "y") -> None:
    """Raise ShapeError unless targets of this shape fit outputs of this per-sample shape.

    Args:
        output: one sample's output shape (None for a size not known yet).
        shape: the targets' shape, batch axis included.
        name: the targets' name in the message.
    """
    got = tuple(shape[1:])
    if got == output or (len(got) == len(output) and all(o in (None, g) for o, g in zip(output, got, strict=True))):
        return
    dims = ", ".join("?" if d is None else str(d) for d in output)
    if len(output) == 1 and len(got) == 1 and output[0] is not None and got[0] > output[0]:
        fix = f"{name} has {got[0]} columns (classes): give the last layer {got[0]} outputs"
    elif len(output) == 1 and len(got) == 1 and output[0] is not None:
        fix = (
            f"one-hot encode with {output[0]} columns, gn.datasets.to_categorical(labels, {output[0]}), "
            "or pass integer labels (N,)"
        )
    else:
        fix = f"give {name} the shape (N, {dims})"
    raise ShapeError(f"{name} expected shape (N, {dims}) to match the network's output, got {tuple(shape)}: {fix}")


def _check_distributions(targets: np.ndarray, name: str) -> None:
    """Each row must be one-hot or hold probabilities in [0, 1] summing to 1 (cross-entropy)."""
    sums = targets.sum(axis=1, dtype=np.float64)
    bad = (np.abs(sums - 1) > DISTRIBUTION_TOLERANCE) | (targets.min(axis=1) < 0) | (targets.max(axis=1) > 1)
    if bad.any():
        first = int(np.argmax(bad))
        row = np.array2string(targets[first], precision=3, threshold=12)
        classes = targets.shape[1]
        raise InputError(
            f"cross_entropy expects each row of {name} to be one-hot or probabilities summing to 1, but "
            f"{int(bad.sum())} rows are not, the first row {first} = {row}: pass integer labels (N,), or "
            f"gn.datasets.to_categorical(labels, {classes}), or normalise the rows"
        )
