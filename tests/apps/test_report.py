"""glassnet report and glassnet.apps.activations: the self-contained HTML page, its figures, the activations."""

from __future__ import annotations

import base64
import copy
import datetime
import html
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from small_cnn import small_cnn_path

import glassnet as gn
from glassnet.apps.activations import (
    activations_figure,
    filter_images,
    filters_figure,
    first_conv,
    layer_activations,
    montage,
)
from glassnet.apps.report import (
    build_report,
    confident_mistakes,
    figure_data_uri,
    mistakes_figure,
    write_report,
)
from glassnet.apps.run_summary import duration, fit_seconds, run_section
from glassnet.extras import MissingExtraError

SRC = Path(__file__).resolve().parents[2] / "src"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def model_path(tmp_path_factory) -> Path:
    return small_cnn_path(tmp_path_factory)


@pytest.fixture(scope="module")
def net(model_path: Path) -> gn.Network:
    return gn.Network.load(model_path)


@pytest.fixture(scope="module")
def test_set() -> tuple[np.ndarray, np.ndarray]:
    _, (x_test, y_test) = gn.datasets.load_mnist()
    return x_test[:500], y_test[:500]


@pytest.fixture(scope="module")
def page(net, test_set) -> str:
    """The report of the small CNN on its 500 test images, built once (its figures take seconds)."""
    pytest.importorskip("matplotlib")
    return build_report(net, *test_set)


def test_layer_activations_give_every_layer_and_end_at_predict(net, test_set) -> None:
    sample = test_set[0][0]
    activations = layer_activations(net, sample)
    assert [item.name for item in activations] == [repr(layer) for layer in net.layers]
    assert [item.values.shape for item in activations] == net.layer_shapes(sample.shape)
    assert [item.is_maps for item in activations] == [True, True, True, False, False, False]
    np.testing.assert_allclose(activations[-1].values, net.predict(sample[None])[0], rtol=1e-6)


def test_layer_activations_run_in_inference_mode(rng) -> None:
    net = gn.Network(seed=0).add(gn.Flatten()).add(gn.Dropout(0.5)).add(gn.Dense(16, 3))
    for layer in net.layers:
        layer.training = True  # as if fit had been interrupted
    sample = rng.random((4, 4, 1))
    first, second = layer_activations(net, sample), layer_activations(net, sample)
    np.testing.assert_array_equal(first[1].values, first[0].values)  # Dropout is the identity
    np.testing.assert_array_equal(first[-1].values, second[-1].values)


def test_layer_activations_check_the_sample(net) -> None:
    with pytest.raises(gn.ShapeError):
        layer_activations(net, np.zeros((28, 28)))
    with pytest.raises(gn.NumericalError, match="NaN or infinite"):
        layer_activations(net, np.full((28, 28, 1), 1e38))


def test_filter_images_average_the_input_channels() -> None:
    conv = gn.Conv2D(3, 4, kernel_size=(2, 5))
    conv.forward(np.zeros((1, 6, 6, 3), dtype=np.float32))
    images = filter_images(conv)
    assert images.shape == (4, 2, 5)
    np.testing.assert_allclose(images[1], conv.weight.value[:, :, :, 1].mean(axis=2))
    with pytest.raises(gn.InputError, match="no weights yet"):
        filter_images(gn.Conv2D(1, 2, 3))


def test_first_conv_finds_the_first_convolution(net) -> None:
    assert first_conv(net) is net.layers[0]
    assert first_conv(gn.Network().add(gn.Flatten())) is None


def test_montage_puts_maps_side_by_side_with_blank_gaps() -> None:
    row = montage(np.arange(12.0).reshape(3, 2, 2))  # (3, 2, 2) -> (2, 8)
    assert row.shape == (2, 8)
    np.testing.assert_array_equal(row[:, :2], [[0, 1], [2, 3]])
    assert np.isnan(row[:, 2]).all() and np.isnan(row[:, 5]).all()


def test_confident_mistakes_come_most_confident_first() -> None:
    outputs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7], [0.99, 0.01]])
    labels = np.array([0, 0, 1, 0, 1])
    np.testing.assert_array_equal(confident_mistakes(outputs, labels), [4, 1, 3, 2])
    np.testing.assert_array_equal(confident_mistakes(outputs, labels, count=2), [4, 1])
    assert confident_mistakes(outputs, outputs.argmax(axis=1)).size == 0


def test_figures_for_a_notebook(net, test_set) -> None:
    pytest.importorskip("matplotlib")
    x, y = test_set
    outputs = net.predict(x)
    mistakes = mistakes_figure(x, y, outputs)
    assert mistakes._repr_png_()[:8] == PNG_MAGIC  # Jupyter draws it even before pyplot is imported
    titles = [ax.get_title() for ax in mistakes.axes if ax.get_title()]
    assert len(titles) == min(16, int(np.sum(outputs.argmax(axis=1) != y)))
    first = confident_mistakes(outputs, y)[0]
    assert titles[0] == f"pred {outputs[first].argmax()} ({outputs[first].max():.2f})\ntrue {y[first]}"
    filters = filters_figure(first_conv(net))
    assert sum(ax.get_visible() for ax in filters.axes) == 8
    activations = activations_figure(layer_activations(net, x[0]), x[0])
    assert len(activations.axes) == len(net.layers) + 1
    assert base64.b64decode(figure_data_uri(filters).split(",", 1)[1])[:8] == PNG_MAGIC
    with pytest.raises(gn.ShapeError, match="mistakes_figure expected"):
        mistakes_figure(x, y[:3], outputs)


