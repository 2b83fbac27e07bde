"""A run's per-epoch snapshots: model files kept after every epoch, for watching a network learn.

`glassnet train --keep-epochs` (or `fit(callbacks=[keep_epochs(folder)])`) saves the model after
each epoch as FOLDER/epoch-001.npz, epoch-002.npz, ...; the folder beside MODEL.npz is
MODEL-epochs/. `glassnet serve` puts a slider over them and `glassnet report` shows the first
layer's filters epoch by epoch. Each snapshot is a whole model file (a small model's is a few
hundred kB), so keep them for small models or when asked.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from glassnet.errors import InputError
from glassnet.network.hooks import EpochFunction
from glassnet.network.network import Network

EPOCH_FILE = re.compile(r"^epoch-(\d+)\.npz$")


def epochs_folder(model: str | os.PathLike[str]) -> Path:
    """The folder of per-epoch snapshots that belongs to a model file: MODEL.npz -> MODEL-epochs/."""
    path = Path(model)
    return path.with_name(f"{path.name.removesuffix('.npz')}-epochs")


def keep_epochs(folder: str | os.PathLike[str]) -> EpochFunction:
    """A fit callback saving the model after each epoch as folder/epoch-NNN.npz (the folder is created).

    Args:
        folder: where to keep the snapshots.
    """
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)

    def save_epoch(net: Network, epoch: int, logs: dict[str, float]) -> None:
        net.save(path / f"epoch-{epoch:03d}.npz")

    return save_epoch


def epoch_files(folder: str | os.PathLike[str]) -> list[tuple[int, Path]]:
    """The snapshots in a folder as (epoch, path), by epoch; empty when there is none."""
    path = Path(folder)
    if not path.is_dir():
        return []
    found = [(int(match.group(1)), entry) for entry in path.iterdir() if (match := EPOCH_FILE.match(entry.name))]
    return sorted(found)


def load_run(path: str | os.PathLike[str]) -> tuple[Network, dict[int, Network]]:
    """The model to show and its per-epoch snapshots (epoch -> network), from a model file or a run folder.

    A model file brings the snapshots of its MODEL-epochs/ folder if there is one; a folder of
    snapshots shows its last epoch.

    Args:
        path: a model file, or a folder holding epoch-NNN.npz files.
    """
    path = Path(path)
    if path.is_dir():
        found = epoch_files(path)
        if not found:
            raise InputError(f"{path} holds no epoch-NNN.npz snapshots: pass a model file, or train with --keep-epochs")
        epochs = {epoch: Network.load(file) for epoch, file in found}
        return epochs[found[-1][0]], epochs
    return Network.load(path), {epoch: Network.load(file) for epoch, file in epoch_files(epochs_folder(path))}
