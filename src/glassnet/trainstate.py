"""The training state of a model file: epoch, history, optimizer state and the generator's state."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet.architecture import OPTIMIZER_STATE_KEYS, check_keys
from glassnet.errors import ModelFileError, UnsaveableError

if TYPE_CHECKING:
    from glassnet.network import Network

BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
HISTORY_KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")
NONNEGATIVE_STATE = {"v"}  # Adam's second moment: a negative one would give NaN steps


def training_state(net: Network) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The training state as JSON-ready data and the arrays to store beside it.

    Args:
        net: the network.
    """
    optimizer, params = net.optimizer, net.parameters()
    states = optimizer.state if len(optimizer.state) == len(params) else []  # step() would reset a stale one
    arrays: dict[str, np.ndarray] = {}
    for index, (state, param) in enumerate(zip(states, params, strict=False)):
        for key, value in state.items():
            if np.shape(value) != param.shape:
                raise UnsaveableError(
                    f"optimizer state {key!r} of parameter {index} has shape {np.shape(value)}, the parameter "
                    f"{param.shape}: the layers changed since the last step; call net.optimizer.state.clear()"
                )
            arrays[f"optimizer/{index}/{key}"] = np.asarray(value)
    for key, values in net.history.items():
        arrays[f"history/{key}"] = np.asarray(values, dtype=np.float64)
    info = {
        "epoch": len(net.history["loss"]),
        "rng": rng_to_json(net.rng),
        "optimizer": {"steps": int(optimizer.steps), "state": [sorted(state) for state in states]},
        "history": list(net.history),
    }
    return info, arrays


def rng_to_json(rng: np.random.Generator) -> dict[str, Any]:
    """The generator's bit-generator state with arrays as lists (JSON-ready). Args: rng: the generator."""
    state = rng.bit_generator.state
    if state.get("bit_generator") not in BIT_GENERATORS:
        raise UnsaveableError(
            f"net.rng uses the bit generator {state.get('bit_generator')!r}; model files store "
            f"{', '.join(BIT_GENERATORS)}: use np.random.default_rng"
        )
    jsonable: dict[str, Any] = _jsonable(state)
    return jsonable


def _jsonable(value: Any) -> Any:
    """Nested dicts with arrays and NumPy ints turned into lists and ints. Args: value: the state."""
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return [int(v) for v in value.ravel()]
    return int(value) if isinstance(value, np.integer) else value


def rng_from_json(value: object, where: str) -> np.random.Generator:
    """A generator in the stored state. Args: value: the parsed JSON; where: file name for messages."""
    name = value.get("bit_generator") if isinstance(value, dict) else None
    if not isinstance(name, str) or name not in BIT_GENERATORS:
        raise ModelFileError(f"{where}: training.rng must be the state of one of {', '.join(BIT_GENERATORS)}")
    bit_generator = getattr(np.random, name)(0)
    try:
        bit_generator.state = value
    except (TypeError, ValueError, KeyError, IndexError, OverflowError) as error:
        raise ModelFileError(f"{where}: training.rng is not a valid {name} state: {error}") from None
    return np.random.Generator(bit_generator)


def state_entries(info: dict[str, Any], where: str) -> dict[str, str]:
    """Entry name -> role ("optimizer" or "history") of the arrays a checked training state needs.

    Args:
        info: the training JSON, already checked by check_training.
        where: the file's name, for messages.
    """
    entries = {f"history/{key}": "history" for key in info["history"]}
    for index, keys in enumerate(info["optimizer"]["state"]):
        entries.update({f"optimizer/{index}/{key}": "optimizer" for key in keys})
    return entries


def check_training(value: object, optimizer: str, where: str) -> dict[str, Any]:
    """The training JSON checked for structure and types. Args: value: JSON; optimizer: type; where: file."""
    info = check_keys(value, f"{where}: training", {"epoch", "rng", "optimizer", "history"})
    if not _count(info["epoch"]):
        raise ModelFileError(f"{where}: training.epoch must be an int >= 0, found {info['epoch']!r}")
    history = info["history"]
    if not isinstance(history, list) or "loss" not in history or len(set(map(str, history))) != len(history):
        raise ModelFileError(f'{where}: training.history must list distinct history keys, "loss" among them')
    for key in history:
        if not isinstance(key, str) or not HISTORY_KEY.fullmatch(key):
            raise ModelFileError(f"{where}: training.history has an invalid key {key!r}")
    opt = check_keys(info["optimizer"], f"{where}: training.optimizer", {"steps", "state"})
    if not _count(opt["steps"]) or not isinstance(opt["state"], list):
        raise ModelFileError(f"{where}: training.optimizer needs steps (an int >= 0) and state (a list)")
    allowed = sorted(OPTIMIZER_STATE_KEYS[optimizer])
    for keys in opt["state"]:
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys) or sorted(keys) not in ([], allowed):
            raise ModelFileError(f"{where}: training.optimizer.state entries must be [] or {allowed}, not {keys!r}")
    return info


def _count(value: object) -> bool:
    """True for an int >= 0 (not a bool). Args: value: the JSON value."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def restore_training(net: Network, info: dict[str, Any], arrays: dict[str, np.ndarray], where: str) -> None:
    """Give a freshly built network the stored history, optimizer state and generator state.

    Args:
        net: the network, its layers holding the stored parameters.
        info: the checked training JSON.
        arrays: entry name -> array for every entry state_entries named.
        where: the file's name, for messages.
    """
    rng = rng_from_json(info["rng"], where)
    history = {key: arrays[f"history/{key}"] for key in info["history"]}
    for key, values in history.items():
        if values.ndim != 1 or values.dtype.kind != "f" or len(values) > info["epoch"]:
            raise ModelFileError(f"{where}: history/{key} must be a float vector of at most {info['epoch']} entries")
    if len(history["loss"]) != info["epoch"]:
        raise ModelFileError(f"{where}: training.epoch is {info['epoch']} but history/loss has {len(history['loss'])}")
    params, states = net.parameters(), info["optimizer"]["state"]
    if states and len(states) != len(params):
        raise ModelFileError(f"{where}: optimizer state for {len(states)} parameters, the network has {len(params)}")
    restored = []
    for index, (keys, param) in enumerate(zip(states, params, strict=False)):
        state = {key: arrays[f"optimizer/{index}/{key}"] for key in keys}
        for key, value in state.items():
            bad = value.shape != param.shape or value.dtype.kind != "f" or not np.isfinite(value).all()
            if bad or (key in NONNEGATIVE_STATE and (value < 0).any()):
                raise ModelFileError(
                    f"{where}: optimizer/{index}/{key} must be finite floats of the parameter's shape {param.shape}"
                    + (" and >= 0" if key in NONNEGATIVE_STATE else "")
                )
        restored.append(state)
    net.optimizer.state, net.optimizer.steps = restored, info["optimizer"]["steps"]
    net.history.update({key: values.tolist() for key, values in history.items()})
    net.rng = rng
    for layer in net.layers:
        layer.initialize(net.rng)  # Dropout takes the restored generator; parameters exist, none is drawn
