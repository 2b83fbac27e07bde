"""Shared helpers for the benchmark scripts: paths, data, threads, memory, glassnet's fast switch.

Nothing here imports glassnet or torch at module level, so a PyTorch run never pays for
glassnet's import (and the other way round): peak memory stays per framework.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import gzip
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
SRC_DIR = REPO_ROOT / "src"
RESULTS_DIR = BENCH_DIR / "results"
MNIST_DIR = SRC_DIR / "glassnet" / "datasets" / "data" / "mnist"

# Environment variables that change BLAS speed; reported in every JSON header.
BLAS_ENV_VARS = (
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "GLASSNET_FAST",
)
THREAD_ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

# ---------------------------------------------------------------------------------------------
# glassnet's [fast] switch: the ONE place that knows how it is spelled.
# ---------------------------------------------------------------------------------------------
FAST_ENV_VAR = "GLASSNET_FAST"


def request_fast_env(fast: bool) -> None:
    """Set the environment variable glassnet reads at import; call before `import glassnet`."""
    os.environ[FAST_ENV_VAR] = "1" if fast else "0"


def _find(gn: Any, names: tuple[str, ...]) -> Any:
    """The first callable called one of `names` on glassnet or its `fast` submodule."""
    for owner in (gn, getattr(gn, "fast", None)):
        for name in names:
            fn = getattr(owner, name, None)
            if callable(fn):
                return fn
    return None


def apply_fast_mode(gn: Any, fast: bool) -> dict[str, Any]:
    """Switch glassnet's [fast] kernels on or off and report what actually happened.

    Calls `set_fast(bool)` (on glassnet or glassnet.layers.maxpool2x2); the environment variable set by
    `request_fast_env` covers a glassnet that only reads GLASSNET_FAST at import.
    `fast_active` comes from `fast_enabled()` (or `is_fast()`), None when glassnet has neither.
    A switch that refuses (set_fast(True) without numba raises ImportError) is recorded in
    `fast_error` and the run goes on with the NumPy code.
    """
    report: dict[str, Any] = {"fast_requested": fast, "fast_switch": "env " + FAST_ENV_VAR}
    setter = _find(gn, ("set_fast",))
    if setter is not None:
        report["fast_switch"] = "set_fast"
        try:
            setter(fast)
        except ImportError as err:
            report["fast_error"] = str(err)
    getter = _find(gn, ("fast_enabled", "is_fast", "get_fast"))
    report["fast_active"] = bool(getter()) if getter is not None else None
    return report


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------
def _read_idx(path: Path, header_bytes: int) -> np.ndarray:
    """Read a gzipped IDX file as a flat uint8 array, skipping its header."""
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=header_bytes)


def load_mnist_local(
    directory: Path = MNIST_DIR,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """MNIST straight from the shipped IDX files, no glassnet import (used by PyTorch runs).

    Returns ((x_train, y_train), (x_test, y_test)): x float32 (N, 28, 28, 1) in [0, 1],
    y int64 (N,), the same as `glassnet.datasets.load_mnist()`.
    """

    def images(name: str) -> np.ndarray:
        raw = _read_idx(directory / name, 16)
        return (raw.reshape(-1, 28, 28, 1).astype(np.float32) / 255.0).astype(np.float32)

    def labels(name: str) -> np.ndarray:
        return _read_idx(directory / name, 8).astype(np.int64)

    return (
        (images("train-images-idx3-ubyte.gz"), labels("train-labels-idx1-ubyte.gz")),
        (images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz")),
    )


def load_mnist_glassnet(gn: Any) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """MNIST through glassnet's public loader, falling back to the local reader if absent."""
    datasets = getattr(gn, "datasets", None)
    loader = getattr(datasets, "load_mnist", None)
    if callable(loader):
        return loader()
    return load_mnist_local()


def ensure_src_on_path() -> None:
    """Make `import glassnet` find the working tree's src/ even when it is not installed."""
    src = str(SRC_DIR)
    if src not in sys.path:
        sys.path.insert(0, src)


