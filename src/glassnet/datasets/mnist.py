"""MNIST and Fashion-MNIST loaders (with a checked .npy cache) and one-hot encoding."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from glassnet.checks import is_int
from glassnet.datasets.download import cache_dir, download, file_md5
from glassnet.datasets.idx import DataFormatError, encode_header, read_idx
from glassnet.io.atomic import atomic_write

Split = tuple[np.ndarray, np.ndarray]

FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
SHIPPED_DIR = Path(__file__).parent / "data" / "mnist"
# Published MD5s of the uncompressed MNIST files.
MNIST_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
# The publisher's repository, over https (its S3 website endpoint serves plain http only).
FASHION_URL = "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"
# Published MD5s of the gzipped Fashion-MNIST files.
FASHION_MD5 = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
# Their published sizes in bytes: a download is cut off past them.
FASHION_SIZES = {
    "train-images-idx3-ubyte.gz": 26421880,
    "train-labels-idx1-ubyte.gz": 29515,
    "t10k-images-idx3-ubyte.gz": 4422102,
    "t10k-labels-idx1-ubyte.gz": 5148,
}


def idx_md5(array: np.ndarray) -> str:
    """MD5 of the uncompressed IDX file that holds array. Args: array: a storable array."""
    digest = hashlib.md5(encode_header(array.dtype, array.shape))
    data = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder(">")).reshape(-1)
    digest.update(data.view(np.uint8).data)
    return digest.hexdigest()


def load_mnist(path: str | os.PathLike[str] | None = None) -> tuple[Split, Split]:
    """Load MNIST as ((x_train, y_train), (x_test, y_test)).

    Args:
        path: a folder holding the four MNIST IDX files (gzipped or raw, with or without
            ".gz"); None (default) uses the copy shipped with glassnet, checked against the
            published MD5s and cached as .npy in the data folder (see cache_dir) for fast reloads.

    Shapes:
        x: float32 (N, 28, 28, 1) in [0, 1]; y: int64 (N,) in 0..9. N is 60000 and 10000.
    """
    if path is None:
        sources = [SHIPPED_DIR / f"{name}.gz" for name in FILES]
        arrays = [_load_shipped(name) for name in FILES]
    else:
        sources = [_find(Path(path), name) for name in FILES]
        arrays = [read_idx(source) for source in sources]
    return _to_splits(arrays, sources)


def load_fashion_mnist(
    *,
    url: str | None = None,
    md5s: Mapping[str, str] | None = None,
    sizes: Mapping[str, int] | None = None,
    timeout: float = 30.0,
    progress: bool = True,
) -> tuple[Split, Split]:
    """Load Fashion-MNIST like load_mnist, downloading it once into the data folder.

    Args:
        url: base address of the four .gz files; default $GLASSNET_FASHION_MNIST_URL, else
            the official one.
        md5s: expected MD5 of each .gz file by name; default the published ones.
        sizes: expected byte size of each .gz file by name, a download is cut off past it; default the
            published ones with the published MD5s, else at most glassnet.datasets.download.MAX_DOWNLOAD.
        timeout: seconds to wait for the connection and for each read.
        progress: show a progress bar while downloading.

    Shapes:
        x: float32 (N, 28, 28, 1) in [0, 1]; y: int64 (N,) in 0..9. N is 60000 and 10000.
    """
    base = url or os.environ.get("GLASSNET_FASHION_MNIST_URL") or FASHION_URL
    base = base if base.endswith("/") else base + "/"
    if sizes is None:
        sizes = FASHION_SIZES if md5s is None else {}
    md5s = FASHION_MD5 if md5s is None else md5s
    folder = cache_dir() / "fashion-mnist"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OSError(
            f"cannot create the data folder {folder} ({exc}): set GLASSNET_DATA to a writable folder"
        ) from exc
    paths = []
    for name in FILES:
        dest = folder / f"{name}.gz"
        if not (dest.is_file() and file_md5(dest) == md5s[dest.name]):
            size = sizes.get(dest.name)
            download(base + dest.name, dest, md5=md5s[dest.name], size=size, timeout=timeout, progress=progress)
        paths.append(dest)
    return _to_splits([read_idx(p) for p in paths], paths)


def to_categorical(y: np.ndarray, num_classes: int | None = None) -> np.ndarray:
    """One-hot encode integer class labels.

    Args:
        y: labels 0..num_classes-1, shape (N,) or (N, 1); integer, or float holding whole numbers.
        num_classes: number of classes C; default max(y) + 1.

    Shapes:
        y: (N,) -> output: float32 (N, C).
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]  # (N, 1) -> (N,)
    if y.ndim != 1:
        raise ValueError(f"to_categorical expected labels of shape (N,) or (N, 1), got {y.shape}")
    if y.dtype.kind == "f":
        bad = ~np.isfinite(y) | (y != np.round(y))
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"to_categorical expected integer labels, got y[{i}] = {y[i]}")
    elif y.dtype.kind not in "iu":
        raise TypeError(f"to_categorical expected integer labels, got dtype {y.dtype}")
    if num_classes is None:
        if y.size == 0:
            raise ValueError("to_categorical cannot infer num_classes from empty labels: pass num_classes")
        num_classes = int(y.max()) + 1
    if not is_int(num_classes) or num_classes < 1:
        raise ValueError(f"to_categorical expected num_classes a positive int, got {num_classes!r}")
    bad = (y < 0) | (y >= num_classes)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"to_categorical expected labels in 0..{num_classes - 1}, got y[{i}] = {y[i]}")
    out = np.zeros((y.shape[0], num_classes), dtype=np.float32)
    out[np.arange(y.shape[0]), y.astype(np.intp)] = 1.0
    return out


