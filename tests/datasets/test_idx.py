"""Tests for the IDX reader and writer: round trips, strict validation, fuzzing."""

import gzip
import os
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glassnet.datasets import DataFormatError, read_idx, write_idx
from glassnet.errors import InputError
from glassnet.io.atomic import atomic_write

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]
SHAPES = [(0,), (7,), (3, 4), (2, 3, 4), (2, 1, 3, 2), (0, 5)]


def idx_bytes(code: int, shape: tuple[int, ...], payload: bytes = b"") -> bytes:
    """Hand-built IDX bytes. Args: code: type code; shape: header dims; payload: the data."""
    dims = b"".join(d.to_bytes(4, "big") for d in shape)
    return bytes([0, 0, code, len(shape)]) + dims + payload


def sample(dtype: type, shape: tuple[int, ...]) -> np.ndarray:
    """A deterministic array with negative, large and fractional values where the dtype allows."""
    values = np.random.default_rng(0).uniform(-1e3, 1e3, size=shape)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        values = np.clip(values * 1e3, info.min, info.max)
    return values.astype(dtype)


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_round_trip(tmp_path: Path, dtype: type, shape: tuple[int, ...], compress: bool) -> None:
    array = sample(dtype, shape)
    path = tmp_path / "a.idx"
    write_idx(path, array, compress=compress)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    assert back.shape == shape
    np.testing.assert_array_equal(back, array)
    assert back.flags.writeable
    np.testing.assert_array_equal(read_idx(path.read_bytes()), array)


def test_big_endian_layout_on_disk(tmp_path: Path) -> None:
    write_idx(tmp_path / "a", np.array([1, -2], dtype=np.int16))
    assert (tmp_path / "a").read_bytes() == idx_bytes(0x0B, (2,), b"\x00\x01\xff\xfe")
    assert read_idx(idx_bytes(0x0D, (1,), b"\x3f\x80\x00\x00"))[0] == np.float32(1.0)


def test_gzip_detected_by_magic_not_name(tmp_path: Path) -> None:
    array = sample(np.int32, (3, 5))
    write_idx(tmp_path / "plain.gz", array, compress=False)
    write_idx(tmp_path / "packed.idx", array, compress=True)
    assert (tmp_path / "packed.idx").read_bytes()[:2] == b"\x1f\x8b"
    assert (tmp_path / "plain.gz").read_bytes()[:2] == b"\x00\x00"
    for name in ("plain.gz", "packed.idx"):
        np.testing.assert_array_equal(read_idx(tmp_path / name), array)


def test_compress_follows_name_by_default(tmp_path: Path) -> None:
    write_idx(tmp_path / "a.gz", np.zeros(3, np.uint8))
    write_idx(tmp_path / "a", np.zeros(3, np.uint8))
    assert (tmp_path / "a.gz").read_bytes()[:2] == b"\x1f\x8b"
    assert (tmp_path / "a").read_bytes()[:2] == b"\x00\x00"


def test_multi_member_gzip() -> None:
    raw = idx_bytes(0x08, (4,), b"\x01\x02\x03\x04")
    data = gzip.compress(raw[:6]) + gzip.compress(raw[6:])
    np.testing.assert_array_equal(read_idx(data), [1, 2, 3, 4])


def test_error_is_a_value_error_and_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.idx"
    path.write_bytes(b"\x00\x00\x08")
    with pytest.raises(ValueError, match=r"broken.idx"):
        read_idx(path)
    assert issubclass(DataFormatError, ValueError)


def test_missing_file_is_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope.idx")


GOOD = idx_bytes(0x0B, (2, 3), bytes(range(12)))

MALFORMED = {
    "empty": (b"", "4-byte IDX magic"),
    "short magic": (b"\x00\x00", "4-byte IDX magic"),
    "bad magic": (b"\x01\x02" + GOOD[2:], "two zero bytes"),
    "type code": (b"\x00\x00\x0a" + GOOD[3:], "type code"),
    "zero dims": (b"\x00\x00\x08\x00", "1 to 32 dimensions"),
    "too many dims": (b"\x00\x00\x08\x40" + b"\x00\x00\x00\x01" * 64, "1 to 32 dimensions"),
    "truncated dims": (GOOD[:10], "truncated header"),
    "truncated data": (GOOD[:-1], "truncated"),
    "trailing data": (GOOD + b"\x00", "trailing data"),
}


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_raises_data_format_error(case: str, compress: bool) -> None:
    data, message = MALFORMED[case]
    if compress:
        data = gzip.compress(data)
    with pytest.raises(DataFormatError, match=message):
        read_idx(data)


