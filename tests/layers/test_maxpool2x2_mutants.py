"""The 2x2 fast path: a cropped row or column, the numba wrapper and its message, found unchecked by mutmut."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import glassnet as gn
from glassnet.layers import maxpool2x2 as fast


@pytest.mark.parametrize(
    "shape",
    [
        (1, 3, 4, 1),  # a last odd row
        (1, 5, 4, 1),  # a last odd row, the windows as many down as across
        (1, 4, 3, 1),  # a last odd column
        (1, 4, 3, 2),  # a last odd column, two channels
        (1, 3, 3, 1),  # both
    ],
)
def test_a_row_or_column_in_no_window_gets_a_zero_gradient_whatever_fresh_memory_holds(
    shape: tuple[int, ...], either_path: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every pixel distinct and increasing: each window's maximum is its bottom-right cell
    x = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)  # (N, H, W, C)
    pool = gn.MaxPool2D(2)
    out = pool.forward(x)
    # fresh memory is usually zero; make it NaN so that a cell the backward pass does not write shows
    empty = np.empty
    monkeypatch.setattr(np, "empty", lambda size, dtype=None: np.full(size, np.nan, dtype=dtype))
    dx = pool.backward(np.ones_like(out))
    monkeypatch.setattr(np, "empty", empty)
    want = np.zeros(shape)
    want[:, 1 : 2 * out.shape[1] : 2, 1 : 2 * out.shape[2] : 2] = 1.0
    np.testing.assert_array_equal(dx, want)


class FakeNumba:
    """A stand-in for the numba module that records what njit was asked: `njit(f)` or `njit(cache=...)(f)`."""

    def __init__(self, cache_fails: bool = False) -> None:
        self.cache_fails = cache_fails

    def njit(self, function: Callable[..., None] | None = None, **options: Any) -> Any:
        if function is not None:
            return ("compiled", function, options)
        if self.cache_fails and options.get("cache"):
            raise RuntimeError("cannot cache function: no locator available")
        return lambda inner: ("compiled", inner, options)


def test_the_kernels_are_cached_on_disk_unless_no_folder_is_writable() -> None:
    assert fast._jit(FakeNumba(), fast.loops_forward) == ("compiled", fast.loops_forward, {"cache": True})
    assert fast._jit(FakeNumba(cache_fails=True), fast.loops_backward) == ("compiled", fast.loops_backward, {})


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """compiled() as at import, before its first call; returns the list of modules it tries to import."""
    monkeypatch.setattr(fast, "_compiled", None)
    monkeypatch.setattr(fast, "_unavailable", False)
    return []


def test_compiled_wraps_each_loop_once_and_keeps_them(fresh: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def import_module(name: str) -> FakeNumba:
        fresh.append(name)
        return FakeNumba()

    monkeypatch.setattr(fast.importlib, "import_module", import_module)
    kernels = fast.compiled()
    assert isinstance(kernels, SimpleNamespace)
    assert kernels.forward == ("compiled", fast.loops_forward, {"cache": True})
    assert kernels.backward == ("compiled", fast.loops_backward, {"cache": True})
    assert fast.compiled() is kernels
    assert fresh == ["numba"]


def test_without_numba_compiled_is_none_and_does_not_try_again(
    fresh: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def import_module(name: str) -> None:
        fresh.append(name)
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(fast.importlib, "import_module", import_module)
    assert fast.compiled() is None
    assert fast.compiled() is None
    assert fresh == ["numba"]


def test_set_fast_true_without_numba_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast, "compiled", lambda: None)
    with pytest.raises(ImportError) as caught:
        fast.set_fast(True)
    assert str(caught.value) == "glassnet.set_fast(True) needs numba: pip install 'glassnet[fast]'"
