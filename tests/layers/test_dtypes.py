"""No float64 anywhere in a float32 training step: every array the layers, the loss and the
optimizer produce is checked, by wrapping each layer's forward and backward."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pytest

import glassnet as gn
from glassnet.layers import maxpool2x2 as fast

Recorded = list[tuple[str, np.ndarray]]


def m1() -> gn.Network:
    return gn.Network(seed=0).add(gn.Dense(36, 16)).add(gn.ReLU()).add(gn.Dense(16, 10)).add(gn.Softmax())


def m2() -> gn.Network:
    return (
        gn.Network(seed=0)
        .add(gn.Conv2D(1, 4, 3))  # (N, 10, 10, 4)
        .add(gn.ReLU())
        .add(gn.MaxPool2D(2))  # (N, 5, 5, 4)
        .add(gn.Flatten())
        .add(gn.Dense(100, 10))
        .add(gn.Softmax())
    )


def m3() -> gn.Network:
    return (
        gn.Network(seed=0)
        .add(gn.Conv2D(1, 4, 3))  # (N, 10, 10, 4)
        .add(gn.ReLU())
        .add(gn.MaxPool2D(2))  # (N, 5, 5, 4)
        .add(gn.Conv2D(4, 8, 3))  # (N, 3, 3, 8)
        .add(gn.ReLU())
        .add(gn.MaxPool2D(2))  # (N, 1, 1, 8): the odd last row and column belong to no window
        .add(gn.Flatten())
        .add(gn.Dense(8, 16))
        .add(gn.ReLU())
        .add(gn.Dense(16, 10))
        .add(gn.Softmax())
    )


def every_layer() -> gn.Network:
    return (
        gn.Network(seed=0)
        .add(gn.Conv2D(1, 4, 3, padding="same"))  # (N, 12, 12, 4)
        .add(gn.BatchNorm(4))
        .add(gn.LeakyReLU())
        .add(gn.MaxPool2D(3, stride=2, padding=1))  # (N, 6, 6, 4)
        .add(gn.AvgPool2D(2))  # (N, 3, 3, 4)
        .add(gn.Tanh())
        .add(gn.Flatten())
        .add(gn.Dropout(0.2))
        .add(gn.Dense(36, 12))
        .add(gn.Sigmoid())
        .add(gn.Activation(np.sin, np.cos))
        .add(gn.Dense(12, 10))
        .add(gn.Softmax())
    )


NETS: dict[str, tuple[Callable[[], gn.Network], bool]] = {  # builder, flat input
    "M1": (m1, True),
    "M2": (m2, False),
    "M3": (m3, False),
    "every-layer": (every_layer, False),
}


def record_arrays(layer: gn.Layer, where: str, recorded: Recorded) -> None:
    """Wrap the layer's forward, forward_relu and backward to record what they return."""
    for name in ("forward", "forward_relu", "backward"):
        method = getattr(layer, name, None)
        if method is None:
            continue

        def wrapped(array: np.ndarray, method: Callable = method, name: str = name) -> np.ndarray:
            result = method(array)
            if result is not None:
                recorded.append((f"{where}.{name} result", result))
            return result

        setattr(layer, name, wrapped)


def arrays_held(net: gn.Network) -> Iterator[tuple[str, np.ndarray]]:
    """Every array the layers keep (inputs, patch matrices, masks...), parameters and grads."""
    for i, layer in enumerate(net.layers):
        for name, value in vars(layer).items():
            if isinstance(value, np.ndarray):
                yield f"layer {i} {layer!r}.{name}", value
        for j, param in enumerate(layer.parameters()):
            yield f"layer {i} {layer!r} param {j} value", param.value
            yield f"layer {i} {layer!r} param {j} grad", param.grad
    for j, state in enumerate(net.optimizer.state):
        for name, value in state.items():
            yield f"optimizer state {j} {name}", value


@contextmanager
def fast_path(enabled: bool) -> Iterator[None]:
    before = fast.fast_enabled()
    fast.set_fast(enabled)
    try:
        yield
    finally:
        fast.set_fast(before)


PATHS = [False, True] if importlib.util.find_spec("numba") else [False]


@pytest.mark.parametrize("fast_on", PATHS, ids=lambda on: "fast" if on else "numpy")
@pytest.mark.parametrize("targets", ["labels", "one-hot-float64"])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("net_name", list(NETS))
def test_a_float32_training_step_makes_no_float64(net_name: str, optimizer: str, targets: str, fast_on: bool) -> None:
    build, flat = NETS[net_name]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 12, 12, 1))  # float64 data: the network casts it to float32
    if flat:
        x = x[:, 3:9, 3:9].reshape(16, 36)  # (N, 36)
    y = rng.integers(0, 10, 16)
    if targets == "one-hot-float64":
        y = np.eye(10)[y]
    net = build().use("cross_entropy")
    net.optimizer = gn.optimizers.get_optimizer(optimizer, 0.1)
    recorded: Recorded = []
    for i, layer in enumerate(net.layers):
        record_arrays(layer, f"layer {i} {layer!r}", recorded)
    with fast_path(fast_on):
        net.fit(x, y, epochs=2, batch_size=8, verbose=0)
        recorded.append(("predict", net.predict(x)))
    assert len(recorded) > 4 * len(net.layers)
    not_float32 = [
        f"{where}: {array.dtype}"
        for where, array in recorded + list(arrays_held(net))
        if np.issubdtype(array.dtype, np.floating) and array.dtype != np.float32
    ]
    assert not not_float32, "float64 in a float32 training step:\n" + "\n".join(not_float32)
