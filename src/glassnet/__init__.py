"""glassnet: a neural-network library from scratch in NumPy, readable layer by layer and fast."""

from glassnet import augment, datasets, io, losses, metrics, optimizers, schedules
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
    GRU,
    LSTM,
    RNN,
    Activation,
    AvgPool2D,
    BatchNorm,
    Conv2D,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    Layer,
    LayerNorm,
    LeakyReLU,
    MaxPool2D,
    MultiHeadAttention,
    PositionalEmbedding,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    TimeDense,
    TransformerBlock,
)
from glassnet.layers.gradcheck import check_layer
from glassnet.layers.maxpool2x2 import fast_enabled, set_fast
from glassnet.layers.registry import register_layer
from glassnet.losses import Loss
from glassnet.network import callbacks
from glassnet.network.network import Network
from glassnet.parameter import Parameter
from glassnet.perceptron import ConvergenceWarning, Perceptron
from glassnet.threads import get_threads, set_threads

__version__ = "0.1.0"

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "Activation",
    "AvgPool2D",
    "BatchNorm",
    "Conv2D",
    "ConvergenceWarning",
    "Dense",
    "DivergenceError",
    "Dropout",
    "Embedding",
    "Flatten",
    "GlassnetError",
    "InputError",
    "InputTypeError",
    "Layer",
    "LayerNorm",
    "LeakyReLU",
    "Loss",
    "MaxPool2D",
    "ModelFileError",
    "MultiHeadAttention",
    "Network",
    "NotReadyError",
    "NumericalError",
    "Parameter",
    "Perceptron",
    "PositionalEmbedding",
    "ReLU",
    "ShapeError",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "TimeDense",
    "TransformerBlock",
    "UnsaveableError",
    "augment",
    "callbacks",
    "check_layer",
    "datasets",
    "fast_enabled",
    "get_threads",
    "io",
    "losses",
    "metrics",
    "optimizers",
    "register_layer",
    "schedules",
    "set_fast",
    "set_threads",
]
