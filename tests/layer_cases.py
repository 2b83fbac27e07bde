"""Every built-in layer in the configurations the tests run over, with an input shape for each."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import glassnet as gn

LayerCase = tuple[str, Callable[[], gn.Layer], tuple[int, ...], bool]  # id, factory, input shape, training


LAYER_CASES: list[LayerCase] = [
    ("dense", lambda: gn.Dense(5, 3), (4, 5), False),
    ("activation-sin", lambda: gn.Activation(np.sin, np.cos), (3, 4, 2), False),
    ("tanh", gn.Tanh, (4, 6), False),
    ("sigmoid", gn.Sigmoid, (4, 6), False),
    ("relu", gn.ReLU, (4, 6), False),
    ("leaky-relu", lambda: gn.LeakyReLU(0.1), (4, 6), False),
    ("softmax", gn.Softmax, (4, 6), False),
    ("flatten", gn.Flatten, (2, 3, 4, 5), False),
    ("conv-3x3", lambda: gn.Conv2D(3, 4, 3), (2, 6, 5, 3), False),
    ("conv-stride2-pad1", lambda: gn.Conv2D(2, 3, 3, stride=2, padding=1), (2, 7, 6, 2), False),
    ("conv-same-stride2-odd", lambda: gn.Conv2D(2, 3, 3, stride=2, padding="same"), (2, 7, 8, 2), False),
    ("conv-same-even-kernel", lambda: gn.Conv2D(1, 2, (2, 4), padding="same"), (2, 5, 6, 1), False),
    ("conv-rect-stride", lambda: gn.Conv2D(2, 2, (3, 2), stride=(2, 3), padding=(1, 0)), (2, 8, 7, 2), False),
    ("conv-1x1", lambda: gn.Conv2D(3, 2, 1), (2, 3, 3, 3), False),
    ("maxpool-2", lambda: gn.MaxPool2D(2), (2, 6, 4, 3), False),
    ("maxpool-odd-untiled", lambda: gn.MaxPool2D(2), (2, 5, 7, 2), False),
    ("maxpool-3-stride2-overlap", lambda: gn.MaxPool2D(3, stride=2), (2, 7, 7, 2), False),
    ("maxpool-same", lambda: gn.MaxPool2D(2, padding="same"), (2, 5, 5, 2), False),
    ("maxpool-pad1", lambda: gn.MaxPool2D(3, stride=1, padding=1), (1, 4, 5, 2), False),
    ("avgpool-2", lambda: gn.AvgPool2D(2), (2, 6, 4, 3), False),
    ("avgpool-3-stride2-odd", lambda: gn.AvgPool2D(3, stride=2), (2, 8, 7, 2), False),
    ("avgpool-pad1", lambda: gn.AvgPool2D(3, stride=1, padding=1), (1, 4, 5, 2), False),
    ("dropout-inference", lambda: gn.Dropout(0.5), (4, 6), False),
    ("batchnorm-features-train", lambda: gn.BatchNorm(4), (6, 4), True),
    ("batchnorm-images-train", lambda: gn.BatchNorm(2), (3, 4, 5, 2), True),
    ("batchnorm-inference", lambda: gn.BatchNorm(4), (6, 4), False),
    ("rnn-tanh-last", lambda: gn.RNN(3, 4), (2, 5, 3), False),
    ("rnn-relu-sequences", lambda: gn.RNN(3, 4, return_sequences=True, activation="relu"), (2, 4, 3), False),
    ("lstm-last", lambda: gn.LSTM(3, 4), (2, 5, 3), False),
    ("lstm-sequences-one-step", lambda: gn.LSTM(2, 3, return_sequences=True), (3, 1, 2), False),
    ("lstm-sequences-hidden-1", lambda: gn.LSTM(2, 1, return_sequences=True), (2, 7, 2), False),
    ("gru-last", lambda: gn.GRU(3, 5), (2, 6, 3), False),
    ("gru-sequences", lambda: gn.GRU(4, 2, return_sequences=True), (3, 4, 4), False),
    ("layernorm-sequences", lambda: gn.LayerNorm(6), (2, 3, 6), False),
    ("layernorm-features", lambda: gn.LayerNorm(5), (4, 5), False),
    ("attention-2-heads", lambda: gn.MultiHeadAttention(6, 2), (2, 4, 6), False),
    ("attention-causal-1-head", lambda: gn.MultiHeadAttention(4, 1, causal=True), (2, 5, 4), False),
    ("time-dense", lambda: gn.TimeDense(3, 5), (2, 4, 3), False),
    ("positional-embedding", lambda: gn.PositionalEmbedding(6, 3), (2, 4, 3), False),
    ("transformer-block-causal", lambda: gn.TransformerBlock(4, 2, 8, causal=True), (2, 3, 4), False),
]

CASE_IDS = [case[0] for case in LAYER_CASES]
