"""The reproducibility card: what made a model, recorded by every fit and saved in its model file.

`net.card` is a JSON-able dict:

    {"fits": [ {                           # one entry per fit call, in order
         "environment": environment(),     # glassnet, NumPy, BLAS, Python, platform, threads, fast path
         "command": "glassnet train ...",  # sys.argv as one shell line
         "date": "2026-12-02T08:45:00+00:00",  # when the fit started, UTC (cards from before have none)
         "seed": 0, "data": {"x": SHA-256, "y": ..., "samples": N}, "validation": {...} or None,
         "settings": {epochs, learning_rate, batch_size, shuffle, validation_split, callbacks, ...},
         "optimizer": {"type": ..., "config": ...}, "epochs_before": 0,
         "start": {"weights": SHA-256, "generator": SHA-256},
         "blas_threads": [[batch, count], ...] }, ...],   # the BLAS threads of each batch, from then on
     "evaluation": {"data": ..., "images": N, "accuracy": ..., "loss": ..., "seconds": ...}}
                                           # glassnet train's test of the saved model (optional)

`glassnet reproduce MODEL` (apps/reproduce.py) rebuilds the network from its architecture and
seed, checks the start against the card, replays every fit on the data whose hash matches, and
compares the weights bit for bit.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import platform
import shlex
import sys
import threading
import types
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import numpy as np

from glassnet.layers.maxpool2x2 import fast_enabled
from glassnet.network.data import is_dataset
from glassnet.parameter import Parameter

if TYPE_CHECKING:
    from glassnet.network.network import Network

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
CHUNK = 1 << 20  # bytes hashed per step: the unit in which the hashing thread and finish take turns
END = object()  # what next() gives once a generator of steps is exhausted
Result = TypeVar("Result")


def environment() -> dict[str, Any]:
    """The versions, BLAS and its CPU kernel, threads and fast path of this process: what can change a run's bits."""
    from glassnet import __version__  # the package's top: imported at call time, never at import time

    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas_text = f"{blas.get('name')} {blas.get('version')}"
    except (TypeError, KeyError, AttributeError):  # NumPy < 1.26 has no mode="dicts"
        blas_text = "unknown"
    return {
        "glassnet": __version__,
        "numpy": np.__version__,
        "blas": blas_text,
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "blas_kernel": blas_kernel(),
        "threads": {name: os.environ.get(name) for name in THREAD_VARIABLES},
        "fast_path": fast_enabled(),
    }


def command_line() -> str:
    """This process's command as one shell line; the glassnet command as `glassnet ARGS` wherever it is installed."""
    program = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path()
    is_glassnet = program.name == "glassnet" or program.parts[-2:] == ("glassnet", "__main__.py")
    return shlex.join(["glassnet", *sys.argv[1:]] if is_glassnet else sys.argv)


def blas_kernel() -> str | None:
    """The CPU kernel the BLAS chose (OpenBLAS: "Haswell", "SkylakeX", ...): another kernel sums in another order."""
    from threadpoolctl import threadpool_info

    kernels = sorted({str(info.get("architecture")) for info in threadpool_info() if info["user_api"] == "blas"})
    return ", ".join(kernels) or None


def array_hash(*arrays: np.ndarray) -> str:
    """SHA-256 of the arrays' dtypes, shapes and bytes, in order."""
    return finished(array_hash_steps(*arrays))


def array_hash_steps(*arrays: np.ndarray) -> Generator[None, None, str]:
    """array_hash, yielding after each CHUNK bytes hashed; returns the hex digest."""
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        data = array.data.cast("B")  # the bytes, without a copy
        for start in range(0, len(data), CHUNK):
            digest.update(data[start : start + CHUNK])
            yield
    return digest.hexdigest()


def data_record_steps(x: object, y: object) -> Generator[None, None, dict[str, Any] | None]:
    """The hashes and size of a data set as given to fit, or None for data that is not arrays; step by step."""
    if is_dataset(x):  # read batch by batch: hashing would read (and decode) all of it
        return None
    try:
        xa, ya = np.asarray(x), np.asarray(y)
    except (TypeError, ValueError):
        return None
    if xa.dtype == object or ya.dtype == object:
        return None
    x_hash = yield from array_hash_steps(xa)
    y_hash = yield from array_hash_steps(ya)
    return {"x": x_hash, "y": y_hash, "samples": len(xa), "shape": list(xa.shape)}


def finished(steps: Generator[None, None, Result]) -> Result:
    """Run a generator of steps to its end; returns what it returns."""
    while True:
        try:
            next(steps)
        except StopIteration as end:
            return cast(Result, end.value)


def weights_hash(params: Sequence[Parameter]) -> str:
    """SHA-256 of every parameter value, in order."""
    return array_hash(*(param.value for param in params))


