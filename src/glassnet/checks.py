"""Argument validators used everywhere: numbers (NumPy scalars included), flags, seeds and input arrays.

Every check returns the value as a plain Python number or a checked array, or raises an
InputError / InputTypeError / ShapeError that says what was expected, what came, and the fix.
"""

from __future__ import annotations

import math
from typing import Any, TypeGuard

import numpy as np

from glassnet.errors import InputError, InputTypeError, ShapeError


def is_int(value: object) -> TypeGuard[int | np.integer[Any]]:
    """True for a Python or NumPy integer, False for a bool or anything else."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def is_real(value: object) -> TypeGuard[int | float | np.integer[Any] | np.floating[Any]]:
    """True for a Python or NumPy int or float, False for a bool or anything else."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _prefix(owner: str | None) -> str:
    return f"{owner}: " if owner else ""


def check_count(value: object, name: str, minimum: int = 1, owner: str | None = None) -> int:
    """An int >= minimum (epochs, batch size, layer sizes), or a clear error.

    Args:
        value: what the user gave.
        name: its name in the message.
        minimum: the smallest value allowed.
        owner: the layer or object it configures, shown before the name.
    """
    if is_int(value) and value >= minimum:
        return int(value)
    whole = isinstance(value, (float, np.floating)) and float(value).is_integer() and value >= minimum
    fix = f": pass {name}={int(value)}" if whole and isinstance(value, (float, np.floating)) else ""
    raise InputError(f"{_prefix(owner)}{name} must be an int >= {minimum}, got {value!r}{fix}")


def check_size(value: object, name: str, owner: str) -> int:
    """A positive int (features, channels), or a clear error.

    Args:
        value: what the user gave.
        name: its name in the message.
        owner: the layer it configures.
    """
    if is_int(value) and value >= 1:
        return int(value)
    raise InputError(f"{owner}: {name} must be a positive int, got {value!r}")


def check_fraction(
    value: object, name: str, owner: str | None = None, low: float = 0.0, high: float = 1.0, closed: str = "[)"
) -> float:
    """A real number in an interval ("[)" by default: low <= value < high), or a clear error.

    Args:
        value: what the user gave.
        name: its name in the message.
        owner: the layer or object it configures, shown before the name.
        low, high: the interval's ends.
        closed: which ends belong to it: "[)", "[]", "(]" or "()".
    """
    if is_real(value):
        number = float(value)
        above = number >= low if closed[0] == "[" else number > low
        below = number <= high if closed[1] == "]" else number < high
        if above and below:
            return number
    interval = f"{closed[0]}{low:g}, {high:g}{closed[1]}"
    raise InputError(f"{_prefix(owner)}{name} must be a number in {interval}, got {value!r}")


def check_positive(value: object, name: str, example: str, owner: str | None = None) -> float:
    """A positive finite real number (a learning rate, an epsilon), or a clear error.

    Args:
        value: what the user gave.
        name: its name in the message.
        example: a typical value, shown in the message ("0.01").
        owner: the layer or object it configures, shown before the name.
    """
    if is_real(value) and math.isfinite(value) and value > 0:
        return float(value)
    raise InputError(f"{_prefix(owner)}{name} must be a positive finite number such as {example}, got {value!r}")


def check_pair(value: object, name: str, owner: str, minimum: int = 1) -> tuple[int, int]:
    """An int or a pair of ints, each >= minimum (kernel sizes, strides, padding), as a pair.

    Args:
        value: what the user gave.
        name: its name in the message.
        owner: the layer it configures.
        minimum: the smallest value allowed.
    """
    pair = (value, value) if is_int(value) else value
    if not isinstance(pair, (tuple, list)) or len(pair) != 2 or not all(is_int(v) and v >= minimum for v in pair):
        raise InputError(f"{owner}: {name} must be an int >= {minimum} or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def check_seed(seed: object) -> int | None:
    """None (a different run each time) or an int >= 0, or a clear error.

    Args:
        seed: what the user gave.
    """
    if seed is None or (is_int(seed) and seed >= 0):
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


def first_non_finite(x: np.ndarray) -> tuple[int, tuple[int, ...]] | None:
    """(how many, the index of the first) NaN or infinite values of x, or None if it has none.

    Args:
        x: any array; only floating-point ones can hold NaN or infinity.
    """
    if x.dtype.kind not in "fc":
        return None
    finite = np.isfinite(x)
    if finite.all():  # the common case, and the cheapest test
        return None
    bad = ~finite
    return int(np.count_nonzero(bad)), tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), x.shape))


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
