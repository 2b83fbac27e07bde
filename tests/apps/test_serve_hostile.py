"""glassnet serve under malformed requests, early disconnects, too many connections and no file descriptors."""

from __future__ import annotations

import errno
import re
import socket
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from small_cnn import small_cnn_path
from test_serve import start

import glassnet as gn
from glassnet.apps.serve import AppServer, Predictor
from glassnet.apps.serve.handler import Handler


@pytest.fixture(scope="module")
def net(tmp_path_factory) -> gn.Network:
    return gn.Network.load(small_cnn_path(tmp_path_factory))


@pytest.fixture(scope="module")
def server(net: gn.Network) -> Iterator[AppServer]:
    server = start(net)
    yield server
    server.shutdown()
    server.server_close()


def raw(server: AppServer, data: bytes, half_close: bool = False, timeout: float = 10) -> bytes:
    """Send raw bytes on a fresh connection and return everything the server answers."""
    with socket.create_connection(server.server_address[:2], timeout=timeout) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks) and not half_close:
                break
    return b"".join(chunks)


def status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def predict_request(
    body: bytes, length: str | None = None, host: str = "127.0.0.1", target: str = "/api/predict"
) -> bytes:
    length = str(len(body)) if length is None else length
    head = (
        f"POST {target} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
    try:
        return head.encode("latin-1") + body  # as the server decodes headers: "\u00b2" arrives as itself
    except UnicodeEncodeError:
        return head.encode("utf-8") + body


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (predict_request(b"{}", length="\u00b2"), 400),  # a superscript two: str.isdigit() says yes, int() no
        (predict_request(b"{}", length="99999999999999999999999"), 400),
        (predict_request(b"{}", host="[::1"), 400),
        (predict_request(b"{}", target="http://[/"), 400),
        (predict_request(b'{"pixels": [' + b"9" * 5000 + b"]}"), 400),  # past Python's integer conversion limit
    ],
)
def test_malformed_requests_get_a_4xx_not_a_500(server, data, expected) -> None:
    started = time.perf_counter()
    answer = raw(server, data)
    assert status(answer) == expected, answer[:300]
    assert time.perf_counter() - started < 5


def test_a_body_shorter_than_its_length_gets_400_at_once(server) -> None:
    answer = raw(server, predict_request(b'{"pix', length="100"), half_close=True)
    assert status(answer) == 400 and b"ended after 5 of the 100 bytes" in answer


def test_an_early_disconnect_is_one_log_line(server, capfd) -> None:
    body = b'{"pixels": [' + b",".join([b"0"] * 783 + [b"255"]) + b"]}"
    for _ in range(3):
        with socket.create_connection(server.server_address[:2]) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")  # close with a reset
            sock.sendall(predict_request(body))
    # A handler thread logs when it notices the reset: a busy machine can take seconds. Not every reset is
    # noticed as an error (seen: 2 lines for 3 resets in 2 runs of 6): a connection that ends without one
    # needs no line. The promise is that every line is the one-line message, never a traceback.
    err, deadline, quiet_since = "", time.monotonic() + 30, None
    while err.count("\n") < 3 and "Traceback" not in err and time.monotonic() < deadline:
        time.sleep(0.02)
        new = capfd.readouterr().err
        err += new
        quiet_since = time.monotonic() if new or quiet_since is None else quiet_since
        if err and time.monotonic() - quiet_since > 2:  # two seconds without a new line: the rest ended cleanly
            break
    line = re.compile(r"glassnet serve: 127\.0\.0\.1: connection ended early \(\w+Error\)")
    lines = err.splitlines()
    assert 1 <= len(lines) <= 3 and all(line.fullmatch(text) for text in lines), err


def test_a_log_line_is_one_write_so_threads_cannot_interleave_it(monkeypatch) -> None:
    """print() writes the text and the newline separately: two disconnects at once gave one line of two."""
    writes: list[str] = []
    monkeypatch.setattr(sys, "stderr", type("Recorder", (), {"write": lambda self, text: writes.append(text)})())
    try:
        raise ConnectionResetError
    except ConnectionResetError:
        AppServer.handle_error(None, None, ("10.0.0.1", 5000))  # type: ignore[arg-type]
    assert writes == ["glassnet serve: 10.0.0.1: connection ended early (ConnectionResetError)\n"]


