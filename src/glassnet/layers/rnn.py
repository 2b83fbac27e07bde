"""RNN, LSTM and GRU: one step each, forward and backward, on top of layers/recurrent.py.

Gate order and equations are PyTorch's (weights transposed: ours are (in, gates * hidden)), so
its weights convert by transposing: weight_x = weight_ih.T, weight_h = weight_hh.T.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.errors import InputError
from glassnet.layers.base import DeclaredShapes
from glassnet.layers.recurrent import Recurrent, State, shifted, sigmoid


class RNN(Recurrent):
    """The plain recurrent layer: h_t = act(x_t @ W_x + h_{t-1} @ W_h + b).

    Args:
        in_features: F, the features of each time step.
        hidden: H, the units of the state.
        return_sequences: give every step's state (N, T, H) instead of the last one (N, H).
        activation: "tanh" or "relu".

    Shapes:
        input (N, T, F) -> output (N, H), or (N, T, H) with return_sequences;
        weight_x (F, H), weight_h (H, H), bias (H,).
    """

    gates = 1
    name = "RNN"

    def __init__(self, in_features: int, hidden: int, return_sequences: bool = False, activation: str = "tanh") -> None:
        super().__init__(in_features, hidden, return_sequences)
        if activation not in ("tanh", "relu"):
            raise InputError(f'RNN: activation must be "tanh" or "relu", got {activation!r}')
        self.activation = activation

    def steps(self, projected: np.ndarray, state: State) -> np.ndarray:
        h = state if isinstance(state, np.ndarray) else state[0]
        weight = self.recurrent_weight(projected.dtype)
        states = np.empty((*projected.shape[:2], self.hidden), dtype=projected.dtype)
        for t in range(len(projected)):
            a = projected[t] + h @ weight  # (N, H)
            h = np.tanh(a) if self.activation == "tanh" else np.maximum(a, 0)
            states[t] = h
        self.stored().update(states=states, first=state if isinstance(state, np.ndarray) else state[0])
        return states

    def back_steps(self, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, State]:
        cache = self.stored()
        states, weight = cache["states"], self.recurrent_weight(grad.dtype)
        d_a = np.empty_like(states)
        dh = np.zeros_like(states[0])
        for t in reversed(range(len(states))):
            dh = dh + grad[t]
            h = states[t]
            d_a[t] = dh * (1 - h * h) if self.activation == "tanh" else dh * (h > 0)
            dh = d_a[t] @ weight.T
        return d_a, d_a, shifted(states, cache["first"]), dh

    def config(self) -> dict[str, Any]:
        return {**super().config(), "activation": self.activation}


class LSTM(Recurrent):
    """Long short-term memory: gates i, f, g, o (PyTorch's order) from one product per step.

    z = x_t @ W_x + h_{t-1} @ W_h + b, split into i, f, g, o; i, f, o = sigmoid, g = tanh;
    c_t = f * c_{t-1} + i * g; h_t = o * tanh(c_t). The forget gate's bias starts at 1.
    `forward(x, initial_state=(h0, c0))`.

    Args:
        in_features: F, the features of each time step.
        hidden: H, the units of the state.
        return_sequences: give every step's state (N, T, H) instead of the last one (N, H).

    Shapes:
        input (N, T, F) -> output (N, H), or (N, T, H) with return_sequences;
        weight_x (F, 4H), weight_h (H, 4H), bias (4H,).
    """

    gates = 4
    name = "LSTM"

    def initial_bias(self, bias: np.ndarray) -> np.ndarray:
        bias[self.hidden : 2 * self.hidden] = 1  # remember by default (Jozefowicz et al., 2015)
        return bias

    def start_state(self, given: State | None, x: np.ndarray) -> State:
        if given is None:
            return np.zeros((len(x), self.hidden), dtype=x.dtype), np.zeros((len(x), self.hidden), dtype=x.dtype)
        if not isinstance(given, tuple) or len(given) != 2:
            raise InputError(f"{self!r} expected initial_state=(h0, c0), two arrays (N, {self.hidden}): pass a pair")
        return self.check_state(np.asarray(given[0]), x), self.check_state(np.asarray(given[1]), x)

    def steps(self, projected: np.ndarray, state: State) -> np.ndarray:
        h, c = state
        hid, weight = self.hidden, self.recurrent_weight(projected.dtype)
        gates = np.empty_like(projected)  # (T, N, 4H): i, f, g, o after their activations
        states = np.empty((*projected.shape[:2], hid), dtype=projected.dtype)
        cells = np.empty_like(states)
        for t in range(len(projected)):
            z = projected[t] + h @ weight  # (N, 4H)
            gate = gates[t]
            gate[:, : 2 * hid] = sigmoid(z[:, : 2 * hid])
            gate[:, 2 * hid : 3 * hid] = np.tanh(z[:, 2 * hid : 3 * hid])
            gate[:, 3 * hid :] = sigmoid(z[:, 3 * hid :])
            c = gate[:, hid : 2 * hid] * c + gate[:, :hid] * gate[:, 2 * hid : 3 * hid]
            h = gate[:, 3 * hid :] * np.tanh(c)
            cells[t], states[t] = c, h
        self.stored().update(gates=gates, states=states, cells=cells, first_h=state[0], first_c=state[1])
        return states

    def end_state(self, states: np.ndarray) -> State:
        return states[-1], self.stored()["cells"][-1]

    def back_steps(self, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, State]:
        cache = self.stored()
        gates, cells, hid = cache["gates"], cache["cells"], self.hidden
        weight = self.recurrent_weight(grad.dtype)
        tanh_cells = np.tanh(cells)
        previous_cells = shifted(cells, cache["first_c"])
        d_z = np.empty_like(gates)
        dh, dc = np.zeros_like(cells[0]), np.zeros_like(cells[0])
        for t in reversed(range(len(gates))):
            dh = dh + grad[t]
            i, f = gates[t, :, :hid], gates[t, :, hid : 2 * hid]
            g, o = gates[t, :, 2 * hid : 3 * hid], gates[t, :, 3 * hid :]
            tc = tanh_cells[t]
            dc = dc + dh * o * (1 - tc * tc)
            dz = d_z[t]
            dz[:, :hid] = dc * g * i * (1 - i)
            dz[:, hid : 2 * hid] = dc * previous_cells[t] * f * (1 - f)
            dz[:, 2 * hid : 3 * hid] = dc * i * (1 - g * g)
            dz[:, 3 * hid :] = dh * tc * o * (1 - o)
            dc = dc * f
            dh = dz @ weight.T
        return d_z, d_z, shifted(cache["states"], cache["first_h"]), (dh, dc)


class GRU(Recurrent):
    """Gated recurrent unit with PyTorch's equations: gates r, z, n from one product per step.

    a = x_t @ W_x + b, m = h_{t-1} @ W_h + b_h, each split into r, z, n parts;
    r = sigmoid(a_r + m_r), z = sigmoid(a_z + m_z), n = tanh(a_n + r * m_n);
    h_t = (1 - z) * n + z * h_{t-1}.

    Args:
        in_features: F, the features of each time step.
        hidden: H, the units of the state.
        return_sequences: give every step's state (N, T, H) instead of the last one (N, H).

    Shapes:
        input (N, T, F) -> output (N, H), or (N, T, H) with return_sequences;
        weight_x (F, 3H), weight_h (H, 3H), bias, bias_h (3H,).
    """

    gates = 3
    name = "GRU"

    @classmethod
    def declared_shapes(cls, config: dict[str, Any]) -> DeclaredShapes:
        parameters, buffers = super().declared_shapes(config)
        return {**parameters, "bias_h": parameters["bias"]}, buffers

    def steps(self, projected: np.ndarray, state: State) -> np.ndarray:
        h = state if isinstance(state, np.ndarray) else state[0]
        hid, weight = self.hidden, self.recurrent_weight(projected.dtype)
        bias_h = self.bias_h.value.astype(projected.dtype, copy=False) if self.bias_h is not None else 0
        gates = np.empty_like(projected)  # (T, N, 3H): r, z, n after their activations
        memory = np.empty((*projected.shape[:2], hid), dtype=projected.dtype)  # m_n per step
        states = np.empty_like(memory)
        for t in range(len(projected)):
            m = h @ weight + bias_h  # (N, 3H)
            a = projected[t]
            gate = gates[t]
            gate[:, : 2 * hid] = sigmoid(a[:, : 2 * hid] + m[:, : 2 * hid])
            gate[:, 2 * hid :] = np.tanh(a[:, 2 * hid :] + gate[:, :hid] * m[:, 2 * hid :])
            memory[t] = m[:, 2 * hid :]
            n = gate[:, 2 * hid :]
            h = n + gate[:, hid : 2 * hid] * (h - n)
            states[t] = h
        first = state if isinstance(state, np.ndarray) else state[0]
        self.stored().update(gates=gates, memory=memory, states=states, first=first)
        return states

    def back_steps(self, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, State]:
        cache = self.stored()
        gates, memory, hid = cache["gates"], cache["memory"], self.hidden
        weight = self.recurrent_weight(grad.dtype)
        previous = shifted(cache["states"], cache["first"])
        d_x, d_h = np.empty_like(gates), np.empty_like(gates)
        dh = np.zeros_like(previous[0])
        for t in reversed(range(len(gates))):
            dh = dh + grad[t]
            r, z, n = gates[t, :, :hid], gates[t, :, hid : 2 * hid], gates[t, :, 2 * hid :]
            d_n = dh * (1 - z) * (1 - n * n)  # at n's pre-activation
            d_x[t, :, :hid] = d_n * memory[t] * r * (1 - r)
            d_x[t, :, hid : 2 * hid] = dh * (previous[t] - n) * z * (1 - z)
            d_x[t, :, 2 * hid :] = d_n
            d_h[t, :, : 2 * hid] = d_x[t, :, : 2 * hid]
            d_h[t, :, 2 * hid :] = d_n * r
            dh = dh * z + d_h[t] @ weight.T
        return d_x, d_h, previous, dh
