"""docs/serve-api.md cannot drift: each curl example is sent to a live server and its answer compared with the doc's.

In the doc's answers "..." stands for any value and a list ending in "..." shows its first items;
numbers are checked to be numbers, texts, booleans, null, keys, headers and statuses exactly.
"""

from __future__ import annotations

import http.client
import json
import re
import shlex
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest

import glassnet as gn
from glassnet.apps.imaging import MAX_PIXELS
from glassnet.apps.serve import AppServer
from glassnet.apps.serve.api import MAX_BODY, MAX_SIDE
from glassnet.apps.serve.handler import API_ROUTES, IDLE_TIMEOUT
from glassnet.apps.serve.server import MAX_CONNECTIONS, STATIC_FILES
from glassnet.apps.serve.upload import DECODERS, MAX_UPLOAD, OPTIONS
from glassnet.apps.zoo import get_model

Image = pytest.importorskip("PIL.Image", reason="needs Pillow: pip install glassnet[images]")
DOC = Path(__file__).resolve().parents[2] / "docs" / "serve-api.md"
EXAMPLE = re.compile(r"```sh\n(?P<command>.*?)```\s*```http\n(?P<answer>.*?)```", re.DOTALL)
ANY = "..."


def examples() -> list[tuple[str, str]]:
    """The doc's (curl command, answer) pairs; every sh block holding curl must have its answer."""
    text = DOC.read_text()
    pairs = [(match["command"], match["answer"]) for match in EXAMPLE.finditer(text)]
    assert len(pairs) == len(re.findall(r"```sh\n[^`]*curl ", text)) >= 10
    return pairs


def parse_curl(command: str) -> tuple[str, str, dict[str, str], str | None]:
    """(method, URL, headers, body or "@file") of the few curl options the doc may use; anything else fails."""
    words = shlex.split(command.replace("\\\n", " "))
    assert words[0] == "curl", command
    method, url, headers, data = None, None, {}, None
    options = iter(words[1:])
    for word in options:
        if word in ("-s", "-i", "-si"):
            continue
        if word == "-X":
            method = next(options)
        elif word == "-H":
            name, value = next(options).split(":", 1)
            headers[name.strip()] = value.strip()
        elif word in ("-d", "--data-binary"):
            data = next(options)
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")  # as curl does for -d
        elif word.startswith("http://") and url is None:
            url = word
        else:
            raise AssertionError(f"the doc's curl uses {word!r}, which this test does not understand: {command}")
    assert url is not None, command
    return method or ("POST" if data is not None else "GET"), url, headers, data


def same(doc: object, actual: object, where: str = "answer") -> None:
    """Assert that an answer has the doc's shape: the same keys, texts and types ("..." stands for anything)."""
    if doc == ANY:
        return
    if isinstance(doc, dict):
        assert isinstance(actual, dict) and set(actual) == set(doc), f"{where}: keys {sorted(actual)} != {sorted(doc)}"
        for key in doc:
            same(doc[key], actual[key], f"{where}.{key}")
    elif isinstance(doc, list):
        assert isinstance(actual, list), f"{where}: expected a list, got {actual!r:.80}"
        shown = doc[:-1] if doc and doc[-1] == ANY else doc
        assert len(actual) >= len(shown) if len(shown) < len(doc) else len(actual) == len(doc), where
        for index, item in enumerate(shown):
            same(item, actual[index], f"{where}[{index}]")
    elif isinstance(doc, (int, float)) and not isinstance(doc, bool):
        assert isinstance(actual, (int, float)) and not isinstance(actual, bool), f"{where}: {actual!r} is no number"
    else:
        assert doc == actual, f"{where}: {actual!r} != {doc!r}"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """The doc's setting: runs/cnn-1/model.npz (the default CNN, 4 short epochs) with its run.json, and digit.png."""
    root = tmp_path_factory.mktemp("doc")
    (x_train, y_train), (x_test, y_test) = gn.datasets.load_mnist()
    net = get_model("cnn").build(seed=0, verbose=0)
    net.fit(x_train[:256], y_train[:256], epochs=4, batch_size=64, validation_split=0.25)
    run = root / "runs" / "cnn-1"
    run.mkdir(parents=True)
    net.save(run / "model.npz")
    record = {"model": "cnn", "status": "finished", "epochs_done": 4, "test_accuracy": 0.9912}
    (run / "run.json").write_text(json.dumps(record))
    digit = x_test[np.flatnonzero(y_test == 7)[0], ..., 0]
    Image.fromarray(np.round(255 * (1 - np.kron(digit, np.ones((5, 5))))).astype(np.uint8)).save(root / "digit.png")
    return root


@pytest.fixture(scope="module")
def server(folder: Path) -> Iterator[AppServer]:
    model = folder / "runs" / "cnn-1" / "model.npz"
    server = AppServer(gn.Network.load(model), "127.0.0.1", 0, path=model)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("command, answer", examples(), ids=lambda text: text.split("\n")[0][:60])
def test_each_curl_example_gets_the_answer_the_doc_shows(server, folder, command, answer) -> None:
    method, url, headers, data = parse_curl(command)
    target = urlsplit(url)
    assert (target.hostname, target.port) == ("127.0.0.1", 8000), "the examples use the default address"
    body = (
        (folder / data[1:]).read_bytes() if data and data.startswith("@") else None if data is None else data.encode()
    )
    connection = http.client.HTTPConnection(*server.server_address[:2], timeout=60)
    try:
        path = target.path + (f"?{target.query}" if target.query else "")
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        got = response.read()
    finally:
        connection.close()
    head, _, shown = answer.partition("\n\n")
    status_line, *header_lines = head.splitlines()
    assert status_line == f"HTTP/1.1 {response.status} {response.reason}", got[:200]
    for line in header_lines:
        name, value = line.split(": ", 1)
        assert response.getheader(name) == value, name
    shown = shown.strip()
    if shown.startswith(("{", "[")):
        same(json.loads(shown), json.loads(got))
    else:
        assert shown.endswith(ANY) and got.decode().startswith(shown.removesuffix(ANY))


def test_the_doc_lists_every_endpoint_option_and_limit() -> None:
    text = DOC.read_text()
    for path in (*STATIC_FILES, *API_ROUTES):
        assert f"`{path}`" in text, path
    for option in OPTIONS:
        assert f"| `{option}` |" in text, option
    limits = text.split("## Limits")[1].split("## Errors")[0]
    for phrase in (
        f"| a JSON body | {MAX_BODY // 2**20} MiB",
        f"1 to {MAX_SIDE} pixels a side",
        f"| a PNG or JPEG body | {MAX_UPLOAD // 2**20} MiB |",
        f"| {MAX_PIXELS:,} (",
        f"| pictures decoded at once | {DECODERS};",
        f"| connections served at once | {MAX_CONNECTIONS} |",
        f"| {IDLE_TIMEOUT} s |",
        f"| query fields | {len(OPTIONS)} (",
    ):
        assert phrase in limits, phrase
    assert MAX_BODY % 2**20 == 0 and MAX_UPLOAD % 2**20 == 0
