"""The serve page and the HTML report in a real headless Chromium, driven by Playwright.

Skipped when Playwright or Chromium is missing. Debian: `apt-get install -y chromium`, then
`pip install playwright` (Playwright's own browser download is not needed). Set
GLASSNET_SCREENSHOTS=1 to also copy the screenshots to docs/images/ for the README.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from small_cnn import small_cnn, small_cnn_path

import glassnet as gn
from glassnet.apps.imaging import load_image, to_mnist
from glassnet.apps.serve import AppServer

sync_api = pytest.importorskip("playwright.sync_api", reason="needs Playwright: pip install playwright")
CHROMIUM = os.environ.get("GLASSNET_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).is_file():
    pytest.skip("needs Chromium: apt-get install -y chromium", allow_module_level=True)
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
SEVEN = [[(70, 60), (210, 60), (130, 240)]]  # strokes on the 280 px pad
FOUR = [[(90, 40), (60, 160), (200, 160)], [(170, 60), (170, 250)]]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def model_path(tmp_path_factory) -> Path:
    return small_cnn_path(tmp_path_factory)


@pytest.fixture(scope="module")
def server(model_path: Path) -> Iterator[AppServer]:
    server = AppServer(gn.Network.load(model_path), "127.0.0.1", 0, path=model_path)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    """A fresh page that records console errors and uncaught exceptions in page.errors."""
    page = browser.new_page(viewport={"width": 1200, "height": 1300})
    page.errors = []
    page.on("console", lambda message: page.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    page.close()


def draw(page, strokes: list[list[tuple[int, int]]]) -> None:
    """Draw strokes with the mouse on the pad, each point in pad pixels, then wait for the answer."""
    box = page.locator("#pad").bounding_box()
    for points in strokes:
        page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
        page.mouse.down()
        for x, y in points[1:]:
            page.mouse.move(box["x"] + x, box["y"] + y, steps=10)
        page.mouse.up()
    wait_idle(page)


def wait_idle(page) -> None:
    """Wait for the answer to a request the page sent."""
    page.wait_for_selector("body[data-state=idle]", timeout=30_000)


def save_screenshot(page, path: Path, name: str) -> None:
    page.screenshot(path=path, full_page=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("GLASSNET_SCREENSHOTS") == "1":
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_IMAGES / name)


def test_drawing_a_digit_shows_what_the_network_predicts_for_its_28x28_input(
    page, server, model_path, tmp_path
) -> None:
    net = gn.Network.load(model_path)
    page.goto(server.url)
    page.wait_for_function("document.getElementById('summary').textContent.includes('Total parameters')")
    assert page.inner_text("#summary") == net.summary((28, 28, 1))
    draw(page, SEVEN)
    shown = int(page.inner_text("#prediction"))
    answer = page.evaluate("window.glassnetLast")
    image = np.array(answer["input"], dtype=np.float32)[None, ..., None]  # (1, 28, 28, 1)
    assert image.max() == 1 and image.sum() > 20  # a real digit, made MNIST-like
    assert shown == int(net.predict(image).argmax()) == 7
    assert page.locator(".layer").count() == len(net.layers)
    assert page.locator(".layer").nth(0).locator(".tiles canvas").count() == 8
    assert page.locator(".bar.best .label").inner_text() == str(shown)
    assert "ms on the server" in page.inner_text("#status")
    save_screenshot(page, tmp_path / "serve.png", "serve.png")
    assert page.errors == []


def test_clear_empties_the_page_and_a_new_digit_is_read(page, server, model_path) -> None:
    net = gn.Network.load(model_path)
    page.goto(server.url)
    draw(page, SEVEN)
    page.click("#clear")
    assert page.inner_text("#prediction") == "\u2013" and page.locator(".layer").count() == 0
    assert page.get_attribute("body", "data-state") == "empty"
    draw(page, FOUR)
    answer = page.evaluate("window.glassnetLast")
    image = np.array(answer["input"], dtype=np.float32)[None, ..., None]
    assert int(page.inner_text("#prediction")) == int(net.predict(image).argmax())
    assert page.errors == []


def test_the_report_opens_with_every_image_loaded_and_no_console_error(page, model_path, tmp_path) -> None:
    pytest.importorskip("matplotlib")
    from glassnet.apps.report import write_report

    _, (x_test, y_test) = gn.datasets.load_mnist()
    path = write_report(gn.Network.load(model_path), tmp_path / "report.html", x_test[:1000], y_test[:1000])
    page.goto(path.as_uri())
    images = page.evaluate("Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth])")
    assert [alt for alt, _, _ in images] == [
        "training curves",
        "confusion matrix",
        "most confident mistakes",
        "filters",
        "activations",
    ]
    assert all(complete and width > 0 for _, complete, width in images)
    save_screenshot(page, tmp_path / "report.png", "report.png")
    assert page.errors == []


@pytest.fixture(scope="module")
def run_server(tmp_path_factory) -> Iterator[tuple[AppServer, dict[int, gn.Network]]]:
    """A server over a small CNN's three kept epochs (glassnet.apps.epochs)."""
    from glassnet.apps.epochs import epochs_folder, keep_epochs, load_run

    model = tmp_path_factory.mktemp("run") / "run.npz"
    (x_train, y_train), _ = gn.datasets.load_mnist()
    net = small_cnn(epochs=3)
    net.fit(x_train[:1000], y_train[:1000], callbacks=[keep_epochs(epochs_folder(model))]).save(model)
    served, epochs = load_run(model)
    server = AppServer(served, "127.0.0.1", 0, epochs=epochs)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server, epochs
    server.shutdown()
    server.server_close()


