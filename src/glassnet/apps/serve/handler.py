"""One connection of `glassnet serve`: its routes, request bodies read within their limits, JSON errors."""

from __future__ import annotations

import ipaddress
import json
import sys
import traceback
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, urlsplit

from glassnet.apps.serve.api import MAX_BODY, RequestError, parse_image, parse_json
from glassnet.apps.serve.upload import MAX_UPLOAD, PICTURE_TYPES, parse_options, pick_epoch, read_upload

if TYPE_CHECKING:
    from glassnet.apps.serve.server import AppServer

API_ROUTES = {"/api/predict": "POST", "/api/summary": "GET"}
DRAIN_EXTRA = 3 * MAX_BODY  # a body over its limit by at most this is read and dropped, so the 413 arrives
DRAIN_CHUNK = 1 << 16  # bytes read at a time while dropping a body
IDLE_TIMEOUT = 15  # seconds a connection may stay silent (between requests, or mid-request) before it is closed
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
