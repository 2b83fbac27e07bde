"""Every option of `glassnet train`, and the other commands' options not tested elsewhere, does what it says.

Each test compares runs that differ in one option and checks the effect, not only that the option
is accepted. The runs are small (an MLP on a few hundred MNIST images, about a second each) and
use --threads 1 wherever bits are compared: the BLAS thread count changes the last bits, and
"auto" picks one by timing. Most run in-process through `main(argv)`; a few in a real subprocess.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import glassnet as gn
from glassnet.apps import data as app_data
from glassnet.apps import reproduce as app_reproduce
from glassnet.apps.cli import main
from glassnet.apps.zoo import get_model
from glassnet.datasets import load_mnist
from glassnet.network import loop
from glassnet.optimizers import NAMED

SRC = Path(__file__).resolve().parents[2] / "src"
BASE = ("--model", "mlp", "--limit", "300", "--epochs", "1", "--threads", "1", "--quiet")  # mlp: batch 64, lr 1e-3
FASHION_CLASSES = app_data.DATASETS["fashion-mnist"][2]


def train(tmp_path: Path, name: str, *options: str, base: tuple[str, ...] = BASE) -> gn.Network:
    """`glassnet train BASE OPTIONS --out tmp_path/name.npz` in-process; the saved network."""
    out = tmp_path / f"{name}.npz"
    assert main(["train", *base, *options, "--out", str(out)]) == 0
    return gn.Network.load(out)


def train_subprocess(tmp_path: Path, name: str, *options: str) -> gn.Network:
    """The same through `python -m glassnet` in a fresh process."""
    out = tmp_path / f"{name}.npz"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "glassnet", "train", *BASE, *options, "--out", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    return gn.Network.load(out)


def values(net: gn.Network) -> list[np.ndarray]:
    return [p.value for p in net.parameters()]


def same_bits(a: gn.Network, b: gn.Network) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(values(a), values(b), strict=True)) and a.history == {
        **b.history,
        "seconds": a.history["seconds"],
    }


def initial(seed: int) -> list[np.ndarray]:
    """The mlp's weights before training, as `glassnet train --seed seed` builds it."""
    return values(get_model("mlp").build(seed=seed, verbose=0))


def test_seed_same_seed_same_bits_other_seed_other_weights(tmp_path: Path) -> None:
    one, again = train_subprocess(tmp_path, "one", "--seed", "1"), train_subprocess(tmp_path, "again", "--seed", "1")
    two = train(tmp_path, "two", "--seed", "2")
    assert same_bits(one, again)
    assert not any(np.array_equal(a, b) for a, b in zip(values(one), values(two), strict=True))
    assert one.history["loss"] != two.history["loss"]  # the shuffles differ too, not only the weights
    # the seed reaches the network: the saved weights moved away from those seed 1 draws, not seed 2's
    start_1, start_2 = initial(1), initial(2)
    assert np.abs(values(one)[0] - start_1[0]).max() < np.abs(values(one)[0] - start_2[0]).max()


def test_batch_size_sets_the_steps_per_epoch(tmp_path: Path) -> None:
    # --limit 300, --validation-split 0.1: 270 images to train on
    default, small = train(tmp_path, "default"), train_subprocess(tmp_path, "small", "--batch-size", "10")
    assert default.optimizer.steps == math.ceil(270 / 64) and small.optimizer.steps == 27
    assert train(tmp_path, "one-batch", "--batch-size", "300").optimizer.steps == 1


def test_epochs_sets_the_epochs_and_steps(tmp_path: Path) -> None:
    net = train(tmp_path, "three", "--epochs", "3")
    assert len(net.history["loss"]) == 3 and net.optimizer.steps == 3 * math.ceil(270 / 64)


