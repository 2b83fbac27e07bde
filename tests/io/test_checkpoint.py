"""Checkpoints and resume: a run stopped after any epoch, even by SIGKILL, resumes bit-identically."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn

RNG = np.random.default_rng(3)
X = RNG.random((96, 6, 6, 1), dtype=np.float32)
Y = RNG.integers(0, 3, 96)


def build(seed: int = 0, optimizer: str = "adam", hidden: int = 16) -> gn.Network:
    """A small CNN with everything stateful: BatchNorm statistics, Dropout masks, optimizer state."""
    return (
        gn.Network(batch_size=16, seed=seed, verbose=0, optimizer=optimizer, learning_rate=0.01)
        .add(gn.Conv2D(1, 3, 3))
        .add(gn.BatchNorm(3))
        .add(gn.ReLU())
        .add(gn.Flatten())
        .add(gn.Dropout(0.3))
        .add(gn.Dense(48, hidden))
        .add(gn.Tanh())
        .add(gn.Dense(hidden, 3))
        .add(gn.Softmax())
        .use("cross_entropy")
    )


def state(net: gn.Network) -> list[np.ndarray]:
    """Parameters, buffers and optimizer state, in order."""
    arrays = [p.value for p in net.parameters()] + [b for layer in net.layers for b in layer.buffers().values()]
    return arrays + [s[k] for s in net.optimizer.state for k in sorted(s)]


def assert_identical(a: gn.Network, b: gn.Network) -> None:
    sa, sb = state(a), state(b)
    assert len(sa) == len(sb) and all(np.array_equal(x, y) for x, y in zip(sa, sb, strict=True))
    assert a.optimizer.steps == b.optimizer.steps
    assert a.rng.bit_generator.state == b.rng.bit_generator.state
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert a.history[key] == b.history[key]


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("stop_after", [1, 2])
def test_resuming_after_epoch_k_matches_an_uninterrupted_run(tmp_path: Path, optimizer: str, stop_after: int) -> None:
    fit = {"validation_split": 0.25}
    whole = build(optimizer=optimizer).fit(X, Y, epochs=3, **fit)
    build(optimizer=optimizer).fit(X, Y, epochs=stop_after, checkpoint=tmp_path / "ckpt.npz", **fit)
    resumed = build(seed=99, optimizer=optimizer)  # its own draws are all replaced by the checkpoint's
    resumed.fit(X, Y, epochs=3, resume=tmp_path / "ckpt.npz", checkpoint=tmp_path / "ckpt.npz", **fit)
    assert len(resumed.history["loss"]) == 3
    assert_identical(resumed, whole)
    assert_identical(gn.Network.load(tmp_path / "ckpt.npz"), whole)


def test_a_checkpoint_is_written_after_every_epoch_and_opens_as_a_model(tmp_path: Path) -> None:
    path, seen = tmp_path / "ckpt.npz", []

    def look(net: gn.Network, epoch: int, logs: dict) -> None:  # runs before that epoch's save
        seen.append(len(gn.Network.load(path).history["loss"]) if path.exists() else 0)

    net = build().fit(X, Y, epochs=3, checkpoint=path, callbacks=[look])
    assert seen == [0, 1, 2]
    loaded = gn.Network.load(path)
    assert_identical(loaded, net)
    assert np.array_equal(loaded.predict(X), net.predict(X))
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_without_resume_a_second_fit_trains_more_epochs(tmp_path: Path) -> None:
    net = build().fit(X, Y, epochs=1, checkpoint=tmp_path / "c.npz").fit(X, Y, epochs=2)
    assert len(net.history["loss"]) == 3


def test_resuming_a_finished_run_trains_nothing(tmp_path: Path) -> None:
    done = build().fit(X, Y, epochs=2, checkpoint=tmp_path / "c.npz")
    again = build(seed=5).fit(X, Y, epochs=2, resume=tmp_path / "c.npz")
    assert_identical(again, done)
    more = build(seed=5).fit(X, Y, epochs=1, resume=tmp_path / "c.npz")
    assert len(more.history["loss"]) == 2


def test_resume_points_dropout_at_the_restored_generator(tmp_path: Path) -> None:
    build().fit(X, Y, epochs=1, checkpoint=tmp_path / "c.npz")
    net = build(seed=7)
    old = net.rng
    net.fit(X, Y, epochs=1, resume=tmp_path / "c.npz")
    dropout = net.layers[4]
    assert isinstance(dropout, gn.Dropout) and dropout.rng is net.rng and net.rng is not old


def test_a_fit_learning_rate_overrides_the_resumed_optimizers(tmp_path: Path) -> None:
    build().fit(X, Y, epochs=1, checkpoint=tmp_path / "c.npz")
    net = build().fit(X, Y, epochs=2, resume=tmp_path / "c.npz", learning_rate=0.5)
    assert net.optimizer.learning_rate == 0.5


@pytest.mark.parametrize(
    ("other", "match"),
    [
        (lambda: build(hidden=17), r"cannot resume, the checkpoint's layers differ"),
        (lambda: build(optimizer="sgd"), r"trained with Adam, this network uses SGD"),
        (lambda: build().use("mse"), r"cannot resume, the checkpoint's loss differ"),
    ],
)
def test_resuming_a_different_network_fails_clearly_and_changes_nothing(tmp_path: Path, other, match: str) -> None:
    build().fit(X, Y, epochs=1, checkpoint=tmp_path / "c.npz")
    net = other()
    before = [a.copy() for a in state(net)]
    with pytest.raises(gn.ModelFileError, match=match):
        net.fit(X, Y, epochs=2, resume=tmp_path / "c.npz")
    assert all(np.array_equal(a, b) for a, b in zip(before, state(net), strict=True)) and net.history["loss"] == []


def test_a_checkpoint_of_an_unsaveable_network_fails_before_training(tmp_path: Path) -> None:
    net = gn.Network(verbose=0).add(gn.Dense(2, 1)).add(gn.Activation(np.tanh, lambda x: 1 - np.tanh(x) ** 2))
    with pytest.raises(gn.UnsaveableError, match="layer 1"):
        net.use("mse").fit(np.ones((4, 2)), np.ones((4, 1)), checkpoint=tmp_path / "c.npz")
    assert net.history["loss"] == [] and os.listdir(tmp_path) == []


def test_resuming_from_a_missing_or_corrupt_file_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        build().fit(X, Y, epochs=2, resume=tmp_path / "none.npz")
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(gn.ModelFileError):
        build().fit(X, Y, epochs=2, resume=tmp_path / "bad.npz")


# A real crash: SIGKILL in the middle of an epoch, or in the middle of writing a checkpoint --------

SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import numpy as np
    import glassnet as gn
    import glassnet.io.model_file

    mode, checkpoint, out, marker = sys.argv[1:]
    rng = np.random.default_rng(0)
    x = rng.random((256, 12), dtype=np.float32)
    y = (x[:, :6].sum(axis=1) > x[:, 6:].sum(axis=1)).astype(np.int64)
    net = (gn.Network(batch_size=16, seed=11, verbose=0, optimizer="adam", learning_rate=0.01)
           .add(gn.Dense(12, 32)).add(gn.BatchNorm(32)).add(gn.ReLU()).add(gn.Dropout(0.25))
           .add(gn.Dense(32, 2)).add(gn.Softmax()).use("cross_entropy"))

    def hang(*args):
        Path(marker).write_text("hanging")
        time.sleep(120)

    if mode == "kill-in-epoch":  # hang at the 5th step of epoch 2, with epoch 1's checkpoint on disk
        step, steps = net.optimizer.step, []
        def counting_step(params):
            steps.append(1)
            if len(steps) == 16 + 5:
                hang()
            step(params)
        net.optimizer.step = counting_step
    if mode == "kill-in-save":  # hang halfway through writing epoch 2's checkpoint
        write, saves = glassnet.io.model_file.write_npz, []
        def half_write(f, arrays):
            saves.append(1)
            if len(saves) == 2:
                f.write(b"PK\\x03\\x04 half a file")
                f.flush()
                hang()
            write(f, arrays)
        glassnet.io.model_file.write_npz = half_write
    resume = checkpoint if mode == "resume" else None
    net.fit(x, y, epochs=3, checkpoint=None if mode == "whole" else checkpoint, resume=resume)
    net.save(out)
    """
)


