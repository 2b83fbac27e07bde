"""The golden runs give the hashes recorded before the package was regrouped: not one bit changed."""

from __future__ import annotations

import json

import pytest
from golden_runs import GOLDEN, compute, distributed, platform

from glassnet.layers import maxpool2x2

RECORDED = json.loads(GOLDEN.read_text())
if platform() != RECORDED["platform"]:
    pytest.skip(
        f"golden hashes were recorded on {RECORDED['platform']}, this is {platform()}: "
        "rerun python tests/golden_runs.py --write on the old code to compare here",
        allow_module_level=True,
    )


@pytest.mark.parametrize("fast", [False, True], ids=["numpy", "fast"])
def test_every_golden_run_is_bit_identical(fast):
    if fast and maxpool2x2.compiled() is None:
        pytest.skip("numba is not installed")
    hashes = compute(fast)
    expected = {name: RECORDED["hashes"][name] for name in hashes}
    assert hashes == expected


def test_the_distributed_golden_run_is_bit_identical():
    pytest.importorskip("mpi4py")
    assert distributed() == RECORDED["hashes"]["distributed"]