def test_limit_sets_the_training_images(tmp_path: Path) -> None:
    net = train(tmp_path, "limit", "--limit", "100", "--validation-split", "0")
    assert net.optimizer.steps == math.ceil(100 / 64)
    assert net.card["fits"][0]["data"]["samples"] == 100
    x_train = load_mnist()[0][0]
    expected = train(tmp_path, "other", "--limit", "200", "--validation-split", "0").card["fits"][0]["data"]
    assert expected["samples"] == 200 and expected["shape"] == [200, *x_train.shape[1:]]


def test_validation_split_holds_out_that_fraction(tmp_path: Path) -> None:
    half = train(tmp_path, "half", "--validation-split", "0.5")
    assert half.optimizer.steps == math.ceil(150 / 64) and half.history["val_loss"]
    none = train(tmp_path, "none", "--validation-split", "0")
    assert none.optimizer.steps == math.ceil(300 / 64) and not none.history.get("val_loss")


def test_lr_sets_the_step_size(tmp_path: Path) -> None:
    start = initial(0)
    for lr in (1e-5, 1e-2):
        net = train(tmp_path, f"lr{lr}", "--lr", str(lr))
        assert net.optimizer.learning_rate == lr
        # Adam moves each weight by about lr per step (5 steps here): the distance scales with lr
        moved = max(float(np.abs(a - b).max()) for a, b in zip(values(net), start, strict=True))
        assert lr < moved < 5 * 3 * lr, (lr, moved)


def test_optimizer_chooses_the_optimizer(tmp_path: Path) -> None:
    trained = {}
    for name, (cls, options) in NAMED.items():
        net = train(tmp_path, name, "--optimizer", name, "--lr", "0.01", "--limit", "100")
        assert type(net.optimizer) is cls and net.optimizer.learning_rate == 0.01
        for key, value in options.items():
            assert getattr(net.optimizer, key) == value
        trained[name] = values(net)[0]
    names = list(trained)
    for i, first in enumerate(names):  # from the same start (seed 0), each optimizer ends elsewhere
        for second in names[i + 1 :]:
            assert not np.array_equal(trained[first], trained[second]), (first, second)


def test_schedule_changes_the_learning_rate_over_the_run(tmp_path: Path) -> None:
    constant = train(tmp_path, "constant", "--schedule", "constant", "--lr", "0.01")
    decayed = train(tmp_path, "decayed", "--schedule", "exponential:gamma=0.5,unit=step", "--lr", "0.01")
    assert type(decayed.schedule).__name__ == "Exponential" and constant.optimizer.learning_rate == 0.01
    assert decayed.optimizer.learning_rate == pytest.approx(0.01 * 0.5**4)  # the rate of the 5th and last step
    assert not np.array_equal(values(constant)[0], values(decayed)[0])


