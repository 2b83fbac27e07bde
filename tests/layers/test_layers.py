"""The layer contract over every layer, and convolution/pooling against slow loop references."""

from __future__ import annotations

import numpy as np
import pytest
from layer_cases import CASE_IDS, LAYER_CASES

import glassnet as gn


@pytest.mark.parametrize(("name", "make", "shape", "training"), LAYER_CASES, ids=CASE_IDS)
def test_layer_contract(name, make, shape, training, rng):
    layer = make()
    layer.training = training
    x = rng.standard_normal(shape).astype(np.float32)
    out = layer.forward(x)
    assert out.dtype == np.float32
    predicted = layer.output_shape(tuple(shape[1:]))
    assert predicted is None or tuple(out.shape[1:]) == predicted
    grad = layer.backward(np.ones_like(out))
    assert grad.shape == x.shape
    assert grad.dtype == np.float32
    for param in layer.parameters():
        assert param.value.dtype == np.float32
        assert param.grad.shape == param.value.shape
        assert param.grad.dtype == np.float32


def conv_reference(x, weight, bias, stride, pad):
    """Convolution by plain loops over samples, output pixels and filters."""
    (top, bottom), (left, right) = pad
    x = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    kh, kw, _, out_channels = weight.shape
    oh = (x.shape[1] - kh) // stride[0] + 1
    ow = (x.shape[2] - kw) // stride[1] + 1
    out = np.zeros((len(x), oh, ow, out_channels))
    for n in range(len(x)):
        for i in range(oh):
            for j in range(ow):
                window = x[n, i * stride[0] : i * stride[0] + kh, j * stride[1] : j * stride[1] + kw, :]
                for f in range(out_channels):
                    out[n, i, j, f] = np.sum(window * weight[..., f]) + bias[f]
    return out


