"""glassnet's layers; each one's forward, backward and shapes fit on a page."""

from glassnet.layers.activations import Activation, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from glassnet.layers.attention import MultiHeadAttention
from glassnet.layers.base import Layer
from glassnet.layers.conv import Conv2D
from glassnet.layers.dense import Dense
from glassnet.layers.embedding import Embedding, PositionalEmbedding
from glassnet.layers.normalization import LayerNorm
from glassnet.layers.pooling import AvgPool2D, MaxPool2D
from glassnet.layers.regularization import BatchNorm, Dropout
from glassnet.layers.reshape import Flatten
from glassnet.layers.rnn import GRU, LSTM, RNN
from glassnet.layers.transformer import TimeDense, TransformerBlock

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "Activation",
    "AvgPool2D",
    "BatchNorm",
    "Conv2D",
    "Dense",
    "Dropout",
    "Embedding",
    "Flatten",
    "Layer",
    "LayerNorm",
    "LeakyReLU",
    "MaxPool2D",
    "MultiHeadAttention",
    "PositionalEmbedding",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "TimeDense",
    "TransformerBlock",
]
