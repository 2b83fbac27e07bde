"""Weight initialisation: Glorot (tanh, sigmoid, linear) and He (the ReLU family), uniform."""

from __future__ import annotations

import math

import numpy as np

from glassnet.errors import InputError


def glorot_uniform(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, fan_out: int) -> np.ndarray:
    """Uniform on +-sqrt(6 / (fan_in + fan_out)), float32."""
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return _uniform(rng, shape, limit)


def he_uniform(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, fan_out: int) -> np.ndarray:
    """Uniform on +-sqrt(6 / fan_in), float32 (Kaiming for ReLU)."""
    return _uniform(rng, shape, math.sqrt(6.0 / fan_in))


def glorot_to_he_factor(fan_in: int, fan_out: int) -> float:
    """The factor that turns a Glorot-uniform draw into a He-uniform draw of the same shape."""
    return math.sqrt((fan_in + fan_out) / fan_in)


INITIALIZERS = {"glorot": glorot_uniform, "he": he_uniform}


def check_init(init: str, owner: str) -> None:
    """Reject an unknown initialisation name."""
    if init not in ("auto", *INITIALIZERS):
        raise InputError(f'{owner}: init must be "auto", "glorot" or "he", got {init!r}')


def draw_weight(rng: np.random.Generator, init: str, shape: tuple[int, ...], fan_in: int, fan_out: int) -> np.ndarray:
    """Draw a weight; "auto" starts as Glorot (the Network turns it into He before a ReLU)."""
    scheme = "glorot" if init == "auto" else init
    return INITIALIZERS[scheme](rng, shape, fan_in, fan_out)


def _uniform(rng: np.random.Generator, shape: tuple[int, ...], limit: float) -> np.ndarray:
    weight: np.ndarray = (rng.random(shape, dtype=np.float32) * 2 - 1) * np.float32(limit)
    return weight
