"""Datasets: MNIST (shipped), Fashion-MNIST (downloaded), the IDX format, one-hot labels."""

from glassnet.datasets.download import DownloadError, cache_dir
from glassnet.datasets.idx import DataFormatError, read_idx, write_idx
from glassnet.datasets.mnist import load_fashion_mnist, load_mnist, to_categorical

__all__ = [
    "DataFormatError",
    "DownloadError",
    "cache_dir",
    "load_fashion_mnist",
    "load_mnist",
    "read_idx",
    "to_categorical",
    "write_idx",
]
