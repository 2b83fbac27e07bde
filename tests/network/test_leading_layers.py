"""fit skips the input gradient nobody reads: the leading parameter-free layers and the first layer after them."""

from __future__ import annotations

import numpy as np

import glassnet as gn
from glassnet.network.plan import leading_layers

X = np.random.default_rng(0).random((64, 6, 6, 1), dtype=np.float32)
Y = np.arange(64) % 3


class Counting(gn.Flatten):
    """A Flatten defined outside glassnet (a custom layer): counts its backward calls."""

    calls = 0

    def backward(self, grad: np.ndarray) -> np.ndarray | None:
        Counting.calls += 1
        return super().backward(grad)


def test_the_leading_run_ends_at_the_first_layer_with_parameters_or_of_the_users() -> None:
    flatten, dense, relu, out = gn.Flatten(), gn.Dense(36, 8), gn.ReLU(), gn.Dense(8, 3)
    net = gn.Network(seed=0).add(flatten).add(dense).add(relu).add(out)  # parameters drawn when added
    assert leading_layers(net.layers) == [flatten, dense]
    custom = Counting()
    assert leading_layers([custom, dense]) == [custom]  # its backward may do work of its own
    shared = gn.ReLU()
    assert leading_layers([shared, dense, shared, out]) == [dense]  # shared: its input gradient is needed later


def test_fit_never_computes_the_first_dense_layers_input_gradient(monkeypatch) -> None:
    seen: list[bool] = []
    backward = gn.Flatten.backward
    monkeypatch.setattr(gn.Flatten, "backward", lambda self, grad: seen.append(True) or backward(self, grad))
    dense_dx: list[bool] = []
    dense_backward = gn.Dense.backward
    monkeypatch.setattr(
        gn.Dense, "backward", lambda self, grad: dense_dx.append((r := dense_backward(self, grad)) is not None) or r
    )
    net = (
        gn.Network(seed=0, epochs=1, batch_size=16, verbose=0)
        .add(gn.Flatten())
        .add(gn.Dense(36, 8))
        .add(gn.ReLU())
        .add(gn.Dense(8, 3))
        .add(gn.Softmax())
        .use("cross_entropy")
    )
    net.fit(X, Y)
    assert seen == [] and dense_dx == [True, False] * 4  # the second Dense passes its gradient on, the first not
    assert all(layer.needs_input_grad for layer in net.layers)  # back on after fit: a layer used alone works
    assert net.check_gradients(X[:4], Y[:4]).ok


def test_a_custom_first_layers_backward_still_runs() -> None:
    Counting.calls = 0
    net = gn.Network(seed=0, epochs=1, batch_size=16, verbose=0).add(Counting()).add(gn.Dense(36, 3))
    net.add(gn.Softmax()).use("cross_entropy").fit(X, Y)
    assert Counting.calls == 4
