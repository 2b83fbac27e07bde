"""Training state: optimizer state and steps, the generator and the history, captured once for all uses.

The same capture serves the rollback of a diverged epoch (glassnet.network.loop) and the
training entries of model files and checkpoints (glassnet.io.model_file), which store:

    training                    JSON text: epoch, rng (bit-generator state), optimizer (steps, state
                                keys per parameter), history (its keys), and, when fit had
                                callbacks with state, callbacks ([{type, state}] of numbers)
    optimizer/<param>/<key>     the optimizer's state per parameter (velocity; m, v)
    history/<key>               float64 per-epoch metrics (loss, accuracy, val_loss, ...); since model
                                file format 3 also history/batch_loss, the training loss of each batch
                                (past 100 batches an epoch: means of consecutive ones), end to end,
                                and history/batch_points, how many of those each epoch added (a file
                                from before has neither; a run continued from it has them for its
                                last epochs only)
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from glassnet.errors import ModelFileError, UnsaveableError
from glassnet.io.contract import SavedNetwork
from glassnet.io.schema import OPTIMIZER_STATE_KEYS, SCALAR_STATE, check_keys
from glassnet.parameter import Parameter

BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
HISTORY_KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")
BATCH_LOSS, BATCH_POINTS = "batch_loss", "batch_points"  # the per-batch history: flat, and its count per epoch
NONNEGATIVE_STATE = {"v", "square_avg", "sum"}  # second moments: a negative one would give NaN steps


@dataclass
class TrainingState:
    """Everything training changes besides the layers' arrays.

    Args:
        optimizer_state: per parameter, the optimizer's arrays by name.
        optimizer_steps: the optimizer's step count.
        rng_state: the network generator's bit-generator state.
        history: the per-epoch metrics.
        callbacks: each callback's type and state after the last epoch (glassnet.network.hooks).
    """

    optimizer_state: list[dict[str, np.ndarray]]
    optimizer_steps: int
    rng_state: dict[str, Any]
    history: dict[str, list[float]]
    callbacks: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def capture(cls, net: SavedNetwork) -> TrainingState:
        """Copies of the network's training state, unaffected by what training does next."""
        return cls(
            [{key: array.copy() for key, array in state.items()} for state in net.optimizer.state],
            net.optimizer.steps,
            dict(net.rng.bit_generator.state),
            {key: list(values) for key, values in net.history.items()},
            copy.deepcopy(net.callback_states),
        )

    def restore(self, net: SavedNetwork) -> None:
        """Give the network this state (copies, so it can be restored again); the generator in place."""
        net.optimizer.state = [{key: array.copy() for key, array in state.items()} for state in self.optimizer_state]
        net.optimizer.steps = self.optimizer_steps
        if type(net.rng.bit_generator).__name__ == self.rng_state["bit_generator"]:
            net.rng.bit_generator.state = self.rng_state
        else:
            net.rng = np.random.Generator(getattr(np.random, self.rng_state["bit_generator"])(0))
            net.rng.bit_generator.state = self.rng_state
        net.history.update({key: list(values) for key, values in self.history.items()})
        net.callback_states = copy.deepcopy(self.callbacks)

    # Files --------------------------------------------------------------------------------------

    def entries(self, params: list[Parameter]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """The "training" JSON and the arrays stored beside it.

        Args:
            params: the network's parameters, which the optimizer state must match.
        """
        states = self.optimizer_state if len(self.optimizer_state) == len(params) else []  # step() resets it
        arrays: dict[str, np.ndarray] = {}
        for index, (state, param) in enumerate(zip(states, params, strict=False)):
            for key, value in state.items():
                if np.shape(value) != (() if key in SCALAR_STATE else param.shape):
                    raise UnsaveableError(
                        f"optimizer state {key!r} of parameter {index} has shape {np.shape(value)}, the parameter "
                        f"{param.shape}: the layers changed since the last step; call net.optimizer.state.clear()"
                    )
                arrays[f"optimizer/{index}/{key}"] = np.asarray(value)
        for key, values in self.history.items():
            arrays[f"history/{key}"] = np.asarray(values, dtype=np.float64)
        info = {
            "epoch": len(self.history["loss"]),
            "rng": rng_to_json(self.rng_state),
            "optimizer": {"steps": int(self.optimizer_steps), "state": [sorted(state) for state in states]},
            "history": list(self.history),
        }
        if any(entry["state"] for entry in self.callbacks):
            info["callbacks"] = self.callbacks
        return info, arrays

    @classmethod
    def read(
        cls, info: dict[str, Any], arrays: dict[str, np.ndarray], params: list[Parameter], where: str
    ) -> TrainingState:
        """The state a file stores, every array checked against the network it was built into.

        Args:
            info: the training JSON, checked by check_training.
            arrays: entry name -> array for every entry state_entries named.
            params: the rebuilt network's parameters.
            where: the file's name, for messages.
        """
        rng_state = _checked_rng(info["rng"], where)
        history = {key: arrays[f"history/{key}"] for key in info["history"]}
        for key, values in history.items():
            if values.ndim != 1 or values.dtype.kind != "f" or (len(values) > info["epoch"] and key != BATCH_LOSS):
                raise ModelFileError(
                    f"{where}: history/{key} must be a float vector of at most {info['epoch']} entries"
                )
        _check_batch_history(history, where)
        if len(history["loss"]) != info["epoch"]:
            raise ModelFileError(
                f"{where}: training.epoch is {info['epoch']} but history/loss has {len(history['loss'])}"
            )
        states = info["optimizer"]["state"]
        if states and len(states) != len(params):
            raise ModelFileError(
                f"{where}: optimizer state for {len(states)} parameters, the network has {len(params)}"
            )
        restored = []
        for index, (keys, param) in enumerate(zip(states, params, strict=False)):
            state = {key: arrays[f"optimizer/{index}/{key}"] for key in keys}
            for key, value in state.items():
                if key in SCALAR_STATE:
                    if value.shape != () or value.dtype.kind not in "iu" or not value >= 1:
                        raise ModelFileError(f"{where}: optimizer/{index}/{key} must be an integer >= 1")
                    continue
                bad = value.shape != param.shape or value.dtype.kind != "f" or not np.isfinite(value).all()
                if bad or (key in NONNEGATIVE_STATE and (value < 0).any()):
                    raise ModelFileError(
                        f"{where}: optimizer/{index}/{key} must be finite floats of the parameter's shape "
                        f"{param.shape}" + (" and >= 0" if key in NONNEGATIVE_STATE else "")
                    )
            restored.append(state)
        histories = {key: values.tolist() for key, values in history.items()}
        return cls(restored, info["optimizer"]["steps"], rng_state, histories, info.get("callbacks", []))


def _check_batch_history(history: dict[str, np.ndarray], where: str) -> None:
    """batch_points counts (whole numbers >= 0) adding up to batch_loss's length; both or neither.

    Args:
        history: the file's history arrays, each already a float vector.
        where: the file, for messages.
    """
    if (BATCH_LOSS in history) != (BATCH_POINTS in history):
        raise ModelFileError(f"{where}: history/{BATCH_LOSS} and history/{BATCH_POINTS} come together")
    if BATCH_POINTS not in history:
        return
    counts = history[BATCH_POINTS]
    if not (np.isfinite(counts).all() and (counts >= 0).all() and (counts == np.round(counts)).all()):
        raise ModelFileError(f"{where}: history/{BATCH_POINTS} must hold whole numbers >= 0")
    if counts.sum() != len(history[BATCH_LOSS]):
        raise ModelFileError(
            f"{where}: history/{BATCH_POINTS} adds up to {counts.sum():g} but history/{BATCH_LOSS} has "
            f"{len(history[BATCH_LOSS])} values"
        )


def rng_to_json(state: dict[str, Any]) -> dict[str, Any]:
    """A bit-generator state with arrays as lists (JSON-ready). Args: state: the state."""
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


def _checked_rng(value: object, where: str) -> dict[str, Any]:
    """A stored bit-generator state, checked by loading it. Args: value: the JSON; where: the file."""
    name = value.get("bit_generator") if isinstance(value, dict) else None
    if not isinstance(name, str) or name not in BIT_GENERATORS:
        raise ModelFileError(f"{where}: training.rng must be the state of one of {', '.join(BIT_GENERATORS)}")
    bit_generator = getattr(np.random, name)(0)
    try:
        bit_generator.state = value
    except (TypeError, ValueError, KeyError, IndexError, OverflowError) as error:
        raise ModelFileError(f"{where}: training.rng is not a valid {name} state: {error}") from None
    state: dict[str, Any] = bit_generator.state
    return state


def state_entries(info: dict[str, Any]) -> set[str]:
    """The array entries a checked training JSON needs (history and optimizer state).

    Args:
        info: the training JSON, already checked by check_training.
    """
    entries = {f"history/{key}" for key in info["history"]}
    for index, keys in enumerate(info["optimizer"]["state"]):
        entries.update(f"optimizer/{index}/{key}" for key in keys)
    return entries


def check_training(value: object, optimizer: str, where: str) -> dict[str, Any]:
    """The training JSON checked for structure and types. Args: value: JSON; optimizer: type; where: file."""
    info = check_keys(value, f"{where}: training", {"epoch", "rng", "optimizer", "history"}, {"callbacks"})
    _check_callback_states(info.get("callbacks", []), where)
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
    allowed = OPTIMIZER_STATE_KEYS[optimizer]
    for keys in opt["state"]:
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys) or frozenset(keys) not in allowed:
            accepted = " or ".join(str(sorted(option)) for option in allowed)
            raise ModelFileError(f"{where}: training.optimizer.state entries must be {accepted}, not {keys!r}")
    return info


def _check_callback_states(value: object, where: str) -> None:
    """Callback states: a list of {"type": name, "state": {name: number or null}}. Args: value: JSON; where: file."""
    ok = isinstance(value, list) and all(
        isinstance(entry, dict)
        and set(entry) == {"type", "state"}
        and isinstance(entry["type"], str)
        and isinstance(entry["state"], dict)
        and all(
            item is None or (isinstance(item, (int, float)) and not isinstance(item, bool))
            for item in entry["state"].values()
        )
        for entry in value
    )
    if not ok:
        raise ModelFileError(f'{where}: training.callbacks must list {{"type": name, "state": {{name: number}}}}')


def _count(value: object) -> bool:
    """True for an int >= 0 (not a bool). Args: value: the JSON value."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
