"""Safe .npz files: written uncompressed without pickle, read header first so no size is trusted blindly."""

from __future__ import annotations

import contextlib
import math
import struct
import tokenize
import warnings
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from glassnet.errors import ModelFileError

MAX_HEADER = 10_000  # bytes of .npy header dict, NumPy's own default limit
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip timestamps: the same arrays always give the same bytes
ARRAY_KINDS = "biufU"  # bool, integers, floats and unicode text; never objects or records
# What the zip and .npy parsers raise on malformed bytes; turned into ModelFileError.
_PARSE_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    OSError,
    ValueError,
    struct.error,
    tokenize.TokenError,  # from NumPy's parsing of an .npy header
    SyntaxError,
    TypeError,  # a header dict whose values have the wrong types
    UserWarning,  # NumPy's warning for a Python 2 header, which no glassnet file has
    OverflowError,
    NotImplementedError,
    RuntimeError,
    KeyError,
    IndexError,
    UnicodeDecodeError,
)


@dataclass(frozen=True)
class ArrayHeader:
    """What a member's .npy header declares, checked against the member's size.

    Args:
        shape: the array's shape.
        dtype: its element type.
    """

    shape: tuple[int, ...]
    dtype: np.dtype


def write_npz(f: BinaryIO, arrays: Mapping[str, np.ndarray]) -> None:
    """Write arrays as an uncompressed .npz (a zip of .npy files) into an open binary file.

    Args:
        f: the file, open for writing.
        arrays: name -> array; names may contain "/"; dtypes must be of ARRAY_KINDS.
    """
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=FIXED_TIME)
            with archive.open(info, "w", force_zip64=array.nbytes > 1 << 30) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


@contextlib.contextmanager
def _parsing(label: str, what: str) -> Iterator[None]:
    """Turn the parsers' exceptions into a ModelFileError. Args: label: file name; what: the step."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            yield
    except ModelFileError:
        raise
    except _PARSE_ERRORS as error:
        raise ModelFileError(
            f"{label}: {what} failed ({type(error).__name__}: {error}): the file is corrupt, truncated, "
            "or not a glassnet model file; save the model again with net.save(path)"
        ) from None


class NpzReader:
    """An .npz opened for checked reading: every .npy header is parsed and checked on opening.

    Args:
        f: the file, open for binary reading and seekable.
        label: its name, for error messages.
    """

    def __init__(self, f: BinaryIO, label: str) -> None:
        self.label = label
        size = f.seek(0, 2)
        f.seek(0)
        with _parsing(label, "reading the zip directory"):
            self._zip = zipfile.ZipFile(f)
            infos = self._zip.infolist()
        names = [info.filename for info in infos]
        if len(set(names)) != len(names):
            raise ModelFileError(f"{label}: the zip archive names an entry twice: the file is corrupt")
        self._infos = {name.removesuffix(".npy"): info for name, info in zip(names, infos, strict=True)}
        self.headers: dict[str, ArrayHeader] = {}
        for key, info in self._infos.items():
            with _parsing(label, f"reading the header of entry {key!r}"):
                self.headers[key] = self._header(key, info, size)

    def _header(self, key: str, info: zipfile.ZipInfo, size: int) -> ArrayHeader:
        """Parse and check one member's .npy header. Args: key: entry; info: member; size: file bytes."""
        where = f"{self.label}: entry {key!r}"
        if not info.filename.endswith(".npy") or info.is_dir():
            raise ModelFileError(f"{where}: expected a .npy array, found {info.filename!r}")
        if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
            raise ModelFileError(f"{where}: expected an uncompressed, unencrypted member: save the model with net.save")
        if info.compress_size != info.file_size or info.file_size > size:
            raise ModelFileError(f"{where}: claims {info.file_size} bytes in a {size}-byte file: truncated or corrupt")
        with self._zip.open(info) as member:
            version = np.lib.format.read_magic(member)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(member, max_header_size=MAX_HEADER)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(member, max_header_size=MAX_HEADER)
            else:
                raise ModelFileError(f"{where}: .npy format version {version} is not supported (1.0 and 2.0 are)")
            header_bytes = member.tell()
        if dtype.hasobject or dtype.kind not in ARRAY_KINDS or dtype.fields is not None or dtype.subdtype is not None:
            raise ModelFileError(f"{where}: dtype {dtype} is not allowed (numbers and text only, never objects)")
        if any(d < 0 for d in shape):
            raise ModelFileError(f"{where}: negative dimension in shape {shape}")
        data_bytes = math.prod(shape) * dtype.itemsize
        if header_bytes + data_bytes != info.file_size:
            raise ModelFileError(
                f"{where}: header says shape {shape} of {dtype} ({data_bytes} bytes of data) but the entry holds "
                f"{info.file_size - header_bytes}: truncated or corrupt file"
            )
        return ArrayHeader(tuple(shape), dtype)

    def read(self, key: str) -> np.ndarray:
        """The entry's array in native byte order, its CRC checked. Args: key: the entry's name."""
        with _parsing(self.label, f"reading entry {key!r}"), self._zip.open(self._infos[key]) as member:
            array = np.lib.format.read_array(member, allow_pickle=False, max_header_size=MAX_HEADER)
            if member.read(1):  # also reaches the end of the member, where zipfile checks the CRC
                raise ModelFileError(f"{self.label}: entry {key!r} has data after its array: corrupt file")
        return array.astype(array.dtype.newbyteorder("="), copy=False)

    def close(self) -> None:
        """Close the zip archive (not the underlying file)."""
        self._zip.close()
