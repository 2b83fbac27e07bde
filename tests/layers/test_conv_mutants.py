"""Conv2D: the exact messages, shapes at the edges, fans and config that mutation testing found unchecked."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import glassnet as gn
from glassnet.errors import InputError, ShapeError

KERNEL_SMALL = "the image is smaller than the (3, 3) kernel: pad it or use a smaller kernel"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: gn.Conv2D(0, 4, 3), "Conv2D: in_channels must be a positive int, got 0"),
        (lambda: gn.Conv2D(1, 0, 3), "Conv2D: out_channels must be a positive int, got 0"),
        (lambda: gn.Conv2D(1, 4, 0), "Conv2D: kernel_size must be an int >= 1 or a pair of them, got 0"),
        (lambda: gn.Conv2D(1, 4, 3, stride=0), "Conv2D: stride must be an int >= 1 or a pair of them, got 0"),
        (
            lambda: gn.Conv2D(1, 4, 3, padding="full"),
            'Conv2D: padding must be "valid", "same", an int or a pair of ints, got \'full\'',
        ),
    ],
)
def test_a_bad_argument_names_the_layer_and_the_argument(make: Callable[[], object], message: str) -> None:
    with pytest.raises(InputError) as caught:
        make()
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("shape", "fix"),
    [
        ((28, 28), "images are NHWC: give a 4-D array such as x.reshape(-1, 28, 28, 1)"),
        ((28, 28, 3), "the input has 3 channels: use Conv2D(3, 2, ...)"),
        ((2, 5, 1), KERNEL_SMALL),
        ((5, 2, 1), KERNEL_SMALL),
    ],
)
def test_a_wrong_input_shape_is_named_with_its_fix(shape: tuple[int, ...], fix: str) -> None:
    with pytest.raises(ShapeError) as caught:
        gn.Conv2D(1, 2, 3).output_shape(shape)
    assert str(caught.value) == f"Conv2D(1 -> 2, 3x3) expected input (N, H, W, 1), got (N, {str(shape)[1:-1]}): {fix}"


def test_an_image_the_size_of_the_kernel_gives_one_pixel_and_an_unknown_size_stays_unknown() -> None:
    assert gn.Conv2D(1, 2, 3).output_shape((3, 3, 1)) == (1, 1, 2)
    assert gn.Conv2D(1, 2, 3).output_shape((None, 5, 1)) == (None, None, 2)


def test_declared_shapes_take_an_int_kernel() -> None:
    config = {"kernel_size": 3, "in_channels": 1, "out_channels": 2}
    assert gn.Conv2D.declared_shapes(config) == ({"weight": (3, 3, 1, 2), "bias": (2,)}, {})


def test_fans_are_the_kernel_area_times_the_channels() -> None:
    assert gn.Conv2D(2, 3, (3, 5)).fans == (30, 45)
    assert gn.Conv2D(1, 2, 3).stride == (1, 1)


@pytest.mark.parametrize(("padding", "stored"), [((1, 2), [1, 2]), ("same", "same"), (1, 1)])
def test_config_holds_every_argument(padding: object, stored: object) -> None:
    layer = gn.Conv2D(2, 3, (3, 5), stride=(2, 1), padding=padding, init="he")  # type: ignore[arg-type]
    assert layer.config() == {
        "in_channels": 2,
        "out_channels": 3,
        "kernel_size": [3, 5],
        "stride": [2, 1],
        "padding": stored,
        "init": "he",
    }


def test_the_output_keeps_the_inputs_dtype_whatever_the_parameters() -> None:
    layer = gn.Conv2D(1, 2, 3)
    layer.forward(np.zeros((1, 4, 4, 1), dtype=np.float32))
    layer.weight.value = layer.weight.value.astype(np.float64)  # type: ignore[union-attr]
    layer.bias.value = layer.bias.value.astype(np.float64)  # type: ignore[union-attr]
    assert layer.forward(np.ones((1, 4, 4, 1), dtype=np.float32)).dtype == np.float32
