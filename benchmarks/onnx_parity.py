"""The largest difference between onnxruntime and glassnet, per layer type and per zoo model (float32).

Each layer type runs alone in many configurations (every padding, stride and window option) on
random inputs of three scales, in both layouts; each zoo model, its BatchNorm statistics randomised, runs on all
10,000 MNIST test images and 1,000 random inputs. Prints a Markdown table (docs/onnx.md holds one).

    pip install "glassnet[onnx]"
    python benchmarks/onnx_parity.py
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import glassnet as gn
from glassnet.apps.zoo import REGISTRY
from glassnet.io.onnx_check import onnx_difference

RNG = np.random.default_rng(0)
SCALES = (0.1, 1.0, 10.0)
IMAGE = (9, 8, 3)


def image_cases() -> dict[str, list[Callable[[], gn.Layer]]]:
    """Layer type -> constructors over its options, each taking (9, 8, 3) images."""
    conv = [
        lambda k=k, s=s, p=p: gn.Conv2D(3, 4, k, stride=s, padding=p)
        for k in (1, 3, (2, 3), 5)
        for s in (1, 2, (2, 1))
        for p in (0, 1, (2, 1), "same", "valid")
    ]
    pools = [(k, s, p) for k in (2, 3, (2, 3)) for s in (None, 1, 2) for p in (0, 1, "same", "valid")]
    return {
        "Conv2D": conv,
        "MaxPool2D": [lambda k=k, s=s, p=p: gn.MaxPool2D(k, stride=s, padding=p) for k, s, p in pools],
        "AvgPool2D": [lambda k=k, s=s, p=p: gn.AvgPool2D(k, stride=s, padding=p) for k, s, p in pools],
        "BatchNorm (images)": [lambda: gn.BatchNorm(3)],
        "Flatten": [gn.Flatten],
        "Softmax (images)": [gn.Softmax],
    }


def flat_cases() -> dict[str, list[Callable[[], gn.Layer]]]:
    """Layer type -> constructors, each taking (N, 12) features."""
    return {
        "Dense": [lambda: gn.Dense(12, 7)],
        "BatchNorm (features)": [lambda: gn.BatchNorm(12)],
        "Dropout": [lambda: gn.Dropout(0.5)],
        "Tanh": [gn.Tanh],
        "Sigmoid": [gn.Sigmoid],
        "ReLU": [gn.ReLU],
        "LeakyReLU": [lambda: gn.LeakyReLU(0.2)],
        "Softmax": [gn.Softmax],
        "Activation(np.tanh)": [lambda: gn.Activation(np.tanh, np.tanh)],
        "Activation(np.sin)": [lambda: gn.Activation(np.sin, np.cos)],
        "Activation(np.exp)": [lambda: gn.Activation(np.exp, np.exp)],
        "Activation(np.abs)": [lambda: gn.Activation(np.abs, np.sign)],
    }


def randomize(net: gn.Network) -> gn.Network:
    for layer in net.layers:
        if isinstance(layer, gn.BatchNorm):
            n = layer.num_features
            layer.gamma.value = RNG.uniform(0.5, 1.5, n).astype(np.float32)
            layer.beta.value = RNG.normal(0, 0.5, n).astype(np.float32)
            layer.running_mean = RNG.normal(0, 0.5, n).astype(np.float32)
            layer.running_var = RNG.uniform(0.5, 2, n).astype(np.float32)
    return net


def largest(net: gn.Network, x: np.ndarray, folder: Path) -> tuple[float, float]:
    """The largest |onnxruntime - glassnet| over x, in both layouts for images; and it over max(1, max |output|)."""
    worst = 0.0
    predict = net.predict(x)
    for layout in ("nhwc", "nchw") if x.ndim == 4 else ("nhwc",):
        path = folder / "case.onnx"
        net.to_onnx(path, input_shape=x.shape[1:], layout=layout)
        worst = max(worst, onnx_difference(path, x, predict, layout))
    return worst, worst / max(1.0, float(np.abs(predict).max()))


def main() -> None:
    rows: list[tuple[str, int, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for shape, cases in ((IMAGE, image_cases()), ((12,), flat_cases())):
            for name, makers in cases.items():
                unit, relative = 0.0, 0.0
                for make in makers:
                    net = randomize(gn.Network(seed=0, verbose=0).add(make()))
                    for scale in SCALES:
                        x = (RNG.standard_normal((64, *shape)) * scale).astype(np.float32)
                        absolute, scaled = largest(net, x, folder)
                        unit = max(unit, absolute) if scale <= 1 else unit
                        relative = max(relative, scaled)
                rows.append((name, len(makers), unit, relative))
        (_, _), (x_test, _) = gn.datasets.load_mnist()
        x = np.concatenate([x_test, RNG.random((1000, 28, 28, 1), dtype=np.float32)])
        for name, entry in REGISTRY.items():
            rows.append((f"zoo: {name}", 1, *largest(randomize(entry.build(seed=0, verbose=0)), x, folder)))
    print(
        "| layer | configurations | largest difference, inputs N(0, 0.1^2) and N(0, 1) (zoo: MNIST test images "
        "and U(0, 1)) | largest difference / max(1, largest output), also inputs N(0, 10^2) |"
    )
    print("| --- | ---: | ---: | ---: |")
    for name, count, unit, relative in rows:
        print(f"| {name} | {count} | {unit:.2g} | {relative:.2g} |")


if __name__ == "__main__":
    main()
