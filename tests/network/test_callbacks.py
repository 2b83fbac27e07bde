"""gn.callbacks: the hooks fit calls and when, Keras's rules for the monitors, and their checkpointed state."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
from glassnet.errors import InputError

C = gn.callbacks
RNG = np.random.default_rng(8)
X = RNG.random((48, 6), dtype=np.float32)
Y = RNG.integers(0, 3, 48)


def net(**options: object) -> gn.Network:
    network = gn.Network(batch_size=16, learning_rate=0.1, seed=0, verbose=0, **options)  # type: ignore[arg-type]
    return network.add(gn.Dense(6, 3)).add(gn.Softmax()).use("cross_entropy")


def scripted(values: list[float], key: str = "score") -> C.LambdaCallback:
    """A callback that puts values[epoch - 1] into the epoch's logs under key, for the monitors after it."""
    return C.LambdaCallback(on_epoch_end=lambda epoch, logs: logs.__setitem__(key, values[epoch - 1]))


def test_hooks_are_called_in_order_and_plain_functions_still_work() -> None:
    events: list[tuple] = []
    hooks = C.LambdaCallback(
        on_train_begin=lambda logs: events.append(("train_begin",)),
        on_epoch_begin=lambda epoch, logs: events.append(("epoch_begin", epoch)),
        on_train_batch_begin=lambda batch, logs: events.append(("batch_begin", batch)),
        on_train_batch_end=lambda batch, logs: events.append(("batch_end", batch, sorted(logs))),
        on_epoch_end=lambda epoch, logs: events.append(("epoch_end", epoch, "val_loss" in logs)),
        on_train_end=lambda logs: events.append(("train_end",)),
    )

    def plain(network: gn.Network, epoch: int, logs: dict[str, float]) -> None:
        events.append(("plain", epoch, len(network.history["loss"])))

    net().fit(X, Y, epochs=2, validation_split=0.25, callbacks=[hooks, plain])  # 36 samples: 3 batches
    batches = [event for b in range(3) for event in (("batch_begin", b), ("batch_end", b, ["loss"]))]
    epoch = [("epoch_begin", 1), *batches, ("epoch_end", 1, True), ("plain", 1, 1)]
    assert events == [
        ("train_begin",),
        *epoch,
        ("epoch_begin", 2),
        *batches,
        ("epoch_end", 2, True),
        ("plain", 2, 2),
        ("train_end",),
    ]


def test_early_stopping_follows_keras() -> None:
    stopper = C.EarlyStopping(monitor="val_loss", patience=2)
    network = net()
    stopper.set_model(network)
    stopper.on_train_begin()
    for epoch, value in enumerate([1.0, 0.9, 0.95, 0.91], start=1):  # best 0.9 at epoch 2, then 2 epochs without
        assert not network.stop_training
        stopper.on_epoch_end(epoch, {"val_loss": value})
    assert network.stop_training and stopper.stopped_epoch == 4 and stopper.best == 0.9
    maximise = C.EarlyStopping(monitor="val_accuracy", min_delta=0.05, patience=0)
    maximise.set_model(net())
    maximise.on_train_begin()
    maximise.on_epoch_end(1, {"val_accuracy": 0.5})
    maximise.on_epoch_end(2, {"val_accuracy": 0.54})  # +0.04 < min_delta: no improvement
    assert maximise.model.stop_training and maximise.best == 0.5


def test_early_stopping_stops_fit_and_restores_the_best_weights() -> None:
    kept: dict[int, list[np.ndarray]] = {}
    record = C.LambdaCallback(
        on_epoch_end=lambda e, logs: kept.__setitem__(e, [p.value.copy() for p in n.parameters()])
    )
    n = net()
    stopper = C.EarlyStopping(monitor="score", patience=1, restore_best_weights=True)
    n.fit(X, Y, epochs=6, callbacks=[record, scripted([3.0, 1.0, 2.0, 0.5, 0.1, 0.1]), stopper])
    assert len(n.history["loss"]) == 3 and stopper.best_epoch == 2
    for param, best in zip(n.parameters(), kept[2], strict=True):
        np.testing.assert_array_equal(param.value, best)