@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "size", "expected_pad"),
    [
        (3, 1, 0, (6, 5), ((0, 0), (0, 0))),
        (3, 2, 1, (7, 6), ((1, 1), (1, 1))),
        (3, 2, "same", (7, 8), ((1, 1), (0, 1))),  # ceil(7/2)=4 -> total 2; ceil(8/2)=4 -> total 1
        ((2, 4), 1, "same", (5, 6), ((0, 1), (1, 2))),  # odd extra at the bottom/right
        ((3, 2), (2, 3), (1, 0), (8, 7), ((1, 1), (0, 0))),
        (3, 1, "valid", (5, 5), ((0, 0), (0, 0))),
    ],
)
def test_conv_matches_loop_reference(kernel, stride, padding, size, expected_pad, rng):
    layer = gn.Conv2D(2, 3, kernel, stride=stride, padding=padding)
    x = rng.standard_normal((2, *size, 2))
    layer.initialize(rng)
    layer.bias.value = rng.standard_normal(3).astype(np.float32)
    weight, bias = layer.weight.value.astype(np.float64), layer.bias.value.astype(np.float64)
    layer.weight.value, layer.bias.value = weight, bias
    stride_pair = (stride, stride) if isinstance(stride, int) else stride
    expected = conv_reference(x, weight, bias, stride_pair, expected_pad)
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("size", "stride"), [(7, 1), (8, 2), (9, 3), (5, 2)])
def test_same_padding_gives_ceil_size(size, stride):
    layer = gn.Conv2D(1, 1, 3, stride=stride, padding="same")
    assert layer.output_shape((size, size, 1))[:2] == (-(-size // stride),) * 2
    assert gn.MaxPool2D(2, stride=stride, padding="same").output_shape((size, size, 1))[:2] == (-(-size // stride),) * 2


def pool_reference(x, size, stride, reduce):
    """Pooling by plain loops over samples, output pixels and channels."""
    oh = (x.shape[1] - size) // stride + 1
    ow = (x.shape[2] - size) // stride + 1
    out = np.zeros((len(x), oh, ow, x.shape[3]))
    for n in range(len(x)):
        for i in range(oh):
            for j in range(ow):
                for c in range(x.shape[3]):
                    out[n, i, j, c] = reduce(x[n, i * stride : i * stride + size, j * stride : j * stride + size, c])
    return out


@pytest.mark.parametrize(
    ("size", "stride", "shape"), [(2, 2, (2, 6, 4, 3)), (2, 2, (2, 5, 7, 2)), (3, 2, (1, 7, 8, 2))]
)
@pytest.mark.parametrize(("layer_class", "reduce"), [(gn.MaxPool2D, np.max), (gn.AvgPool2D, np.mean)])
def test_pooling_matches_loop_reference(layer_class, reduce, size, stride, shape, rng):
    x = rng.standard_normal(shape)
    out = layer_class(size, stride=stride).forward(x)
    np.testing.assert_allclose(out, pool_reference(x, size, stride, reduce), rtol=1e-12)


def test_maxpool_ties_send_the_gradient_to_the_first_maximum_only():
    x = np.zeros((1, 4, 4, 2))  # all tied, as after a ReLU
    x[0, 2, 3, 1] = 5.0  # one window with a clear winner
    pool = gn.MaxPool2D(2)
    pool.forward(x)
    grad = pool.backward(np.ones((1, 2, 2, 2)))
    windows = grad.reshape(1, 2, 2, 2, 2, 2).transpose(0, 1, 3, 5, 2, 4)  # (N, OH, OW, C, PH, PW)
    assert np.all(windows.sum(axis=(4, 5)) == 1)  # each window passes its gradient exactly once
    tied = np.ones((2, 2, 2), dtype=bool)
    tied[1, 1, 1] = False
    assert np.all(windows[0][tied][:, 0, 0] == 1)  # tied windows: the top-left (first) position
    assert windows[0, 1, 1, 1, 0, 1] == 1  # the clear winner at (2, 3) gets it


def test_overlapping_maxpool_accumulates_gradients():
    x = np.zeros((1, 3, 3, 1))
    x[0, 1, 1, 0] = 1.0  # the centre is the maximum of all four 2x2 windows
    pool = gn.MaxPool2D(2, stride=1)
    pool.forward(x)
    grad = pool.backward(np.ones((1, 2, 2, 1)))
    assert grad[0, 1, 1, 0] == 4 and grad.sum() == 4


def test_batchnorm_training_uses_batch_statistics_and_updates_running_ones(rng):
    layer = gn.BatchNorm(3, momentum=0.1)
    x = rng.standard_normal((50, 3)) * 2 + 5
    layer.training = True
    out = layer.forward(x)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-7)
    np.testing.assert_allclose(out.std(axis=0), 1, atol=1e-4)
    np.testing.assert_allclose(layer.running_mean, 0.1 * x.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(layer.running_var, 0.9 + 0.1 * x.var(axis=0, ddof=1), rtol=1e-5)


def test_batchnorm_inference_uses_running_statistics(rng):
    layer = gn.BatchNorm(2)
    layer.running_mean = np.array([1.0, -2.0], dtype=np.float32)
    layer.running_var = np.array([4.0, 0.25], dtype=np.float32)
    layer.gamma.value = np.array([2.0, 1.0], dtype=np.float32)
    layer.beta.value = np.array([0.5, 0.0], dtype=np.float32)
    x = rng.standard_normal((3, 5, 5, 2)).astype(np.float32)
    expected = (x - layer.running_mean) / np.sqrt(layer.running_var + 1e-5) * layer.gamma.value + layer.beta.value
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-5)
    assert np.array_equal(layer.running_mean, [1.0, -2.0])  # inference never changes them


def test_dropout_scales_kept_units_and_is_identity_in_inference(rng):
    layer = gn.Dropout(0.25)
    layer.initialize(rng)
    x = np.ones((200, 50), dtype=np.float32)
    assert layer.forward(x) is x
    layer.training = True
    out = layer.forward(x)
    assert set(np.unique(out)) == {0.0, np.float32(1 / 0.75)}
    assert 0.2 < np.mean(out == 0) < 0.3


def test_layer_alone_creates_parameters_on_first_forward_and_keeps_float64():
    layer = gn.Dense(3, 2)
    assert layer.parameters() == []
    layer.forward(np.ones((1, 3), dtype=np.float32))
    assert [p.shape for p in layer.parameters()] == [(3, 2), (2,)]
    for p in layer.parameters():
        p.value = p.value.astype(np.float64)
    assert layer.forward(np.ones((1, 3))).dtype == np.float64


@pytest.mark.parametrize("make", [lambda: gn.Dense(3, 2), lambda: gn.Conv2D(1, 2, 3)], ids=["Dense", "Conv2D"])
def test_backward_before_the_first_forward_says_so(make):
    with pytest.raises(gn.NotReadyError, match=r"has no weight yet: call forward\(x\) before backward\(grad\)"):
        make().backward(np.ones((1, 2)))


@pytest.mark.parametrize(
    ("make", "shape", "message"),
    [
        (
            lambda: gn.Dense(784, 100),
            (32, 28, 28, 1),
            r"Dense\(784 -> 100\) expected input \(N, 784\), got \(32, 28, 28, 1\): add Flatten\(\) first",
        ),
        (lambda: gn.Dense(10, 2), (4, 12), r"got \(4, 12\).*use Dense\(12, 2\)"),
        (lambda: gn.Conv2D(3, 8, 3), (4, 28, 28), r"Conv2D\(3 -> 8, 3x3\) expected input \(N, H, W, 3\).*NHWC"),
        (lambda: gn.Conv2D(3, 8, 3), (4, 28, 28, 1), r"input has 1 channels: use Conv2D\(1, 8"),
        (lambda: gn.Conv2D(1, 8, 5), (4, 3, 3, 1), r"smaller than the \(5, 5\) kernel"),
        (lambda: gn.MaxPool2D(2), (4, 10), r"MaxPool2D\(2x2\) expected input \(N, H, W, C\)"),
        (lambda: gn.BatchNorm(3), (4, 5), r"use BatchNorm\(5\)"),
    ],
)
def test_shape_errors_name_the_layer_both_shapes_and_a_fix(make, shape, message):
    with pytest.raises(gn.ShapeError, match=message):
        make().forward(np.zeros(shape, dtype=np.float32))


@pytest.mark.parametrize(
    "make",
    [
        lambda: gn.Dense(0, 3),
        lambda: gn.Dense(2.5, 3),
        lambda: gn.Conv2D(1, 2, 0),
        lambda: gn.Conv2D(1, 2, 3, padding="full"),
        lambda: gn.Conv2D(1, 2, 3, stride=(1, 2, 3)),
        lambda: gn.MaxPool2D(2, padding=2),
        lambda: gn.Dropout(1.0),
        lambda: gn.LeakyReLU(-1),
        lambda: gn.BatchNorm(0),
        lambda: gn.Dense(2, 3, init="zeros"),
    ],
)
def test_bad_constructor_arguments_raise_value_errors(make):
    with pytest.raises(ValueError):
        make()
