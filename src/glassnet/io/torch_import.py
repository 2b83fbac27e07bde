"""Weights from PyTorch: a module's or state dict's parameters copied into a glassnet network of the same architecture.

The parameterised layers are matched in order: the i-th Dense, Conv2D or BatchNorm of the network
takes the i-th module of the state dict (its keys grouped by prefix, "0.weight" and "0.bias" for
module "0"). Layouts are converted: Linear's (out, in) weight is transposed, Conv2d's (OUT, IN, KH, KW)
becomes (KH, KW, IN, OUT), and the rows of the first Dense after a Flatten of images are reordered
from PyTorch's (c, h, w) order to glassnet's (h, w, c). PyTorch itself is never imported: tensors
are read through their `detach().cpu().numpy()`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from glassnet.errors import InputError, InputTypeError, ShapeError
from glassnet.io.contract import SavedNetwork
from glassnet.io.layout import conv_from_oihw, hwc_from_chw
from glassnet.layers import BatchNorm, Conv2D, Dense, Flatten, Layer
from glassnet.layers.base import Shape

IGNORED = ("num_batches_tracked",)  # BatchNorm's step counter: not a value glassnet computes with
TORCH_NAMES = {  # glassnet's array -> PyTorch's name for it in a module
    "weight": "weight",
    "bias": "bias",
    "gamma": "weight",
    "beta": "bias",
    "running_mean": "running_mean",
    "running_var": "running_var",
}


def from_torch(source: Any, net: SavedNetwork, input_shape: Sequence[int] | None = None) -> SavedNetwork:
    """Copy a PyTorch model's weights into net (same architecture), converting layouts; returns net.

    Nothing is copied unless every parameter's shape fits.

    Args:
        source: a torch.nn.Module, or its state_dict() (a mapping of names to tensors or arrays).
        net: the glassnet network, built layer for layer like the PyTorch model.
        input_shape: one sample's (H, W, C); needed when a Flatten of images comes before a Dense
            and the network has not seen data (net.input_shape is None).
    """
    state = source.state_dict() if callable(getattr(source, "state_dict", None)) else source
    if not isinstance(state, Mapping):
        raise InputTypeError(
            f"from_torch takes a torch.nn.Module or its state_dict(), got {type(source).__name__}: "
            "pass model or model.state_dict()"
        )
    modules = _group(state)
    layers = [
        (index, layer)
        for index, layer in enumerate(net.layers)
        if type(layer) in (Dense, Conv2D, BatchNorm) or layer.named_parameters() or layer.buffers()
    ]
    unknown = [f"layer {index}, {layer!r}" for index, layer in layers if type(layer) not in (Dense, Conv2D, BatchNorm)]
    if unknown:
        raise InputError(f"from_torch copies into Dense, Conv2D and BatchNorm layers only, not {', '.join(unknown)}")
    if len(modules) != len(layers):
        raise ShapeError(
            f"the PyTorch model has {len(modules)} modules with weights ({', '.join(modules) or 'none'}), the network "
            f"{len(layers)} ({', '.join(repr(layer) for _, layer in layers)}): build the same architecture"
        )
    orders = _flatten_orders(net, input_shape)
    values: list[tuple[Layer, dict[str, np.ndarray]]] = []
    for (index, layer), (prefix, arrays) in zip(layers, modules.items(), strict=True):
        values.append((layer, _convert(index, layer, prefix, arrays, orders.get(index))))
    for layer, converted in values:
        params = layer.parameter_shapes()
        layer.set_parameters({name: value for name, value in converted.items() if name in params})
        layer.set_buffers({name: value for name, value in converted.items() if name not in params})
    return net


def _group(state: Mapping[Any, Any]) -> dict[str, dict[str, np.ndarray]]:
    """The state dict's arrays grouped by module prefix, in order: {"0": {"weight": ..., "bias": ...}}."""
    modules: dict[str, dict[str, np.ndarray]] = {}
    for key, value in state.items():
        prefix, _, name = str(key).rpartition(".")
        if name in IGNORED:
            continue
        modules.setdefault(prefix, {})[name] = _array(value, str(key))
    return modules


