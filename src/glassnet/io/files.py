"""Paths the user names: inputs opened only when they are regular files, outputs checked before any work.

A FIFO, a device (`/dev/zero`), a socket or a folder given as an input would hang or read without
end; `open_regular` refuses them after following links, without blocking, before reading a byte.
`check_output` refuses, when a command or `fit` starts, an output that cannot be written there or
that is not a regular file, and `check_distinct` an output that would overwrite an input.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from glassnet.errors import InputError

PathLike = str | os.PathLike[str]


def _kind(mode: int) -> str:
    """What a non-regular file is, in words. Args: mode: its st_mode."""
    for test, name in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


@contextlib.contextmanager
def open_regular(path: PathLike) -> Iterator[BinaryIO]:
    """Open path for binary reading if, after following links, it is a regular file; InputError if not.

    Opened with O_NONBLOCK so that a FIFO cannot block the open, then checked with fstat on the
    open descriptor (no window between the check and the read).

    Args:
        path: the file the user named; messages name it as given.
    """
    name = os.fspath(path)
    fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise InputError(f"{name}: is {_kind(mode)}, not a regular file: give the path of a file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as f:
        yield f


def read_regular_bytes(path: PathLike, limit: int) -> bytes:
    """The bytes of a regular file of at most limit bytes; InputError for a larger or special one.

    Args:
        path: the file.
        limit: the most bytes accepted.
    """
    with open_regular(path) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"{os.fspath(path)}: larger than {limit} bytes: this is not a file glassnet reads")
    return data


def check_output(path: PathLike, what: str = "output") -> Path:
    """Refuse now an output that could not be written later: no folder, a folder, a special file, read-only.

    Args:
        path: the file to be written (it may exist: it will be replaced).
        what: what the file is, for messages ("checkpoint", "report").

    Returns the path as a Path.
    """
    name, target = os.fspath(path), Path(os.path.realpath(path))
    if not name or name.endswith(os.sep):
        raise InputError(f"{what} {name!r} names a folder: give a file name")
    if not target.parent.is_dir():
        raise FileNotFoundError(f"{name}: no such folder {os.fspath(Path(name).parent)!r} to write the {what} in")
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        raise InputError(f"{name}: is {_kind(mode)}: the {what} must go to a regular file; give a file name")
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise PermissionError(f"{name}: cannot write the {what} there: the folder is not writable")
    return Path(name)


def same_file(a: PathLike, b: PathLike) -> bool:
    """True when two paths name the same file (through links too), existing or not. Args: a, b: paths."""
    with contextlib.suppress(OSError):
        return os.path.samefile(a, b)
    return os.path.realpath(a) == os.path.realpath(b)


def check_distinct(outputs: dict[str, PathLike | None], inputs: dict[str, PathLike | None]) -> None:
    """Refuse an output that names an input of the same command, or another output.

    Args:
        outputs: option name -> path written (None: not asked for).
        inputs: option name -> path read (None: not given).
    """
    given = [(name, path) for name, path in outputs.items() if path is not None]
    for index, (name, path) in enumerate(given):
        for other, source in [*given[index + 1 :], *((k, v) for k, v in inputs.items() if v is not None)]:
            if same_file(path, source):
                raise InputError(
                    f"{name} {os.fspath(path)} is the same file as {other} {os.fspath(source)}: writing it would "
                    f"destroy the other; choose another {name} path"
                )
