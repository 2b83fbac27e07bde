"""Per-epoch snapshots: kept by a callback, served behind the page's epoch slider, shown in the report."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
from glassnet.apps.activations import filters_by_epoch_figure, first_layer_filters
from glassnet.apps.epochs import epoch_files, epochs_folder, keep_epochs, load_run
from glassnet.apps.serve import AppServer

(X_TRAIN, Y_TRAIN), (X_TEST, Y_TEST) = gn.datasets.load_mnist()


def tiny_cnn() -> gn.Network:
    return (
        gn.Network(seed=0, epochs=3, learning_rate=0.05, batch_size=32, verbose=0)
        .add(gn.Conv2D(1, 4, 3))
        .add(gn.ReLU())
        .add(gn.MaxPool2D(2))
        .add(gn.Flatten())
        .add(gn.Dense(13 * 13 * 4, 10))
        .add(gn.Softmax())
        .use("cross_entropy")
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    model = tmp_path_factory.mktemp("run") / "tiny.npz"
    net = tiny_cnn().fit(X_TRAIN[:300], Y_TRAIN[:300], callbacks=[keep_epochs(epochs_folder(model))])
    net.save(model)
    return model


@pytest.fixture(scope="module")
def server(run: Path) -> Iterator[AppServer]:
    net, epochs = load_run(run)
    server = AppServer(net, "127.0.0.1", 0, epochs=epochs)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def call(server: AppServer, method: str, path: str, payload: object = None) -> tuple[int, dict]:
    connection = http.client.HTTPConnection(*server.server_address[:2], timeout=30)
    try:
        body = None if payload is None else json.dumps(payload).encode()
        connection.request(method, path, body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_every_epoch_is_kept_and_loads(run: Path) -> None:
    found = epoch_files(epochs_folder(run))
    assert [epoch for epoch, _ in found] == [1, 2, 3]
    assert [path.name for _, path in found] == ["epoch-001.npz", "epoch-002.npz", "epoch-003.npz"]
    net, epochs = load_run(run)
    assert sorted(epochs) == [1, 2, 3]
    for a, b in zip(net.parameters(), epochs[3].parameters(), strict=True):
        np.testing.assert_array_equal(a.value, b.value)  # the last snapshot is the final model
    assert not np.array_equal(epochs[1].parameters()[0].value, epochs[3].parameters()[0].value)
    folder_net, folder_epochs = load_run(epochs_folder(run))
    assert sorted(folder_epochs) == [1, 2, 3] and len(folder_net.history["loss"]) == 3


def test_a_folder_without_snapshots_is_refused(tmp_path: Path) -> None:
    with pytest.raises(gn.InputError, match=r"no epoch-NNN\.npz"):
        load_run(tmp_path)


def test_the_page_reads_a_digit_with_each_epochs_weights(server: AppServer, run: Path) -> None:
    status, summary = call(server, "GET", "/api/summary")
    assert status == 200 and summary["epochs"] == [1, 2, 3]
    _, epochs = load_run(run)
    image = X_TEST[0]
    for epoch in (1, 3):
        status, answer = call(
            server, "POST", "/api/predict", {"pixels": (image[..., 0] * 255).ravel().tolist(), "epoch": epoch}
        )
        assert status == 200, answer
        shown = np.array(answer["input"], dtype=np.float32)[None, ..., None]  # (1, 28, 28, 1)
        np.testing.assert_allclose(answer["scores"], epochs[epoch].predict(shown)[0], rtol=1e-5, atol=1e-6)


def test_an_epoch_that_was_not_kept_is_a_clear_422(server: AppServer) -> None:
    status, answer = call(server, "POST", "/api/predict", {"pixels": [0] * 783 + [255], "epoch": 9})
    assert status == 422 and "the kept epochs are [1, 2, 3]" in answer["error"]


def test_the_first_layers_filters_per_epoch_side_by_side(run: Path) -> None:
    pytest.importorskip("matplotlib")
    _, epochs = load_run(run)
    figure = filters_by_epoch_figure(epochs)
    assert figure is not None
    labels = [ax.get_ylabel() for ax in figure.axes if ax.get_ylabel()]
    assert labels == ["epoch 1", "epoch 2", "epoch 3"] and len(figure.axes) == 3 * 4


@pytest.mark.slow
def test_the_report_shows_them(run: Path) -> None:
    pytest.importorskip("matplotlib")
    from glassnet.apps.report import build_report

    net, epochs = load_run(run)
    page = build_report(net, X_TEST[:100], Y_TEST[:100], epochs=epochs)
    assert "epoch by epoch</h2>" in page and 'alt="filters per epoch"' in page


def test_first_layer_filters_of_an_mlp_are_its_units_weights_as_images() -> None:
    net = gn.Network(seed=0, verbose=0).add(gn.Flatten()).add(gn.Dense(784, 5)).add(gn.Softmax()).use("cross_entropy")
    net.fit(X_TRAIN[:64], Y_TRAIN[:64] % 5)
    images = first_layer_filters(net, count=3)
    assert images is not None and images.shape == (3, 28, 28)
    np.testing.assert_array_equal(images[1], net.layers[1].weight.value[:, 1].reshape(28, 28))
