"""A model file's stored architecture, checked and built: the layers (their parameter shapes read from
the configs before anything is allocated), the size check, the network and its class names.

The io wing never imports the network wing: glassnet.network.network registers the Network class
here when it is imported (`register_network_class`), and loading builds that class.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from glassnet.errors import GlassnetError, InputError, ModelFileError
from glassnet.io.contract import SavedNetwork
from glassnet.io.limits import Limits, NetworkTooLargeError, check_network_size, parameter_count
from glassnet.io.npz import NpzReader
from glassnet.io.schema import LAYER_TYPES, NETWORK_KEYS, build_layer, build_loss, check_keys, custom_layer_class
from glassnet.layers import Layer
from glassnet.optimizers import Optimizer

MAX_CLASSES = 100_000  # class names a file may hold
MAX_NAME = 255  # characters in one class name (a folder name's limit on common file systems)
Shapes = dict[str, tuple[Any, ...]]

_network_class: Callable[..., SavedNetwork] | None = None


def register_network_class(cls: Callable[..., SavedNetwork]) -> None:
    """Tell io which class loaded networks are (called once, by glassnet.network.network)."""
    global _network_class
    _network_class = cls


def network_class() -> Callable[..., SavedNetwork]:
    """The class that loaded networks are (glassnet.network.network.Network once glassnet is imported)."""
    if _network_class is None:
        raise RuntimeError("glassnet.network was not imported: import glassnet first")
    return _network_class


LayerSpec = tuple[str, dict[str, Any], Layer | None, tuple[Shapes, Shapes]]


def layer_specs(value: object, where: str, reader: NpzReader, custom_layers: dict[str, type[Layer]]) -> list[LayerSpec]:
    """Each stored layer's (type, config, the layer if built already, its parameter and buffer shapes).

    Shapes come from the config before the layer is built wherever the layer declares them, so
    that no config can make loading allocate before the stored arrays are checked against it. A
    custom layer's parameters are the file's entries under its index (it may create them lazily).
    """
    if not isinstance(value, list):
        raise ModelFileError(f"{where}: architecture.layers must be a list, found {type(value).__name__}")
    specs: list[LayerSpec] = []
    for index, entry in enumerate(value):
        entry = check_keys(entry, f"{where}: layer {index}", {"type", "config"}, {"custom"})
        kind, config = entry["type"], entry["config"]
        if entry.get("custom", False) is not False:
            custom = custom_layer_class(kind, f"{where}: layer {index}", custom_layers)
            layer = _build(kind, config, f"{where}: layer {index}", {kind: custom})
            prefix = f"parameters/{index}/"
            stored = {e[len(prefix) :]: h.shape for e, h in reader.headers.items() if e.startswith(prefix)}
            if not all(name.isidentifier() for name in stored):
                raise ModelFileError(f"{where}: layer {index}'s parameter names must be identifiers: {sorted(stored)}")
            specs.append((kind, config, layer, (stored, {})))
            continue
        cls = LAYER_TYPES.get(kind) if isinstance(kind, str) else None
        declared = cls.declared_shapes(config) if cls is not None and isinstance(config, dict) else None
        if declared is not None:
            specs.append((kind, config, None, declared))
        else:
            layer = _build(kind, config, f"{where}: layer {index}")
            specs.append((kind, config, layer, (layer.parameter_shapes(), layer.buffer_shapes())))
    return specs


def check_size(specs: list[LayerSpec], input_shape: object, limits: Limits, where: str) -> list[Layer]:
    """The layers built from their configs (nothing allocated), refused past the limits for the stored input shape.

    Checked before any weight is read.

    Args:
        specs: the layers' specs, their shapes checked against the file.
        input_shape: the stored one-sample shape (checked again, with its message, when the network is built).
        limits: the limits.
        where: the file.
    """
    layers = [
        built or _build(kind, config, f"{where}: layer {index}") for index, (kind, config, built, _) in enumerate(specs)
    ]
    parameters = sum(parameter_count(parameters) for *_, (parameters, _) in specs)
    valid = isinstance(input_shape, list) and all(type(d) is int and d >= 1 for d in input_shape)
    try:
        check_network_size(layers, tuple(input_shape) if valid else None, limits, where, parameters)  # type: ignore[arg-type]
    except NetworkTooLargeError as error:
        raise ModelFileError(str(error)) from None
    except (GlassnetError, TypeError, ValueError) as error:
        raise ModelFileError(f"{where}: the stored network is inconsistent: {error}") from None
    return layers


def _build(kind: object, config: object, where: str, types: Mapping[str, type[Layer]] = LAYER_TYPES) -> Layer:
    """build_layer, its errors as ModelFileError."""
    try:
        return build_layer(kind, config, where, types)
    except InputError as error:
        raise ModelFileError(str(error)) from None


def build_network(architecture: dict[str, Any], optimizer: Optimizer, layers: list[Layer], where: str) -> SavedNetwork:
    """The SavedNetwork around the rebuilt layers. Args: architecture: JSON; optimizer, layers: built; where: file."""
    settings = check_keys(architecture["network"], f"{where}: architecture.network", set(NETWORK_KEYS))
    seed, loss, input_shape = settings["seed"], architecture["loss"], architecture["input_shape"]
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
        raise ModelFileError(f"{where}: the seed must be null or an int >= 0, found {seed!r}")
    loss = build_loss(loss, where)
    if input_shape is not None and (
        not isinstance(input_shape, list)
        or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in input_shape)
    ):
        raise ModelFileError(f"{where}: input_shape must be null or a list of ints >= 1, found {input_shape!r}")
    try:
        net = network_class()(
            **{key: settings[key] for key in NETWORK_KEYS if key != "seed"}, optimizer=optimizer, seed=seed
        )
        if loss is not None:
            net.use(loss)
        net.layers = layers
        net.layer_shapes(None if input_shape is None else tuple(input_shape))
    except (GlassnetError, TypeError, ValueError) as error:
        raise ModelFileError(f"{where}: the stored network is inconsistent: {error}") from None
    net.input_shape = None if input_shape is None else tuple(input_shape)
    net.class_names = _class_names(architecture.get("class_names"), where)
    return net


def _class_names(value: object, where: str) -> list[str] | None:
    """The stored class names: null, or a list of at most MAX_CLASSES short strings."""
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or not 1 <= len(value) <= MAX_CLASSES
        or not all(isinstance(name, str) and len(name) <= MAX_NAME for name in value)
    ):
        raise ModelFileError(
            f"{where}: class_names must be a list of 1 to {MAX_CLASSES} strings of at most {MAX_NAME} characters"
        )
    return list(value)
