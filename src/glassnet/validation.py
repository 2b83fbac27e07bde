"""Checks of what users hand to a Network, done at the boundary before any work."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet.errors import InputError, InputTypeError, NotReadyError, ShapeError
from glassnet.layers.base import LayerShapeError
from glassnet.numerics import first_non_finite

if TYPE_CHECKING:
    from glassnet.network import Network


def check_count(value: object, name: str, minimum: int = 1) -> int:
    """An int >= minimum (epochs, batch size), or a clear error.

    Args:
        value: what the user gave.
        name: its name in the message.
        minimum: the smallest value allowed.
    """
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= minimum:
        return int(value)
    fix = f": pass {name}={int(value)}" if isinstance(value, float) and value.is_integer() and value >= minimum else ""
    raise InputError(f"{name} must be an int >= {minimum}, got {value!r}{fix}")


def check_seed(seed: object) -> int | None:
    """None (a different run each time) or an int >= 0, or a clear error.

    Args:
        seed: what the user gave.
    """
    if seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0):
        return None if seed is None else int(seed)
    raise InputError(f"seed must be None (a new run each time) or an int >= 0 such as 0, got {seed!r}")


def check_flag(value: object, name: str) -> bool:
    """True or False, or a clear error (a string such as "no" would count as True).

    Args:
        value: what the user gave.
        name: its name in the message.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise InputTypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_callbacks(callbacks: object) -> list[Callable[..., Any]]:
    """A list of functions callback(net, epoch, logs), checked now rather than after an epoch.

    Args:
        callbacks: what the user gave.
    """
    if callable(callbacks) or not isinstance(callbacks, Sequence) or isinstance(callbacks, str):
        raise InputTypeError(
            f"callbacks must be a list of functions callback(net, epoch, logs), got {type(callbacks).__name__}: "
            "pass callbacks=[my_callback]"
        )
    for index, callback in enumerate(callbacks):
        if not callable(callback):
            raise InputTypeError(
                f"callbacks[{index}] must be a function callback(net, epoch, logs), got {type(callback).__name__}"
            )
    return list(callbacks)


def check_validation_data(validation_data: object) -> tuple[object, object] | None:
    """None, or the pair (x_val, y_val).

    Args:
        validation_data: what the user gave.
    """
    if validation_data is None:
        return None
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        got = (
            f"an array of shape {validation_data.shape}"
            if isinstance(validation_data, np.ndarray)
            else f"a {type(validation_data).__name__} of {len(validation_data)} items"
            if isinstance(validation_data, (tuple, list))
            else type(validation_data).__name__
        )
        raise InputTypeError(
            f"validation_data must be a pair (x_val, y_val), got {got}: pass validation_data=(x_test, y_test)"
        )
    return validation_data[0], validation_data[1]


def as_input_array(x: object, name: str = "x") -> np.ndarray:
    """x as an array of real numbers (bool, int or float) with a batch axis, or a clear error.

    Args:
        x: an array or nested sequences.
        name: its name in messages ("x", "y", "validation x").
    """
    short = name.split()[-1]
    try:
        array = np.asarray(x)
    except ValueError as error:  # ragged nested lists
        raise InputError(
            f"{name} must be a rectangular array, got nested sequences of different lengths ({error}): "
            "pad or crop every sample to one shape"
        ) from None
    except TypeError as error:
        raise InputTypeError(f"{name} cannot be turned into an array ({error}): pass a NumPy array") from None
    if array.ndim == 0:
        what = f"a single value {x!r}" if array.dtype.kind in "biuf" else f"{type(x).__name__}"
        raise ShapeError(f"{name} must be an array of samples (N, ...), got {what}: pass e.g. np.array([[1.0, 2.0]])")
    if array.dtype.kind not in "biuf":
        raise InputTypeError(f"{name} {_dtype_problem(array.dtype, short)}")
    if array.size == 0:
        raise InputError(f"{name} is empty (shape {array.shape}): give at least one sample with at least one value")
    return array


def _dtype_problem(dtype: np.dtype, short: str) -> str:
    """What is wrong with an array of this non-real dtype, and how to fix it."""
    if dtype.kind == "c":
        return (
            f"holds complex numbers ({dtype}), and glassnet works with real numbers: "
            f"pass {short}.real, np.abs({short}), or the real and imaginary parts as separate features"
        )
    if dtype.kind in "US":
        return (
            f"holds strings ({dtype}): convert them to numbers first, e.g. np.asarray({short}, dtype=np.float32), "
            "or map class names to integer labels"
        )
    if dtype.kind in "mM":
        return f"holds dates or durations ({dtype}): convert them to numbers first, e.g. {short}.astype(np.int64)"
    if dtype.kind == "O":
        return (
            "holds Python objects (dtype object: None, mixed types, or ints too large for int64): "
            f"convert it with np.asarray({short}, dtype=np.float32)"
        )
    return f"must hold numbers, got dtype {dtype}: convert it with np.asarray({short}, dtype=np.float32)"


