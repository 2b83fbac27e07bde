"""Images and commands under hostile input: bounded decoding, no external programs, EXIF, one-line errors."""

from __future__ import annotations

import json
import os
import struct
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_cli import assert_one_line_error, glassnet

import glassnet as gn
from glassnet.apps import cli
from glassnet.apps.imaging import WORK_SIDE, load_image, to_mnist
from glassnet.apps.model_spec import load_spec
from glassnet.io.limits import Limits, forward_elements, parameter_count

Image = pytest.importorskip("PIL.Image")


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG of a few hundred bytes whose header declares width x height gray pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


def seven(size: int = 60) -> np.ndarray:
    """A dark-on-light '7': a top bar and a diagonal stroke; not symmetric under any rotation or flip."""
    image = np.full((size, size), 255, dtype=np.uint8)
    image[8:14, 10:50] = 0
    for row in range(14, 54):
        column = 48 - (row - 14) * 3 // 4
        image[row, column - 3 : column + 3] = 0
    return image


@pytest.mark.parametrize(("width", "height"), [(30_000, 30_000), (12_000, 12_000)])
def test_a_png_whose_header_declares_too_many_pixels_is_refused_before_decoding(tmp_path, width, height) -> None:
    path = png_header_only(tmp_path / "bomb.png", width, height)
    with pytest.raises(gn.InputError, match="pixels"):
        load_image(path)


def test_a_long_strip_is_decoded_reduced_with_little_memory(tmp_path) -> None:
    strip = np.full((1, 20_000_000), 255, dtype=np.uint8)
    strip[0, 5_000_000:15_000_000] = 0
    Image.fromarray(strip).save(tmp_path / "strip.png")
    del strip
    tracemalloc.start()
    try:
        image = load_image(tmp_path / "strip.png")
        digit = to_mnist(image)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert max(image.shape) <= WORK_SIDE and digit.shape == (28, 28, 1)
    assert peak < 50 * 2**20  # NumPy's share; the old code built a 3 GB resize matrix from a 6.6 GB decode


def test_to_mnist_of_a_long_array_stays_small_in_memory() -> None:
    strip = np.zeros((1, 2_000_000))
    strip[0, 500_000:1_500_000] = 1.0
    tracemalloc.start()
    try:
        to_mnist(strip)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 200 * 2**20  # a few copies of the 16 MB strip, not a 20 x 2,000,000 weight matrix (320 MB)


@pytest.mark.parametrize("suffix", ["png", "jpg"])
def test_large_but_allowed_pictures_are_decoded_at_reduced_size(tmp_path, suffix) -> None:
    picture = np.repeat(np.repeat(seven(), 50, axis=0), 50, axis=1)  # 3000 x 3000
    Image.fromarray(picture).save(tmp_path / f"big.{suffix}")
    image = load_image(tmp_path / f"big.{suffix}")
    assert max(image.shape) <= WORK_SIDE
    np.testing.assert_allclose(to_mnist(image), to_mnist(seven()), atol=0.15)


def test_a_postscript_file_named_png_never_starts_ghostscript(tmp_path, monkeypatch) -> None:
    eps = pytest.importorskip("PIL.EpsImagePlugin")
    started: list[object] = []
    monkeypatch.setattr(eps, "Ghostscript", lambda *args, **kwargs: started.append(args))
    monkeypatch.setattr(eps, "has_ghostscript", lambda: True)
    path = tmp_path / "digit.png"
    path.write_text("%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 28 28\nnewpath 0 0 moveto 28 28 lineto stroke\n")
    with pytest.raises(gn.InputError, match="not an image in one of the formats PNG"):
        load_image(path)
    assert started == []


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_the_exif_orientation_is_applied(tmp_path, orientation) -> None:
    upright = Image.fromarray(seven())
    # A camera stores the sensor's pixels and the rotation that makes them upright in EXIF.
    stored = upright.transpose(
        {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}[orientation]
    )
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored.save(tmp_path / "photo.png", exif=exif)
    np.testing.assert_array_equal(load_image(tmp_path / "photo.png"), seven())


def test_npy_images_are_checked_from_their_header(tmp_path) -> None:
    with open(tmp_path / "huge.npy", "wb") as f:  # a header claiming 100000x100000 floats, and no data
        np.lib.format.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False, "shape": (100_000, 100_000)})
    with pytest.raises(gn.InputError, match="100000x100000 pixels"):
        load_image(tmp_path / "huge.npy")
    np.save(tmp_path / "empty.npy", np.zeros((0, 28)))
    with pytest.raises(gn.InputError, match="empty"):
        load_image(tmp_path / "empty.npy")
    (tmp_path / "zero.npy").write_bytes(b"")
    with pytest.raises(gn.InputError, match="the file is empty"):
        load_image(tmp_path / "zero.npy")


@settings(max_examples=80, deadline=None)
@given(header=st.binary(max_size=200))
def test_any_npy_header_bytes_give_an_input_error_or_an_array(tmp_path_factory, header: bytes) -> None:
    path = tmp_path_factory.mktemp("npy") / "x.npy"
    path.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header)
    try:
        array = load_image(path)
    except gn.InputError as error:  # one clear error naming the file, never NumPy's own exception
        assert str(path) in str(error)
    else:
        assert array.ndim in (2, 3) and array.size > 0


# Commands -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("m") / "m.npz"
    net = gn.Network(seed=0, verbose=0).add(gn.Flatten()).add(gn.Dense(784, 10)).add(gn.Softmax()).use("cross_entropy")
    net.input_shape = (28, 28, 1)
    net.save(path)
    return path


