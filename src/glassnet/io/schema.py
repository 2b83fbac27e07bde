"""The layer-spec schema: a network's architecture as JSON-ready data, and built-in layers from it.

One parser serves both places a layer is written as data: model files store
{"type": "Conv2D", "config": {...}} and the command line's JSON model specs write
{"type": "Conv2D", "in_channels": 1, ...}; both reach `build_layer`. The table of layer
types is read from the layers package: a new built-in layer only needs its export there.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from typing import Any

from glassnet import layers
from glassnet.augment import build_augmentation, describe_augmentation
from glassnet.checks import is_int
from glassnet.errors import GlassnetError, InputError, InputTypeError, ModelFileError, UnsaveableError
from glassnet.io.contract import SavedNetwork
from glassnet.layers import Activation, Layer
from glassnet.layers.registry import REGISTERED, custom_config, registered_name
from glassnet.losses import LOSSES, Loss
from glassnet.optimizers import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from glassnet.schedule_specs import build_schedule
from glassnet.schedules import describe_schedule

# Every layer class glassnet exports, but the base class and Activation (it holds Python functions).
LAYER_TYPES: dict[str, type[Layer]] = {
    name: cls
    for name, cls in ((name, getattr(layers, name)) for name in layers.__all__)
    if isinstance(cls, type) and issubclass(cls, Layer) and cls not in (Layer, Activation)
}
OPTIMIZER_TYPES: dict[str, type[Optimizer]] = {cls.__name__: cls for cls in (SGD, Adam, AdamW, RMSprop, Adagrad)}
_ADAM_KEYS: tuple[frozenset[str], ...] = (frozenset(), frozenset({"m", "v"}), frozenset({"m", "v", "step"}))
_RMSPROP_EXTRAS = ((), ("grad_avg",), ("momentum_buffer",), ("grad_avg", "momentum_buffer"))
# The sets of state keys one parameter may hold, per optimizer (Adam's "step" is new in this version).
OPTIMIZER_STATE_KEYS: dict[str, tuple[frozenset[str], ...]] = {
    "SGD": (frozenset(), frozenset({"velocity"})),
    "Adam": _ADAM_KEYS,
    "AdamW": _ADAM_KEYS,
    "RMSprop": (frozenset(), *(frozenset({"square_avg", *extra}) for extra in _RMSPROP_EXTRAS)),
    "Adagrad": (frozenset(), frozenset({"sum"})),
}
SCALAR_STATE = {"step"}  # per-parameter counts, stored as int64 scalars
NETWORK_KEYS = ("epochs", "learning_rate", "batch_size", "seed", "verbose")
ARCHITECTURE_KEYS = {"network", "layers", "loss", "optimizer", "input_shape"}
OPTIONAL_ARCHITECTURE_KEYS = {"schedule", "augment", "class_names"}  # written only when set


# Building layers --------------------------------------------------------------------------------


def build_layer(kind: object, options: object, where: str, types: Mapping[str, type[Layer]] = LAYER_TYPES) -> Layer:
    """A built-in (or registered) layer from its type name and constructor arguments; InputError naming `where` if not.

    Args:
        kind: the class name, e.g. "Conv2D".
        options: its constructor's keyword arguments (lists stand for pairs).
        where: the layer's place, for messages ("layer 3", "model.npz: layer 2").
        types: the classes it may build, by name.
    """
    if not isinstance(kind, str) or kind not in types:
        raise InputError(f"{where}: unknown type {kind!r}: use one of {', '.join(types)}")
    cls = types[kind]
    if not isinstance(options, dict):
        raise InputError(f"{where} ({kind}): expected an object of options, got {type(options).__name__}")
    required, optional = constructor_arguments(cls)
    unknown, missing = sorted(options.keys() - required - optional), sorted(required - options.keys())
    if unknown:
        accepted = ", ".join(sorted(required | optional)) or "no options"
        raise InputError(f"{where} ({kind}): unknown option {unknown[0]!r}: it takes {accepted}")
    if missing:
        raise InputError(f"{where} ({kind}): missing option {missing[0]!r}")
    try:
        return cls(**{key: tuple(value) if isinstance(value, list) else value for key, value in options.items()})
    except (TypeError, ValueError, GlassnetError) as error:
        raise InputError(f"{where} ({kind}): {error}") from None


def constructor_arguments(cls: type[object]) -> tuple[set[str], set[str]]:
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


def build_optimizer(value: object, where: str) -> Optimizer:
    """The optimizer an architecture's "optimizer" entry describes. Args: value: JSON; where: file."""
    value = check_keys(value, f"{where}: architecture.optimizer", {"type", "config"})
    cls = OPTIMIZER_TYPES.get(value["type"]) if isinstance(value["type"], str) else None
    if cls is None:
        raise ModelFileError(f"{where}: unknown optimizer {value['type']!r}; known: {', '.join(OPTIMIZER_TYPES)}")
    required, optional = constructor_arguments(cls)
    config = check_keys(value["config"], f"{where}: optimizer config", required, optional)
    try:
        return cls(**config)
    except (TypeError, ValueError, GlassnetError) as error:
        raise ModelFileError(f"{where}: the optimizer config is invalid: {error}") from None


def read_schedule(architecture: dict[str, Any], where: str) -> Any:
    """The schedule an architecture stores, or None. Args: architecture: the JSON; where: the file."""
    return _read_optional(architecture, "schedule", build_schedule, where)


def read_augment(architecture: dict[str, Any], where: str) -> Any:
    """The augmentation an architecture stores, or None. Args: architecture: the JSON; where: the file."""
    return _read_optional(architecture, "augment", build_augmentation, where)


