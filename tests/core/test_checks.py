"""Argument validators (glassnet.checks): NumPy scalars are numbers, bools and NaN are not."""

from __future__ import annotations

import re

import numpy as np
import pytest

import glassnet as gn
from glassnet.checks import check_count, check_fraction, check_pair, check_positive
from glassnet.errors import InputError

NUMPY_SCALARS = [
    (gn.Dense, (np.int64(3), np.int32(2)), {}),
    (gn.Conv2D, (np.int64(1), np.int64(2), np.int64(3)), {"stride": np.int64(1), "padding": np.int64(1)}),
    (gn.Conv2D, (1, 2, 3), {"padding": (np.int64(1), np.int32(0))}),
    (gn.MaxPool2D, (np.int64(2),), {}),
    (gn.AvgPool2D, (np.int64(3),), {"stride": np.int64(2), "padding": np.int64(1)}),
    (gn.LeakyReLU, (np.float32(0.25),), {}),
    (gn.Dropout, (np.float32(0.25),), {}),
    (gn.BatchNorm, (np.int64(4),), {"eps": np.float32(1e-5), "momentum": np.float32(0.1)}),
    (gn.optimizers.SGD, (np.float32(0.1),), {"momentum": np.float32(0.9), "weight_decay": np.float64(1e-4)}),
    (gn.optimizers.Adam, (np.float32(1e-3),), {"beta1": np.float32(0.9), "beta2": np.float64(0.999)}),
    (gn.Network, (), {"epochs": np.int64(2), "learning_rate": np.float32(0.1), "batch_size": np.int32(8)}),
]


def settings_of(built: object) -> dict[str, object]:
    """What a layer or optimizer saves (its config), or a Network's hyper-parameters."""
    if isinstance(built, gn.Network):
        return {"epochs": built.epochs, "learning_rate": built.learning_rate, "batch_size": built.batch_size}
    return dict(built.config())  # type: ignore[attr-defined]


def python(value: object) -> object:
    """value with each NumPy scalar in it made the Python number it holds."""
    if isinstance(value, tuple):
        return tuple(python(item) for item in value)
    return value.item() if isinstance(value, np.generic) else value


def plain_numbers(value: object) -> bool:
    """True when value holds only Python numbers, strings and bools (lists included), no NumPy scalar."""
    if isinstance(value, (list, tuple)):
        return all(plain_numbers(item) for item in value)
    return isinstance(value, (int, float, str, bool))


@pytest.mark.parametrize(("cls", "args", "kwargs"), NUMPY_SCALARS, ids=[case[0].__name__ for case in NUMPY_SCALARS])
def test_numpy_scalars_are_accepted_wherever_a_number_is(cls, args, kwargs):
    # the same object as from the Python numbers, its settings held as Python numbers (JSON-ready)
    built = settings_of(cls(*args, **kwargs))
    plain = settings_of(cls(*[python(a) for a in args], **{k: python(v) for k, v in kwargs.items()}))
    assert built == plain
    assert all(plain_numbers(value) for value in built.values()), built


def test_a_network_with_numpy_int_padding_saves_and_loads(tmp_path):
    # Conv2D and pooling kept a NumPy padding as given, and saving it failed in config()
    net = gn.Network(seed=0).add(gn.Conv2D(1, 2, 3, padding=np.int64(1))).add(gn.MaxPool2D(2, padding=np.int64(1)))
    net.input_shape = (4, 4, 1)
    net.save(tmp_path / "m.npz")
    loaded = gn.Network.load(tmp_path / "m.npz")
    assert [layer.config()["padding"] for layer in loaded.layers] == [1, 1]


def test_numpy_scalars_become_python_numbers():
    layer = gn.LeakyReLU(np.float32(0.25))
    assert type(layer.alpha) is float and layer.alpha == 0.25
    assert type(gn.Dense(np.int64(3), 2).in_features) is int
    assert check_pair(np.int64(3), "kernel_size", "Conv2D") == (3, 3)


@pytest.mark.parametrize("value", [True, np.bool_(True), "0.5", None, float("nan"), np.float32("nan")])
def test_bools_strings_none_and_nan_are_not_fractions(value):
    with pytest.raises(InputError, match=r"rate must be a number in \[0, 1\)"):
        check_fraction(value, "rate", "Dropout")


@pytest.mark.parametrize(
    ("closed", "inside", "outside"),
    [("[)", [0.0, 0.5], [1.0, -0.1]), ("[]", [0.0, 1.0], [1.1]), ("(]", [1.0, 0.5], [0.0]), ("()", [0.5], [0.0, 1.0])],
)
def test_interval_ends(closed, inside, outside):
    for value in inside:
        assert check_fraction(value, "x", closed=closed) == value
    for value in outside:
        with pytest.raises(InputError, match=rf"x must be a number in \{closed[0]}0, 1\{closed[1]}"):
            check_fraction(value, "x", closed=closed)


@pytest.mark.parametrize("value", [0, -1, float("inf"), np.float32("inf"), float("nan"), True, "0.1"])
def test_a_learning_rate_is_positive_and_finite(value):
    with pytest.raises(InputError, match=r"learning_rate must be a positive finite number such as 0\.01"):
        check_positive(value, "learning_rate", "0.01")


def test_a_count_says_how_to_fix_a_whole_float():
    with pytest.raises(InputError, match=r"epochs must be an int >= 1, got 2.0: pass epochs=2"):
        check_count(2.0, "epochs")
    shown = re.escape(repr(np.float32(2.0)))  # np.float32(2.0) on NumPy 2, 2.0 on NumPy 1
    with pytest.raises(InputError, match=rf"epochs must be an int >= 1, got {shown}: pass epochs=2"):
        check_count(np.float32(2.0), "epochs")
    assert check_count(np.uint8(3), "epochs") == 3