def test_predict_refuses_a_model_file_whose_forward_pass_is_huge(tmp_path) -> None:
    net = gn.Network(seed=0, verbose=0).add(gn.Conv2D(1, 8, 3, padding=20_000)).add(gn.Flatten())
    net.save(tmp_path / "wide.npz")  # no stored input shape: predict checks for its 28x28x1 images
    np.save(tmp_path / "d.npy", seven())
    assert_one_line_error(glassnet("predict", tmp_path / "wide.npz", tmp_path / "d.npy"), "forward pass", "limit")


def test_predict_on_a_model_giving_feature_maps_says_what_it_needs(tmp_path) -> None:
    net = gn.Network(seed=0, verbose=0).add(gn.Conv2D(1, 2, 3)).add(gn.ReLU())
    net.save(tmp_path / "maps.npz")
    np.save(tmp_path / "d.npy", seven())
    assert_one_line_error(
        glassnet("predict", tmp_path / "maps.npz", tmp_path / "d.npy"), "(N, 26, 26, 2)", "(N, classes)"
    )


def test_a_fifo_model_does_not_hang_summary(tmp_path) -> None:
    os.mkfifo(tmp_path / "m.npz")
    assert_one_line_error(glassnet("summary", tmp_path / "m.npz", timeout=60), "FIFO")


def one_line_error(capsys, *args: object) -> str:
    """Run the command in this process; it must fail with one line on stderr, which is returned."""
    assert cli.main([str(arg) for arg in args]) != 0
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("glassnet: error: "), lines
    return lines[0]


def test_outputs_that_would_overwrite_an_input_are_refused(tiny_model: Path, tmp_path, capsys) -> None:
    before = tiny_model.read_bytes()
    assert "same file" in one_line_error(capsys, "report", tiny_model, "--out", tiny_model)
    assert tiny_model.read_bytes() == before
    plot = tmp_path / "curves.png"
    assert "same file" in one_line_error(capsys, "train", "--out", plot, "--plot", plot, "--limit", 100)
    spec = tmp_path / "spec.json"
    spec.write_text(
        json.dumps({"layers": [{"type": "Flatten"}, {"type": "Dense", "in_features": 784, "out_features": 10}]})
    )
    assert "same file" in one_line_error(capsys, "train", "--model", spec, "--out", spec)
    assert spec.read_text().startswith("{")


def test_train_checks_its_output_before_loading_data(tmp_path, capsys) -> None:
    (tmp_path / "folder.npz").mkdir()
    assert "folder" in one_line_error(capsys, "train", "--out", tmp_path / "folder.npz", "--limit", 100)
    assert "nowhere" in one_line_error(capsys, "train", "--out", tmp_path / "nowhere" / "m.npz", "--limit", 100)


def test_json_specs_deeply_nested_or_with_bad_values_are_one_line(tmp_path, capsys) -> None:
    (tmp_path / "deep.json").write_text("[" * 100_000)
    assert "nested" in one_line_error(capsys, "train", "--model", tmp_path / "deep.json")
    layers = [{"type": "Flatten"}, {"type": "Dense", "in_features": 784, "out_features": 10}]
    for limit in (-5, True, 1.5):
        (tmp_path / "bad.json").write_text(json.dumps({"layers": layers, "limit": limit}))
        assert "limit must be an int >= 1" in one_line_error(capsys, "train", "--model", tmp_path / "bad.json")
    huge = {"layers": [{"type": "Flatten"}, {"type": "Dense", "in_features": 784, "out_features": 10**9}]}
    (tmp_path / "huge.json").write_text(json.dumps(huge))
    assert "more than the limit" in one_line_error(capsys, "train", "--model", tmp_path / "huge.json")


@pytest.mark.parametrize("error", [MemoryError, RecursionError])
def test_memory_and_recursion_errors_end_in_one_line(tiny_model: Path, monkeypatch, capsys, error) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise error()

    monkeypatch.setattr(gn.Network, "load", fail)
    assert cli.main(["summary", str(tiny_model)]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("glassnet: error: summary")


@settings(max_examples=25, deadline=None)
@given(
    kernel=st.integers(-2, 40_000),
    padding=st.one_of(st.integers(-2, 100_000), st.sampled_from(["same", "valid", "wide"])),
    stride=st.integers(-1, 5),
    out_channels=st.integers(-1, 10**7),
    pool=st.integers(-1, 60_000),
)
def test_any_conv_pool_spec_is_built_within_the_limits_or_refused_in_one_error(
    tmp_path_factory, kernel, padding, stride, out_channels, pool
) -> None:
    layers = [
        {
            "type": "Conv2D",
            "in_channels": 1,
            "out_channels": out_channels,
            "kernel_size": kernel,
            "stride": stride,
            "padding": padding,
        },
        {"type": "MaxPool2D", "pool_size": pool},
        {"type": "Flatten"},
    ]
    path = tmp_path_factory.mktemp("spec") / "spec.json"
    path.write_text(json.dumps({"layers": layers}))
    try:
        entry = load_spec(path)
    except gn.GlassnetError as error:
        assert isinstance(error, ValueError) and str(error)
        return
    built = entry.layers()
    assert forward_elements(built, (28, 28, 1)) <= Limits().activations
    assert sum(parameter_count(layer.parameter_shapes()) for layer in built) <= Limits().parameters