def test_reduce_lr_on_plateau_follows_keras() -> None:
    n = net()
    reducer = C.ReduceLROnPlateau(monitor="score", factor=0.5, patience=1, cooldown=2, min_lr=0.02)
    n.fit(X, Y, epochs=5, callbacks=[scripted([1.0, 1.0, 1.0, 1.0, 1.0]), reducer])
    # Keras's order: epoch 1 sets the best; epoch 2: wait 1 -> 0.05, cooldown 2; epoch 3: cooldown 2 -> 1, no
    # counting; epoch 4: cooldown 1 -> 0, then wait 1 -> 0.025, cooldown 2; epoch 5: cooldown 2 -> 1
    assert n.optimizer.learning_rate == pytest.approx(0.025)
    n.fit(X, Y, epochs=4, callbacks=[scripted([1.0] * 9), reducer])  # epochs 6 to 9
    assert n.optimizer.learning_rate == 0.02  # never below min_lr
    with pytest.raises(InputError, match="ReduceLROnPlateau sets the learning rate"):
        net(schedule=gn.schedules.Constant(0.1)).fit(X, Y, callbacks=[C.ReduceLROnPlateau()])


def test_model_checkpoint_saves_the_best_only(tmp_path: Path) -> None:
    saver = C.ModelCheckpoint(tmp_path / "m-{epoch}.npz", monitor="score_acc", save_best_only=True)
    net().fit(X, Y, epochs=4, callbacks=[scripted([0.5, 0.4, 0.7, 0.7], "score_acc"), saver])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m-1.npz", "m-3.npz"]
    assert len(gn.Network.load(tmp_path / "m-3.npz").history["loss"]) == 3
    every = C.ModelCheckpoint(tmp_path / "last.npz")
    net().fit(X, Y, epochs=2, callbacks=[every])
    assert len(gn.Network.load(tmp_path / "last.npz").history["loss"]) == 2


def test_csv_logger_writes_a_row_per_epoch(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    n = net().fit(X, Y, epochs=2, validation_split=0.25, callbacks=[C.CSVLogger(path)])
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["epoch", "accuracy", "loss", "seconds", "val_accuracy", "val_loss"]
    assert [row[0] for row in rows[1:]] == ["1", "2"]
    assert float(rows[2][2]) == n.history["loss"][1]
    n.fit(X, Y, epochs=1, validation_split=0.25, callbacks=[C.CSVLogger(path, append=True)])
    assert len(list(csv.reader(path.open()))) == 4  # appended, no second header


def test_a_missing_monitor_is_a_clear_error() -> None:
    with pytest.raises(InputError, match=r"monitor='val_loss' is not among this epoch's metrics \(accuracy, loss"):
        net().fit(X, Y, epochs=1, callbacks=[C.EarlyStopping()])
    with pytest.raises(gn.InputTypeError, match=r"is the class EarlyStopping: write EarlyStopping\(\)"):
        net().fit(X, Y, callbacks=[C.EarlyStopping])


def test_callback_state_is_checkpointed_and_resumed(tmp_path: Path) -> None:
    values = [1.0, 0.5, 0.7, 0.8, 0.9, 0.95]

    def stop_after_3(network: gn.Network, epoch: int, logs: dict[str, float]) -> None:
        network.stop_training = epoch == 3

    first = C.EarlyStopping(monitor="score", patience=10)
    reducer = C.ReduceLROnPlateau(monitor="score", patience=1, factor=0.5)
    net().fit(X, Y, epochs=6, checkpoint=tmp_path / "c.npz", callbacks=[scripted(values), first, reducer, stop_after_3])
    assert (first.wait, first.best, first.best_epoch) == (1, 0.5, 2)
    resumed = C.EarlyStopping(monitor="score", patience=10)
    reducer2 = C.ReduceLROnPlateau(monitor="score", patience=1, factor=0.5)
    net().fit(X, Y, epochs=4, resume=tmp_path / "c.npz", callbacks=[scripted(values), resumed, reducer2])
    # Without the saved state, epoch 4 (0.8) would be the new best and wait would be 0.
    assert (resumed.wait, resumed.best, resumed.best_epoch) == (2, 0.5, 2)
    assert reducer2.best == 0.5
