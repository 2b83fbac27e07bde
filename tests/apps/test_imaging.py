"""imaging: any picture of a digit made into MNIST's 28x28 white-on-black form."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet.apps.imaging import load_image, resize, to_mnist
from glassnet.errors import InputError
from glassnet.extras import MissingExtraError, import_extra


def _digit(height: int = 60, width: int = 40) -> np.ndarray:
    """A dark-on-light 'digit': a black bar with a foot, on white. Shapes: (height, width) uint8."""
    image = np.full((height, width), 255, dtype=np.uint8)
    image[10:50, 18:24] = 0
    image[44:50, 10:30] = 0
    return image


def _mass_centre(image: np.ndarray) -> tuple[float, float]:
    ys, xs = np.indices(image.shape)
    return float((image * ys).sum() / image.sum()), float((image * xs).sum() / image.sum())


def test_to_mnist_gives_28x28x1_float32_in_unit_range() -> None:
    out = to_mnist(_digit())
    assert out.shape == (28, 28, 1) and out.dtype == np.float32
    assert out.min() == 0.0 and out.max() == pytest.approx(1.0)


def test_the_digit_fits_a_20px_box_centred_by_mass() -> None:
    out = to_mnist(_digit())[..., 0]
    rows, cols = np.nonzero(out > 0)
    assert rows.max() - rows.min() + 1 == 20  # the longer side (40 px of ink) becomes 20
    assert cols.max() - cols.min() + 1 == 10  # aspect kept: 20 px wide ink becomes 10
    centre_y, centre_x = _mass_centre(out)
    assert abs(centre_y - 14) <= 0.5 and abs(centre_x - 14) <= 0.5


def test_polarity_colour_and_scale_do_not_change_the_result() -> None:
    dark_on_light = to_mnist(_digit())
    light_on_dark = to_mnist(255 - _digit())
    rgb = to_mnist(np.repeat(_digit()[..., None], 3, axis=2))
    floats = to_mnist(_digit().astype(np.float64) / 255)
    np.testing.assert_allclose(light_on_dark, dark_on_light, atol=1e-6)
    np.testing.assert_allclose(rgb, dark_on_light, atol=1e-2)
    np.testing.assert_allclose(floats, dark_on_light, atol=1e-6)


def test_strokes_on_a_transparent_canvas_are_the_ink() -> None:
    rgba = np.zeros((60, 40, 4), dtype=np.uint8)  # black everywhere, only alpha draws
    rgba[..., 3] = 255 - _digit()
    np.testing.assert_allclose(to_mnist(rgba), to_mnist(_digit()), atol=1e-6)


def test_an_mnist_digit_comes_back_as_itself() -> None:
    from glassnet.datasets import load_mnist

    _, (x_test, _) = load_mnist()
    for image in x_test[:50]:
        assert np.abs(to_mnist(image) - image).max() < 0.05  # at most a faint fringe pixel differs


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.full((10, 10), 255, dtype=np.uint8), "blank"),
        (np.zeros((4, 5, 6)), "expected an image"),
        (np.zeros((0, 5)), "non-empty"),
        (np.array([["a", "b"]]), "numbers"),
        (np.full((5, 5), np.nan), "finite"),
        (np.full((5, 5), -1.0), ">= 0"),
    ],
)
def test_bad_images_get_clear_errors(image: np.ndarray, message: str) -> None:
    with pytest.raises(InputError, match=message):
        to_mnist(image)


def test_resize_averages_when_shrinking_and_interpolates_when_growing() -> None:
    np.testing.assert_allclose(resize(np.arange(16.0).reshape(4, 4), (2, 2)), [[2.5, 4.5], [10.5, 12.5]])
    grown = resize(np.array([[0.0, 1.0]]), (1, 4))
    np.testing.assert_allclose(grown, [[0.0, 0.25, 0.75, 1.0]])
    uneven = resize(np.ones((7, 3)), (3, 2))  # non-integer ratios keep a constant image constant
    np.testing.assert_allclose(uneven, np.ones((3, 2)))


def test_load_image_reads_npy_and_png(tmp_path) -> None:
    image = _digit()
    np.save(tmp_path / "d.npy", image)
    np.testing.assert_array_equal(load_image(tmp_path / "d.npy"), image)
    pil = pytest.importorskip("PIL.Image")
    pil.fromarray(image).save(tmp_path / "d.png")
    np.testing.assert_array_equal(load_image(tmp_path / "d.png"), image)


def test_load_image_rejects_what_is_not_an_image(tmp_path) -> None:
    pytest.importorskip("PIL.Image")
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(InputError, match="not an image"):
        load_image(tmp_path / "notes.png")
    (tmp_path / "bad.npy").write_bytes(b"nope")
    with pytest.raises(InputError, match="not a NumPy array"):
        load_image(tmp_path / "bad.npy")
    with pytest.raises(FileNotFoundError):
        load_image(tmp_path / "missing.png")


def test_a_missing_extra_says_how_to_install_it() -> None:
    with pytest.raises(MissingExtraError, match=r'pip install "glassnet\[images\]"'):
        import_extra("glassnet_no_such_module", "images", "reading PNG/JPEG images")
