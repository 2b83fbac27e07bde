"""Shared fixtures: a seeded generator, one BLAS thread, and the gradcheck helpers on the import path."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def one_blas_thread() -> Iterator[None]:
    """Every test trains on one BLAS thread unless it sets another count.

    fit's default, "auto", picks the count by timing batches, and the count can change the last
    bits of a product (docs/determinism.md): tests that compare two runs bit for bit need it fixed,
    and one thread never spins against the other tests' processes. The tests of "auto" set it.
    """
    before = gn.get_threads()
    gn.set_threads(1)
    yield
    gn.set_threads(before)


REQUIREMENTS = {
    "torch": lambda: importlib.util.find_spec("torch") is not None,
    "chromium": lambda: shutil.which("chromium") is not None,
    "mpiexec": lambda: shutil.which("mpiexec") is not None or (Path(sys.executable).parent / "mpiexec").exists(),
}


def pytest_configure(config: pytest.Config) -> None:
    """Under GLASSNET_REQUIRE="torch chromium ..." (CI sets it), a missing one fails the run instead of skipping."""
    required = os.environ.get("GLASSNET_REQUIRE", "").split()
    unknown = [name for name in required if name not in REQUIREMENTS]
    missing = [name for name in required if name in REQUIREMENTS and not REQUIREMENTS[name]()]
    if unknown or missing:
        pytest.exit(
            f"GLASSNET_REQUIRE: missing {missing}, unknown {unknown} (known: {', '.join(REQUIREMENTS)}): "
            "their tests would skip",
            returncode=4,
        )
