"""Recurrent: what RNN, LSTM and GRU share; the input products of every step in one matrix product.

Each layer stacks its gates in the weights: `weight_x` (F, G*H) and `weight_h` (H, G*H), G gates of
H units. The input's share of all steps is one product, x (N*T, F) @ weight_x; each step then does
one product h (N, H) @ weight_h for all its gates. Backpropagation through time runs over the whole
sequence and gathers every step's pre-activation gradient, so the weight gradients are again one
product each. Python loops run over time steps only.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassnet.checks import check_flag, check_size
from glassnet.errors import InputError, NotReadyError
from glassnet.layers.base import DeclaredShapes, Layer, Shape, check_rank, created, shape_error
from glassnet.parameter import Parameter

State = np.ndarray | tuple[np.ndarray, np.ndarray]  # h (N, H), or (h, c) for the LSTM


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) written with tanh, which never overflows."""
    y: np.ndarray = 0.5 * (1 + np.tanh(0.5 * x))
    return y


class Recurrent(Layer):
    """The base of RNN, LSTM and GRU: parameters, shapes, the input product and the weight gradients.

    A subclass sets `gates` and `name`, and writes `steps` (the forward loop over time) and
    `back_steps` (backpropagation through time). `forward(x, initial_state)` takes an optional
    state and leaves the last one in `final_state` (to continue from); after `backward`,
    `initial_state_grad` holds the initial state's gradient.

    Args:
        in_features: F, the features of each time step.
        hidden: H, the units of the state.
        return_sequences: give every step's state (N, T, H) instead of the last one (N, H).

    Shapes:
        input (N, T, F) -> output (N, H), or (N, T, H) with return_sequences;
        weight_x (F, G*H), weight_h (H, G*H), bias (G*H,).
    """

    gates = 1
    name = "Recurrent"
    weight_x: Parameter | None = None
    weight_h: Parameter | None = None
    bias: Parameter | None = None
    bias_h: Parameter | None = None  # the GRU's bias inside its reset gate
    cache: dict[str, np.ndarray] | None = None  # what forward keeps for backward
    final_state: State | None = None  # the state after the last forward's last step

    def __init__(self, in_features: int, hidden: int, return_sequences: bool = False) -> None:
        self.in_features = check_size(in_features, "in_features", self.name)
        self.hidden = check_size(hidden, "hidden", self.name)
        self.return_sequences = check_flag(return_sequences, f"{self.name}: return_sequences")
        self.initial_state_grad: State | None = None

    @classmethod
    def declared_shapes(cls, config: dict[str, Any]) -> DeclaredShapes:
        features, hidden = config.get("in_features"), config.get("hidden")
        gates = cls.gates * hidden if isinstance(hidden, int) else None
        return {"weight_x": (features, gates), "weight_h": (hidden, gates), "bias": (gates,)}, {}

    @property
    def initialized(self) -> bool:
        return self.named_parameters().keys() == self.parameter_shapes().keys()

    def initialize(self, rng: np.random.Generator) -> None:
        """Weights uniform on +-1/sqrt(H) as PyTorch, drawn from the network's generator; biases zero."""
        shapes = self.parameter_shapes()
        limit = np.float32(1 / math.sqrt(self.hidden))
        if self.weight_x is None:
            self.weight_x = Parameter((rng.random(shapes["weight_x"], dtype=np.float32) * 2 - 1) * limit)
        if self.weight_h is None:
            self.weight_h = Parameter((rng.random(shapes["weight_h"], dtype=np.float32) * 2 - 1) * limit)
        if self.bias is None:
            self.bias = Parameter(self.initial_bias(np.zeros(shapes["bias"], dtype=np.float32)))
        if self.bias_h is None and "bias_h" in shapes:
            self.bias_h = Parameter(np.zeros(shapes["bias_h"], dtype=np.float32))

    def initial_bias(self, bias: np.ndarray) -> np.ndarray:
        """The bias's starting value (zeros; the LSTM opens its forget gate)."""
        return bias

    def named_parameters(self) -> dict[str, Parameter]:
        named = {"weight_x": self.weight_x, "weight_h": self.weight_h, "bias": self.bias, "bias_h": self.bias_h}
        return {name: param for name, param in named.items() if param is not None}

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        expected = f"(N, T, {self.in_features})"
        check_rank(
            self, input_shape, 2, expected, "pass sequences (N, T, features); an image (N, H, W, 1) as x[..., 0]"
        )
        if input_shape is None:
            return (None, self.hidden) if self.return_sequences else (self.hidden,)
        steps, features = input_shape
        if features not in (None, self.in_features):
            fix = f"the input has {features} features per step: use {self.name}({features}, {self.hidden})"
            raise shape_error(self, expected, input_shape, fix)
        return (steps, self.hidden) if self.return_sequences else (self.hidden,)

    # Forward and backward -----------------------------------------------------------------------

    def forward(self, x: np.ndarray, initial_state: State | None = None) -> np.ndarray:
        """The states for a batch of sequences, from zeros or from `initial_state`."""
        x = self.prepare_input(x)
        n, steps, features = x.shape
        by_time = np.ascontiguousarray(x.transpose(1, 0, 2)).reshape(steps * n, features)  # (T*N, F)
        weight_x, bias = created(self.weight_x, self, "weight_x"), created(self.bias, self, "bias")
        projected = by_time @ weight_x.value.astype(x.dtype, copy=False)  # (T*N, G*H)
        projected += bias.value.astype(x.dtype, copy=False)
        self.cache = {"x": by_time}
        self.given_state = initial_state is not None
        start = self.start_state(initial_state, x)
        states = self.steps(projected.reshape(steps, n, -1), start)  # (T, N, H), time first
        self.final_state = self.end_state(states)
        out: np.ndarray = states.transpose(1, 0, 2) if self.return_sequences else states[-1]  # (N, T, H) or (N, H)
        return out

    def backward(self, grad: np.ndarray) -> np.ndarray | None:
        by_time = self.stored()["x"]  # (T*N, F)
        n = len(grad)
        steps = len(by_time) // n
        if self.return_sequences:
            grad_states = grad.transpose(1, 0, 2)  # (T, N, H)
        else:
            grad_states = np.zeros((steps, n, self.hidden), dtype=grad.dtype)
            grad_states[-1] = grad
        # d_x: gradients of the input products, d_h: of the state products (T, N, G*H)
        d_x, d_h, previous, state_grad = self.back_steps(grad_states)
        self.initial_state_grad = state_grad if self.given_state else None
        weight_x, weight_h = created(self.weight_x, self, "weight_x"), created(self.weight_h, self, "weight_h")
        bias = created(self.bias, self, "bias")
        flat_x = d_x.reshape(steps * n, -1)  # (T*N, G*H)
        flat_h = d_h.reshape(steps * n, -1)  # (T*N, G*H)
        weight_x.grad = (by_time.T @ flat_x).astype(weight_x.value.dtype, copy=False)
        weight_h.grad = (previous.reshape(steps * n, -1).T @ flat_h).astype(weight_h.value.dtype, copy=False)
        bias.grad = flat_x.sum(axis=0).astype(bias.value.dtype, copy=False)
        if self.bias_h is not None:
            self.bias_h.grad = flat_h.sum(axis=0).astype(self.bias_h.value.dtype, copy=False)
        if not self.needs_input_grad:
            return None
        dx = (flat_x @ weight_x.value.astype(grad.dtype, copy=False).T).reshape(steps, n, -1)  # (T, N, F)
        out: np.ndarray = dx.transpose(1, 0, 2)  # (N, T, F)
        return out

    def start_state(self, given: State | None, x: np.ndarray) -> State:
        """Zeros (N, H), or the given state checked."""
        if given is None:
            zeros = np.zeros((len(x), self.hidden), dtype=x.dtype)
            return zeros
        return self.check_state(np.asarray(given), x)

    def end_state(self, states: np.ndarray) -> State:
        """The state after the last step, to continue from (sampling one step at a time)."""
        last: np.ndarray = states[-1]
        return last

    def check_state(self, state: np.ndarray, x: np.ndarray) -> np.ndarray:
        """One initial state array (N, H) in the input's dtype, or a clear error."""
        if state.shape != (len(x), self.hidden):
            raise InputError(
                f"{self!r} expected an initial state of shape ({len(x)}, {self.hidden}), got {state.shape}: "
                "pass one state row of hidden units per sample"
            )
        return state.astype(x.dtype, copy=False)

    def recurrent_weight(self, dtype: np.dtype) -> np.ndarray:
        """weight_h in the computation's dtype."""
        return created(self.weight_h, self, "weight_h").value.astype(dtype, copy=False)

    def steps(self, projected: np.ndarray, state: State) -> np.ndarray:
        """Run the recurrence over time, keeping in `cache` what back_steps needs.

        Shapes: projected (T, N, G*H) -> states (T, N, H).
        """
        raise NotImplementedError

    def back_steps(self, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, State]:
        """Backpropagation through time: (d_x, d_h, previous states, the initial state's gradient).

        Shapes: grad (T, N, H) -> d_x, d_h (T, N, G*H), previous (T, N, H).
        """
        raise NotImplementedError

    def stored(self) -> dict[str, np.ndarray]:
        """What the last forward kept for backward, or a clear error before any forward."""
        if self.cache is None:
            raise NotReadyError(f"{self!r} has nothing to differentiate yet: call forward(x) before backward(grad)")
        return self.cache

    def config(self) -> dict[str, Any]:
        return {"in_features": self.in_features, "hidden": self.hidden, "return_sequences": self.return_sequences}

    def __repr__(self) -> str:
        return f"{self.name}({self.in_features} -> {self.hidden})"


def shifted(states: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Each step's previous state: the first state, then states[:-1]. Shapes: (T, N, H) -> (T, N, H)."""
    return np.concatenate([first[None], states[:-1]], axis=0)
