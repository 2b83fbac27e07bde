"""Run folders: each `glassnet train` gets its own `runs/MODEL-N/`, never overwriting an earlier run.

runs/cnn-3/
  model.npz      the trained model (written at the end)
  last.npz       the checkpoint after the last complete epoch (resume it with --resume)
  best.npz       the checkpoint of the epoch with the best validation accuracy
  history.csv    one row per epoch
  curves.png     the training curves, when matplotlib is installed
  run.json       the command, every hyper-parameter, the seed, the data, versions, threads, timings
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

import numpy as np

from glassnet.io.atomic import atomic_write
from glassnet.io.state import BATCH_LOSS, BATCH_POINTS
from glassnet.network.network import Network

MAX_RUNS = 100_000  # run numbers tried before giving up (a folder holding that many runs is a mistake)


class RunFolder:
    """One run's folder, its files, and the record of how the run went.

    Args:
        path: the folder, already created.
        record: what run.json holds so far (command, hyper-parameters, data...).
    """

    def __init__(self, path: Path, record: dict[str, Any]) -> None:
        self.path = path
        self.model, self.last, self.best = path / "model.npz", path / "last.npz", path / "best.npz"
        self.history, self.curves, self.json = path / "history.csv", path / "curves.png", path / "run.json"
        self.record = {"started": _now(), "status": "running", **record, "versions": versions()}
        self.best_accuracy = -1.0
        self.write_record()

    @classmethod
    def create(cls, root: str | os.PathLike[str], name: str, record: dict[str, Any]) -> RunFolder:
        """A new folder root/NAME-N, N one more than the highest existing; never an existing one.

        Args:
            root: the folder of runs ("runs").
            name: the model's name.
            record: what run.json starts with.
        """
        base = Path(root)
        base.mkdir(parents=True, exist_ok=True)
        taken = [entry.name[len(name) + 1 :] for entry in base.iterdir() if entry.name.startswith(f"{name}-")]
        number = max((int(n) for n in taken if n.isdigit()), default=0) + 1
        for candidate in range(number, number + MAX_RUNS):
            try:
                (base / f"{name}-{candidate}").mkdir()  # atomic: two runs started at once get different folders
            except FileExistsError:
                continue
            return cls(base / f"{name}-{candidate}", record)
        raise FileExistsError(f"{base}: no free run number after {name}-{number}: clean up old runs")

    def keep_best(self, net: Network, epoch: int, logs: dict[str, float]) -> None:
        """A fit callback: save best.npz when the validation accuracy beats every earlier epoch's."""
        accuracy = logs.get("val_accuracy", logs.get("accuracy"))
        if accuracy is not None and accuracy > self.best_accuracy:
            self.best_accuracy = accuracy
            net.save(self.best)
            self.record["best"] = {"epoch": epoch, "accuracy": accuracy}

    def finish(self, net: Network, status: str, **results: Any) -> None:
        """Write history.csv, curves.png (with matplotlib) and the final run.json.

        Args:
            net: the trained network.
            status: "finished" or "interrupted".
            results: what else run.json records (test accuracy, seconds).
        """
        self.write_history(net.history)
        self.record.update(status=status, ended=_now(), epochs_done=len(net.history["loss"]), **results)
        self.record["epoch_seconds"] = [round(s, 3) for s in net.history["seconds"]]
        try:
            from glassnet.apps.plotting import save_figure, training_curves

            save_figure(training_curves(net.history, title=self.path.name), self.curves)
            self.record["curves"] = self.curves.name
        except ImportError:  # matplotlib is an extra: the curves are in history.csv
            pass
        self.write_record()

    def write_history(self, history: dict[str, list[float]]) -> None:
        """history.csv: epoch and every recorded per-epoch metric, one row per epoch (the per-batch losses are not)."""
        keys = [key for key, values in history.items() if values and key not in (BATCH_LOSS, BATCH_POINTS)]
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(["epoch", *keys])
        for epoch in range(len(history["loss"])):
            writer.writerow([epoch + 1, *(f"{history[key][epoch]:.6g}" for key in keys)])
        with atomic_write(self.history) as f:
            f.write(text.getvalue().encode())

    def write_record(self) -> None:
        """run.json, atomically."""
        with atomic_write(self.json) as f:
            f.write(json.dumps(self.record, indent=2, default=str).encode() + b"\n")


def versions() -> dict[str, Any]:
    """glassnet's, NumPy's and Python's versions, the platform and the CPU threads available."""
    from glassnet import __version__

    threads = {key: os.environ[key] for key in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS") if key in os.environ}
    return {
        "glassnet": __version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "thread_settings": threads,
    }


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
