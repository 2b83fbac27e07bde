"""The CLI's data: `--data mnist|fashion-mnist|DIR`, and images read the way a model was trained on them."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from glassnet.apps.imaging import to_mnist
from glassnet.datasets import load_fashion_mnist, load_mnist
from glassnet.datasets.folder import EXTENSIONS, decode, image_folder
from glassnet.errors import InputError
from glassnet.io.images import load_image
from glassnet.network.network import Network

Split = tuple[np.ndarray, np.ndarray]
DATASETS: dict[str, tuple[str, Callable[[], tuple[Split, Split]], tuple[str, ...]]] = {
    "mnist": ("MNIST", load_mnist, tuple("0123456789")),
    "fashion-mnist": (
        "Fashion-MNIST",
        load_fashion_mnist,
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    ),
}
SIZE = (28, 28)  # every image is resized to the zoo's input


@dataclass
class Data:
    """What a command trains or scores on.

    Args:
        title: the data's name in messages ("MNIST", or the folder).
        train: (x, y) to train on; for a folder, what is left after the held-out part.
        test: (x, y) to score on: the test set, or a folder's held-out images (all of them for evaluate).
        class_names: the name of each class, in label order.
        folder: True for a folder of images.
    """

    title: str
    train: Split
    test: Split
    class_names: list[str]
    folder: bool


def load_data(source: str, color: str = "gray", held_out: float = 0.0, seed: int = 0, quiet: bool = False) -> Data:
    """A named data set, or a folder of class subfolders decoded to 28x28 images.

    Args:
        source: "mnist", "fashion-mnist" or a folder.
        color: "gray" or "rgb", for a folder.
        held_out: the fraction of a folder's images kept apart to score on (0: all of them are scored on).
        seed: the order of a folder's images before the split.
        quiet: no messages.
    """
    if source in DATASETS:
        title, loader, classes = DATASETS[source]
        if not quiet:
            print(f"Loading {title}...", flush=True)
        train, test = loader()
        return Data(title, train, test, list(classes), False)
    if not Path(source).is_dir():
        raise InputError(f"--data {source}: not a data set name ({', '.join(DATASETS)}) nor a folder of class folders")
    if not quiet:
        print(f"Reading the images of {source}...", flush=True)
    data = image_folder(source, SIZE, color, validation_split=held_out, seed=seed, verbose=0 if quiet else 1)
    train = (data.x, data.y)
    return Data(os.fspath(source), train, data.validation or train, data.class_names, True)


def class_names(net: Network, source: str | None = None) -> list[str]:
    """The model's class names; for a model without them, those of the named data set, or the output indices.

    Args:
        net: the loaded model, giving (N, classes).
        source: the data set named on the command line, if any.
    """
    output = net.layer_shapes(net.input_shape or (*SIZE, 1))[-1]
    classes = int(output[0] or 0) if output else 0
    if net.class_names is not None:
        return list(net.class_names)
    if source in DATASETS and len(DATASETS[source][2]) == classes:
        return list(DATASETS[source][2])
    return [str(k) for k in range(classes)]


def relabel(y: np.ndarray, folder_names: list[str], model_names: list[str], where: str) -> np.ndarray:
    """A folder's labels as the model's class indices; an error naming any class the model does not know.

    Args:
        y: labels, indices into folder_names.
        folder_names: the folder's classes.
        model_names: the model's classes.
        where: the folder, for messages.
    """
    unknown = [name for name in folder_names if name not in model_names]
    if unknown:
        raise InputError(
            f"{where}: the model does not know the classes {', '.join(unknown)}; it knows {', '.join(model_names)}"
        )
    mapping = np.array([model_names.index(name) for name in folder_names], dtype=np.int64)
    relabelled: np.ndarray = mapping[y]
    return relabelled


def is_digit_model(net: Network) -> bool:
    """True for a model of MNIST or Fashion-MNIST (or without class names): pictures are made MNIST-like."""
    return net.class_names is None or tuple(net.class_names) in {names for _, _, names in DATASETS.values()}


def read_images(paths: list[str], net: Network) -> np.ndarray:
    """Image files as the model's input: MNIST-like digits, or resized whole pictures for a folder's model.

    Args:
        paths: the image files.
        net: the model; its input_shape says the size and channels.

    Shapes:
        output (len(paths), H, W, C) of the model's input.
    """
    if is_digit_model(net):
        return np.stack([to_mnist(load_image(path)) for path in paths])  # (N, 28, 28, 1)
    shape = net.input_shape or (*SIZE, 1)
    color = "rgb" if shape[-1] == 3 else "gray"
    return np.stack([decode(Path(path), (shape[0], shape[1]), color) for path in paths])  # (N, H, W, C)


def expand(paths: list[str]) -> list[str]:
    """Image files, each folder replaced by the images in it and its subfolders, sorted.

    Args:
        paths: files and folders from the command line.
    """
    files: list[str] = []
    for path in paths:
        if Path(path).is_dir():
            found = sorted(
                str(entry)
                for entry in Path(path).rglob("*")
                if entry.is_file() and entry.suffix.lower() in (*EXTENSIONS, ".npy") and not entry.name.startswith(".")
            )
            if not found:
                raise InputError(f"{path}: the folder holds no images ({', '.join(EXTENSIONS)}, .npy)")
            files += found
        else:
            files.append(path)
    return files
