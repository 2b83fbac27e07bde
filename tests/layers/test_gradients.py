"""Float64 central-difference checks of every layer's input and parameter gradients."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import check_layer, numerical_gradient, relative_error
from layer_cases import CASE_IDS, LAYER_CASES

import glassnet as gn

TOLERANCE = 1e-6


@pytest.mark.parametrize(("name", "make", "shape", "training"), LAYER_CASES, ids=CASE_IDS)
def test_layer_gradients_match_central_differences(name, make, shape, training, rng):
    layer = make()
    layer.training = training
    errors = check_layer(layer, rng.standard_normal(shape))
    assert max(errors.values()) < TOLERANCE, errors


class _SameDraws:
    """A generator stand-in that draws the same mask every call, so dropout can be differentiated."""

    def random(self, shape, dtype):
        return np.random.default_rng(7).random(shape, dtype=dtype)


class _FixedMaskDropout(gn.Dropout):
    def initialize(self, rng):
        self.rng = _SameDraws()


def test_dropout_training_gradient(rng):
    layer = _FixedMaskDropout(0.4)
    layer.training = True
    errors = check_layer(layer, rng.standard_normal((5, 7)))
    assert max(errors.values()) < TOLERANCE, errors


@pytest.mark.parametrize("shape", [(4, 3), (7, 10), (1, 5)])
@pytest.mark.parametrize(
    "loss",
    [gn.losses.MSE(), gn.losses.CrossEntropy(), gn.losses.CrossEntropy(label_smoothing=0.2)],
    ids=["mse", "cross_entropy", "cross_entropy_smoothed"],
)
def test_loss_gradients_match_central_differences(loss, shape, rng):
    y_true = np.eye(shape[1])[rng.integers(0, shape[1], shape[0])]
    y_pred = rng.uniform(0.05, 1.0, shape)
    y_pred /= y_pred.sum(axis=1, keepdims=True)
    numeric = numerical_gradient(lambda: loss(y_true, y_pred), y_pred)
    assert relative_error(loss.gradient(y_true, y_pred), numeric) < TOLERANCE


@pytest.mark.parametrize("smoothing", [0.0, 0.15])
@pytest.mark.parametrize("shape", [(4, 3), (6, 10)])
def test_fused_softmax_cross_entropy_gradient(shape, smoothing, rng):
    loss = gn.losses.CrossEntropy(label_smoothing=smoothing)
    y_true = np.eye(shape[1])[rng.integers(0, shape[1], shape[0])]
    logits = rng.standard_normal(shape) * 3
    value, grad = loss.from_logits(y_true, logits)
    numeric = numerical_gradient(lambda: loss.from_logits(y_true, logits)[0], logits)
    assert relative_error(grad, numeric) < TOLERANCE
    assert value == pytest.approx(loss(y_true, gn.layers.activations.softmax(logits)))


def test_article_mse_functions_match_the_loss(rng):
    y_true, y_pred = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    numeric = numerical_gradient(lambda: gn.losses.mse(y_true, y_pred), y_pred)
    assert relative_error(gn.losses.mse_prime(y_true, y_pred), numeric) < TOLERANCE
    assert gn.losses.mse(y_true, y_pred) == pytest.approx(np.mean((y_true - y_pred) ** 2))
