"""Dense: the exact messages and the config that mutation testing found unchecked."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import glassnet as gn
from glassnet.errors import InputError, ShapeError


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: gn.Dense(0, 5), "Dense: in_features must be a positive int, got 0"),
        (lambda: gn.Dense(5, 0), "Dense: out_features must be a positive int, got 0"),
    ],
)
def test_a_bad_size_names_the_layer_and_the_argument(make: Callable[[], object], message: str) -> None:
    with pytest.raises(InputError) as caught:
        make()
    assert str(caught.value) == message


def test_a_wrong_feature_count_names_the_layer_what_it_expected_and_the_fix() -> None:
    with pytest.raises(ShapeError) as caught:
        gn.Dense(4, 2).forward(np.zeros((2, 3), dtype=np.float32))
    assert str(caught.value) == (
        "Dense(4 -> 2) expected input (N, 4), got (2, 3): the layer before gives 3 features: use Dense(3, 2)"
    )


def test_config_rebuilds_the_layer_with_its_init() -> None:
    layer = gn.Dense(2, 3, init="he")
    assert layer.config() == {"in_features": 2, "out_features": 3, "init": "he"}
    assert gn.Dense(**layer.config()).init == "he"