def check_finite(x: np.ndarray, name: str = "x") -> None:
    """Reject NaN or infinite values, saying how many and where the first one is.

    Args:
        x: the array (only floating-point arrays can hold NaN or infinity).
        name: its name in the message.
    """
    bad = first_non_finite(x)
    if bad is not None:
        count, first = bad
        raise InputError(
            f"{name} has {count} NaN or infinite values, the first at index {first}: "
            f"drop those samples, or replace the values (np.nan_to_num({name.split()[-1]}))"
        )


def cast_input(x: np.ndarray, dtype: np.dtype, name: str = "x") -> np.ndarray:
    """x checked for NaN and infinity, then cast to dtype; values beyond its range are an error.

    Args:
        x: an array of real numbers.
        dtype: the floating-point type to cast to.
        name: its name in messages.
    """
    check_finite(x, name)
    with np.errstate(over="ignore"):
        cast = x.astype(dtype, copy=False)
    if cast is not x and _can_overflow(x.dtype, cast.dtype):
        bad = first_non_finite(cast)
        if bad is not None:
            count, first = bad
            raise InputError(
                f"{name} has {count} values beyond the range of {cast.dtype} "
                f"(|value| > {np.finfo(cast.dtype).max:.3g}), "
                f"the first at index {first}: scale {name.split()[-1]} down, e.g. to [0, 1]"
            )
    return cast


def _can_overflow(source: np.dtype, target: np.dtype) -> bool:
    """True when some finite value of source is beyond the finite range of target (a float)."""
    if target.kind != "f":
        return False
    largest = np.finfo(source).max if source.kind == "f" else np.iinfo(source).max if source.kind in "iu" else 1
    return float(largest) > float(np.finfo(target).max)


def network_inputs(net: Network, x: object, name: str = "x") -> np.ndarray:
    """x checked against the network's layers and cast to its dtype.

    Args:
        net: the network x is for.
        x: what the user gave.
        name: its name in messages.
    """
    if not net.layers:
        raise NotReadyError("the network has no layers: add some with net.add(gn.Dense(...)) first")
    array = as_input_array(x, name)
    _check_sample_shape(net, array.shape, name)
    floating = np.issubdtype(array.dtype, np.floating)
    return cast_input(array, net.dtype or (array.dtype if floating else np.dtype(np.float32)), name)


def _check_sample_shape(net: Network, shape: tuple[int, ...], name: str) -> None:
    """Check a batch's shape against the layers; spot a single sample given without its batch axis."""
    try:
        net.layer_shapes(tuple(shape[1:]))
    except LayerShapeError as error:
        if _is_one_sample(net, shape):
            raise _one_sample_error(shape, name) from None
        raise error.with_batch(shape[0]) from None
    if net.input_shape is not None and tuple(shape) == net.input_shape != tuple(shape[1:]):
        raise _one_sample_error(shape, name)


def _is_one_sample(net: Network, shape: tuple[int, ...]) -> bool:
    """True when the whole shape is what the layers take as one sample."""
    try:
        net.layer_shapes(tuple(shape))
    except LayerShapeError:
        return False
    return True


def _one_sample_error(shape: tuple[int, ...], name: str) -> ShapeError:
    dims = ", ".join(str(d) for d in shape)
    return ShapeError(
        f"the network expected input (N, {dims}), got {name} of shape {tuple(shape)}, one sample without its "
        f"batch axis: pass {name.split()[-1]}[None] (shape (1, {dims})) for a batch of one"
    )


def split_validation(
    x: np.ndarray,
    targets: np.ndarray,
    labels: np.ndarray | None,
    validation_data: tuple[object, object] | None,
    validation_split: object,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, tuple[object, object] | None]:
    """Hold out the last validation_split of the samples (before shuffling), as Keras does.

    Args:
        x, targets, labels: the checked training data.
        validation_data: the pair given to fit, or None.
        validation_split: the fraction in [0, 1) to hold out.
    """
    if (
        isinstance(validation_split, bool)
        or not isinstance(validation_split, (int, float))
        or not 0 <= validation_split < 1
    ):
        raise InputError(f"validation_split must be a number in [0, 1) such as 0.1, got {validation_split!r}")
    if validation_split == 0:
        return x, targets, labels, validation_data
    if validation_data is not None:
        raise InputError("give validation_data or validation_split, not both")
    keep = len(x) - int(len(x) * validation_split)
    if keep < 1 or keep == len(x):
        raise InputError(
            f"validation_split={validation_split} of {len(x)} samples leaves no training or validation data"
        )
    held_out = (x[keep:], labels[keep:] if labels is not None else targets[keep:])
    return x[:keep], targets[:keep], None if labels is None else labels[:keep], held_out
