"""Perceptron: Rosenblatt's rule learns AND and OR, and gives up on XOR with a clear warning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassnet as gn
from glassnet.perceptron import ConvergenceWarning, Perceptron

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
AND = np.array([0, 0, 0, 1])
OR = np.array([0, 1, 1, 1])
XOR = np.array([0, 1, 1, 0])


def test_exported_from_glassnet():
    assert gn.Perceptron is Perceptron
    assert gn.ConvergenceWarning is ConvergenceWarning
    assert issubclass(ConvergenceWarning, UserWarning)


@pytest.mark.parametrize("name, y", [("AND", AND), ("OR", OR)])
@pytest.mark.parametrize("seed", range(20))
def test_learns_linearly_separable_gates_in_a_few_epochs(name, y, seed):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        p = Perceptron(seed=seed).fit(X, y)
    assert p.converged
    assert p.epochs_run <= 20, f"{name} took {p.epochs_run} epochs"
    assert p.errors[-1] == 0 and len(p.errors) == p.epochs_run
    np.testing.assert_array_equal(p.predict(X), y)


def test_fit_returns_self_and_sets_weights_and_bias():
    p = Perceptron(seed=0)
    assert p.fit(X, AND) is p
    assert p.weights.shape == (2,) and p.weights.dtype == np.float64
    assert isinstance(p.bias, float)
    # AND: both weights positive, and only both together beat the (negative) bias.
    assert (p.weights > 0).all() and p.bias < 0 < p.weights.sum() + p.bias


def test_xor_stops_at_the_epoch_limit_with_a_warning():
    p = Perceptron(max_epochs=25, seed=0)
    with pytest.warns(ConvergenceWarning, match="not linearly separable"):
        p.fit(X, XOR)
    assert not p.converged
    assert p.epochs_run == 25 and len(p.errors) == 25
    assert min(p.errors) > 0
    assert (p.predict(X) != XOR).any()


def test_the_learning_rule_step_by_step():
    """One wrong answer moves the active inputs' weights and the bias by the rate, no others."""
    p = Perceptron(learning_rate=0.5, max_epochs=1, seed=0)
    expected = np.random.default_rng(0).uniform(-0.5, 0.5, size=3)
    w, b = expected[:2].copy(), expected[2]
    x = np.array([[1.0, 0.0]])
    out = int(x[0] @ w + b > 0)
    target = 1 - out  # make it wrong
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        p.fit(x, [target])
    sign = 1 if target == 1 else -1
    np.testing.assert_allclose(p.weights, [w[0] + sign * 0.5, w[1]])  # only the active input moved
    assert p.bias == pytest.approx(b + sign * 0.5)
    assert p.errors == [1]


def test_a_right_answer_changes_nothing():
    drawn = np.random.default_rng(0).uniform(-0.5, 0.5, size=3)
    x = np.array([[1.0, 1.0]])
    target = int(x[0] @ drawn[:2] + drawn[2] > 0)  # what the initial weights already answer
    p = Perceptron(seed=0).fit(x, [target])
    assert p.converged and p.epochs_run == 1 and p.errors == [0]
    np.testing.assert_array_equal(p.weights, drawn[:2])
    assert p.bias == drawn[2]


def test_same_seed_same_weights_and_generator_accepted():
    a = Perceptron(seed=7).fit(X, OR)
    b = Perceptron(seed=np.random.default_rng(7)).fit(X, OR)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert a.bias == b.bias and a.errors == b.errors


def test_real_valued_inputs_and_bool_or_float_targets():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + 0.3 > 0  # separable by construction, bool labels
    p = Perceptron(max_epochs=1000, seed=0).fit(x, y)
    assert p.converged
    np.testing.assert_array_equal(p.predict(x), y.astype(int))
    assert p.predict(x).dtype == np.int64
    p = Perceptron(seed=0).fit(X.astype(float), AND.astype(float))
    assert p.converged
    np.testing.assert_allclose(p.decision_function(X), X @ p.weights + p.bias)


@pytest.mark.parametrize(
    "x, y, error, match",
    [
        (X, [0, 1, 2, 1], gn.InputError, r"must be 0 or 1, got y\[2\] = 2"),
        (X, [0, 1, 1], gn.ShapeError, "4 examples in x and 3 in y"),
        (X, AND.reshape(2, 2), gn.ShapeError, r"y of shape \(N,\)"),
        (X.ravel(), np.zeros(8), gn.ShapeError, r"x of shape \(N, features\)"),
        (np.array([[0, np.nan], [1, 1]]), [0, 1], gn.InputError, "NaN"),
        ([["a", "b"]], [0], gn.InputTypeError, "x"),
        (np.zeros((0, 2)), [], gn.InputError, "empty"),
    ],
)
def test_bad_data_gets_a_clear_error(x, y, error, match):
    with pytest.raises(error, match=match):
        Perceptron(seed=0).fit(x, y)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"learning_rate": 0}, "learning_rate"),
        ({"learning_rate": float("nan")}, "learning_rate"),
        ({"max_epochs": 0}, "max_epochs"),
        ({"max_epochs": 2.5}, "max_epochs"),
    ],
)
def test_bad_hyper_parameters(kwargs, match):
    with pytest.raises(gn.InputError, match=match):
        Perceptron(**kwargs)


def test_predict_before_fit_and_with_the_wrong_width():
    with pytest.raises(gn.NotReadyError, match="call fit"):
        Perceptron().predict(X)
    p = Perceptron(seed=0).fit(X, AND)
    with pytest.raises(gn.ShapeError, match=r"expected input \(N, 2\)"):
        p.predict(np.ones((4, 3)))