def test_the_epoch_slider_reads_the_same_digit_with_each_epochs_weights(page, run_server, tmp_path) -> None:
    server, epochs = run_server
    page.goto(server.url)
    page.wait_for_selector("#epochs:not([hidden])")
    assert page.inner_text("#epoch-value") == "3"
    draw(page, SEVEN)
    answer = page.evaluate("window.glassnetLast")
    image = np.array(answer["input"], dtype=np.float32)[None, ..., None]  # (1, 28, 28, 1)
    np.testing.assert_allclose(answer["scores"], epochs[3].predict(image)[0], rtol=1e-5, atol=1e-6)
    page.evaluate(
        "() => { const s = document.getElementById('epoch'); s.value = '0'; s.dispatchEvent(new Event('input')); }"
    )
    for _ in range(300):  # the page's CSP forbids wait_for_function's eval: poll for the new answer
        first = page.evaluate("() => window.glassnetLast")
        if first["scores"] != answer["scores"] and page.get_attribute("body", "data-state") == "idle":
            break
        page.wait_for_timeout(100)
    assert page.inner_text("#epoch-value") == "1"
    np.testing.assert_allclose(first["scores"], epochs[1].predict(image)[0], rtol=1e-5, atol=1e-6)
    save_screenshot(page, tmp_path / "serve-epochs.png", "serve-epochs.png")
    assert page.errors == []


@pytest.fixture(scope="module")
def seven_png(tmp_path_factory) -> Path:
    """A photo-like PNG of an MNIST seven, dark on white, 140x112 pixels."""
    image_module = pytest.importorskip("PIL.Image")
    _, (x_test, y_test) = gn.datasets.load_mnist()
    digit = x_test[np.flatnonzero(y_test == 7)[0], ..., 0]
    path = tmp_path_factory.mktemp("photo") / "seven.png"
    image_module.fromarray(np.round(255 * (1 - np.kron(digit, np.ones((5, 4))))).astype(np.uint8)).save(path)
    return path


def expected_answer(net: gn.Network, path: Path) -> tuple[np.ndarray, int]:
    """The 28x28 input and the prediction glassnet predict gives for a picture file."""
    image = to_mnist(load_image(path))  # (28, 28, 1)
    return image, int(net.predict(image[None])[0].argmax())


