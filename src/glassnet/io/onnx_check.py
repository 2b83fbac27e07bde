"""Checking an exported ONNX file: onnxruntime runs it, and its outputs are compared with glassnet's."""

from __future__ import annotations

import os

import numpy as np

from glassnet.extras import import_extra

BATCH = 256


def onnx_difference(path: str | os.PathLike[str], x: np.ndarray, predict: np.ndarray, layout: str = "nhwc") -> float:
    """The largest absolute difference between onnxruntime's outputs for x and glassnet's (`predict`).

    Args:
        path: the .onnx file.
        x: the inputs, in glassnet's layout (N, H, W, C) for images.
        predict: glassnet's outputs for x (net.predict(x)).
        layout: the file's layout, "nhwc" or "nchw" (images are transposed for it, outputs back).
    """
    runtime = import_extra("onnxruntime", "onnx", "checking an ONNX file")
    session = runtime.InferenceSession(os.fspath(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    largest = 0.0
    for start in range(0, len(x), BATCH):
        batch = np.asarray(x[start : start + BATCH], dtype=np.float32)
        if layout == "nchw" and batch.ndim == 4:
            batch = batch.transpose(0, 3, 1, 2)  # (N, C, H, W)
        (out,) = session.run(None, {name: np.ascontiguousarray(batch)})
        if layout == "nchw" and out.ndim == 4:
            out = out.transpose(0, 2, 3, 1)  # (N, H, W, C)
        largest = max(largest, float(np.abs(out - predict[start : start + BATCH]).max()))
    return largest
