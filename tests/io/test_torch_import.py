"""Weights from PyTorch: gn.io.from_torch, and PyTorch's own ONNX export read by Network.from_onnx.

The layout logic runs without PyTorch (a state dict of NumPy arrays); the rest skips without torch.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassnet as gn
from glassnet.io.layout import conv_to_oihw, hwc_from_chw

TOLERANCE = 1e-5


def glassnet_cnn(seed: int = 0) -> gn.Network:
    """The architecture of torch_cnn, in glassnet: every layer with weights, both poolings, BatchNorm twice."""
    return (
        gn.Network(seed=seed, verbose=0)
        .add(gn.Conv2D(2, 4, 3, padding=1))
        .add(gn.BatchNorm(4))
        .add(gn.ReLU())
        .add(gn.MaxPool2D(2))
        .add(gn.AvgPool2D(3, stride=2, padding=1))
        .add(gn.Flatten())
        .add(gn.Dropout(0.2))
        .add(gn.BatchNorm(64))
        .add(gn.Dense(64, 10))
        .add(gn.LeakyReLU(0.1))
        .add(gn.Tanh())
        .add(gn.Dense(10, 5))
        .add(gn.Softmax())
    )


def torch_style_state(net: gn.Network) -> dict[str, np.ndarray]:
    """net's weights as PyTorch would hold them for the same architecture (NCHW flatten, (out, in) weights)."""
    state, order = {}, None
    for index, layer in enumerate(net.layers):
        if isinstance(layer, gn.Flatten):
            order = np.argsort(hwc_from_chw(4, 4, 4))  # glassnet (h, w, c) row -> PyTorch (c, h, w) row
        elif isinstance(layer, gn.Conv2D):
            state |= {f"{index}.weight": conv_to_oihw(layer.weight.value), f"{index}.bias": layer.bias.value}
        elif isinstance(layer, gn.Dense):
            weight = layer.weight.value if order is None else layer.weight.value[order]
            state |= {f"{index}.weight": weight.T.copy(), f"{index}.bias": layer.bias.value}
            order = None
        elif isinstance(layer, gn.BatchNorm):
            arrays = [layer.gamma.value, layer.beta.value, layer.running_mean, layer.running_var]
            arrays = [a if order is None else a[order] for a in arrays]
            names = ("weight", "bias", "running_mean", "running_var")
            state |= {f"{index}.{name}": a for name, a in zip(names, arrays, strict=True)}
            state[f"{index}.num_batches_tracked"] = np.array(5)
    return state


def test_from_torch_converts_layouts_of_a_state_dict_without_torch(rng) -> None:
    source = glassnet_cnn(seed=1)
    for layer in source.layers:
        if isinstance(layer, gn.BatchNorm):
            layer.running_mean = rng.standard_normal(layer.num_features).astype(np.float32)
    target = glassnet_cnn(seed=2)
    x = rng.standard_normal((6, 14, 14, 2)).astype(np.float32)
    assert not np.allclose(target.predict(x), source.predict(x))
    assert gn.io.from_torch(torch_style_state(source), target, input_shape=(14, 14, 2)) is target
    np.testing.assert_array_equal(target.predict(x), source.predict(x))


def test_from_torch_checks_every_shape_before_copying(rng) -> None:
    source, target = glassnet_cnn(seed=1), glassnet_cnn(seed=2)
    state = torch_style_state(source)
    before = [p.value.copy() for p in target.parameters()]
    state["8.weight"] = state["8.weight"][:, :60]
    with pytest.raises(gn.ShapeError, match=r"layer 8, Dense\(64 -> 10\): weight needs PyTorch shape \(10, 64\)"):
        gn.io.from_torch(state, target, input_shape=(14, 14, 2))
    assert all(np.array_equal(a, p.value) for a, p in zip(before, target.parameters(), strict=True))
    with pytest.raises(gn.ShapeError, match="the PyTorch model has 4 modules with weights"):
        gn.io.from_torch({k: v for k, v in state.items() if not k.startswith("1.")}, target, input_shape=(14, 14, 2))
    with pytest.raises(gn.InputError, match="pass input_shape"):
        gn.io.from_torch(torch_style_state(source), glassnet_cnn(seed=2))  # no shape known: flatten order unknown
    with pytest.raises(gn.InputTypeError, match=r"torch\.nn\.Module or its state_dict"):
        gn.io.from_torch([1, 2], target)


torch = pytest.importorskip("torch")
nn = torch.nn


def torch_cnn() -> nn.Sequential:
    """PyTorch's model of glassnet_cnn, in eval mode, its BatchNorm statistics made to matter."""
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.AvgPool2d(3, stride=2, padding=1),
        nn.Flatten(),
        nn.Dropout(0.2),
        nn.BatchNorm1d(64),
        nn.Linear(64, 10),
        nn.LeakyReLU(0.1),
        nn.Tanh(),
        nn.Linear(10, 5),
        nn.Softmax(dim=1),
    ).eval()
    with torch.no_grad():
        for module in model:
            if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
                module.running_mean.normal_()
                module.running_var.uniform_(0.5, 2)
                module.weight.normal_()
                module.bias.normal_()
    return model


def torch_predict(model: nn.Module, x_nhwc: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        out: np.ndarray = model(torch.tensor(x_nhwc.transpose(0, 3, 1, 2))).numpy()
    return out


def export(model: nn.Module, path, shape, fold: bool) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(
            model,
            (torch.zeros(2, *shape),),
            str(path),
            dynamo=False,
            input_names=["x"],
            output_names=["y"],
            dynamic_axes={"x": {0: "N"}},
            do_constant_folding=fold,
        )


@pytest.mark.parametrize("fold", [False, True], ids=["batchnorm-kept", "batchnorm-folded"])
def test_torch_onnx_export_read_by_glassnet_predicts_what_torch_does(tmp_path, rng, fold) -> None:
    model = torch_cnn()
    export(model, tmp_path / "torch.onnx", (2, 14, 14), fold)
    net = gn.Network.from_onnx(tmp_path / "torch.onnx")
    assert net.input_shape == (14, 14, 2)
    assert sum(isinstance(layer, gn.BatchNorm) for layer in net.layers) == (1 if fold else 2)
    x = rng.standard_normal((8, 14, 14, 2)).astype(np.float32)
    np.testing.assert_allclose(net.predict(x), torch_predict(model, x), atol=TOLERANCE, rtol=0)


def test_torch_mlp_and_same_padding_via_onnx(tmp_path, rng) -> None:
    torch.manual_seed(1)
    model = nn.Sequential(
        nn.Conv2d(1, 3, (3, 5), padding="same"), nn.Sigmoid(), nn.Flatten(), nn.Linear(3 * 6 * 7, 4)
    ).eval()
    export(model, tmp_path / "same.onnx", (1, 6, 7), fold=True)
    net = gn.Network.from_onnx(tmp_path / "same.onnx")
    x = rng.standard_normal((5, 6, 7, 1)).astype(np.float32)
    np.testing.assert_allclose(net.predict(x), torch_predict(model, x), atol=TOLERANCE, rtol=0)


def test_from_torch_module_and_state_dict_match_torch(rng) -> None:
    model = torch_cnn()
    x = rng.standard_normal((8, 14, 14, 2)).astype(np.float32)
    for source in (model, model.state_dict()):
        net = gn.io.from_torch(source, glassnet_cnn(seed=3), input_shape=(14, 14, 2))
        np.testing.assert_allclose(net.predict(x), torch_predict(model, x), atol=TOLERANCE, rtol=0)
