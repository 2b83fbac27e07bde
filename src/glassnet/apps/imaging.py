"""Turn a picture of a digit (any size, either polarity) into MNIST's form, as a NumPy array.

Files are read by the safe reader in glassnet.io.images; its load_image, read_picture, resize and limits are
re-exported here, where `glassnet predict` and `serve` have always found them.
"""

from __future__ import annotations

import numpy as np

from glassnet.errors import InputError
from glassnet.io.images import FORMATS as FORMATS
from glassnet.io.images import MAX_PIXELS as MAX_PIXELS
from glassnet.io.images import WORK_SIDE as WORK_SIDE
from glassnet.io.images import load_image as load_image
from glassnet.io.images import read_picture as read_picture
from glassnet.io.images import resize as resize

FIELD = 28  # MNIST's image size
BOX = 20  # the longer side of the digit inside the field
INK_THRESHOLD = 0.05  # ink below this fraction of the strongest stroke does not count for the crop
MIN_CONTRAST = 0.05  # an image whose ink and background differ by less than this is blank


def to_mnist(image: np.ndarray) -> np.ndarray:
    """A digit image made like MNIST's: white on black, cropped, 20 px box, centred by mass.

    Args:
        image: gray (H, W) or (H, W, 1), RGB (H, W, 3) or RGBA (H, W, 4); uint8, uint16, bool or
            float (in [0, 1], or [0, 255]); dark-on-light or light-on-dark. With a varying alpha
            channel the opaque strokes are the ink, whatever their colour.

    Shapes:
        image (H, W[, C]) -> output float32 (28, 28, 1) in [0, 1].
    """
    ink = _ink(_gray(image))
    rows, cols = np.nonzero(ink >= INK_THRESHOLD)
    ink = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    height, width = ink.shape
    scale = BOX / max(height, width)
    digit = resize(ink, (max(1, round(height * scale)), max(1, round(width * scale))))
    return _centre(np.clip(digit, 0.0, 1.0))[..., None].astype(np.float32)  # (28, 28, 1)


def _gray(image: np.ndarray) -> np.ndarray:
    """The image as float64 gray levels in [0, 1] (alpha-only drawings: the alpha). Shapes: (H, W)."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] in (1, 3, 4):
        channels = image.shape[2]
    elif image.ndim == 2:
        channels = 0
    else:
        raise InputError(f"expected an image (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got shape {image.shape}")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise InputError(f"expected a non-empty image, got shape {image.shape}")
    if image.dtype.kind not in "biuf":
        raise InputError(f"expected image pixels as numbers, got dtype {image.dtype}")
    values = _unit_range(image)
    if channels == 4:
        alpha = values[..., 3]
        if np.ptp(alpha) > MIN_CONTRAST:
            return alpha  # strokes drawn on a transparent canvas
        values = values[..., :3]
    if channels in (3, 4):
        gray: np.ndarray = values @ np.array([0.299, 0.587, 0.114])  # ITU-R 601 luma, as Pillow's "L"
        return gray
    return values.reshape(image.shape[:2])  # (H, W)


def _unit_range(image: np.ndarray) -> np.ndarray:
    """Pixel values scaled to [0, 1] from their type's range (floats: [0, 1] or [0, 255])."""
    values = image.astype(np.float64)
    if not np.isfinite(values).all():
        raise InputError("expected finite pixel values, got NaN or infinity")
    if values.min() < 0:
        raise InputError(f"expected pixel values >= 0, got {values.min():g}")
    if image.dtype.kind in "iu" and image.dtype.itemsize > 1 and values.max() > 255:
        top = float(np.iinfo(image.dtype).max) if image.dtype == np.uint16 else values.max()
    elif image.dtype.kind == "b" or values.max() <= 1:
        top = 1.0
    else:
        top = 255.0 if values.max() <= 255 else values.max()
    return values / top


def _ink(gray: np.ndarray) -> np.ndarray:
    """How much ink each pixel holds, 0 (background) to 1 (the strongest stroke), either polarity."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    background = float(np.median(border))
    ink = gray - background if background < 0.5 else background - gray
    strongest = float(ink.max())
    if strongest < MIN_CONTRAST:
        raise InputError("found no digit: the image is blank (no ink stands out from the background)")
    return np.clip(ink / strongest, 0.0, 1.0)


def _centre(digit: np.ndarray) -> np.ndarray:
    """Paste the digit into a 28x28 field so that its centre of mass is the field's centre."""
    height, width = digit.shape
    total = digit.sum()
    mass_y = float((digit.sum(axis=1) * np.arange(height)).sum() / total)
    mass_x = float((digit.sum(axis=0) * np.arange(width)).sum() / total)
    middle = FIELD / 2  # where MNIST's centres of mass lie: (14.0, 14.0) on average over its test set
    top = int(np.clip(round(middle - mass_y), 0, FIELD - height))
    left = int(np.clip(round(middle - mass_x), 0, FIELD - width))
    field = np.zeros((FIELD, FIELD))
    field[top : top + height, left : left + width] = digit
    return field
