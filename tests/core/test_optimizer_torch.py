"""Optimizers, gradient clipping and label smoothing against PyTorch, over several steps at float64.

One parameter gets its first gradient only on the third step, so per-parameter state (Adam's step
count, the moments) must start when that parameter's gradient does, as in PyTorch.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn

torch = pytest.importorskip("torch")

CASES = [
    ("Adam", {"weight_decay": 0.1}, {"beta1": 0.8, "beta2": 0.95, "weight_decay": 0.1}, {"betas": (0.8, 0.95)}),
    ("AdamW", {"weight_decay": 0.1}, {"beta1": 0.8, "beta2": 0.95, "weight_decay": 0.1}, {"betas": (0.8, 0.95)}),
    ("RMSprop", {}, {"alpha": 0.9}, {"alpha": 0.9}),
    ("RMSprop", {}, {"alpha": 0.9, "momentum": 0.5, "centered": True, "weight_decay": 0.01}, None),
    ("Adagrad", {}, {"initial_accumulator_value": 0.1, "weight_decay": 0.01}, None),
]


@pytest.mark.parametrize(("name", "shared", "ours", "theirs"), CASES)
def test_optimizer_matches_torch_over_steps(name: str, shared: dict, ours: dict, theirs: dict | None) -> None:
    rng = np.random.default_rng(0)
    values = [rng.normal(size=(3, 4)), rng.normal(size=(5,))]
    grads = [[rng.normal(size=v.shape) for v in values] for _ in range(6)]
    params = [gn.Parameter(v.copy()) for v in values]
    tensors = [torch.nn.Parameter(torch.tensor(v.copy())) for v in values]
    optimizer = getattr(gn.optimizers, name)(0.05, **ours)
    theirs = theirs if theirs is not None else {k: v for k, v in ours.items()}
    reference = getattr(torch.optim, name)(tensors, lr=0.05, **{**shared, **theirs})
    for step, step_grads in enumerate(grads):
        for index, (param, tensor, grad) in enumerate(zip(params, tensors, step_grads, strict=True)):
            late = index == 1 and step < 2  # the second parameter has no gradient on the first two steps
            param.grad = None if late else grad.copy()
            tensor.grad = None if late else torch.tensor(grad.copy())
        optimizer.step(params)
        reference.step()
        for param, tensor in zip(params, tensors, strict=True):
            np.testing.assert_allclose(param.value, tensor.detach().numpy(), rtol=1e-10, atol=1e-13)


def test_clip_norm_matches_clip_grad_norm() -> None:
    rng = np.random.default_rng(1)
    grads = [rng.normal(size=(4, 3)) * 3, rng.normal(size=(3,))]
    params = [gn.Parameter(np.zeros_like(g)) for g in grads]
    tensors = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads]
    for param, tensor, grad in zip(params, tensors, grads, strict=True):
        param.grad, tensor.grad = grad.copy(), torch.tensor(grad.copy())
    norm = gn.optimizers.clip_by_global_norm(params, 2.0)
    want = torch.nn.utils.clip_grad_norm_(tensors, 2.0)
    assert norm == pytest.approx(float(want), rel=1e-12)
    for param, tensor in zip(params, tensors, strict=True):
        np.testing.assert_allclose(param.grad, tensor.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.3])
def test_label_smoothing_matches_torch_cross_entropy(smoothing: float) -> None:
    rng = np.random.default_rng(2)
    logits, labels = rng.normal(size=(6, 5)) * 3, rng.integers(0, 5, 6)
    loss = gn.losses.CrossEntropy(label_smoothing=smoothing)
    value, grad = loss.from_logits(np.eye(5)[labels], logits)
    tensor = torch.tensor(logits, requires_grad=True)
    want = torch.nn.functional.cross_entropy(tensor, torch.tensor(labels), label_smoothing=smoothing)
    want.backward()
    assert value == pytest.approx(float(want.detach()), rel=1e-12)
    np.testing.assert_allclose(grad, tensor.grad.numpy(), rtol=1e-10, atol=1e-15)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert loss(np.eye(5)[labels], probs) == pytest.approx(float(want.detach()), rel=1e-10)
