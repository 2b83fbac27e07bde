"""The [fast] path (numba kernels) and the NumPy path give the same outputs and gradients."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
from glassnet.layers import maxpool2x2 as fast
from glassnet.network.plan import ReLUMaxPool, fuse

pytest.importorskip("numba")

SRC = str(Path(__file__).resolve().parents[2] / "src")


@pytest.fixture(autouse=True)
def restore_switch() -> Iterator[None]:
    before = fast.fast_enabled()
    yield
    fast.set_fast(before)


def pool_both_ways(
    make: Callable[[], gn.MaxPool2D], x: np.ndarray, relu: bool, seed: int = 1
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(output, input gradient) of a fresh MaxPool2D on the NumPy path, then the fast one."""
    results = []
    for enabled in (False, True):
        fast.set_fast(enabled)
        layer = make()
        out = layer.forward_relu(x) if relu else layer.forward(x)
        grad = np.random.default_rng(seed).standard_normal(out.shape).astype(x.dtype)
        results.append((out, layer.backward(grad)))
    return results


def tied(rng: np.random.Generator, shape: tuple[int, ...], dtype: type) -> np.ndarray:
    """Small integers: most windows hold ties, many of them all zero after a ReLU."""
    return np.round(rng.standard_normal(shape) * 1.5).astype(dtype)


