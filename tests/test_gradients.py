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
@pytest.mark.parametrize("loss", [gn.losses.MSE(), gn.losses.CrossEntropy()], ids=["mse", "cross_entropy"])
def test_loss_gradients_match_central_differences(loss, shape, rng):
    y_true = np.eye(shape[1])[rng.integers(0, shape[1], shape[0])]
    y_pred = rng.uniform(0.05, 1.0, shape)
    y_pred /= y_pred.sum(axis=1, keepdims=True)
    numeric = numerical_gradient(lambda: loss(y_true, y_pred), y_pred)
    assert relative_error(loss.gradient(y_true, y_pred), numeric) < TOLERANCE


@pytest.mark.parametrize("shape", [(4, 3), (6, 10)])
def test_fused_softmax_cross_entropy_gradient(shape, rng):
    loss = gn.losses.CrossEntropy()
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


@pytest.mark.parametrize("in_channels", [1, 3], ids=["one-channel", "channels"])
def test_conv_in_chunks_of_images_gives_the_gradients_and_outputs_of_one_product(in_channels, rng, monkeypatch):
    x = rng.standard_normal((5, 6, 7, in_channels))
    whole = gn.Conv2D(in_channels, 2, 3, stride=(1, 2), padding=1)
    whole.initialize(np.random.default_rng(0))
    chunked = gn.Conv2D(in_channels, 2, 3, stride=(1, 2), padding=1)
    chunked.initialize(np.random.default_rng(0))
    bias = rng.standard_normal(2)
    for layer in (whole, chunked):
        layer.weight.value = layer.weight.value.astype(np.float64)
        layer.bias.value = bias.copy()
    out = whole.forward(x)
    grad_out = rng.standard_normal(out.shape)
    grad_in = whole.backward(grad_out)
    patch_bytes = 6 * 4 * (9 * in_channels + 1) * 8  # one image's patch rows: OH * OW * (KH*KW*C + 1) float64
    monkeypatch.setattr("glassnet.layers.conv.CHUNK_BYTES", 2 * patch_bytes)
    np.testing.assert_allclose(chunked.forward(x), out, rtol=1e-12, atol=1e-12)
    assert [s.indices(5) for s in chunked.chunks] == [(0, 2, 1), (2, 4, 1), (4, 5, 1)]  # 2 + 2 + 1 images
    np.testing.assert_allclose(chunked.backward(grad_out), grad_in, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(chunked.weight.grad, whole.weight.grad, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(chunked.bias.grad, whole.bias.grad, rtol=1e-12, atol=1e-12)
    errors = check_layer(chunked, x)
    assert max(errors.values()) < TOLERANCE, errors