def _array(value: Any, key: str) -> np.ndarray:
    """A tensor (through detach().cpu().numpy()) or an array, as float32."""
    if callable(getattr(value, "detach", None)):
        value = value.detach().cpu().numpy()
    array = np.asarray(value)
    if array.dtype.kind not in "fiu" or not np.isfinite(array).all():
        raise InputError(f"{key!r} must hold finite numbers, got {array.dtype} with NaN, infinities or non-numbers")
    return array.astype(np.float32)


def _flatten_orders(net: SavedNetwork, input_shape: Sequence[int] | None) -> dict[int, np.ndarray]:
    """For each Dense (by index) reading a Flatten of (H, W, C) images with C > 1: its rows' PyTorch order.

    BatchNorm layers between the Flatten and that Dense read the same order.
    """
    shape = None if input_shape is None else tuple(input_shape)
    shapes: list[Shape | None] = [shape or net.input_shape, *net.layer_shapes(shape or net.input_shape)]
    orders: dict[int, np.ndarray] = {}
    pending: np.ndarray | None = None
    for index, layer in enumerate(net.layers):
        before = shapes[index]
        if isinstance(layer, Flatten) and before is not None and len(before) == 3 and before[2] != 1:
            if None in before:
                raise InputError(
                    f"layer {index}, Flatten, flattens images of unknown size, so the next Dense's rows cannot be "
                    "reordered from PyTorch's (c, h, w): pass input_shape=(H, W, C) or call net.predict once first"
                )
            h, w, c = (int(d or 0) for d in before)
            pending = hwc_from_chw(h, w, c)
        elif isinstance(layer, (Dense, BatchNorm)) and pending is not None:
            orders[index] = pending
            pending = None if isinstance(layer, Dense) else pending
    return orders


def _convert(
    index: int, layer: Layer, prefix: str, arrays: dict[str, np.ndarray], order: np.ndarray | None
) -> dict[str, np.ndarray]:
    """The module's arrays in glassnet's layout for this layer, each shape checked."""
    wanted = {**layer.parameter_shapes(), **layer.buffer_shapes()}
    names = {TORCH_NAMES[name]: name for name in wanted}
    if set(arrays) != set(names):
        raise ShapeError(
            f"layer {index}, {layer!r}, needs {sorted(names)} from PyTorch, module {prefix!r} has {sorted(arrays)}: "
            "the architectures differ"
        )
    converted = {}
    for torch_name, value in arrays.items():
        name = names[torch_name]
        glass = _to_glassnet(layer, name, value, order)
        if glass.shape != tuple(wanted[name]):
            raise ShapeError(
                f"layer {index}, {layer!r}: {name} needs PyTorch shape {_torch_shape(layer, name, wanted[name])} "
                f"(glassnet {tuple(wanted[name])}), '{prefix}.{torch_name}' has {value.shape}: the architectures differ"
            )
        converted[name] = glass
    return converted


def _to_glassnet(layer: Layer, name: str, value: np.ndarray, order: np.ndarray | None) -> np.ndarray:
    """One PyTorch array in glassnet's layout (unchanged when its rank does not fit; the shape check reports it)."""
    if isinstance(layer, Conv2D) and name == "weight" and value.ndim == 4:
        return conv_from_oihw(value)
    if isinstance(layer, Dense) and name == "weight" and value.ndim == 2:
        value = np.ascontiguousarray(value.T)  # (in, out)
    if order is not None and (name == "weight" or isinstance(layer, BatchNorm)) and len(value) == len(order):
        value = value[order]
    return value


def _torch_shape(layer: Layer, name: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape PyTorch stores a glassnet array in."""
    if isinstance(layer, Conv2D) and name == "weight":
        kh, kw, cin, out = shape
        return (out, cin, kh, kw)
    if isinstance(layer, Dense) and name == "weight":
        return (shape[1], shape[0])
    return shape