def _load_shipped(name: str) -> np.ndarray:
    """Load one shipped MNIST array from the verified cache, else decode, check and cache it."""
    cached = cache_dir() / "mnist" / f"{name}.npy"
    array = _read_cache(cached, MNIST_MD5[name])
    if array is not None:
        return array
    source = SHIPPED_DIR / f"{name}.gz"
    array = read_idx(source)
    if idx_md5(array) != MNIST_MD5[name]:
        raise DataFormatError(
            f"{source}: expected the published MNIST content (MD5 "
            f"{MNIST_MD5[name]}), found MD5 {idx_md5(array)}: the installed "
            "file is damaged; reinstall glassnet"
        )
    with contextlib.suppress(OSError):
        cached.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(cached) as f:
            np.save(f, array, allow_pickle=False)
    return array


def _read_cache(path: Path, md5: str) -> np.ndarray | None:
    """The uint8 array cached at path if its IDX content has this MD5, else None."""
    try:
        # Memory-mapping checks the header against the file size before any large allocation.
        mapped = np.load(path, mmap_mode="r", allow_pickle=False)
        if mapped.dtype != np.uint8 or idx_md5(mapped) != md5:
            return None
        return np.array(mapped)
    except (OSError, ValueError, EOFError):
        return None


def _find(folder: Path, name: str) -> Path:
    """The file for name in folder, raw or gzipped. Args: folder: where; name: file stem."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"expected {name} or {name}.gz in {folder}, found neither")


def _to_splits(arrays: list[np.ndarray], labels: list[Path]) -> tuple[Split, Split]:
    """Check the four MNIST-style arrays and convert them.

    Args:
        arrays: the decoded files, in FILES order.
        labels: their paths, for error messages.
    """
    for i in (0, 2):
        images, targets = arrays[i], arrays[i + 1]
        if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
            raise DataFormatError(
                f"{labels[i]}: expected uint8 images of shape (N, 28, 28), found {images.dtype} {images.shape}"
            )
        if targets.dtype.kind not in "iu" or targets.shape != images.shape[:1]:
            raise DataFormatError(
                f"{labels[i + 1]}: expected integer labels of shape "
                f"({images.shape[0]},) to match {labels[i]}, found "
                f"{targets.dtype} {targets.shape}"
            )
        if targets.size and (targets.min() < 0 or targets.max() > 9):
            raise DataFormatError(f"{labels[i + 1]}: expected labels in 0..9, found {targets.min()}..{targets.max()}")
    splits = []
    for images, targets in (arrays[:2], arrays[2:]):
        x = np.empty((*images.shape, 1), dtype=np.float32)  # (N, 28, 28, 1)
        np.divide(images[..., None], np.float32(255), out=x)  # out= measured 10x faster here
        splits.append((x, targets.astype(np.int64)))
    return splits[0], splits[1]
