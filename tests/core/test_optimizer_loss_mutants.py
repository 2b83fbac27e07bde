"""Tests for mutants that survived in optimizers.py and losses.py (docs/mutation.md): each fails if its line breaks."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet.errors import InputError
from glassnet.losses import CrossEntropy, FunctionLoss, distributions, get_loss, log_softmax
from glassnet.optimizers import SGD, Adagrad, Adam, AdamW, RMSprop, get_optimizer


def test_named_optimizers_carry_their_options() -> None:
    momentum = get_optimizer("momentum", 0.1)
    assert type(momentum) is SGD and momentum.momentum == 0.9 and momentum.learning_rate == 0.1
    assert get_optimizer("sgd", 0.1).momentum == 0.0
    assert [type(get_optimizer(name, 0.1)) for name in ("adam", "adamw", "rmsprop", "adagrad")] == [
        Adam,
        AdamW,
        RMSprop,
        Adagrad,
    ]


def test_nesterov_needs_momentum() -> None:
    with pytest.raises(InputError, match="nesterov=True needs a momentum > 0"):
        SGD(0.1, nesterov=True)
    assert SGD(0.1, momentum=0.5, nesterov=True).nesterov is True


def test_default_learning_rates_are_pytorchs() -> None:
    assert (SGD().learning_rate, Adam().learning_rate, AdamW().learning_rate) == (0.01, 1e-3, 1e-3)
    assert (RMSprop().learning_rate, Adagrad().learning_rate) == (0.01, 0.01)


def test_values_above_one_are_accepted_where_they_mean_something() -> None:
    assert Adam(eps=2.0).eps == 2.0 and SGD(weight_decay=3.0).weight_decay == 3.0
    assert Adagrad(initial_accumulator_value=5.0).initial_accumulator_value == 5.0


def test_a_loss_of_two_functions_is_the_articles_use_fn_fn_prime() -> None:
    def l1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return float(np.abs(y_pred - y_true).mean())

    def l1_prime(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        return np.sign(y_pred - y_true) / y_true.size

    loss = get_loss(l1, l1_prime)
    assert isinstance(loss, FunctionLoss) and repr(loss) == "FunctionLoss(l1)"
    y, p = np.array([[0.0, 1.0]]), np.array([[0.5, 0.25]], dtype=np.float32)
    assert loss(y, p) == pytest.approx(0.625)  # (0.5 + 0.75) / 2
    grad = loss.gradient(y, p)
    assert grad.dtype == np.float32 and np.array_equal(grad, np.array([[0.5, -0.5]], dtype=np.float32))
    net = gn.Network(seed=0, learning_rate=0.5, verbose=0).add(gn.Dense(2, 2)).use(l1, l1_prime)
    before = net.evaluate(np.eye(2), np.eye(2))["loss"]
    net.fit(np.eye(2), np.eye(2), epochs=20, batch_size=2)
    assert net.evaluate(np.eye(2), np.eye(2))["loss"] < before


def test_log_softmax_and_the_loss_of_sequences_are_per_step() -> None:
    logits = np.array([[[0.0, 0.0], [0.0, np.log(3.0)]]])  # (N=1, T=2, classes=2)
    expected = np.log([[[0.5, 0.5], [0.25, 0.75]]])
    np.testing.assert_allclose(log_softmax(logits), expected)
    assert distributions(logits) == 2 and distributions(np.zeros((4, 3))) == 4 and distributions(np.float64(1)) == 1
    targets = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    assert CrossEntropy().loss_from_logits(targets, logits) == pytest.approx(-(np.log(0.5) + np.log(0.75)) / 2)


def test_cross_entropy_of_a_zero_probability_is_large_but_finite() -> None:
    y, p = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]], dtype=np.float32)
    tiny = np.finfo(np.float32).tiny
    assert CrossEntropy()(y, p) == pytest.approx(-np.log(tiny), rel=1e-6)  # log clipped at the smallest float
    grad = CrossEntropy().gradient(y, p)
    assert np.isfinite(grad).all() and grad[0, 0] == pytest.approx(-1 / tiny, rel=1e-6) and grad[0, 1] == 0
    over = np.array([[1.5, 0.0]], dtype=np.float32)  # above 1: clipped to 1, loss 0
    assert CrossEntropy()(y, over) == 0.0
