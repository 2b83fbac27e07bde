"""Model files: a network's architecture, weights and training state in one .npz, saved atomically.

Entries (each a .npy array in an uncompressed zip, read with allow_pickle=False):
    format_version              int64 scalar, FORMAT_VERSION
    architecture                JSON text: network hyper-parameters, layers (type, config), loss,
                                optimizer (type, config), input_shape, and when set: schedule,
                                augment (type, config), class_names (the names of the outputs)
    parameters/<layer>/<name>   each layer's Parameters (weight, bias, gamma, beta)
    buffers/<layer>/<name>      BatchNorm's running_mean and running_var
    training, optimizer/..., history/...   the training state (glassnet.io.state)
    card                        JSON text, since format 2: the reproducibility card (what made the
                                model: versions, threads, seed, data hashes, hyper-parameters,
                                command; glassnet.network.card). Format 1 files, without it, load
                                with an empty card.
    Format 3 adds the per-batch history (history/batch_loss, history/batch_points); files of
    formats 1 and 2 load as before, without it.

The stored architecture is checked and built into a network by glassnet.io.model_build.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from glassnet.errors import ModelFileError, UnsaveableError
from glassnet.io.atomic import atomic_write
from glassnet.io.contract import SavedNetwork
from glassnet.io.files import open_regular
from glassnet.io.limits import DEFAULT_LIMITS, Limits
from glassnet.io.model_build import Shapes, build_network, check_size, layer_specs
from glassnet.io.npz import NpzReader, write_npz
from glassnet.io.schema import (
    ARCHITECTURE_KEYS,
    OPTIONAL_ARCHITECTURE_KEYS,
    build_optimizer,
    check_keys,
    describe,
    read_augment,
    read_schedule,
)
from glassnet.io.state import TrainingState, check_training, state_entries
from glassnet.layers import Layer

FORMAT_VERSION = 3  # 3: the history may hold per-batch losses (glassnet.io.state), which format 2 readers refuse
READABLE_VERSIONS = (1, 2, 3)
HEADER_ENTRIES = ("format_version", "architecture", "training")
CARD_ENTRY = "card"  # format 2 on, optional
NONNEGATIVE_BUFFERS = {"running_var"}
STEP_ENTRY = "/step"  # optimizer/<param>/step: Adam's per-parameter step count, an int64
PathLike = str | os.PathLike[str]


def save_network(net: SavedNetwork, path: PathLike) -> None:
    """Write the network, with its training state, to path as a model file, atomically.

    Args:
        net: a network of built-in layers, loss and optimizer.
        path: the file; a crash mid-save leaves the previous file intact.
    """
    training, state_arrays = TrainingState.capture(net).entries(net.parameters())
    arrays: dict[str, np.ndarray] = {
        "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
        "architecture": _json_entry("architecture", describe(net)),
        "training": _json_entry("training", training),
        CARD_ENTRY: _json_entry(CARD_ENTRY, net.card),
    }
    for index, layer in enumerate(net.layers):
        named = {f"parameters/{index}/{name}": param.value for name, param in layer.named_parameters().items()}
        named |= {f"buffers/{index}/{name}": buffer for name, buffer in layer.buffers().items()}
        arrays |= {entry: np.asarray(value) for entry, value in named.items()}
    arrays |= state_arrays
    for entry, value in arrays.items():
        if (
            entry.startswith(("parameters/", "buffers/", "optimizer/"))
            and not entry.endswith(STEP_ENTRY)
            and (value.dtype.kind != "f" or not np.isfinite(value).all())
        ):
            raise UnsaveableError(
                f"{entry} must hold finite floats, found dtype {value.dtype} with NaN or infinite values or not "
                "floats: training diverged or a value was set by hand; the file was not written"
            )
    with atomic_write(path) as f:
        write_npz(f, arrays)


def _json_entry(entry: str, value: object) -> np.ndarray:
    """value as the JSON text of a model file's entry; NaN and infinities, which no loader reads back, refused."""
    try:
        return np.array(json.dumps(value, allow_nan=False))
    except ValueError:
        raise UnsaveableError(
            f"the model file's {entry} entry would hold NaN or an infinite number (the optimizer's settings, the "
            "history, a callback's state or the card, set by hand or by a callback): JSON cannot hold it; "
            "the file was not written"
        ) from None


