"""`glassnet reproduce MODEL`: retrain a model from its reproducibility card and compare the weights bit for bit.

The network is rebuilt from the file's architecture with the recorded seed and optimizer; its
initial weights are checked against the card's hash; each recorded fit is replayed on the data
whose SHA-256 matches the card (searched among the data sets at hand: MNIST is shipped, and the
first N images of each split are tried, as `glassnet train --limit N` uses them), with the
recorded fast path and the BLAS thread count each batch ran with. The result says whether every
weight is identical and, if not, which recorded setting differs from this machine.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_info

from glassnet.datasets import load_fashion_mnist, load_mnist
from glassnet.errors import InputError
from glassnet.io.schema import build_layer, build_optimizer, describe
from glassnet.layers.maxpool2x2 import fast_enabled, set_fast
from glassnet.network.card import array_hash, environment, weights_hash
from glassnet.network.network import Network
from glassnet.threads import ThreadLog, replaying

Loader = Callable[[], tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]]
LOADERS: dict[str, Loader] = {"MNIST": load_mnist, "Fashion-MNIST": load_fashion_mnist}


@dataclass
class Reproduction:
    """What `reproduce` found: identical or not, the differences that may explain it, and what was replayed.

    Args:
        identical: every weight (and the history, seconds aside) equal bit for bit.
        replayed: one line per fit replayed (data found, epochs).
        differences: recorded settings that differ from this machine or from the replay.
        largest: the largest absolute weight difference (0.0 when identical).
    """

    identical: bool = False
    replayed: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    largest: float = 0.0

    def __str__(self) -> str:
        lines = [*self.replayed]
        if self.identical:
            lines.append("bit-identical: every weight and the history match the model file")
        else:
            lines.append(f"NOT identical: the weights differ by up to {self.largest:.3g}")
        if self.differences:
            lines.append("recorded settings that differ here:" if not self.identical else "(settings that differ here:")
            lines += [f"  - {line}" for line in self.differences]
            if self.identical:
                lines[-1] += ")"
        elif not self.identical:
            lines.append("no recorded setting differs: the difference comes from something the card does not hold")
        return "\n".join(lines)


def reproduce(path: str | Path, loaders: dict[str, Loader] | None = None) -> Reproduction:
    """Retrain the model file at path from its card and compare.

    Args:
        path: a model file written by glassnet with a card (format 2).
        loaders: where to look for the data, by name (default: MNIST and Fashion-MNIST).
    """
    saved = Network.load(path)
    fits = saved.card.get("fits", [])
    if not fits:
        raise InputError(
            f"{path} has no reproducibility card of a training run (written before glassnet recorded one, or "
            "never trained): nothing to reproduce"
        )
    result = Reproduction()
    net = _rebuild(saved, fits[0])
    for number, record in enumerate(fits, start=1):
        result.differences += _environment_differences(number, record["environment"])
        if weights_hash(net.parameters()) != record["start"]["weights"]:
            result.differences.append(
                f"fit {number} started from other weights than recorded (set by hand, or drawn by other code)"
            )
        x, y, found = _find(record["data"], loaders or LOADERS)
        validation = None
        if record["validation"] is not None:
            vx, vy, _ = _find(record["validation"], loaders or LOADERS)
            validation = (vx, vy)
        settings = record["settings"]
        _note_callbacks(record, result)
        was = fast_enabled()
        set_fast(bool(record["environment"]["fast_path"]))
        log = _thread_log(number, record, result)
        try:
            with replaying(log) if log is not None else contextlib.nullcontext():
                net.fit(
                    x, y, epochs=settings["epochs"], learning_rate=settings["learning_rate"],
                    batch_size=settings["batch_size"], shuffle=settings["shuffle"], validation_data=validation,
                    validation_split=settings["validation_split"], clip_norm=settings.get("clip_norm"),
                    verbose=0, doctor=False,
                )  # fmt: skip
        finally:
            set_fast(was)
        result.replayed.append(f"fit {number}: {settings['epochs']} epochs on {found}")
    return _compare(saved, net, result)


def _rebuild(saved: Network, first: dict[str, Any]) -> Network:
    """The untrained network: the saved architecture, the recorded seed and the optimizer as at the first fit."""
    architecture = describe(saved)
    where = "the model's architecture"
    optimizer = build_optimizer(first["optimizer"] or architecture["optimizer"], where)
    settings = architecture["network"]
    net = Network(settings["epochs"], settings["learning_rate"], settings["batch_size"], optimizer, first["seed"], 0)
    for index, spec in enumerate(architecture["layers"]):
        net.add(build_layer(spec["type"], spec["config"], f"{where}, layer {index}"))
    if architecture["loss"] is not None:
        net.use(architecture["loss"])
    net.schedule, net.augment = saved.schedule, saved.augment  # functions of the step: the same from the start
    return net


def _thread_log(number: int, record: dict[str, Any], result: Reproduction) -> ThreadLog | None:
    """The fit's recorded BLAS thread counts to replay, or None (an older card, or a malformed entry)."""
    log: ThreadLog | None = record.get("blas_threads")
    valid = isinstance(log, list) and all(
        isinstance(pair, list) and len(pair) == 2 and all(type(n) is int and n >= 0 for n in pair) and pair[1] >= 1
        for pair in log
    )
    if not valid:
        result.differences.append(f"fit {number}: the card's BLAS thread counts are malformed: not replayed")
    if not valid or not log:
        return None
    most = max([info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"] + [1])
    recorded = max(count for _, count in log)
    if recorded > most:
        result.differences.append(f"fit {number}: BLAS ran up to {recorded} threads, at most {most} here")
    return log


def _find(record: dict[str, Any] | None, loaders: dict[str, Loader]) -> tuple[np.ndarray, np.ndarray, str]:
    """The (x, y) whose hashes the card records, from the data sets at hand."""
    if record is None:
        raise InputError("the card holds no hash of the training data (it was not arrays): cannot find it")
    n = record["samples"]
    for name, x, y in _candidates(loaders, n):
        if array_hash(x) == record["x"] and array_hash(y) == record["y"]:
            return x, y, name
    raise InputError(
        f"the training data ({n} samples of shape {tuple(record['shape'][1:])}, SHA-256 of x {record['x'][:12]}...) "
        f"is not among the data sets at hand ({', '.join(loaders)}, first N of each split): cannot retrain"
    )


def _candidates(loaders: dict[str, Loader], n: int) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    for name, load in loaders.items():
        try:
            (x_train, y_train), (x_test, y_test) = load()
        except (OSError, ValueError):  # not downloaded here: look elsewhere
            continue
        for split, x, y in (("training", x_train, y_train), ("test", x_test, y_test)):
            if len(x) >= n:
                yield f"the first {n} {name} {split} images", x[:n], y[:n]


def _note_callbacks(record: dict[str, Any], result: Reproduction) -> None:
    """Name the fit's callbacks, whose code the card cannot hold, as a possible cause of a difference.

    glassnet train's --keep-epochs snapshots (save_epoch) change no weight and are left out.
    """
    names = [name for name in record["settings"]["callbacks"] if name != "save_epoch"]
    if names:
        result.differences.append(f"the run used callbacks {names}, whose code the card cannot hold: not replayed")


def _environment_differences(number: int, recorded: dict[str, Any]) -> list[str]:
    """Each recorded environment value that differs from this machine, as 'name: recorded X, here Y'."""
    here = environment()
    return [
        f"fit {number}: {key} recorded {recorded.get(key)!r}, here {value!r}"
        for key, value in here.items()
        if key != "fast_path" and recorded.get(key) != value  # the fast path is replayed as recorded
    ]


def _compare(saved: Network, net: Network, result: Reproduction) -> Reproduction:
    """Bit-for-bit comparison of the weights, buffers (BatchNorm's statistics) and history (seconds aside)."""
    largest = 0.0
    same = True
    pairs = [(a.value, b.value) for a, b in zip(saved.parameters(), net.parameters(), strict=True)]
    for mine, theirs in zip(saved.layers, net.layers, strict=True):
        pairs += [(array, theirs.buffers()[name]) for name, array in mine.buffers().items()]
    for a, b in pairs:
        if a.dtype != b.dtype or not np.array_equal(a, b):
            same = False
            if a.shape == b.shape:
                largest = max(largest, float(np.abs(a.astype(np.float64) - b).max(initial=0)))
    for key, values in saved.history.items():
        if key != "seconds" and values != net.history[key]:
            same = False
            result.differences.append(f"the history's {key} differs")
    result.identical, result.largest = same, largest
    return result
