"""Schedules in fit: the rate of every optimizer step, model files, and resumed runs that continue them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
from glassnet.apps.zoo import get_model
from glassnet.errors import ModelFileError
from glassnet.schedules import Horizon
from tests.io.test_checkpoint import X, Y, assert_identical, build

S = gn.schedules


class RecordingSGD(gn.optimizers.SGD):
    """SGD that records the learning rate of every step."""

    def __init__(self, learning_rate: float) -> None:
        super().__init__(learning_rate)
        self.seen: list[float] = []

    def step(self, params: list[gn.Parameter]) -> None:
        self.seen.append(self.learning_rate)
        super().step(params)


def small(schedule: gn.schedules.Schedule | None = None, optimizer: object = "sgd") -> gn.Network:
    net = gn.Network(batch_size=16, seed=0, verbose=0, optimizer=optimizer, schedule=schedule)  # type: ignore[arg-type]
    return net.add(gn.Flatten()).add(gn.Dense(36, 3)).add(gn.Softmax()).use("cross_entropy")


def test_the_schedule_sets_the_rate_of_every_step() -> None:
    optimizer = RecordingSGD(1.0)
    schedule = S.OneCycle(0.05)
    small(schedule, optimizer).fit(X, Y, epochs=2)  # 96 samples, batch 16: 6 steps per epoch, 12 in all
    horizon = Horizon(6, 12)
    assert optimizer.seen == [schedule.rate(step, horizon) for step in range(12)]
    assert optimizer.seen[-1] == pytest.approx(0.05 / 25 / 1e4)


def test_fit_schedule_replaces_the_networks_and_overrides_learning_rate() -> None:
    optimizer = RecordingSGD(1.0)
    net = small(S.Constant(0.5), optimizer)
    net.fit(X, Y, epochs=1, learning_rate=0.3, schedule=S.Step(0.2, step_size=3, gamma=0.5, unit="step"))
    assert optimizer.seen == [0.2] * 3 + [0.1] * 3
    assert net.schedule == S.Step(0.2, step_size=3, gamma=0.5, unit="step")


def test_a_schedule_spans_the_whole_run_counting_the_history() -> None:
    optimizer = RecordingSGD(1.0)
    net = small(S.Cosine(0.1), optimizer)
    net.fit(X, Y, epochs=1).fit(X, Y, epochs=1)  # the second fit: steps 6..11 of a 12-step run
    assert optimizer.seen[6:] == [S.Cosine(0.1).rate(step, Horizon(6, 12)) for step in range(6, 12)]


def test_the_schedule_is_saved_and_loaded(tmp_path: Path) -> None:
    schedule = S.Warmup(S.OneCycle(0.02, pct_start=0.2), steps=3)
    small(schedule).save(tmp_path / "m.npz")
    assert gn.Network.load(tmp_path / "m.npz").schedule == schedule
    small().save(tmp_path / "plain.npz")
    assert gn.Network.load(tmp_path / "plain.npz").schedule is None


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_resumed_run_continues_the_schedule_bit_identically(tmp_path: Path, optimizer: str) -> None:
    # A schedule of its own length: 1 epoch, then a resume to 3, equals 3 epochs at once.
    def make() -> gn.Network:
        net = build(optimizer=optimizer)
        net.schedule = S.OneCycle(0.05, total_steps=15)  # 72 training samples, batch 16: 5 steps per epoch
        return net

    whole = make().fit(X, Y, epochs=3, validation_split=0.25)
    make().fit(X, Y, epochs=1, validation_split=0.25, checkpoint=tmp_path / "ckpt.npz")
    resumed = build(optimizer=optimizer).fit(X, Y, epochs=3, validation_split=0.25, resume=tmp_path / "ckpt.npz")
    assert resumed.schedule == S.OneCycle(0.05, total_steps=15)
    assert_identical(whole, resumed)


def test_a_run_stopped_early_resumes_its_run_long_schedule(tmp_path: Path) -> None:
    # total_steps=None spans the fit's epochs: a 3-epoch run stopped after epoch 1 (as by Ctrl-C),
    # resumed with epochs=3, continues the same 3-epoch cycle.
    def stop(net: gn.Network, epoch: int, logs: dict[str, float]) -> None:
        net.stop_training = True

    def make() -> gn.Network:
        net = build(optimizer="adam")
        net.schedule = S.Cosine(0.05, warmup=3)
        return net

    whole = make().fit(X, Y, epochs=3, validation_split=0.25)
    make().fit(X, Y, epochs=3, validation_split=0.25, checkpoint=tmp_path / "ckpt.npz", callbacks=[stop])
    resumed = build(optimizer="adam").fit(X, Y, epochs=3, validation_split=0.25, resume=tmp_path / "ckpt.npz")
    assert_identical(whole, resumed)


def test_the_zoo_step_schedule_halves_the_rate_each_epoch_like_the_old_lr_decay() -> None:
    entry = get_model("cnn").with_options(learning_rate=0.01)
    schedule = entry.learning_schedule()
    assert schedule == S.Step(0.01, step_size=1, gamma=0.5)
    horizon = Horizon(100, 400)
    # The old callback multiplied the rate by 0.5 after each epoch: bit for bit the same rates.
    decayed = [0.01, 0.01 * 0.5, 0.01 * 0.5 * 0.5, 0.01 * 0.5 * 0.5 * 0.5]
    assert [schedule.rate(epoch * 100 + 7, horizon) for epoch in range(4)] == decayed  # type: ignore[union-attr]
    assert entry.build(seed=0, verbose=0).schedule == schedule


def test_a_bad_stored_schedule_is_a_model_file_error(tmp_path: Path) -> None:
    import json

    from model_entries import read_entries

    from glassnet.io.npz import write_npz

    small(S.Constant(0.1)).save(tmp_path / "m.npz")
    arrays = read_entries(tmp_path / "m.npz")
    architecture = json.loads(str(arrays["architecture"][()]))
    architecture["schedule"] = {"type": "Constant", "config": {"learning_rate": -1}}
    arrays["architecture"] = np.array(json.dumps(architecture))
    with open(tmp_path / "bad.npz", "wb") as f:
        write_npz(f, arrays)
    with pytest.raises(ModelFileError, match=r"architecture\.schedule is invalid"):
        gn.Network.load(tmp_path / "bad.npz")