def child_env(threads: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for a measurement subprocess: thread caps and src/ on PYTHONPATH."""
    env = dict(os.environ)
    for name in THREAD_ENV_VARS:
        env[name] = str(threads)
    path = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = str(SRC_DIR) + (os.pathsep + path if path else "")
    env.update(extra or {})
    return env


# ---------------------------------------------------------------------------------------------
# Threads, memory, environment report
# ---------------------------------------------------------------------------------------------
def limit_threads(threads: int) -> Any:
    """Cap every BLAS/OpenMP pool in this process (threadpoolctl) and torch's intra-op pool.

    Returns the threadpoolctl controller; keep a reference for the run's lifetime.
    """
    from threadpoolctl import threadpool_limits

    limiter = threadpool_limits(limits=threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    return limiter


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (ru_maxrss is KiB on Linux)."""
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == "darwin":  # bytes there
        kib /= 1024
    return kib / 1024.0


def current_rss_mb() -> float:
    """Current resident memory of this process in MiB (Linux /proc; else the peak)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return peak_rss_mb()


def _cpu_times() -> tuple[int, int]:
    """(idle, total) jiffies summed over all CPUs, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return idle, sum(fields[:8])  # user..steal; guest time is already inside user


def machine_busy(interval: float = 0.5) -> float | None:
    """Fraction of the machine's CPU time used by anything over `interval` seconds (Linux).

    Run between measurements (nothing of ours running), it is the load other people put on
    the machine; None where /proc/stat is missing.
    """
    try:
        idle0, total0 = _cpu_times()
        time.sleep(interval)
        idle1, total1 = _cpu_times()
    except OSError:
        return None
    total = total1 - total0
    return 1.0 - (idle1 - idle0) / total if total > 0 else None


def wait_until_idle(max_wait: float, threshold: float = 0.2, interval: float = 0.5) -> float | None:
    """Sample machine_busy until it drops below `threshold` or `max_wait` seconds pass.

    Returns the last sample (the busy fraction just before the measurement starts).
    """
    deadline = time.monotonic() + max_wait
    busy = machine_busy(interval)
    while busy is not None and busy >= threshold and time.monotonic() < deadline:
        busy = machine_busy(interval)
    return busy


def blas_info() -> list[dict[str, Any]]:
    """threadpoolctl's view of the loaded BLAS/OpenMP libraries, trimmed to what matters."""
    from threadpoolctl import threadpool_info

    keys = ("user_api", "internal_api", "prefix", "version", "num_threads", "architecture", "threading_layer")
    return [{k: lib.get(k) for k in keys if k in lib} for lib in threadpool_info()]


def environment_report() -> dict[str, Any]:
    """Machine, library versions and BLAS-relevant environment variables, for JSON headers."""
    report: dict[str, Any] = {
        "date": _dt.datetime.now().isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
        "env": {name: os.environ.get(name) for name in BLAS_ENV_VARS},
        "blas": blas_info(),
    }
    with contextlib.suppress(OSError):
        report["loadavg"] = os.getloadavg()
    return report


def slow_blas_env_warning() -> str | None:
    """A warning line when OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set (they slow NumPy)."""
    found = [n for n in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if os.environ.get(n)]
    if not found:
        return None
    unset = " ".join(f"-u {n}" for n in found)
    return (
        f"warning: {', '.join(found)} set in the environment; they can slow NumPy's BLAS. "
        f"For a clean run: env {unset} python benchmarks/..."
    )


class MeasurementError(RuntimeError):
    """A measurement subprocess failed; the message ends with its stderr."""


def run_measurement(
    options: list[str], threads: int, timeout: float = 3600.0, script: str = "run_one.py"
) -> dict[str, Any]:
    """Run `python benchmarks/<script> <options>` in a fresh process; return its JSON line.

    The child gets the thread caps in its environment (and applies them again through
    threadpoolctl), so every library in it sees the same thread count.
    """
    command = [sys.executable, str(BENCH_DIR / script), *options]
    cpu0, children0 = _try_cpu_times(), resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=child_env(threads))
    cpu1, children1 = _try_cpu_times(), resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise MeasurementError(f"{' '.join(command[1:])} exited {done.returncode}:\n{tail}")
    record = json.loads(lines[-1])
    own = (children1.ru_utime + children1.ru_stime) - (children0.ru_utime + children0.ru_stime)
    record["others_busy_during"] = _others_share(cpu0, cpu1, own)
    return record


def _try_cpu_times() -> tuple[int, int] | None:
    """_cpu_times(), or None where /proc/stat is missing."""
    try:
        return _cpu_times()
    except OSError:
        return None


def _others_share(
    before: tuple[int, int] | None, after: tuple[int, int] | None, own_cpu_seconds: float
) -> float | None:
    """Fraction of the machine's CPU time used by other processes while a child ran."""
    if before is None or after is None:
        return None
    total = after[1] - before[1]
    busy = total - (after[0] - before[0])
    own = own_cpu_seconds * os.sysconf("SC_CLK_TCK")
    return max(0.0, (busy - own) / total) if total > 0 else None


def median(values: list[float]) -> float | None:
    """Median of the non-None values, or None if there are none."""
    clean = sorted(v for v in values if v is not None)
    if not clean:
        return None
    mid = len(clean) // 2
    return clean[mid] if len(clean) % 2 else (clean[mid - 1] + clean[mid]) / 2


def markdown_table(headers: list[str], rows: list[list[str]], left: int = 2) -> str:
    """A GitHub-flavoured markdown table, right-aligning every column after the first `left`."""
    align = ["---" if i < left else "---:" for i in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def fmt(value: float | None, spec: str = ".2f", suffix: str = "") -> str:
    """Format a number for a table; 'n/a' for None."""
    return "n/a" if value is None else f"{value:{spec}}{suffix}"


def fmt_factor(value: float | None) -> str:
    """A speed factor: 2 decimals below 10 (0.85x, 3.20x), none above (1,234x)."""
    if value is None:
        return "n/a"
    return f"{value:.2f}x" if value < 10 else f"{value:,.0f}x"


def write_json(path: Path, payload: dict[str, Any]) -> Path:
    """Write `payload` as indented JSON, creating the parent directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path


def timestamp() -> str:
    """A file-name-friendly local timestamp, e.g. 2026-05-09T15-04-05."""
    return _dt.datetime.now().strftime("%Y-%m-%dT%H-%M-%S")
