"""The example scripts run end to end on small subsets, in a subprocess, and print their accuracy."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def run_example(name: str, *args: str, cwd: Path) -> str:
    """Run examples/<name> with args; fail with its output unless it exits with 0."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"{name} exited with {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def reported_accuracy(output: str) -> float:
    match = re.search(r"accuracy (\d\.\d+)(?!.*accuracy \d)", output, re.DOTALL)
    assert match, f"no accuracy in the output:\n{output}"
    return float(match.group(1))


def test_xor_network_solves_what_the_perceptron_cannot(tmp_path):
    out = run_example("xor.py", "--epochs", "1000", cwd=tmp_path)
    assert "perceptron: converged=False" in out and "ConvergenceWarning" in out
    assert reported_accuracy(out) == 1.0


@pytest.mark.parametrize(
    "name, limit, epochs, extra, at_least",
    [
        ("mnist_mlp.py", 1000, 2, (), 0.3),
        ("mnist_cnn.py", 500, 1, ("--final-epochs", "1"), 0.2),  # 1 + 1 at learning rate / 5
        ("custom_layer.py", 1000, 2, (), 0.6),
    ],
)
def test_mnist_examples_on_a_subset(tmp_path, name, limit, epochs, extra, at_least):
    out = run_example(name, "--limit", str(limit), "--epochs", str(epochs), *extra, cwd=tmp_path)
    assert f"on {limit} images" in out
    assert at_least <= reported_accuracy(out) <= 1.0  # above chance (0.1) already
    lines = re.findall(r"^Epoch \d+/\d+", out, re.MULTILINE)
    assert len(lines) == epochs + (1 if extra else 0)


def test_custom_layer_gradient_matches_finite_differences(tmp_path):
    out = run_example("custom_layer.py", "--limit", "200", "--epochs", "1", cwd=tmp_path)
    error = float(re.search(r"max error (\S+)", out).group(1))
    assert error < 1e-6


def test_learning_rate_example_draws_the_figure_in_the_current_folder(tmp_path):
    pytest.importorskip("matplotlib", reason="the figure needs matplotlib: pip install glassnet[plot]")
    docs_copy = ROOT / "docs" / "images" / "learning_rate.png"
    before = docs_copy.stat().st_mtime_ns
    out = run_example("learning_rate.py", "--limit", "300", "--epochs", "2", cwd=tmp_path)
    assert (tmp_path / "learning_rate.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert docs_copy.stat().st_mtime_ns == before  # the checkout is left alone
    assert out.count("learning rate") == 3 and out.endswith("wrote learning_rate.png\n")


def test_learning_rate_example_without_matplotlib_says_so_in_one_line(tmp_path):
    blocked = tmp_path / "blocked" / "matplotlib"
    blocked.mkdir(parents=True)
    (blocked / "__init__.py").write_text('raise ImportError("matplotlib is not installed here")\n')
    paths = [str(tmp_path / "blocked"), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "learning_rate.py")],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, paths))},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == 'this example\'s figure needs matplotlib: pip install "glassnet[plot]"\n'


@pytest.mark.parametrize("name", ["xor.py", "mnist_mlp.py", "mnist_cnn.py", "custom_layer.py", "learning_rate.py"])
def test_every_example_has_help(tmp_path, name):
    out = run_example(name, "--help", cwd=tmp_path)
    assert "--epochs" in out
    if name != "xor.py":  # four examples, no subset to take
        assert "--limit" in out


@pytest.mark.slow
def test_mnist_cnn_example_reaches_99_percent(tmp_path):
    out = run_example("mnist_cnn.py", cwd=tmp_path)
    assert reported_accuracy(out) >= 0.99


@pytest.mark.parametrize("name", ["char_lm.py", "transformer_reverse.py"])
def test_sequence_examples_have_help(tmp_path, name):
    assert "--epochs" in run_example(name, "--help", cwd=tmp_path)


def test_char_lm_learns_a_text_the_test_writes(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")  # tiny products: a second thread only spins
    text = tmp_path / "text.txt"
    text.write_text("hello world, this is glassnet learning to spell. " * 60, encoding="utf-8")
    out = run_example(
        "char_lm.py", str(text), "--epochs", "15", "--length", "16", "--hidden", "32", "--sample", "40", cwd=tmp_path
    )
    match = re.search(r"final loss (\d+\.\d+) per character \(uniform guessing: (\d+\.\d+)\)", out)
    assert match, out
    final, uniform = float(match.group(1)), float(match.group(2))
    assert uniform == pytest.approx(math.log(len(set(text.read_text()))), abs=1e-4)  # 17 distinct characters
    assert final < 0.25 * uniform, out
    sample = out.split("sample at temperature 0.8:\n")[1].strip()
    assert len(sample) == 41 and set(sample) <= set(text.read_text())


def test_transformer_example_copies_sequences(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    args = ("--task", "copy", "--epochs", "3", "--samples", "1500", "--dim", "16")
    out = run_example("transformer_reverse.py", *args, cwd=tmp_path)
    assert reported_accuracy(out) >= 0.9, out


@pytest.mark.slow
def test_transformer_example_reverses_sequences_to_99_percent(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    out = run_example("transformer_reverse.py", "--task", "reverse", "--epochs", "15", cwd=tmp_path)
    assert reported_accuracy(out) >= 0.99, out
