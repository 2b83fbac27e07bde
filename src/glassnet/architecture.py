"""A network's architecture as JSON-ready data: built-in layers, loss and optimizer, by name and config."""

from __future__ import annotations

import inspect
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet.errors import GlassnetError, ModelFileError, UnsaveableError
from glassnet.layers import (
    Activation,
    AvgPool2D,
    BatchNorm,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    Layer,
    LeakyReLU,
    MaxPool2D,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from glassnet.losses import LOSSES
from glassnet.optimizers import SGD, Adam, Optimizer
from glassnet.parameter import Parameter

if TYPE_CHECKING:
    from glassnet.network import Network

Shape = tuple[Any, ...]  # as declared by a config: ints once checked against the stored arrays
LAYER_TYPES: dict[str, type[Layer]] = {
    cls.__name__: cls
    for cls in (
        Dense,
        Conv2D,
        MaxPool2D,
        AvgPool2D,
        Flatten,
        Tanh,
        Sigmoid,
        ReLU,
        LeakyReLU,
        Softmax,
        Dropout,
        BatchNorm,
    )
}
OPTIMIZER_TYPES: dict[str, type[Optimizer]] = {"SGD": SGD, "Adam": Adam}
OPTIMIZER_STATE_KEYS: dict[str, frozenset[str]] = {"SGD": frozenset({"velocity"}), "Adam": frozenset({"m", "v"})}
NETWORK_KEYS = ("epochs", "learning_rate", "batch_size", "seed", "verbose")
ARCHITECTURE_KEYS = {"network", "layers", "loss", "optimizer", "input_shape"}


@dataclass
class LayerSpec:
    """One layer of a model file: its class, constructor arguments and the arrays it must hold.

    Args:
        index: its position in the network.
        cls: the built-in layer class.
        config: the constructor's keyword arguments.
        parameters: parameter name -> shape the config implies.
        buffers: buffer name -> shape the config implies.
    """

    index: int
    cls: type[Layer]
    config: dict[str, Any]
    parameters: dict[str, Shape]
    buffers: dict[str, Shape]


def expected_arrays(kind: str, config: dict[str, Any]) -> tuple[dict[str, Shape], dict[str, Shape]]:
    """The (parameter, buffer) shapes a built-in layer of this type and config holds.

    Args:
        kind: the layer's class name.
        config: its constructor arguments, as stored (compared to stored arrays before any use).
    """
    if kind == "Dense":
        out = config.get("out_features")
        return {"weight": (config.get("in_features"), out), "bias": (out,)}, {}
    if kind == "Conv2D":
        kernel = config.get("kernel_size")
        kh, kw = tuple(kernel) if isinstance(kernel, list) and len(kernel) == 2 else (kernel, kernel)
        out = config.get("out_channels")
        return {"weight": (kh, kw, config.get("in_channels"), out), "bias": (out,)}, {}
    if kind == "BatchNorm":
        features = (config.get("num_features"),)
        return {"gamma": features, "beta": features}, {"running_mean": features, "running_var": features}
    return {}, {}


def describe(net: Network) -> dict[str, Any]:
    """The architecture of a network as JSON-ready data; UnsaveableError if it is not all built-in.

    Args:
        net: the network.
    """
    seed = net.seed if isinstance(net.seed, (int, np.integer)) and not isinstance(net.seed, bool) else None
    return {
        "network": {
            "epochs": net.epochs,
            "learning_rate": net.learning_rate,
            "batch_size": net.batch_size,
            "seed": None if seed is None else int(seed),
            "verbose": net.verbose,
        },
        "layers": [describe_layer(index, layer) for index, layer in enumerate(net.layers)],
        "loss": _loss_name(net),
        "optimizer": _describe_optimizer(net.optimizer),
        "input_shape": None if net.input_shape is None else [int(d) for d in net.input_shape],
    }


def describe_layer(index: int, layer: Layer) -> dict[str, Any]:
    """{"type": ..., "config": ...} of a built-in layer, its arrays checked against its config.

    Args:
        index: its position, for error messages.
        layer: the layer.
    """
    kind = type(layer).__name__
    if type(layer) is Activation:
        raise UnsaveableError(
            f"layer {index}, {layer!r}, holds your own Python functions, which a model file cannot store "
            "(glassnet never pickles): use a built-in activation such as gn.Tanh(), gn.Sigmoid() or gn.ReLU()"
        )
    if LAYER_TYPES.get(kind) is not type(layer):
        raise UnsaveableError(
            f"layer {index}, {layer!r}, is a custom layer ({type(layer).__module__}.{type(layer).__qualname__}): "
            f"model files hold built-in layers only ({', '.join(LAYER_TYPES)}); save its parameters yourself "
            "with np.savez and rebuild the network in code"
        )
    config = layer.config()
    params = {name: value for name, value in vars(layer).items() if isinstance(value, Parameter)}
    want_params, want_buffers = expected_arrays(kind, config)
    shapes = {name: param.shape for name, param in params.items()}
    buffer_shapes = {name: tuple(buffer.shape) for name, buffer in layer.buffers().items()}
    if shapes != want_params or buffer_shapes != want_buffers:
        raise UnsaveableError(
            f"layer {index}, {layer!r}, holds arrays {shapes | buffer_shapes} but its config implies "
            f"{want_params | want_buffers}: set values of the right shapes"
        )
    return {"type": kind, "config": config}


def _loss_name(net: Network) -> str | None:
    """The name of the network's built-in loss; None without one. Args: net: the network."""
    if net.loss is None:
        return None
    name = {cls: name for name, cls in LOSSES.items()}.get(type(net.loss))
    if name is None:
        raise UnsaveableError(
            f"the loss {net.loss!r} is not built in, so a model file cannot store it (glassnet never pickles): "
            'use net.use("mse") or net.use("cross_entropy")'
        )
    return name


def _describe_optimizer(optimizer: Optimizer) -> dict[str, Any]:
    """{"type": ..., "config": ...} of a built-in optimizer. Args: optimizer: the optimizer."""
    kind = type(optimizer).__name__
    if OPTIMIZER_TYPES.get(kind) is not type(optimizer):
        raise UnsaveableError(
            f"the optimizer {kind} is not built in, so a model file cannot store it: "
            "use gn.optimizers.SGD or gn.optimizers.Adam"
        )
    return {"type": kind, "config": optimizer.config()}


def check_keys(
    value: object, where: str, required: AbstractSet[str], optional: AbstractSet[str] = frozenset()
) -> dict[str, Any]:
    """value as a dict with every required key and no unknown one, or a ModelFileError.

    Args:
        value: the parsed JSON value.
        where: its place in the file, for messages.
        required: keys it must have.
        optional: keys it may have.
    """
    if not isinstance(value, dict):
        raise ModelFileError(f"{where}: expected a JSON object, found {type(value).__name__}")
    missing, unknown = required - value.keys(), value.keys() - required - optional
    if missing or unknown:
        raise ModelFileError(f"{where}: missing keys {sorted(missing)}, unknown keys {sorted(unknown)}")
    return value


def layer_specs(layers: object, where: str) -> list[LayerSpec]:
    """Check the "layers" list of an architecture (types and config keys) into LayerSpecs.

    Args:
        layers: the parsed JSON value.
        where: the file's name, for messages.
    """
    if not isinstance(layers, list):
        raise ModelFileError(f"{where}: architecture.layers must be a list, found {type(layers).__name__}")
    specs = []
    for index, entry in enumerate(layers):
        entry = check_keys(entry, f"{where}: layer {index}", {"type", "config"})
        kind = entry["type"]
        if not isinstance(kind, str) or kind not in LAYER_TYPES:
            raise ModelFileError(f"{where}: layer {index} has unknown type {kind!r}; known: {', '.join(LAYER_TYPES)}")
        cls = LAYER_TYPES[kind]
        required, optional = _arguments(cls)
        config = check_keys(entry["config"], f"{where}: layer {index} ({kind}) config", required, optional)
        specs.append(LayerSpec(index, cls, config, *expected_arrays(kind, config)))
    return specs


def _arguments(cls: type[object]) -> tuple[set[str], set[str]]:
    """The (required, optional) keyword arguments of a class's constructor. Args: cls: the class."""
    if cls.__init__ is object.__init__:
        return set(), set()
    named = [
        p
        for p in inspect.signature(cls.__init__).parameters.values()
        if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    required = {p.name for p in named if p.default is p.empty}
    return required, {p.name for p in named} - required


def build_layer(spec: LayerSpec, arrays: dict[str, np.ndarray], where: str) -> Layer:
    """A layer rebuilt from its spec, holding the stored parameters and buffers (nothing drawn).

    Args:
        spec: the checked spec; its shapes were checked against the stored arrays.
        arrays: parameter and buffer name -> stored array.
        where: the file's name, for messages.
    """
    try:
        layer = spec.cls(**spec.config)
    except (TypeError, ValueError, GlassnetError) as error:
        where = f"{where}: layer {spec.index} ({spec.cls.__name__})"
        raise ModelFileError(f"{where} has an invalid config: {error}") from None
    for name in spec.parameters:
        setattr(layer, name, Parameter(arrays[name]))
    for name in spec.buffers:
        setattr(layer, name, arrays[name])
    return layer


def build_optimizer(value: object, where: str) -> Optimizer:
    """The optimizer an architecture's "optimizer" entry describes. Args: value: JSON; where: file."""
    value = check_keys(value, f"{where}: architecture.optimizer", {"type", "config"})
    cls = OPTIMIZER_TYPES.get(value["type"]) if isinstance(value["type"], str) else None
    if cls is None:
        raise ModelFileError(f"{where}: unknown optimizer {value['type']!r}; known: {', '.join(OPTIMIZER_TYPES)}")
    required, optional = _arguments(cls)
    config = check_keys(value["config"], f"{where}: optimizer config", required, optional)
    try:
        return cls(**config)
    except (TypeError, ValueError, GlassnetError) as error:
        raise ModelFileError(f"{where}: the optimizer config is invalid: {error}") from None
