"""NaN and infinity: NumPy's warnings silenced where values can overflow, then detected and reported once.

Where a network computes (fit, predict, evaluate), an overflow is not a warning to print once per
array but a fact to check: the loss of each batch (a Python float) during training, the outputs
in predict, the loss in evaluate, and every parameter at the end of each epoch.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import numpy as np

from glassnet.checks import first_non_finite
from glassnet.errors import NumericalError
from glassnet.layers.base import Layer


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence NumPy's overflow, invalid-value and divide-by-zero warnings; the caller checks the results."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        yield


def broken_parameter(layers: Sequence[Layer]) -> str | None:
    """A description of the first parameter holding NaN or infinity, or None if all are finite.

    Args:
        layers: the network's layers.
    """
    for layer in layers:
        for name, param in layer.named_parameters().items():
            bad = first_non_finite(param.value)
            if bad is not None:
                return f"{layer!r}.{name} holds {bad[0]} NaN or infinite values"
    return None


def overflow_error(layers: Sequence[Layer], x: np.ndarray, what: str) -> NumericalError:
    """The error for non-finite outputs or loss of predict/evaluate, with its likely cause.

    Args:
        layers: the network's layers that computed them.
        x: their input.
        what: what came out, e.g. "predict gave 3 NaN or infinite outputs".
    """
    broken = broken_parameter(layers)
    if broken is not None:
        return NumericalError(f"{what}: {broken}; load or train the network again")
    with quiet():
        largest = float(np.abs(x).max())
    return NumericalError(
        f"{what}, from finite inputs and weights: the values overflowed inside the network "
        f"(the largest |x| is {largest:.3g}); scale the inputs (and targets), e.g. to [0, 1]"
    )
