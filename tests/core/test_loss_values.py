"""Loss values and gradients against numbers worked out by hand on 2 x 2 and 2 x 3 float64 arrays."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import glassnet as gn


def close(got: float | np.ndarray, want: float | list[float] | list[list[float]]) -> None:
    """got equals the hand-computed want to 12 significant digits."""
    np.testing.assert_allclose(got, np.array(want, dtype=np.float64), rtol=1e-12)


# MSE: diff = y_pred - y_true = [[-0.5, 0.5], [0.5, -1.0]] over 4 elements (not the 2 rows of the batch)
MSE_TRUE = np.array([[1.0, 0.0], [0.5, -1.0]])
MSE_PRED = np.array([[0.5, 0.5], [1.0, -2.0]])
MSE_VALUE = (0.25 + 0.25 + 0.25 + 1.0) / 4  # mean(diff^2) = 0.4375
MSE_GRAD = [[2 * -0.5 / 4, 2 * 0.5 / 4], [2 * 0.5 / 4, 2 * -1.0 / 4]]  # 2 diff / size = [[-0.25, 0.25], [0.25, -0.5]]


def test_mse_class_value_and_gradient() -> None:
    close(gn.losses.MSE()(MSE_TRUE, MSE_PRED), MSE_VALUE)
    close(gn.losses.MSE().gradient(MSE_TRUE, MSE_PRED), MSE_GRAD)


def test_article_mse_and_mse_prime() -> None:
    close(gn.losses.mse(MSE_TRUE, MSE_PRED), MSE_VALUE)
    close(gn.losses.mse_prime(MSE_TRUE, MSE_PRED), MSE_GRAD)


def test_cross_entropy_on_probabilities() -> None:
    # loss = mean over the 2 rows of -sum(y log p); the first row has a soft target
    y_true = np.array([[0.0, 0.75, 0.25], [1.0, 0.0, 0.0]])
    y_pred = np.array([[0.2, 0.5, 0.3], [0.25, 0.25, 0.5]])
    loss = -(0.75 * math.log(0.5) + 0.25 * math.log(0.3) + 1.0 * math.log(0.25)) / 2
    # dLoss/dp = -y / p / N
    grad = [[0.0, -0.75 / 0.5 / 2, -0.25 / 0.3 / 2], [-1.0 / 0.25 / 2, 0.0, 0.0]]
    close(gn.losses.CrossEntropy()(y_true, y_pred), loss)
    close(gn.losses.CrossEntropy().gradient(y_true, y_pred), grad)


def test_cross_entropy_from_logits() -> None:
    # row 1: logits [1, 2, 3], target class 2: p = e^z / s with s = e + e^2 + e^3, loss = log(s) - 3
    # row 2: logits [0, 0, 0], target class 0: p = 1/3 each, loss = log(3)
    y_true = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    logits = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    s = math.exp(1.0) + math.exp(2.0) + math.exp(3.0)
    loss = ((math.log(s) - 3.0) + math.log(3.0)) / 2
    # dLoss/dz = (p - y) / N
    grad = [
        [math.exp(1.0) / s / 2, math.exp(2.0) / s / 2, (math.exp(3.0) / s - 1.0) / 2],
        [(1 / 3 - 1.0) / 2, (1 / 3) / 2, (1 / 3) / 2],
    ]
    got_loss, got_grad = gn.losses.CrossEntropy().from_logits(y_true, logits)
    close(got_loss, loss)
    close(got_grad, grad)
    close(gn.losses.CrossEntropy().loss_from_logits(y_true, logits), loss)


def test_cross_entropy_from_huge_logits_is_finite_and_silent() -> None:
    # row 1: logits [1e4, -1e4, 1e4 - 1], target 0: after the shift by 1e4 it is [0, -2e4, -1]:
    #        p = [1, 0, e^-1] / (1 + e^-1), loss = log(1 + e^-1)
    # row 2: logits [-1e4, 1e4, 0], target 0: p = [0, 1, 0] (e^-1e4 is 0 in float64), loss = 2e4
    y_true = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    logits = np.array([[1e4, -1e4, 1e4 - 1.0], [-1e4, 1e4, 0.0]])
    loss = (math.log(1.0 + math.exp(-1.0)) + 2e4) / 2
    q = math.exp(-1.0) / (1.0 + math.exp(-1.0))  # p of class 2 in row 1; p of class 0 is 1 - q
    grad = [[-q / 2, 0.0, q / 2], [-1.0 / 2, 1.0 / 2, 0.0]]  # (p - y) / N
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow or divide-by-zero warning either
        got_loss, got_grad = gn.losses.CrossEntropy().from_logits(y_true, logits)
        got_value = gn.losses.CrossEntropy().loss_from_logits(y_true, logits)
    assert np.isfinite(got_loss) and np.isfinite(got_value) and np.isfinite(got_grad).all()
    close(got_loss, loss)
    close(got_value, loss)
    close(got_grad, grad)


def test_cross_entropy_with_label_smoothing() -> None:
    # e = 0.3, 3 classes: targets y (1 - e) + e / 3; the one-hot [0, 0, 1] becomes [0.1, 0.1, 0.8]
    y_true = np.array([[0.0, 0.0, 1.0]])
    y_pred = np.array([[0.2, 0.3, 0.5]])
    loss = -(0.1 * math.log(0.2) + 0.1 * math.log(0.3) + 0.8 * math.log(0.5))
    grad = [[-0.1 / 0.2, -0.1 / 0.3, -0.8 / 0.5]]  # -y' / p / N, N = 1
    smoothed = gn.losses.CrossEntropy(label_smoothing=0.3)
    close(smoothed(y_true, y_pred), loss)
    close(smoothed.gradient(y_true, y_pred), grad)
    # from logits [0, 0, 0]: p = 1/3 each; dLoss/dz = p - y' = [1/3 - 0.1, 1/3 - 0.1, 1/3 - 0.8]
    value, grad = smoothed.from_logits(y_true, np.zeros((1, 3)))
    close(value, math.log(3.0))
    close(grad, [[1 / 3 - 0.1, 1 / 3 - 0.1, 1 / 3 - 0.8]])


def test_cross_entropy_on_sequences_is_a_mean_over_every_step() -> None:
    # (N, T, classes) = (1, 2, 2): two distributions, so the mean divides by N * T = 2, not N = 1
    # step 1: target [1, 0], p = [0.5, 0.5] -> -log 0.5; step 2: target [0, 1], p = [0.2, 0.8] -> -log 0.8
    y_true = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    y_pred = np.array([[[0.5, 0.5], [0.2, 0.8]]])
    close(gn.losses.CrossEntropy()(y_true, y_pred), -(math.log(0.5) + math.log(0.8)) / 2)
    close(gn.losses.CrossEntropy().gradient(y_true, y_pred), [[[-1.0 / 0.5 / 2, 0.0], [0.0, -1.0 / 0.8 / 2]]])
    # from logits [[0, 0], [0, log 4]]: the same p; dLoss/dz = (p - y) / 2
    logits = np.array([[[0.0, 0.0], [0.0, math.log(4.0)]]])
    value, grad = gn.losses.CrossEntropy().from_logits(y_true, logits)
    close(value, -(math.log(0.5) + math.log(0.8)) / 2)
    close(grad, [[[(0.5 - 1.0) / 2, 0.5 / 2], [0.2 / 2, (0.8 - 1.0) / 2]]])
    close(gn.losses.CrossEntropy().loss_from_logits(y_true, logits), -(math.log(0.5) + math.log(0.8)) / 2)


def test_label_smoothing_reaches_the_loss_alone_from_logits() -> None:
    # evaluate calls loss_from_logits: e = 0.3 turns [0, 0, 1] into [0.1, 0.1, 0.8]; logits [0, 0, log 2]
    # give p = [1/4, 1/4, 1/2], so the loss is -(0.1 log 1/4 + 0.1 log 1/4 + 0.8 log 1/2) (unsmoothed: log 2)
    value = gn.losses.CrossEntropy(label_smoothing=0.3).loss_from_logits(
        np.array([[0.0, 0.0, 1.0]]), np.array([[0.0, 0.0, math.log(2.0)]])
    )
    close(value, -(0.2 * math.log(0.25) + 0.8 * math.log(0.5)))


def test_label_smoothing_is_checked_and_saved(tmp_path) -> None:
    with pytest.raises(gn.InputError, match=r"label_smoothing must be a number in \[0, 1\)"):
        gn.losses.CrossEntropy(label_smoothing=1.0)
    net = gn.Network(seed=0).add(gn.Dense(3, 2)).add(gn.Softmax()).use(gn.losses.CrossEntropy(label_smoothing=0.1))
    net.save(tmp_path / "m.npz")
    loaded = gn.Network.load(tmp_path / "m.npz").loss
    assert isinstance(loaded, gn.losses.CrossEntropy) and loaded.label_smoothing == 0.1
    assert repr(loaded) == "CrossEntropy(label_smoothing=0.1)"
