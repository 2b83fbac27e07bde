"""Training is never lost: divergence rolls back to the last good epoch, Ctrl-C stops between batches."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn

RNG = np.random.default_rng(0)
X = RNG.standard_normal((40, 8)).astype(np.float32)
Y = RNG.integers(0, 3, 40)
SRC = str(Path(__file__).resolve().parents[2] / "src")


def mlp(*extra: gn.Layer, **options) -> gn.Network:
    """8 features -> 3 classes; `extra` layers go first. 40 samples in batches of 8: 5 batches an epoch."""
    net = gn.Network(**{"epochs": 3, "learning_rate": 0.05, "batch_size": 8, "seed": 0, "verbose": 0, **options})
    for layer in extra:
        net.add(layer)
    return net.add(gn.Dense(8, 16)).add(gn.ReLU()).add(gn.Dense(16, 3)).add(gn.Softmax()).use("cross_entropy")


def state(net: gn.Network) -> tuple[list[np.ndarray], list[dict[str, np.ndarray]], int, dict]:
    """Copies of the weights, the optimizer state and steps, and the generator state."""
    weights = [p.value.copy() for p in net.parameters()]
    moments = [{k: v.copy() for k, v in s.items()} for s in net.optimizer.state]
    return weights, moments, net.optimizer.steps, net.rng.bit_generator.state


def same_state(a, b) -> bool:
    (wa, ma, sa, ra), (wb, mb, sb, rb) = a, b
    same_moments = len(ma) == len(mb) and all(
        x.keys() == y.keys() and all(np.array_equal(x[k], y[k]) for k in x) for x, y in zip(ma, mb, strict=True)
    )
    return all(np.array_equal(x, y) for x, y in zip(wa, wb, strict=True)) and same_moments and sa == sb and ra == rb


# Divergence ---------------------------------------------------------------------------------------


def test_divergence_raises_a_clear_error_and_keeps_the_last_good_epoch():
    net = mlp(optimizer="adam").fit(X, Y, epochs=2)
    good, history = state(net), {k: list(v) for k, v in net.history.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy overflow warning may leak out
        with pytest.raises(gn.DivergenceError) as caught:
            net.fit(X, Y, epochs=3, learning_rate=1e30)
    error = caught.value
    assert isinstance(error, ArithmeticError) and isinstance(error, gn.NumericalError)
    assert error.epoch == 3 and error.batch > 1 and np.isfinite(error.last_loss)
    assert re_search(
        r"training diverged at epoch 3, batch \d/5: the loss became nan \(the last finite batch loss was", error
    )
    assert re_search(r"back at its weights after epoch 2: lower the learning rate \(now 1e\+30\)", error)
    assert same_state(state(net), good)
    assert net.history == history
    assert not any(layer.training for layer in net.layers)
    net.fit(X, Y, epochs=1, learning_rate=0.01)  # and training goes on from there
    assert len(net.history["loss"]) == 3


def re_search(pattern: str, error: Exception) -> bool:
    return re.search(pattern, str(error)) is not None


def test_divergence_in_the_first_batch_keeps_the_initial_weights_and_names_the_input_scale():
    net = mlp()
    initial = state(net)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(
            gn.DivergenceError,
            match=r"epoch 1, batch 1/5: the loss became nan \(no batch had a finite loss\); "
            r"the network is back at its initial weights.*scale the inputs \(the largest \|x\| is 3e\+38\)",
        ):
            net.fit((X / np.abs(X).max() * 3e38).astype(np.float32), Y)
    assert same_state(state(net), initial) and net.history["loss"] == []


class Scale(gn.Layer):
    """y = x * s; `poison` makes backward give an infinite gradient, so the step breaks s."""

    def __init__(self, features: int) -> None:
        self.s = gn.Parameter(np.ones(features, dtype=np.float32))
        self.poison = False

    def forward(self, x):
        self.x = x
        return x * self.s.value

    def backward(self, grad):
        self.s.grad = np.full_like(self.s.value, np.inf) if self.poison else (grad * self.x).sum(axis=0)
        return grad * self.s.value


def test_parameters_broken_by_the_last_step_are_caught_at_the_end_of_the_epoch():
    scale = Scale(8)
    net = mlp(scale, batch_size=40).fit(X, Y, epochs=1)  # one batch per epoch
    good = state(net)
    scale.poison = True
    with pytest.raises(
        gn.DivergenceError, match=r"epoch 2, batch 1/1: Scale\(\)\.s holds 8 NaN or infinite values after its last step"
    ):
        net.fit(X, Y, epochs=1)
    assert same_state(state(net), good)


def test_batchnorm_running_statistics_are_rolled_back_too():
    net = mlp(gn.BatchNorm(8), optimizer="momentum").fit(X, Y, epochs=1)
    running = net.layers[0].running_mean.copy()
    with pytest.raises(gn.DivergenceError):
        net.fit(X * np.float32(1e6), Y, epochs=2, learning_rate=1e30)
    assert np.array_equal(net.layers[0].running_mean, running)


# Ctrl-C -----------------------------------------------------------------------------------------


class Tripwire(gn.Layer):
    """Passes x through; at its n-th forward in training it calls `action` (raise, or send SIGINT)."""

    def __init__(self, at: int, action) -> None:
        self.at, self.action, self.calls, self.seen = at, action, 0, None

    def forward(self, x):
        if self.training:
            self.calls += 1
            if self.calls in self.at:
                self.seen = [p.value.copy() for p in self.net.parameters()]
                self.action()
        return x

    def backward(self, grad):
        return grad


def tripwire_net(at: set[int], action, **options) -> tuple[gn.Network, Tripwire]:
    wire = Tripwire(at, action)
    net = mlp(wire, **options)
    wire.net = net
    return net, wire


def raise_interrupt() -> None:
    raise KeyboardInterrupt


def test_keyboard_interrupt_inside_a_batch_leaves_the_network_consistent():
    net, wire = tripwire_net({8}, raise_interrupt)  # epoch 2, batch 3
    with pytest.raises(KeyboardInterrupt):
        net.fit(X, Y)
    assert net.interrupted
    assert not any(layer.training for layer in net.layers)
    assert len(net.history["loss"]) == 1
    assert net.optimizer.steps == 7  # seven complete steps, the eighth never started
    assert all(np.array_equal(a, p.value) for a, p in zip(wire.seen, net.parameters(), strict=True))
    net.fit(X, Y, epochs=1)
    assert not net.interrupted and len(net.history["loss"]) == 2


def test_sigint_stops_after_the_current_batch():
    net, _wire = tripwire_net({8}, lambda: signal.raise_signal(signal.SIGINT))
    with pytest.raises(KeyboardInterrupt, match=r"stopped after batch 3/5 of epoch 2.*holds the 1 complete epochs"):
        net.fit(X, Y)
    assert net.interrupted and net.optimizer.steps == 8  # the batch that saw Ctrl-C finished its step
    assert len(net.history["loss"]) == 1 and not any(layer.training for layer in net.layers)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_sigint_in_an_epochs_last_batch_lets_that_epoch_finish():
    epochs_seen = []
    net, _wire = tripwire_net({5}, lambda: signal.raise_signal(signal.SIGINT))
    with pytest.raises(KeyboardInterrupt, match=r"stopped after epoch 1"):
        net.fit(X, Y, validation_data=(X, Y), callbacks=[lambda net, epoch, logs: epochs_seen.append(epoch)])
    assert epochs_seen == [1] and len(net.history["val_loss"]) == 1
    assert net.optimizer.steps == 5 and net.interrupted


def test_sigint_in_the_last_batch_of_the_last_epoch_still_interrupts():
    net, _wire = tripwire_net({15}, lambda: signal.raise_signal(signal.SIGINT))
    with pytest.raises(KeyboardInterrupt, match=r"stopped after epoch 3"):
        net.fit(X, Y)
    assert len(net.history["loss"]) == 3 and net.interrupted


def test_a_second_sigint_stops_at_once():
    net, _wire = tripwire_net({8}, lambda: [signal.raise_signal(signal.SIGINT) for _ in range(2)])
    with pytest.raises(KeyboardInterrupt):
        net.fit(X, Y)
    assert net.optimizer.steps == 7 and net.interrupted


class FragileSGD(gn.optimizers.SGD):
    """SGD that is interrupted half-way through its `at`-th step."""

    def __init__(self, at: int) -> None:
        super().__init__(0.05)
        self.at = at

    def update(self, param, grad, state):
        super().update(param, grad, state)
        if self.steps == self.at:
            raise KeyboardInterrupt


def test_an_interrupt_inside_the_optimizer_step_goes_back_to_the_epochs_start():
    net = mlp(optimizer=FragileSGD(at=8))
    net.fit(X, Y, epochs=1)
    start_of_epoch_2 = state(net)
    with pytest.raises(KeyboardInterrupt):
        net.fit(X, Y, epochs=1)
    assert same_state(state(net), start_of_epoch_2)


CHILD = textwrap.dedent(
    """
    import json, signal, sys, time
    import numpy as np
    import glassnet as gn

    signal.signal(signal.SIGINT, signal.default_int_handler)

    class Slow(gn.Layer):
        calls = 0
        def forward(self, x):
            if self.training:
                Slow.calls += 1
                if Slow.calls == 12:
                    print("ready", flush=True)
                time.sleep(0.02)
            return x
        def backward(self, grad):
            return grad

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((400, 8)).astype(np.float32), rng.integers(0, 3, 400)
    net = (gn.Network(epochs=50, batch_size=40, seed=0, verbose=0).add(Slow()).add(gn.Dense(8, 3))
           .add(gn.Softmax()).use("cross_entropy"))
    try:
        net.fit(x, y)
    except KeyboardInterrupt:
        print(json.dumps({"interrupted": net.interrupted, "epochs": len(net.history["loss"]),
                          "steps": net.optimizer.steps, "forwards": Slow.calls,
                          "training": any(layer.training for layer in net.layers),
                          "finite": all(np.isfinite(p.value).all() for p in net.parameters())}))
        sys.exit(0)
    sys.exit(3)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_a_real_sigint_to_a_training_process():
    env = {**os.environ, "PYTHONPATH": SRC}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        assert child.stdout.readline().strip() == "ready"  # in epoch 2 (10 batches an epoch)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=30)
    finally:
        child.kill()
    assert child.returncode == 0, err
    report = json.loads(out)
    assert report["interrupted"] and not report["training"] and report["finite"]
    assert report["steps"] == report["forwards"]  # every batch that started finished its step
    assert report["epochs"] == report["steps"] // 10  # a Ctrl-C in an epoch's last batch lets it finish
