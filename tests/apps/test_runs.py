"""`glassnet train` without --out: a new run folder runs/MODEL-N each time, never overwriting one."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

import glassnet as gn

pytest.importorskip("PIL.Image")
from image_folders import glassnet, make_folder


def test_each_run_gets_its_own_folder(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "shapes", per_class=5)
    command = ("train", "--data", root, "--model", "mlp", "--epochs", "2", "--seed", "3")
    first = glassnet(*command, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    second = glassnet(*command, "--lr", "0.01", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    runs = tmp_path / "runs"
    assert sorted(entry.name for entry in runs.iterdir()) == ["mlp-1", "mlp-2"]
    assert "Run folder: runs/mlp-2" in second.stdout
    for run in ("mlp-1", "mlp-2"):
        files = {entry.name for entry in (runs / run).iterdir()}
        assert {"model.npz", "last.npz", "best.npz", "history.csv", "run.json"} <= files
        net = gn.Network.load(runs / run / "model.npz")
        assert len(net.history["loss"]) == 2 and net.class_names == ["circle", "square"]
    record = json.loads((runs / "mlp-2" / "run.json").read_text())
    assert record["status"] == "finished" and record["command"].startswith("glassnet train --data")
    assert record["hyper_parameters"]["learning_rate"] == 0.01 and record["hyper_parameters"]["seed"] == 3
    assert record["data"]["classes"] == ["circle", "square"] and record["epochs_done"] == 2
    assert record["versions"]["glassnet"] == gn.__version__ and len(record["epoch_seconds"]) == 2
    assert 0 <= record["held-out_accuracy"] <= 1 and record["best"]["epoch"] in (1, 2)
    rows = list(csv.DictReader((runs / "mlp-2" / "history.csv").open()))
    assert [row["epoch"] for row in rows] == ["1", "2"] and "val_accuracy" in rows[0]
    assert "batch_loss" not in rows[0] and "batch_points" not in rows[0]  # not one value per epoch
    best = gn.Network.load(runs / "mlp-2" / "best.npz")
    assert len(best.history["loss"]) == record["best"]["epoch"]


def test_out_still_saves_exactly_there(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "shapes", per_class=5)
    result = glassnet("train", "--data", root, "--model", "mlp", "--epochs", "1", "--out", "m.npz", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "m.npz").is_file() and not (tmp_path / "runs").exists()
    assert "after 1 epoch," in result.stdout