def generator_hash(rng: np.random.Generator) -> str:
    """SHA-256 of a generator's state."""
    return hashlib.sha256(json.dumps(rng.bit_generator.state, sort_keys=True, default=str).encode()).hexdigest()


def record_fit(
    net: Network,
    x: object,
    y: object,
    validation: tuple[object, object] | None,
    epochs: int,
    batch_size: int,
    shuffle: bool,
) -> None:
    """Append this fit's record to net.card, at the start of fit (after the arguments are checked).

    Args:
        net: the network about to train (its optimizer holds this fit's learning rate).
        x, y: the training data as given.
        validation: the validation data as given, or None.
        epochs: the number of epochs this fit trains.
        batch_size, shuffle: as fit uses them.
    """
    from glassnet.io.schema import describe  # io's description of the optimizer, as model files hold it

    try:
        optimizer = describe(net)["optimizer"]
    except ValueError:  # a custom layer, loss or optimizer: the card cannot hold them either
        optimizer = None
    net.card.pop("evaluation", None)  # it measured the weights this fit is about to change
    net.card.setdefault("fits", []).append(
        {
            "environment": environment(),
            "command": command_line(),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "seed": net.seed,
            "data": None,  # hashed on a thread while training starts (below)
            "validation": None,
            "settings": {
                "epochs": epochs,
                "learning_rate": float(net.optimizer.learning_rate),
                "batch_size": batch_size,
                "shuffle": shuffle,
            },
            "optimizer": optimizer,
            "epochs_before": len(net.history["loss"]),
            "start": {"weights": weights_hash(net.parameters()), "generator": generator_hash(net.rng)},
            "blas_threads": [],  # filled while training (glassnet.threads.ThreadTuner)
        }
    )
    net.card_hashing = DataHashing(net.card["fits"][-1], x, y, validation)


def record_steps(
    record: dict[str, Any], x: object, y: object, validation: tuple[object, object] | None
) -> Iterator[None]:
    """Fill a fit record's data hashes, yielding after each chunk."""
    record["data"] = yield from data_record_steps(x, y)
    record["validation"] = None if validation is None else (yield from data_record_steps(*validation))


class DataHashing:
    """A fit record's data hashes, computed on a thread at the lowest priority; `finish` completes them.

    SHA-256 of MNIST takes 0.15 s. On a thread of normal priority it took one of two cores from
    BLAS threads that wait for each other, and an MLP's epoch went from 0.63 s to 0.94 s. At the
    lowest priority the thread gets only the cycles training leaves (hashlib releases the GIL);
    `finish` hashes what is left in the calling thread, so a busy machine cannot starve it.

    Args:
        record: the fit's entry in net.card, whose "data" and "validation" are filled.
        x, y, validation: the data as fit was given it.
    """

    def __init__(self, record: dict[str, Any], x: object, y: object, validation: tuple[object, object] | None) -> None:
        self.steps = record_steps(record, x, y, validation)
        self.lock = threading.Lock()  # one thread at a time advances the steps
        self.done = self.stopping = False
        self.thread = threading.Thread(target=self._work, name="glassnet-data-hash", daemon=True)
        self.thread.start()

    def _work(self) -> None:
        lowest_priority()
        while not self.stopping and self._advance():
            pass

    def _advance(self) -> bool:
        """Hash the next chunk; False once everything is hashed."""
        with self.lock:
            if not self.done:
                self.done = next(self.steps, END) is END
            return not self.done

    def finish(self) -> None:
        """Hash what the thread has not, here and now; the record is complete when this returns."""
        self.stopping = True
        while self._advance():
            pass
        self.thread.join()


def lowest_priority() -> None:
    """Give the calling thread the lowest scheduling priority (Linux: each thread has its own nice value)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):  # no per-thread priority here (macOS, Windows): the thread runs as is
        return


def card_complete(net: Network) -> dict[str, Any]:
    """net.card once the last fit's data hashes are in: what model files save."""
    if net.card_hashing is not None:
        net.card_hashing.finish()
        net.card_hashing = None
    return net.card


def card_settings(
    validation_split: float, clip_norm: float | None, callbacks: Sequence[object], resume: object, distributed: bool
) -> dict[str, Any]:
    """The rest of a fit's settings: clipping, and the callbacks by qualified name (their code cannot be recorded)."""
    names = [
        callback.__qualname__ if isinstance(callback, types.FunctionType) else type(callback).__qualname__
        for callback in callbacks
    ]
    split = float(validation_split)
    clip = None if clip_norm is None else float(clip_norm)
    return {
        "validation_split": split,
        "clip_norm": clip,
        "callbacks": names,
        "resume": resume is not None,
        "distributed": distributed,
    }
