"""`glassnet export`: a model file as ONNX, with its class names and preprocessing, checked by onnxruntime."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from glassnet.errors import InputError, NumericalError
from glassnet.io.onnx_check import onnx_difference
from glassnet.network.network import Network

CHECK_TOLERANCE = 1e-4  # --check fails above this difference between onnxruntime and glassnet
CHECK_IMAGES = 1000  # test images checked, when the model takes them
CHECK_RANDOM = 100  # random inputs checked besides
MNIST_SHAPE = (28, 28, 1)


@dataclass(frozen=True)
class ExportTarget:
    """Where and how to write the ONNX file.

    Args:
        out: the file (None: the model file's name with the suffix .onnx).
        layout: "nhwc" or "nchw", the image layout of the graph's input.
        title: the data set's name, for the preprocessing note and messages.
        classes: the data set's class names, stored when the model has one output per class.
    """

    out: Path | None
    layout: str
    title: str
    classes: Sequence[str]


def export_model(
    model: Path, target: ExportTarget, test_images: Callable[[], np.ndarray], check: bool
) -> Iterator[str]:
    """Write the ONNX file and yield what to print; with check, run it in onnxruntime on sample inputs.

    Args:
        model: the glassnet model file.
        target: the file to write and its layout, and the data set the model was trained on.
        test_images: loads the data set's test images (only called when checking an MNIST-shaped model).
        check: compare onnxruntime's outputs with glassnet's; NumericalError above CHECK_TOLERANCE.
    """
    net = Network.load(model)
    out = target.out or model.with_suffix(".onnx")
    if not out.parent.is_dir():
        raise FileNotFoundError(f"{out.parent}: no such folder to write the ONNX file in")
    if out.resolve() == model.resolve():
        raise InputError(f"--out {out} is the model file itself: choose another name")
    shape = net.input_shape
    outputs = net.layer_shapes(shape)[-1] if shape is not None else None
    mnist_like = shape == MNIST_SHAPE
    preprocessing = f"{target.title} images: 28x28 grayscale, float32 pixels / 255 in [0, 1]" if mnist_like else None
    names = list(target.classes) if outputs == (len(target.classes),) else None
    net.to_onnx(out, layout=target.layout, class_names=names, preprocessing=preprocessing)
    dims = list(shape or ())
    if target.layout == "nchw" and len(dims) == 3:
        dims = [dims[2], dims[0], dims[1]]  # (C, H, W)
    ins, outs = ", ".join(map(str, dims)), ", ".join(map(str, outputs or ()))
    yield f"Wrote {out}: input 'input' {target.layout.upper()} (N, {ins}), output 'output' (N, {outs})"
    if not check:
        return
    x = np.random.default_rng(0).random((CHECK_RANDOM, *(shape or ())), dtype=np.float32)
    sources = f"{CHECK_RANDOM} random inputs"
    if mnist_like:
        x = np.concatenate([test_images()[:CHECK_IMAGES], x])
        sources = f"{CHECK_IMAGES} {target.title} test images and {sources}"
    difference = onnx_difference(out, x, net.predict(x), target.layout)
    if difference > CHECK_TOLERANCE:
        raise NumericalError(
            f"onnxruntime's outputs differ from glassnet's by up to {difference:.3g} on {sources} "
            f"(more than {CHECK_TOLERANCE:g}): please report this with the model file"
        )
    yield f"Checked with onnxruntime: the largest difference from glassnet is {difference:.2g} over {sources}"
