"""A fit that fails changes nothing: weights, buffers, optimizer state, learning rate, generator, history."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn

RNG = np.random.default_rng(5)
X = RNG.standard_normal((40, 4)).astype(np.float32)
Y = RNG.integers(0, 3, 40)


class HiddenShapeError(gn.Layer):
    """A custom layer whose output_shape says nothing, and whose forward fails on a training batch."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        if self.training:
            return x[:, :2]  # the wrong width: the loss refuses it at the first batch
        return x

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad


def state(net: gn.Network) -> tuple:
    return (
        [p.value.copy() for p in net.parameters()],
        [{k: v.copy() for k, v in s.items()} for s in net.optimizer.state],
        net.optimizer.learning_rate,
        net.optimizer.steps,
        net.rng.bit_generator.state,
        {k: list(v) for k, v in net.history.items()},
        [dict(layer.buffers()) for layer in net.layers],
    )


def assert_same(before: tuple, after: tuple) -> None:
    for a, b in zip(before[0], after[0], strict=True):
        np.testing.assert_array_equal(a, b)
    assert len(before[1]) == len(after[1])
    for a, b in zip(before[1], after[1], strict=True):
        assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    assert before[2:6] == after[2:6]
    for a, b in zip(before[6], after[6], strict=True):
        assert all(np.array_equal(a[k], b[k]) for k in a)


def net_with(layer: gn.Layer) -> gn.Network:
    net = gn.Network(batch_size=8, seed=1, verbose=0, optimizer="adam", learning_rate=0.01)
    return net.add(gn.Dense(4, 3)).add(gn.BatchNorm(3)).add(layer).add(gn.Softmax()).use("cross_entropy")


def test_a_fit_failing_at_its_first_batch_changes_nothing() -> None:
    net = net_with(gn.ReLU())
    net.fit(X, Y, epochs=1)  # some optimizer state, history and an advanced generator to keep
    net.layers[2] = HiddenShapeError()
    before = state(net)
    with pytest.raises(gn.ShapeError):
        net.fit(X, Y, epochs=2, learning_rate=5)
    assert_same(before, state(net))  # the old code kept learning rate 5 and the advanced generator


def test_a_failing_callback_after_an_epoch_rolls_the_whole_call_back() -> None:
    net = net_with(gn.ReLU())
    before = state(net)

    def broken(net: gn.Network, epoch: int, logs: dict[str, float]) -> None:
        raise RuntimeError("callback bug")

    with pytest.raises(RuntimeError, match="callback bug"):
        net.fit(X, Y, epochs=2, learning_rate=0.5, callbacks=[broken])
    assert_same(before, state(net))


def test_a_failed_resume_keeps_the_network_as_it_was(tmp_path) -> None:
    donor = net_with(gn.ReLU())
    donor.fit(X, Y, epochs=2)
    donor.save(tmp_path / "ck.npz")
    net = net_with(gn.ReLU())
    optimizer, rng = net.optimizer, net.rng
    before = state(net)

    def broken(net: gn.Network, epoch: int, logs: dict[str, float]) -> None:
        raise RuntimeError("callback bug")

    with pytest.raises(RuntimeError, match="callback bug"):  # after the resume replaced optimizer and generator
        net.fit(X, Y, epochs=3, resume=tmp_path / "ck.npz", callbacks=[broken])
    assert net.optimizer is optimizer and net.rng is rng
    assert_same(before, state(net))


def test_a_divergence_after_complete_epochs_keeps_them() -> None:
    net = net_with(gn.ReLU())

    def explode(net: gn.Network, epoch: int, logs: dict[str, float]) -> None:
        if epoch == 1:
            net.layers[0].weight.value[...] = np.inf

    with pytest.raises(gn.DivergenceError):
        net.fit(X, Y, epochs=3, callbacks=[explode])
    assert len(net.history["loss"]) == 1  # documented: the network is back at the start of the epoch that diverged
