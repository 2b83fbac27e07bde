"""Tests for mutants that survived in io/atomic.py (docs/mutation.md): the refusal wording and the OS error paths."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
from glassnet.io import atomic


def net() -> gn.Network:
    return gn.Network(seed=0).add(gn.Dense(2, 2))


def test_a_folder_or_a_device_in_the_way_is_named_for_what_it_is(tmp_path: Path) -> None:
    (tmp_path / "model.npz").mkdir()
    with pytest.raises(gn.InputError, match=r"model\.npz: is a folder, not a regular file: saving would replace it"):
        net().save(tmp_path / "model.npz")
    if not Path("/dev/null").exists():
        pytest.skip("no /dev/null here")
    with pytest.raises(gn.InputError, match=r"^/dev/null: is a device, FIFO or socket, not a regular file"):
        net().save("/dev/null")


def test_an_os_error_reading_the_target_names_the_path_given(tmp_path: Path, monkeypatch) -> None:
    def denied(self: Path) -> os.stat_result:
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "lstat", denied)
    with pytest.raises(PermissionError) as raised:
        net().save(tmp_path / "m.npz")
    error = raised.value
    assert (error.errno, error.strerror, error.filename) == (errno.EACCES, "Permission denied", str(tmp_path / "m.npz"))


def test_an_os_error_without_a_code_becomes_eio_with_its_message() -> None:
    named = atomic._named(OSError("the disk went away"), "out.npz")
    assert (named.errno, named.strerror, named.filename) == (errno.EIO, "the disk went away", "out.npz")
    kept = atomic._named(FileExistsError(errno.EEXIST, "File exists"), "b.npz")
    assert type(kept) is FileExistsError and (kept.errno, kept.strerror, kept.filename) == (17, "File exists", "b.npz")


def test_a_folder_that_cannot_be_synced_does_not_fail_the_save(tmp_path: Path, monkeypatch) -> None:
    opened = os.open

    def no_folders(path: object, flags: int, *args: object) -> int:
        if Path(str(path)).is_dir():
            raise OSError(errno.EISDIR, "cannot open a folder here")
        return opened(path, flags, *args)

    monkeypatch.setattr(os, "open", no_folders)
    net().save(tmp_path / "m.npz")
    assert np.array_equal(gn.Network.load(tmp_path / "m.npz").parameters()[0].value, net().parameters()[0].value)
