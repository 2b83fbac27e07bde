"""The glassnet command, run for real in a subprocess on small subsets of MNIST."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn

SRC = Path(__file__).resolve().parents[2] / "src"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def glassnet(
    *args: object, path_first: Path | None = None, timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run `python -m glassnet ARGS`; path_first goes first on the import path; env adds variables."""
    paths = [str(p) for p in (path_first, SRC) if p is not None]
    env = {**os.environ, **(env or {}), "PYTHONPATH": os.pathsep.join([*paths, os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "glassnet", *map(str, args)], capture_output=True, text=True, env=env, timeout=timeout
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    """A failure: non-zero exit, one line on stderr naming the problem, no traceback."""
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("glassnet") and "error:" in lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    """A small MLP trained on 3000 MNIST images: enough to recognise clear digits."""
    path = tmp_path_factory.mktemp("model") / "mlp.npz"
    result = glassnet("train", "--model", "mlp", "--limit", 3000, "--epochs", 3, "--out", path, "--quiet")
    assert result.returncode == 0, result.stderr
    assert "Epoch" not in result.stdout  # --quiet: no per-epoch lines
    return path


@pytest.fixture(scope="module")
def mnist_test() -> tuple[np.ndarray, np.ndarray]:
    from glassnet.datasets import load_mnist

    return load_mnist()[1]


def test_train_the_default_model_on_a_subset(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    out, plot = tmp_path / "speedrun.npz", tmp_path / "curves.png"
    result = glassnet("train", "--limit", 500, "--out", out, "--plot", plot)
    assert result.returncode == 0, result.stderr
    assert "Training speedrun on 500 MNIST images (no validation split): 1 epoch" in result.stdout
    assert "Epoch 1/1" in result.stdout and "val_accuracy" not in result.stdout
    assert "Test accuracy" in result.stdout and "10000 MNIST test images" in result.stdout
    assert f"Saved the model to {out}" in result.stdout
    assert out.read_bytes()[:2] == b"PK" and plot.read_bytes()[:8] == PNG_MAGIC
    summary = glassnet("summary", out)
    assert summary.returncode == 0 and "Conv2D" in summary.stdout and "Total parameters" in summary.stdout


def test_the_cnn_holds_out_its_validation_split(tmp_path) -> None:
    result = glassnet("train", "--model", "cnn", "--limit", 200, "--epochs", 1, "--out", tmp_path / "cnn.npz")
    assert result.returncode == 0, result.stderr
    assert "Training cnn on 180 MNIST images (validating on 20)" in result.stdout
    assert "val_accuracy" in result.stdout


def test_train_evaluate_summary_round_trip(model: Path, tmp_path) -> None:
    result = glassnet("evaluate", model)
    assert result.returncode == 0, result.stderr
    accuracy = float(result.stdout.split("Accuracy ")[1].split("%")[0])
    assert accuracy > 85
    table = result.stdout.split("\n\n")[1].splitlines()
    assert "accuracy" in table[0] and len(table) == 11
    assert [row.split()[0] for row in table[1:]] == list("0123456789")
    assert sum(int(v) for row in table[1:] for v in row.split()[1:11]) == 10000
    summary = glassnet("summary", model)
    assert summary.returncode == 0 and "Dense" in summary.stdout and "101,770" in summary.stdout


def test_evaluate_plots_the_confusion_matrix(model: Path, tmp_path) -> None:
    pytest.importorskip("matplotlib")
    result = glassnet("evaluate", model, "--plot", tmp_path / "cm.png")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "cm.png").read_bytes()[:8] == PNG_MAGIC


def test_predict_reads_digits_drawn_in_any_size_and_polarity(model: Path, mnist_test, tmp_path) -> None:
    image_module = pytest.importorskip("PIL.Image")
    x_test, y_test = mnist_test
    paths, expected = [], []
    for index in (0, 1, 2):
        pixels = (255 - x_test[index, :, :, 0] * 255).astype(np.uint8)  # dark on light
        path = tmp_path / f"digit{index}.png"
        image_module.fromarray(pixels).resize((70, 90), image_module.BILINEAR).save(path)
        paths.append(path)
        expected.append(int(y_test[index]))
    np.save(tmp_path / "digit3.npy", x_test[3, :, :, 0])
    paths.append(tmp_path / "digit3.npy")
    expected.append(int(y_test[3]))
    result = glassnet("predict", model, *paths)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 4
    for line, path, digit in zip(lines, paths, expected, strict=True):
        assert line.startswith(f"{path}: {digit}"), line
        assert "top 3 probabilities" in line and line.count("%") == 3


def test_resume_continues_a_checkpoint(tmp_path) -> None:
    out = tmp_path / "run.npz"
    first = glassnet("train", "--model", "mlp", "--limit", 500, "--epochs", 1, "--out", out)
    assert first.returncode == 0, first.stderr
    second = glassnet("train", "--resume", out, "--epochs", 2, "--limit", 500)
    assert second.returncode == 0, second.stderr
    assert (
        "2 epochs, resuming after epoch 1" in second.stdout
        and "Epoch 2/2" in second.stdout
        and "Epoch 1/2" not in second.stdout
    )
    assert "after 2 epochs" in second.stdout
    again = glassnet("train", "--resume", out, "--epochs", 2)
    assert_one_line_error(again, "already has 2 epochs")
    schedule = glassnet("train", "--resume", out, "--epochs", 3, "--schedule", "onecycle")
    assert_one_line_error(schedule, "continues the checkpoint's learning-rate schedule")


def test_train_with_a_schedule_saves_it(tmp_path) -> None:
    out = tmp_path / "run.npz"
    result = glassnet("train", "--model", "mlp", "--limit", 300, "--epochs", 1, "--schedule", "onecycle", "--out", out)
    assert result.returncode == 0, result.stderr
    assert "OneCycle(max_rate=0.001" in result.stdout
    summary = subprocess.run(
        [sys.executable, "-c", f"import glassnet as gn; print(gn.Network.load({str(out)!r}).schedule)"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC)},
    )
    assert summary.stdout.startswith("OneCycle(max_rate=0.001"), summary.stderr


def test_ctrl_c_saves_the_completed_epochs_and_prints_the_resume_command(tmp_path) -> None:
    out = tmp_path / "long.npz"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    command = [
        sys.executable,
        "-m",
        "glassnet",
        "train",
        "--model",
        "mlp",
        "--limit",
        5000,
        "--epochs",
        1000,
        "--out",
        out,
    ]
    process = subprocess.Popen(
        list(map(str, command)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        deadline = time.monotonic() + 240
        while not out.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)  # the checkpoint appears when the first epoch ends
        assert out.exists(), "no checkpoint after the first epoch"
        process.send_signal(signal.SIGINT)
        _stdout, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130
    assert "Traceback" not in stderr
    assert f"glassnet train --resume {out} --epochs 1000 --limit 5000" in stderr
    summary = glassnet("summary", out)
    assert summary.returncode == 0


def test_models_lists_the_registry() -> None:
    result = glassnet("models")
    assert result.returncode == 0
    for name in ("cnn", "mlp", "lenet", "article-mlp", "article-cnn"):
        assert f"\n{name} " in "\n" + result.stdout


def test_a_json_model_spec_trains(tmp_path, mnist_test) -> None:
    spec = tmp_path / "tiny.json"
    spec.write_text(
        '{"layers": [{"type": "Flatten"}, {"type": "Dense", "in_features": 784, "out_features": 10},'
        ' {"type": "Softmax"}], "loss": "cross_entropy", "epochs": 1}'
    )
    result = glassnet("train", "--model", spec, "--limit", 500, "--out", tmp_path / "tiny.npz", "--quiet")
    assert result.returncode == 0, result.stderr
    net = gn.Network.load(tmp_path / "tiny.npz")  # the spec's layers, trained for its one epoch on 450 images
    assert [type(layer).__name__ for layer in net.layers] == ["Flatten", "Dense", "Softmax"]
    assert [p.value.shape for p in net.parameters()] == [(784, 10), (10,)] and len(net.history["loss"]) == 1
    assert net.card["fits"][0]["data"]["samples"] == 500 and net.card["fits"][0]["settings"]["validation_split"] == 0.1
    assert net.evaluate(*mnist_test)["accuracy"] > 0.2  # 7 steps of Adam learned something: chance is 0.1


def test_errors_are_one_line_without_traceback(model: Path, tmp_path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("just some text\n")
    bad_spec = tmp_path / "bad.json"
    bad_spec.write_text('{"layers": [{"type": "Conv3D"}]}')
    cases = [  # (the command's arguments, what its one line names)
        (("evaluate", tmp_path / "missing.npz"), "missing.npz"),
        (("summary", text), "notes.txt"),
        (("train", "--epochs", "zero"), "--epochs"),
        (("train", "--epochs", "0"), "--epochs"),
        (("train", "--lr", "-1"), "--lr"),
        (("train", "--model", "resnet"), "unknown model 'resnet'"),
        (("train", "--schedule", "sawtooth"), "unknown schedule 'sawtooth'"),
        (("train", "--threads", "0"), "--threads"),
        (("train", "--model", bad_spec), "Conv3D"),
        (("train", "--out", tmp_path / "no" / "m.npz"), "no such folder"),
        (("predict", model, text), "notes.txt"),
        (("predict", model, tmp_path / "missing.png"), "missing.png"),
        (("frobnicate",), "invalid choice"),
    ]
    with ThreadPoolExecutor(max_workers=4) as pool:  # independent processes: both cores start them
        results = list(pool.map(lambda case: glassnet(*case[0]), cases))
    for (_, fragment), result in zip(cases, results, strict=True):
        assert_one_line_error(result, fragment)


def test_a_file_that_is_not_an_image_is_rejected(model: Path, tmp_path) -> None:
    pytest.importorskip("PIL.Image")
    fake_png = tmp_path / "fake.png"
    fake_png.write_text("not a picture")
    assert_one_line_error(glassnet("predict", model, fake_png), "fake.png", "not an image")


def test_missing_extras_say_how_to_install_them(model: Path, tmp_path) -> None:
    blocked = tmp_path / "blocked"
    for package in ("PIL", "matplotlib"):
        (blocked / package).mkdir(parents=True)
        (blocked / package / "__init__.py").write_text("raise ImportError('blocked for the test')\n")
    image = tmp_path / "digit.png"
    image.write_bytes(PNG_MAGIC)
    result = glassnet("predict", model, image, path_first=blocked)
    assert_one_line_error(result, 'pip install "glassnet[images]"')
    result = glassnet("train", "--plot", tmp_path / "curves.png", path_first=blocked)
    assert_one_line_error(result, 'pip install "glassnet[plot]"')
