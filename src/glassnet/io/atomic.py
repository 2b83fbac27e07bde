"""Atomic file writing: a file is replaced whole or not at all, even if the process dies mid-write.

Saving never replaces what is not a regular file (`/dev/null` stays a device), keeps the
permission bits of the file it replaces (a 0600 model stays 0600), and through a symbolic link
writes the link's target (the link stays a link). Errors name the path the caller gave, never
the temporary file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from glassnet.errors import InputError

PathLike = str | os.PathLike[str]
TEMP_NAME = 96  # characters of the final name kept in the temporary one, so long valid names fit


@contextlib.contextmanager
def atomic_write(path: PathLike) -> Iterator[BinaryIO]:
    """Open a temp file beside path's target for writing; on success fsync it and rename it onto the target.

    Args:
        path: the final file; it is never seen half-written, and on error nothing is left. A symbolic
            link is followed: its target is replaced. Anything existing there but a regular file is refused.
    """
    name = os.fspath(path)
    target = Path(os.path.realpath(path))
    mode = _existing_mode(target, name)
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name[:TEMP_NAME]}.", suffix=".tmp")
    except OSError as error:
        raise _named(error, name) from None
    try:
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask  # mkstemp makes it private; give the usual permissions
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(error, OSError) and error.filename in (tmp, os.fspath(target)):
            raise _named(error, name) from None
        raise
    _fsync_folder(target.parent)


def _existing_mode(target: Path, name: str) -> int | None:
    """The permission bits of the regular file at target, None if nothing is there; refuse anything else.

    Args:
        target: the resolved path.
        name: the path as given, for messages.
    """
    try:
        info = target.lstat()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise _named(error, name) from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "a device, FIFO or socket"
        raise InputError(f"{name}: is {kind}, not a regular file: saving would replace it; give a file name")
    return stat.S_IMODE(info.st_mode)


def _named(error: OSError, name: str) -> OSError:
    """The same OS error naming the user's path. Args: error: the error; name: the path given."""
    code = error.errno if error.errno is not None else errno.EIO
    return type(error)(code, error.strerror or str(error), name)


def _fsync_folder(folder: Path) -> None:
    """Make a rename in folder durable (POSIX); a no-op where folders cannot be opened.

    Args:
        folder: the folder whose entry changed.
    """
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
