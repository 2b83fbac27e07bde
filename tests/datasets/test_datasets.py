"""Tests for load_mnist (shipped files, cache, user files), to_categorical, load_fashion_mnist."""

import contextlib
import gzip
import hashlib
import http.server
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from glassnet.datasets import (
    DataFormatError,
    DownloadError,
    cache_dir,
    load_fashion_mnist,
    load_mnist,
    to_categorical,
    write_idx,
)
from glassnet.datasets import download as download_module
from glassnet.datasets import mnist as mnist_module
from glassnet.datasets.mnist import FILES, MNIST_MD5, SHIPPED_DIR


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the data folder at a fresh temp folder so no test touches the user's cache."""
    folder = tmp_path / "glassnet-data"
    monkeypatch.setenv("GLASSNET_DATA", str(folder))
    monkeypatch.delenv("GLASSNET_FASHION_MNIST_URL", raising=False)
    return folder


@pytest.fixture(scope="module")
def built_cache(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple]:
    """MNIST loaded once from the shipped files: its cache folder and the arrays."""
    folder = tmp_path_factory.mktemp("built-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GLASSNET_DATA", str(folder))
        return folder, load_mnist()


@pytest.fixture
def mnist(built_cache: tuple[Path, tuple], data_dir: Path) -> tuple:
    """MNIST's arrays, with the test's own data folder holding a copy of the built cache."""
    shutil.copytree(built_cache[0], data_dir)
    return built_cache[1]


