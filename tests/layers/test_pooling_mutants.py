"""MaxPool2D and AvgPool2D: the exact messages, shapes, paths and config that mutation testing found unchecked."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import glassnet as gn
from glassnet.errors import InputError, ShapeError


def image(rows: list[list[float]]) -> np.ndarray:
    """A (1, H, W, 1) float64 image from its rows."""
    return np.array(rows, dtype=np.float64)[None, :, :, None]


def plane(x: np.ndarray) -> list[list[float]]:
    """The rows of a (1, H, W, 1) array, for comparing with a written-out image."""
    rows: list[list[float]] = x[0, :, :, 0].tolist()
    return rows


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: gn.MaxPool2D(0), "MaxPool2D: pool_size must be an int >= 1 or a pair of them, got 0"),
        (lambda: gn.AvgPool2D((2, 0)), "AvgPool2D: pool_size must be an int >= 1 or a pair of them, got (2, 0)"),
        (lambda: gn.AvgPool2D(2, stride=(1, 0)), "AvgPool2D: stride must be an int >= 1 or a pair of them, got (1, 0)"),
        (lambda: gn.MaxPool2D(2, padding=-1), "MaxPool2D: padding must be an int >= 0 or a pair of them, got -1"),
        (
            lambda: gn.MaxPool2D(2, padding="full"),
            'MaxPool2D: padding must be "valid", "same", an int or a pair of ints, got \'full\'',
        ),
        # half of each axis's own pool size, checked on each axis alone
        (lambda: gn.MaxPool2D(2, padding=(2, 0)), "MaxPool2D: padding must be at most half the pool size, got (2, 0)"),
        (
            lambda: gn.MaxPool2D((2, 4), padding=(2, 0)),
            "MaxPool2D: padding must be at most half the pool size, got (2, 0)",
        ),
        (
            lambda: gn.AvgPool2D((4, 2), padding=(0, 2)),
            "AvgPool2D: padding must be at most half the pool size, got (0, 2)",
        ),
    ],
)
def test_a_bad_argument_names_the_layer_and_the_argument(make: Callable[[], object], message: str) -> None:
    with pytest.raises(InputError) as caught:
        make()
    assert str(caught.value) == message


@pytest.mark.parametrize("layer_class", [gn.MaxPool2D, gn.AvgPool2D])
def test_the_defaults_are_2x2_windows_that_tile_the_image(layer_class: type[gn.MaxPool2D]) -> None:
    layer = layer_class()
    assert (layer.pool_size, layer.stride, layer.padding) == ((2, 2), (2, 2), 0)
    assert layer.config() == {"pool_size": [2, 2], "stride": [2, 2], "padding": 0}


def test_a_padding_of_exactly_half_the_pool_is_accepted() -> None:
    # 4 // 2 = 2 on each axis: (4 + 2 + 2 - 4) // 4 + 1 = 2 windows per axis
    assert gn.MaxPool2D(4, padding=2).output_shape((4, 4, 1)) == (2, 2, 1)
    assert gn.AvgPool2D((2, 4), padding=(1, 2)).output_shape((2, 4, 3)) == (2, 2, 3)


PREFIX = "expected input (N, H, W, C), got"


@pytest.mark.parametrize(
    ("make", "shape", "message"),
    [
        (lambda: gn.MaxPool2D(2), (4, 10), f"MaxPool2D(2x2) {PREFIX} (N, 4, 10): images are NHWC: give a 4-D array"),
        (
            lambda: gn.MaxPool2D(2),
            (1, 4, 1),
            f"MaxPool2D(2x2) {PREFIX} (N, 1, 4, 1): the image is smaller than the (2, 2) pool",
        ),
        (
            lambda: gn.MaxPool2D(2),
            (4, 1, 1),
            f"MaxPool2D(2x2) {PREFIX} (N, 4, 1, 1): the image is smaller than the (2, 2) pool",
        ),
        (
            lambda: gn.AvgPool2D((2, 3)),
            (4, 2, 1),
            f"AvgPool2D(2x3) {PREFIX} (N, 4, 2, 1): the image is smaller than the (2, 3) pool",
        ),
    ],
)
def test_a_wrong_input_shape_is_named_with_its_fix(
    make: Callable[[], gn.MaxPool2D], shape: tuple[int, ...], message: str
) -> None:
    with pytest.raises(ShapeError) as caught:
        make().output_shape(shape)
    assert str(caught.value) == message


def test_an_unknown_height_or_width_gives_an_unknown_output_size() -> None:
    pool = gn.MaxPool2D(2)
    assert pool.output_shape((None, 8, 3)) == (None, None, 3)
    assert pool.output_shape((8, None, 3)) == (None, None, 3)
    assert pool.output_shape(None) is None


def test_each_axis_uses_its_own_stride_and_padding() -> None:
    # height: stride 1 -> (4 - 2) // 1 + 1 = 3; width: stride 2 -> (4 - 2) // 2 + 1 = 2
    assert gn.MaxPool2D(2, stride=(1, 2)).output_shape((4, 4, 1)) == (3, 2, 1)
    # height padded by 1 on each side -> (4 + 2 - 2) // 2 + 1 = 3; width unpadded -> 2
    assert gn.AvgPool2D(2, padding=(1, 0)).output_shape((4, 4, 1)) == (3, 2, 1)
    assert gn.AvgPool2D(2, padding=(1, 0)).forward(np.ones((1, 4, 4, 1))).shape == (1, 3, 2, 1)


def test_maxpool_pads_with_minus_infinity_and_avgpool_with_zeros() -> None:
    # a 2x2 image padded by 1: each 2x2 window of stride 2 holds one pixel and three padded cells
    negative = image([[-1.0, -2.0], [-3.0, -4.0]])
    assert plane(gn.MaxPool2D(2, padding=1).forward(negative)) == [[-1.0, -2.0], [-3.0, -4.0]]
    positive = image([[4.0, 8.0], [12.0, 16.0]])
    assert plane(gn.AvgPool2D(2, padding=1).forward(positive)) == [[1.0, 2.0], [3.0, 4.0]]


def test_only_2x2_windows_of_stride_2_take_the_fast_path() -> None:
    pool = gn.MaxPool2D(2)
    pool.forward(image([[1.0, 2.0], [3.0, 4.0]]))
    assert pool.tiles is not None
    pool = gn.MaxPool2D(2, stride=1)
    pool.forward(image([[1.0, 2.0], [3.0, 4.0]]))
    assert pool.tiles is None


X_3X4 = [[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0]]
X_2X5 = [[1.0, 2.0, 3.0, 4.0, 5.0], [6.0, 7.0, 8.0, 9.0, 10.0]]
X_5X4 = [[4.0 * row + col for col in range(4)] for row in range(5)]
X_4X5 = [[5.0 * row + col for col in range(5)] for row in range(4)]


@pytest.mark.parametrize(
    ("pool_size", "stride", "x", "want", "grad", "dx"),
    [
        # 3x2 windows, stride 2: rows 0-2 by columns 0-1 and 2-3; each maximum is in the last row
        (
            (3, 2),
            2,
            X_3X4,
            [[10.0, 12.0]],
            [[1.0, 2.0]],
            [[0.0] * 4, [0.0] * 4, [0.0, 1.0, 0.0, 2.0]],
        ),
        # 2x3 windows, stride 2: columns 0-2 and 2-4
        ((2, 3), 2, X_2X5, [[8.0, 10.0]], [[1.0, 2.0]], [[0.0] * 5, [0.0, 0.0, 1.0, 0.0, 2.0]]),
        # 2x2 windows, stride (3, 2): rows 0-1 and 3-4, row 2 in no window
        (
            2,
            (3, 2),
            X_5X4,
            [[5.0, 7.0], [17.0, 19.0]],
            [[1.0, 2.0], [3.0, 4.0]],
            [[0.0] * 4, [0.0, 1.0, 0.0, 2.0], [0.0] * 4, [0.0] * 4, [0.0, 3.0, 0.0, 4.0]],
        ),
        # 2x2 windows, stride (2, 3): columns 0-1 and 3-4, column 2 in no window
        (
            2,
            (2, 3),
            X_4X5,
            [[6.0, 9.0], [16.0, 19.0]],
            [[1.0, 2.0], [3.0, 4.0]],
            [[0.0] * 5, [0.0, 1.0, 0.0, 0.0, 2.0], [0.0] * 5, [0.0, 3.0, 0.0, 0.0, 4.0]],
        ),
    ],
)
def test_other_windows_and_strides_pool_and_send_the_gradient_to_each_maximum(
    pool_size: int | tuple[int, int],
    stride: int | tuple[int, int],
    x: list[list[float]],
    want: list[list[float]],
    grad: list[list[float]],
    dx: list[list[float]],
) -> None:
    pool = gn.MaxPool2D(pool_size, stride=stride)
    assert plane(pool.forward(image(x))) == want
    assert pool.tiles is None
    assert plane(pool.backward(image(grad))) == dx


@pytest.mark.parametrize(("pool_size", "shape"), [((3, 2), (1, 3, 2, 1)), ((2, 3), (1, 2, 3, 1))])
def test_avgpool_shares_the_gradient_over_every_cell_of_a_window(
    pool_size: tuple[int, int], shape: tuple[int, ...]
) -> None:
    pool = gn.AvgPool2D(pool_size)
    assert pool.forward(np.full(shape, 3.0)).tolist() == [[[[3.0]]]]
    np.testing.assert_array_equal(pool.backward(np.full((1, 1, 1, 1), 6.0)), np.ones(shape))


@pytest.mark.parametrize(("padding", "stored"), [((1, 0), [1, 0]), ("same", "same"), (1, 1)])
def test_config_holds_every_argument_and_rebuilds_the_layer(padding: object, stored: object) -> None:
    layer = gn.MaxPool2D((2, 3), stride=(1, 2), padding=padding)  # type: ignore[arg-type]
    config = layer.config()
    assert config == {"pool_size": [2, 3], "stride": [1, 2], "padding": stored}
    again = gn.MaxPool2D(**config)
    assert (again.pool_size, again.stride, again.padding) == (layer.pool_size, layer.stride, layer.padding)
    assert repr(again) == "MaxPool2D(2x3)"
