"""NaN and infinity: NumPy's warnings silenced where values can overflow, then detected and reported once.

Where a network computes (fit, predict, evaluate), an overflow is not a warning to print once per
array but a fact to check: the loss of each batch (a Python float) during training, the outputs
in predict, the loss in evaluate, and every parameter at the end of each epoch.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from glassnet.errors import NumericalError

if TYPE_CHECKING:
    from glassnet.network import Network


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence NumPy's overflow, invalid-value and divide-by-zero warnings; the caller checks the results."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        yield


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


def broken_parameter(net: Network) -> str | None:
    """A description of the first parameter holding NaN or infinity, or None if all are finite.

    Args:
        net: the network to check.
    """
    for layer in net.layers:
        names = {id(value): name for name, value in vars(layer).items()}
        for index, param in enumerate(layer.parameters()):
            bad = first_non_finite(param.value)
            if bad is not None:
                label = names.get(id(param), f"parameter {index}")
                return f"{layer!r}.{label} holds {bad[0]} NaN or infinite values"
    return None


def overflow_error(net: Network, x: np.ndarray, what: str) -> NumericalError:
    """The error for non-finite outputs or loss of predict/evaluate, with its likely cause.

    Args:
        net: the network that computed them.
        x: its input.
        what: what came out, e.g. "predict gave 3 NaN or infinite outputs".
    """
    broken = broken_parameter(net)
    if broken is not None:
        return NumericalError(f"{what}: {broken}; load or train the network again")
    with quiet():
        largest = float(np.abs(x).max())
    return NumericalError(
        f"{what}, from finite inputs and weights: the values overflowed inside the network "
        f"(the largest |x| is {largest:.3g}); scale the inputs (and targets), e.g. to [0, 1]"
    )
