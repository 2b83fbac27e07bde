"""The HTTP server of `glassnet serve`: the page's three files from memory and the JSON API."""

from __future__ import annotations

import errno
import ipaddress
import json
import os
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from typing import Any
from urllib.parse import SplitResult, urlsplit

from glassnet.apps.epochs import load_run
from glassnet.apps.serve.about import about_model
from glassnet.apps.serve.api import MAX_BODY, Predictor, RequestError, parse_image, parse_json
from glassnet.apps.serve.upload import MAX_UPLOAD, PICTURE_TYPES, parse_options, pick_epoch, read_upload
from glassnet.errors import InputError
from glassnet.network.network import Network

STATIC_FILES = {  # URL path -> (file in glassnet/serve/static, content type); nothing else is served
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/layers.js": ("layers.js", "text/javascript; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}
API_ROUTES = {"/api/predict": "POST", "/api/summary": "GET"}
DRAIN_EXTRA = 3 * MAX_BODY  # a body over its limit by at most this is read and dropped, so the 413 arrives
DRAIN_CHUNK = 1 << 16  # bytes read at a time while dropping a body
MAX_CONNECTIONS = 64  # connections served at once, one thread each; more are answered 503 at once
IDLE_TIMEOUT = 15  # seconds a connection may stay silent (between requests, or mid-request) before it is closed
ACCEPT_BACKOFF = 0.1  # seconds to wait when accept fails for want of file descriptors, instead of spinning
OUT_OF_DESCRIPTORS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
DISCONNECTS = (ConnectionError, TimeoutError)  # a client that went away or stalled: one log line, no traceback
LOCAL_NAMES = {"localhost", "127.0.0.1", "::1"}
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach: 127.0.0.0/8, ::1 or "localhost".

    Args:
        host: a host name or IP address.
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class AppServer(ThreadingHTTPServer):
    """A threading HTTP server holding the predictor and the page's files.

    Args:
        net: the network to serve; it must take (N, 28, 28, 1) images.
        host: the address to bind (IPv4, IPv6 or a name).
        port: the TCP port, 0 for a free one.
        verbose: log every request to stderr (errors are always logged).
        epochs: the run's per-epoch snapshots (epoch -> network), for the page's epoch slider.
        path: the model file or run folder the network came from, to find its name and test accuracy.
    """

    daemon_threads = True
    request_queue_size = 128  # connections waiting to be accepted, for bursts of clients
    max_connections = MAX_CONNECTIONS

    def __init__(
        self,
        net: Network,
        host: str = "127.0.0.1",
        port: int = 8000,
        verbose: bool = False,
        epochs: dict[int, Network] | None = None,
        path: str | os.PathLike[str] | None = None,
    ) -> None:
        if not 0 <= port <= 65535:
            raise InputError(f"port must be from 0 (any free port) to 65535, got {port}")
        self.predictor = Predictor(net)
        self.epochs = {epoch: Predictor(snapshot) for epoch, snapshot in sorted((epochs or {}).items())}
        self.about = about_model(net, path, self.predictor.class_names)
        self.static = {
            path: (files("glassnet.apps.serve").joinpath("static").joinpath(name).read_bytes(), kind)
            for path, (name, kind) in STATIC_FILES.items()
        }
        self.verbose = verbose
        self.loopback = is_loopback(host)
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.slots = threading.BoundedSemaphore(self.max_connections)
        self.starved = False  # whether accept is failing for want of file descriptors (logged once)
        super().__init__((host, port), Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        """Accept a connection; when file descriptors run out, wait a little instead of spinning, say so once."""
        try:
            request = super().get_request()
        except OSError as error:
            if error.errno in OUT_OF_DESCRIPTORS:
                if not self.starved:
                    log_line(f"glassnet serve: cannot accept connections: {error.strerror}; retrying")
                self.starved = True
                time.sleep(ACCEPT_BACKOFF)
            raise
        self.starved = False
        return request

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve the connection in a thread if fewer than max_connections are being served, else answer 503."""
        if not self.slots.acquire(blocking=False):
            try:
                request.settimeout(1)
                body = b'{"error":"the server is busy: retry in a moment"}'
                request.sendall(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
                    b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                )
            except OSError:
                pass
            self.shutdown_request(request)
            return
        # Only a thread that did not start gives its slot back here. A Ctrl-C while Thread.start waits leaves it
        # to the thread, which has started and releases it: releasing twice raised ValueError (a BoundedSemaphore
        # released too often), which serve_forever logged as a request's error and kept serving: Ctrl-C was lost.
        try:
            super().process_request(request, client_address)
        except Exception:  # no thread to spare
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        """Serve one connection, then free its slot."""
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that disconnected or stalled is one line in the log; anything else a traceback."""
        error = sys.exc_info()[1]
        if isinstance(error, DISCONNECTS):
            log_line(f"glassnet serve: {client_address[0]}: connection ended early ({type(error).__name__})")
            return
        super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        """The address to open in a browser, e.g. http://127.0.0.1:8000/."""
        address, port = self.server_address[:2]
        host = str(address)  # a str for AF_INET and AF_INET6 (typeshed also allows bytes)
        return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def log_line(text: str) -> None:
    """One line on stderr in one write: print's text and newline are two writes, which threads interleave."""
    sys.stderr.write(text + "\n")


class Handler(BaseHTTPRequestHandler):
    """One connection: GET of the page's files and /api/summary, POST of /api/predict."""

    server: AppServer
    protocol_version = "HTTP/1.1"  # keep-alive: the page sends many predictions
    server_version = "glassnet"
    timeout = IDLE_TIMEOUT  # seconds a stalled or idle client may hold its thread
    disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart (Nagle vs delayed ACK)
    body_read = False  # whether the current request's body was read; if not, the connection is closed

    def do_GET(self) -> None:
        """Answer a file of the page, or the layer table."""
        self._answer(self._get)

    def do_POST(self) -> None:
        """Answer a prediction."""
        self._answer(self._post)

    def _answer(self, route: Callable[[str], tuple[int, Any]]) -> None:
        """Run a route; turn refusals into JSON errors and anything unexpected into a 500."""
        self.body_read = False
        try:
            self._check_host()
            status, payload = route(_target(self.path).path)
        except RequestError as error:
            status, payload = error.status, {"error": str(error)}
        except DISCONNECTS:
            raise  # the client went away or stalled: nothing to answer (handle_error logs one line)
        except Exception:  # a bug must cost one request, not the server
            traceback.print_exc(file=sys.stderr)
            status, payload = 500, {"error": "internal server error (see the server's log)"}
            self.close_connection = True
        if not self.body_read and ("Content-Length" in self.headers or "Transfer-Encoding" in self.headers):
            self.close_connection = True  # an unread body would be taken for the next request
        if isinstance(payload, tuple):
            self._send(status, *payload)
        else:
            self._send(status, json.dumps(payload, separators=(",", ":")).encode(), "application/json")

    def _check_host(self) -> None:
        """On loopback, refuse a Host other than this machine's: a DNS-rebinding page could send one."""
        try:
            host = urlsplit(f"//{self.headers.get('Host', '')}").hostname or ""
        except ValueError:
            raise RequestError(400, f"malformed Host header {self.headers.get('Host', '')[:60]!r}") from None
        if self.server.loopback and host not in LOCAL_NAMES and not is_loopback(host):
            raise RequestError(403, f"unexpected Host header {host!r}: open the page at {self.server.url}")

    def _get(self, path: str) -> tuple[int, Any]:
        if path == "/api/summary":
            return 200, self.server.predictor.summary() | {
                "epochs": list(self.server.epochs),
                "model": self.server.about,
            }
        if path in API_ROUTES:
            raise RequestError(405, f"{path} takes {API_ROUTES[path]} requests")
        if path in self.server.static:
            return 200, self.server.static[path]
        raise RequestError(404, f"no such page: {path[:100]}")

    def _post(self, path: str) -> tuple[int, Any]:
        if path != "/api/predict":
            if path in API_ROUTES or path in self.server.static:
                raise RequestError(405, f"{path} takes GET requests")
            raise RequestError(404, f"no such endpoint: {path[:100]}")
        kind = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if kind == "application/json":
            data = parse_json(self._body(MAX_BODY, "a smaller drawing (at most 560x560 pixels)"))
            options = parse_options(_target(self.path).query, data)
            image = parse_image(data)
        elif kind in PICTURE_TYPES:
            options = parse_options(_target(self.path).query, None)
            image = read_upload(self._body(MAX_UPLOAD, "a smaller picture"), kind)
        else:
            raise RequestError(
                415,
                f"send the image as Content-Type: application/json, image/png or image/jpeg, not {kind or 'nothing'}",
            )
        predictor = self.server.predictor if options.epoch is None else pick_epoch(self.server.epochs, options.epoch)
        return 200, predictor.predict(image, layers=options.layers)

    def _body(self, limit: int, smaller: str) -> bytes:
        """The request body, at most limit bytes; needs a Content-Length.

        Args:
            limit: the most bytes accepted.
            smaller: what to send instead of a body over the limit, for the 413's message.
        """
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise RequestError(411, "send a Content-Length, not a chunked body")
        text = self.headers.get("Content-Length")
        if text is None:
            raise RequestError(411, "send a Content-Length header")
        text = text.strip()
        if (
            not (text.isascii() and text.isdigit() and len(text) <= 18)
            or len(self.headers.get_all("Content-Length") or []) > 1
        ):
            raise RequestError(400, f"bad Content-Length {text[:40]!r}: send one length in ASCII digits")
        length = int(text)
        if length > limit:
            if length <= limit + DRAIN_EXTRA:
                remaining = length
                while remaining > 0 and (chunk := self.rfile.read(min(DRAIN_CHUNK, remaining))):
                    remaining -= len(chunk)
            raise RequestError(413, f"the body has {length} bytes, more than the limit of {limit}: send {smaller}")
        self.body_read = True
        try:
            body = self.rfile.read(length)
        except TimeoutError:
            self.close_connection = True
            raise RequestError(408, f"the body did not arrive within {IDLE_TIMEOUT} seconds") from None
        if len(body) < length:
            self.close_connection = True
            raise RequestError(
                400, f"the body ended after {len(body)} of the {length} bytes its Content-Length announced"
            )
        return body

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's refusals (a bad request line, an unknown method...) as JSON like the others."""
        if code == HTTPStatus.NOT_IMPLEMENTED:  # a method without a do_ handler
            code, message = (
                405,
                f"method {str(self.command)[:20]!r} is not supported: GET a page or /api/summary, POST /api/predict",
            )
        self.close_connection = True
        self.log_error("code %d, message %s", code, message)
        self._send(
            code, json.dumps({"error": message or explain or HTTPStatus(code).phrase}).encode(), "application/json"
        )

    def _send(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        if status == 405:
            self.send_header("Allow", API_ROUTES.get(_target(self.path).path, "GET"))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Log requests only when verbose; a server error's traceback is always printed."""
        if self.server.verbose:
            super().log_message(format, *args)


def _target(target: str) -> SplitResult:
    """A request target's parts: .path "/api/predict", .query "layers=0"; 400 for one that cannot be parsed."""
    try:
        return urlsplit(target)
    except ValueError:
        raise RequestError(400, f"malformed request target {target[:60]!r}") from None


def serve(model: str | os.PathLike[str], host: str = "127.0.0.1", port: int = 8000, verbose: bool = False) -> None:
    """Serve the drawing page for a model file until Ctrl-C.

    Args:
        model: a model file written by Network.save (with its MODEL-epochs/ snapshots, if kept),
            or a run folder of epoch-NNN.npz snapshots (glassnet.apps.epochs).
        host: the address to bind; anything but loopback prints a warning.
        port: the TCP port, 0 for a free one.
        verbose: log every request.
    """
    net, epochs = load_run(model)
    server = AppServer(net, host, port, verbose, epochs, model)
    with server:
        if not server.loopback:
            print(
                f"warning: serving on {host}, which other machines may reach: anyone who can connect can use "
                "the model (there is no login); use the default 127.0.0.1 to keep it to this machine",
                file=sys.stderr,
                flush=True,
            )
        kept = f" with a slider over epochs {min(epochs)}..{max(epochs)}" if epochs else ""
        print(f"Serving {os.fspath(model)}{kept} on {server.url} (Ctrl-C to stop)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("\nStopped.", flush=True)
