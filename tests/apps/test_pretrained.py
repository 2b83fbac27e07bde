"""The model shipped in the package, and the headline claim it stands for: the default `glassnet train` reaches 99%."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from test_cli import assert_one_line_error, glassnet

import glassnet as gn
from glassnet.apps import cli, pretrained
from glassnet.apps.zoo import DEFAULT_MODEL

HEADLINE = 0.99  # README: the default `glassnet train` reaches 99% on MNIST's test set


@pytest.fixture(scope="module")
def shipped() -> gn.Network:
    return gn.Network.load(pretrained.PRETRAINED)


def test_the_shipped_model_is_the_default_recipe_and_reaches_the_headline(shipped: gn.Network) -> None:
    fit = shipped.card["fits"][0]
    assert fit["command"].startswith("glassnet train --seed 0 --threads 1") and fit["seed"] == 0
    assert fit["settings"]["epochs"] == 1 and fit["data"]["samples"] == 60000  # all of MNIST, no validation split
    _, (x_test, y_test) = gn.datasets.load_mnist()
    accuracy = shipped.evaluate(x_test, y_test)["accuracy"]
    assert accuracy >= HEADLINE and accuracy == pytest.approx(shipped.card["evaluation"]["accuracy"], abs=2e-4)


def test_commands_without_a_model_read_the_shipped_one(tmp_path: Path) -> None:
    image = pytest.importorskip("PIL.Image")
    _, (x_test, y_test) = gn.datasets.load_mnist()
    for k in range(3):
        image.fromarray((x_test[k, ..., 0] * 255).astype(np.uint8)).save(tmp_path / f"digit{k}.png")
    predicted = glassnet("predict", tmp_path / "digit0.png", tmp_path / "digit1.png", tmp_path / "digit2.png")
    assert predicted.returncode == 0, predicted.stderr
    classes = [int(re.search(r"digit\d\.png: (\d)", line)[1]) for line in predicted.stdout.splitlines()]
    assert classes == list(y_test[:3])
    named = glassnet("predict", "pretrained", tmp_path / "digit0.png")
    assert named.returncode == 0 and named.stdout.splitlines()[0] == predicted.stdout.splitlines()[0]
    summary = glassnet("summary")
    assert summary.returncode == 0 and "Conv2D" in summary.stdout and "Total parameters" in summary.stdout


def test_a_missing_shipped_model_is_one_clear_line(monkeypatch, capsys, tmp_path: Path) -> None:
    monkeypatch.setattr(pretrained, "PRETRAINED", tmp_path / "gone.npz")
    assert cli.main(["summary"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("glassnet: error: the pretrained model") and "reinstall glassnet" in err
    assert_one_line_error(glassnet("summary", tmp_path / "other.npz"), "other.npz")  # a named file is not replaced


def test_the_default_train_reaches_the_headline_and_rebuilds_the_shipped_model(tmp_path: Path, shipped) -> None:
    """The README's main job, end to end as a user runs it (about 15 s on 2 cores)."""
    out = tmp_path / "default.npz"
    fast = "1" if shipped.card["fits"][0]["environment"]["fast_path"] else "0"
    result = glassnet("train", "--seed", 0, "--threads", 1, "--quiet", "--out", out, env={"GLASSNET_FAST": fast})
    assert result.returncode == 0, result.stderr
    assert f"Training {DEFAULT_MODEL}" not in result.stdout  # --quiet: the result only
    accuracy = float(re.search(r"Test accuracy ([\d.]+)%", result.stdout)[1]) / 100
    assert accuracy >= HEADLINE, result.stdout
    trained = gn.Network.load(out)
    if trained.card["fits"][0]["environment"] == shipped.card["fits"][0]["environment"]:  # versions, BLAS kernel,
        for a, b in zip(trained.parameters(), shipped.parameters(), strict=True):  # cores, fast path: same bits
            np.testing.assert_array_equal(a.value, b.value)
