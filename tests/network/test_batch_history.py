"""The per-batch history: each batch's loss kept (at most 100 points an epoch), saved in format 3, plotted."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
from glassnet.curves import batch_positions, training_curves
from glassnet.extras import MissingExtraError
from glassnet.io.model_file import FORMAT_VERSION
from glassnet.network.loop import batch_points

DATA = Path(__file__).parents[1] / "data"


def small_net(**settings: object) -> gn.Network:
    net = gn.Network(batch_size=10, seed=0, verbose=0, **settings)  # type: ignore[arg-type]
    return net.add(gn.Dense(4, 3)).add(gn.Softmax()).use("cross_entropy")


def data(n: int = 50) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    return rng.standard_normal((n, 4)).astype(np.float32), rng.integers(0, 3, n)


def test_each_batch_loss_is_recorded_as_the_callbacks_see_it() -> None:
    seen: list[float] = []
    callback = gn.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(logs["loss"]))
    net = small_net().fit(*data(), epochs=2, callbacks=[callback])
    assert net.history["batch_loss"] == seen and len(seen) == 10
    assert net.history["batch_points"] == [5.0, 5.0]
    # the epoch's loss is the sample-weighted mean of its batches (all of 10 samples here)
    assert net.history["loss"][0] == pytest.approx(np.mean(seen[:5]))


def test_past_the_cap_the_points_are_means_of_consecutive_batches() -> None:
    losses = [float(i) for i in range(250)]
    points = batch_points(losses)  # runs of ceil(250 / 100) = 3 batches
    assert len(points) == math.ceil(250 / 3) == 84
    assert points[0] == 1.0 and points[-1] == 249.0  # (0 + 1 + 2) / 3; the last run holds 249 alone
    assert batch_points(losses[:100]) == losses[:100]


def test_the_per_batch_history_survives_save_and_load(tmp_path: Path) -> None:
    net = small_net().fit(*data(), epochs=2)
    net.save(tmp_path / "model.npz")
    with np.load(tmp_path / "model.npz") as npz:
        assert int(npz["format_version"]) == FORMAT_VERSION == 3
    loaded = gn.Network.load(tmp_path / "model.npz")
    assert loaded.history["batch_loss"] == net.history["batch_loss"]
    assert loaded.history["batch_points"] == [5.0, 5.0]


def test_a_file_whose_batch_counts_do_not_add_up_is_refused(tmp_path: Path) -> None:
    small_net().fit(*data(), epochs=2).save(tmp_path / "model.npz")
    with np.load(tmp_path / "model.npz") as npz:
        arrays = {key: npz[key] for key in npz.files}
    arrays["history/batch_points"] = np.array([5.0, 4.0])
    np.savez(tmp_path / "edited.npz", **arrays)
    with pytest.raises(gn.ModelFileError, match="batch_points adds up to 9 but history/batch_loss has 10 values"):
        gn.Network.load(tmp_path / "edited.npz")


def test_an_older_model_file_loads_and_a_continued_run_records_its_new_epochs_only() -> None:
    old = gn.Network.load(DATA / "v1_mlp.npz")  # format 1: no per-batch history
    epochs = len(old.history["loss"])
    assert old.history["batch_loss"] == [] and old.history["batch_points"] == []
    rng = np.random.default_rng(0)
    classes = old.layers[-2].weight.shape[1]  # 3
    x, y = rng.random((40, *old.input_shape)).astype(np.float32), rng.integers(0, classes, 40)
    old.verbose = 0
    old.fit(x, y, epochs=1, batch_size=20)
    assert old.history["batch_points"] == [2.0] and len(old.history["loss"]) == epochs + 1
    positions, losses = batch_positions(old.history)
    assert positions.tolist() == [epochs + 0.5, epochs + 1.0] and losses.tolist() == old.history["batch_loss"]


def test_batch_positions_spread_each_epoch_over_its_interval() -> None:
    history = {"loss": [1.0, 0.5], "batch_loss": [3.0, 2.0, 1.0, 0.9, 0.8, 0.7], "batch_points": [2.0, 4.0]}
    x, y = batch_positions(history)
    assert x.tolist() == [0.5, 1.0, 1.25, 1.5, 1.75, 2.0] and y.tolist() == history["batch_loss"]
    with pytest.raises(gn.InputError, match="batch_points adds up to 6 for 2 epochs, batch_loss has 5"):
        batch_positions({**history, "batch_loss": history["batch_loss"][:5]})


def test_plot_history_draws_the_batches_as_points() -> None:
    pytest.importorskip("matplotlib")
    net = small_net().fit(*data(), epochs=3, validation_data=data(20))
    figure = net.plot_history("demo")
    loss_axes, accuracy_axes = figure.axes
    lines = {line.get_label(): line for line in loss_axes.lines}
    assert lines["training, per batch"].get_xdata().tolist() == pytest.approx(
        [e + b / 5 for e in range(3) for b in range(1, 6)]
    )
    assert lines["training, per batch"].get_ydata().tolist() == net.history["batch_loss"]
    assert list(lines["training"].get_ydata()) == net.history["loss"] and "validation" in lines
    assert [line.get_label() for line in accuracy_axes.lines] == ["training", "validation"]
    assert figure.get_suptitle() == "demo"
    assert figure._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"  # what Jupyter shows when pyplot was never imported


def test_plot_history_without_matplotlib_says_which_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # importing it fails, as without matplotlib
    net = small_net().fit(*data(), epochs=1)
    with pytest.raises(MissingExtraError, match=r'^plotting needs matplotlib: pip install "glassnet\[plot\]"$'):
        net.plot_history()


def test_a_history_without_batches_plots_as_before() -> None:
    pytest.importorskip("matplotlib")
    figure = training_curves({"loss": [1.0, 0.5], "accuracy": [0.5, 0.7]})
    assert [line.get_label() for line in figure.axes[0].lines] == ["training"]
    assert figure.axes[0].get_xlim() == (0.5, 2.5)
