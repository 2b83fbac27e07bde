"""Data-parallel training with BatchNorm and Dropout under mpiexec -n 2: each rank computes only its share.

Identical weights on every rank do not tell data-parallel training from every rank training on the
whole batch, so the script records what each rank really computed: a first layer keeps the rows
each training forward pass receives (by their first feature, unique here), a dataset object keeps
the indices it is asked for, and a callback keeps BatchNorm's running statistics after the last
batch of each epoch, before the ranks average them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mpi4py")
MPIEXEC = shutil.which("mpiexec") or str(Path(sys.executable).parent / "mpiexec")
if not Path(MPIEXEC).exists():
    pytest.skip("mpiexec not found", allow_module_level=True)

SRC = Path(__file__).resolve().parents[2] / "src"
SAMPLES, BATCH, EPOCHS = 150, 25, 2  # 6 batches an epoch, each split 13 + 12 between two ranks

SCRIPT = textwrap.dedent(
    f"""
    import sys
    import numpy as np
    import glassnet as gn

    out, distributed, source = sys.argv[1], sys.argv[2] == "1", sys.argv[3]
    rank = __import__("mpi4py.MPI").MPI.COMM_WORLD.Get_rank() if distributed else 0
    data = np.random.default_rng(5)
    x = data.standard_normal(({SAMPLES}, 6)).astype(np.float32)
    y = (x[:, :3].sum(axis=1) > 0).astype(np.int64)

    class Rows(gn.Layer):
        def __init__(self):
            self.seen = []
        def forward(self, x):
            if self.training:
                self.seen.append(x[:, 0].copy())
            return x
        def backward(self, grad):
            return grad

    class Table:
        def __init__(self):
            self.asked = []
        def __len__(self):
            return len(x)
        def __getitem__(self, index):
            self.asked.append(np.asarray(index).copy())
            return x[index], y[index]

    rows, norm, table = Rows(), gn.BatchNorm(16), Table()
    local, averaged = [], []
    last = {-(-SAMPLES // BATCH) - 1}
    def keep_local(batch, logs):
        if batch == last:
            local.append(np.concatenate([norm.running_mean, norm.running_var]))
    def keep_averaged(epoch, logs):
        averaged.append(np.concatenate([norm.running_mean, norm.running_var]))
    net = (gn.Network(epochs={EPOCHS}, learning_rate=0.05, batch_size={BATCH}, seed=6, verbose=0, optimizer="adam")
           .add(rows).add(gn.Dense(6, 16)).add(norm).add(gn.ReLU()).add(gn.Dropout(0.3))
           .add(gn.Dense(16, 2)).add(gn.Softmax()).use("cross_entropy"))
    hooks = [gn.callbacks.LambdaCallback(on_train_batch_end=keep_local, on_epoch_end=keep_averaged)]
    if source == "dataset":
        net.fit(table, distributed=distributed, callbacks=hooks)
    else:
        net.fit(x, y, distributed=distributed, callbacks=hooks)
    asked = table.asked or [np.zeros(0, dtype=np.int64)]
    seen = [np.searchsorted(np.sort(x[:, 0]), batch) for batch in rows.seen]  # first features -> sorted ranks
    order = np.argsort(x[:, 0])  # sorted ranks -> row indices
    np.savez(f"{{out}}.rank{{rank}}.npz", *[p.value for p in net.parameters()],
             seen=np.concatenate([order[s] for s in seen]), seen_sizes=[len(s) for s in seen],
             asked=np.concatenate(asked), asked_sizes=[len(a) for a in asked],
             local=np.array(local), averaged=np.array(averaged),
             buffers=np.concatenate([norm.running_mean, norm.running_var]))
    """
)


def run(args: list[str], timeout: int = 120) -> None:
    env = dict(os.environ, PYTHONPATH=str(SRC), OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    env.setdefault("OMPI_MCA_rmaps_base_oversubscribe", "1")
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, np.ndarray]]]:
    """Each run's per-rank records: distributed on arrays, on a dataset object, and one process on arrays."""
    folder = tmp_path_factory.mktemp("mpi-shares")
    script = folder / "train.py"
    script.write_text(SCRIPT)
    for source in ("arrays", "dataset"):
        run([MPIEXEC, "-n", "2", "--oversubscribe", sys.executable, str(script), str(folder / source), "1", source])
    run([sys.executable, str(script), str(folder / "single"), "0", "arrays"])
    records = {}
    for name, ranks in (("arrays", 2), ("dataset", 2), ("single", 1)):
        records[name] = []
        for rank in range(ranks):
            with np.load(folder / f"{name}.rank{rank}.npz") as stored:
                records[name].append({key: stored[key] for key in stored.files})
    return records


def batches(record: dict[str, np.ndarray], key: str) -> list[np.ndarray]:
    """The index arrays of a record, one per batch (rows a layer saw, or indices a dataset was asked)."""
    return np.split(record[key], np.cumsum(record[f"{key}_sizes"])[:-1])


def weights(record: dict[str, np.ndarray]) -> list[np.ndarray]:
    return [record[f"arr_{i}"] for i in range(sum(key.startswith("arr_") for key in record))]


@pytest.mark.parametrize("source", ["arrays", "dataset"])
def test_the_ranks_end_with_identical_weights_and_batchnorm_statistics(runs, source: str) -> None:
    rank0, rank1 = runs[source]
    assert all(np.array_equal(a, b) for a, b in zip(weights(rank0), weights(rank1), strict=True))
    assert np.array_equal(rank0["buffers"], rank1["buffers"])


@pytest.mark.parametrize("source", ["arrays", "dataset"])
def test_each_rank_computes_only_its_slice_of_every_global_batch(runs, source: str) -> None:
    """Rank 0 computes the first 13 rows of each global batch of 25, rank 1 the other 12: each row once an epoch.

    The first epoch's global batches are the single process's. The later ones are not: there
    Dropout draws from the network's generator, under MPI from one of each rank's own (each for its
    own rows), so the shuffles part from the single process's, though not from each other.
    """
    (single,) = runs["single"]
    steps = SAMPLES // BATCH
    rank0, rank1 = (batches(record, "seen") for record in runs[source])
    assert [len(b) for b in rank0] == [13] * EPOCHS * steps and [len(b) for b in rank1] == [12] * EPOCHS * steps
    for first, second, whole in zip(rank0[:steps], rank1[:steps], batches(single, "seen")[:steps], strict=True):
        assert np.array_equal(first, whole[:13]) and np.array_equal(second, whole[13:])
    for epoch in range(EPOCHS):
        part = slice(epoch * steps, (epoch + 1) * steps)
        assert sorted(np.concatenate(rank0[part] + rank1[part]).tolist()) == list(range(SAMPLES))


def test_a_dataset_object_is_asked_only_for_the_rows_of_its_rank(runs) -> None:
    for record in runs["dataset"]:
        asked, seen = batches(record, "asked"), batches(record, "seen")
        assert [a.tolist() for a in asked[-len(seen) :]] == [s.tolist() for s in seen]
        assert len(record["asked"]) <= len(record["seen"]) + 1  # beyond its batches, at most one image to see its shape


def test_batchnorm_statistics_are_the_mean_of_the_ranks_after_each_epoch(runs) -> None:
    """After the last batch each rank's running statistics are its own; the epoch ends with their mean on every rank."""
    for source in ("arrays", "dataset"):
        rank0, rank1 = runs[source]
        assert rank0["local"].shape == (EPOCHS, 32)
        assert np.abs(rank0["local"] - rank1["local"]).min() > 0  # different rows: every statistic differs
        np.testing.assert_allclose(rank0["averaged"], (rank0["local"] + rank1["local"]) / 2, rtol=1e-6, atol=1e-7)
        assert np.array_equal(rank0["averaged"], rank1["averaged"])
        assert np.array_equal(rank0["averaged"][-1], rank0["buffers"])
