"""The same computation in PyTorch at float64 (skipped when torch is not installed)."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn

torch = pytest.importorskip("torch")
F = torch.nn.functional


def nchw(x: np.ndarray) -> torch.Tensor:
    return torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)


def nhwc(t: torch.Tensor) -> np.ndarray:
    return t.detach().numpy().transpose(0, 2, 3, 1)


def float64_layer(layer: gn.Layer, x: np.ndarray, rng: np.random.Generator) -> gn.Layer:
    layer.initialize(rng)
    for p in layer.parameters():
        p.value = rng.standard_normal(p.shape)
    return layer


@pytest.mark.parametrize(
    ("kernel", "stride", "padding"), [(3, 1, 0), (3, 2, 1), ((2, 3), (2, 1), (1, 0)), (3, 1, "same")]
)
def test_conv2d_matches_torch(kernel, stride, padding, rng):
    x = rng.standard_normal((2, 7, 6, 3))
    layer = float64_layer(gn.Conv2D(3, 4, kernel, stride=stride, padding=padding), x, rng)
    out = layer.forward(x)
    grad = rng.standard_normal(out.shape)
    dx = layer.backward(grad)

    xt = nchw(x)
    wt = torch.tensor(layer.weight.value.transpose(3, 2, 0, 1), requires_grad=True)  # (OUT, C, KH, KW)
    bt = torch.tensor(layer.bias.value, requires_grad=True)
    ot = F.conv2d(xt, wt, bt, stride=stride, padding=padding)
    ot.backward(torch.tensor(grad.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(out, nhwc(ot), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, nhwc(xt.grad), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.weight.grad, wt.grad.numpy().transpose(2, 3, 1, 0), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.bias.grad, bt.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize(("size", "stride", "padding"), [(2, None, 0), (3, 2, 1), (2, 1, 0)])
def test_maxpool_matches_torch_including_ties(size, stride, padding, rng):
    x = np.round(rng.standard_normal((2, 7, 7, 3)))  # rounding makes many ties
    x = np.maximum(x, 0)  # and a ReLU many more
    layer = gn.MaxPool2D(size, stride=stride, padding=padding)
    out = layer.forward(x)
    grad = rng.standard_normal(out.shape)
    xt = nchw(x)
    ot = F.max_pool2d(xt, size, stride=stride, padding=padding)
    ot.backward(torch.tensor(grad.transpose(0, 3, 1, 2)))
    np.testing.assert_array_equal(out, nhwc(ot))
    np.testing.assert_allclose(layer.backward(grad), nhwc(xt.grad), rtol=1e-12)


def test_avgpool_matches_torch(rng):
    x = rng.standard_normal((2, 7, 6, 3))
    layer = gn.AvgPool2D(3, stride=2, padding=1)
    out = layer.forward(x)
    grad = rng.standard_normal(out.shape)
    xt = nchw(x)
    ot = F.avg_pool2d(xt, 3, stride=2, padding=1)
    ot.backward(torch.tensor(grad.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(out, nhwc(ot), rtol=1e-12)
    np.testing.assert_allclose(layer.backward(grad), nhwc(xt.grad), rtol=1e-12)


def test_batchnorm_matches_torch_in_training_and_inference(rng):
    x = rng.standard_normal((4, 5, 5, 3)) * 3 + 1
    layer = gn.BatchNorm(3)
    for name in ("running_mean", "running_var"):
        setattr(layer, name, getattr(layer, name).astype(np.float64))
    reference = torch.nn.BatchNorm2d(3, dtype=torch.float64)
    layer.training = True
    for _ in range(3):
        out = layer.forward(x)
        expected = reference(torch.tensor(x.transpose(0, 3, 1, 2)))
        np.testing.assert_allclose(out, nhwc(expected), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.running_mean, reference.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.running_var, reference.running_var.numpy(), rtol=1e-12)
    layer.training = False
    reference.eval()
    np.testing.assert_allclose(layer.forward(x), nhwc(reference(torch.tensor(x.transpose(0, 3, 1, 2)))), rtol=1e-10)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda: gn.optimizers.SGD(0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
        (
            lambda: gn.optimizers.SGD(0.1, momentum=0.9, weight_decay=0.01),
            lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01),
        ),
        (
            lambda: gn.optimizers.SGD(0.1, momentum=0.8, nesterov=True),
            lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.8, nesterov=True),
        ),
        (lambda: gn.optimizers.Adam(0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
        (
            lambda: gn.optimizers.Adam(0.01, beta1=0.8, weight_decay=0.1),
            lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.999), weight_decay=0.1),
        ),
    ],
    ids=["sgd", "momentum-decay", "nesterov", "adam", "adam-decay"],
)
def test_optimizers_match_torch(ours, theirs, rng):
    start = rng.standard_normal((3, 4))
    param = gn.Parameter(start.copy())
    tensor = torch.tensor(start.copy(), requires_grad=True)
    optimizer, reference = ours(), theirs([tensor])
    for _ in range(5):
        grad = rng.standard_normal(start.shape)
        param.grad = grad
        optimizer.step([param])
        tensor.grad = torch.tensor(grad)
        reference.step()
    np.testing.assert_allclose(param.value, tensor.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_a_whole_training_step_matches_torch(rng):
    x = rng.standard_normal((8, 6, 6, 1))
    y = rng.integers(0, 3, 8)
    net = gn.Network(learning_rate=0.1, seed=0).add(gn.Conv2D(1, 2, 3)).add(gn.ReLU()).add(gn.MaxPool2D(2))
    net.add(gn.Flatten()).add(gn.Dense(8, 3)).add(gn.Softmax()).use("cross_entropy")
    for p in net.parameters():
        p.value = p.value.astype(np.float64)
    conv_w, conv_b, dense_w, dense_b = (torch.tensor(p.value.copy(), requires_grad=True) for p in net.parameters())
    net.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)

    h = F.conv2d(torch.tensor(x.transpose(0, 3, 1, 2)), conv_w.permute(3, 2, 0, 1), conv_b)
    h = F.max_pool2d(F.relu(h), 2).permute(0, 2, 3, 1).reshape(8, -1)  # flatten in NHWC order
    loss = F.cross_entropy(h @ dense_w + dense_b, torch.tensor(y))
    loss.backward()
    assert net.history["loss"][0] == pytest.approx(loss.item(), rel=1e-12)
    for p, t in zip(net.parameters(), (conv_w, conv_b, dense_w, dense_b), strict=True):
        np.testing.assert_allclose(p.value, (t - 0.1 * t.grad).detach().numpy(), rtol=1e-10, atol=1e-12)
