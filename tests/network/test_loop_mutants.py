"""The training loop: the divergence message, the inputs it scans, the stop flag (unchecked until mutation testing)."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet.network.data import prepare
from glassnet.network.distributed import LocalStrategy
from glassnet.network.loop import Run, _diverged, _inputs, batch_points, run_horizon, train_epoch
from glassnet.network.plan import Plan
from glassnet.network.progress import RunProgress
from glassnet.parameter import Parameter
from glassnet.schedules import Horizon
from glassnet.threads import ROUNDS, WARMUP, ThreadTuner


def test_the_divergence_message_says_where_what_was_kept_and_what_to_try() -> None:
    net = gn.Network(learning_rate=0.5)
    error = _diverged(net, np.array([[1000.5]]), "the loss became nan", 2, 3, 4, 0.5)
    assert str(error) == (
        "training diverged at epoch 2, batch 3/4: the loss became nan (the last finite batch loss was 0.5); "
        "the network is back at its weights after epoch 1: lower the learning rate (now 0.5), "
        "e.g. fit(..., learning_rate=0.05), or scale the inputs (the largest |x| is 1e+03) e.g. to [0, 1]"
    )
    assert (error.epoch, error.batch, error.last_loss) == (2, 3, 0.5)


def test_inputs_up_to_a_thousand_get_no_scaling_hint() -> None:
    error = _diverged(gn.Network(learning_rate=0.5), np.array([[-1000.0]]), "the loss became nan", 1, 3, 4, None)
    assert str(error) == (
        "training diverged at epoch 1, batch 3/4: the loss became nan (no batch had a finite loss); "
        "the network is back at its initial weights: lower the learning rate (now 0.5), "
        "e.g. fit(..., learning_rate=0.05)"
    )


def test_a_dataset_object_is_scanned_through_its_last_batch_or_a_zero() -> None:
    last = np.ones((2, 3))
    assert _inputs(object(), last) is last  # type: ignore[arg-type]
    np.testing.assert_array_equal(_inputs(object(), np.zeros(0)), np.zeros(1))  # type: ignore[arg-type]


def test_fit_leaves_stop_training_false() -> None:
    net = gn.Network(epochs=1, verbose=0, seed=0).add(gn.Dense(2, 1)).use("mse")
    net.stop_training = True
    net.fit(np.ones((4, 2), dtype=np.float32), np.ones((4, 1), dtype=np.float32))
    assert net.stop_training is False


class Recording:
    """A dataset object that records the indices of each batch it is asked for."""

    def __init__(self, count: int) -> None:
        self.x = np.arange(count * 2, dtype=np.float32).reshape(count, 2) / count  # (count, 2)
        self.y = np.ones((count, 1), dtype=np.float32)
        self.asked: list[np.ndarray] = []

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.asked.append(np.array(index))
        return self.x[index], self.y[index]


@pytest.mark.parametrize("shuffle", [False, True])
def test_every_sample_is_visited_once_in_the_order_shuffle_asks_for(shuffle: bool) -> None:
    data = Recording(21)  # 6 batches of 4, the last one of a single sample
    gn.Network(epochs=1, batch_size=4, verbose=0, seed=0).add(gn.Dense(2, 1)).use("mse").fit(data, shuffle=shuffle)
    visited = np.concatenate(data.asked[-6:])  # the epoch's 6 batches
    np.testing.assert_array_equal(np.sort(visited), np.arange(21))
    assert np.array_equal(visited, np.arange(21)) != shuffle


def test_every_batch_advances_the_runs_progress_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[bool] = []
    update = RunProgress.update

    def recording(self: RunProgress, images: int, loss: float, accuracy: float | None) -> None:
        shown.append(self.bar is not None)
        update(self, images, loss, accuracy)

    monkeypatch.setattr(RunProgress, "update", recording)
    net = gn.Network(epochs=1, batch_size=4, verbose=1, seed=0).add(gn.Dense(2, 1)).use("mse")
    net.fit(np.ones((12, 2), dtype=np.float32), np.ones((12, 1), dtype=np.float32))
    assert shown == [True, True, True]


def test_epoch_metrics_are_means_over_every_sample_and_batches_report_their_own() -> None:
    # A network without parameters: every batch sees the same function, so the epoch's loss and
    # accuracy must be those of the whole data set, whatever the (4, 4, 1) batch sizes.
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(9, 3)), rng.integers(0, 3, size=9)
    batch_losses: list[float] = []
    record = gn.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: batch_losses.append(logs["loss"]))
    net = gn.Network(epochs=1, batch_size=4, verbose=0, seed=0).add(gn.Softmax()).use("cross_entropy")
    net.fit(x, y, shuffle=False, callbacks=[record])
    log_p = x - x.max(axis=1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
    per_sample = -log_p[np.arange(9), y]
    assert net.history["loss"][0] == pytest.approx(per_sample.mean(), rel=1e-9)
    assert net.history["accuracy"][0] == np.mean(x.argmax(axis=1) == y)
    np.testing.assert_allclose(batch_losses, [per_sample[:4].mean(), per_sample[4:8].mean(), per_sample[8]], rtol=1e-9)
    assert 0 <= net.history["seconds"][0] < 60


def test_stopping_early_still_ends_the_run_for_the_callbacks() -> None:
    ended: list[dict] = []
    net = gn.Network(epochs=3, verbose=0, seed=0).add(gn.Dense(2, 1)).use("mse")
    stop = gn.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: setattr(net, "stop_training", True),
        on_train_end=lambda logs: ended.append(logs),
    )
    net.fit(np.ones((4, 2), dtype=np.float32), np.ones((4, 1), dtype=np.float32), callbacks=[stop])
    assert len(net.history["loss"]) == 1 and len(ended) == 1


def test_the_horizon_of_a_one_epoch_run_is_one_epoch() -> None:
    assert run_horizon(10, 4, 1) == Horizon(steps_per_epoch=3, total_steps=3)
    assert run_horizon(10, 4, 3) == Horizon(steps_per_epoch=3, total_steps=9)


def test_the_bar_shows_the_running_means_of_the_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[tuple[int, float, float | None]] = []
    monkeypatch.setattr(
        RunProgress, "update", lambda self, images, loss, accuracy: shown.append((images, loss, accuracy))
    )
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(9, 3)), rng.integers(0, 3, size=9)
    net = gn.Network(epochs=1, batch_size=4, verbose=0, seed=0).add(gn.Softmax()).use("cross_entropy")
    net.fit(x, y, shuffle=False)
    log_p = x - x.max(axis=1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
    per_sample, hits = -log_p[np.arange(9), y], x.argmax(axis=1) == y
    ends = [4, 8, 9]
    assert [images for images, _, _ in shown] == [4, 4, 1]
    np.testing.assert_allclose([loss for _, loss, _ in shown], [per_sample[:end].mean() for end in ends], rtol=1e-9)
    assert [accuracy for _, _, accuracy in shown] == [hits[:end].mean() for end in ends]


class Spare(gn.Layer):
    """Passes its input on; its parameter takes no part in the output and gets an infinite gradient."""

    def __init__(self) -> None:
        self.spare = Parameter(np.zeros(2, dtype=np.float32))

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x

    def backward(self, grad: np.ndarray) -> np.ndarray:
        self.spare.grad = np.full(2, np.inf, dtype=np.float32)
        return grad


def test_a_parameter_broken_while_every_loss_stays_finite_is_named_with_the_last_loss() -> None:
    losses: list[float] = []
    record = gn.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: losses.append(logs["loss"]))
    net = gn.Network(epochs=1, batch_size=2, learning_rate=0.1, verbose=0, seed=0).add(gn.Dense(2, 1)).add(Spare())
    x = np.array([[1.0, 2.0], [0.5, -1.0], [2.0, 0.0], [-1.0, 1.0]], dtype=np.float32)
    with pytest.raises(gn.DivergenceError) as caught:
        net.use("mse").fit(x, np.ones((4, 1), dtype=np.float32), shuffle=False, callbacks=[record])
    assert len(losses) == 2 and all(np.isfinite(losses))
    assert str(caught.value) == (
        f"training diverged at epoch 1, batch 2/2: {net.layers[1]!r}.spare holds 2 NaN or infinite values after "
        f"its last step (the last finite batch loss was {losses[-1]:.4g}); the network is back at its initial "
        "weights: lower the learning rate (now 0.1), e.g. fit(..., learning_rate=0.01)"
    )
    assert caught.value.last_loss == losses[-1]
    np.testing.assert_array_equal(net.layers[1].spare.value, [0.0, 0.0])


def test_train_epoch_called_alone_trains_one_silent_epoch_as_fit_does(capsys: pytest.CaptureFixture) -> None:
    """Without hooks, tuner, progress bar or loss list, train_epoch trains the epoch fit would, and prints nothing."""
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(10, 3)).astype(np.float32), rng.integers(0, 2, size=10)

    def build() -> gn.Network:
        return gn.Network(epochs=1, batch_size=4, seed=1, verbose=0).add(gn.Dense(3, 2)).add(gn.Softmax())

    alone = build().use("cross_entropy")
    data = prepare(alone, x, y, None, 0.0)
    run = Run(1, 4, True, 0, [], None, LocalStrategy(), run_horizon(10, 4, 1))
    logs = train_epoch(alone, Plan(alone.layers, alone.loss), data.train, run, 1)
    fitted = build().use("cross_entropy").fit(x, y)
    assert logs == {"loss": fitted.history["loss"][0], "accuracy": fitted.history["accuracy"][0]}
    for mine, theirs in zip(alone.parameters(), fitted.parameters(), strict=True):
        np.testing.assert_array_equal(mine.value, theirs.value)
    assert capsys.readouterr() == ("", "")


def test_the_bar_is_told_each_epoch_it_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[int] = []
    monkeypatch.setattr(RunProgress, "start_epoch", lambda self, epoch: started.append(epoch))
    net = gn.Network(epochs=2, verbose=0, seed=0).add(gn.Dense(2, 1)).use("mse")
    net.fit(np.ones((4, 2), dtype=np.float32), np.ones((4, 1), dtype=np.float32))
    net.fit(np.ones((4, 2), dtype=np.float32), np.ones((4, 1), dtype=np.float32), epochs=1)
    assert started == [1, 2, 3]


def test_a_regression_shows_no_accuracy_on_the_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[float | None] = []
    monkeypatch.setattr(RunProgress, "update", lambda self, images, loss, accuracy: shown.append(accuracy))
    net = gn.Network(epochs=1, batch_size=2, verbose=0, seed=0).add(gn.Tanh()).use("mse")
    x = np.linspace(-1, 1, 16, dtype=np.float32).reshape(4, 2, 2)  # (N, 2, 2): targets of this shape have no labels
    net.fit(x, x[::-1].copy())
    assert shown == [None, None] and net.history["accuracy"] == []


class Table:
    """A dataset object over arrays (its samples are read batch by batch)."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.x[index], self.y[index]


