"""What a gradient check found: each gradient's largest error, its verdict, and the table that shows them.

A wrong gradient is classified by comparing the analytic gradient `a` (from backward) with the
numeric one `n` (central differences): `a = -n` is a wrong sign, `a = c * n` a constant factor,
`a = n.T` a transposed matrix, and otherwise the elements that disagree are counted and the first
one is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

TOLERANCE = 1e-5  # largest relative error accepted: float64 central differences reach ~1e-8


@dataclass
class GradientRow:
    """One gradient compared: its name, shape, largest relative error, verdict and first bad index.

    Args:
        name: "input", the parameter's attribute name, or "loss".
        shape: the gradient's shape.
        error: largest |analytic - numeric| over the largest magnitude of either; inf if missing.
        ok: error <= the tolerance.
        verdict: "ok", or what is wrong ("wrong sign", "off by a factor of 2", ...).
        first_bad: the index of the first element that disagrees, None when ok.
        checked: how many elements were compared (all, or a sample of a large array).
    """

    name: str
    shape: tuple[int, ...]
    error: float
    ok: bool
    verdict: str
    first_bad: tuple[int, ...] | None = None
    checked: int = 0


@dataclass
class GradientCheck:
    """The result of `gn.check_layer`: one row per gradient; `ok` when every one agrees.

    Args:
        layer: the layer's repr, shown above the table.
        rows: the input gradient first, then each parameter's.
    """

    layer: str
    rows: list[GradientRow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every gradient matches its central differences."""
        return all(row.ok for row in self.rows)

    @property
    def failures(self) -> list[GradientRow]:
        """The rows whose gradient disagrees."""
        return [row for row in self.rows if not row.ok]

    def __getitem__(self, name: str) -> GradientRow:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no gradient named {name!r}: the rows are {[row.name for row in self.rows]}")

    def __str__(self) -> str:
        return table(self.layer, self.rows)

    def __repr__(self) -> str:
        return f"GradientCheck({self.layer}, ok={self.ok})"


def table(title: str, rows: list[GradientRow]) -> str:
    """A plain-text table: gradient, shape, largest relative error, verdict."""
    lines = [f"gradient check of {title}", f"  {'gradient':<12} {'shape':<18} {'max rel. error':>14}  verdict"]
    for row in rows:
        error = "missing" if np.isinf(row.error) else f"{row.error:.1e}"
        lines.append(f"  {row.name:<12} {row.shape!s:<18} {error:>14}  {row.verdict}")
    return "\n".join(lines)


def compare(
    name: str, analytic: np.ndarray | None, numeric: np.ndarray, checked: np.ndarray, batch: int = 0
) -> GradientRow:
    """Compare the analytic gradient with the numeric one on the `checked` flat indices.

    Args:
        name: the gradient's name in the table.
        analytic: what backward gave (None if it gave nothing).
        numeric: the central differences, full shape; only `checked` elements are meaningful.
        checked: the flat indices that were differenced.
        batch: the batch size, to name a factor of 1/batch or batch (0: unknown).
    """
    shape = tuple(numeric.shape)
    if analytic is None:
        return GradientRow(name, shape, np.inf, False, "missing: backward did not set it (None)", None, checked.size)
    analytic = np.asarray(analytic, dtype=np.float64)
    if analytic.shape != numeric.shape:
        verdict = f"wrong shape: got {analytic.shape}, expected {shape}"
        if analytic.ndim == 2 and analytic.T.shape == shape:
            verdict += ": transposed? return .T"
        return GradientRow(name, shape, np.inf, False, verdict, None, checked.size)
    a, n = analytic.reshape(-1)[checked], numeric.reshape(-1)[checked]  # (checked,)
    error = relative_error(a, n)
    if error <= TOLERANCE:
        return GradientRow(name, shape, error, True, "ok", None, checked.size)
    first = np.unravel_index(int(checked[np.argmax(bad_elements(a, n))]), shape)
    index = tuple(int(i) for i in first)
    return GradientRow(name, shape, error, False, classify(analytic, a, n, index, batch), index, checked.size)


def relative_error(a: np.ndarray, n: np.ndarray) -> float:
    """max |a - n| / max(|a|, |n|, 1e-8): the error relative to the gradient's size."""
    scale = max(float(np.abs(a).max(initial=0)), float(np.abs(n).max(initial=0)), 1e-8)
    return float(np.abs(a - n).max(initial=0) / scale)


def bad_elements(a: np.ndarray, n: np.ndarray) -> np.ndarray:
    """A mask of the elements whose difference is beyond the tolerance (relative to the largest)."""
    scale = max(float(np.abs(a).max(initial=0)), float(np.abs(n).max(initial=0)), 1e-8)
    mask: np.ndarray = np.abs(a - n) > TOLERANCE * scale
    return mask


def classify(analytic: np.ndarray, a: np.ndarray, n: np.ndarray, first: tuple[int, ...], batch: int = 0) -> str:
    """The kind of a wrong gradient: zero, wrong sign, constant factor, transposed, or some elements."""
    if not np.any(a) and np.any(n):
        return "all zero: backward never fills it"
    if relative_error(-a, n) <= TOLERANCE:
        return "wrong sign: backward gives -1 times the gradient"
    factor = float(a @ n / (n @ n)) if np.any(n) else 0.0
    if factor and relative_error(a, factor * n) <= TOLERANCE:
        verdict = f"off by a constant factor: backward gives {factor:.4g} times the gradient"
        if batch > 1 and abs(factor * batch - 1) < 1e-6:
            verdict += f" (1/{batch}, one over the batch size: a mean where a sum belongs?)"
        elif batch > 1 and abs(factor / batch - 1) < 1e-6:
            verdict += f" ({batch}, the batch size: a sum where a mean belongs?)"
        return verdict
    square = analytic.ndim == 2 and analytic.shape[0] == analytic.shape[1] and a.size == analytic.size
    if square and relative_error(analytic.T.reshape(-1), n) <= TOLERANCE:
        return "transposed: backward gives the transpose of the gradient"
    bad = int(np.count_nonzero(bad_elements(a, n)))
    if bad < a.size:
        return f"wrong on {bad} of {a.size} elements, the first at index {first}"
    return f"wrong everywhere, the first at index {first} (no simple pattern: check the formula)"
