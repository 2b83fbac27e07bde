"""evaluate() and the epoch's training loss against numbers worked out by hand on a 3-sample network.

Dense(2, 2) with the identity as weight and a zero bias passes x through, so the logits are the
inputs themselves. Batches of 2 do not divide 3 samples: a mean over the batches' means would
differ from the mean over the samples, which is what evaluate promises.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassnet as gn

# logits = x; softmax([log 3, 0]) = [3/4, 1/4], softmax([0, log 4]) = [1/5, 4/5], softmax([log 4, 0]) = [4/5, 1/5]
X = np.array([[math.log(3.0), 0.0], [0.0, math.log(4.0)], [math.log(4.0), 0.0]])
LABELS = np.array([0, 1, 1])  # the first two are predicted right, the third wrong
SAMPLE_LOSSES = [math.log(4 / 3), math.log(5 / 4), math.log(5.0)]  # -log p(label) of each sample
MEAN_LOSS = sum(SAMPLE_LOSSES) / 3
BATCH_MEAN_LOSS = ((SAMPLE_LOSSES[0] + SAMPLE_LOSSES[1]) / 2 + SAMPLE_LOSSES[2]) / 2  # the wrong mean, batches of 2


class Frozen(gn.optimizers.Optimizer):
    """An optimizer that never moves a parameter, so every batch of an epoch sees the same weights."""

    def update(self, param: gn.Parameter, grad: np.ndarray, state: dict[str, np.ndarray]) -> None:
        return None


def identity_network(last: gn.Layer | None, loss: str) -> gn.Network:
    """Dense(2, 2) = identity in float64, then `last` (or nothing), with `loss`."""
    net = gn.Network(seed=0, verbose=0, optimizer=Frozen(0.1)).add(gn.Dense(2, 2))
    if last is not None:
        net.add(last)
    dense = net.layers[0]
    dense.weight.value = np.eye(2)
    dense.bias.value = np.zeros(2)
    return net.use(loss)


def test_the_hand_computed_means_differ() -> None:
    # otherwise the tests below could not tell a mean over samples from one over batches
    assert abs(MEAN_LOSS - BATCH_MEAN_LOSS) > 0.1


@pytest.mark.parametrize("batch_size", [1, 2, 256])
def test_evaluate_softmax_cross_entropy_is_the_mean_over_samples(batch_size: int) -> None:
    net = identity_network(gn.Softmax(), "cross_entropy")
    result = net.evaluate(X, LABELS, batch_size=batch_size)
    assert result["loss"] == pytest.approx(MEAN_LOSS, rel=1e-12)
    assert result["accuracy"] == pytest.approx(2 / 3, rel=1e-15)
    one_hot = net.evaluate(X, np.eye(2)[LABELS], batch_size=batch_size)  # one-hot targets: the same numbers
    assert one_hot["loss"] == pytest.approx(MEAN_LOSS, rel=1e-12)
    assert one_hot["accuracy"] == pytest.approx(2 / 3, rel=1e-15)


@pytest.mark.parametrize("batch_size", [2, 256])
def test_evaluate_mse_is_the_mean_over_every_element(batch_size: int) -> None:
    # outputs = x; targets below; squared errors per sample (both outputs):
    # sample 1: (log 3 - 1)^2 + 0^2; sample 2: 0^2 + (log 4 - 0)^2; sample 3: (log 4 - 0)^2 + (0 - 2)^2
    y = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 2.0]])
    squares = (math.log(3.0) - 1) ** 2 + math.log(4.0) ** 2 + math.log(4.0) ** 2 + 4.0
    net = identity_network(None, "mse")
    assert net.evaluate(X, y, batch_size=batch_size)["loss"] == pytest.approx(squares / 6, rel=1e-12)


def test_evaluate_accuracy_of_a_single_score_is_thresholded_at_one_half() -> None:
    # Dense(2, 1) with weight [[1], [0]]: the score is x[:, 0] = [log 3, 0, log 4] -> classes [1, 0, 1]
    net = gn.Network(seed=0, verbose=0).add(gn.Dense(2, 1)).use("mse")
    net.layers[0].weight.value = np.array([[1.0], [0.0]])
    net.layers[0].bias.value = np.zeros(1)
    y = np.array([[1.0], [1.0], [1.0]])  # labels [1, 1, 1]: two of three right
    result = net.evaluate(X, y, batch_size=2)
    assert result["accuracy"] == pytest.approx(2 / 3, rel=1e-15)
    squares = (math.log(3.0) - 1) ** 2 + 1.0 + (math.log(4.0) - 1) ** 2
    assert result["loss"] == pytest.approx(squares / 3, rel=1e-12)


def test_the_epochs_training_loss_and_accuracy_are_means_over_samples() -> None:
    # the Frozen optimizer keeps the weights, so every batch sees the identity network: the epoch's
    # numbers must be evaluate's, batches of 2 over 3 samples included
    net = identity_network(gn.Softmax(), "cross_entropy")
    net.fit(X, LABELS, epochs=1, batch_size=2, shuffle=False)
    assert net.history["loss"] == [pytest.approx(MEAN_LOSS, rel=1e-12)]
    assert net.history["accuracy"] == [pytest.approx(2 / 3, rel=1e-15)]
    np.testing.assert_array_equal(net.layers[0].weight.value, np.eye(2))  # the optimizer did freeze it


def test_one_fused_softmax_cross_entropy_step_moves_the_weights_by_the_hand_gradient() -> None:
    # one batch of all 3 samples, plain SGD with rate 1: W <- W - X^T (P - Y) / 3, b <- b - sum(P - Y) / 3
    # P - Y = [[3/4 - 1, 1/4], [1/5, 4/5 - 1], [4/5, 1/5 - 1]] = [[-1/4, 1/4], [1/5, -1/5], [4/5, -4/5]]
    # X^T (P - Y): row 0 = log 3 * [-1/4, 1/4] + log 4 * [4/5, -4/5], row 1 = log 4 * [1/5, -1/5]
    l3, l4 = math.log(3.0), math.log(4.0)
    grad_w = np.array([[-l3 / 4 + 4 * l4 / 5, l3 / 4 - 4 * l4 / 5], [l4 / 5, -l4 / 5]]) / 3
    grad_b = np.array([-1 / 4 + 1 / 5 + 4 / 5, 1 / 4 - 1 / 5 - 4 / 5]) / 3  # [0.25, -0.25]
    net = identity_network(gn.Softmax(), "cross_entropy")
    net.optimizer = gn.optimizers.SGD(1.0)
    net.fit(X, LABELS, epochs=1, batch_size=3, shuffle=False)
    np.testing.assert_allclose(net.layers[0].weight.value, np.eye(2) - grad_w, rtol=1e-12)
    np.testing.assert_allclose(net.layers[0].bias.value, -grad_b, rtol=1e-12)


def test_predict_and_evaluate_choose_a_batch_that_fits_the_inference_budget() -> None:
    from glassnet.io.limits import INFERENCE_BATCHES, INFERENCE_ELEMENTS, inference_batch

    mlp = [gn.Flatten(), gn.Dense(784, 128), gn.ReLU(), gn.Dense(128, 10)]
    assert inference_batch(mlp, (28, 28, 1)) == INFERENCE_BATCHES[1]  # ~1,700 elements a sample: the most
    wide = [gn.Conv2D(1, 64, 3, padding="same"), gn.ReLU()]  # ~150,000 elements a sample
    assert INFERENCE_BATCHES[0] <= inference_batch(wide, (28, 28, 1)) < INFERENCE_ELEMENTS // 100_000
    assert inference_batch(mlp, (28, 28, 1), 7) == 7
    with pytest.raises(gn.InputError, match="batch_size"):
        inference_batch(mlp, (28, 28, 1), 0)