def test_truncated_gzip_stream() -> None:
    with pytest.raises(DataFormatError, match="gzip stream ends early"):
        read_idx(gzip.compress(GOOD)[:-5])


def test_garbage_after_gzip_stream() -> None:
    with pytest.raises(DataFormatError, match="trailing data"):
        read_idx(gzip.compress(GOOD) + b"junk")


def test_corrupt_gzip_checksum() -> None:
    data = bytearray(gzip.compress(GOOD))
    data[-8] ^= 0xFF  # the CRC-32 of the uncompressed data
    with pytest.raises(DataFormatError, match="corrupt gzip"):
        read_idx(bytes(data))


@pytest.mark.parametrize("compress", [False, True])
def test_huge_header_rejected_without_allocating(compress: bool) -> None:
    data = idx_bytes(0x0E, (1_000_000, 1_000_000), b"\x00" * 64)  # claims 8 TB
    if compress:
        data = gzip.compress(data)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(DataFormatError, match="at most"):
            read_idx(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20
    assert time.perf_counter() - start < 1.0


def test_write_rejects_unsupported_arrays(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="int64"):
        write_idx(tmp_path / "a", np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="dimensions"):
        write_idx(tmp_path / "a", np.float32(1.0))
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_leaves_old_file_on_error(tmp_path: Path) -> None:
    path = tmp_path / "a.idx"
    write_idx(path, np.arange(3, dtype=np.uint8))
    with pytest.raises(RuntimeError), atomic_write(path) as f:
        f.write(b"partial")
        raise RuntimeError("interrupted")
    np.testing.assert_array_equal(read_idx(path), [0, 1, 2])
    assert os.listdir(tmp_path) == ["a.idx"]


SEED = idx_bytes(0x0C, (2, 3), np.arange(6, dtype=">i4").tobytes())
mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10_000), st.integers(0, 7)),
    st.tuples(st.just("truncate"), st.integers(0, 10_000), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, 10_000), st.integers(0, 255)),
)


def mutate(data: bytes, mutations: list[tuple[str, int, int]]) -> bytes:
    """Apply byte flips, truncations and insertions. Args: data: bytes; mutations: the edits."""
    out = bytearray(data)
    for kind, pos, value in mutations:
        pos = pos % (len(out) + 1)
        if kind == "flip" and pos < len(out):
            out[pos] ^= 1 << value
        elif kind == "truncate":
            del out[pos:]
        elif kind == "insert":
            out.insert(pos, value)
    return bytes(out)


@pytest.mark.parametrize("shape", [(0, 2**32 - 1, 2**32 - 1), (2**31, 0, 2**31, 4)])
def test_an_empty_shape_numpy_cannot_address_is_a_data_format_error(shape: tuple[int, ...]) -> None:
    """Found by the fuzz test: the 0 made the size check pass, and reshape raised a bare ValueError."""
    with pytest.raises(DataFormatError, match=r"more than NumPy can address: corrupt header"):
        read_idx(idx_bytes(0x08, shape))


@settings(max_examples=300, deadline=None)
@given(compress=st.booleans(), mutations=st.lists(mutation, min_size=1, max_size=4))
def test_fuzz_loads_or_raises_data_format_error(compress: bool, mutations: list) -> None:
    seed = gzip.compress(SEED, mtime=0) if compress else SEED
    data = mutate(seed, mutations)
    try:
        array = read_idx(data)
    except DataFormatError:
        return
    assert isinstance(array, np.ndarray)


def test_a_fifo_is_refused_without_blocking(tmp_path) -> None:
    fifo = tmp_path / "train-images-idx3-ubyte"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="FIFO"):
        read_idx(fifo)  # the old code blocked in open() until a writer came
