"""Network: the article's XOR, custom layers, chaining, determinism, dtypes, shapes and modes."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR_Y = np.array([[0], [1], [1], [0]], dtype=np.float32)


def xor_network(**kwargs) -> gn.Network:
    options = {"epochs": 1000, "learning_rate": 0.1, "batch_size": 4, "seed": 0, "verbose": 0, **kwargs}
    return gn.Network(**options).add(gn.Dense(2, 3)).add(gn.Tanh()).add(gn.Dense(3, 1)).add(gn.Tanh())


def test_xor_learnt_with_tanh_and_the_articles_mse():
    net = xor_network().use(gn.losses.mse, gn.losses.mse_prime).fit(XOR_X, XOR_Y)
    assert np.array_equal(np.round(net.predict(XOR_X)), XOR_Y)
    assert net.history["accuracy"][-1] == 1.0
    assert net.evaluate(XOR_X, XOR_Y)["accuracy"] == 1.0


def test_add_use_fit_chain_and_return_the_same_network():
    net = gn.Network(epochs=1, verbose=0)
    assert net.add(gn.Dense(2, 1)) is net
    assert net.use("mse") is net
    assert net.fit(XOR_X, XOR_Y) is net


class Sine(gn.Layer):
    def forward(self, x):
        self.x = x
        return np.sin(x)

    def backward(self, grad):
        return grad * np.cos(self.x)


def test_the_articles_sine_layer_trains_inside_a_network():
    net = xor_network(epochs=1500).use("mse")
    net.layers[1] = Sine()
    net.fit(XOR_X, XOR_Y)
    assert net.history["loss"][-1] < net.history["loss"][0] / 5
    assert net.history["accuracy"][-1] == 1.0


class Scale(gn.Layer):
    """A custom layer owning a Parameter: y = x * s, one s per feature."""

    def __init__(self, features):
        self.s = gn.Parameter(np.full(features, 0.1, dtype=np.float32))

    def forward(self, x):
        self.x = x
        return x * self.s.value

    def backward(self, grad):
        self.s.grad = (grad * self.x).sum(axis=0)
        return grad * self.s.value


def test_a_custom_layer_with_a_parameter_is_trained_by_the_optimizer(rng):
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = x * np.array([2.0, -1.0, 0.5], dtype=np.float32)
    scale = Scale(3)
    net = gn.Network(epochs=200, learning_rate=0.5, batch_size=64, seed=0, verbose=0).add(scale).use("mse")
    assert net.parameters() == [scale.s]
    net.fit(x, y)
    np.testing.assert_allclose(scale.s.value, [2.0, -1.0, 0.5], atol=1e-3)


def test_same_seed_gives_bit_identical_weights_and_history(rng):
    x = rng.standard_normal((100, 6, 6, 1)).astype(np.float32)
    y = rng.integers(0, 3, 100)

    def run():
        net = (
            gn.Network(epochs=2, learning_rate=0.05, batch_size=16, seed=42, verbose=0, optimizer="adam")
            .add(gn.Conv2D(1, 2, 3))
            .add(gn.ReLU())
            .add(gn.MaxPool2D(2))
            .add(gn.Flatten())
            .add(gn.Dropout(0.2))
            .add(gn.Dense(8, 3))
            .add(gn.Softmax())
            .use("cross_entropy")
            .fit(x, y, validation_split=0.2)
        )
        return [p.value.copy() for p in net.parameters()], {
            k: list(v) for k, v in net.history.items() if k != "seconds"
        }

    (weights_a, history_a), (weights_b, history_b) = run(), run()
    assert history_a == history_b
    assert all(np.array_equal(a, b) for a, b in zip(weights_a, weights_b, strict=True))


def test_unseeded_networks_differ():
    a, b = gn.Network().add(gn.Dense(4, 4)), gn.Network().add(gn.Dense(4, 4))
    assert not np.array_equal(a.parameters()[0].value, b.parameters()[0].value)


def test_auto_init_is_he_before_relu_and_glorot_otherwise():
    relu_net = gn.Network(seed=3).add(gn.Dense(400, 300)).add(gn.ReLU())
    tanh_net = gn.Network(seed=3).add(gn.Dense(400, 300)).add(gn.Tanh())
    he_limit, glorot_limit = np.sqrt(6 / 400), np.sqrt(6 / 700)
    relu_w, tanh_w = relu_net.parameters()[0].value, tanh_net.parameters()[0].value
    assert glorot_limit < np.abs(relu_w).max() <= he_limit
    assert np.abs(tanh_w).max() <= glorot_limit
    np.testing.assert_allclose(relu_w, tanh_w * np.float32(np.sqrt(700 / 400)), rtol=1e-6)


def test_values_set_by_the_user_survive_add_and_are_never_redrawn():
    dense = gn.Dense(2, 1)
    dense.initialize(np.random.default_rng(0))
    dense.weight.value = np.array([[1.0], [2.0]], dtype=np.float32)
    net = gn.Network(seed=0, verbose=0).add(dense).add(gn.ReLU()).use("mse")
    assert np.array_equal(dense.weight.value, [[1.0], [2.0]])
    before = dense.weight
    net.fit(XOR_X, XOR_Y, epochs=1, learning_rate=1e-9)
    assert dense.weight is before
    np.testing.assert_allclose(dense.weight.value, [[1.0], [2.0]], atol=1e-6)


def test_softmax_cross_entropy_is_fused_and_stable_for_huge_logits():
    net = gn.Network(verbose=0, seed=0).add(gn.Dense(2, 3)).add(gn.Softmax()).use("cross_entropy")
    net.parameters()[0].value = np.array([[1e4, -1e4, 0.0], [0.0, 0.0, 0.0]], dtype=np.float32)
    x = np.array([[1.0, 0.0], [-1.0, 0.0]], dtype=np.float32)
    y = np.array([1, 0])  # both maximally wrong
    scores = net.evaluate(x, y)
    assert np.isfinite(scores["loss"]) and scores["loss"] > 1e3
    net.fit(x, y, epochs=1)  # RuntimeWarnings are errors in this test suite
    assert all(np.all(np.isfinite(p.value)) for p in net.parameters())


def test_float_dtypes_follow_the_parameters():
    net = gn.Network(seed=0).add(gn.Dense(2, 2))
    assert net.predict(np.ones((3, 2), dtype=np.float64)).dtype == np.float32
    for p in net.parameters():
        p.value = p.value.astype(np.float64)
    assert net.predict(np.ones((3, 2), dtype=np.float32)).dtype == np.float64
    no_params = gn.Network().add(gn.Tanh())
    assert no_params.predict(np.ones((3, 2), dtype=np.float64)).dtype == np.float64
    assert no_params.predict(np.ones((3, 2), dtype=np.uint8)).dtype == np.float32


class ModeRecorder(gn.Layer):
    def __init__(self):
        self.modes = []

    def forward(self, x):
        self.modes.append(self.training)
        return x

    def backward(self, grad):
        return grad


def test_training_mode_is_on_only_inside_fit():
    recorder = ModeRecorder()
    net = gn.Network(epochs=1, batch_size=4, verbose=0).add(gn.Dense(2, 1)).add(recorder).use("mse")
    net.predict(XOR_X)
    net.fit(XOR_X, XOR_Y)
    net.predict(XOR_X)
    assert recorder.modes == [False, True, False]
    assert recorder.training is False


def test_predict_in_batches_equals_one_big_batch(rng):
    net = gn.Network(seed=1).add(gn.Conv2D(1, 2, 3)).add(gn.Flatten()).add(gn.Dense(18, 4)).add(gn.Softmax())
    x = rng.standard_normal((37, 5, 5, 1)).astype(np.float32)
    np.testing.assert_allclose(net.predict(x, batch_size=5), net.predict(x, batch_size=100), rtol=1e-6)


def test_shape_errors_at_add_when_shapes_are_known():
    net = gn.Network().add(gn.Dense(784, 100))
    with pytest.raises(gn.ShapeError, match=r"Dense\(50 -> 10\) expected input \(N, 50\), got \(N, 100\)"):
        net.add(gn.Dense(50, 10))
    assert len(net.layers) == 1  # the rejected layer is not kept


def test_shape_errors_at_the_first_batch_when_shapes_were_unknown():
    net = gn.Network(verbose=0).add(gn.Conv2D(1, 4, 3)).add(gn.Flatten()).add(gn.Dense(100, 10)).use("cross_entropy")
    with pytest.raises(gn.ShapeError, match=r"Dense\(100 -> 10\).*got \(8, 2704\).*use Dense\(2704, 10\)"):
        net.fit(np.zeros((8, 28, 28, 1)), np.zeros(8, dtype=int))


def test_integer_labels_and_one_hot_train_identically(rng):
    x = rng.standard_normal((40, 4)).astype(np.float32)
    labels = rng.integers(0, 3, 40)

    def run(y):
        net = gn.Network(epochs=2, batch_size=8, seed=5, verbose=0).add(gn.Dense(4, 3)).add(gn.Softmax())
        return net.use("cross_entropy").fit(x, y).history

    a, b = run(labels), run(gn.datasets.to_categorical(labels, 3))
    assert a["loss"] == b["loss"] and a["accuracy"] == b["accuracy"]


def test_history_validation_and_summary(rng):
    x = rng.standard_normal((50, 4)).astype(np.float32)
    y = rng.integers(0, 2, 50)
    net = gn.Network(epochs=3, batch_size=10, seed=0, verbose=0).add(gn.Dense(4, 2)).add(gn.Softmax())
    net.use("cross_entropy").fit(x, y, validation_data=(x[:10], y[:10]))
    assert {k: len(v) for k, v in net.history.items()} == dict.fromkeys(
        ["loss", "accuracy", "val_loss", "val_accuracy", "seconds", "batch_points"], 3
    ) | {"batch_loss": 15}  # 5 batches an epoch
    assert net.history["val_loss"][-1] == pytest.approx(net.evaluate(x[:10], y[:10])["loss"])
    table = net.summary()
    assert "Dense(4 -> 2)" in table and "(N, 2)" in table and "Total parameters: 10" in table


def test_fit_prints_one_line_per_epoch(capsys, rng):
    x, y = rng.standard_normal((20, 2)).astype(np.float32), rng.integers(0, 2, 20)
    net = gn.Network(epochs=2, verbose=2).add(gn.Dense(2, 2)).add(gn.Softmax()).use("cross_entropy")
    net.fit(x, y, validation_split=0.25)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("Epoch 2/2") and "val_accuracy" in lines[1]


def test_callbacks_see_each_epoch_and_can_stop_training(rng):
    seen = []

    def stop_after_two(net, epoch, logs):
        seen.append((epoch, sorted(logs)))
        net.stop_training = epoch == 2

    x, y = rng.standard_normal((20, 2)).astype(np.float32), rng.integers(0, 2, 20)
    net = gn.Network(epochs=5, verbose=0).add(gn.Dense(2, 2)).add(gn.Softmax()).use("cross_entropy")
    net.fit(x, y, callbacks=[stop_after_two])
    assert [epoch for epoch, _ in seen] == [1, 2]
    assert len(net.history["loss"]) == 2


def test_fit_overrides_and_a_second_fit_trains_more_epochs(rng):
    x, y = rng.standard_normal((20, 2)).astype(np.float32), rng.integers(0, 2, 20)
    net = gn.Network(epochs=1, verbose=0).add(gn.Dense(2, 2)).add(gn.Softmax()).use("cross_entropy")
    net.fit(x, y, epochs=2, learning_rate=0.5, batch_size=5)
    assert net.optimizer.learning_rate == 0.5 and len(net.history["loss"]) == 2
    net.fit(x, y, epochs=3)
    assert len(net.history["loss"]) == 5
