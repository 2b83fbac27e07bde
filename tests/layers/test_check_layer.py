"""gn.check_layer on correct and broken custom layers: verdicts, first bad index, and the layer put back."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn

RNG = np.random.default_rng(7)


class Sine(gn.Layer):
    def forward(self, x):
        self.x = x
        return np.sin(x)

    def backward(self, grad):
        return grad * np.cos(self.x)


class MatMul(gn.Layer):
    """y = x @ W with a square W; `bug` chooses how backward gets dW or dx wrong."""

    def __init__(self, n: int, bug: str = "") -> None:
        self.weight = gn.Parameter(np.arange(n * n, dtype=np.float32).reshape(n, n) / n)
        self.bug = bug

    def forward(self, x):
        self.x = x
        return x @ self.weight.value

    def backward(self, grad):
        dw = self.x.T @ grad
        dx = grad @ self.weight.value.T
        if self.bug == "sign":
            dx = -dx
        elif self.bug == "factor":
            dw = dw / len(grad)
        elif self.bug == "transposed":
            dw = dw.T
        elif self.bug == "element":
            dx = dx.copy()
            dx[1, 2] += 1.0
        elif self.bug == "shape":
            dw = dw[:, :1]
        if self.bug != "missing":
            self.weight.grad = dw
        return dx


def test_correct_custom_layer_passes_and_prints_a_table() -> None:
    result = gn.check_layer(Sine(), RNG.standard_normal((4, 3)))
    assert result.ok
    assert result["input"].error < 1e-7
    assert "input" in str(result) and "ok" in str(result)


@pytest.mark.parametrize(
    ("bug", "name", "verdict"),
    [
        ("sign", "input", "wrong sign"),
        ("factor", "weight", "constant factor: backward gives 0.25 times the gradient (1/4, one over the batch size"),
        ("transposed", "weight", "transposed"),
        ("element", "input", "wrong on 1 of 12 elements, the first at index (1, 2)"),
        ("shape", "weight", "wrong shape: got (3, 1), expected (3, 3)"),
        ("missing", "weight", "missing"),
    ],
)
def test_each_kind_of_wrong_gradient_is_named(bug: str, name: str, verdict: str) -> None:
    result = gn.check_layer(MatMul(3, bug), RNG.standard_normal((4, 3)))
    assert not result.ok
    assert [row.name for row in result.failures] == [name]
    assert verdict in result[name].verdict
    assert verdict.split(":")[0] in str(result)


def test_first_bad_index_is_reported() -> None:
    result = gn.check_layer(MatMul(3, "element"), RNG.standard_normal((4, 3)))
    assert result["input"].first_bad == (1, 2)


def test_the_layer_is_restored() -> None:
    layer = MatMul(3)
    value, grad = layer.weight.value, np.ones((3, 3), np.float32)
    layer.weight.grad = grad
    copy = value.copy()
    gn.check_layer(layer, RNG.standard_normal((4, 3)), training=True)
    assert layer.weight.value is value and layer.weight.value.dtype == np.float32
    np.testing.assert_array_equal(layer.weight.value, copy)
    assert layer.weight.grad is grad
    assert layer.training is False and "training" not in vars(layer)
    assert layer.needs_input_grad is True


def test_batchnorm_statistics_and_dropout_generator_are_restored() -> None:
    norm = gn.BatchNorm(3)
    norm.forward(RNG.standard_normal((4, 2, 2, 3)))
    mean = norm.buffers()["running_mean"].copy()
    result = gn.check_layer(norm, RNG.standard_normal((4, 2, 2, 3)), training=True)
    assert result.ok and [row.name for row in result.rows] == ["input", "gamma", "beta"]
    np.testing.assert_array_equal(norm.buffers()["running_mean"], mean)
    drop, rng = gn.Dropout(0.5), np.random.default_rng(3)
    drop.initialize(rng)
    state = rng.bit_generator.state
    assert gn.check_layer(drop, RNG.standard_normal((4, 5)), training=True).ok
    assert drop.rng is rng and rng.bit_generator.state == state


def test_large_arrays_are_sampled() -> None:
    result = gn.check_layer(gn.Dense(50, 40), RNG.standard_normal((3, 50)), max_elements=100)
    assert result.ok and result["weight"].checked == 100 and result["input"].checked == 100


def test_a_random_forward_is_refused() -> None:
    class Noisy(Sine):
        def forward(self, x):
            return super().forward(x) + np.random.default_rng().standard_normal(x.shape)

    with pytest.raises(gn.InputError, match="repeatable forward"):
        gn.check_layer(Noisy(), RNG.standard_normal((2, 3)))


def test_a_non_layer_is_refused() -> None:
    with pytest.raises(gn.InputTypeError, match=r"gn\.Layer"):
        gn.check_layer(np.sin, RNG.standard_normal((2, 3)))  # type: ignore[arg-type]
