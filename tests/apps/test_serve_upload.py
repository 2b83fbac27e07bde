"""glassnet serve: pictures uploaded as PNG or JPEG, the layers=0 and epoch options, and what is known of the model."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from small_cnn import small_cnn_path
from test_serve import _raw, drawing, post, request, start

import glassnet as gn
from glassnet.apps.imaging import MAX_PIXELS, to_mnist
from glassnet.apps.serve import AppServer
from glassnet.apps.serve.upload import MAX_UPLOAD

Image = pytest.importorskip("PIL.Image", reason="needs Pillow: pip install glassnet[images]")


@pytest.fixture(scope="module")
def model_path(tmp_path_factory) -> Path:
    return small_cnn_path(tmp_path_factory)


@pytest.fixture(scope="module")
def net(model_path: Path) -> gn.Network:
    return gn.Network.load(model_path)


@pytest.fixture(scope="module")
def server(net: gn.Network) -> Iterator[AppServer]:
    server = start(net)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def seven() -> np.ndarray:
    """An MNIST seven drawn dark on white at 140x120 pixels, like a photo of paper: (140, 120) uint8."""
    _, (x_test, y_test) = gn.datasets.load_mnist()
    digit = x_test[np.flatnonzero(y_test == 7)[0], ..., 0]
    big = np.kron(digit, np.ones((5, 4)))  # (140, 112)
    return np.pad(np.round(255 * (1 - big)).astype(np.uint8), ((0, 0), (4, 4)), constant_values=255)


def encode(image: np.ndarray, kind: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, kind, **options)
    return buffer.getvalue()


def upload(server: AppServer, body: bytes, content_type: str, query: str = "") -> tuple[int, dict]:
    status, _, data = request(server, "POST", f"/api/predict{query}", body, {"Content-Type": content_type})
    return status, json.loads(data)


@pytest.mark.parametrize("kind, content_type", [("PNG", "image/png"), ("JPEG", "image/jpeg")])
def test_an_uploaded_picture_is_read_as_the_same_drawing_sent_as_json(server, net, seven, kind, content_type) -> None:
    body = encode(seven, kind, quality=95) if kind == "JPEG" else encode(seven, kind)
    status, answer = upload(server, body, content_type)
    assert status == 200, answer
    decoded = np.asarray(Image.open(io.BytesIO(body)).convert("L"))
    np.testing.assert_array_equal(np.array(answer["input"], dtype=np.float32)[..., None], to_mnist(decoded))
    assert answer["prediction"] == int(net.predict(to_mnist(decoded)[None])[0].argmax()) == 7
    assert post(server, drawing(decoded))[1]["scores"] == answer["scores"]
    assert len(answer["layers"]) == len(net.layers)


def test_a_transparent_png_reads_its_strokes(server, seven) -> None:
    rgba = np.zeros((*seven.shape, 4), dtype=np.uint8)
    rgba[..., 3] = 255 - seven  # black strokes on a transparent canvas
    status, answer = upload(server, encode(rgba, "PNG"), "image/png")
    assert status == 200 and answer["prediction"] == 7


def test_layers_0_leaves_out_the_activations_in_the_query_or_the_json_body(server, seven) -> None:
    body = encode(seven, "PNG")
    full = upload(server, body, "image/png")[1]
    small = upload(server, body, "image/png", "?layers=0")[1]
    assert "layers" not in small and small["scores"] == full["scores"] and small["input"] == full["input"]
    assert len(json.dumps(small)) < len(json.dumps(full)) / 5
    status, from_json = post(server, drawing(seven) | {"layers": 0})
    assert status == 200 and "layers" not in from_json and from_json["scores"] == full["scores"]
    assert "layers" in upload(server, body, "image/png", "?layers=true")[1]
    assert "layers" not in upload(server, body, "image/png", "?layers=false")[1]
    assert "layers" in post(server, drawing(seven) | {"layers": True})[1]


@pytest.mark.parametrize(
    "query, extra, fragment",
    [
        ("?layers=2", {}, '"layers" must be 0'),
        ("?layers=", {}, '"layers" must be 0'),
        ("", {"layers": "0"}, '"layers" must be 0'),
        ("", {"layers": None}, '"layers" must be 0'),
        ("?size=3", {}, "unknown option 'size'"),
        ("?layers=0&layers=1", {}, "given 2 times"),
        ("?layers=0", {"layers": 0}, "in the query and in the JSON body"),
        ("?a=1&b=2&c=3&d=4", {}, "too many query fields"),
        ("?epoch=3", {}, "this run kept no epochs"),
        ("?epoch=x", {}, '"epoch" must be one of the kept epochs, got "x"'),
        ("", {"epoch": 3}, "this run kept no epochs"),
    ],
)
def test_bad_options_get_a_clear_422(server, seven, query, extra, fragment) -> None:
    status, _, data = request(
        server,
        "POST",
        f"/api/predict{query}",
        json.dumps(drawing(seven) | extra).encode(),
        {"Content-Type": "application/json"},
    )
    assert status == 422 and fragment in json.loads(data)["error"]


@pytest.mark.parametrize(
    "body, content_type, status, fragment",
    [
        (b"not a picture", "image/png", 422, "not a PNG file"),
        (b"\x89PNG\r\n\x1a\nbroken", "image/png", 422, "the uploaded picture: not an image"),
        (b"\xff\xd8\xff\xe0broken", "image/jpeg", 422, "the uploaded picture"),
        (b"\xff\xd8\xff\xe0", "image/png", 422, "it is image/jpeg: send Content-Type: image/jpeg"),
        (b"GIF89a", "image/gif", 415, "image/png or image/jpeg"),
        (b"--x\r\n", "multipart/form-data; boundary=x", 415, "application/json, image/png or image/jpeg"),
    ],
)
def test_bad_uploads_get_a_clear_4xx(server, body, content_type, status, fragment) -> None:
    got, answer = upload(server, body, content_type)
    assert got == status and fragment in answer["error"], answer


def test_uploads_keep_the_pixel_limit_of_glassnet_predict(server) -> None:
    side = int(MAX_PIXELS**0.5) + 100
    bomb = encode(np.zeros((side, side), dtype=np.uint8), "PNG")  # a few hundred kB that decode to 50 M pixels
    assert len(bomb) < MAX_UPLOAD
    status, answer = upload(server, bomb, "image/png")
    assert status == 422 and f"more than the limit of {MAX_PIXELS:,}" in answer["error"]
    blank = upload(server, encode(np.full((50, 50), 255, dtype=np.uint8), "PNG"), "image/png")
    assert blank[0] == 422 and "found no digit" in blank[1]["error"]


def test_an_upload_over_the_size_limit_gets_413(server) -> None:
    status, _, body = request(
        server, "POST", "/api/predict", b"\x89PNG" + b"\0" * MAX_UPLOAD, {"Content-Type": "image/png"}
    )
    assert status == 413 and f"more than the limit of {MAX_UPLOAD}" in json.loads(body)["error"]


def test_the_summary_says_what_is_known_of_the_model(server, net) -> None:
    model = json.loads(request(server, "GET", "/api/summary")[2])["model"]
    assert model["classes"] == [str(k) for k in range(10)] and model["class_names_stored"] is False
    assert model["epochs_trained"] == 1 and model["test_accuracy"] is None
    assert model["validation_accuracy"] == net.history["val_accuracy"][-1]
    assert model["training_accuracy"] == net.history["accuracy"][-1]
    assert "stores no test accuracy" in model["note"]


def test_a_run_folders_model_shows_the_test_accuracy_its_run_json_recorded(net, tmp_path) -> None:
    net.class_names = [f"digit {k}" for k in range(10)]
    folder = tmp_path / "runs" / "cnn-3"
    folder.mkdir(parents=True)
    net.save(folder / "model.npz")
    (folder / "run.json").write_text(json.dumps({"model": "cnn", "epochs_done": 1, "test_accuracy": 0.9512}))
    server = AppServer(gn.Network.load(folder / "model.npz"), "127.0.0.1", 0, path=folder / "model.npz")
    stale = AppServer(gn.Network.load(folder / "model.npz"), "127.0.0.1", 0, path=folder / "best.npz")
    try:
        assert server.about["name"] == "cnn" and server.about["test_accuracy"] == 0.9512
        assert server.about["tested_on"] == "test" and "from run.json" in server.about["note"]
        assert server.about["classes"] == net.class_names and server.about["class_names_stored"] is True
        assert stale.about["test_accuracy"] is None and stale.about["name"] == "best"  # run.json is model.npz's
        (folder / "run.json").write_text(json.dumps({"model": "cnn", "epochs_done": 4, "test_accuracy": 0.99}))
        assert AppServer(net, "127.0.0.1", 0, path=folder / "model.npz").about["test_accuracy"] is None
    finally:
        net.class_names = None
        for each in (server, stale):
            each.server_close()


@pytest.mark.parametrize(
    "data, status, fragment",
    [
        (b"PUT /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n", 405, "method 'PUT' is not"),
        (b"BREW / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 405, "GET a page or /api/summary, POST /api/predict"),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414, "Request-URI Too Long"),
        (b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 200 + b"\r\n", 431, "Too many headers"),
    ],
)
def test_the_standard_librarys_refusals_are_json_too(server, data, status, fragment) -> None:
    answer = _raw(server, data)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode()) and b"Content-Type: application/json" in head
    assert fragment in json.loads(body)["error"]


def test_head_gets_the_headers_of_a_405_without_a_body(server) -> None:
    answer = _raw(server, b"HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 405 ") and answer.endswith(b"\r\n\r\n") and b"Allow: GET" in answer


def test_a_model_file_shows_the_test_accuracy_glassnet_train_recorded_in_its_card(net, tmp_path) -> None:
    net.card["evaluation"] = {"data": "MNIST test images", "images": 10000, "accuracy": 0.9903, "loss": 0.1}
    try:
        net.save(tmp_path / "m.npz")
        server = AppServer(gn.Network.load(tmp_path / "m.npz"), "127.0.0.1", 0, path=tmp_path / "m.npz")
        try:
            assert server.about["test_accuracy"] == 0.9903 and server.about["tested_on"] == "test"
            assert "from the model file" in server.about["note"]
        finally:
            server.server_close()
        net.card["evaluation"]["accuracy"] = 7.0  # not an accuracy: shown as unknown
        net.save(tmp_path / "bad.npz")
        bad = AppServer(gn.Network.load(tmp_path / "bad.npz"), "127.0.0.1", 0, path=tmp_path / "bad.npz")
        try:
            assert bad.about["test_accuracy"] is None
        finally:
            bad.server_close()
    finally:
        net.card.pop("evaluation")


def test_a_folder_models_upload_is_read_as_glassnet_predict_reads_it(net, tmp_path) -> None:
    """A model trained on an image folder takes pictures resized whole, not made MNIST-like."""
    from glassnet.apps.data import read_images

    net.class_names = ["circle", "square", "triangle", "a", "b", "c", "d", "e", "f", "g"]
    server = start(net)
    try:
        picture = np.full((60, 90), 230, dtype=np.uint8)
        picture[15:45, 30:60] = 20  # a dark square on light paper
        (tmp_path / "square.png").write_bytes(encode(picture, "PNG"))
        status, answer = upload(server, (tmp_path / "square.png").read_bytes(), "image/png", "?layers=0")
        assert status == 200, answer
        expected = read_images([str(tmp_path / "square.png")], net)[0]  # (28, 28, 1), as glassnet predict reads it
        np.testing.assert_array_equal(np.array(answer["input"], dtype=np.float32)[..., None], expected)
        assert not np.array_equal(expected, to_mnist(picture))  # the digit path would read it otherwise
    finally:
        net.class_names = None
        server.shutdown()
        server.server_close()