def load_network(
    path: PathLike, limits: Limits = DEFAULT_LIMITS, custom_layers: Mapping[str, type[Layer]] | None = None
) -> SavedNetwork:
    """Read a model file or checkpoint; ModelFileError for anything that is not a valid one.

    Args:
        path: the file written by save_network (or Network.save, or fit's checkpoint); anything but
            a regular file (a FIFO, a device) is refused before it is read.
        limits: the largest network accepted (glassnet.io.limits), checked before the weights are read.
        custom_layers: classes for the file's custom layers by stored name, besides those registered
            with gn.register_layer.
    """
    with open_regular(path) as f:
        reader = NpzReader(f, os.fspath(path))
        try:
            return _load(reader, limits, dict(custom_layers or {}))
        finally:
            reader.close()


def _load(reader: NpzReader, limits: Limits, custom_layers: dict[str, type[Layer]]) -> SavedNetwork:
    """Check every entry against the architecture, then build the network.

    Args:
        reader: the file.
        limits: sizes.
        custom_layers: classes of custom layers by stored name.
    """
    where = reader.label
    _check_version(reader)
    architecture = check_keys(
        _read_json(reader, "architecture"), f"{where}: architecture", ARCHITECTURE_KEYS, OPTIONAL_ARCHITECTURE_KEYS
    )
    schedule, augment = read_schedule(architecture, where), read_augment(architecture, where)
    optimizer = build_optimizer(architecture["optimizer"], where)
    training = check_training(_read_json(reader, "training"), type(optimizer).__name__, where)
    specs = layer_specs(architecture["layers"], where, reader, custom_layers)
    shapes: Shapes = {}
    for index, (*_, (parameters, buffers)) in enumerate(specs):
        shapes |= {f"parameters/{index}/{name}": shape for name, shape in parameters.items()}
        shapes |= {f"buffers/{index}/{name}": shape for name, shape in buffers.items()}
    needed = shapes.keys() | state_entries(training)
    card = _read_card(reader)
    _check_entries(reader, needed | set(HEADER_ENTRIES) | ({CARD_ENTRY} if card is not None else set()), shapes)
    layers = check_size(specs, architecture["input_shape"], limits, where)
    arrays = {entry: reader.read(entry) for entry in sorted(needed)}
    for entry in shapes:
        value = arrays[entry]
        if not np.isfinite(value).all() or (entry.rsplit("/", 1)[1] in NONNEGATIVE_BUFFERS and (value < 0).any()):
            raise ModelFileError(f"{where}: {entry} holds NaN, infinite or out-of-range values: the model is unusable")
    for index, (layer, (*_, (parameters, buffers))) in enumerate(zip(layers, specs, strict=True)):
        layer.set_parameters({name: arrays[f"parameters/{index}/{name}"] for name in parameters})
        layer.set_buffers({name: arrays[f"buffers/{index}/{name}"] for name in buffers})
    net = build_network(architecture, optimizer, layers, where)
    net.schedule, net.augment = schedule, augment
    TrainingState.read(training, arrays, net.parameters(), where).restore(net)
    net.card = card if card is not None else {"fits": []}
    for layer in net.layers:
        layer.initialize(net.rng)  # Dropout takes the restored generator; parameters exist, none is drawn
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
    if version not in READABLE_VERSIONS:
        raise ModelFileError(
            f"{reader.label}: unknown model file format {version}; expected one of {list(READABLE_VERSIONS)}"
        )


def _read_card(reader: NpzReader) -> dict[str, Any] | None:
    """The reproducibility card (a JSON object with a list of fits), None in a file without one."""
    if CARD_ENTRY not in reader.headers:
        return None
    card = _read_json(reader, CARD_ENTRY)
    if not isinstance(card, dict) or not isinstance(card.get("fits"), list):
        raise ModelFileError(f"{reader.label}: entry 'card' must be a JSON object with a list 'fits'")
    return card


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
