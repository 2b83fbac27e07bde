"""Model files: a network's architecture, weights and training state in one .npz, saved atomically.

Entries (each a .npy array in an uncompressed zip, read with allow_pickle=False):
    format_version              int64 scalar, FORMAT_VERSION
    architecture                JSON text: network hyper-parameters, layers (type, config), loss,
                                optimizer (type, config), input_shape
    training                    JSON text: epoch, rng (bit-generator state), optimizer (steps, state
                                keys per parameter), history (its keys)
    parameters/<layer>/<name>   each layer's Parameters (weight, bias, gamma, beta)
    buffers/<layer>/<name>      BatchNorm's running_mean and running_var
    optimizer/<param>/<key>     the optimizer's state per parameter (velocity; m, v)
    history/<key>               float64 per-epoch metrics (loss, accuracy, val_loss, ...)
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from glassnet.architecture import (
    ARCHITECTURE_KEYS,
    NETWORK_KEYS,
    build_layer,
    build_optimizer,
    check_keys,
    describe,
    layer_specs,
)
from glassnet.atomic import atomic_write
from glassnet.errors import GlassnetError, ModelFileError, UnsaveableError
from glassnet.layers import Layer
from glassnet.losses import LOSSES
from glassnet.network import Network
from glassnet.npzfile import NpzReader, write_npz
from glassnet.optimizers import Optimizer
from glassnet.parameter import Parameter
from glassnet.trainstate import check_training, restore_training, state_entries, training_state

FORMAT_VERSION = 1
HEADER_ENTRIES = ("format_version", "architecture", "training")
NONNEGATIVE_BUFFERS = {"running_var"}
PathLike = str | os.PathLike[str]


def save_network(net: Network, path: PathLike) -> None:
    """Write the network, with its training state, to path as a model file, atomically.

    Args:
        net: a network of built-in layers, loss and optimizer.
        path: the file; a crash mid-save leaves the previous file intact.
    """
    training, state_arrays = training_state(net)
    arrays: dict[str, np.ndarray] = {
        "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
        "architecture": np.array(json.dumps(describe(net), allow_nan=False)),
        "training": np.array(json.dumps(training, allow_nan=False)),
    }
    for index, layer in enumerate(net.layers):
        named = {f"parameters/{index}/{k}": v.value for k, v in vars(layer).items() if isinstance(v, Parameter)}
        named |= {f"buffers/{index}/{name}": buffer for name, buffer in layer.buffers().items()}
        arrays |= {entry: np.asarray(value) for entry, value in named.items()}
    arrays |= state_arrays
    for entry, value in arrays.items():
        if entry.startswith(("parameters/", "buffers/", "optimizer/")) and (
            value.dtype.kind != "f" or not np.isfinite(value).all()
        ):
            raise UnsaveableError(
                f"{entry} must hold finite floats, found dtype {value.dtype} with NaN or infinite values or not "
                "floats: training diverged or a value was set by hand; the file was not written"
            )
    with atomic_write(path) as f:
        write_npz(f, arrays)


def load_network(path: PathLike) -> Network:
    """Read a model file or checkpoint; ModelFileError for anything that is not a valid one.

    Args:
        path: the file written by save_network (or Network.save, or fit's checkpoint).
    """
    with open(path, "rb") as f:
        reader = NpzReader(f, os.fspath(path))
        try:
            return _load(reader)
        finally:
            reader.close()


def _load(reader: NpzReader) -> Network:
    """Check every entry against the architecture, then build the network. Args: reader: the file."""
    where = reader.label
    _check_version(reader)
    architecture = check_keys(_read_json(reader, "architecture"), f"{where}: architecture", ARCHITECTURE_KEYS)
    optimizer = build_optimizer(architecture["optimizer"], where)
    training = check_training(_read_json(reader, "training"), type(optimizer).__name__, where)
    specs = layer_specs(architecture["layers"], where)
    shapes = {f"parameters/{s.index}/{name}": shape for s in specs for name, shape in s.parameters.items()}
    shapes |= {f"buffers/{s.index}/{name}": shape for s in specs for name, shape in s.buffers.items()}
    needed = shapes.keys() | state_entries(training, where).keys()
    _check_entries(reader, needed | set(HEADER_ENTRIES), shapes)
    arrays = {entry: reader.read(entry) for entry in sorted(needed)}
    for entry in shapes:
        value = arrays[entry]
        if not np.isfinite(value).all() or (entry.rsplit("/", 1)[1] in NONNEGATIVE_BUFFERS and (value < 0).any()):
            raise ModelFileError(f"{where}: {entry} holds NaN, infinite or out-of-range values: the model is unusable")
    layers = [
        build_layer(
            spec,
            {
                name: arrays[f"{kind}/{spec.index}/{name}"]
                for kind, group in (("parameters", spec.parameters), ("buffers", spec.buffers))
                for name in group
            },
            where,
        )
        for spec in specs
    ]
    net = _network(architecture, optimizer, layers, where)
    restore_training(net, training, arrays, where)
    return net


def _check_version(reader: NpzReader) -> None:
    """Refuse a file without format_version, or of another version. Args: reader: the file."""
    header = reader.headers.get("format_version")
    if header is None or header.shape != () or header.dtype.kind not in "iu":
        raise ModelFileError(f"{reader.label}: not a glassnet model file (no format_version entry)")
    version = int(reader.read("format_version"))
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{reader.label}: model file format {version} was written by a newer glassnet; this one reads "
            f"format {FORMAT_VERSION}: upgrade glassnet (pip install -U glassnet)"
        )
    if version != FORMAT_VERSION:
        raise ModelFileError(f"{reader.label}: unknown model file format {version}; expected {FORMAT_VERSION}")


def _read_json(reader: NpzReader, entry: str) -> Any:
    """Parse a JSON text entry (no NaN or Infinity). Args: reader: the file; entry: its name."""
    header = reader.headers.get(entry)
    if header is None or header.shape != () or header.dtype.kind != "U":
        raise ModelFileError(f"{reader.label}: entry {entry!r} is missing or is not a JSON text")
    text = str(reader.read(entry)[()])
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise ModelFileError(f"{reader.label}: entry {entry!r} is not valid JSON: {error}") from None


def _reject_constant(name: str) -> None:
    """Refuse NaN and Infinity in JSON. Args: name: the constant met."""
    raise ValueError(f"{name} is not allowed")


def _check_entries(reader: NpzReader, needed: set[str], shapes: dict[str, tuple[Any, ...]]) -> None:
    """Every needed entry present, none unknown, arrays of the shapes the architecture implies.

    Args:
        reader: the file, its headers parsed.
        needed: every entry the JSON implies.
        shapes: parameter and buffer entry -> the shape its layer's config implies.
    """
    missing, unknown = needed - reader.headers.keys(), reader.headers.keys() - needed
    if missing or unknown:
        raise ModelFileError(f"{reader.label}: missing entries {sorted(missing)}, unknown entries {sorted(unknown)}")
    for entry, shape in shapes.items():
        header = reader.headers[entry]
        if header.shape != shape or header.dtype.kind != "f":
            raise ModelFileError(
                f"{reader.label}: the architecture implies {entry} of shape {shape}, the file stores "
                f"{header.shape} of {header.dtype}: the file is corrupt or was edited"
            )


def _network(architecture: dict[str, Any], optimizer: Optimizer, layers: list[Layer], where: str) -> Network:
    """The Network around the rebuilt layers. Args: architecture: JSON; optimizer, layers: built; where: file."""
    settings = check_keys(architecture["network"], f"{where}: architecture.network", set(NETWORK_KEYS))
    seed, loss, input_shape = settings["seed"], architecture["loss"], architecture["input_shape"]
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
        raise ModelFileError(f"{where}: the seed must be null or an int >= 0, found {seed!r}")
    if loss is not None and (not isinstance(loss, str) or loss not in LOSSES):
        raise ModelFileError(f"{where}: unknown loss {loss!r}; known: {', '.join(LOSSES)}")
    if input_shape is not None and (
        not isinstance(input_shape, list)
        or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in input_shape)
    ):
        raise ModelFileError(f"{where}: input_shape must be null or a list of ints >= 1, found {input_shape!r}")
    try:
        net = Network(**{key: settings[key] for key in NETWORK_KEYS if key != "seed"}, optimizer=optimizer, seed=seed)
        if loss is not None:
            net.use(loss)
        net.layers = layers
        net.layer_shapes(None if input_shape is None else tuple(input_shape))
    except (GlassnetError, TypeError, ValueError) as error:
        raise ModelFileError(f"{where}: the stored network is inconsistent: {error}") from None
    net.input_shape = None if input_shape is None else tuple(input_shape)
    return net


def resume_training(net: Network, path: PathLike) -> None:
    """Give net the weights, optimizer, generator and history of a checkpoint of the same network.

    Args:
        net: a network built like the one that wrote the checkpoint.
        path: the checkpoint (any model file).
    """
    loaded = load_network(path)
    mine, theirs = describe(net), describe(loaded)
    for key in ("layers", "loss"):
        if mine[key] != theirs[key]:
            raise ModelFileError(
                f"{os.fspath(path)}: cannot resume, the checkpoint's {key} differ from this network's:\n"
                f"  checkpoint: {theirs[key]}\n  this network: {mine[key]}\n"
                "build the network exactly as the run that wrote the checkpoint"
            )
    if mine["optimizer"]["type"] != theirs["optimizer"]["type"]:
        raise ModelFileError(
            f"{os.fspath(path)}: cannot resume, the checkpoint was trained with {theirs['optimizer']['type']}, "
            f"this network uses {mine['optimizer']['type']}: use the same optimizer"
        )
    for layer, stored in zip(net.layers, loaded.layers, strict=True):
        for name, param in vars(stored).items():
            if isinstance(param, Parameter):  # same architecture: the same Parameters exist in layer
                target = getattr(layer, name)
                target.value, target.grad = param.value, None
        for name, buffer in stored.buffers().items():
            setattr(layer, name, buffer)
    net.optimizer, net.rng, net.history = loaded.optimizer, loaded.rng, loaded.history
    net.input_shape = loaded.input_shape or net.input_shape
    for layer in net.layers:
        layer.initialize(net.rng)  # Dropout takes the restored generator; parameters exist, none is drawn
