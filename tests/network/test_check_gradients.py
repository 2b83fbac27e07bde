"""net.check_gradients names the first layer whose backward disagrees, and leaves the network as it was."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn

RNG = np.random.default_rng(11)


class Doubled(gn.Layer):
    def forward(self, x):
        self.x = x
        return np.sin(x)

    def backward(self, grad):
        return 2 * grad * np.cos(self.x)  # the bug: twice the gradient


def network(*middle: gn.Layer) -> gn.Network:
    net = gn.Network(seed=0).add(gn.Dense(6, 5))
    for layer in middle:
        net.add(layer)
    return net.add(gn.Dense(5, 3)).add(gn.Softmax()).use("cross_entropy")


def test_a_healthy_network_agrees() -> None:
    result = network(gn.Tanh(), gn.Dropout(0.2)).check_gradients(RNG.standard_normal((4, 6)), [0, 1, 2, 0])
    assert result.ok and result.culprit is None
    assert "every gradient agrees" in str(result)


def test_the_broken_layer_is_named() -> None:
    net = network(gn.Tanh(), Doubled(), gn.Dropout(0.2))
    state = net.rng.bit_generator.state
    values = [param.value.copy() for param in net.parameters()]
    result = net.check_gradients(RNG.standard_normal((4, 6)), [0, 1, 2, 0], training=True)
    assert not result.ok
    assert result.culprit == "layer 3: Doubled()"
    assert "constant factor: backward gives 2 times" in str(result)
    assert net.rng.bit_generator.state == state
    for param, value in zip(net.parameters(), values, strict=True):
        assert param.value.dtype == np.float32
        np.testing.assert_array_equal(param.value, value)


def test_a_wrong_loss_gradient_is_named() -> None:
    class HalfMSE(gn.losses.MSE):
        def gradient(self, y_true, y_pred):
            return super().gradient(y_true, y_pred) / 2

    net = gn.Network(seed=0).add(gn.Dense(4, 2)).use(HalfMSE())
    result = net.check_gradients(RNG.standard_normal((3, 4)), RNG.standard_normal((3, 2)))
    assert result.culprit == "the loss" and "0.5 times" in result.loss.verdict


def test_needs_a_loss() -> None:
    with pytest.raises(gn.NotReadyError, match="use"):
        gn.Network().add(gn.Dense(2, 2)).check_gradients(np.zeros((1, 2)), [0])