@pytest.mark.parametrize("relu", [False, True], ids=["pool", "relu-pool"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    ("shape", "padding"),
    [
        ((4, 26, 26, 8), 0),
        ((2, 7, 9, 3), 0),  # odd sizes: the last row and column belong to no window
        ((3, 6, 6, 1), 0),
        ((2, 5, 7, 32), "same"),
        ((2, 6, 6, 2), 1),
    ],
)
def test_maxpool_2x2_same_on_both_paths_ties_included(shape, padding, dtype, relu, rng):
    x = tied(rng, shape, dtype)
    if not relu:
        x = np.maximum(x, 0)  # ties as after a separate ReLU layer
    (out, dx), (fast_out, fast_dx) = pool_both_ways(lambda: gn.MaxPool2D(2, padding=padding), x, relu)
    assert fast_out.dtype == dtype and fast_dx.dtype == dtype
    np.testing.assert_array_equal(fast_out, out)
    np.testing.assert_array_equal(fast_dx, dx)


def test_the_kernels_follow_pytorchs_tie_rule_first_maximum_in_row_major_order():
    x = np.zeros((1, 2, 2, 4), dtype=np.float32)  # channel c: the tie below
    x[0, 0, 1, 1] = x[0, 1, 0, 1] = 1  # top-right and bottom-left tie: top-right comes first
    x[0, 1, 0, 2] = x[0, 1, 1, 2] = 1  # the bottom row ties: bottom-left
    x[0, :, :, 3] = -1  # all tied: top-left; after a ReLU nobody wins
    fast.set_fast(True)
    pool = gn.MaxPool2D(2)
    pool.forward(x)
    np.testing.assert_array_equal(pool.tiles.winner[0, 0, 0], [0, 1, 2, 0])
    pool.forward_relu(x)
    np.testing.assert_array_equal(pool.tiles.winner[0, 0, 0], [-1, 1, 2, -1])


def test_a_nan_in_a_window_gives_nan_on_both_paths(rng):
    x = rng.standard_normal((1, 4, 4, 3)).astype(np.float32)
    x[0, 1, 0, 0] = x[0, 3, 3, 2] = np.nan
    for enabled in (False, True):
        fast.set_fast(enabled)
        out = gn.MaxPool2D(2).forward(x)
        assert np.isnan(out[0, 0, 0, 0]) and np.isnan(out[0, 1, 1, 2])
        assert np.isfinite(np.delete(out.ravel(), [0, 11])).all()


def test_switching_between_forward_and_backward_keeps_the_forward_path(rng):
    x = tied(rng, (2, 6, 6, 3), np.float32)
    grad = rng.standard_normal((2, 3, 3, 3)).astype(np.float32)
    results = []
    for first, second in ((True, False), (False, True)):
        fast.set_fast(first)
        pool = gn.MaxPool2D(2)
        out = pool.forward_relu(x)
        fast.set_fast(second)
        results.append((out, pool.backward(grad)))
    for a, b in zip(*results, strict=True):
        np.testing.assert_array_equal(a, b)


def test_other_windows_use_numpy_on_the_fast_path_too(rng):
    x = tied(rng, (2, 7, 7, 3), np.float64)
    (out, dx), (fast_out, fast_dx) = pool_both_ways(lambda: gn.MaxPool2D(3, stride=2, padding=1), x, relu=True)
    np.testing.assert_array_equal(fast_out, out)
    np.testing.assert_array_equal(fast_dx, dx)


def test_the_loops_run_as_plain_python_and_agree_with_the_compiled_kernels(rng):
    x = tied(rng, (2, 5, 6, 3), np.float32)
    compiled = fast.kernels() or pytest.fail("numba is installed: the kernels should load")
    results = []
    for forward, backward in ((fast.loops_forward, fast.loops_backward), (compiled.forward, compiled.backward)):
        out = np.empty((2, 2, 3, 3), np.float32)
        winner = np.empty(out.shape, np.int8)
        forward(x, True, out, winner)
        dx = np.zeros(x.shape, np.float32)
        backward(np.ones_like(out), winner, dx)
        results.append((out, winner, dx))
    for plain, fast_result in zip(*results, strict=True):
        np.testing.assert_array_equal(plain, fast_result)


def cnn() -> gn.Network:
    return (
        gn.Network(learning_rate=0.1, batch_size=8, seed=3)
        .add(gn.Conv2D(1, 4, 3))  # (N, 10, 10, 4)
        .add(gn.ReLU())
        .add(gn.MaxPool2D(2))  # (N, 5, 5, 4)
        .add(gn.Conv2D(4, 6, 3))  # (N, 3, 3, 6)
        .add(gn.ReLU())
        .add(gn.MaxPool2D(2))  # (N, 1, 1, 6)
        .add(gn.Flatten())
        .add(gn.Dense(6, 10))
        .add(gn.Softmax())
        .use("cross_entropy")
    )


@pytest.mark.parametrize(("fast_on", "fused"), [(True, True), (True, False), (False, True)])
def test_training_gives_the_same_weights_on_every_path(fast_on, fused, rng):
    x = np.maximum(tied(rng, (32, 12, 12, 1), np.float32), 0)  # ties through the whole net
    y = rng.integers(0, 10, 32)
    fast.set_fast(False)
    reference = cnn()
    reference.fuse_relu_pool = False
    reference.fit(x, y, epochs=2, verbose=0)
    fast.set_fast(fast_on)
    net = cnn()
    net.fuse_relu_pool = fused
    net.fit(x, y, epochs=2, verbose=0)
    for p, q in zip(net.parameters(), reference.parameters(), strict=True):
        np.testing.assert_array_equal(p.value, q.value)
    assert net.history["loss"] == reference.history["loss"]
    np.testing.assert_array_equal(net.predict(x), reference.predict(x))


def test_fuse_pairs_only_a_relu_directly_followed_by_a_maxpool():
    class MyReLU(gn.ReLU):
        pass

    layers = [gn.ReLU(), gn.MaxPool2D(2), gn.ReLU(), gn.AvgPool2D(2), MyReLU(), gn.MaxPool2D(2), gn.MaxPool2D(2)]
    steps = fuse(layers)
    assert isinstance(steps[0], ReLUMaxPool) and steps[0].relu is layers[0] and steps[0].pool is layers[1]
    assert steps[1:] == layers[2:]


def test_the_first_layer_skips_its_input_gradient_only_while_training(rng):
    net = cnn()
    x, y = rng.standard_normal((8, 12, 12, 1)), rng.integers(0, 10, 8)
    seen = []
    first = net.layers[0]
    backward = first.backward
    first.backward = lambda grad: seen.append(backward(grad))
    net.fit(x, y, epochs=1, verbose=0)
    assert seen == [None]
    assert first.needs_input_grad  # back to True after fit
    layer = gn.Conv2D(1, 2, 3)
    layer.forward(x)
    assert layer.backward(np.ones((8, 10, 10, 2))).shape == x.shape


def switch_in_a_new_process(env_value: str) -> str:
    code = "import glassnet as gn; print(gn.fast_enabled())"
    env = {**os.environ, "GLASSNET_FAST": env_value, "PYTHONPATH": SRC}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout


def test_the_environment_variable_turns_the_fast_path_off():
    assert switch_in_a_new_process("0").strip() == "False"
    assert switch_in_a_new_process("1").strip() == "True"


def test_set_fast_switches_and_fast_enabled_tells():
    gn.set_fast(False)
    assert not gn.fast_enabled() and fast.kernels() is None
    gn.set_fast(True)
    assert gn.fast_enabled() and fast.kernels() is not None


def test_set_fast_true_without_numba_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(fast, "compiled", lambda: None)
    with pytest.raises(ImportError, match=r"pip install 'glassnet\[fast\]'"):
        fast.set_fast(True)


def test_warm_up_loads_the_float32_kernels_in_a_fresh_process():
    """glassnet train joins the warm-up before its clock: afterwards no pooling compiles or imports anything."""
    script = (
        "import sys; from glassnet.layers import maxpool2x2 as fast\n"
        "assert 'numba' not in sys.modules\n"
        "fast.warm_up_in_background().join()\n"
        "kernels = fast.kernels()\n"
        "print(len(kernels.forward.signatures), len(kernels.backward.signatures))\n"
    )
    env = {**os.environ, "PYTHONPATH": SRC, "GLASSNET_FAST": "1"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True).stdout
    assert out.split() == ["1", "1"]


def test_warm_up_does_nothing_with_the_fast_path_off(monkeypatch):
    gn.set_fast(False)
    monkeypatch.setattr(fast, "CompiledPool", None)  # any use of the kernels would fail
    fast.warm_up()


def test_threads_asking_for_the_kernels_at_once_share_one_set(monkeypatch):
    monkeypatch.setattr(fast, "_compiled", None)
    found: list[object] = []
    threads = [threading.Thread(target=lambda: found.append(fast.compiled())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 4 and all(kernels is found[0] for kernels in found) and found[0] is not None


def test_a_failing_warm_up_thread_stays_silent(monkeypatch, capsys):
    """The error is met again by the first pooling, on the main thread, where it is reported once."""
    monkeypatch.setattr(fast, "warm_up", lambda: 1 / 0)
    fast.warm_up_in_background().join()
    assert capsys.readouterr().err == ""
