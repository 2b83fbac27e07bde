"""The data cache folder, and downloading a file into it with checksum verification."""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from glassnet.datasets.idx import DataFormatError
from glassnet.errors import GlassnetError
from glassnet.io.atomic import atomic_write

_CHUNK = 1 << 16


class DownloadError(GlassnetError, OSError):
    """A download that could not be completed (network down, HTTP error, dropped connection)."""


def cache_dir() -> Path:
    """The data folder: $GLASSNET_DATA, else $XDG_CACHE_HOME/glassnet, else ~/.cache/glassnet."""
    if os.environ.get("GLASSNET_DATA"):
        return Path(os.environ["GLASSNET_DATA"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "glassnet"


def file_md5(path: Path) -> str:
    """The MD5 hex digest of a file's bytes. Args: path: the file."""
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(url: str, dest: Path, *, md5: str, timeout: float = 30.0, progress: bool = True) -> Path:
    """Download url to dest through a temp file, checking its MD5 before the atomic rename.

    Args:
        url: address of the file.
        dest: where the file goes; its folder must exist. Nothing is left there on failure.
        md5: expected MD5 hex digest of the downloaded bytes.
        timeout: seconds to wait for the connection and for each read.
        progress: show a tqdm progress bar.

    Raises DownloadError when the transfer fails and DataFormatError on a checksum mismatch.
    """
    hint = f"if this machine is offline, fetch {url} elsewhere and put it at {dest}"
    digest = hashlib.md5()
    try:
        with atomic_write(dest) as f, urllib.request.urlopen(url, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            expected = int(length) if length and length.isdigit() else None
            received = 0
            with tqdm(
                total=expected,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=dest.name,
                disable=not progress,
                leave=False,
            ) as bar:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    f.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
            if expected is not None and received != expected:
                raise DownloadError(
                    f"download of {url} was cut off: expected {expected} bytes, received {received}; retry, or {hint}"
                )
            if digest.hexdigest() != md5:
                raise DataFormatError(
                    f"download of {url} is corrupt: expected MD5 {md5}, found "
                    f"{digest.hexdigest()}; nothing was saved. Retry, or {hint}"
                )
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as exc:
        if isinstance(exc, urllib.error.HTTPError):
            reason: object = f"HTTP {exc.code} {exc.reason}"
        else:
            reason = getattr(exc, "reason", None) or exc
        raise DownloadError(f"could not download {url} ({type(exc).__name__}: {reason}); {hint}") from exc
    return dest
