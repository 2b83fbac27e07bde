"""The safe image reader: explicit formats, a pixel limit read from the header, large pictures decoded reduced.

Used by `glassnet predict` and `serve` (glassnet.apps.imaging) and by image folders
(glassnet.datasets.folder), which both import it from here.
"""

from __future__ import annotations

import io
import math
import os
import tokenize
import warnings
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from glassnet.errors import InputError
from glassnet.extras import import_extra
from glassnet.io.files import open_regular

MAX_PIXELS = 50_000_000  # an image file's header may declare at most this many pixels (a 50-megapixel photo)
WORK_SIDE = 1024  # pictures with a longer side are decoded reduced to at most this: a digit needs far less
FORMATS = ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP")  # decoders in Pillow itself: none runs a program
MAX_NPY_HEADER = 10_000  # bytes of a .npy header, NumPy's own limit
EXIF_ORIENTATION = 0x0112
TRANSPOSES = {2: 0, 3: 3, 4: 1, 5: 5, 6: 4, 7: 6, 8: 2}  # EXIF orientation -> PIL.Image.Transpose value


def load_image(path: str | os.PathLike[str], color: bool = False) -> np.ndarray:
    """Read an image file as an array: .npy with NumPy, PNG, JPEG, BMP, GIF, TIFF or WebP with Pillow.

    Only a regular file is read, and its size is checked from its header before decoding: more
    than MAX_PIXELS pixels is refused. Pictures are opened with an explicit list of formats, so no
    decoder that runs an external program (PostScript's Ghostscript) is ever chosen; those larger
    than WORK_SIDE are decoded reduced (JPEG's draft, then `reduce`); the EXIF orientation is applied.

    Args:
        path: the file.
        color: keep colour pictures as (H, W, 3) RGB instead of turning them gray.

    Shapes:
        output (H, W) gray (colour: (H, W, 3)), or (H, W, 4) RGBA when the file has transparency;
        .npy as stored.
    """
    with open_regular(path) as f:
        if Path(path).suffix.lower() == ".npy":
            return _load_npy(f, os.fspath(path))
        return _load_picture(f, os.fspath(path), color)


def read_picture(data: bytes, name: str) -> np.ndarray:
    """Decode a picture held in memory (an upload) with load_image's checks: formats, pixel limit, reduction.

    Args:
        data: the file's bytes.
        name: what to call it in messages.

    Shapes:
        output (H, W) gray, or (H, W, 4) RGBA when the picture has transparency.
    """
    return _load_picture(io.BytesIO(data), name)


def _check_pixels(height: int, width: int, name: str) -> None:
    """Refuse an image of more than MAX_PIXELS pixels, from its header. Args: height, width: its size; name: file."""
    if height * width > MAX_PIXELS:
        raise InputError(
            f"{name}: the image is {width}x{height} pixels, more than the limit of {MAX_PIXELS:,}: "
            "give a smaller picture of the digit (a few hundred pixels a side is plenty)"
        )


def _load_npy(f: BinaryIO, name: str) -> np.ndarray:
    """An image array from an open .npy file, its header checked before the data is read.

    Args:
        f: the file, open for binary reading.
        name: its path, for messages.
    """
    size = f.seek(0, 2)
    f.seek(0)
    if size == 0:
        raise InputError(f"{name}: the file is empty: expected a NumPy array saved with np.save")
    try:
        version = np.lib.format.read_magic(f)
        if version not in ((1, 0), (2, 0), (3, 0)):
            raise ValueError(f".npy format version {version} is not supported")
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read_header(f, max_header_size=MAX_NPY_HEADER)
    except (ValueError, OSError, EOFError, SyntaxError, TypeError, tokenize.TokenError) as error:
        raise InputError(f"{name}: not a NumPy array file ({error})") from None
    if dtype.hasobject or dtype.kind not in "biuf" or dtype.fields is not None or dtype.subdtype is not None:
        raise InputError(f"{name}: expected an array of numbers, the file holds dtype {dtype}")
    if len(shape) not in (2, 3) or (len(shape) == 3 and shape[2] not in (1, 3, 4)):
        raise InputError(f"{name}: expected an image (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got shape {shape}")
    if math.prod(shape) == 0:
        raise InputError(f"{name}: the array is empty (shape {shape}): expected an image with at least one pixel")
    _check_pixels(shape[0], shape[1], name)
    if f.tell() + math.prod(shape) * dtype.itemsize != size:
        raise InputError(f"{name}: the header says {shape} of {dtype}, the file holds another size: truncated?")
    f.seek(0)
    array: np.ndarray = np.load(f, allow_pickle=False)
    return array


