"""Golden runs: a fixed set of seeded trainings whose weights and history are hashed.

They guard refactorings that must not change a single bit (issue 12): the hashes in
tests/data/golden.json were recorded on the code before the package was regrouped, and
tests/network/test_golden.py recomputes them. Rerun as a script to print (or, with --write,
record) the hashes:

    python tests/golden_runs.py [--write]

The hashes hold for one platform (NumPy version and BLAS); golden.json records which, and the
test skips elsewhere rather than compare bits that another BLAS computes differently.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np

import glassnet as gn

GOLDEN = Path(__file__).parent / "data" / "golden.json"
SRC = Path(__file__).resolve().parents[1] / "src"


def digest(net: gn.Network, *extra: np.ndarray) -> str:
    """sha256 of every parameter, buffer, history value and extra array, in order."""
    hasher = hashlib.sha256()
    for param in net.parameters():
        hasher.update(param.value.tobytes())
    for layer in net.layers:
        for _, buffer in sorted(layer.buffers().items()):
            hasher.update(buffer.tobytes())
    # everything but the timings and the per-batch losses (format 3), added after the hashes were recorded
    for key in sorted(net.history.keys() - {"seconds", "batch_loss", "batch_points"}):
        hasher.update(key.encode())
        hasher.update(np.asarray(net.history[key], dtype=np.float64).tobytes())
    for array in extra:
        hasher.update(np.ascontiguousarray(array).tobytes())
    return hasher.hexdigest()


def images(n: int = 120, size: int = 10, classes: int = 4) -> tuple[np.ndarray, np.ndarray]:
    data = np.random.default_rng(123)
    return data.random((n, size, size, 1), dtype=np.float32), data.integers(0, classes, n)


def mlp() -> str:
    data = np.random.default_rng(5)
    x, y = data.random((200, 12), dtype=np.float32), data.integers(0, 3, 200)
    net = (
        gn.Network(epochs=3, learning_rate=0.05, batch_size=16, optimizer="momentum", seed=1, verbose=0)
        .add(gn.Dense(12, 16))
        .add(gn.ReLU())
        .add(gn.Dense(16, 3))
        .add(gn.Softmax())
        .use("cross_entropy")
    )
    net.fit(x[:160], y[:160], validation_data=(x[160:], y[160:]))
    scores = net.evaluate(x, y)
    return digest(net, net.predict(x), np.array([scores["loss"], scores["accuracy"]]))


def cnn(fuse_relu_pool: bool = True) -> str:
    x, y = images()
    net = (
        gn.Network(epochs=2, learning_rate=0.01, batch_size=16, optimizer="adam", seed=7, verbose=0)
        .add(gn.Conv2D(1, 4, 3))
        .add(gn.BatchNorm(4))
        .add(gn.ReLU())
        .add(gn.MaxPool2D(2))
        .add(gn.Flatten())
        .add(gn.Dropout(0.25))
        .add(gn.Dense(64, 4))
        .add(gn.Softmax())
        .use("cross_entropy")
    )
    net.fuse_relu_pool = fuse_relu_pool
    net.fit(x, y, validation_split=0.25)
    return digest(net, net.predict(x))


def odd_layers() -> str:
    """Every other layer option: same/stride conv, general max-pool windows, average pool, MSE."""
    x, y = images(96, 12)
    net = (
        gn.Network(epochs=2, learning_rate=0.05, batch_size=12, seed=3, verbose=0)
        .add(gn.Conv2D(1, 3, (3, 2), stride=2, padding="same"))
        .add(gn.LeakyReLU(0.1))
        .add(gn.MaxPool2D(3, stride=1, padding=1))
        .add(gn.AvgPool2D(2))
        .add(gn.Tanh())
        .add(gn.Flatten())
        .add(gn.Dense(27, 4))
        .add(gn.Sigmoid())
        .use("mse")
    )
    net.optimizer = gn.optimizers.SGD(0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)
    net.fit(x, gn.datasets.to_categorical(y, 4))
    return digest(net, net.predict(x))


def resumed() -> str:
    """One epoch with a checkpoint, then a new network resumes it to three."""
    x, y = images()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ck.npz"
        _small(seed=11).fit(x, y, epochs=1, checkpoint=path)
        net = _small(seed=999).fit(x, y, epochs=3, resume=path)
    return digest(net)


def _small(seed: int) -> gn.Network:
    return (
        gn.Network(learning_rate=0.02, batch_size=20, optimizer="adam", seed=seed, verbose=0)
        .add(gn.Conv2D(1, 4, 3))
        .add(gn.ReLU())
        .add(gn.MaxPool2D(2))
        .add(gn.Flatten())
        .add(gn.Dropout(0.2))
        .add(gn.Dense(64, 4))
        .add(gn.Softmax())
        .use("cross_entropy")
    )


def zoo() -> str:
    """The initial weights of every named architecture there was when golden.json was recorded (He/Glorot included)."""
    try:
        from glassnet.apps.zoo import REGISTRY
    except ImportError:
        from glassnet.apps.zoo import REGISTRY  # type: ignore[no-redef]
    hasher = hashlib.sha256()
    for name in ("cnn", "mlp", "lenet", "article-mlp", "article-cnn"):  # entries added later are not recorded
        entry = REGISTRY[name]
        hasher.update(name.encode())
        hasher.update(digest(entry.build(seed=0, verbose=0)).encode())
    return hasher.hexdigest()


DISTRIBUTED = textwrap.dedent(
    """
    import hashlib, sys
    import numpy as np
    import glassnet as gn
    from mpi4py import MPI

    data = np.random.default_rng(0)
    x = data.random((120, 10, 10, 1), dtype=np.float32)
    y = data.integers(0, 3, 120)
    net = (gn.Network(epochs=2, learning_rate=0.05, batch_size=40, seed=3, verbose=0, optimizer="momentum")
           .add(gn.Conv2D(1, 4, 3)).add(gn.BatchNorm(4)).add(gn.ReLU()).add(gn.MaxPool2D(2)).add(gn.Flatten())
           .add(gn.Dropout(0.2)).add(gn.Dense(64, 3)).add(gn.Softmax()).use("cross_entropy"))
    net.fit(x, y, distributed=True, validation_data=(x[:40], y[:40]))
    digest = hashlib.sha256()
    for p in net.parameters():
        digest.update(p.value.tobytes())
    digest.update(np.asarray(net.history["loss"], dtype=np.float64).tobytes())
    if MPI.COMM_WORLD.Get_rank() == 0:
        print(digest.hexdigest())
    """
)


def distributed() -> str:
    """Two MPI ranks (mpiexec), rank 0's weights and loss history."""
    mpiexec = shutil.which("mpiexec") or str(Path(sys.executable).parent / "mpiexec")
    env = dict(os.environ, PYTHONPATH=str(SRC), OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    command = [mpiexec, "-n", "2", "--oversubscribe", sys.executable, "-c", DISTRIBUTED]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    if result.returncode != 0:
        raise RuntimeError(result.stderr)
    return result.stdout.strip()


RUNS: dict[str, Callable[[], str]] = {
    "mlp": mlp,
    "cnn": cnn,
    "cnn_unfused": lambda: cnn(fuse_relu_pool=False),
    "odd_layers": odd_layers,
    "resumed": resumed,
    "zoo": zoo,
}


def platform() -> dict[str, str]:
    """What the hashes depend on besides the code: NumPy and the BLAS it was built with."""
    try:
        blas = np.__config__.CONFIG["Build Dependencies"]["blas"]
    except AttributeError:  # NumPy < 1.26 keeps no CONFIG: another platform than the recorded one
        return {"numpy": np.__version__, "blas": "unknown"}
    return {"numpy": np.__version__, "blas": f"{blas['name']} {blas['version']}"}


def compute(fast: bool) -> dict[str, str]:
    """Every run's hash with the compiled kernels on or off."""
    before = gn.fast_enabled()
    gn.set_fast(fast)
    try:
        return {f"{name}{'_fast' if fast else ''}": run() for name, run in RUNS.items()}
    finally:
        gn.set_fast(before)


if __name__ == "__main__":
    hashes = {**compute(False), **compute(True), "distributed": distributed()}
    print(json.dumps(hashes, indent=2))
    if "--write" in sys.argv:
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps({"platform": platform(), "hashes": hashes}, indent=2) + "\n")