def _read_optional(architecture: dict[str, Any], key: str, build: Any, where: str) -> Any:
    """build(architecture[key]), None without the key, ModelFileError if invalid."""
    if key not in architecture:
        return None
    try:
        return build(architecture[key])
    except (GlassnetError, ValueError, TypeError) as error:
        raise ModelFileError(f"{where}: architecture.{key} is invalid: {error}") from None


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


# Describing a network ---------------------------------------------------------------------------


def describe(net: SavedNetwork) -> dict[str, Any]:
    """The architecture of a network as JSON-ready data; UnsaveableError if it is not all built-in.

    Args:
        net: the network.
    """
    seed = int(net.seed) if is_int(net.seed) else None
    names = {} if net.class_names is None else {"class_names": list(net.class_names)}
    described = names | {
        "network": {
            "epochs": net.epochs,
            "learning_rate": net.learning_rate,
            "batch_size": net.batch_size,
            "seed": seed,
            "verbose": net.verbose,
        },
        "layers": [describe_layer(index, layer) for index, layer in enumerate(net.layers)],
        "loss": _loss_name(net),
        "optimizer": _describe_optimizer(net.optimizer),
        "input_shape": None if net.input_shape is None else [int(d) for d in net.input_shape],
    }
    try:
        if net.schedule is not None:
            described["schedule"] = describe_schedule(net.schedule)
        if net.augment is not None:
            described["augment"] = describe_augmentation(net.augment)
    except InputError as error:
        raise UnsaveableError(str(error)) from None
    return described


def custom_layer_class(kind: object, where: str, custom_layers: Mapping[str, type[Layer]]) -> type[Layer]:
    """The class of a file's custom layer: passed to load, or registered; ModelFileError saying how if neither.

    Args:
        kind: the stored name.
        where: the layer's place, for messages.
        custom_layers: the classes given to Network.load.
    """
    if not isinstance(kind, str):
        raise ModelFileError(f"{where}: a custom layer's type must be a name, found {kind!r}")
    cls = custom_layers.get(kind) or REGISTERED.get(kind)
    if cls is None:
        raise ModelFileError(
            f"{where} is the custom layer {kind!r}, which is not registered: define its class and decorate it with "
            f"@gn.register_layer, or pass gn.Network.load(path, custom_layers={{{kind!r}: {kind}}}) "
            "(a model file never names code to import)"
        )
    if not isinstance(cls, type) or not issubclass(cls, Layer):
        raise InputTypeError(f"custom_layers[{kind!r}] must be a subclass of gn.Layer, got {cls!r}")
    return cls


def describe_layer(index: int, layer: Layer) -> dict[str, Any]:
    """{"type": ..., "config": ...} of a built-in or registered layer, its arrays checked against its config.

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
    custom = LAYER_TYPES.get(kind) is not type(layer)
    if custom:
        name = registered_name(layer)
        if name is None:
            raise UnsaveableError(
                f"layer {index}, {layer!r}, is a custom layer ({type(layer).__module__}.{type(layer).__qualname__}) "
                f"that is not registered: decorate its class with @gn.register_layer to save it"
            )
        if layer.buffers():
            raise UnsaveableError(
                f"layer {index}, {layer!r}: model files hold a custom layer's parameters, not its buffers"
            )
    held = {name: param.shape for name, param in layer.named_parameters().items()}
    held |= {name: tuple(buffer.shape) for name, buffer in layer.buffers().items()}
    implied = layer.parameter_shapes() | layer.buffer_shapes()
    if held != implied:
        raise UnsaveableError(
            f"layer {index}, {layer!r}, holds arrays {held} but its config implies {implied}: "
            "set values of the right shapes"
        )
    if custom:
        return {"type": name, "config": custom_config(index, layer), "custom": True}
    return {"type": kind, "config": layer.config()}


def _loss_name(net: SavedNetwork) -> str | dict[str, Any] | None:
    """The network's built-in loss: its name, or {"type": name, "config": ...} when it has options.

    Args:
        net: the network; None without a loss.
    """
    if net.loss is None:
        return None
    name = {cls: name for name, cls in LOSSES.items()}.get(type(net.loss))
    if name is None:
        raise UnsaveableError(
            f"the loss {net.loss!r} is not built in, so a model file cannot store it (glassnet never pickles): "
            'use net.use("mse") or net.use("cross_entropy")'
        )
    config = net.loss.config()
    return {"type": name, "config": config} if config else name


def build_loss(value: object, where: str) -> Loss | None:
    """The loss an architecture's "loss" entry names: null, a name, or {"type": name, "config": {...}}.

    Args:
        value: the JSON value.
        where: the file, for messages.
    """
    if value is None:
        return None
    kind, config = (value.get("type"), value.get("config")) if isinstance(value, dict) else (value, {})
    if not isinstance(kind, str) or kind not in LOSSES or not isinstance(config, dict):
        raise ModelFileError(f"{where}: unknown loss {value!r}; known: {', '.join(LOSSES)}")
    if isinstance(value, dict):
        check_keys(value, f"{where}: architecture.loss", {"type", "config"})
    try:
        return LOSSES[kind](**config)
    except (TypeError, ValueError, GlassnetError) as error:
        raise ModelFileError(f"{where}: the loss config is invalid: {error}") from None


def _describe_optimizer(optimizer: Optimizer) -> dict[str, Any]:
    """{"type": ..., "config": ...} of a built-in optimizer. Args: optimizer: the optimizer."""
    kind = type(optimizer).__name__
    if OPTIMIZER_TYPES.get(kind) is not type(optimizer):
        raise UnsaveableError(
            f"the optimizer {kind} is not built in, so a model file cannot store it: "
            f"use one of gn.optimizers.{', gn.optimizers.'.join(OPTIMIZER_TYPES)}"
        )
    return {"type": kind, "config": optimizer.config()}
