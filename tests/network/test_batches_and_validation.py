"""Which samples fit trains on, batch by batch, and which it validates on: watched by a recording layer.

No accuracy threshold: a first layer records the inputs of every training batch, and the inputs
are the sample indices themselves, so the batches' order and content are read off directly.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn

X = np.arange(8, dtype=np.float64).reshape(8, 1)  # sample i is the number i, (8, 1)
Y = np.array([0, 1, 0, 1, 0, 1, 0, 1])


class Recorder(gn.Layer):
    """Passes its input through; records the sample numbers of each training batch."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    def forward(self, x: np.ndarray) -> np.ndarray:
        if self.training:
            self.batches.append([int(v) for v in x[:, 0]])
        return x

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad


class Frozen(gn.optimizers.Optimizer):
    """An optimizer that never moves a parameter: the validation numbers are those of the starting weights."""

    def update(self, param: gn.Parameter, grad: np.ndarray, state: dict[str, np.ndarray]) -> None:
        return None


class Samples:
    """A dataset object over (X, Y): fit reads it batch by batch."""

    def __len__(self) -> int:
        return len(X)

    def __getitem__(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return X[index], Y[index]


def recorded_net(seed: int = 0) -> tuple[gn.Network, Recorder]:
    recorder = Recorder()
    net = gn.Network(batch_size=3, seed=seed, verbose=0).add(recorder).add(gn.Dense(1, 2)).add(gn.Softmax())
    return net.use("cross_entropy"), recorder


def epochs_of(batches: list[list[int]], per_epoch: int) -> list[list[list[int]]]:
    """The recorded batches grouped by epoch."""
    return [batches[i : i + per_epoch] for i in range(0, len(batches), per_epoch)]


def test_without_shuffle_every_epoch_visits_the_samples_in_their_order() -> None:
    net, recorder = recorded_net()
    net.fit(X, Y, epochs=3, shuffle=False)
    assert epochs_of(recorder.batches, 3) == [[[0, 1, 2], [3, 4, 5], [6, 7]]] * 3


def test_shuffle_draws_a_new_order_each_epoch_and_visits_every_sample_once() -> None:
    net, recorder = recorded_net()
    net.fit(X, Y, epochs=3, shuffle=True)
    epochs = epochs_of(recorder.batches, 3)
    orders = [[i for batch in epoch for i in batch] for epoch in epochs]
    assert len(orders) == 3 and all([len(batch) for batch in epoch] == [3, 3, 2] for epoch in epochs)
    assert all(sorted(order) == list(range(8)) for order in orders)  # each sample once per epoch
    assert len({tuple(order) for order in orders} | {tuple(range(8))}) == 4  # three orders, none the plain one
    again, recorder_again = recorded_net()
    again.fit(X, Y, epochs=3, shuffle=True)
    assert recorder_again.batches == recorder.batches  # the order comes from the seed


def test_shuffle_applies_to_a_dataset_object_too() -> None:
    net, recorder = recorded_net()
    net.fit(Samples(), epochs=2, shuffle=False)
    assert epochs_of(recorder.batches, 3) == [[[0, 1, 2], [3, 4, 5], [6, 7]]] * 2
    net, recorder = recorded_net()
    net.fit(Samples(), epochs=2, shuffle=True)
    orders = [[i for batch in epoch for i in batch] for epoch in epochs_of(recorder.batches, 3)]
    assert all(sorted(order) == list(range(8)) for order in orders)
    assert orders[0] != orders[1] and list(range(8)) not in orders


@pytest.mark.parametrize("shuffle", [False, True])
def test_validation_split_holds_out_the_end_before_shuffling(shuffle: bool) -> None:
    # 0.25 of 8 samples: 6 and 7 are validation, never trained on
    net, recorder = recorded_net()
    net.fit(X, Y, epochs=2, validation_split=0.25, shuffle=shuffle)
    trained = [i for batch in recorder.batches for i in batch]
    assert sorted(trained) == sorted(list(range(6)) * 2)


@pytest.mark.parametrize("data", ["arrays", "dataset"])
def test_validation_data_with_validation_split_is_refused_and_changes_nothing(data: str) -> None:
    net, recorder = recorded_net()
    before = [p.value.copy() for p in net.parameters()]
    x, y = (X, Y) if data == "arrays" else (Samples(), None)
    with pytest.raises(gn.InputError, match=r"both validation_data and validation_split=0\.25: give one"):
        net.fit(x, y, epochs=1, validation_data=(X[:2], Y[:2]), validation_split=0.25)
    assert recorder.batches == [] and net.history["loss"] == []
    assert all(np.array_equal(p.value, b) for p, b in zip(net.parameters(), before, strict=True))


def test_validation_data_and_validation_split_score_the_samples_they_name() -> None:
    # with the weights frozen, val_loss is evaluate's loss on exactly the validation samples
    def frozen_net() -> gn.Network:
        net, _ = recorded_net()
        net.optimizer = Frozen(0.1)
        return net

    given = frozen_net().fit(X, Y, epochs=1, validation_data=(X[:3], Y[:3]))
    assert given.history["val_loss"] == [pytest.approx(given.evaluate(X[:3], Y[:3])["loss"], rel=1e-12)]
    assert given.history["val_loss"][0] != pytest.approx(given.evaluate(X[6:], Y[6:])["loss"], rel=1e-6)
    split = frozen_net().fit(X, Y, epochs=1, validation_split=0.25)
    assert split.history["val_loss"] == [pytest.approx(split.evaluate(X[6:], Y[6:])["loss"], rel=1e-12)]
