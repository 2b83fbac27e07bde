"""Reading an ONNX file as data: the protobuf parsed and checked, tensors as NumPy arrays.

Nothing in the file is run: it is parsed as a protobuf message and read field by field. Tensors
stored outside the file (external data) are refused, so a model never makes glassnet open another
file; every tensor's size is checked against its declared shape before anything is allocated.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from glassnet.errors import ModelFileError
from glassnet.extras import import_extra

MIN_OPSET, MAX_OPSET = 9, 22  # the default domain's versions whose operators the importer knows
MAX_ELEMENTS = 1 << 28  # a tensor or an input sample larger than this (1 GiB of float32) is absurd here
DEFAULT_DOMAINS = ("", "ai.onnx")
DTYPES: dict[int, tuple[type[np.generic], str]] = {  # ONNX TensorProto data type -> (dtype, repeated field)
    1: (np.float32, "float_data"),
    6: (np.int32, "int32_data"),
    7: (np.int64, "int64_data"),
    11: (np.float64, "double_data"),
}
EXTERNAL = 1  # TensorProto.DataLocation.EXTERNAL


@dataclass
class OnnxGraph:
    """What the importer needs of a model: its one input and output, nodes, constants and metadata.

    Args:
        label: the file, for messages.
        opset: the version of the default operator set.
        input_name: the graph's input.
        input_dims: its sizes after the batch axis.
        output_name: the graph's output.
        nodes: the NodeProtos, in order.
        constants: initializers and Constant nodes' values by name.
        metadata: the model's metadata_props.
    """

    label: str
    opset: int
    input_name: str
    input_dims: tuple[int, ...]
    output_name: str
    nodes: list[Any]
    constants: dict[str, np.ndarray]
    metadata: dict[str, str]


def read_onnx(path: str | os.PathLike[str]) -> OnnxGraph:
    """Parse and check an ONNX file; ModelFileError for anything glassnet cannot read.

    Args:
        path: the .onnx file.
    """
    onnx = import_extra("onnx", "onnx", "reading ONNX files")
    decode_error = import_extra("google.protobuf.message", "onnx", "reading ONNX files").DecodeError
    label = os.fspath(path)
    model = onnx.ModelProto()
    try:
        model.ParseFromString(Path(path).read_bytes())
    except (decode_error, RuntimeError, ValueError) as error:
        raise ModelFileError(f"{label}: not an ONNX model, or truncated ({error})") from None
    if not model.HasField("graph") or not model.graph.node:
        raise ModelFileError(f"{label}: not an ONNX model, or truncated (no graph of nodes)")
    graph = model.graph
    constants = {t.name: tensor_array(t, label) for t in graph.initializer}
    if graph.sparse_initializer:
        raise ModelFileError(f"{label}: sparse initializers are not supported: store the weights as dense tensors")
    inputs = [value for value in graph.input if value.name not in constants]
    if len(inputs) != 1 or len(graph.output) != 1:
        raise ModelFileError(
            f"{label}: glassnet reads graphs of one input and one output, this one has {len(inputs)} inputs "
            f"and {len(graph.output)} outputs"
        )
    return OnnxGraph(
        label,
        _opset(model, label),
        inputs[0].name,
        _input_dims(inputs[0], label),
        graph.output[0].name,
        list(graph.node),
        constants,
        {prop.key: prop.value for prop in model.metadata_props},
    )


def _opset(model: Any, label: str) -> int:
    """The default domain's opset version, checked against the range the importer knows."""
    versions = [entry.version for entry in model.opset_import if entry.domain in DEFAULT_DOMAINS]
    if not versions:
        raise ModelFileError(f"{label}: the model imports no version of ONNX's standard operators (opset_import)")
    version = int(versions[0])
    if not MIN_OPSET <= version <= MAX_OPSET:
        raise ModelFileError(
            f"{label}: the model uses opset {version} of ONNX's standard operators; glassnet reads opsets "
            f"{MIN_OPSET} to {MAX_OPSET}: convert it (onnx.version_converter) or export it with opset 17"
        )
    return version


def _input_dims(value: Any, label: str) -> tuple[int, ...]:
    """One sample's sizes of a float32 input (the batch axis may be symbolic, the others must be known)."""
    kind = value.type.tensor_type
    if not value.type.HasField("tensor_type") or kind.elem_type != 1 or not kind.HasField("shape"):
        raise ModelFileError(f"{label}: the input {value.name!r} must be a float32 tensor of known shape")
    dims = [d.dim_value if d.HasField("dim_value") else None for d in kind.shape.dim][1:]
    known = [d for d in dims if d is not None and d >= 1]
    if not dims or len(known) != len(dims) or math.prod(known) > MAX_ELEMENTS:
        raise ModelFileError(
            f"{label}: the input {value.name!r} has sizes {dims} after the batch axis: glassnet needs fixed "
            f"sizes >= 1, at most {MAX_ELEMENTS} values per sample"
        )
    return tuple(int(d) for d in known)


def tensor_array(tensor: Any, label: str) -> np.ndarray:
    """A TensorProto as a NumPy array, its stored size checked against its shape before allocating.

    Args:
        tensor: the TensorProto.
        label: the file, for messages.
    """
    where = f"{label}: tensor {tensor.name!r}"
    if tensor.data_location == EXTERNAL or len(tensor.external_data):
        raise ModelFileError(
            f"{where} is stored in another file (external data): glassnet reads self-contained ONNX files only "
            "and never opens files a model names; save it with onnx.save(model, path, save_as_external_data=False)"
        )
    if tensor.data_type not in DTYPES:
        raise ModelFileError(f"{where} has ONNX data type {tensor.data_type}; glassnet reads float, double and ints")
    dtype, field = DTYPES[tensor.data_type]
    dims = [int(d) for d in tensor.dims]
    count = math.prod(dims)
    if any(d < 0 for d in dims) or count > MAX_ELEMENTS:
        raise ModelFileError(f"{where} declares the absurd shape {dims}: the file is corrupt")
    if tensor.raw_data:
        raw = tensor.raw_data
        if len(raw) != count * np.dtype(dtype).itemsize:
            raise ModelFileError(f"{where} declares shape {dims} but stores {len(raw)} bytes: the file is corrupt")
        return np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype).reshape(dims)
    values = getattr(tensor, field)
    if len(values) != count:
        raise ModelFileError(f"{where} declares shape {dims} but stores {len(values)} values: the file is corrupt")
    return np.array(values, dtype=dtype).reshape(dims)


def attributes(node: Any, label: str) -> dict[str, Any]:
    """A node's attributes as Python values (lists for ints/floats lists, arrays for tensors).

    Args:
        node: the NodeProto.
        label: the file, for messages.
    """
    onnx = import_extra("onnx", "onnx", "reading ONNX files")
    values: dict[str, Any] = {}
    for attribute in node.attribute:
        if attribute.type == onnx.AttributeProto.TENSOR:
            values[attribute.name] = tensor_array(attribute.t, label)
        elif attribute.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS):
            raise ModelFileError(f"{label}: node {node.name!r} ({node.op_type}) holds a subgraph, which is unsupported")
        else:
            value = onnx.helper.get_attribute_value(attribute)
            values[attribute.name] = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return values
