"""Data augmentation for images (N, H, W, C): random affine maps and elastic distortion, applied only in fit.

Each augmentation draws its random numbers for a whole (global) batch from the generator it is
given, the network's own in fit: the same seed gives the same run, a resumed run continues the
same draws, and under MPI every process draws the same numbers and keeps the rows of its share.
Both move pixels by one bilinear resample of the batch (zeros outside the image), vectorised over
every sample and pixel.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from glassnet.checks import check_fraction, check_positive
from glassnet.errors import InputError, InputTypeError


class Augmentation:
    """Base of the augmentations: `draw(rng, n)` the random numbers of n samples, `apply(x, drawn)` them."""

    def draw(self, rng: np.random.Generator, n: int) -> Any:
        """The random numbers of n samples, as `apply` and `select` take them."""
        raise NotImplementedError

    def select(self, drawn: Any, rows: np.ndarray) -> Any:
        """The draws of some samples (this process's rows of a global batch)."""
        return drawn[rows]

    def apply(self, x: np.ndarray, drawn: Any) -> np.ndarray:
        """The augmented images, shape and dtype of x."""
        raise NotImplementedError

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Augment a batch with new draws from rng."""
        return self.apply(x, self.draw(rng, len(x)))

    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this augmentation (JSON-ready)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.config().items())})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and isinstance(other, Augmentation) and other.config() == self.config()

    def __hash__(self) -> int:
        return hash(repr(self))


class RandomAffine(Augmentation):
    """A random rotation, scaling, shear and shift of each image about its centre (torchvision's RandomAffine).

    Args:
        shift: the largest shift, as a fraction of the height and width (0.1: up to 2.8 pixels of 28).
        rotation: the largest rotation, in degrees either way.
        scale: the largest relative change of size (0.1: between 0.9 and 1.1).
        shear: the largest horizontal shear, in degrees either way.

    Shapes:
        x (N, H, W, C) -> (N, H, W, C).
    """

    def __init__(self, shift: float = 0.0, rotation: float = 0.0, scale: float = 0.0, shear: float = 0.0) -> None:
        self.shift = check_fraction(shift, "shift", "RandomAffine")
        self.rotation = check_fraction(rotation, "rotation", "RandomAffine", high=180.0, closed="[]")
        self.scale = check_fraction(scale, "scale", "RandomAffine")
        self.shear = check_fraction(shear, "shear", "RandomAffine", high=90.0)

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Per sample: the inverse map's matrix (a, b, c, d) and the shift (tx, ty) as fractions: (n, 6)."""
        u = rng.uniform(-1.0, 1.0, (n, 5))
        angle, shear = np.radians(self.rotation * u[:, 0]), np.radians(self.shear * u[:, 1])
        size = 1.0 + self.scale * u[:, 2]
        # forward map: size * rotation @ shear; shear [[1, tan], [0, 1]]
        cos, sin, tan = np.cos(angle), np.sin(angle), np.tan(shear)
        a, b, c, d = size * cos, size * (cos * tan - sin), size * sin, size * (sin * tan + cos)
        det = a * d - b * c
        return np.stack([d / det, -b / det, -c / det, a / det, self.shift * u[:, 3], self.shift * u[:, 4]], axis=1)

    def apply(self, x: np.ndarray, drawn: np.ndarray) -> np.ndarray:
        x = _images(x, "RandomAffine")
        _, h, w, _ = x.shape
        cy, cx = (h - 1) / 2, (w - 1) / 2
        ys, xs = np.mgrid[0:h, 0:w].reshape(2, 1, h * w).astype(np.float32)  # (2, 1, H*W) output pixels
        drawn = drawn.astype(np.float32)
        u = xs - cx - drawn[:, 4:5] * w  # (N, H*W)
        v = ys - cy - drawn[:, 5:6] * h
        src_x = drawn[:, 0:1] * u + drawn[:, 1:2] * v + cx
        src_y = drawn[:, 2:3] * u + drawn[:, 3:4] * v + cy
        return resample(x, src_y, src_x)

    def config(self) -> dict[str, Any]:
        return {"shift": self.shift, "rotation": self.rotation, "scale": self.scale, "shear": self.shear}


class Elastic(Augmentation):
    """Elastic distortion (Simard, Steinkraus and Platt 2003): a random field of displacements, smoothed.

    Each pixel's displacement is uniform in [-1, 1] per axis, smoothed by a Gaussian of width
    sigma and scaled by alpha pixels; Simard et al. used sigma = 4 and alpha = 34 on MNIST.

    Args:
        alpha: the scale of the displacements, in pixels.
        sigma: the width of the smoothing Gaussian, in pixels.

    Shapes:
        x (N, H, W, C) -> (N, H, W, C).
    """

    def __init__(self, alpha: float = 34.0, sigma: float = 4.0) -> None:
        self.alpha = check_fraction(alpha, "alpha", "Elastic", high=math.inf)
        self.sigma = check_positive(sigma, "Elastic sigma", "4.0")
        self.shape: tuple[int, int] | None = None

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Per sample, the unsmoothed displacement field for the last image size seen: (n, 2, H, W)."""
        if self.shape is None:
            raise InputError("Elastic: the image size is not known yet: call it on a batch, or let fit do it")
        return rng.uniform(-1.0, 1.0, (n, 2, *self.shape))

    def prepare(self, shape: tuple[int, ...]) -> None:
        """Learn the image size (H, W) of the data to come from a sample's shape (H, W, C)."""
        self.shape = (int(shape[0]), int(shape[1]))

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        self.prepare(_images(x, "Elastic").shape[1:])
        return super().__call__(x, rng)

    def apply(self, x: np.ndarray, drawn: np.ndarray) -> np.ndarray:
        x = _images(x, "Elastic")
        n, h, w, _ = x.shape
        field = gaussian_smooth(drawn.reshape(n * 2, h, w), self.sigma)  # (N*2, H, W)
        field = field.reshape(n, 2, h * w) * self.alpha  # (N, 2, H*W) displacements in pixels
        ys, xs = np.mgrid[0:h, 0:w].reshape(2, 1, h * w)  # (2, 1, H*W)
        return resample(x, ys + field[:, 0], xs + field[:, 1])

    def config(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "sigma": self.sigma}


class Compose(Augmentation):
    """Several augmentations, one after the other.

    Args:
        augmentations: applied in order.
    """

    def __init__(self, augmentations: list[Augmentation]) -> None:
        for index, augmentation in enumerate(augmentations):
            if not isinstance(augmentation, Augmentation):
                raise InputTypeError(
                    f"Compose: augmentations[{index}] must be a gn.augment augmentation, "
                    f"got {type(augmentation).__name__}"
                )
        self.augmentations = list(augmentations)

    def prepare(self, shape: tuple[int, ...]) -> None:
        for augmentation in self.augmentations:
            prepare(augmentation, shape)

    def draw(self, rng: np.random.Generator, n: int) -> list[Any]:
        return [augmentation.draw(rng, n) for augmentation in self.augmentations]

    def select(self, drawn: Any, rows: np.ndarray) -> list[Any]:
        return [augmentation.select(d, rows) for augmentation, d in zip(self.augmentations, drawn, strict=True)]

    def apply(self, x: np.ndarray, drawn: Any) -> np.ndarray:
        for augmentation, d in zip(self.augmentations, drawn, strict=True):
            x = augmentation.apply(x, d)
        return x

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        self.prepare(_images(x, "Compose").shape[1:])
        return super().__call__(x, rng)

    def config(self) -> dict[str, Any]:
        return {"augmentations": [describe_augmentation(a) for a in self.augmentations]}


AUGMENTATIONS: dict[str, type[Augmentation]] = {cls.__name__: cls for cls in (RandomAffine, Elastic, Compose)}


def prepare(augmentation: Augmentation, shape: tuple[int, ...]) -> None:
    """Tell an augmentation the shape of one sample (H, W, C) before fit draws for it."""
    if len(shape) != 3:
        raise InputError(
            f"{type(augmentation).__name__} augments images (N, H, W, C), but one sample has shape {shape}: "
            "give fit images, or drop augment="
        )
    if isinstance(augmentation, (Elastic, Compose)):
        augmentation.prepare(shape)


def describe_augmentation(augmentation: Augmentation) -> dict[str, Any]:
    """{"type": ..., "config": ...} of a built-in augmentation, for model files."""
    kind = type(augmentation).__name__
    if AUGMENTATIONS.get(kind) is not type(augmentation):
        raise InputTypeError(f"the augmentation {kind} is not built in, so a model file cannot store it")
    return {"type": kind, "config": augmentation.config()}


def build_augmentation(value: object) -> Augmentation:
    """The augmentation {"type": ..., "config": ...} describes; InputError if it is not a valid one."""
    if not isinstance(value, dict) or set(value) != {"type", "config"} or not isinstance(value["config"], dict):
        raise InputError(f'an augmentation is written {{"type": ..., "config": {{...}}}}, got {value!r}')
    cls = AUGMENTATIONS.get(value["type"]) if isinstance(value["type"], str) else None
    if cls is None:
        raise InputError(f"unknown augmentation {value['type']!r}: use one of {', '.join(AUGMENTATIONS)}")
    config = dict(value["config"])
    if cls is Compose:
        inner = config.get("augmentations")
        config["augmentations"] = [build_augmentation(item) for item in (inner if isinstance(inner, list) else [None])]
    try:
        return cls(**config)
    except TypeError as error:
        raise InputError(f"augmentation {value['type']}: {error}") from None


def check_augment(augment: object) -> Augmentation | None:
    """An Augmentation or None, else an InputTypeError saying what to pass."""
    if augment is None or isinstance(augment, Augmentation):
        return augment
    raise InputTypeError(
        f"augment must be a gn.augment augmentation or None, got {type(augment).__name__}: "
        "pass e.g. gn.augment.RandomAffine(shift=0.1, rotation=10)"
    )


def _images(x: np.ndarray, owner: str) -> np.ndarray:
    if not isinstance(x, np.ndarray) or x.ndim != 4 or x.dtype.kind != "f":
        shape = getattr(x, "shape", None)
        raise InputError(f"{owner} takes float images (N, H, W, C), got {type(x).__name__} of shape {shape}")
    return x


def resample(x: np.ndarray, src_y: np.ndarray, src_x: np.ndarray) -> np.ndarray:
    """Bilinear samples of each image at (src_y, src_x), zeros outside it.

    The images are padded with zeros (one row and column before, two after) and the coordinates
    clipped to [-1, size], so that all four neighbours of every point lie in the padded image:
    no masks, four gathers.

    Args:
        x: the images (N, H, W, C).
        src_y, src_x: (N, H*W) source coordinates of every output pixel, in pixels.
    """
    n, h, w, c = x.shape
    hp, wp = h + 3, w + 3
    padded = np.zeros((n, hp, wp, c), dtype=x.dtype)
    padded[:, 1 : h + 1, 1 : w + 1] = x
    flat = padded.reshape(n * hp * wp, c)  # (N*HP*WP, C)
    sy = np.clip(src_y.astype(np.float32), -1, h) + 1
    sx = np.clip(src_x.astype(np.float32), -1, w) + 1
    y0, x0 = np.floor(sy), np.floor(sx)
    wy, wx = (sy - y0).astype(x.dtype), (sx - x0).astype(x.dtype)
    index = (np.arange(n, dtype=np.intp) * (hp * wp))[:, None] + y0.astype(np.intp) * wp + x0.astype(np.intp)
    if c == 1:
        flat, shape = flat[:, 0], (n, h, w, 1)  # (N*HP*WP,): one channel gathers faster as a vector
    else:
        wy, wx, shape = wy[..., None], wx[..., None], (n, h, w, c)
    top = flat[index] * (1 - wx) + flat[index + 1] * wx
    bottom = flat[index + wp] * (1 - wx) + flat[index + wp + 1] * wx
    out: np.ndarray = (top * (1 - wy) + bottom * wy).reshape(shape)  # (N, H, W, C)
    return out


def gaussian_smooth(fields: np.ndarray, sigma: float, truncate: float = 4.0) -> np.ndarray:
    """Each (H, W) field of a stack smoothed by a Gaussian of width sigma (scipy's gaussian_filter, mode reflect).

    The filter is linear and separable, so it is two matrix products: G_H @ field @ G_W^T.

    Args:
        fields: (M, H, W).
        sigma: the Gaussian's standard deviation in pixels.
        truncate: the kernel reaches truncate * sigma pixels either way.
    """
    _, h, w = fields.shape
    rows, cols = _smoothing_matrix(h, sigma, truncate), _smoothing_matrix(w, sigma, truncate)
    out: np.ndarray = rows @ fields @ cols.T  # (M, H, W)
    return out


@functools.lru_cache(maxsize=16)
def _smoothing_matrix(size: int, sigma: float, truncate: float) -> np.ndarray:
    """G (size, size): G @ v is v filtered by the Gaussian, its ends reflected as scipy's mode "reflect"."""
    radius = int(truncate * sigma + 0.5)
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(np.eye(size), [(radius, radius), (0, 0)], mode="symmetric")  # (size + 2r, size)
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * radius + 1, axis=0)  # (size, size, 2r + 1)
    matrix: np.ndarray = windows @ kernel  # (size, size): output i, input j
    return matrix