# 4 samples in 2 batches: the first holds the one input above 1e3, the second only small ones
LARGE_FIRST = np.array([[2000.0, 0.0], [0.5, -1.0], [0.25, 0.0], [-1.0, 1.0]], dtype=np.float32)


def test_the_scaling_hint_looks_at_every_input_of_arrays_but_the_last_batch_of_a_dataset() -> None:
    """A parameter broken at the end of the epoch: arrays are scanned whole; a dataset object through its last batch."""
    targets = np.zeros((4, 2), dtype=np.float32)
    messages = []
    for data in (
        (LARGE_FIRST, targets),
        (Table(LARGE_FIRST, targets), None),
        (Table(LARGE_FIRST[::-1], targets), None),
    ):
        net = gn.Network(epochs=1, batch_size=2, learning_rate=0.1, verbose=0, seed=0).add(Spare()).use("mse")
        with pytest.raises(gn.DivergenceError) as caught:
            net.fit(*data, shuffle=False)
        messages.append(str(caught.value))
    hint = ", or scale the inputs (the largest |x| is 2e+03) e.g. to [0, 1]"
    assert [message.endswith(hint) for message in messages] == [True, False, True]
    assert messages[1].endswith("e.g. fit(..., learning_rate=0.01)")


def test_a_loss_that_overflows_on_a_dataset_object_names_its_last_batchs_scale() -> None:
    x = np.array([[1.0], [2.0], [3000.0], [-1000.0]], dtype=np.float32)
    net = gn.Network(epochs=1, batch_size=2, learning_rate=1e30, verbose=0, seed=0).add(gn.Dense(1, 1)).use("mse")
    with pytest.raises(gn.DivergenceError) as caught:
        net.fit(Table(x, np.zeros((4, 1), dtype=np.float32)), shuffle=False)
    assert str(caught.value).startswith("training diverged at epoch 1, batch 2/2: the loss became inf")
    assert str(caught.value).endswith(", or scale the inputs (the largest |x| is 3e+03) e.g. to [0, 1]")


