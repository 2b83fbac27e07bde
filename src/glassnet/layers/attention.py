"""MultiHeadAttention: scaled dot-product self-attention over the steps of a sequence, several heads."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassnet.checks import check_flag, check_size
from glassnet.errors import InputError
from glassnet.initializers import glorot_uniform
from glassnet.layers.activations import softmax
from glassnet.layers.base import DeclaredShapes, Layer, Shape, check_rank, created, shape_error
from glassnet.parameter import Parameter


class MultiHeadAttention(Layer):
    """Self-attention: each step reads a softmax-weighted mix of every step's values, per head.

    q, k, v = x @ W_qkv + b_qkv, split into `heads` heads of d = dim / heads features;
    A = softmax(q k^T / sqrt(d)) over the keys (with causal=True, step t sees steps <= t only);
    out = concat_heads(A v) @ W_out + b_out. Equal to PyTorch's nn.MultiheadAttention(dim, heads,
    batch_first=True) called as mha(x, x, x) with weight_qkv = in_proj_weight.T.

    Args:
        dim: the features of each step (the model width).
        heads: the number of heads; must divide dim.
        causal: mask the future, as a language model needs.

    Shapes:
        input (N, T, dim) -> output (N, T, dim); weight_qkv (dim, 3 dim), bias_qkv (3 dim,),
        weight_out (dim, dim), bias_out (dim,).
    """

    def __init__(self, dim: int, heads: int, causal: bool = False) -> None:
        self.dim = check_size(dim, "dim", "MultiHeadAttention")
        self.heads = check_size(heads, "heads", "MultiHeadAttention")
        if self.dim % self.heads:
            raise InputError(f"MultiHeadAttention: heads={heads} must divide dim={dim}: pick a divisor of {dim}")
        self.causal = check_flag(causal, "MultiHeadAttention: causal")
        self.weight_qkv: Parameter | None = None
        self.bias_qkv: Parameter | None = None
        self.weight_out: Parameter | None = None
        self.bias_out: Parameter | None = None

    @classmethod
    def declared_shapes(cls, config: dict[str, Any]) -> DeclaredShapes:
        dim = config.get("dim")
        triple = 3 * dim if isinstance(dim, int) else None
        shapes = {"weight_qkv": (dim, triple), "bias_qkv": (triple,), "weight_out": (dim, dim), "bias_out": (dim,)}
        return shapes, {}

    @property
    def initialized(self) -> bool:
        return len(self.named_parameters()) == 4

    def initialize(self, rng: np.random.Generator) -> None:
        """Glorot-uniform weights (PyTorch's xavier_uniform_ on in_proj), zero biases."""
        d = self.dim
        if self.weight_qkv is None:
            self.weight_qkv = Parameter(glorot_uniform(rng, (d, 3 * d), d, 3 * d))
        if self.bias_qkv is None:
            self.bias_qkv = Parameter(np.zeros(3 * d, dtype=np.float32))
        if self.weight_out is None:
            self.weight_out = Parameter(glorot_uniform(rng, (d, d), d, d))
        if self.bias_out is None:
            self.bias_out = Parameter(np.zeros(d, dtype=np.float32))

    def named_parameters(self) -> dict[str, Parameter]:
        named = {
            "weight_qkv": self.weight_qkv,
            "bias_qkv": self.bias_qkv,
            "weight_out": self.weight_out,
            "bias_out": self.bias_out,
        }
        return {name: param for name, param in named.items() if param is not None}

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        expected = f"(N, T, {self.dim})"
        check_rank(self, input_shape, 2, expected, "pass sequences (N, T, features)")
        if input_shape is not None and input_shape[1] not in (None, self.dim):
            fix = f"the input has {input_shape[1]} features: use MultiHeadAttention({input_shape[1]}, heads)"
            raise shape_error(self, expected, input_shape, fix)
        return input_shape

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self.prepare_input(x)
        n, steps, dim = x.shape
        heads, size = self.heads, dim // self.heads
        w_qkv, b_qkv = created(self.weight_qkv, self, "weight_qkv"), created(self.bias_qkv, self, "bias_qkv")
        w_out, b_out = created(self.weight_out, self, "weight_out"), created(self.bias_out, self, "bias_out")
        qkv = x.reshape(n * steps, dim) @ w_qkv.value.astype(x.dtype) + b_qkv.value.astype(x.dtype)  # (N*T, 3D)
        q, k, v = qkv.reshape(n, steps, 3, heads, size).transpose(2, 0, 3, 1, 4)  # each (N, heads, T, d)
        scores = q @ k.transpose(0, 1, 3, 2) * x.dtype.type(1 / math.sqrt(size))  # (N, heads, T, T)
        if self.causal:
            scores = np.where(np.tri(steps, dtype=bool), scores, -np.inf)
        weights = softmax(scores)
        mixed = (weights @ v).transpose(0, 2, 1, 3).reshape(n * steps, dim)  # (N*T, D), heads side by side
        self.x, self.q, self.k, self.v, self.weights, self.mixed = x, q, k, v, weights, mixed
        out: np.ndarray = (mixed @ w_out.value.astype(x.dtype) + b_out.value.astype(x.dtype)).reshape(n, steps, dim)
        return out

    def backward(self, grad: np.ndarray) -> np.ndarray | None:
        n, steps, dim = grad.shape
        heads, size = self.heads, dim // self.heads
        w_qkv, b_qkv = created(self.weight_qkv, self, "weight_qkv"), created(self.bias_qkv, self, "bias_qkv")
        w_out, b_out = created(self.weight_out, self, "weight_out"), created(self.bias_out, self, "bias_out")
        flat = grad.reshape(n * steps, dim)  # (N*T, D)
        w_out.grad = (self.mixed.T @ flat).astype(w_out.value.dtype, copy=False)
        b_out.grad = flat.sum(axis=0).astype(b_out.value.dtype, copy=False)
        d_mixed = (flat @ w_out.value.astype(grad.dtype).T).reshape(n, steps, heads, size).transpose(0, 2, 1, 3)
        d_weights = d_mixed @ self.v.transpose(0, 1, 3, 2)  # (N, heads, T, T)
        d_v = self.weights.transpose(0, 1, 3, 2) @ d_mixed  # (N, heads, T, d)
        # softmax backward; masked entries have weight 0, so their score gradient is 0
        d_scores = self.weights * (d_weights - (d_weights * self.weights).sum(axis=-1, keepdims=True))
        d_scores *= grad.dtype.type(1 / math.sqrt(size))
        d_q = d_scores @ self.k  # (N, heads, T, d)
        d_k = d_scores.transpose(0, 1, 3, 2) @ self.q  # (N, heads, T, d)
        d_qkv = np.stack([d_q, d_k, d_v]).transpose(1, 3, 0, 2, 4).reshape(n * steps, 3 * dim)  # (N*T, 3D)
        w_qkv.grad = (self.x.reshape(n * steps, dim).T @ d_qkv).astype(w_qkv.value.dtype, copy=False)
        b_qkv.grad = d_qkv.sum(axis=0).astype(b_qkv.value.dtype, copy=False)
        if not self.needs_input_grad:
            return None
        dx: np.ndarray = (d_qkv @ w_qkv.value.astype(grad.dtype).T).reshape(n, steps, dim)
        return dx

    def config(self) -> dict[str, Any]:
        return {"dim": self.dim, "heads": self.heads, "causal": self.causal}

    def __repr__(self) -> str:
        causal = ", causal" if self.causal else ""
        return f"MultiHeadAttention({self.dim}, heads={self.heads}{causal})"