def test_the_report_is_one_self_contained_page(net, test_set, tmp_path) -> None:
    pytest.importorskip("matplotlib")
    x, y = test_set
    path = write_report(net, tmp_path / "report.html", x, y, title="small <CNN>")
    page = path.read_text(encoding="utf-8")
    accuracy = np.mean(net.predict(x).argmax(axis=1) == y)
    assert f"Test accuracy <b>{accuracy:.2%}</b> on 500 images" in page
    assert "<title>small &lt;CNN&gt;</title>" in page
    assert "Conv2D(1 -&gt; 8, 3x3)" in page and "Total parameters: 13,610" in page
    sources = re.findall(r'src="([^"]*)"', page)
    assert len(sources) == 5 and all(source.startswith("data:image/png;base64,") for source in sources)
    assert all(base64.b64decode(source.split(",", 1)[1])[:8] == PNG_MAGIC for source in sources)
    assert not re.search(r"(href|src)=\"(?!data:)", page) and "http" not in page.replace("http-equiv", "")
    accuracy_table = re.search(r"<table><tr><th>class</th>.*?</table>", page)
    assert accuracy_table and accuracy_table.group(0).count("<tr>") == 11  # the header and one row per class


def test_the_report_says_how_the_model_was_trained(net, page) -> None:
    fit = net.card["fits"][0]
    seconds = sum(net.history["seconds"])
    assert "<h2>How it was trained</h2>" in page
    assert f"1 epoch trained in {duration(seconds)} ({duration(seconds)} an epoch)." in page
    assert re.search(rf"Report written \d{{4}}-\d\d-\d\d \d\d:\d\d UTC by glassnet {re.escape(gn.__version__)}", page)
    started = datetime.datetime.fromisoformat(fit["date"]).strftime("%Y-%m-%d %H:%M UTC")
    for label, value in [
        ("started", started),
        ("training time", duration(seconds)),
        ("seed", "0"),
        ("epochs", "1"),
        ("learning rate", "0.002"),
        ("batch size", "32"),
        ("validation split", "0.1"),
        ("shuffle", "yes"),
        ("callbacks", "none"),
        ("optimizer", "Adam(learning_rate=0.002, beta1=0.9, beta2=0.999, eps=1e-08, weight_decay=0.0)"),
        ("glassnet", gn.__version__),
        ("NumPy", np.__version__),
        ("command", f"<code>{html.escape(fit['command'])}</code>"),
    ]:
        assert f"<tr><th>{label}</th><td>{value}</td></tr>" in page, label
    assert "<tr><th></th><th>fit 1</th></tr>" in page and "<tr><th>loss</th><td>cross_entropy</td></tr>" in page


def test_the_report_explains_its_curves_and_its_confusion_matrix(net, test_set, page) -> None:
    batches = math.ceil(2700 / 32)  # 3,000 images less the 10% validation split
    assert net.history["batch_points"] == [batches]
    assert f"Dots: the training loss of each batch ({batches} points over 1 epoch;" in page
    assert "only mistakes are coloured, on a log scale" in page
    older = copy.deepcopy(net)
    older.history["batch_loss"], older.history["batch_points"] = [], []  # as in a file from before format 3
    assert "history has no per-batch losses" in build_report(older, *test_set)


def test_the_run_section_of_a_model_without_card_or_dates(net) -> None:
    older = copy.deepcopy(net)
    del older.card["fits"][0]["date"]  # a card from before dates were recorded
    assert "<tr><th>started</th><td>not recorded</td></tr>" in "".join(run_section(older))
    older.card = {"fits": []}  # a format 1 file
    section = "".join(run_section(older))
    assert "holds no reproducibility card" in section and "fit 1" not in section
    assert "<tr><th>constructor</th><td>epochs=1, learning_rate=0.002, batch_size=32</td></tr>" in section


def test_fit_seconds_split_the_history_by_fit() -> None:
    history = {"seconds": [1.0, 2.0, 4.0, 8.0]}
    assert fit_seconds(history, [{"epochs_before": 0}, {"epochs_before": 3}]) == [7.0, 8.0]
    assert [duration(s) for s in (41.25, 725, 7380)] == ["41.2 s", "12 min 5 s", "2 h 3 min"]


def test_a_model_without_convolution_or_history_still_gets_a_report(test_set) -> None:
    pytest.importorskip("matplotlib")
    net = gn.Network(seed=0).add(gn.Flatten()).add(gn.Dense(784, 10)).add(gn.Softmax())
    page = build_report(net, *test_set)
    assert "No training history saved" in page and "The model has no convolution" in page
    assert page.count("<img ") == 3


def test_the_report_checks_its_inputs(net, test_set, tmp_path) -> None:
    x, y = test_set
    with pytest.raises(gn.InputError, match="integer labels"):
        build_report(net, x, y[:10])
    with pytest.raises(gn.InputError, match="integer labels"):
        build_report(net, x, y.astype(np.float32))
    with pytest.raises(gn.ShapeError, match="one per class"):
        build_report(net, x, y, class_names=("a", "b"))
    with pytest.raises(FileNotFoundError, match="no such folder"):
        write_report(net, tmp_path / "missing" / "report.html", x, y)


def test_without_matplotlib_the_report_says_how_to_install_it(net, test_set, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(MissingExtraError, match=r'pip install "glassnet\[plot\]"'):
        build_report(net, *test_set)


def test_the_report_command_writes_the_page(model_path, tmp_path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "report.html"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, "-m", "glassnet", "report", str(model_path), "--out", str(out)],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Wrote the report to {out}"
    page = out.read_text(encoding="utf-8")
    assert "on 10,000 images" in page and "small-cnn.npz on MNIST" in page
    missing = subprocess.run(
        [sys.executable, "-m", "glassnet", "report", str(tmp_path / "nope.npz")],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert (
        missing.returncode == 1 and missing.stderr.startswith("glassnet: error:") and "Traceback" not in missing.stderr
    )