def test_cache_dir_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "d"))
    assert cache_dir() == tmp_path / "d"
    monkeypatch.delenv("GLASSNET_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "glassnet"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "glassnet"


def test_shipped_files_match_published_md5() -> None:
    for name in FILES:
        raw = gzip.decompress((SHIPPED_DIR / f"{name}.gz").read_bytes())
        assert hashlib.md5(raw).hexdigest() == MNIST_MD5[name]


def test_load_mnist_shapes_dtypes_ranges(mnist: tuple) -> None:
    (x_train, y_train), (x_test, y_test) = mnist
    assert x_train.shape == (60000, 28, 28, 1) and x_test.shape == (10000, 28, 28, 1)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    np.testing.assert_array_equal(np.unique(y_test), np.arange(10))
    assert y_test[:5].tolist() == [7, 2, 1, 0, 4]
    np.testing.assert_array_equal(np.round(x_test * 255) / np.float32(255), x_test)


def test_cache_written_then_used(
    built_cache: tuple, mnist: tuple, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached = sorted(p.name for p in (built_cache[0] / "mnist").iterdir())
    assert cached == sorted(f"{name}.npy" for name in FILES)

    def fail(_: object) -> None:
        raise AssertionError("cache missed")

    monkeypatch.setattr(mnist_module, "read_idx", fail)
    (_x_train, y_train), (x_test, _y_test) = load_mnist()
    np.testing.assert_array_equal(x_test, mnist[1][0])
    np.testing.assert_array_equal(y_train, mnist[0][1])


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage"])
def test_corrupted_cache_is_rebuilt(data_dir: Path, mnist: tuple, damage: str) -> None:
    path = data_dir / "mnist" / "t10k-labels-idx1-ubyte.npy"
    good = path.read_bytes()
    if damage == "flip":
        path.write_bytes(good[:500] + bytes([good[500] ^ 1]) + good[501:])
    elif damage == "truncate":
        path.write_bytes(good[:-10])
    else:
        path.write_bytes(b"not a numpy file")
    np.testing.assert_array_equal(load_mnist()[1][1], mnist[1][1])
    assert path.read_bytes() == good


def test_unwritable_cache_still_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")
    monkeypatch.setenv("GLASSNET_DATA", str(blocker / "sub"))
    (x_train, _), _ = load_mnist()
    assert x_train.shape == (60000, 28, 28, 1)


def test_shipped_file_with_wrong_md5_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(MNIST_MD5, "t10k-labels-idx1-ubyte", "0" * 32)
    with pytest.raises(DataFormatError, match=r"t10k-labels.*damaged"):
        load_mnist()


def make_split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Small random MNIST-style images and labels. Args: n: count; seed: generator seed."""
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n).astype(np.uint8))


def write_user_files(folder: Path, arrays: list[np.ndarray]) -> None:
    """The four files in FILES order, mixing .gz names, raw content and gzip content."""
    names = [f"{FILES[0]}.gz", FILES[1], FILES[2], f"{FILES[3]}.gz"]
    for name, array, compress in zip(names, arrays, [True, False, True, False], strict=True):
        write_idx(folder / name, array, compress=compress)


def test_load_mnist_from_user_folder(tmp_path: Path) -> None:
    train, test = make_split(5, 0), make_split(3, 1)
    write_user_files(tmp_path, [*train, *test])
    (x_train, _y_train), (x_test, y_test) = load_mnist(tmp_path)
    assert x_train.shape == (5, 28, 28, 1) and x_test.shape == (3, 28, 28, 1)
    assert x_train.dtype == np.float32 and y_test.dtype == np.int64
    np.testing.assert_array_equal(x_train[..., 0] * np.float32(255), train[0])
    np.testing.assert_array_equal(y_test, test[1])
    assert not (tmp_path / "glassnet-data").exists()


BAD_USER_FILES = {
    "image size": (lambda a: a.__setitem__(0, np.zeros((5, 28, 27), np.uint8)), "28, 28"),
    "image dtype": (lambda a: a.__setitem__(0, a[0].astype(np.float32)), "uint8 images"),
    "count mismatch": (lambda a: a.__setitem__(1, a[1][:4]), r"\(5,\)"),
    "label dtype": (lambda a: a.__setitem__(3, a[3].astype(np.float32)), "integer labels"),
    "label range": (lambda a: a[3].__setitem__(0, 10), r"0\.\.9"),
}


@pytest.mark.parametrize("case", list(BAD_USER_FILES))
def test_load_mnist_rejects_bad_user_files(tmp_path: Path, case: str) -> None:
    arrays = [*make_split(5, 0), *make_split(3, 1)]
    edit, message = BAD_USER_FILES[case]
    edit(arrays)
    write_user_files(tmp_path, arrays)
    with pytest.raises(DataFormatError, match=message):
        load_mnist(tmp_path)


def test_load_mnist_user_folder_missing_or_corrupt(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        load_mnist(tmp_path)
    write_user_files(tmp_path, [*make_split(5, 0), *make_split(3, 1)])
    path = tmp_path / FILES[1]
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(DataFormatError, match=FILES[1]):
        load_mnist(tmp_path)


def test_to_categorical() -> None:
    out = to_categorical(np.array([2, 0, 1]))
    np.testing.assert_array_equal(out, np.eye(3, dtype=np.float32)[[2, 0, 1]])
    assert out.dtype == np.float32
    assert to_categorical([1], num_classes=4).tolist() == [[0, 1, 0, 0]]
    assert to_categorical(np.array([[1], [0]], np.uint8)).shape == (2, 2)
    assert to_categorical(np.array([1.0, 0.0])).tolist() == [[0, 1], [1, 0]]
    assert to_categorical(np.array([], np.int64), num_classes=3).shape == (0, 3)


@pytest.mark.parametrize(
    "y, num_classes, error, message",
    [
        ([0.5, 1.0], None, ValueError, r"integer labels, got y\[0\] = 0.5"),
        ([0.0, np.nan], None, ValueError, "integer labels"),
        ([True, False], None, TypeError, "integer labels"),
        (["a"], None, TypeError, "integer labels"),
        ([1, -1], None, ValueError, r"0\.\.1, got y\[1\] = -1"),
        ([0, 3], 3, ValueError, r"0\.\.2, got y\[1\] = 3"),
        ([0, 1], 0, ValueError, "positive int"),
        ([0, 1], 2.5, ValueError, "positive int"),
        ([[0, 1]], None, ValueError, r"\(N,\) or \(N, 1\)"),
        ([], None, ValueError, "pass num_classes"),
    ],
)
def test_to_categorical_errors(y: list, num_classes: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        to_categorical(np.array(y), num_classes)


class Server:
    """A local HTTP server for the download tests: serves files, or misbehaves on request."""

    def __init__(self) -> None:
        """Start it on a free port of 127.0.0.1 in a daemon thread."""
        self.files: dict[str, bytes] = {}
        self.mode = "ok"
        self.requests: list[str] = []
        self.release = threading.Event()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                body = server.files.get(self.path.lstrip("/"))
                if server.mode == "endless":  # a server that never stops sending
                    self.send_response(200)
                    self.end_headers()
                    with contextlib.suppress(OSError):
                        for _ in range(100_000):
                            self.wfile.write(b"\0" * 65536)
                    return
                if server.mode == "liar":  # announces far more than the file holds
                    self.send_response(200)
                    self.send_header("Content-Length", str(10**12))
                    self.end_headers()
                    return
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if server.mode == "drop":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if server.mode == "hang":
                    server.release.wait(5)
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop serving and release any hanging handler."""
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Server, dict[str, str], list[np.ndarray]]]:
    """A server holding four small Fashion-MNIST-style files, with their MD5s and arrays."""
    srv = Server()
    arrays = [*make_split(6, 2), *make_split(4, 3)]
    md5s = {}
    for name, array in zip(FILES, arrays, strict=True):
        write_idx(tmp_path / f"{name}.gz", array)
        srv.files[f"{name}.gz"] = (tmp_path / f"{name}.gz").read_bytes()
        md5s[f"{name}.gz"] = hashlib.md5(srv.files[f"{name}.gz"]).hexdigest()
    yield srv, md5s, arrays
    srv.close()


