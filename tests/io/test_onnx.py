"""ONNX export and import, checked by onnxruntime: every zoo model, random networks, round trips, bad files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import glassnet as gn
from glassnet.apps.zoo import REGISTRY
from glassnet.io.onnx_check import onnx_difference
from glassnet.io.schema import describe

onnx = pytest.importorskip("onnx")
onnxruntime = pytest.importorskip("onnxruntime")
helper, TensorProto = onnx.helper, onnx.TensorProto

TOLERANCE = 1e-5
SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture(scope="module")
def mnist_test() -> np.ndarray:
    return gn.datasets.load_mnist()[1][0][:256]


def randomize(net: gn.Network, rng: np.random.Generator) -> gn.Network:
    """Give every BatchNorm statistics and scales that matter (fresh ones are the identity)."""
    for layer in net.layers:
        if isinstance(layer, gn.BatchNorm):
            n = layer.num_features
            layer.gamma.value = rng.uniform(0.5, 1.5, n).astype(np.float32)
            layer.beta.value = rng.normal(0, 0.5, n).astype(np.float32)
            layer.running_mean = rng.normal(0, 0.5, n).astype(np.float32)
            layer.running_var = rng.uniform(0.5, 2, n).astype(np.float32)
    return net


def difference(net: gn.Network, path: Path, x: np.ndarray, layout: str = "nhwc") -> float:
    """onnxruntime against net.predict, largest absolute difference."""
    return onnx_difference(path, x, net.predict(x), layout)


# --- every zoo model, on MNIST test images and random inputs


@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_zoo_model_matches_onnxruntime_and_round_trips(name, mnist_test, tmp_path, rng) -> None:
    net = randomize(REGISTRY[name].build(seed=0, verbose=0), rng)
    x = np.concatenate([mnist_test, rng.standard_normal((32, 28, 28, 1)).astype(np.float32)])
    for layout in ("nhwc", "nchw"):
        path = tmp_path / f"{name}-{layout}.onnx"
        net.to_onnx(path, layout=layout)
        assert difference(net, path, x, layout) <= TOLERANCE
        back = gn.Network.from_onnx(path)
        np.testing.assert_array_equal(back.predict(x), net.predict(x))  # the same layers, the same bits
        assert describe(back)["layers"] == describe(net)["layers"]
        assert back.input_shape == (28, 28, 1) and type(back.loss) is type(net.loss)


def test_metadata_holds_layout_shape_class_names_and_preprocessing(tmp_path) -> None:
    net = REGISTRY["mlp"].build(seed=0, verbose=0)
    path = tmp_path / "mlp.onnx"
    net.to_onnx(path, class_names=list("0123456789"), preprocessing="pixels / 255")
    model = onnx.load(str(path))
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["input_layout"] == "NHWC" and json.loads(meta["input_shape"]) == [28, 28, 1]
    assert json.loads(meta["class_names"]) == list("0123456789") and meta["preprocessing"] == "pixels / 255"
    assert model.opset_import[0].version == 17
    (given,) = model.graph.input
    dims = given.type.tensor_type.shape.dim
    assert given.name == "input" and dims[0].dim_param == "N" and [d.dim_value for d in dims[1:]] == [28, 28, 1]
    assert model.graph.output[0].name == "output"
    with pytest.raises(gn.InputError, match="class_names has 3 names"):
        net.to_onnx(path, class_names=["a", "b", "c"])


# --- random networks over every layer option


def _image_layer(draw, channels: int) -> tuple[gn.Layer, int]:
    """One image layer of any kind and options, and the channels after it."""
    kind = draw(st.sampled_from(["conv", "max", "avg", "batchnorm", "act", "dropout"]))
    pair = st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3)))
    if kind == "conv":
        out = draw(st.integers(1, 4))
        padding = draw(st.sampled_from([0, 1, (1, 0), (0, 2), "same", "valid"]))
        stride = draw(st.one_of(st.integers(1, 2), st.tuples(st.integers(1, 2), st.integers(1, 2))))
        return gn.Conv2D(channels, out, draw(pair), stride=stride, padding=padding), out
    if kind in ("max", "avg"):
        size = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
        padding = draw(st.sampled_from([0, "same", "valid", (size[0] // 2, size[1] // 2)]))
        stride = draw(st.sampled_from([None, 1, 2, (1, 2)]))
        cls = gn.MaxPool2D if kind == "max" else gn.AvgPool2D
        return cls(size, stride=stride, padding=padding), channels
    if kind == "batchnorm":
        return gn.BatchNorm(channels), channels
    if kind == "dropout":
        return gn.Dropout(draw(st.sampled_from([0.0, 0.25, 0.5]))), channels
    return draw(ACTIVATIONS)(), channels


ACTIVATIONS = st.sampled_from(
    [
        gn.ReLU,
        gn.Tanh,
        gn.Sigmoid,
        gn.Softmax,
        lambda: gn.LeakyReLU(0.2),
        lambda: gn.Activation(np.sin, np.cos),
        lambda: gn.Activation(np.tanh, lambda x: 1 - np.tanh(x) ** 2),
        lambda: gn.Activation(np.abs, np.sign),
    ]
)


@st.composite
def networks(draw) -> tuple[gn.Network, tuple[int, int, int]]:
    """A small random CNN or MLP over every layer and option; shapes that do not fit are redrawn."""
    shape = (draw(st.integers(4, 9)), draw(st.integers(4, 9)), draw(st.integers(1, 3)))
    net = gn.Network(seed=draw(st.integers(0, 1000)), verbose=0)
    net.input_shape = shape
    channels = shape[2]
    try:
        for _ in range(draw(st.integers(0, 4))):
            layer, channels = _image_layer(draw, channels)
            net.add(layer)
        net.add(gn.Flatten())
        features = net.layer_shapes(shape)[-1][0]
        for _ in range(draw(st.integers(1, 2))):
            out = draw(st.integers(1, 6))
            net.add(gn.Dense(features, out))
            features = out
            if draw(st.booleans()):
                net.add(gn.BatchNorm(features))
            net.add(draw(ACTIVATIONS)())
    except gn.ShapeError:
        from hypothesis import assume

        assume(False)
    return net, shape


def _check_random_network(data, tmp_path: Path) -> None:
    net, shape = data.draw(networks())
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    randomize(net, rng)
    x = np.concatenate([rng.standard_normal((8, *shape)), rng.random((8, *shape))]).astype(np.float32)
    layout = data.draw(st.sampled_from(["nhwc", "nchw"]))
    path = tmp_path / "random.onnx"
    net.to_onnx(path, layout=layout)
    assert difference(net, path, x, layout) <= TOLERANCE, net.layers
    back = gn.Network.from_onnx(path)
    np.testing.assert_array_equal(back.predict(x), net.predict(x))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_networks_match_onnxruntime_and_round_trip(data, tmp_path) -> None:
    _check_random_network(data, tmp_path)


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_networks_match_onnxruntime_many(data, tmp_path) -> None:
    _check_random_network(data, tmp_path)


# --- what cannot be exported


class Sine(gn.Layer):
    def forward(self, x):
        return np.sin(x)

    def backward(self, grad):
        return grad


def test_a_layer_onnx_cannot_express_is_named(tmp_path) -> None:
    net = gn.Network(verbose=0).add(gn.Dense(3, 4)).add(Sine())
    with pytest.raises(gn.UnsaveableError, match=r"layer 1, Sine\(\), is a custom layer .*Sine"):
        net.to_onnx(tmp_path / "x.onnx")
    net = gn.Network(verbose=0).add(gn.Dense(3, 4)).add(gn.Activation(np.cbrt, np.cbrt))
    with pytest.raises(gn.UnsaveableError, match=r"layer 1, Activation\(cbrt\).*np.tanh"):
        net.to_onnx(tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()


def test_export_needs_a_known_input_shape_and_a_known_layout(tmp_path) -> None:
    net = gn.Network(verbose=0).add(gn.Conv2D(1, 2, 3))
    with pytest.raises(gn.InputError, match=r"pass input_shape"):
        net.to_onnx(tmp_path / "x.onnx")
    net.to_onnx(tmp_path / "x.onnx", input_shape=(5, 5, 1))
    with pytest.raises(gn.InputError, match="layout"):
        net.to_onnx(tmp_path / "x.onnx", input_shape=(5, 5, 1), layout="hwcn")
    with pytest.raises(gn.InputError, match="input_shape"):
        net.to_onnx(tmp_path / "x.onnx", input_shape=(5, 0, 1))


def test_without_the_onnx_package_the_error_names_the_extra(tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)  # makes `import onnx` fail
    net = gn.Network(verbose=0).add(gn.Dense(3, 4))
    with pytest.raises(ImportError, match=r'exporting to ONNX needs onnx: pip install "glassnet\[onnx\]"'):
        net.to_onnx(tmp_path / "x.onnx")


# --- bad files: clear errors, nothing run


def _model(nodes, inputs, initializers=(), opset=17, output="y"):
    graph = helper.make_graph(
        nodes, "g", inputs, [helper.make_tensor_value_info(output, TensorProto.FLOAT, None)], list(initializers)
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _save(model, path: Path) -> Path:
    path.write_bytes(model.SerializeToString())
    return path


def _input(name="x", dims=("N", 4)):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(dims))


def _dense_model(opset=17):
    weight = onnx.numpy_helper.from_array(np.ones((4, 3), np.float32), "w")
    return _model([helper.make_node("MatMul", ["x", "w"], ["y"])], [_input()], [weight], opset)


def test_every_truncation_of_a_file_is_a_model_file_error(tmp_path) -> None:
    net = gn.Network(seed=0, verbose=0).add(gn.Dense(3, 2)).add(gn.Softmax())
    path = tmp_path / "small.onnx"
    net.to_onnx(path)
    data = path.read_bytes()
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    loaded = 0
    for cut in range(len(data)):
        (tmp_path / "cut.onnx").write_bytes(data[:cut])
        try:
            back = gn.Network.from_onnx(tmp_path / "cut.onnx")
        except gn.ModelFileError:
            continue
        # a cut that drops only trailing metadata leaves a whole graph: it must compute the same
        np.testing.assert_array_equal(back.predict(x), net.predict(x))
        loaded += 1
    assert loaded < len(data) // 10


def test_not_onnx_and_unknown_opsets_are_refused(tmp_path) -> None:
    (tmp_path / "junk.onnx").write_bytes(b"\x00\xff" * 100)
    with pytest.raises(gn.ModelFileError, match="not an ONNX model"):
        gn.Network.from_onnx(tmp_path / "junk.onnx")
    with pytest.raises(gn.ModelFileError, match=r"opset 99 .* opsets 9 to 22"):
        gn.Network.from_onnx(_save(_dense_model(opset=99), tmp_path / "new.onnx"))
    assert gn.Network.from_onnx(_save(_dense_model(), tmp_path / "ok.onnx")).layers[0].out_features == 3


def test_unsupported_operators_are_listed_in_one_error(tmp_path) -> None:
    nodes = [
        helper.make_node("Relu", ["x"], ["a"]),
        helper.make_node("Gelu", ["a"], ["b"]),
        helper.make_node("Erf", ["b"], ["c"]),
        helper.make_node("Erf", ["c"], ["d"]),
        helper.make_node("FusedConv", ["d"], ["y"], domain="com.microsoft"),
    ]
    path = _save(_model(nodes, [_input()]), tmp_path / "ops.onnx")
    with pytest.raises(gn.ModelFileError, match=r"unsupported operators Erf \(x2\), Gelu \(x1\), com.microsoft"):
        gn.Network.from_onnx(path)


def _tensor(dims, raw: bytes):
    """A float TensorProto "w" written field by field (onnx.helper refuses inconsistent ones)."""
    tensor = TensorProto(name="w", data_type=TensorProto.FLOAT, raw_data=raw)
    tensor.dims.extend(dims)
    return tensor


@pytest.mark.parametrize(
    ("dims", "raw", "message"),
    [
        ((1 << 40, 3), b"", "absurd shape"),
        ((-4, 3), b"", "absurd shape"),
        ((4, 3), b"\x00" * 7, "stores 7 bytes"),
    ],
)
def test_absurd_or_inconsistent_tensors_are_refused_before_allocating(tmp_path, dims, raw, message) -> None:
    weight = _tensor(dims, raw)
    model = _model([helper.make_node("MatMul", ["x", "w"], ["y"])], [_input()], [weight])
    with pytest.raises(gn.ModelFileError, match=message):
        gn.Network.from_onnx(_save(model, tmp_path / "bad.onnx"))


def test_absurd_input_shapes_and_external_data_are_refused(tmp_path) -> None:
    weight = onnx.numpy_helper.from_array(np.ones((4, 3), np.float32), "w")
    huge = _model([helper.make_node("MatMul", ["x", "w"], ["y"])], [_input(dims=("N", 1 << 20, 1 << 20))], [weight])
    with pytest.raises(gn.ModelFileError, match="fixed sizes >= 1"):
        gn.Network.from_onnx(_save(huge, tmp_path / "huge.onnx"))
    external = _tensor((4, 3), b"")
    external.data_location = TensorProto.EXTERNAL
    entry = external.external_data.add()
    entry.key, entry.value = "location", "/etc/passwd"
    model = _model([helper.make_node("MatMul", ["x", "w"], ["y"])], [_input()], [external])
    with pytest.raises(gn.ModelFileError, match=r"external data.*never opens files"):
        gn.Network.from_onnx(_save(model, tmp_path / "external.onnx"))


def test_graphs_glassnet_cannot_hold_get_clear_errors(tmp_path) -> None:
    branch = [helper.make_node("Relu", ["x"], ["a"]), helper.make_node("Add", ["a", "x"], ["y"])]
    with pytest.raises(gn.ModelFileError, match="does not continue the chain"):
        gn.Network.from_onnx(_save(_model(branch, [_input()]), tmp_path / "branch.onnx"))
    image = [_input(dims=("N", 1, 5, 5))]
    weight = onnx.numpy_helper.from_array(np.ones((2, 1, 3, 3), np.float32), "w")
    grouped = [helper.make_node("Conv", ["x", "w"], ["y"], dilations=[2, 2])]
    with pytest.raises(gn.ModelFileError, match=r"dilations=\[2, 2\] is not supported"):
        gn.Network.from_onnx(_save(_model(grouped, image, [weight]), tmp_path / "dilated.onnx"))
    uneven = [helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 0, 0, 1])]
    with pytest.raises(gn.ModelFileError, match=r"uneven pads \[1, 0, 0, 1\]"):
        gn.Network.from_onnx(_save(_model(uneven, image, [weight]), tmp_path / "uneven.onnx"))
    ceil = [helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], ceil_mode=1)]
    with pytest.raises(gn.ModelFileError, match="ceil_mode=1 is not supported"):
        gn.Network.from_onnx(_save(_model(ceil, image), tmp_path / "ceil.onnx"))


def test_loading_runs_nothing_from_the_file(tmp_path) -> None:
    path = tmp_path / "mlp.onnx"
    REGISTRY["mlp"].build(seed=0, verbose=0).to_onnx(path)
    code = (
        "import sys, glassnet as gn; net = gn.Network.from_onnx(sys.argv[1]); "
        "assert 'onnxruntime' not in sys.modules, 'the importer ran the graph'; print(len(net.layers))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, env={"PYTHONPATH": str(SRC)}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "5"


def test_matmul_add_reshape_and_constants_from_other_exporters(tmp_path, rng) -> None:
    """An NCHW graph flattened by Reshape, a MatMul and an Add (bias), a Constant node: as onnxruntime computes."""
    nodes = [
        helper.make_node("Constant", [], ["shape"], value=onnx.numpy_helper.from_array(np.array([0, -1]))),
        helper.make_node("Reshape", ["x", "shape"], ["flat"]),
        helper.make_node("MatMul", ["flat", "w"], ["product"]),
        helper.make_node("Add", ["b", "product"], ["sum"]),
        helper.make_node("Softmax", ["sum"], ["y"], axis=-1),
    ]
    weights = [
        onnx.numpy_helper.from_array(rng.standard_normal((18, 4)).astype(np.float32), "w"),
        onnx.numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "b"),
    ]
    path = _save(_model(nodes, [_input(dims=("N", 2, 3, 3))], weights), tmp_path / "other.onnx")
    net = gn.Network.from_onnx(path)
    assert [type(layer) for layer in net.layers] == [gn.Flatten, gn.Dense, gn.Softmax]
    x = rng.standard_normal((5, 2, 3, 3)).astype(np.float32)
    (expected,) = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    np.testing.assert_allclose(net.predict(x.transpose(0, 2, 3, 1)), expected, atol=TOLERANCE, rtol=0)
    swapped = [helper.make_node("MatMul", ["w", "x"], ["y"])]
    with pytest.raises(gn.ModelFileError, match="does not continue the chain"):
        gn.Network.from_onnx(_save(_model(swapped, [_input(dims=("N", 18))], weights[:1]), tmp_path / "swap.onnx"))
