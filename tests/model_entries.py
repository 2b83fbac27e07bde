"""Every entry of a model file as arrays, for tests that look inside one or write a broken copy."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from glassnet.io.npz import NpzReader


def read_entries(path: Path) -> dict[str, np.ndarray]:
    """Every entry of the model file at path, by name."""
    with open(path, "rb") as f:
        reader = NpzReader(f, str(path))
        arrays = {name: reader.read(name) for name in reader.headers}
        reader.close()
    return arrays