def test_fashion_download_and_reuse(server: tuple, data_dir: Path) -> None:
    srv, md5s, arrays = server
    (x_train, y_train), (x_test, _y_test) = load_fashion_mnist(url=srv.url, md5s=md5s, progress=False)
    assert x_train.shape == (6, 28, 28, 1) and x_train.dtype == np.float32
    np.testing.assert_array_equal(x_test[..., 0] * np.float32(255), arrays[2])
    np.testing.assert_array_equal(y_train, arrays[1])
    folder = data_dir / "fashion-mnist"
    assert sorted(p.name for p in folder.iterdir()) == sorted(md5s)
    assert len(srv.requests) == 4
    load_fashion_mnist(url=srv.url, md5s=md5s, progress=False)
    assert len(srv.requests) == 4  # served from the cache


def test_fashion_url_from_environment(server: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    srv, md5s, _ = server
    monkeypatch.setenv("GLASSNET_FASHION_MNIST_URL", srv.url.rstrip("/"))
    load_fashion_mnist(md5s=md5s)  # with the progress bar
    assert srv.requests == [f"/{name}.gz" for name in FILES]


def test_fashion_damaged_cached_file_downloaded_again(server: tuple, data_dir: Path) -> None:
    srv, md5s, _ = server
    load_fashion_mnist(url=srv.url, md5s=md5s, progress=False)
    (data_dir / "fashion-mnist" / f"{FILES[3]}.gz").write_bytes(b"damaged")
    load_fashion_mnist(url=srv.url, md5s=md5s, progress=False)
    assert srv.requests[4:] == [f"/{FILES[3]}.gz"]


def test_fashion_corrupt_download(server: tuple, data_dir: Path) -> None:
    srv, md5s, _ = server
    srv.files[f"{FILES[0]}.gz"] = b"\x1f\x8b tampered"
    with pytest.raises(DataFormatError, match=f"{srv.url}{FILES[0]}.gz is corrupt"):
        load_fashion_mnist(url=srv.url, md5s=md5s, progress=False)
    assert list((data_dir / "fashion-mnist").iterdir()) == []


@pytest.mark.parametrize("mode, message", [("drop", "cut off"), ("hang", "timed out")])
def test_fashion_failed_transfer_leaves_nothing(server: tuple, data_dir: Path, mode: str, message: str) -> None:
    srv, md5s, _ = server
    srv.mode = mode
    with pytest.raises(DownloadError, match=message):
        load_fashion_mnist(url=srv.url, md5s=md5s, timeout=0.5, progress=False)
    assert list((data_dir / "fashion-mnist").iterdir()) == []


def test_fashion_offline_error_says_where_to_put_files(data_dir: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    with pytest.raises(DownloadError) as info:
        load_fashion_mnist(url=url, progress=False)
    message = str(info.value)
    assert f"{url}{FILES[0]}.gz" in message
    assert str(data_dir / "fashion-mnist" / f"{FILES[0]}.gz") in message
    assert isinstance(info.value, OSError)


def test_fashion_http_error(server: tuple, data_dir: Path) -> None:
    srv, md5s, _ = server
    del srv.files[f"{FILES[0]}.gz"]
    with pytest.raises(DownloadError, match="404"):
        load_fashion_mnist(url=srv.url, md5s=md5s, progress=False)
    assert list((data_dir / "fashion-mnist").iterdir()) == []


@pytest.mark.parametrize("mode", ["endless", "liar"])
def test_fashion_download_is_capped_at_the_known_size(server: tuple, data_dir: Path, mode: str) -> None:
    srv, md5s, _ = server
    srv.mode = mode
    sizes = {name: len(body) for name, body in srv.files.items()}
    with pytest.raises(DownloadError, match="more than the"):
        load_fashion_mnist(url=srv.url, md5s=md5s, sizes=sizes, progress=False)
    assert list((data_dir / "fashion-mnist").iterdir()) == []  # the old code kept writing without end


def test_fashion_download_interrupted_leaves_nothing(server: tuple, data_dir: Path, monkeypatch) -> None:
    srv, md5s, _ = server
    srv.mode = "endless"

    class CtrlC(download_module.tqdm):
        def update(self, n: float | None = 1) -> bool | None:
            raise KeyboardInterrupt

    monkeypatch.setattr(download_module, "tqdm", CtrlC)
    with pytest.raises(KeyboardInterrupt):
        load_fashion_mnist(url=srv.url, md5s=md5s, progress=False)
    assert list((data_dir / "fashion-mnist").iterdir()) == []


def test_download_bar_is_tqdm_auto() -> None:
    from tqdm.auto import tqdm as auto_tqdm

    assert download_module.tqdm is auto_tqdm  # a widget in Jupyter, text in a terminal


def test_fashion_default_source_is_https_with_published_sizes() -> None:
    from glassnet.datasets import mnist

    assert mnist.FASHION_URL.startswith("https://")
    assert mnist.FASHION_SIZES.keys() == mnist.FASHION_MD5.keys()
    assert max(mnist.FASHION_SIZES.values()) == 26421880
