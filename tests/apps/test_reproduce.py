"""The reproducibility card in every model file, and `glassnet reproduce` retraining from it."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import glassnet as gn
from glassnet.apps.reproduce import reproduce
from glassnet.io.model_file import FORMAT_VERSION
from glassnet.network import card as card_module
from glassnet.network.card import array_hash, weights_hash
from glassnet.threads import replaying

DATA = Path(__file__).resolve().parents[1] / "data"
(X_TRAIN, Y_TRAIN), _ = gn.datasets.load_mnist()
MNIST_ONLY = {"MNIST": gn.datasets.load_mnist}
SRC = Path(__file__).resolve().parents[2] / "src"


def glassnet(*args: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "glassnet", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


def small_net(hidden: int = 16) -> gn.Network:
    return (
        gn.Network(seed=3, epochs=2, learning_rate=0.05, batch_size=32, verbose=0)
        .add(gn.Flatten())
        .add(gn.Dense(784, hidden))
        .add(gn.ReLU())
        .add(gn.Dense(hidden, 10))
        .add(gn.Softmax())
        .use("cross_entropy")
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("card") / "small.npz"
    net = small_net().fit(X_TRAIN[:300], Y_TRAIN[:300], validation_split=0.2)
    net.fit(X_TRAIN[:300], Y_TRAIN[:300], epochs=1, learning_rate=0.01, shuffle=False)
    net.save(path)
    return path


def test_the_card_records_what_made_the_model(trained: Path) -> None:
    with np.load(trained, allow_pickle=False) as npz:
        assert int(npz["format_version"]) == FORMAT_VERSION == 3
        card = json.loads(str(npz["card"]))
    first, second = card["fits"]
    env = first["environment"]
    assert env["numpy"] == np.__version__ and env["glassnet"] == gn.__version__
    assert {"blas", "threads", "fast_path", "python", "cpus"} <= env.keys()
    assert first["seed"] == 3 and first["data"]["x"] == array_hash(X_TRAIN[:300])
    assert first["settings"] == {
        "epochs": 2, "learning_rate": 0.05, "batch_size": 32, "shuffle": True, "validation_split": 0.2,
        "clip_norm": None, "callbacks": [], "resume": False, "distributed": False,
    }  # fmt: skip
    assert second["settings"]["learning_rate"] == 0.01 and second["epochs_before"] == 2
    assert first["start"]["weights"] == weights_hash(small_net().parameters())
    assert "command" in first
    started = datetime.datetime.fromisoformat(first["date"])  # when the fit started, in UTC
    assert started.utcoffset() == datetime.timedelta(0) and started <= datetime.datetime.now(datetime.timezone.utc)


def test_reproduce_is_bit_identical(trained: Path) -> None:
    result = reproduce(trained, MNIST_ONLY)
    assert result.identical and result.largest == 0.0
    assert result.replayed == [
        "fit 1: 2 epochs on the first 300 MNIST training images",
        "fit 2: 1 epochs on the first 300 MNIST training images",
    ]
    assert "bit-identical" in str(result)


def test_reproduce_explains_a_difference(trained: Path, tmp_path: Path) -> None:
    def slower(net: gn.Network, epoch: int, logs: dict[str, float]) -> None:
        net.optimizer.learning_rate /= 2

    path = tmp_path / "callback.npz"
    small_net().fit(X_TRAIN[:300], Y_TRAIN[:300], callbacks=[slower]).save(path)
    with np.load(path, allow_pickle=False) as npz:  # as if trained on another machine: NumPy 1.0.0
        arrays = {key: npz[key] for key in npz.files}
    card = json.loads(str(arrays["card"]))
    card["fits"][0]["environment"]["numpy"] = "1.0.0"
    arrays["card"] = np.array(json.dumps(card))
    np.savez(path, **arrays)
    result = reproduce(path, MNIST_ONLY)
    assert not result.identical and result.largest > 0
    text = str(result)
    assert "NOT identical" in text
    assert "callbacks ['test_reproduce_explains_a_difference.<locals>.slower']" in text
    assert f"numpy recorded '1.0.0', here '{np.__version__}'" in text


def test_data_not_at_hand_is_said(tmp_path: Path) -> None:
    path = tmp_path / "noise.npz"
    x = np.random.default_rng(0).random((50, 28, 28, 1)).astype(np.float32)
    small_net().fit(x, np.arange(50) % 10, epochs=1).save(path)
    with pytest.raises(gn.InputError, match="not among the data sets at hand"):
        reproduce(path, MNIST_ONLY)


def test_old_files_load_with_an_empty_card_and_cannot_be_reproduced(tmp_path: Path) -> None:
    old = gn.Network.load(DATA / "v1_mlp.npz")
    assert old.card == {"fits": []}
    with pytest.raises(gn.InputError, match="no reproducibility card"):
        reproduce(DATA / "v1_mlp.npz", MNIST_ONLY)
    old.save(tmp_path / "v2.npz")
    assert gn.Network.load(tmp_path / "v2.npz").card == {"fits": []}


def test_a_broken_card_is_refused(trained: Path, tmp_path: Path) -> None:
    with np.load(trained, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    arrays["card"] = np.array(json.dumps({"fits": "no"}))
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(gn.ModelFileError, match="'card' must be a JSON object"):
        gn.Network.load(tmp_path / "bad.npz")


def test_the_commands(trained: Path) -> None:
    result = glassnet("reproduce", trained)
    assert result.returncode == 0, result.stderr
    assert "bit-identical" in result.stdout
    result = glassnet("doctor", trained)
    assert result.returncode == 0, result.stderr
    assert "Looked at its history (3 epochs) and 512 MNIST test images" in result.stdout


def test_doctor_names_what_a_model_shows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from glassnet.apps.cli import main

    net = small_net()
    net.fit(X_TRAIN[:300], Y_TRAIN[:300], epochs=1)
    net.layers[1].bias.value[:] = -50  # every hidden unit dead
    net.save(tmp_path / "dead.npz")
    assert main(["doctor", str(tmp_path / "dead.npz")]) == 0
    out = capsys.readouterr().out
    assert "Looked at its history (1 epochs) and 512 MNIST test images." in out
    assert "doctor: 100% of the ReLU units of layer 3 never fire on 128 samples" in out
    assert "No problem found" not in out


def test_a_run_whose_thread_count_changed_is_reproduced_bit_for_bit(tmp_path: Path) -> None:
    """An "auto" run may switch counts, and counts change last bits: reproduce replays the card's counts."""
    if max(info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas") < 2:
        pytest.skip("BLAS runs one thread here: the count cannot change")
    with replaying([[0, 2], [4, 1]]):  # as if "auto" had measured 2 threads faster, then 1
        switched = small_net(hidden=32).fit(X_TRAIN[:300], Y_TRAIN[:300])  # 32: OpenBLAS's bits differ
    assert switched.card["fits"][0]["blas_threads"] == [[0, 2], [4, 1]]
    one_thread = small_net(hidden=32).fit(X_TRAIN[:300], Y_TRAIN[:300])  # conftest: one thread throughout
    pairs = zip(switched.parameters(), one_thread.parameters(), strict=True)
    if all(np.array_equal(a.value, b.value) for a, b in pairs):
        pytest.skip("this BLAS gives the same bits on 1 and 2 threads: nothing to tell apart")
    switched.save(tmp_path / "switched.npz")
    result = reproduce(tmp_path / "switched.npz", MNIST_ONLY)
    assert result.identical, str(result)


def test_a_clipped_run_is_reproduced_with_its_clipping(tmp_path: Path) -> None:
    """clip_norm changes every step it bites: the card records it and reproduce replays it."""
    clipped = small_net().fit(X_TRAIN[:300], Y_TRAIN[:300], clip_norm=0.05)
    assert clipped.card["fits"][0]["settings"]["clip_norm"] == 0.05
    unclipped = small_net().fit(X_TRAIN[:300], Y_TRAIN[:300])
    assert not np.array_equal(clipped.parameters()[0].value, unclipped.parameters()[0].value)  # it bit
    clipped.save(tmp_path / "clipped.npz")
    result = reproduce(tmp_path / "clipped.npz", MNIST_ONLY)
    assert result.identical, str(result)


def test_a_new_fit_drops_the_evaluation_of_the_old_weights() -> None:
    net = small_net()
    net.card["evaluation"] = {"data": "MNIST test images", "images": 10, "accuracy": 0.5, "loss": 1.0, "seconds": 1}
    net.fit(X_TRAIN[:64], Y_TRAIN[:64], epochs=1)
    assert "evaluation" not in net.card


def test_a_checkpoint_written_while_training_holds_the_data_hashes(tmp_path: Path, monkeypatch) -> None:
    """The hashes are computed on a thread while training starts: every save waits for them."""
    record_steps = card_module.record_steps

    def slow_steps(*args: object) -> Iterator[None]:  # slow data
        time.sleep(0.5)
        yield from record_steps(*args)

    monkeypatch.setattr(card_module, "record_steps", slow_steps)
    saved_mid_fit: list[dict] = []
    checkpoint = tmp_path / "ckpt.npz"
    spy = gn.callbacks.LambdaCallback(  # epoch 2 begins after epoch 1's checkpoint was written
        on_epoch_begin=lambda epoch, logs: saved_mid_fit.append(gn.Network.load(checkpoint).card) if epoch == 2 else 0
    )
    small_net().fit(X_TRAIN[:96], Y_TRAIN[:96], epochs=2, checkpoint=checkpoint, callbacks=[spy])
    first = saved_mid_fit[0]["fits"][-1]  # the checkpoint of epoch 1, read while the fit still ran
    assert first["data"]["x"] == array_hash(X_TRAIN[:96]) and first["data"]["y"] == array_hash(Y_TRAIN[:96])
