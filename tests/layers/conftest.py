"""Fixtures of the layer tests: each test taking `either_path` runs on the NumPy path and on the compiled kernels."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import glassnet as gn


@pytest.fixture(params=[False, True], ids=["numpy", "fast"])
def either_path(request: pytest.FixtureRequest) -> Iterator[bool]:
    """Run the test with the compiled kernels off, then on (skipped without numba); restore the switch."""
    was = gn.fast_enabled()
    if request.param:
        pytest.importorskip("numba")
    gn.set_fast(request.param)
    yield request.param
    gn.set_fast(was)