def test_ctrl_c_while_a_connection_thread_starts_stops_the_server(net, monkeypatch) -> None:
    """SIGINT can land while Thread.start waits for the new thread: the slot is the thread's, Ctrl-C propagates."""
    server = start(net)
    server.shutdown()  # only process_request is driven below
    starting = threading.Thread.start

    def start_then_ctrl_c(thread: threading.Thread) -> None:
        starting(thread)
        thread.join()  # the connection is served and its slot released, as happens before the main thread wakes
        raise KeyboardInterrupt

    ours, theirs = socket.socketpair()
    theirs.close()  # the client is gone: the handler reads end-of-file at once
    monkeypatch.setattr(threading.Thread, "start", start_then_ctrl_c)
    try:
        with pytest.raises(KeyboardInterrupt):  # was ValueError: the slot released twice, and serving went on
            server.process_request(ours, ("127.0.0.1", 1))
    finally:
        monkeypatch.undo()
        server.server_close()
    assert server.slots.acquire(blocking=False)  # the slot is free again, once
    server.slots.release()


def test_connections_beyond_the_limit_get_503_and_the_server_recovers(net) -> None:
    server = AppServer(net, "127.0.0.1", 0)
    server.slots = threading.BoundedSemaphore(2)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        idle = [socket.create_connection(server.server_address[:2]) for _ in range(2)]
        time.sleep(0.3)
        busy = raw(server, b"GET /api/summary HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert status(busy) == 503
        for sock in idle:
            sock.close()
        time.sleep(0.3)
        assert status(raw(server, b"GET /api/summary HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")) == 200
    finally:
        server.shutdown()
        server.server_close()


def test_idle_connections_are_closed(net, monkeypatch) -> None:
    monkeypatch.setattr(Handler, "timeout", 0.5)
    server = start(net)
    try:
        with socket.create_connection(server.server_address[:2], timeout=5) as sock:
            started = time.perf_counter()
            assert sock.recv(100) == b""  # closed by the server, no request ever sent
            assert time.perf_counter() - started < 4
    finally:
        server.shutdown()
        server.server_close()


class Starved:
    """The listening socket, whose accept fails with EMFILE (no file descriptors left) until `until`."""

    def __init__(self, sock: socket.socket, until: float) -> None:
        self.sock, self.until, self.calls = sock, until, 0

    def fileno(self) -> int:
        return self.sock.fileno()

    def accept(self) -> tuple[socket.socket, object]:
        self.calls += 1
        if time.perf_counter() < self.until:
            raise OSError(errno.EMFILE, "Too many open files")
        return self.sock.accept()

    def __getattr__(self, name: str) -> object:
        return getattr(self.sock, name)


def test_running_out_of_file_descriptors_does_not_spin_and_the_server_recovers(net, capfd) -> None:
    server = AppServer(net, "127.0.0.1", 0)
    starved = Starved(server.socket, time.perf_counter() + 1.0)
    server.socket = starved  # type: ignore[assignment]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        answer = raw(server, b"GET /api/summary HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", timeout=10)
        assert status(answer) == 200  # answered once descriptors are back
        assert starved.calls < 40  # the old accept loop retried tens of thousands of times a second
        assert capfd.readouterr().err.count("cannot accept connections") == 1
    finally:
        server.shutdown()
        server.server_close()


@settings(max_examples=40, deadline=None)
@given(
    length=st.text(max_size=12),
    host=st.text(alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=20),
)
def test_any_content_length_or_host_header_gets_a_4xx(server, length, host) -> None:
    assume(not (length.strip().isascii() and length.strip().isdigit()))  # a valid length: the body decides
    data = predict_request(b'{"pixels": []}', length=length.replace("\r", "").replace("\n", ""), host=host)
    answer = raw(server, data, timeout=5)
    assert 400 <= status(answer) < 500, answer[:200]


def test_serving_a_model_whose_forward_pass_is_huge_is_refused_before_warming_up() -> None:
    net = gn.Network(seed=0, verbose=0).add(gn.Conv2D(1, 8, 3, padding=20_000)).add(gn.Flatten()).add(gn.Softmax())
    with pytest.raises(gn.io.NetworkTooLargeError, match="forward pass"):
        Predictor(net)  # the old warm-up forward pass allocated 13 GiB
