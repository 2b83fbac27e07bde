"""glassnet export: a model file as ONNX with its metadata, checked by onnxruntime; one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_cli import assert_one_line_error, glassnet

from glassnet.apps.cli import main
from glassnet.apps.zoo import REGISTRY

onnx = pytest.importorskip("onnx")
runtime = pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("export") / "mlp.npz"
    REGISTRY["mlp"].build(seed=0, verbose=0).save(path)
    return path


def test_export_check_writes_a_file_onnxruntime_runs(model: Path) -> None:
    result = glassnet("export", model, "--format", "onnx", "--check")
    assert result.returncode == 0, result.stderr
    out = model.with_suffix(".onnx")
    lines = result.stdout.splitlines()
    assert lines[0] == f"Wrote {out}: input 'input' NHWC (N, 28, 28, 1), output 'output' (N, 10)"
    assert lines[1].startswith("Checked with onnxruntime: the largest difference from glassnet is ")
    assert lines[1].endswith(" over 1000 MNIST test images and 100 random inputs")
    assert float(lines[1].split(" is ")[1].split()[0]) <= 1e-5
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert json.loads(meta["class_names"]) == list("0123456789") and "/ 255" in meta["preprocessing"]
    session = runtime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    (probs,) = session.run(None, {"input": np.zeros((3, 28, 28, 1), np.float32)})
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)


def test_export_nchw_to_a_chosen_file(model: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "digits.onnx"
    assert main(["export", str(model), "--out", str(out), "--layout", "nchw", "--dataset", "fashion-mnist"]) == 0
    assert capsys.readouterr().out.startswith(f"Wrote {out}: input 'input' NCHW (N, 1, 28, 28)")
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert meta["input_layout"] == "NCHW" and json.loads(meta["class_names"])[0] == "T-shirt/top"


def test_export_errors_are_one_line(model: Path, tmp_path: Path, capsys) -> None:
    assert_one_line_error(glassnet("export", model, "--format", "tflite"), "invalid choice: 'tflite'")
    for argv, fragment in [
        (["export", str(tmp_path / "missing.npz")], "missing.npz: No such file or directory"),
        (["export", str(model), "--out", str(tmp_path / "no" / "x.onnx")], "no such folder"),
        (["export", str(model), "--out", str(model)], "is the model file itself"),
    ]:
        assert main(argv) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("glassnet: error:") and fragment in err[0], err
