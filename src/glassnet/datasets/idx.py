"""The IDX file format (MNIST's): strict reading, gzip or raw, and atomic writing."""

from __future__ import annotations

import gzip
import io
import math
import os
import zlib
from collections.abc import Callable

import numpy as np

from glassnet.errors import GlassnetError
from glassnet.io.atomic import atomic_write
from glassnet.io.files import open_regular

PathLike = str | os.PathLike[str]
Source = PathLike | bytes | bytearray | memoryview
Reader = Callable[[int], bytes | bytearray]

TYPE_CODES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_OF_KIND = {(dt.kind, dt.itemsize): code for code, dt in TYPE_CODES.items()}
_GZIP_MAGIC = b"\x1f\x8b"
_MAX_DEFLATE_RATIO = 1032  # deflate cannot expand one input byte into more than this
_MAX_NDIM = 32  # the most dimensions every supported NumPy version allows
_CHUNK = 1 << 20


class DataFormatError(GlassnetError, ValueError):
    """A data file (IDX, download or cache) whose content is not what it must be."""


def encode_header(dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
    """The IDX header for an array: magic (0, 0, type code, ndim) then each dimension.

    Args:
        dtype: element type; one of uint8, int8, int16, int32, float32, float64.
        shape: the array's shape, 1 to 32 dimensions, each below 2**32.
    """
    dtype = np.dtype(dtype)
    code = _CODE_OF_KIND.get((dtype.kind, dtype.itemsize))
    if code is None:
        names = ", ".join(str(dt.newbyteorder("=")) for dt in TYPE_CODES.values())
        raise TypeError(f"IDX stores {names}; got {dtype}: cast the array first, e.g. array.astype(np.int32)")
    if not 1 <= len(shape) <= _MAX_NDIM:
        raise ValueError(f"IDX needs 1 to {_MAX_NDIM} dimensions, got shape {shape}")
    if any(not 0 <= d < 2**32 for d in shape):
        raise ValueError(f"IDX dimensions must be below 2**32, got shape {shape}")
    return bytes([0, 0, code, len(shape)]) + b"".join(int(d).to_bytes(4, "big") for d in shape)


class _GzipStream:
    """Reads decompressed bytes from a gzip stream, never producing more than asked for."""

    def __init__(self, raw: io.BufferedIOBase, label: str) -> None:
        """Wrap an open binary gzip file. Args: raw: the file; label: its name for errors."""
        self._raw = raw
        self._label = label
        self._inflate = zlib.decompressobj(wbits=31)
        self._pending = b""

    def read(self, n: int) -> bytearray:
        """Up to n decompressed bytes, fewer only at the clean end of the data. Args: n: count."""
        out = bytearray()
        try:
            while len(out) < n:
                if self._inflate.eof and not self._next_member():
                    break
                if not self._pending:
                    self._pending = self._raw.read(_CHUNK)
                    if not self._pending:
                        raise DataFormatError(
                            f"{self._label}: the gzip stream ends early "
                            "(truncated file): expected more compressed data, "
                            "found end of file"
                        )
                out += self._inflate.decompress(self._pending, n - len(out))
                self._pending = self._inflate.unconsumed_tail
        except zlib.error as exc:
            raise DataFormatError(
                f"{self._label}: corrupt gzip data: expected a valid deflate stream, found zlib error {exc}"
            ) from None
        return out

    def _next_member(self) -> bool:
        """Start the next gzip member after the current one; False at the end of the file."""
        tail = self._inflate.unused_data
        if len(tail) < 2:
            tail += self._raw.read(_CHUNK)
        if not tail:
            return False
        if not tail.startswith(_GZIP_MAGIC):
            raise DataFormatError(
                f"{self._label}: expected end of file after the gzip stream, "
                f"found trailing data starting {tail[:8].hex()}"
            )
        self._inflate = zlib.decompressobj(wbits=31)
        self._pending = tail
        return True


def _parse(read: Reader, label: str, limit: int) -> np.ndarray:
    """Decode one IDX stream.

    Args:
        read: returns up to n bytes of the (decompressed) stream.
        label: the file's name for error messages.
        limit: the most bytes the whole stream can hold, header included.
    """
    magic = read(4)
    if len(magic) < 4:
        raise DataFormatError(f"{label}: expected a 4-byte IDX magic number, found {len(magic)} bytes of data")
    if magic[0] or magic[1]:
        raise DataFormatError(
            f"{label}: expected an IDX magic number starting with two zero "
            f"bytes, found {bytes(magic).hex()}: not an IDX file"
        )
    code, ndim = magic[2], magic[3]
    if code not in TYPE_CODES:
        known = ", ".join(f"0x{c:02X}" for c in TYPE_CODES)
        raise DataFormatError(f"{label}: expected an IDX type code ({known}), found 0x{code:02X}")
    if not 1 <= ndim <= _MAX_NDIM:
        raise DataFormatError(f"{label}: expected 1 to {_MAX_NDIM} dimensions, found {ndim}")
    raw_dims = read(4 * ndim)
    if len(raw_dims) < 4 * ndim:
        raise DataFormatError(
            f"{label}: expected {4 * ndim} bytes of dimensions for "
            f"{ndim} dimensions, found {len(raw_dims)} (truncated header)"
        )
    shape = tuple(int.from_bytes(raw_dims[i : i + 4], "big") for i in range(0, 4 * ndim, 4))
    dtype = TYPE_CODES[code]
    size = dtype.itemsize * math.prod(shape)
    limit = max(limit - 4 - 4 * ndim, 0)
    addressed = dtype.itemsize * math.prod(d for d in shape if d)  # what NumPy checks, even for an empty array
    if addressed > np.iinfo(np.intp).max:
        raise DataFormatError(
            f"{label}: header says shape {shape}: even with no data, its other dimensions span {addressed} "
            "bytes, more than NumPy can address: corrupt header"
        )
    if size > limit:
        raise DataFormatError(
            f"{label}: header says shape {shape} of {dtype.newbyteorder('=')} "
            f"= {size} bytes of data, but the file can hold at most {limit}: "
            "truncated file or corrupt header"
        )
    payload = read(size + 1)
    if len(payload) != size:
        found = "more (trailing data)" if len(payload) > size else f"{len(payload)} (truncated)"
        raise DataFormatError(f"{label}: expected {size} bytes of data for shape {shape}, found {found}")
    native = dtype.newbyteorder("=")
    return np.frombuffer(payload, dtype=dtype).astype(native, copy=False).reshape(shape)


def read_idx(source: Source) -> np.ndarray:
    """Read an IDX array, gzipped or raw (told apart by the gzip magic bytes), checked strictly.

    Args:
        source: a file path, or the file's bytes.

    Returns the array in native byte order. Raises DataFormatError for any malformed content
    (the header is checked against the data length before anything large is allocated),
    InputError for a path that is not a regular file and OSError when the file cannot be opened.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _read_stream(io.BytesIO(source), "<bytes>")
    with open_regular(source) as f:  # a FIFO or a device would block or read without end
        return _read_stream(f, os.fspath(source))  # type: ignore[arg-type]


def _read_stream(f: io.BufferedIOBase, label: str) -> np.ndarray:
    """Read an IDX array from an open seekable file. Args: f: the file; label: name for errors."""
    total = f.seek(0, io.SEEK_END)
    f.seek(0)
    if f.read(2) == _GZIP_MAGIC:
        f.seek(0)
        stream = _GzipStream(f, label)
        # The decompressed header counts towards the bound, which is slack, never too tight.
        return _parse(stream.read, label, _MAX_DEFLATE_RATIO * total)
    f.seek(0)

    def read_raw(n: int) -> bytearray:
        """Up to n bytes into a fresh buffer, so the array built on it is writable. Args: n."""
        buf = bytearray(n)
        del buf[f.readinto(buf) :]
        return buf

    return _parse(read_raw, label, total)


def write_idx(path: PathLike, array: np.ndarray, *, compress: bool | None = None) -> None:
    """Write an array as an IDX file atomically (temp file in the same folder, then rename).

    Args:
        path: destination file.
        array: uint8, int8, int16, int32, float32 or float64 array with 1 to 32 dimensions.
        compress: gzip the file; None (default) gzips when the name ends in ".gz".
    """
    array = np.asarray(array)
    header = encode_header(array.dtype, array.shape)
    data = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder(">")).reshape(-1)
    if compress is None:
        compress = os.fspath(path).endswith(".gz")
    with atomic_write(path) as f:
        if compress:
            with gzip.GzipFile(fileobj=f, mode="wb", compresslevel=6, mtime=0) as gz:
                gz.write(header)
                gz.write(data.view(np.uint8).data)
        else:
            f.write(header)
            f.write(data.view(np.uint8).data)
