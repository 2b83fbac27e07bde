"""Embedding and PositionalEmbedding: a row of a learned table for each token, or for each position."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.checks import check_size
from glassnet.errors import InputError, InputTypeError
from glassnet.layers.base import DeclaredShapes, Layer, Shape, check_input, check_rank, created, shape_error
from glassnet.parameter import Parameter

EXACT_FLOAT32_INTEGERS = 2**24  # float32 holds every integer up to this exactly


def token_indices(layer: Layer, x: np.ndarray, vocab: int) -> np.ndarray:
    """Integer token ids as int64, checked to lie in [0, vocab); floats must hold whole numbers.

    A Network keeps integer inputs integer for a layer that takes indices (`takes_indices`); a user
    who passes floats holding whole numbers (tokens cast by other code) is served too.
    """
    x = np.asarray(x)
    if x.dtype.kind == "f":
        if not np.all(np.isfinite(x)) or not np.array_equal(x, np.round(x)):
            raise InputTypeError(
                f"{layer!r} expected integer token ids, got {x.dtype} values that are not whole numbers: "
                "pass the ids as integers, e.g. x.astype(np.int64)"
            )
    elif x.dtype.kind not in "iub":
        raise InputTypeError(f"{layer!r} expected integer token ids, got dtype {x.dtype}: pass x.astype(np.int64)")
    ids = x.astype(np.int64, copy=False)
    if ids.size and (ids.min() < 0 or ids.max() >= vocab):
        raise InputError(
            f"{layer!r} expected token ids in [0, {vocab}), got values from {ids.min()} to {ids.max()}: "
            f"remap the tokens, or make the vocabulary {int(ids.max()) + 1} long"
        )
    return ids


class Embedding(Layer):
    """Look up a learned vector for each integer token: out[n, t] = weight[x[n, t]].

    Its gradient adds each position's output gradient into the row of its token (a scatter-add).
    A Network passes integer inputs to it unchanged (no cast to float).

    Args:
        vocab: the number of distinct tokens (ids 0 .. vocab - 1).
        dim: the length of each token's vector.

    Shapes:
        input (N, T) integer ids -> output (N, T, dim); weight (vocab, dim).
    """

    takes_indices = True

    def __init__(self, vocab: int, dim: int) -> None:
        self.vocab = check_size(vocab, "vocab", "Embedding")
        self.dim = check_size(dim, "dim", "Embedding")
        self.weight: Parameter | None = None

    @classmethod
    def declared_shapes(cls, config: dict[str, Any]) -> DeclaredShapes:
        return {"weight": (config.get("vocab"), config.get("dim"))}, {}

    @property
    def initialized(self) -> bool:
        return self.weight is not None

    def initialize(self, rng: np.random.Generator) -> None:
        if self.weight is None:  # N(0, 1), as PyTorch's nn.Embedding
            self.weight = Parameter(rng.standard_normal((self.vocab, self.dim), dtype=np.float32))

    def named_parameters(self) -> dict[str, Parameter]:
        return {} if self.weight is None else {"weight": self.weight}

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        check_rank(self, input_shape, 1, "(N, T) integer token ids", "pass one row of token ids per sample")
        return None if input_shape is None else (input_shape[0], self.dim)

    def prepare_input(self, x: np.ndarray) -> np.ndarray:
        """Token ids as int64 (never cast to float), checked; the table drawn if the layer runs alone."""
        ids = token_indices(self, x, self.vocab)
        check_input(self, ids)
        if not self.initialized:
            self.initialize(np.random.default_rng())
        return ids

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.ids = self.prepare_input(x)
        out: np.ndarray = created(self.weight, self, "weight").value[self.ids]  # (N, T, dim)
        return out

    def backward(self, grad: np.ndarray) -> None:
        """Sets the table's gradient; token ids have no gradient, so it returns None."""
        weight = created(self.weight, self, "weight")
        # a scatter-add: the rows of a token seen several times add up
        flat = grad.reshape(-1, self.dim)  # (N*T, dim)
        ids = self.ids.reshape(-1)  # (N*T,)
        table = np.zeros((self.vocab, self.dim), dtype=grad.dtype)
        np.add.at(table, ids, flat)
        weight.grad = table.astype(weight.value.dtype, copy=False)
        return None

    def config(self) -> dict[str, Any]:
        return {"vocab": self.vocab, "dim": self.dim}

    def __repr__(self) -> str:
        return f"Embedding({self.vocab}, {self.dim})"


class PositionalEmbedding(Layer):
    """Add a learned vector for each position: out[n, t] = x[n, t] + weight[t].

    Args:
        max_length: the longest sequence it accepts.
        dim: the features of each step.

    Shapes:
        input (N, T, dim), T <= max_length -> the same shape; weight (max_length, dim).
    """

    def __init__(self, max_length: int, dim: int) -> None:
        self.max_length = check_size(max_length, "max_length", "PositionalEmbedding")
        self.dim = check_size(dim, "dim", "PositionalEmbedding")
        self.weight: Parameter | None = None

    @classmethod
    def declared_shapes(cls, config: dict[str, Any]) -> DeclaredShapes:
        return {"weight": (config.get("max_length"), config.get("dim"))}, {}

    @property
    def initialized(self) -> bool:
        return self.weight is not None

    def initialize(self, rng: np.random.Generator) -> None:
        if self.weight is None:  # small, so that the token embedding dominates at first
            self.weight = Parameter(rng.standard_normal((self.max_length, self.dim), dtype=np.float32) * 0.02)

    def named_parameters(self) -> dict[str, Parameter]:
        return {} if self.weight is None else {"weight": self.weight}

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        expected = f"(N, T <= {self.max_length}, {self.dim})"
        check_rank(self, input_shape, 2, expected, "pass sequences (N, T, features)")
        if input_shape is not None:
            steps, features = input_shape
            if features not in (None, self.dim):
                raise shape_error(
                    self, expected, input_shape, f"use PositionalEmbedding({self.max_length}, {features})"
                )
            if steps is not None and steps > self.max_length:
                fix = f"use PositionalEmbedding({steps}, {self.dim}) or shorter sequences"
                raise shape_error(self, expected, input_shape, fix)
        return input_shape

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self.prepare_input(x)
        weight = created(self.weight, self, "weight").value
        out: np.ndarray = x + weight[: x.shape[1]].astype(x.dtype, copy=False)
        return out

    def backward(self, grad: np.ndarray) -> np.ndarray:
        weight = created(self.weight, self, "weight")
        table = np.zeros(weight.shape, dtype=grad.dtype)
        table[: grad.shape[1]] = grad.sum(axis=0)
        weight.grad = table.astype(weight.value.dtype, copy=False)
        return grad

    def config(self) -> dict[str, Any]:
        return {"max_length": self.max_length, "dim": self.dim}

    def __repr__(self) -> str:
        return f"PositionalEmbedding({self.max_length}, {self.dim})"
