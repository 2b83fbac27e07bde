"""Your own images: one subfolder per class (torchvision's ImageFolder layout), decoded now or lazily.

    flowers/
      daisy/    img001.jpg  img002.png ...
      tulip/    ...

The class names are the subfolder names, sorted; labels are their indices. Pictures (PNG, JPEG,
BMP of any size, gray or colour) are read by the safe reader (glassnet.io.images: explicit
formats, a pixel limit, EXIF orientation) and resized by area averaging.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np

from glassnet.checks import check_count, check_fraction, check_seed
from glassnet.errors import InputError, InputTypeError
from glassnet.io.images import load_image, resize

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")
COLORS = {"gray": 1, "rgb": 3}


class FolderData(NamedTuple):
    """What image_folder returns: x (N, H, W, C) float32 in [0, 1], y (N,) int64, the class names, validation."""

    x: np.ndarray
    y: np.ndarray
    class_names: list[str]
    validation: tuple[np.ndarray, np.ndarray] | None


class ImageFolder:
    """A dataset object over a folder of class subfolders: images are decoded when a batch asks for them.

    `fit(dataset)` takes it as it is (no y): `len(dataset)` samples, `dataset[indices]` -> (x, y).
    The files are listed once, in an order shuffled by `seed`, so that a validation split taken
    from the end holds every class.

    Args:
        path: the folder holding one subfolder per class.
        size: (height, width) every image is resized to.
        color: "gray" (1 channel) or "rgb" (3 channels).
        seed: the order of the files; None keeps them sorted by class and name.

    Shapes:
        dataset[indices] -> x (len(indices), height, width, 1 or 3) float32, y (len(indices),) int64.
    """

    def __init__(
        self, path: str | os.PathLike[str], size: tuple[int, int] = (28, 28), color: str = "gray", seed: int | None = 0
    ) -> None:
        self.size = _check_size(size)
        if color not in COLORS:
            raise InputError(f'color must be "gray" or "rgb", got {color!r}')
        self.color = color
        self.class_names, files, labels = list_folder(path)
        seed = check_seed(seed)
        order = np.arange(len(files)) if seed is None else np.random.default_rng(seed).permutation(len(files))
        self.files = [files[i] for i in order]
        self.labels = labels[order]

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, indices: object) -> tuple[np.ndarray, np.ndarray]:
        index = np.asarray(indices)
        if index.dtype.kind not in "iu" or index.ndim > 1:
            raise InputTypeError(f"an ImageFolder is indexed by an array of sample indices, got {indices!r}")
        index = index.reshape(-1)  # (B,)
        if index.size and (index.min() < -len(self) or index.max() >= len(self)):
            raise IndexError(f"indices out of range for {len(self)} images")
        x = np.stack([decode(self.files[i], self.size, self.color) for i in index]) if index.size else self._empty()
        return x, self.labels[index]

    def _empty(self) -> np.ndarray:
        return np.zeros((0, *self.size, COLORS[self.color]), dtype=np.float32)

    def __repr__(self) -> str:
        return f"ImageFolder({len(self)} images, {len(self.class_names)} classes, size={self.size}, {self.color})"


def image_folder(
    path: str | os.PathLike[str],
    size: tuple[int, int] = (28, 28),
    color: str = "gray",
    validation_split: float = 0.0,
    seed: int | None = 0,
    verbose: int = 1,
) -> FolderData:
    """Decode every image of a folder of class subfolders into arrays, with the class names.

    Args:
        path: the folder holding one subfolder per class (a class's name is its folder's name).
        size: (height, width) every image is resized to.
        color: "gray" (1 channel) or "rgb" (3 channels).
        validation_split: the fraction in [0, 1) held out as validation data (from the shuffled order).
        seed: the shuffled order of the images; None: sorted by class and name.
        verbose: 1 shows the progress of decoding on stderr, 0 nothing.

    Shapes:
        x (N, height, width, 1 or 3) float32 in [0, 1], y (N,) int64 class indices.
    """
    split = check_fraction(validation_split, "validation_split")
    verbose = check_count(verbose, "verbose", minimum=0)
    dataset = ImageFolder(path, size, color, seed)
    n = len(dataset)
    chunks = []
    step = max(1, n // 20)
    for start in range(0, n, step):
        chunks.append(dataset[np.arange(start, min(start + step, n))][0])
        if verbose:
            done = min(start + step, n)
            print(f"\rDecoding images: {done}/{n} ({done / n:.0%})", end="", file=sys.stderr, flush=True)
    if verbose:
        print(file=sys.stderr, flush=True)
    x, y = np.concatenate(chunks), dataset.labels
    keep = n - int(n * split)
    if split and (keep < 1 or keep == n):
        raise InputError(f"validation_split={split} of {n} images leaves no training or validation images")
    validation = (x[keep:], y[keep:]) if split else None
    return FolderData(x[:keep], y[:keep], dataset.class_names, validation)


def list_folder(path: str | os.PathLike[str]) -> tuple[list[str], list[Path], np.ndarray]:
    """The class names (sorted subfolder names), every image file, and its label.

    Args:
        path: the folder; files directly inside it and hidden entries are ignored, as are files
            whose extension is not one of EXTENSIONS.
    """
    root = Path(path)
    if not root.is_dir():
        raise InputError(f"{root}: not a folder: give a folder holding one subfolder of images per class")
    classes = sorted(entry.name for entry in root.iterdir() if entry.is_dir() and not entry.name.startswith("."))
    if not classes:
        raise InputError(f"{root}: no class subfolders: put each class's images in its own subfolder, e.g. {root}/cat/")
    files: list[Path] = []
    labels: list[int] = []
    empty = []
    for label, name in enumerate(classes):
        found = sorted(
            entry
            for entry in (root / name).iterdir()
            if entry.is_file() and not entry.name.startswith(".") and entry.suffix.lower() in EXTENSIONS
        )
        if not found:
            empty.append(name)
        files += found
        labels += [label] * len(found)
    if empty:
        raise InputError(
            f"{root}: the class folders {', '.join(empty)} hold no images ({', '.join(EXTENSIONS)}): "
            "add images to them or remove them"
        )
    return classes, files, np.asarray(labels, dtype=np.int64)


def decode(path: Path, size: tuple[int, int], color: str) -> np.ndarray:
    """One image file as a float32 array in [0, 1], resized.

    Args:
        path: the file.
        size: (height, width).
        color: "gray" or "rgb".

    Shapes:
        output (height, width, 1 or 3).
    """
    return picture_input(load_image(path, color=color == "rgb"), size, color)


def picture_input(image: np.ndarray, size: tuple[int, int], color: str) -> np.ndarray:
    """A decoded picture as a folder model takes it: scaled to [0, 1], gray or RGB, resized (no cropping).

    Args:
        image: as the image reader gives it: (H, W) gray, (H, W, 3) RGB or (H, W, 4) RGBA, any range.
        size: (height, width).
        color: "gray" or "rgb".

    Shapes:
        output (height, width, 1 or 3).
    """
    image = image.astype(np.float64)
    scale = 255.0 if image.max(initial=0) <= 255 else float(image.max())
    image = image / scale
    if image.ndim == 2:
        image = image[:, :, None]  # (H, W, 1)
    if image.shape[2] == 4:  # RGBA: composite over white, as a viewer shows it
        alpha = image[:, :, 3:]
        image = image[:, :, :3] * alpha + (1 - alpha)  # (H, W, 3)
    if color == "gray" and image.shape[2] == 3:
        image = image @ np.array([0.299, 0.587, 0.114])[:, None]  # (H, W, 1): ITU-R 601 luma, as Pillow's "L"
    elif color == "rgb" and image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)  # (H, W, 3)
    channels = [resize(image[:, :, c], size) for c in range(image.shape[2])]
    pixels: np.ndarray = np.clip(np.stack(channels, axis=-1), 0.0, 1.0).astype(np.float32)  # (height, width, C)
    return pixels


def _check_size(size: object) -> tuple[int, int]:
    """size as (height, width) of positive ints. Args: size: what the user gave."""
    if not isinstance(size, (tuple, list)) or len(size) != 2:
        raise InputTypeError(f"size must be a pair (height, width), got {size!r}: pass e.g. size=(28, 28)")
    return check_count(size[0], "size[0]"), check_count(size[1], "size[1]")
