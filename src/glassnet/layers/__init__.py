"""glassnet's layers; each one's forward, backward and shapes fit on a page."""

from glassnet.layers.activations import Activation, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from glassnet.layers.base import Layer
from glassnet.layers.conv import Conv2D
from glassnet.layers.dense import Dense
from glassnet.layers.pooling import AvgPool2D, MaxPool2D
from glassnet.layers.regularization import BatchNorm, Dropout
from glassnet.layers.reshape import Flatten

__all__ = [
    "Activation",
    "AvgPool2D",
    "BatchNorm",
    "Conv2D",
    "Dense",
    "Dropout",
    "Flatten",
    "Layer",
    "LeakyReLU",
    "MaxPool2D",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
]
