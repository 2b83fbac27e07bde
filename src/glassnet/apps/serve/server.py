"""The HTTP server of `glassnet serve`: the page's files in memory, one thread per connection up to a limit, serve()."""

from __future__ import annotations

import errno
import os
import socket
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from importlib.resources import files
from typing import Any

from glassnet.apps.epochs import load_run
from glassnet.apps.serve.about import about_model
from glassnet.apps.serve.api import Predictor
from glassnet.apps.serve.handler import DISCONNECTS, Handler, is_loopback
from glassnet.errors import InputError
from glassnet.network.network import Network

STATIC_FILES = {  # URL path -> (file in glassnet/serve/static, content type); nothing else is served
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/layers.js": ("layers.js", "text/javascript; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}
MAX_CONNECTIONS = 64  # connections served at once, one thread each; more are answered 503 at once
ACCEPT_BACKOFF = 0.1  # seconds to wait when accept fails for want of file descriptors, instead of spinning
OUT_OF_DESCRIPTORS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


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
