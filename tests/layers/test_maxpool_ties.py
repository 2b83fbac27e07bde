"""Max-pool ties on every window shape and code path: the first maximum in row-major order takes the gradient.

PyTorch's rule, and MaxPool2D's documented one. Each input below is written out with the tied
maxima placed so that the row-major first, the column-major first and the last maximum are
different cells: sending the gradient to any other than the first in row-major order fails.
The paths: plain NumPy and the compiled kernels (gn.set_fast), each alone and fused after a ReLU
(MaxPool2D.forward_relu, what a Network runs for ReLU then MaxPool2D).
"""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet.network.plan import ReLUMaxPool, fuse


def image(rows: list[list[float]]) -> np.ndarray:
    """A (1, H, W, 1) float64 image from its rows."""
    return np.array(rows, dtype=np.float64)[None, :, :, None]


def pool_gradient(pool: gn.MaxPool2D, x: np.ndarray, grad: list[list[float]], relu: bool) -> np.ndarray:
    """dLoss/dx (H, W) for the output gradient `grad`, through forward or forward_relu."""
    out = pool.forward_relu(x) if relu else pool.forward(x)
    g = np.array(grad, dtype=np.float64)[None, :, :, None]
    assert out.shape == g.shape
    return pool.backward(g)[0, :, :, 0]


# 3x3 windows of stride 3 on a 3 x 6 image: two windows.
# Window 1 holds 5 at (0, 2), (1, 0) and (2, 1): row-major first (0, 2); column-major first (1, 0);
# last (2, 1). Window 2 is all 1: its first is its top-left (0, 3), its last (2, 5).
X_3X3 = [
    [0.0, 1.0, 5.0, 1.0, 1.0, 1.0],
    [5.0, 0.0, 0.0, 1.0, 1.0, 1.0],
    [0.0, 5.0, 0.0, 1.0, 1.0, 1.0],
]
DX_3X3 = [
    [0.0, 0.0, 2.0, 3.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
]  # output gradient [[2, 3]]: 2 to (0, 2), 3 to (0, 3)

# 3x3 windows of stride 2 on 5 x 5: four overlapping windows at rows/cols 0 and 2, all sharing (2, 2).
# Maxima 1 at (1, 2), (2, 1), (2, 2):
#   window (0, 0) [rows 0-2, cols 0-2] holds all three: first (1, 2) (column-major first (2, 1), last (2, 2))
#   window (0, 1) [rows 0-2, cols 2-4] holds (1, 2), (2, 2): first (1, 2)
#   window (1, 0) [rows 2-4, cols 0-2] holds (2, 1), (2, 2): first (2, 1)
#   window (1, 1) [rows 2-4, cols 2-4] holds (2, 2) alone
X_OVERLAP = [
    [0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 1.0, 0.0, 0.0],
    [0.0, 1.0, 1.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0],
]
DX_OVERLAP = [
    [0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 1.0 + 2.0, 0.0, 0.0],
    [0.0, 3.0, 4.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0],
]  # output gradient [[1, 2], [3, 4]]; sent to the last maximum, (2, 2) would get 1 + 2 + 3 + 4

# 2x3 windows (stride (2, 3)) on 2 x 6: two windows.
# Window 1 holds 4 at (0, 2) and (1, 0): row-major first (0, 2), column-major first (1, 0).
# Window 2 holds 7 at (1, 3) and (0, 5): row-major first (0, 5), column-major first (1, 3).
X_2X3 = [
    [1.0, 0.0, 4.0, 0.0, 0.0, 7.0],
    [4.0, 0.0, 0.0, 7.0, 0.0, 0.0],
]
DX_2X3 = [
    [0.0, 0.0, 5.0, 0.0, 0.0, 6.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
]  # output gradient [[5, 6]]

# 2x2 windows of stride 2 (the fast path's kernels) on 2 x 4: window 1 ties (0, 1) and (1, 0): first (0, 1);
# window 2 ties (1, 2) and (1, 3): first (1, 2) (the last would be (1, 3)).
X_2X2 = [
    [0.0, 3.0, 0.0, 0.0],
    [3.0, 0.0, 2.0, 2.0],
]
DX_2X2 = [
    [0.0, 8.0, 0.0, 0.0],
    [0.0, 0.0, 9.0, 0.0],
]  # output gradient [[8, 9]]

CASES = {
    "3x3 stride 3": (gn.MaxPool2D(3, stride=3), X_3X3, [[2.0, 3.0]], DX_3X3),
    "3x3 stride 2": (gn.MaxPool2D(3, stride=2), X_OVERLAP, [[1.0, 2.0], [3.0, 4.0]], DX_OVERLAP),
    "2x3": (gn.MaxPool2D((2, 3)), X_2X3, [[5.0, 6.0]], DX_2X3),
    "2x2 stride 2": (gn.MaxPool2D(2), X_2X2, [[8.0, 9.0]], DX_2X2),
}


@pytest.mark.parametrize("relu", [False, True], ids=["alone", "after ReLU"])
@pytest.mark.parametrize("case", CASES)
def test_the_first_maximum_in_row_major_order_takes_the_gradient(case: str, relu: bool, either_path: bool) -> None:
    pool, x, grad, want = CASES[case]
    np.testing.assert_array_equal(pool_gradient(pool, image(x), grad, relu), np.array(want))


@pytest.mark.parametrize("case", CASES)
def test_after_a_relu_a_window_without_a_positive_value_passes_no_gradient(case: str, either_path: bool) -> None:
    # every input negated: each window's maximum is 0 or negative, ReLU makes it an all-zero tie, and
    # no cell gets a gradient (ReLU's gradient at 0 is 0)
    pool, x, grad, _ = CASES[case]
    np.testing.assert_array_equal(pool_gradient(pool, -image(x), grad, relu=True), 0.0)
    np.testing.assert_array_equal(pool_gradient(pool, -1.0 - image(x), grad, relu=True), 0.0)


def test_a_network_runs_relu_then_maxpool_through_the_fused_step() -> None:
    # the after-ReLU cases above test the step a Network takes for ReLU followed by MaxPool2D
    relu, pool = gn.ReLU(), gn.MaxPool2D(3, stride=2)
    steps = fuse([relu, pool])
    assert len(steps) == 1 and isinstance(steps[0], ReLUMaxPool) and steps[0].pool is pool


@pytest.mark.parametrize("fuse_relu_pool", [True, False])
def test_inside_a_network_the_tie_rule_holds_on_the_input_gradient(fuse_relu_pool: bool, either_path: bool) -> None:
    # Conv2D 1x1 with weight 1 and bias 0 passes the image through; after predict (fused or not), the
    # pool's backward (then the ReLU's, when they ran apart) sends the gradient as in the overlapping case
    net = gn.Network(seed=0, verbose=0).add(gn.Conv2D(1, 1, 1)).add(gn.ReLU()).add(gn.MaxPool2D(3, stride=2))
    net.fuse_relu_pool = fuse_relu_pool
    conv = net.layers[0]
    conv.weight.value = np.ones((1, 1, 1, 1))
    conv.bias.value = np.zeros(1)
    out = net.predict(image(X_OVERLAP))
    np.testing.assert_array_equal(out[0, :, :, 0], [[1.0, 1.0], [1.0, 1.0]])
    pool = net.layers[2]
    relu_grad = pool.backward(np.array([[1.0, 2.0], [3.0, 4.0]])[None, :, :, None])
    if not fuse_relu_pool:
        relu_grad = net.layers[1].backward(relu_grad)
    np.testing.assert_array_equal(relu_grad[0, :, :, 0], np.array(DX_OVERLAP))