def _load_picture(f: BinaryIO, name: str, color: bool = False) -> np.ndarray:
    """An image array from an open picture file, decoded by Pillow at reduced size when large.

    Args:
        f: the file, open for binary reading.
        name: its path, for messages.
        color: decode colour pictures as RGB.
    """
    image_module = import_extra("PIL.Image", "images", "reading PNG/JPEG images")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", image_module.DecompressionBombWarning)
            with image_module.open(f, formats=FORMATS) as image:
                _check_pixels(image.height, image.width, name)
                return _decode(image, name, color)
    except image_module.UnidentifiedImageError:
        raise InputError(f"{name}: not an image in one of the formats {', '.join(FORMATS)}") from None
    except (image_module.DecompressionBombError, image_module.DecompressionBombWarning):
        raise InputError(f"{name}: the image is larger than the limit of {MAX_PIXELS:,} pixels") from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:  # Pillow's errors for a file it cannot decode
        if isinstance(error, InputError):
            raise
        raise InputError(f"{name}: not an image Pillow can read ({error})") from None


def _decode(image: Any, name: str, color: bool = False) -> np.ndarray:
    """The pixels of an opened Pillow image, reduced to at most WORK_SIDE a side, upright by EXIF.

    Args:
        image: the PIL.Image.Image, header read, not decoded.
        name: the file, for messages.
        color: RGB for a picture in colour (gray ones stay gray).
    """
    orientation = image.getexif().get(EXIF_ORIENTATION, 1)
    factor = math.ceil(max(image.size) / WORK_SIDE)
    if factor > 1 and image.format == "JPEG":
        image.draft(image.mode, (image.width // factor, image.height // factor))  # decoded at 1/2 .. 1/8 scale
    image.load()
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        image, as_float = image.convert("RGBA"), False
    elif image.mode.startswith(("I", "F")):
        image, as_float = image.convert("F"), True
    elif color and image.mode not in ("L", "1"):
        image, as_float = image.convert("RGB"), False
    else:
        image, as_float = image.convert("L"), False
    factor = math.ceil(max(image.size) / WORK_SIDE)
    if factor > 1:
        image = image.reduce(factor)
    if orientation in TRANSPOSES:
        image = image.transpose(TRANSPOSES[orientation])
    return np.asarray(image, dtype=np.float64) if as_float else np.asarray(image)


def resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a 2-D array: area averaging along an axis that shrinks, bilinear along one that grows.

    Shrinking works on running sums, so memory stays a few copies of the image whatever its
    shape (a 1 x 20,000,000 strip included); growing (to at most a few dozen pixels) uses a
    small weight matrix.

    Args:
        image: the array.
        size: (height, width) wanted.

    Shapes:
        image (H, W) -> output (height, width).
    """
    rows = _resize_axis(np.asarray(image, dtype=np.float64), size[0])  # (height, W)
    resized: np.ndarray = _resize_axis(rows.T, size[1]).T  # (height, width)
    return resized


def _resize_axis(values: np.ndarray, new: int) -> np.ndarray:
    """values resized along axis 0 to new rows. Shapes: values (old, K) -> output (new, K)."""
    old = values.shape[0]
    if new > old:  # bilinear, half-pixel centres
        centres = np.clip((np.arange(new) + 0.5) * (old / new) - 0.5, 0, old - 1)
        low = np.floor(centres).astype(int)
        high = np.minimum(low + 1, old - 1)
        weights = np.zeros((new, old))
        np.add.at(weights, (np.arange(new), low), 1 - (centres - low))
        np.add.at(weights, (np.arange(new), high), centres - low)
        grown: np.ndarray = weights @ values
        return grown
    # area: each new row averages the old rows it covers, in part at its edges, from running sums
    sums = np.concatenate([np.zeros((1, values.shape[1])), np.cumsum(values, axis=0)])  # (old + 1, K)
    edges = np.arange(new + 1) * (old / new)
    whole = np.minimum(np.floor(edges).astype(np.intp), old - 1)
    covered = sums[whole] + (edges - whole)[:, None] * values[whole]  # (new + 1, K): the sum of rows below each edge
    shrunk: np.ndarray = np.diff(covered, axis=0) * (new / old)
    return shrunk
