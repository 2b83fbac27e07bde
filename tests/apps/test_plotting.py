"""plotting: the confusion matrix as numbers, text and a Figure; training curves."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet.apps.plotting import (
    check_plot_path,
    confusion_figure,
    confusion_matrix,
    format_confusion,
    per_class_accuracy,
    save_figure,
    training_curves,
)
from glassnet.errors import InputError, ShapeError

HISTORY = {
    "loss": [0.5, 0.3, 0.2],
    "accuracy": [0.8, 0.9, 0.95],
    "val_loss": [0.4, 0.3, 0.25],
    "val_accuracy": [0.85, 0.9, 0.93],
    "seconds": [1.0, 1.0, 1.0],
}


def test_confusion_matrix_counts_true_rows_and_predicted_columns() -> None:
    matrix = confusion_matrix(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 2, 0]), 3)
    np.testing.assert_array_equal(matrix, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    np.testing.assert_allclose(per_class_accuracy(matrix), [0.5, 1.0, 2 / 3])


def test_confusion_matrix_rejects_bad_labels() -> None:
    with pytest.raises(ShapeError):
        confusion_matrix(np.zeros(3), np.zeros(4), 2)
    with pytest.raises(InputError, match=r"0..1"):
        confusion_matrix(np.array([0, 5]), np.array([0, 1]), 2)


def test_format_confusion_shows_counts_and_accuracy_per_class() -> None:
    matrix = np.array([[3, 1], [0, 0]])
    text = format_confusion(matrix, ["cat", "dog"])
    lines = text.splitlines()
    assert len(lines) == 3 and "accuracy" in lines[0]
    assert lines[1].split() == ["cat", "3", "1", "0.7500"]
    assert lines[2].split() == ["dog", "0", "0", "-"]


def test_training_curves_plot_train_and_validation(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    figure = training_curves(HISTORY, title="demo")
    loss_axes, accuracy_axes = figure.axes
    assert [line.get_label() for line in loss_axes.lines] == ["training", "validation"]
    np.testing.assert_allclose(accuracy_axes.lines[1].get_ydata(), HISTORY["val_accuracy"])
    save_figure(figure, tmp_path / "curves.png")
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_training_curves_need_a_history() -> None:
    with pytest.raises(InputError, match="no training history"):
        training_curves({"loss": []})


def test_confusion_figure_writes_an_image(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    figure = confusion_figure(np.array([[5, 1], [2, 7]]), ["0", "1"])
    texts = [text.get_text() for text in figure.axes[0].texts]
    assert texts == ["5", "1", "2", "7"]
    save_figure(figure, tmp_path / "cm.svg")
    assert b"<svg" in (tmp_path / "cm.svg").read_bytes()[:500]


def test_the_confusion_figure_colours_mistakes_on_a_log_scale_and_mutes_the_diagonal() -> None:
    pytest.importorskip("matplotlib")
    from matplotlib.colors import LogNorm, to_hex

    matrix = np.array([[300, 1, 0], [30, 250, 3], [0, 0, 280]])
    figure = confusion_figure(matrix, ["a", "b", "c"])
    axes, colorbar = figure.axes
    background, mistakes = axes.images
    assert isinstance(mistakes.norm, LogNorm) and (mistakes.norm.vmin, mistakes.norm.vmax) == (1, 30)
    assert colorbar.get_ylabel() == "mistakes in the cell (log scale)"
    coloured = mistakes.get_array()
    assert coloured.mask.tolist() == [[True, False, True], [False, True, False], [True, True, True]]
    assert (
        to_hex(background.cmap(1.0)) == "#e4e7ec" and not np.isnan(background.get_array()[np.eye(3, dtype=bool)]).any()
    )
    rgba = mistakes.to_rgba(np.array([1.0, 3.0, 30.0]))
    assert rgba[0, 1] > rgba[1, 1] > rgba[2, 1] and rgba[0, 1] < 0.95  # darker with more; one is not white
    assert [text.get_text() for text in axes.texts] == ["300", "1", "30", "250", "3", "280"]  # zero cells blank
    assert axes.get_title() == "confusion matrix (gray: right)"
    assert figure._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"  # Jupyter draws it even before pyplot is imported


def test_check_plot_path_fails_early(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    check_plot_path(tmp_path / "ok.png")
    with pytest.raises(InputError, match="ending in one of"):
        check_plot_path(tmp_path / "curves.xyz")
    with pytest.raises(FileNotFoundError):
        check_plot_path(tmp_path / "missing" / "curves.png")
