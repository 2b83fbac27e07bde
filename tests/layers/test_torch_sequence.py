"""Sequence layers against PyTorch at float64, forward and backward, after converting the weight layouts.

Skipped without torch. `python tests/layers/test_torch_sequence.py` prints each layer's largest
difference from PyTorch.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn

torch = pytest.importorskip("torch")
TOLERANCE = 1e-10


def tensor(x: np.ndarray) -> torch.Tensor:
    return torch.tensor(x, requires_grad=True)


def float64_parameters(layer: gn.Layer, rng: np.random.Generator) -> gn.Layer:
    """The layer's parameters drawn as float64 normals (biases too, so that they are tested)."""
    layer.initialize(rng)
    for param in layer.parameters():
        param.value = rng.standard_normal(param.shape) * 0.5
    return layer


def largest(pairs: dict[str, tuple[np.ndarray, torch.Tensor]]) -> dict[str, float]:
    """The largest absolute difference of each (ours, torch's) pair."""
    return {name: float(np.abs(ours - theirs.detach().numpy()).max()) for name, (ours, theirs) in pairs.items()}


def recurrent_difference(kind: str, rng: np.random.Generator, return_sequences: bool, with_state: bool) -> dict:
    """Run one of RNN, LSTM, GRU in both libraries from the same weights, and compare."""
    n, steps, features, hidden = 3, 5, 4, 6
    layer = float64_parameters(getattr(gn, kind)(features, hidden, return_sequences=return_sequences), rng)
    module = getattr(torch.nn, kind)(features, hidden, batch_first=True).double()
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.tensor(layer.weight_x.value.T))
        module.weight_hh_l0.copy_(torch.tensor(layer.weight_h.value.T))
        module.bias_ih_l0.copy_(torch.tensor(layer.bias.value))
        module.bias_hh_l0.copy_(torch.tensor(layer.bias_h.value if kind == "GRU" else np.zeros(layer.bias.shape)))
    x = rng.standard_normal((n, steps, features))
    h0, c0 = rng.standard_normal((n, hidden)), rng.standard_normal((n, hidden))
    state = ((h0, c0) if kind == "LSTM" else h0) if with_state else None
    out = layer.forward(x, initial_state=state)
    grad = rng.standard_normal(out.shape)
    dx = layer.backward(grad)

    xt, h0t, c0t = tensor(x), tensor(h0[None]), tensor(c0[None])
    torch_state = ((h0t, c0t) if kind == "LSTM" else h0t) if with_state else None
    sequence, _ = module(xt, torch_state)
    ot = sequence if return_sequences else sequence[:, -1]
    ot.backward(torch.tensor(grad))
    pairs = {
        "output": (out, ot),
        "input grad": (dx, xt.grad),
        "weight_x grad": (layer.weight_x.grad, module.weight_ih_l0.grad.T),
        "weight_h grad": (layer.weight_h.grad, module.weight_hh_l0.grad.T),
        "bias grad": (layer.bias.grad, module.bias_ih_l0.grad),
    }
    if kind == "GRU":
        pairs["bias_h grad"] = (layer.bias_h.grad, module.bias_hh_l0.grad)
    if with_state:
        h_grad = layer.initial_state_grad[0] if kind == "LSTM" else layer.initial_state_grad
        pairs["h0 grad"] = (h_grad, h0t.grad[0])
        if kind == "LSTM":
            pairs["c0 grad"] = (layer.initial_state_grad[1], c0t.grad[0])
    return largest(pairs)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize(("return_sequences", "with_state"), [(False, False), (True, True), (False, True)])
def test_recurrent_layers_match_torch(kind, return_sequences, with_state, rng):
    differences = recurrent_difference(kind, rng, return_sequences, with_state)
    assert max(differences.values()) < TOLERANCE, differences


def embedding_difference(rng: np.random.Generator) -> dict:
    layer = float64_parameters(gn.Embedding(7, 3), rng)
    ids = rng.integers(0, 7, (4, 9))  # 36 ids of 7 tokens: many repeats, summed in the gradient
    out = layer.forward(ids)
    grad = rng.standard_normal(out.shape)
    layer.backward(grad)
    module = torch.nn.Embedding(7, 3).double()
    with torch.no_grad():
        module.weight.copy_(torch.tensor(layer.weight.value))
    ot = module(torch.tensor(ids))
    ot.backward(torch.tensor(grad))
    return largest({"output": (out, ot), "weight grad": (layer.weight.grad, module.weight.grad)})


