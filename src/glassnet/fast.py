"""The [fast] switch: small numba-compiled kernels where NumPy is weakest (2x2 max-pooling).

With the optional extra installed (`pip install glassnet[fast]`, which brings numba),
MaxPool2D uses the loops of `glassnet.kernels`, compiled on first use (a second or two,
then cached on disk). Without numba, or switched off, every layer runs its NumPy code, which
is the reference: both paths give the same outputs and gradients (tests/test_fast.py).

Switch it off with `glassnet.set_fast(False)` or the environment variable GLASSNET_FAST=0
(read when glassnet is imported); `glassnet.fast_enabled()` tells whether the kernels are used.

The kernels are serial: numba's default parallel (OpenMP) threads spin and take the second
core from BLAS's matrix products, which matter more.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from types import ModuleType, SimpleNamespace
from typing import Any

OFF_VALUES = ("0", "false", "off", "no")

_wanted = os.environ.get("GLASSNET_FAST", "1").strip().lower() not in OFF_VALUES
_compiled: SimpleNamespace | None = None
_unavailable = False


def set_fast(enabled: bool) -> None:
    """Use the compiled kernels (True) or the NumPy code (False) from now on.

    Raises ImportError for True when numba is not installed.
    """
    global _wanted
    if enabled and compiled() is None:
        raise ImportError("glassnet.set_fast(True) needs numba: pip install 'glassnet[fast]'")
    _wanted = bool(enabled)


def fast_enabled() -> bool:
    """True when the layers use the compiled kernels: switched on and numba importable."""
    return kernels() is not None


def kernels() -> SimpleNamespace | None:
    """The compiled kernels while the fast path is on, else None: use NumPy."""
    return compiled() if _wanted else None


def compiled() -> SimpleNamespace | None:
    """The compiled kernels, named as in glassnet.kernels, whatever the switch; None without numba.

    The first call imports numba and wraps the kernels; each compiles at its first call.
    """
    global _compiled, _unavailable
    if _compiled is None and not _unavailable:
        try:
            numba = importlib.import_module("numba")
        except ImportError:
            _unavailable = True
            return None
        from glassnet import kernels as loops

        _compiled = SimpleNamespace(
            max_pool_2x2_forward=_jit(numba, loops.max_pool_2x2_forward),
            max_pool_2x2_backward=_jit(numba, loops.max_pool_2x2_backward),
        )
    return _compiled


def _jit(numba: ModuleType, function: Callable[..., None]) -> Any:
    """numba.njit, its machine code cached on disk unless no cache folder is writable."""
    try:
        return numba.njit(cache=True)(function)
    except RuntimeError:  # numba found no writable folder for its cache
        return numba.njit(function)
