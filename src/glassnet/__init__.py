"""glassnet: a neural-network library from scratch in NumPy, readable layer by layer and fast."""

from glassnet import datasets, losses, metrics, optimizers
from glassnet.errors import (
    DivergenceError,
    GlassnetError,
    InputError,
    InputTypeError,
    ModelFileError,
    NotReadyError,
    NumericalError,
    ShapeError,
    UnsaveableError,
)
from glassnet.layers import (
    Activation,
    AvgPool2D,
    BatchNorm,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    Layer,
    LeakyReLU,
    MaxPool2D,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from glassnet.layers.maxpool2x2 import fast_enabled, set_fast
from glassnet.layers.registry import register_layer
from glassnet.losses import Loss
from glassnet.network.network import Network
from glassnet.parameter import Parameter
from glassnet.perceptron import ConvergenceWarning, Perceptron

__version__ = "0.1.0"

__all__ = [
    "Activation",
    "AvgPool2D",
    "BatchNorm",
    "Conv2D",
    "ConvergenceWarning",
    "Dense",
    "DivergenceError",
    "Dropout",
    "Flatten",
    "GlassnetError",
    "InputError",
    "InputTypeError",
    "Layer",
    "LeakyReLU",
    "Loss",
    "MaxPool2D",
    "ModelFileError",
    "Network",
    "NotReadyError",
    "NumericalError",
    "Parameter",
    "Perceptron",
    "ReLU",
    "ShapeError",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "UnsaveableError",
    "datasets",
    "fast_enabled",
    "losses",
    "metrics",
    "optimizers",
    "register_layer",
    "set_fast",
]