def test_an_uploaded_photo_is_read_as_glassnet_predict_reads_it(page, server, model_path, seven_png) -> None:
    net = gn.Network.load(model_path)
    page.goto(server.url)
    page.set_input_files("#photo", seven_png)
    wait_idle(page)
    image, prediction = expected_answer(net, seven_png)
    answer = page.evaluate("window.glassnetLast")
    np.testing.assert_array_equal(np.array(answer["input"], dtype=np.float32)[..., None], image)
    assert int(page.inner_text("#prediction")) == prediction == 7
    assert page.locator(".layer").count() == len(net.layers)
    draw(page, FOUR)  # drawing again replaces the photo
    assert page.evaluate("window.glassnetLast")["input"] != answer["input"]
    assert page.errors == []


def test_a_photo_dropped_on_the_pad_is_read(page, server, seven_png) -> None:
    page.goto(server.url)
    data = list(seven_png.read_bytes())
    transfer = page.evaluate_handle(
        """(data) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(data)], "seven.png", {type: "image/png"}));
            return transfer;
        }""",
        data,
    )
    page.dispatch_event("#pad", "drop", {"dataTransfer": transfer})
    wait_idle(page)
    assert page.inner_text("#prediction") == "7"
    page.dispatch_event(
        "#pad",
        "drop",
        {
            "dataTransfer": page.evaluate_handle(
                """() => {
            const transfer = new DataTransfer();
            transfer.items.add(new File(["not a picture"], "notes.png", {type: "image/png"}));
            return transfer;
        }"""
            )
        },
    )
    page.wait_for_selector("body[data-state=error]", timeout=30_000)
    assert "not a PNG file" in page.inner_text("#status")


def test_the_model_panel_says_what_the_model_file_knows(page, server, model_path) -> None:
    net = gn.Network.load(model_path)
    page.goto(server.url)
    page.wait_for_function("document.getElementById('summary').textContent.includes('Total parameters')")
    assert page.inner_text("#model-name") == "small-cnn"
    assert page.inner_text("#model-classes").startswith("10: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 (outputs by number")
    assert page.inner_text("#model-accuracy") == "not recorded"
    validation = f"validation accuracy {100 * net.history['val_accuracy'][-1]:.2f}%"
    assert page.inner_text("#model-history").startswith(validation) and "after 1 epoch" in page.inner_text(
        "#model-history"
    )
    assert "stores no test accuracy" in page.inner_text("#model-note")
    assert page.locator("#bars .label").all_inner_texts() == [str(k) for k in range(10)]


def test_the_page_fits_a_390_px_phone_screen(browser, server, run_server, seven_png, tmp_path) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        for url in (server.url, run_server[0].url):
            page.goto(url)
            page.set_input_files("#photo", seven_png)
            wait_idle(page)
            assert page.locator(".layer").count() > 0
            width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            assert width[0] <= width[1] == 390, f"the page is {width[0]} px wide on a {width[1]} px screen"
            box = page.locator("#pad").bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390
        save_screenshot(page, tmp_path / "serve-phone.png", "serve-phone.png")
    finally:
        page.close()


def test_the_epoch_slider_reads_an_uploaded_photo_with_each_epochs_weights(page, run_server, seven_png) -> None:
    server, epochs = run_server
    page.goto(server.url)
    page.wait_for_selector("#epochs:not([hidden])")
    page.set_input_files("#photo", seven_png)
    wait_idle(page)
    image, _ = expected_answer(epochs[3], seven_png)
    answer = page.evaluate("window.glassnetLast")
    np.testing.assert_allclose(answer["scores"], epochs[3].predict(image[None])[0], rtol=1e-5, atol=1e-6)
    page.evaluate(
        "() => { const s = document.getElementById('epoch'); s.value = '0'; s.dispatchEvent(new Event('input')); }"
    )
    for _ in range(300):  # the page's CSP forbids wait_for_function's eval: poll for the new answer
        first = page.evaluate("() => window.glassnetLast")
        if first["scores"] != answer["scores"] and page.get_attribute("body", "data-state") == "idle":
            break
        page.wait_for_timeout(100)
    np.testing.assert_allclose(first["scores"], epochs[1].predict(image[None])[0], rtol=1e-5, atol=1e-6)
    assert page.errors == []
