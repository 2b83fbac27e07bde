"""Folders of drawn shapes for the image-folder tests, and the glassnet command run in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PIL import Image, ImageDraw

SRC = Path(__file__).parents[1] / "src"

SIZES = [(40, 30), (64, 64), (23, 57), (100, 80)]
MODES = ["L", "RGB", "RGBA", "P"]
SUFFIXES = [".png", ".jpg", ".bmp", ".png"]


def _draw(kind: str, index: int) -> object:
    """A light shape on a dark background, in a mode and size that change with index."""
    width, height = SIZES[index % len(SIZES)]
    image = Image.new("RGB", (width, height), (10, 20, 30))
    box = (width // 4, height // 4, 3 * width // 4, 3 * height // 4)
    draw = ImageDraw.Draw(image)
    (draw.rectangle if kind == "square" else draw.ellipse)(box, fill=(250, 200, 120))
    mode = MODES[index % len(MODES)]
    if SUFFIXES[index % len(SUFFIXES)] == ".jpg" and mode in ("RGBA", "P"):
        mode = "RGB"
    return image.convert(mode)


def make_folder(root: Path, per_class: int = 6, classes: tuple[str, ...] = ("circle", "square")) -> Path:
    """root/<class>/<n>.<png|jpg|bmp> of drawn shapes, mixed sizes and modes; a stray text file too."""
    for kind in classes:
        (root / kind).mkdir(parents=True)
        for index in range(per_class):
            _draw(kind, index).save(root / kind / f"{index}{SUFFIXES[index % len(SUFFIXES)]}")
    (root / "README.txt").write_text("not a class")
    (root / classes[0] / "notes.txt").write_text("not an image")
    return root


def glassnet(*args: object, timeout: float = 300, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run `python -m glassnet ARGS` (in cwd) with this checkout's source first on the import path."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "glassnet", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout, check=False, cwd=cwd)
