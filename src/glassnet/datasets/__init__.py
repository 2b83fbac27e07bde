"""Datasets: MNIST (shipped), Fashion-MNIST (downloaded), your own image folders, the IDX format, one-hot labels."""

from glassnet.datasets.download import DownloadError, cache_dir
from glassnet.datasets.folder import FolderData, ImageFolder, image_folder
from glassnet.datasets.idx import DataFormatError, read_idx, write_idx
from glassnet.datasets.mnist import load_fashion_mnist, load_mnist, to_categorical

__all__ = [
    "DataFormatError",
    "DownloadError",
    "FolderData",
    "ImageFolder",
    "cache_dir",
    "image_folder",
    "load_fashion_mnist",
    "load_mnist",
    "read_idx",
    "to_categorical",
    "write_idx",
]
