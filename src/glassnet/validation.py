"""Checks of what users hand to a Network, done at the boundary before any work."""

from __future__ import annotations

import numpy as np

from glassnet.errors import InputError, InputTypeError, ShapeError
from glassnet.metrics import to_labels


def check_count(value: object, name: str, minimum: int = 1) -> int:
    """An int >= minimum (epochs, batch size), or a clear error."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise InputError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def as_input_array(x: object, name: str = "x") -> np.ndarray:
    """x as a numeric NumPy array with a batch axis, or a clear error."""
    try:
        array = np.asarray(x)
    except ValueError as error:  # ragged nested lists
        raise InputError(f"{name} must be a rectangular numeric array, got ragged nested sequences ({error})") from None
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise InputTypeError(
            f"{name} must hold numbers, got dtype {array.dtype}: convert it with np.asarray({name}, dtype=np.float32)"
        )
    if array.ndim == 0:
        raise ShapeError(f"{name} must be an array of samples (N, ...), got a scalar")
    if len(array) == 0:
        raise InputError(f"{name} is empty: give at least one sample")
    return array


def check_finite(x: np.ndarray, name: str = "x") -> None:
    """Reject NaN or infinite values, saying how many and where the first one is."""
    if np.issubdtype(x.dtype, np.floating):
        bad = ~np.isfinite(x)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise InputError(
                f"{name} has {int(bad.sum())} NaN or infinite values, the first at index {first}: "
                "clean or drop those samples first"
            )


def one_hot(labels: np.ndarray, classes: int, dtype: np.dtype) -> np.ndarray:
    """One-hot rows from integer labels.

    Shapes:
        labels (N,) -> (N, classes).
    """
    rows = np.zeros((len(labels), classes), dtype=dtype)
    rows[np.arange(len(labels)), labels] = 1
    return rows


def prepare_targets(y: object, n: int, outputs: int | None, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray | None]:
    """Targets for the loss and the integer labels for accuracy (None for N-D targets).

    Integer labels (N,) become one-hot rows with `outputs` columns; anything else is used as given,
    its labels being each row's argmax, or score > 0.5 for one column (metrics.to_labels).

    Shapes:
        y (N,) labels, or (N, ...) targets -> targets (N, outputs or ...), labels (N,) or None.
    """
    y = as_input_array(y, "y")
    if len(y) != n:
        raise ShapeError(f"x and y must have one entry per sample, got {n} samples in x and {len(y)} in y")
    is_labels = y.ndim == 1 and (np.issubdtype(y.dtype, np.integer) or y.dtype == bool)
    if is_labels and outputs != 1:
        labels = y.astype(np.int64)
        classes = outputs if outputs is not None else int(labels.max()) + 1
        low, high = int(labels.min()), int(labels.max())
        if low < 0 or high >= classes:
            raise InputError(
                f"labels must be in [0, {classes}) for a network with {classes} outputs, got values from "
                f"{low} to {high}: remap them, or give the last layer {high + 1} outputs"
            )
        return one_hot(labels, classes, dtype), labels
    targets = y.astype(dtype, copy=False)
    if targets.ndim == 1:
        targets = targets.reshape(n, 1)  # (N, 1)
    check_finite(targets, "y")
    return targets, to_labels(targets) if targets.ndim == 2 else None
