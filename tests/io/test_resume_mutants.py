"""resume_training: its exact refusals, and what it takes from the checkpoint (found by mutation testing)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
from glassnet.io.resume import resume_training
from glassnet.io.schema import describe

X = np.random.default_rng(5).random((12, 4), dtype=np.float32)
Y = np.arange(12) % 3


def build(hidden: int = 5, loss: str = "cross_entropy") -> gn.Network:
    """A small classifier with BatchNorm statistics."""
    net = gn.Network(batch_size=4, seed=1, verbose=0, optimizer="adam")
    net.add(gn.Dense(4, hidden)).add(gn.BatchNorm(hidden)).add(gn.ReLU()).add(gn.Dense(hidden, 3)).add(gn.Softmax())
    return net.use(loss)


def checkpoint(tmp_path: Path, **attributes: object) -> Path:
    """One epoch of build(), saved after setting the given attributes; returns the file."""
    net = build().fit(X, Y, epochs=1)
    for name, value in attributes.items():
        setattr(net, name, value)
    net.save(tmp_path / "c.npz")
    return tmp_path / "c.npz"


@pytest.mark.parametrize(("key", "other"), [("layers", build(hidden=6)), ("loss", build(loss="mse"))])
def test_a_different_network_is_refused_with_both_descriptions_and_the_fix(
    tmp_path: Path, key: str, other: gn.Network
) -> None:
    path = checkpoint(tmp_path)
    theirs = describe(gn.Network.load(path))[key]
    expected = (
        f"{path}: cannot resume, the checkpoint's {key} differ from this network's:\n"
        f"  checkpoint: {theirs}\n  this network: {describe(other)[key]}\n"
        "build the network exactly as the run that wrote the checkpoint"
    )
    with pytest.raises(gn.ModelFileError) as error:
        resume_training(other, path)
    assert str(error.value) == expected


def test_another_optimizer_is_refused_naming_both(tmp_path: Path) -> None:
    path = checkpoint(tmp_path)
    other = build()
    other.optimizer = gn.optimizers.SGD(0.01)
    with pytest.raises(gn.ModelFileError) as error:
        resume_training(other, path)
    assert str(error.value) == (
        f"{path}: cannot resume, the checkpoint was trained with Adam, this network uses SGD: use the same optimizer"
    )


def test_the_weights_buffers_and_state_come_from_the_file_and_no_gradient_survives(tmp_path: Path) -> None:
    path = checkpoint(tmp_path)
    stored = gn.Network.load(path)
    net = build().fit(X[:4], Y[:4], epochs=1)  # gradients, statistics and state of its own
    resume_training(net, path)
    for mine, theirs in zip(net.parameters(), stored.parameters(), strict=True):
        assert np.array_equal(mine.value, theirs.value) and mine.grad is None
    assert all(
        np.array_equal(net.layers[1].buffers()[name], value) for name, value in stored.layers[1].buffers().items()
    )
    assert net.optimizer.steps == stored.optimizer.steps == 3
    assert net.history == stored.history and net.rng.bit_generator.state == stored.rng.bit_generator.state


def test_the_input_shape_comes_from_the_file_when_it_has_one(tmp_path: Path) -> None:
    path = checkpoint(tmp_path)  # fit saw (4,) samples
    net = build()
    assert net.input_shape is None
    resume_training(net, path)
    assert net.input_shape == (4,)


def test_a_file_without_an_input_shape_keeps_the_networks(tmp_path: Path) -> None:
    path = checkpoint(tmp_path, input_shape=None)
    net = build()
    net.input_shape = (4,)
    resume_training(net, path)
    assert net.input_shape == (4,)


def test_class_names_come_from_the_file_unless_the_network_has_its_own(tmp_path: Path) -> None:
    path = checkpoint(tmp_path, class_names=["a", "b", "c"])
    net = build()
    resume_training(net, path)
    assert net.class_names == ["a", "b", "c"]
    named = build()
    named.class_names = ["x", "y", "z"]
    resume_training(named, path)
    assert named.class_names == ["x", "y", "z"]
