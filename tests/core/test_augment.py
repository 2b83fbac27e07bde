"""gn.augment: exact results for maps worked out by hand, the smoothing against scipy, draws and configs."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet.augment import build_augmentation, describe_augmentation, gaussian_smooth, resample
from glassnet.errors import InputError, InputTypeError

A = gn.augment
RNG = np.random.default_rng(0)
X = RNG.random((5, 8, 8, 2), dtype=np.float32)


def identity_draws(n: int, tx: float = 0.0, ty: float = 0.0) -> np.ndarray:
    """RandomAffine draws of the identity map, shifted by (tx, ty) as fractions of the size."""
    return np.tile(np.array([1.0, 0.0, 0.0, 1.0, tx, ty]), (n, 1))


def test_the_identity_changes_nothing() -> None:
    np.testing.assert_array_equal(A.RandomAffine().apply(X, identity_draws(5)), X)
    np.testing.assert_array_equal(A.RandomAffine()(X, np.random.default_rng(1)), X)  # all ranges 0
    np.testing.assert_array_equal(A.Elastic(alpha=0.0)(X, np.random.default_rng(1)), X)


def test_a_whole_pixel_shift_moves_the_image_and_fills_zeros() -> None:
    out = A.RandomAffine().apply(X, identity_draws(5, tx=2 / 8, ty=-1 / 8))  # right 2, up 1
    want = np.zeros_like(X)
    want[:, :-1, 2:] = X[:, 1:, :-2]
    np.testing.assert_allclose(out, want, atol=1e-6)


def test_a_quarter_turn_is_rot90() -> None:
    # np.rot90: out[i, j] = in[j, W - 1 - i]; about the centre c, output (u, v) = (j - c, i - c) reads
    # source x = W - 1 - i - c = -v and y = j - c = u: the inverse map [[0, -1], [1, 0]]
    draws = np.tile(np.array([0.0, -1.0, 1.0, 0.0, 0.0, 0.0]), (5, 1))
    out = A.RandomAffine().apply(X, draws)
    np.testing.assert_allclose(out, np.rot90(X, k=1, axes=(1, 2)), atol=1e-5)


def test_bilinear_halfway_is_the_mean_of_neighbours() -> None:
    x = np.arange(16, dtype=np.float64).reshape(1, 4, 4, 1)
    sy, sx = np.array([[1.0, 1.5, -5.0]]), np.array([[0.5, 1.0, 0.0]])
    out = resample(
        np.pad(x, [(0, 0), (0, 0), (0, 0), (0, 0)]), np.pad(sy, [(0, 0), (0, 13)]), np.pad(sx, [(0, 0), (0, 13)])
    )
    flat = out.reshape(16)
    assert flat[0] == pytest.approx((4 + 5) / 2)  # (1, 0.5): between x[1, 0] and x[1, 1]
    assert flat[1] == pytest.approx((5 + 9) / 2)  # (1.5, 1): between x[1, 1] and x[2, 1]
    assert flat[2] == 0.0  # outside


def test_draws_are_per_sample_and_follow_the_generator() -> None:
    affine = A.RandomAffine(shift=0.1, rotation=15, scale=0.1, shear=10)
    first, again = affine(X, np.random.default_rng(3)), affine(X, np.random.default_rng(3))
    np.testing.assert_array_equal(first, again)
    drawn = affine.draw(np.random.default_rng(3), 5)
    for i in range(5):  # each sample alone with its own draw: the same result as in the batch
        np.testing.assert_allclose(affine.apply(X[i : i + 1], affine.select(drawn, np.array([i]))), first[i : i + 1])
    assert first.dtype == np.float32 and not np.array_equal(first, X)


def test_elastic_smoothing_is_scipys_gaussian_filter() -> None:
    ndimage = pytest.importorskip("scipy.ndimage")
    fields = RNG.uniform(-1, 1, (3, 12, 9))
    for sigma in (1.0, 4.0):
        want = np.stack([ndimage.gaussian_filter(f, sigma, mode="reflect") for f in fields])
        np.testing.assert_allclose(gaussian_smooth(fields, sigma), want, atol=1e-12)


def test_elastic_moves_pixels_by_about_alpha_times_the_smoothed_field() -> None:
    elastic = A.Elastic(alpha=2.0, sigma=3.0)
    out = elastic(X, np.random.default_rng(0))
    assert out.shape == X.shape and out.dtype == X.dtype and not np.array_equal(out, X)


def test_compose_applies_in_order_and_configs_round_trip() -> None:
    composed = A.Compose([A.RandomAffine(shift=0.1, rotation=5), A.Elastic(alpha=8.0, sigma=3.0)])
    out = composed(X, np.random.default_rng(2))
    rng = np.random.default_rng(2)
    first = composed.augmentations[0].draw(rng, 5)
    second = composed.augmentations[1].draw(rng, 5)
    want = composed.augmentations[1].apply(composed.augmentations[0].apply(X, first), second)
    np.testing.assert_array_equal(out, want)
    assert build_augmentation(describe_augmentation(composed)) == composed


def test_bad_arguments_are_clear_errors() -> None:
    with pytest.raises(InputError, match=r"rotation must be a number in \[0, 180\]"):
        A.RandomAffine(rotation=200)
    with pytest.raises(InputError, match="takes float images"):
        A.RandomAffine(shift=0.1)(np.zeros((2, 8)), RNG)
    with pytest.raises(InputTypeError, match=r"augmentations\[1\] must be a gn\.augment augmentation"):
        A.Compose([A.Elastic(), "flip"])  # type: ignore[list-item]
    with pytest.raises(InputError, match="unknown augmentation 'Flip'"):
        build_augmentation({"type": "Flip", "config": {}})
    with pytest.raises(InputTypeError, match=r"augment must be a gn\.augment augmentation"):
        gn.Network().add(gn.Dense(2, 2)).use("mse").fit(np.zeros((4, 2)), np.zeros((4, 2)), augment="affine")
