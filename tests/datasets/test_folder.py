"""Image folders the tests draw: arrays, the lazy dataset object, and fit on it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
from glassnet.datasets import ImageFolder, image_folder
from glassnet.network.data import is_dataset

pytest.importorskip("PIL.Image")
from image_folders import make_folder


def test_image_folder_gives_arrays_classes_and_a_stratified_split(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "shapes")
    data = image_folder(root, size=(16, 16), color="gray", validation_split=0.25, verbose=0)
    assert data.class_names == ["circle", "square"]
    assert data.x.shape == (9, 16, 16, 1) and data.x.dtype == np.float32
    assert data.y.dtype == np.int64 and set(data.y) == {0, 1}
    assert data.x.min() >= 0.0 and data.x.max() <= 1.0
    assert data.validation is not None
    x_val, y_val = data.validation
    assert x_val.shape == (3, 16, 16, 1) and len(y_val) == 3
    # the centre of every shape is light, the corners dark, whatever the file's mode and size
    everything = np.concatenate([data.x, x_val])
    assert (everything[:, 8, 8, 0] > 0.5).all() and (everything[:, 0, 0, 0] < 0.2).all()


def test_rgb_keeps_colour_and_gray_files_get_three_equal_channels(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "shapes", per_class=4)
    data = image_folder(root, size=(12, 10), color="rgb", seed=None, verbose=0)
    assert data.x.shape == (8, 12, 10, 3)
    centre = data.x[:, 6, 5]  # (N, 3)
    colour_files = [i % 4 != 0 for i in range(4)] * 2  # index 0 of each class is a gray ("L") file
    assert (centre[np.array(colour_files), 0] > centre[np.array(colour_files), 2] + 0.3).all()  # orange: red > blue
    gray = centre[~np.array(colour_files)]
    np.testing.assert_allclose(gray[:, 0], gray[:, 2])


def test_progress_is_shown_while_decoding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image_folder(make_folder(tmp_path / "shapes", per_class=2), size=(8, 8), verbose=1)
    assert "Decoding images: 4/4 (100%)" in capsys.readouterr().err


def test_empty_class_folder_is_named(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "shapes", per_class=2)
    (root / "triangle").mkdir()
    with pytest.raises(gn.errors.InputError, match="triangle hold no images"):
        image_folder(root, verbose=0)


def test_unreadable_file_is_named(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "shapes", per_class=2)
    (root / "square" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n but not really")
    with pytest.raises(gn.errors.InputError, match=r"square[/\\]broken\.png"):
        image_folder(root, verbose=0)


def test_not_a_folder_and_no_classes(tmp_path: Path) -> None:
    with pytest.raises(gn.errors.InputError, match="not a folder"):
        image_folder(tmp_path / "missing", verbose=0)
    (tmp_path / "flat").mkdir()
    with pytest.raises(gn.errors.InputError, match="no class subfolders"):
        image_folder(tmp_path / "flat", verbose=0)
    with pytest.raises(gn.errors.InputError, match="color"):
        ImageFolder(make_folder(tmp_path / "ok", per_class=1), color="cmyk")


def test_lazy_dataset_matches_the_arrays(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "shapes", per_class=3)
    dataset = ImageFolder(root, size=(10, 10), color="rgb", seed=3)
    data = image_folder(root, size=(10, 10), color="rgb", seed=3, verbose=0)
    x, y = dataset[np.array([4, 0, 2])]
    np.testing.assert_array_equal(x, data.x[[4, 0, 2]])
    np.testing.assert_array_equal(y, data.y[[4, 0, 2]])
    assert len(dataset) == 6 and dataset.class_names == data.class_names
    with pytest.raises(IndexError):
        dataset[np.array([6])]


class Counting:
    """A dataset object over arrays that records which indices each batch asked for."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y, self.calls = x, y, []

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.calls.append(np.array(index))
        return self.x[index], self.y[index]


