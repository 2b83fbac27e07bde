"""Special files, saves that never destroy, outputs checked at the start, and size limits of model files."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassnet as gn
from glassnet.io.limits import Limits, forward_elements

RNG = np.random.default_rng(3)
X = RNG.standard_normal((32, 6)).astype(np.float32)
Y = RNG.integers(0, 3, 32)


def small() -> gn.Network:
    return (
        gn.Network(epochs=1, batch_size=8, seed=0, verbose=0).add(gn.Dense(6, 3)).add(gn.Softmax()).use("cross_entropy")
    )


def finishes(function, seconds: float = 10.0) -> BaseException | None:
    """Run function in a thread; fail if it is still running after seconds (it hung); return what it raised."""
    raised: list[BaseException] = []

    def run() -> None:
        try:
            function()
        except BaseException as error:
            raised.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the call hung"
    return raised[0] if raised else None


# Reading: only regular files --------------------------------------------------------------------


def test_a_fifo_model_path_is_refused_without_hanging(tmp_path) -> None:
    fifo = tmp_path / "model.npz"
    os.mkfifo(fifo)
    try:
        error = finishes(lambda: gn.Network.load(fifo))
    finally:
        fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # releases a reader the old code left blocked
        os.close(fd)
    assert isinstance(error, gn.InputError) and "FIFO" in str(error) and str(fifo) in str(error)


def test_a_link_to_dev_zero_is_refused(tmp_path) -> None:
    link = tmp_path / "model.npz"
    link.symlink_to("/dev/zero")
    error = finishes(lambda: gn.Network.load(link))
    assert isinstance(error, gn.InputError) and "character device" in str(error)


def test_a_folder_is_refused_as_a_model(tmp_path) -> None:
    with pytest.raises(gn.InputError, match="folder"):
        gn.Network.load(tmp_path)


# Saving: never replaces what it should not ------------------------------------------------------


def test_saving_over_a_fifo_keeps_the_fifo(tmp_path) -> None:
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    with pytest.raises(gn.InputError, match="not a regular file"):
        small().save(fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["pipe.npz"]  # no temporary file left


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="making a device node needs root")
def test_saving_to_a_device_node_as_root_keeps_the_device(tmp_path) -> None:
    null = tmp_path / "null"
    os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # the same device as /dev/null
    with pytest.raises(gn.InputError, match="not a regular file"):
        small().save(null)
    assert stat.S_ISCHR(os.lstat(null).st_mode)


def test_saving_over_a_model_keeps_its_permission_bits(tmp_path) -> None:
    path = tmp_path / "private.npz"
    small().save(path)
    path.chmod(0o600)
    small().save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_long_valid_file_name_saves(tmp_path) -> None:
    path = tmp_path / ("m" * 250 + ".npz")  # 254 characters: valid, but not with a longer temporary name beside it
    small().save(path)
    assert gn.Network.load(path).layers[0].weight.shape == (6, 3)


def test_saving_through_a_symlink_writes_its_target(tmp_path) -> None:
    target, link = tmp_path / "real.npz", tmp_path / "link.npz"
    small().save(target)
    link.symlink_to(target.name)
    net = small().fit(X, Y)
    net.save(link)
    assert link.is_symlink()
    np.testing.assert_array_equal(gn.Network.load(target).layers[0].weight.value, net.layers[0].weight.value)


def test_saving_into_a_missing_folder_names_the_given_path(tmp_path) -> None:
    path = tmp_path / "missing" / "m.npz"
    with pytest.raises(FileNotFoundError) as caught:
        small().save(path)
    assert caught.value.filename == str(path) and ".tmp" not in str(caught.value)


def test_saving_over_a_folder_is_refused_and_the_folder_kept(tmp_path) -> None:
    folder = tmp_path / "out.npz"
    folder.mkdir()
    (folder / "keep").write_text("x")
    with pytest.raises(gn.InputError, match="folder"):
        small().save(folder)
    assert (folder / "keep").read_text() == "x"


def test_fit_checks_its_checkpoint_path_before_training(tmp_path) -> None:
    net = small()
    weight = net.layers[0].weight.value.copy()
    with pytest.raises(FileNotFoundError, match="missing"):
        net.fit(X, Y, epochs=2, checkpoint=tmp_path / "missing" / "ck.npz")
    assert net.history["loss"] == []  # the old code trained an epoch first
    np.testing.assert_array_equal(net.layers[0].weight.value, weight)


# Size limits --------------------------------------------------------------------------------------


def padded_conv_file(path: Path, padding: int) -> Path:
    """A tiny model file whose Conv2D padding makes one 28x28 image's forward pass enormous."""
    net = gn.Network(seed=0, verbose=0).add(gn.Conv2D(1, 4, 3, padding=padding)).add(gn.Flatten())
    net.input_shape = (28, 28, 1)
    net.save(path)
    return path


def test_a_model_file_whose_forward_pass_is_huge_is_refused_on_loading(tmp_path) -> None:
    path = padded_conv_file(tmp_path / "wide.npz", 20_000)
    assert path.stat().st_size < 10_000
    with pytest.raises(gn.ModelFileError, match="forward pass"):
        gn.Network.load(path)
    loaded = gn.Network.load(path, limits=Limits(activations=10**13))  # the Python API can raise the limit
    assert loaded.layers[0].padding == 20_000


def test_a_model_file_over_the_parameter_limit_is_refused(tmp_path) -> None:
    small().save(tmp_path / "m.npz")
    with pytest.raises(gn.ModelFileError, match="21 parameters, more than the limit of 20"):
        gn.Network.load(tmp_path / "m.npz", limits=Limits(parameters=20))


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(4, 12),
    channels=st.integers(1, 3),
    kernel=st.integers(1, 4),
    stride=st.integers(1, 3),
    padding=st.integers(0, 3),
    pool=st.integers(1, 3),
)
def test_the_forward_estimate_covers_what_the_forward_pass_produces(size, channels, kernel, stride, padding, pool):
    """For any small conv + pool config the counted elements are at least every output actually made."""
    layers = [gn.Conv2D(channels, 2, kernel, stride=stride, padding=padding), gn.MaxPool2D(pool), gn.Flatten()]
    shape = (size, size, channels)
    try:
        gn.Network(seed=0, verbose=0).add(layers[0]).add(layers[1]).add(layers[2]).layer_shapes(shape)
    except gn.ShapeError:
        return  # a config that does not fit the image: loading refuses it with the layer's message
    x = np.ones((1, *shape), dtype=np.float32)
    produced = x.size
    for layer in layers:
        x = layer.forward(x)
        produced += x.size
    assert forward_elements(layers, shape) >= produced
