"""`glassnet train/evaluate/predict --data DIR`: a folder of drawn shapes, run for real in a subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn

pytest.importorskip("PIL.Image")
from image_folders import glassnet, make_folder


def assert_one_line_error(result, *fragments: str) -> None:  # type: ignore[no-untyped-def]
    """A failure: non-zero exit, one line on stderr naming the problem, no traceback."""
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "error:" in lines[0], result.stderr
    assert all(fragment in lines[0] for fragment in fragments), lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """A colour mlp trained on a folder of circles and squares: (folder, model file, stdout)."""
    root = make_folder(tmp_path_factory.mktemp("data") / "shapes", per_class=10)
    out = root.parent / "shapes.npz"
    result = glassnet(
        "train", "--data", root, "--color", "rgb", "--model", "mlp", "--epochs", "3", "--lr", "0.01", "--out", out
    )
    assert result.returncode == 0, result.stderr
    return root, out, result.stdout


def test_train_on_a_folder_saves_its_class_names(trained: tuple[Path, Path, str]) -> None:
    _, out, stdout = trained
    assert "Training mlp on 18" in stdout and "(validating on 2)" in stdout
    assert "Held-out accuracy" in stdout and "after 3 epochs" in stdout
    net = gn.Network.load(out)
    assert net.class_names == ["circle", "square"]
    assert net.input_shape == (28, 28, 3)  # colour end to end: the first Dense takes 28*28*3 features
    assert net.predict(np.zeros((1, 28, 28, 3), dtype=np.float32)).shape == (1, 2)


def test_predict_a_folder_as_json_names_the_classes(trained: tuple[Path, Path, str]) -> None:
    root, out, _ = trained
    result = glassnet("predict", out, root / "square", "--json")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 10 and all(row["file"].startswith(str(root / "square")) for row in rows)
    assert all(set(row["probabilities"]) == {"circle", "square"} for row in rows)
    assert all(row["class"] in ("circle", "square") for row in rows)
    assert abs(sum(rows[0]["probabilities"].values()) - 1) < 1e-4


def test_evaluate_on_a_folder(trained: tuple[Path, Path, str]) -> None:
    root, out, _ = trained
    result = glassnet("evaluate", out, "--data", root)
    assert result.returncode == 0, result.stderr
    assert f"on 20 {root} images" in result.stdout and "circle" in result.stdout and "square" in result.stdout


def test_evaluate_on_a_folder_with_an_unknown_class(trained: tuple[Path, Path, str], tmp_path: Path) -> None:
    _, out, _ = trained
    other = make_folder(tmp_path / "other", per_class=1, classes=("circle", "star"))
    assert_one_line_error(glassnet("evaluate", out, "--data", other), "does not know the classes star")


def test_train_names_an_unreadable_file(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "shapes", per_class=2)
    (root / "circle" / "bad.jpg").write_bytes(b"not a jpeg")
    result = glassnet("train", "--data", root, "--model", "mlp", "--epochs", "1", "--out", tmp_path / "m.npz")
    assert_one_line_error(result, str(root / "circle" / "bad.jpg"))


def test_version() -> None:
    result = glassnet("--version")
    assert result.returncode == 0 and result.stdout.startswith(f"glassnet {gn.__version__}")


def test_class_names_round_trip_and_v1_files_have_none(tmp_path: Path) -> None:
    net = gn.Network(seed=0).add(gn.Dense(2, 3)).use("cross_entropy")
    assert gn.Network.load(net.save(tmp_path / "plain.npz") and tmp_path / "plain.npz").class_names is None
    net.class_names = ["a", "b", "c"]
    assert gn.Network.load(net.save(tmp_path / "named.npz") and tmp_path / "named.npz").class_names == ["a", "b", "c"]
    assert gn.Network.load(Path(__file__).parents[1] / "data" / "v1_mlp.npz").class_names is None


def test_serve_answers_with_the_class_name() -> None:
    pytest.importorskip("threadpoolctl")
    from glassnet.apps.serve.api import Predictor
    from glassnet.apps.zoo import get_model

    net = get_model("mlp").build(seed=0, classes=3)
    net.class_names = ["cat", "dog", "fox"]
    answer = Predictor(net).predict(np.zeros((28, 28, 1), dtype=np.float32), preprocess=False)
    assert answer["class_names"] == ["cat", "dog", "fox"]
    assert answer["class"] == ["cat", "dog", "fox"][answer["prediction"]]