def test_under_auto_threads_fit_times_every_batch_for_the_tuner() -> None:
    """Each batch's time and size reach the tuner: it runs every candidate count in turn, then keeps one."""
    probe = ThreadTuner("auto", verbose=0)
    probe.close()
    if not probe.auto:
        pytest.skip("BLAS runs one thread here: nothing to measure")
    gn.set_threads("auto")  # the conftest fixture puts one thread back
    measuring = WARMUP + ROUNDS * len(probe.candidates)
    net = gn.Network(batch_size=4, verbose=0, seed=0).add(gn.Dense(4, 2)).add(gn.Softmax()).use("cross_entropy")
    net.fit(np.zeros((4 * (measuring + 2), 4)), np.zeros(4 * (measuring + 2), dtype=int))
    log = net.card["fits"][-1]["blas_threads"]  # [[first batch, count], ...] at each change
    per_batch = [max((first, count) for first, count in log if first <= batch)[1] for batch in range(measuring)]
    assert set(per_batch) == set(probe.candidates)


def test_one_batch_past_the_cap_halves_the_points() -> None:
    """101 batch losses: runs of ceil(101 / 100) = 2, so 51 points, the last of one batch alone."""
    losses = [float(i) for i in range(101)]
    assert batch_points(losses) == [i + 0.5 for i in range(0, 100, 2)] + [100.0]
