"""The training doctor: each diagnosis provoked by the mistake it names, and a healthy run that says nothing."""

from __future__ import annotations

import time

import numpy as np
import pytest

import glassnet as gn

(X_TRAIN, Y_TRAIN), _ = gn.datasets.load_mnist()
X, Y = X_TRAIN[:2000], Y_TRAIN[:2000]


def mlp(activation: type[gn.Layer] = gn.ReLU, hidden: int = 32, rate: float = 0.1) -> gn.Network:
    return (
        gn.Network(seed=0, epochs=2, learning_rate=rate, batch_size=32, verbose=0)
        .add(gn.Flatten())
        .add(gn.Dense(784, hidden))
        .add(activation())
        .add(gn.Dense(hidden, 10))
        .add(gn.Softmax())
        .use("cross_entropy")
    )


def codes(net: gn.Network) -> list[str]:
    return [diagnosis.code for diagnosis in net.diagnoses]


def test_a_healthy_run_says_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    net = mlp().fit(X[:1200], Y[:1200], validation_data=(X_TRAIN[-300:], Y_TRAIN[-300:]), verbose=2)
    assert net.diagnoses == []
    assert "doctor" not in capsys.readouterr().out


def test_the_doctor_changes_no_bit_and_can_be_switched_off() -> None:
    watched = mlp().fit(X[:300] * 255, Y[:300], learning_rate=1e-4, epochs=1)
    unwatched = mlp().fit(X[:300] * 255, Y[:300], learning_rate=1e-4, epochs=1, doctor=False)
    assert codes(watched) == ["unscaled_inputs"] and unwatched.diagnoses == []
    for a, b in zip(watched.parameters(), unwatched.parameters(), strict=True):
        np.testing.assert_array_equal(a.value, b.value)


def test_it_speaks_once_per_diagnosis_while_verbose(capsys: pytest.CaptureFixture[str]) -> None:
    mlp().fit(X[:500] * 255, Y[:500], learning_rate=1e-4, epochs=3, verbose=2)
    out = capsys.readouterr().out
    assert out.count("doctor: inputs are not scaled (values up to 255): x / 255") == 1


def test_silent_with_verbose_0_but_kept(capsys: pytest.CaptureFixture[str]) -> None:
    net = mlp().fit(X[:500] * 255, Y[:500], learning_rate=1e-4, epochs=1)
    assert codes(net) == ["unscaled_inputs"]
    assert capsys.readouterr().out == ""


def test_mse_on_softmax() -> None:
    assert codes(mlp().use("mse").fit(X[:500], Y[:500])) == ["mse_on_softmax"]


def test_cross_entropy_without_softmax() -> None:
    net = gn.Network(seed=0, verbose=0).add(gn.Dense(4, 3)).add(gn.Sigmoid()).add(gn.Dense(3, 3)).use("cross_entropy")
    x = np.random.default_rng(0).random((8, 4))
    assert "cross_entropy_without_softmax" in codes(net.fit(x, np.arange(8) % 3))


def test_class_numbers_as_values() -> None:
    net = gn.Network(seed=0, verbose=0).add(gn.Flatten()).add(gn.Dense(784, 1)).use("mse")
    assert "class_numbers_as_values" in codes(net.fit(X[:500], Y[:500, None].astype(np.float32), learning_rate=1e-3))


def test_learning_rate_too_high() -> None:
    assert "rate_too_high" in codes(mlp(gn.Tanh, rate=3.0).fit(X, Y))


def test_learning_rate_too_low() -> None:
    assert "rate_too_low" in codes(mlp(rate=1e-6).fit(X, Y))


def test_accuracy_stuck_at_chance() -> None:
    labels = np.random.default_rng(0).integers(0, 10, len(Y))  # labels that do not belong to the images
    assert "stuck_at_chance" in codes(mlp().fit(X, labels))


def test_exploding_gradients() -> None:
    net = gn.Network(seed=0, verbose=0).add(gn.Flatten()).add(gn.Dense(784, 32)).add(gn.Tanh()).add(gn.Dense(32, 1))
    targets = (Y[:500, None] * 1000 + 0.5).astype(np.float32)  # targets in the thousands, not scaled
    assert "exploding_gradients" in codes(net.use("mse").fit(X[:500], targets, learning_rate=0.01))


def test_vanishing_gradients() -> None:
    net = gn.Network(seed=0, epochs=1, learning_rate=0.1, verbose=0).add(gn.Flatten()).add(gn.Dense(784, 16))
    for _ in range(10):
        net.add(gn.Sigmoid()).add(gn.Dense(16, 16))
    net.add(gn.Sigmoid()).add(gn.Dense(16, 10)).add(gn.Softmax()).use("cross_entropy")
    assert "vanishing_gradients" in codes(net.fit(X[:500], Y[:500]))


def test_dead_relu_units() -> None:
    net = mlp()
    net.layers[1].bias.value[:] = -50  # every hidden unit starts far below zero
    assert "dead_relu" in codes(net.fit(X[:500], Y[:500]))
    assert "of the ReLU units of layer 3 never fire" in str(net.diagnoses[codes(net).index("dead_relu")])


def test_saturated_tanh() -> None:
    net = mlp(gn.Tanh)
    net.layers[1].weight.value *= 30
    assert codes(net.fit(X[:500], Y[:500])) == ["saturated"]


def test_overfitting() -> None:
    wrong = (Y[:200] + 1) % 10  # validation labels the training can only get further from
    net = mlp(hidden=64).fit(X[:200], Y[:200], epochs=4, validation_data=(X[:200], wrong))
    assert codes(net) == ["overfitting"]


def test_a_run_that_got_slower() -> None:
    class Stall(gn.Layer):
        slow = False

        def forward(self, x):
            if self.slow:
                time.sleep(1.2)
                self.slow = False
            return x

        def backward(self, grad):
            return grad

    stall = Stall()

    def slow_down(net: gn.Network, epoch: int, logs: dict[str, float]) -> None:
        stall.slow = epoch == 2

    net = gn.Network(seed=0, epochs=3, verbose=0).add(stall).add(gn.Dense(4, 2)).add(gn.Softmax()).use("cross_entropy")
    net.fit(np.random.default_rng(0).random((64, 4)), np.arange(64) % 2, callbacks=[slow_down])
    assert "slow" in codes(net) and "epoch 3 took" in str(net.diagnoses[codes(net).index("slow")])


def test_examine_a_saved_model() -> None:
    from glassnet.network.doctor import examine

    net = mlp().fit(X[:300], Y[:300], epochs=1)
    assert examine(net, X_TRAIN[-256:], Y_TRAIN[-256:]) == []
    net.layers[1].bias.value[:] = -50
    net.history |= {"loss": [3.0, 2.0, 1.0], "val_loss": [1.0, 1.1, 1.2]}
    found = [diagnosis.code for diagnosis in examine(net, X_TRAIN[-256:], Y_TRAIN[-256:])]
    assert found[0] == "overfitting" and {"dead_relu", "stuck_at_chance"} <= set(found)
    assert "on 256 samples" in str(examine(net, X_TRAIN[-256:], Y_TRAIN[-256:])[-1])
