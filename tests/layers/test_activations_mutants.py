"""Activations: the values, messages and reprs that mutation testing found unchecked."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

import glassnet as gn
from glassnet.errors import InputError, InputTypeError


def tanh_prime(x: np.ndarray) -> np.ndarray:
    return 1 - np.tanh(x) ** 2


def test_softmax_shifts_each_row_by_its_own_maximum() -> None:
    # The first row would overflow exp without the shift; the second would underflow to 0/0 if
    # it were shifted by the first row's maximum.
    probs = gn.Softmax().forward(np.array([[1000.0, 1000.0], [0.0, 1.0]]))
    e = math.e
    np.testing.assert_allclose(probs, [[0.5, 0.5], [1 / (1 + e), e / (1 + e)]], rtol=1e-12)


def test_softmax_backward_works_over_the_last_axis_of_a_sequence() -> None:
    rng = np.random.default_rng(0)
    x, grad = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4))
    layer = gn.Softmax()
    layer.forward(x)
    flat = gn.Softmax()
    flat.forward(x.reshape(6, 4))  # (N*T, C)
    np.testing.assert_allclose(layer.backward(grad), flat.backward(grad.reshape(6, 4)).reshape(2, 3, 4), rtol=1e-12)


def test_leaky_relu_values_and_slopes_on_each_side_of_zero() -> None:
    layer = gn.LeakyReLU(0.1)
    x = np.array([[-2.0, 0.0, 0.5, 3.0]])
    np.testing.assert_allclose(layer.forward(x), [[-0.2, 0.0, 0.5, 3.0]])
    np.testing.assert_allclose(layer.backward(np.ones_like(x)), [[0.1, 0.1, 1.0, 1.0]])


def test_leaky_relu_default_slope_config_and_message() -> None:
    assert gn.LeakyReLU().alpha == 0.01
    assert gn.LeakyReLU(0.2).config() == {"alpha": 0.2}
    with pytest.raises(InputError) as caught:
        gn.LeakyReLU(1.0)
    assert str(caught.value) == "LeakyReLU: alpha must be a number in [0, 1), got 1.0"


@pytest.mark.parametrize(("fn", "fn_prime"), [(np.tanh, 5), (5, tanh_prime)])
def test_activation_needs_two_functions(fn: object, fn_prime: object) -> None:
    with pytest.raises(InputTypeError) as caught:
        gn.Activation(fn, fn_prime)  # type: ignore[arg-type]
    got = f"{type(fn).__name__} and {type(fn_prime).__name__}"
    assert str(caught.value) == (
        f"Activation(fn, fn_prime) takes two functions, got {got}: "
        "pass e.g. Activation(np.tanh, lambda x: 1 - np.tanh(x) ** 2)"
    )


def test_reprs_name_the_function_or_the_class() -> None:
    assert repr(gn.Activation(np.tanh, tanh_prime)) == "Activation(tanh)"
    assert repr(gn.Activation(functools.partial(np.tanh), tanh_prime)) == "Activation(fn)"
    assert repr(gn.ReLU()) == "ReLU()"