def _net(seed: int = 0) -> gn.Network:
    return (
        gn.Network(epochs=2, batch_size=4, seed=seed, verbose=0, optimizer="adam", learning_rate=0.01)
        .add(gn.Flatten())
        .add(gn.Dense(36, 2))
        .add(gn.Softmax())
        .use("cross_entropy")
    )


def _arrays(n: int = 20) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    return rng.random((n, 6, 6, 1), dtype=np.float32), rng.integers(0, 2, n)


def test_fit_on_a_dataset_object_equals_fit_on_its_arrays() -> None:
    x, y = _arrays()
    by_arrays = _net().fit(x, y, validation_split=0.2)
    dataset = Counting(x, y)
    by_dataset = _net().fit(dataset, validation_split=0.2)
    for a, b in zip(by_arrays.parameters(), by_dataset.parameters(), strict=True):
        np.testing.assert_array_equal(a.value, b.value)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert by_arrays.history[key] == by_dataset.history[key]
    asked = np.concatenate(dataset.calls[2:])  # after the first-sample check and the validation read
    assert set(asked) == set(range(16))  # shuffled batches of the 16 training samples only


def test_fit_on_a_dataset_resumes_from_its_checkpoint(tmp_path: Path) -> None:
    x, y = _arrays()
    whole = _net().fit(Counting(x, y), epochs=2)
    _net().fit(Counting(x, y), epochs=1, checkpoint=tmp_path / "c.npz")
    resumed = _net().fit(Counting(x, y), epochs=2, resume=tmp_path / "c.npz")
    for a, b in zip(whole.parameters(), resumed.parameters(), strict=True):
        np.testing.assert_array_equal(a.value, b.value)


def test_dataset_object_errors() -> None:
    x, y = _arrays()
    with pytest.raises(gn.errors.InputError, match="without y"):
        _net().fit(Counting(x, y), y)
    with pytest.raises(gn.errors.InputError, match="needs the targets y"):
        _net().fit(x)

    class Single(Counting):
        def __getitem__(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return self.x[index]  # type: ignore[return-value]

    with pytest.raises(TypeError, match="must return a pair"):
        _net().fit(Single(x, y))


def test_fit_on_an_image_folder_learns_the_shapes(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "shapes", per_class=8)
    dataset = ImageFolder(root, size=(6, 6))
    net = _net().fit(dataset, epochs=30, validation_split=0.25)
    assert net.history["accuracy"][-1] > 0.6


def test_array_likes_with_getitem_stay_arrays() -> None:
    """An object NumPy converts (pandas frames, tensors: __array__) is data, not a dataset object."""

    class Frame:
        def __init__(self, values: np.ndarray) -> None:
            self.values = values

        def __len__(self) -> int:
            return len(self.values)

        def __getitem__(self, key: object) -> np.ndarray:
            return self.values[key]

        def __array__(self, dtype: object = None, copy: object = None) -> np.ndarray:
            return self.values

    x, y = _arrays()
    by_frame, by_array = _net().fit(Frame(x), y), _net().fit(x, y)
    assert by_frame.history["loss"] == by_array.history["loss"]
    assert not is_dataset(Frame(x)) and is_dataset(Counting(x, y))


def test_dataset_of_regression_targets_and_divergence() -> None:
    """Real-valued targets are measured as with arrays; a diverging run on a dataset object says so."""
    rng = np.random.default_rng(2)
    x, y = rng.random((12, 3), dtype=np.float32), rng.random((12, 2), dtype=np.float32)
    by_dataset = gn.Network([gn.Dense(3, 2)], seed=0, verbose=0, batch_size=4).use("mse").fit(Counting(x, y), epochs=2)
    by_arrays = gn.Network([gn.Dense(3, 2)], seed=0, verbose=0, batch_size=4).use("mse").fit(x, y, epochs=2)
    for key in ("loss", "accuracy"):
        assert by_dataset.history[key] == by_arrays.history[key]
    wild = gn.Network([gn.Dense(3, 2)], seed=0, verbose=0, batch_size=4, learning_rate=1e30).use("mse")
    with pytest.raises(gn.DivergenceError, match="lower the learning rate"):
        wild.fit(Counting(x * 1e20, y), epochs=3)
