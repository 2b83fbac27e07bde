"""Perceptron: Rosenblatt's single neuron and his learning rule, the article's starting point.

The rule, in four steps:

1. Start from random weights and a random bias.
2. For an example, output 1 if the weighted sum of its inputs plus the bias is above 0, else 0.
3. If the output should have been 1, raise the weights of the active inputs by the learning
   rate; if it should have been 0, lower them. The bias is the weight of an input that is
   always active, so it moves too. A right answer changes nothing.
4. Repeat over the examples until every one is right, or an epoch limit is hit.

Step 3 is `w += learning_rate * (target - output) * x`: for 0/1 inputs it moves exactly the
active ones; for real inputs each weight moves in proportion to its input.

It converges when a straight line (a hyperplane) separates the two classes, and never otherwise:
XOR is the classic case, and the reason for networks of layers.
"""

from __future__ import annotations

import warnings

import numpy as np

from glassnet.checks import as_input_array, check_count, check_finite, check_positive
from glassnet.errors import InputError, NotReadyError, ShapeError


class ConvergenceWarning(UserWarning):
    """Training stopped at its epoch limit with examples still wrong.

    For a perceptron: the data are not linearly separable, or need more epochs.
    """


class Perceptron:
    """Rosenblatt's perceptron: a weighted sum, a 0/1 threshold, and his learning rule.

    Args:
        learning_rate: how far a wrong answer moves the weights, > 0.
        max_epochs: passes over the examples before giving up.
        seed: an int, a np.random.Generator or None (random): the source of the initial weights.

    Attributes (after fit):
        weights: float64 (features,); bias: a float.
        epochs_run: passes made; converged: True when the last pass got every example right.
        errors: the number of wrong answers in each pass.

    Shapes:
        x (N, features) -> predict (N,) of 0/1 ints; y (N,) of 0/1 (ints, bools or whole floats).
    """

    def __init__(
        self, learning_rate: float = 0.1, max_epochs: int = 100, seed: int | np.random.Generator | None = None
    ) -> None:
        self.learning_rate = check_positive(learning_rate, "Perceptron learning_rate", "0.01")
        self.max_epochs = check_count(max_epochs, "Perceptron max_epochs")
        self.rng = np.random.default_rng(seed)
        self.weights: np.ndarray | None = None
        self.bias = 0.0
        self.epochs_run = 0
        self.converged = False
        self.errors: list[int] = []

    def fit(self, x: object, y: object) -> Perceptron:
        """Learn weights by the four steps; warns with ConvergenceWarning if it does not converge."""
        x = _features(x)
        targets = _targets(y, len(x))
        weights: np.ndarray = self.rng.uniform(-0.5, 0.5, size=(x.shape[1],))  # step 1
        self.weights, self.bias = weights, float(self.rng.uniform(-0.5, 0.5))
        self.epochs_run, self.converged, self.errors = 0, False, []
        for _ in range(self.max_epochs):  # step 4: repeat
            mistakes = 0
            for inputs, target in zip(x, targets, strict=True):
                output = 1 if inputs @ weights + self.bias > 0 else 0  # step 2
                if output != target:  # step 3: +rate if it should have been 1, -rate if 0
                    change = self.learning_rate * (target - output)
                    weights += change * inputs  # only active (non-zero) inputs move
                    self.bias += change
                    mistakes += 1
            self.epochs_run += 1
            self.errors.append(mistakes)
            if mistakes == 0:
                self.converged = True
                return self
        warnings.warn(
            f"Perceptron did not converge: {self.errors[-1]} of {len(x)} examples were still wrong after "
            f"max_epochs={self.max_epochs} epochs. If the data are not linearly separable (XOR, for one: "
            "no straight line puts (0, 1) and (1, 0) on one side and (0, 0) and (1, 1) on the other), no "
            "number of epochs helps: use a network with a hidden layer. Otherwise raise max_epochs.",
            ConvergenceWarning,
            stacklevel=2,
        )
        return self

    def decision_function(self, x: object) -> np.ndarray:
        """The weighted sum plus bias of each example; predict thresholds it at 0.

        Shapes:
            x (N, features) -> (N,) float64.
        """
        if self.weights is None:
            raise NotReadyError("this Perceptron is not fitted yet: call fit(x, y) before predict")
        x = _features(x)
        if x.shape[1] != len(self.weights):
            raise ShapeError(
                f"Perceptron expected input (N, {len(self.weights)}) as in fit, got {x.shape}: "
                f"give each example {len(self.weights)} features"
            )
        return np.asarray(x @ self.weights + self.bias)

    def predict(self, x: object) -> np.ndarray:
        """The 0/1 output for each example.

        Shapes:
            x (N, features) -> (N,) int64.
        """
        return (self.decision_function(x) > 0).astype(np.int64)

    def __repr__(self) -> str:
        return f"Perceptron(learning_rate={self.learning_rate}, max_epochs={self.max_epochs})"


def _features(x: object) -> np.ndarray:
    """x as a finite float64 (N, features) array, or a clear error."""
    array = as_input_array(x, "x")
    if array.ndim != 2:
        raise ShapeError(
            f"Perceptron expected x of shape (N, features), got {array.shape}: "
            "give one row per example, e.g. x.reshape(len(x), -1)"
        )
    array = array.astype(np.float64)
    check_finite(array, "x")
    return array


def _targets(y: object, n: int) -> np.ndarray:
    """y as an int64 (N,) array of 0s and 1s, or a clear error."""
    array = as_input_array(y, "y")
    if array.ndim != 1:
        raise ShapeError(f"Perceptron expected y of shape (N,), one 0/1 target per example, got {array.shape}")
    if len(array) != n:
        raise ShapeError(f"x and y must have one entry per example, got {n} examples in x and {len(array)} in y")
    bad = (array != 0) & (array != 1)
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(
            f"Perceptron targets must be 0 or 1, got y[{i}] = {array[i].item()!r}: "
            "map the two classes to 0 and 1, e.g. (y == positive_label).astype(int)"
        )
    return array.astype(np.int64)
