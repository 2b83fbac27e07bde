"""The data cache folder, and downloading a file into it with size and checksum verification.

A download is capped at the file's known size (or MAX_DOWNLOAD when none is known) while it
runs, so a server that never stops cannot fill the disk; its MD5 is checked before the file is
renamed into place; a failure or Ctrl-C leaves nothing behind (glassnet.io.atomic). An https
address never follows a redirect to plain http.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from glassnet.datasets.idx import DataFormatError
from glassnet.errors import GlassnetError
from glassnet.io.atomic import atomic_write

_CHUNK = 1 << 16
MAX_DOWNLOAD = 64 * 2**20  # bytes of a file whose size is not known in advance (Fashion-MNIST's largest: 26 MB)


class _NoDowngrade(urllib.request.HTTPRedirectHandler):
    """Follow redirects, but never from https to another scheme."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
        if req.full_url.startswith("https:") and not newurl.startswith("https:"):
            raise urllib.error.URLError(f"refused a redirect from https to {newurl}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_NoDowngrade)


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


def download(
    url: str, dest: Path, *, md5: str, size: int | None = None, timeout: float = 30.0, progress: bool = True
) -> Path:
    """Download url to dest through a temp file, capped at its size, checking its MD5 before the atomic rename.

    Args:
        url: address of the file.
        dest: where the file goes; its folder must exist. Nothing is left there on failure or Ctrl-C.
        md5: expected MD5 hex digest of the downloaded bytes.
        size: its expected size in bytes; a server announcing or sending more is cut off at once.
            None: at most MAX_DOWNLOAD bytes.
        timeout: seconds to wait for the connection and for each read.
        progress: show a tqdm progress bar.

    Raises DownloadError when the transfer fails or runs past the size, DataFormatError on a checksum mismatch.
    """
    hint = f"if this machine is offline, fetch {url} elsewhere and put it at {dest}"
    cap = MAX_DOWNLOAD if size is None else size
    digest = hashlib.md5()
    try:
        with atomic_write(dest) as f, _OPENER.open(url, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            expected = int(length) if length and length.isascii() and length.isdigit() else None
            if expected is not None and expected > cap:
                raise DownloadError(f"{url} announces {expected} bytes, more than the {cap} expected; {hint}")
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
                    if received + len(chunk) > cap:
                        raise DownloadError(f"{url} sent more than the {cap} bytes expected: stopped; {hint}")
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