def test_embedding_matches_torch(rng):
    differences = embedding_difference(rng)
    assert max(differences.values()) < TOLERANCE, differences


def layer_norm_difference(rng: np.random.Generator) -> dict:
    layer = float64_parameters(gn.LayerNorm(5), rng)
    x = rng.standard_normal((3, 4, 5)) * 3 + 1
    out = layer.forward(x)
    grad = rng.standard_normal(out.shape)
    dx = layer.backward(grad)
    module = torch.nn.LayerNorm(5).double()
    with torch.no_grad():
        module.weight.copy_(torch.tensor(layer.gamma.value))
        module.bias.copy_(torch.tensor(layer.beta.value))
    xt = tensor(x)
    ot = module(xt)
    ot.backward(torch.tensor(grad))
    return largest(
        {
            "output": (out, ot),
            "input grad": (dx, xt.grad),
            "gamma grad": (layer.gamma.grad, module.weight.grad),
            "beta grad": (layer.beta.grad, module.bias.grad),
        }
    )


def test_layer_norm_matches_torch(rng):
    differences = layer_norm_difference(rng)
    assert max(differences.values()) < TOLERANCE, differences


def attention_difference(rng: np.random.Generator, heads: int, causal: bool) -> dict:
    n, steps, dim = 2, 5, 8
    layer = float64_parameters(gn.MultiHeadAttention(dim, heads, causal=causal), rng)
    x = rng.standard_normal((n, steps, dim))
    out = layer.forward(x)
    grad = rng.standard_normal(out.shape)
    dx = layer.backward(grad)
    module = torch.nn.MultiheadAttention(dim, heads, batch_first=True).double()
    with torch.no_grad():
        module.in_proj_weight.copy_(torch.tensor(layer.weight_qkv.value.T))
        module.in_proj_bias.copy_(torch.tensor(layer.bias_qkv.value))
        module.out_proj.weight.copy_(torch.tensor(layer.weight_out.value.T))
        module.out_proj.bias.copy_(torch.tensor(layer.bias_out.value))
    xt = tensor(x)
    mask = torch.triu(torch.ones(steps, steps, dtype=torch.bool), diagonal=1) if causal else None
    ot, _ = module(xt, xt, xt, attn_mask=mask, need_weights=False)
    ot.backward(torch.tensor(grad))
    return largest(
        {
            "output": (out, ot),
            "input grad": (dx, xt.grad),
            "weight_qkv grad": (layer.weight_qkv.grad, module.in_proj_weight.grad.T),
            "bias_qkv grad": (layer.bias_qkv.grad, module.in_proj_bias.grad),
            "weight_out grad": (layer.weight_out.grad, module.out_proj.weight.grad.T),
            "bias_out grad": (layer.bias_out.grad, module.out_proj.bias.grad),
        }
    )


@pytest.mark.parametrize(("heads", "causal"), [(1, False), (2, False), (4, True)])
def test_multi_head_attention_matches_torch(heads, causal, rng):
    differences = attention_difference(rng, heads, causal)
    assert max(differences.values()) < TOLERANCE, differences


def print_table() -> None:
    """Each layer's largest difference from PyTorch, over output and every gradient."""
    rng = np.random.default_rng(0)
    rows: dict[str, dict] = {}
    for kind in ("RNN", "LSTM", "GRU"):
        rows[f"{kind} (last state)"] = recurrent_difference(kind, rng, False, False)
        rows[f"{kind} (sequences, initial state)"] = recurrent_difference(kind, rng, True, True)
    rows["Embedding"] = embedding_difference(rng)
    rows["LayerNorm"] = layer_norm_difference(rng)
    rows["MultiHeadAttention (2 heads)"] = attention_difference(rng, 2, False)
    rows["MultiHeadAttention (4 heads, causal)"] = attention_difference(rng, 4, True)
    for name, differences in rows.items():
        print(f"{name:40} {max(differences.values()):.1e}")


if __name__ == "__main__":
    print_table()