def run_script(tmp_path: Path, *args: str) -> subprocess.Popen:
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    path = os.pathsep.join([str(Path(gn.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    return subprocess.Popen([sys.executable, str(script), *args], env=env, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen) -> None:
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> gn.Network:
    folder = tmp_path_factory.mktemp("whole")
    finish(run_script(folder, "whole", "-", str(folder / "final.npz"), "-"))
    return gn.Network.load(folder / "final.npz")


@pytest.mark.parametrize("mode", ["kill-in-epoch", "kill-in-save"])
def test_a_run_killed_by_sigkill_resumes_bit_identically(tmp_path: Path, uninterrupted: gn.Network, mode: str) -> None:
    checkpoint, marker = tmp_path / "ckpt.npz", tmp_path / "hanging"
    process = run_script(tmp_path, mode, str(checkpoint), str(tmp_path / "never.npz"), str(marker))
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "the training script never reached the point to kill it at"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert len(gn.Network.load(checkpoint).history["loss"]) == 1  # epoch 1's checkpoint, intact
    finish(run_script(tmp_path, "resume", str(checkpoint), str(tmp_path / "final.npz"), "-"))
    resumed = gn.Network.load(tmp_path / "final.npz")
    assert_identical(resumed, uninterrupted)
    assert len(resumed.history["loss"]) == 3


def test_adam_checkpoints_hold_per_parameter_steps_and_refuse_bad_ones(tmp_path: Path) -> None:
    import json

    from model_entries import read_entries

    from glassnet.io.npz import write_npz

    build().fit(X, Y, epochs=1, checkpoint=tmp_path / "c.npz")
    arrays = read_entries(tmp_path / "c.npz")
    assert arrays["optimizer/0/step"].dtype == np.int64 and int(arrays["optimizer/0/step"]) == 6  # 96 / 16 steps
    assert "step" in json.loads(str(arrays["training"][()]))["optimizer"]["state"][0]
    arrays["optimizer/0/step"] = np.array(0, dtype=np.int64)
    with open(tmp_path / "bad.npz", "wb") as f:
        write_npz(f, arrays)
    with pytest.raises(gn.ModelFileError, match=r"optimizer/0/step must be an integer >= 1"):
        gn.Network.load(tmp_path / "bad.npz")