def test_threads_sets_the_blas_threads_while_training(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    epoch = loop.train_epoch

    def recording(*args: object, **kwargs: object) -> dict[str, float]:
        seen.append(max(pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"))
        return epoch(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(loop, "train_epoch", recording)
    for threads in ("1", "2"):
        assert main(["train", *BASE, "--threads", threads, "--out", str(tmp_path / f"{threads}.npz")]) == 0
    assert seen == [1, 2]


def test_quiet_prints_only_the_final_results(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train(tmp_path, "loud", base=BASE[:-1])
    loud = capsys.readouterr().out
    train(tmp_path, "quiet")
    quiet = capsys.readouterr().out
    assert "Training mlp on 270 MNIST images" in loud and "Epoch 1/1" in loud
    assert "Training" not in quiet and "Epoch" not in quiet and quiet.startswith("Test accuracy")


def test_runs_puts_the_run_folder_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["train", *BASE, "--runs", str(tmp_path / "mine")]) == 0
    record = json.loads((tmp_path / "mine" / "mlp-1" / "run.json").read_text())
    assert record["status"] == "finished" and not (tmp_path / "runs").exists()


def test_keep_epochs_keeps_every_epoch(tmp_path: Path) -> None:
    train(tmp_path, "kept", "--epochs", "2", "--keep-epochs")
    kept = sorted((tmp_path / "kept-epochs").iterdir())
    assert len(kept) == 2
    assert [len(gn.Network.load(path).history["loss"]) for path in kept] == [1, 2]
    train(tmp_path, "plain", "--epochs", "2")
    assert not (tmp_path / "plain-epochs").exists()


@pytest.fixture
def fake_fashion(monkeypatch: pytest.MonkeyPatch) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST replaced by MNIST with every label moved by one (no download; the data set is told apart)."""
    (x_train, y_train), (x_test, y_test) = load_mnist()

    def loader() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
        return (x_train, (y_train + 1) % 10), (x_test, (y_test + 1) % 10)

    monkeypatch.setitem(app_data.DATASETS, "fashion-mnist", ("Fashion-MNIST", loader, FASHION_CLASSES))
    monkeypatch.setitem(app_reproduce.LOADERS, "Fashion-MNIST", loader)
    return x_test, (y_test + 1) % 10


def test_dataset_chooses_the_data_of_train_evaluate_and_doctor(
    tmp_path: Path, fake_fashion: object, capsys: pytest.CaptureFixture[str]
) -> None:
    mnist = train(tmp_path, "mnist", "--epochs", "2", "--limit", "2000")
    fashion = train(tmp_path, "fashion", "--epochs", "2", "--limit", "2000", "--dataset", "fashion-mnist")
    assert fashion.class_names == list(FASHION_CLASSES) and mnist.class_names == list("0123456789")
    assert fashion.card["fits"][0]["data"]["y"] != mnist.card["fits"][0]["data"]["y"]
    capsys.readouterr()
    accuracies = {}
    for model, dataset in [("mnist", "mnist"), ("mnist", "fashion-mnist"), ("fashion", "fashion-mnist")]:
        assert main(["evaluate", str(tmp_path / f"{model}.npz"), "--dataset", dataset]) == 0
        first = capsys.readouterr().out.splitlines()[0]
        assert first.endswith(f"on 10000 {'MNIST' if dataset == 'mnist' else 'Fashion-MNIST'} test images")
        accuracies[model, dataset] = float(first.split()[1].rstrip("%"))
    assert accuracies["mnist", "mnist"] > 70 and accuracies["fashion", "fashion-mnist"] > 70
    assert accuracies["mnist", "fashion-mnist"] < 20  # the labels moved by one: the MNIST model is wrong on them
    assert main(["doctor", str(tmp_path / "mnist.npz"), "--dataset", "fashion-mnist"]) == 0
    assert "512 Fashion-MNIST test images" in capsys.readouterr().out


@pytest.mark.slow  # about 12 s: the report runs the 10,000 test images and draws its figures
def test_report_dataset_and_out(tmp_path: Path, fake_fashion: object) -> None:
    pytest.importorskip("matplotlib")
    train(tmp_path, "fashion", "--dataset", "fashion-mnist")
    page = tmp_path / "fashion.html"
    assert main(["report", str(tmp_path / "fashion.npz"), "--dataset", "fashion-mnist", "--out", str(page)]) == 0
    assert "fashion.npz on Fashion-MNIST" in page.read_text(encoding="utf-8")


def serve_one_request(model: Path, *options: str) -> tuple[int, str]:
    """`glassnet serve MODEL OPTIONS` in a subprocess: the port it printed, its stderr after a request and Ctrl-C."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "glassnet", "serve", str(model), *options]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/api/summary")
        assert connection.getresponse().status == 200
        connection.close()
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
    return port, err


def test_serve_port_and_verbose(tmp_path: Path) -> None:
    model = tmp_path / "mlp.npz"
    get_model("mlp").build(seed=0, verbose=0).save(model)
    with socket.socket() as probe:  # a port free a moment ago
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    port, quiet = serve_one_request(model, "--port", str(free))
    assert port == free and "/api/summary" not in quiet
    _, logged = serve_one_request(model, "--port", "0", "--verbose")
    assert '"GET /api/summary HTTP/1.1" 200' in logged
