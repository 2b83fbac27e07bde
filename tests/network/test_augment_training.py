"""fit(augment=...): same seed same run, resumed runs bit-identical, saved with the model, images only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
from glassnet.errors import InputError
from tests.io.test_checkpoint import X, Y, assert_identical, build

AUGMENT = gn.augment.Compose([gn.augment.RandomAffine(shift=0.1, rotation=10, scale=0.1), gn.augment.Elastic(4.0, 2.0)])


def test_same_seed_same_run_and_augmentation_changes_the_run() -> None:
    first = build().fit(X, Y, epochs=2, augment=AUGMENT)
    again = build().fit(X, Y, epochs=2, augment=AUGMENT)
    plain = build().fit(X, Y, epochs=2)
    assert_identical(first, again)
    assert not np.array_equal(first.parameters()[0].value, plain.parameters()[0].value)


def test_a_resumed_augmented_run_is_bit_identical(tmp_path: Path) -> None:
    whole = build().fit(X, Y, epochs=3, augment=AUGMENT, validation_split=0.25)
    build().fit(X, Y, epochs=1, augment=AUGMENT, validation_split=0.25, checkpoint=tmp_path / "c.npz")
    resumed = build().fit(X, Y, epochs=3, validation_split=0.25, resume=tmp_path / "c.npz")  # augment from the file
    assert resumed.augment == AUGMENT
    assert_identical(whole, resumed)


def test_the_batches_seen_are_augmented_and_evaluation_is_not() -> None:
    seen: list[np.ndarray] = []

    class Spy(gn.Layer):
        def forward(self, x: np.ndarray) -> np.ndarray:
            seen.append(x.copy())
            return x

        def backward(self, grad: np.ndarray) -> np.ndarray:
            return grad

    net = gn.Network(batch_size=96, seed=0, verbose=0, optimizer="adam")
    net.add(Spy()).add(gn.Flatten()).add(gn.Dense(36, 3)).add(gn.Softmax()).use("cross_entropy")
    net.fit(X, Y, epochs=1, shuffle=False, augment=gn.augment.RandomAffine(shift=0.2))
    assert not np.array_equal(seen[0], X)
    net.evaluate(X, Y)
    np.testing.assert_array_equal(seen[-1], X)


def test_augmenting_something_else_than_images_is_a_clear_error() -> None:
    net = gn.Network(verbose=0).add(gn.Dense(4, 2)).add(gn.Softmax()).use("cross_entropy")
    with pytest.raises(InputError, match=r"augments images \(N, H, W, C\), but one sample has shape \(4,\)"):
        net.fit(np.zeros((8, 4)), np.zeros(8, dtype=int), augment=gn.augment.RandomAffine(shift=0.1))
