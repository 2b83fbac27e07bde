"""TimeDense and TransformerBlock: the pieces of a small Transformer, over (N, T, features)."""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from glassnet.checks import check_flag, check_size
from glassnet.layers.activations import ReLU
from glassnet.layers.attention import MultiHeadAttention
from glassnet.layers.base import DeclaredShapes, Layer, Shape, check_rank, shape_error
from glassnet.layers.dense import Dense
from glassnet.layers.normalization import LayerNorm
from glassnet.parameter import Parameter


class TimeDense(Dense):
    """Dense applied to every time step alike (Keras's TimeDistributed(Dense)): y = x @ W + b.

    Args:
        in_features: the features of each step.
        out_features: the features of each output step.
        init: "auto" (He before a ReLU-family activation, Glorot otherwise), "glorot" or "he".

    Shapes:
        input (N, T, in_features) -> output (N, T, out_features); weight (in, out); bias (out,).
    """

    def output_shape(self, input_shape: Shape | None) -> Shape:
        expected = f"(N, T, {self.in_features})"
        check_rank(self, input_shape, 2, expected, "pass sequences (N, T, features); for (N, F) use Dense")
        if input_shape is None:
            return (None, self.out_features)
        if input_shape[1] not in (None, self.in_features):
            features = input_shape[1]
            fix = f"the layer before gives {features} features: use TimeDense({features}, {self.out_features})"
            raise shape_error(self, expected, input_shape, fix)
        return (input_shape[0], self.out_features)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self.prepare_input(x)
        weight, bias = self.created_parameters()
        n, steps, features = x.shape
        self.x = x.reshape(n * steps, features)  # (N*T, in)
        out: np.ndarray = self.x @ weight.value.astype(x.dtype, copy=False)
        out += bias.value.astype(x.dtype, copy=False)
        return out.reshape(n, steps, self.out_features)  # (N, T, out)

    def backward(self, grad: np.ndarray) -> np.ndarray | None:
        n, steps, _ = grad.shape
        dx = super().backward(grad.reshape(n * steps, self.out_features))  # (N*T, out)
        return None if dx is None else dx.reshape(n, steps, self.in_features)  # (N, T, in)

    def __repr__(self) -> str:
        return f"TimeDense({self.in_features} -> {self.out_features})"


class TransformerBlock(Layer):
    """A pre-norm Transformer block: attention and a feed-forward net, each added back to its input.

    h = x + MultiHeadAttention(LayerNorm(x)); out = h + TimeDense(ReLU(TimeDense(LayerNorm(h)))).
    Its parameters are its parts', named "<part>_<name>" (attention_weight_qkv, ...).

    Args:
        dim: the features of each step.
        heads: the attention heads; must divide dim.
        hidden: the width of the feed-forward net.
        causal: mask the future in the attention.

    Shapes:
        input (N, T, dim) -> output (N, T, dim).
    """

    def __init__(self, dim: int, heads: int, hidden: int, causal: bool = False) -> None:
        self.dim = check_size(dim, "dim", "TransformerBlock")
        self.heads = check_size(heads, "heads", "TransformerBlock")
        self.hidden = check_size(hidden, "hidden", "TransformerBlock")
        self.causal = check_flag(causal, "TransformerBlock: causal")
        self.norm1, self.norm2 = LayerNorm(self.dim), LayerNorm(self.dim)
        self.attention = MultiHeadAttention(self.dim, self.heads, self.causal)
        self.expand, self.relu = TimeDense(self.dim, self.hidden, init="he"), ReLU()
        self.project = TimeDense(self.hidden, self.dim, init="glorot")

    def parts(self) -> dict[str, Layer]:
        """The parts that hold parameters, by the prefix of their parameters' names."""
        return {
            "norm1": self.norm1,
            "attention": self.attention,
            "norm2": self.norm2,
            "expand": self.expand,
            "project": self.project,
        }

    @classmethod
    def declared_shapes(cls, config: dict[str, Any]) -> DeclaredShapes:
        dim, hidden = config.get("dim"), config.get("hidden")
        norm = LayerNorm.declared_shapes({"features": dim})[0]
        declared = {
            "norm1": norm,
            "attention": MultiHeadAttention.declared_shapes({"dim": dim})[0],
            "norm2": norm,
            "expand": TimeDense.declared_shapes({"in_features": dim, "out_features": hidden})[0],
            "project": TimeDense.declared_shapes({"in_features": hidden, "out_features": dim})[0],
        }
        return {f"{part}_{name}": shape for part, shapes in declared.items() for name, shape in shapes.items()}, {}

    def named_parameters(self) -> dict[str, Parameter]:
        return {
            f"{prefix}_{name}": param
            for prefix, part in self.parts().items()
            for name, param in part.named_parameters().items()
        }

    def set_parameters(self, values: dict[str, np.ndarray]) -> None:
        for prefix, part in self.parts().items():
            start = f"{prefix}_"
            part.set_parameters({k[len(start) :]: v for k, v in values.items() if k.startswith(start)})

    @property
    def initialized(self) -> bool:
        return all(part.initialized for part in self.parts().values())

    def initialize(self, rng: np.random.Generator) -> None:
        for part in self.parts().values():
            part.initialize(rng)

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        expected = f"(N, T, {self.dim})"
        check_rank(self, input_shape, 2, expected, "pass sequences (N, T, features)")
        if input_shape is not None and input_shape[1] not in (None, self.dim):
            fix = f"the input has {input_shape[1]} features: use TransformerBlock({input_shape[1]}, ...)"
            raise shape_error(self, expected, input_shape, fix)
        return input_shape

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self.prepare_input(x)
        h = x + self.attention.forward(self.norm1.forward(x))
        feed = self.project.forward(self.relu.forward(self.expand.forward(self.norm2.forward(h))))
        out: np.ndarray = h + feed
        return out

    def backward(self, grad: np.ndarray) -> np.ndarray:
        # the parts keep needs_input_grad True (only the Network's first layer turns it off): never None
        project, expand = self.project.backward, self.expand.backward
        feed = cast(np.ndarray, expand(self.relu.backward(cast(np.ndarray, project(grad)))))
        grad_h = grad + self.norm2.backward(feed)
        attended = cast(np.ndarray, self.attention.backward(grad_h))
        dx: np.ndarray = grad_h + self.norm1.backward(attended)
        return dx

    def config(self) -> dict[str, Any]:
        return {"dim": self.dim, "heads": self.heads, "hidden": self.hidden, "causal": self.causal}

    def __repr__(self) -> str:
        causal = ", causal" if self.causal else ""
        return f"TransformerBlock({self.dim}, heads={self.heads}, hidden={self.hidden}{causal})"
