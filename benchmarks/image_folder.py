"""Decoding rate of gn.datasets.image_folder and the lazy ImageFolder, on a generated folder.

    python benchmarks/image_folder.py [--images 400] [--side 256]

Writes the folder into a temporary directory (PNG and JPEG, gray and colour), then times
decoding every image to 28x28 gray and to 28x28 RGB. Quote the numbers with `uptime`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from glassnet.datasets import ImageFolder, image_folder


def make(root: Path, images: int, side: int) -> None:
    rng = np.random.default_rng(0)
    for index in range(images):
        folder = root / f"class{index % 4}"
        folder.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{index}.{'png' if index % 2 else 'jpg'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=400)
    parser.add_argument("--side", type=int, default=256)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        make(Path(tmp), args.images, args.side)
        for color in ("gray", "rgb"):
            start = time.perf_counter()
            data = image_folder(tmp, size=(28, 28), color=color, verbose=0)
            seconds = time.perf_counter() - start
            print(
                f"image_folder {color}: {len(data.x)} images of {args.side}px in {seconds:.2f}s "
                f"({len(data.x) / seconds:.0f} images/s)"
            )
        dataset = ImageFolder(tmp, size=(28, 28))
        start = time.perf_counter()
        for begin in range(0, len(dataset), 64):
            dataset[np.arange(begin, min(begin + 64, len(dataset)))]
        seconds = time.perf_counter() - start
        print(f"ImageFolder batches of 64: {len(dataset) / seconds:.0f} images/s")


if __name__ == "__main__":
    main()
