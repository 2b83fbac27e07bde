"""Saves are durable: the new file's data is fsynced before the rename, and its folder after it.

os.fsync and os.replace (or os.rename) are wrapped to record the order of the calls (and still do their work).
Each fsync is told apart by what its descriptor is: a regular file (which one, and how many bytes
it holds at that moment) or the folder the file lands in.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn

Event = tuple[str, int, int]  # ("file", inode, size) | ("folder", inode, 0) | ("replace", inode of the source, 0)


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> list[Event]:
    """The fsync and replace (or rename) calls made during the test, in order."""
    recorded: list[Event] = []
    real_fsync, real_replace, real_rename = os.fsync, os.replace, os.rename

    def fsync(fd: int) -> None:
        info = os.fstat(fd)
        kind = "folder" if stat.S_ISDIR(info.st_mode) else "file"
        recorded.append((kind, info.st_ino, info.st_size if kind == "file" else 0))
        real_fsync(fd)

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        recorded.append(("replace", os.stat(src).st_ino, 0))
        real_replace(src, dst)

    def rename(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        recorded.append(("replace", os.stat(src).st_ino, 0))
        real_rename(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "rename", rename)
    return recorded


def small_net() -> gn.Network:
    net = gn.Network(seed=0, verbose=0).add(gn.Dense(3, 2)).add(gn.Softmax()).use("cross_entropy")
    net.input_shape = (3,)
    return net


def save_model(path: Path) -> None:
    small_net().save(path)


def save_checkpoint(path: Path) -> None:
    x, y = np.zeros((4, 3), dtype=np.float32), np.array([0, 1, 0, 1])
    small_net().fit(x, y, epochs=1, checkpoint=path)


def save_onnx(path: Path) -> None:
    pytest.importorskip("onnx")
    small_net().to_onnx(path)


@pytest.mark.parametrize("save", [save_model, save_checkpoint, save_onnx], ids=["save", "checkpoint", "onnx"])
@pytest.mark.parametrize("existing", [False, True], ids=["new file", "replacing one"])
def test_the_file_is_synced_before_the_rename_and_its_folder_after(
    save: Callable[[Path], None], existing: bool, events: list[Event], tmp_path: Path
) -> None:
    path = tmp_path / "model.out"
    if existing:
        path.write_bytes(b"the old contents")
    save(path)
    final = os.stat(path)
    folder = os.stat(tmp_path).st_ino
    # the last save into the folder: fsync of the written file, then its rename, then the folder's fsync
    renames = [i for i, event in enumerate(events) if event[0] == "replace"]
    assert renames, f"no os.replace or os.rename recorded: {events}"
    last = renames[-1]
    assert events[last] == ("replace", final.st_ino, 0)  # the file renamed is the file now there
    before, after = events[:last], events[last + 1 :]
    assert ("file", final.st_ino, final.st_size) in before  # synced whole (flushed first), before the rename
    assert ("folder", folder, 0) in after  # the rename made durable
