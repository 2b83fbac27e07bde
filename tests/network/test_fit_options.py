"""fit's per-step options: gradient clipping by global norm."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet.errors import InputError

RNG = np.random.default_rng(4)
X = RNG.normal(size=(64, 5)).astype(np.float32) * 10
Y = RNG.integers(0, 3, 64)


def net() -> gn.Network:
    return (
        gn.Network(batch_size=16, learning_rate=1.0, seed=0, verbose=0)
        .add(gn.Dense(5, 3))
        .add(gn.Softmax())
        .use("cross_entropy")
    )


def test_clip_norm_bounds_every_step() -> None:
    # Plain SGD with rate 1: each step moves the parameters by exactly the (clipped) gradient.
    moves = []

    class Watch(gn.optimizers.SGD):
        def step(self, params: list[gn.Parameter]) -> None:
            before = np.concatenate([p.value.ravel() for p in params])
            super().step(params)
            moves.append(np.linalg.norm(np.concatenate([p.value.ravel() for p in params]) - before))

    clipped = net()
    clipped.optimizer = Watch(1.0)
    clipped.fit(X, Y, epochs=2, clip_norm=0.01)
    assert len(moves) == 8 and max(moves) <= 0.01 * (1 + 1e-5)
    assert min(moves) > 0.005  # the unclipped gradients are far larger: every step was clipped


def test_a_large_clip_norm_changes_nothing() -> None:
    plain, loose = net().fit(X, Y, epochs=2), net().fit(X, Y, epochs=2, clip_norm=1e9)
    for a, b in zip(plain.parameters(), loose.parameters(), strict=True):
        np.testing.assert_array_equal(a.value, b.value)


def test_clip_norm_is_checked() -> None:
    with pytest.raises(InputError, match="clip_norm"):
        net().fit(X, Y, clip_norm=0)
