"""Data-parallel training in one process: MPIStrategy and the loop's MPI paths against a fake communicator.

tests/network/test_distributed.py runs the real thing under mpiexec, in processes mutation testing
cannot reach; here the ranks are threads of this process (tests/fake_mpi.py), so every line of
glassnet.network.distributed and the loop's MPI-only branches (a rank given no sample, the counts
given to the gradient exchange, the BatchNorm statistics averaged at the end of an epoch) run where
mutmut sees them.
"""

from __future__ import annotations

import hashlib
import json
import sys
from contextlib import AbstractContextManager, nullcontext

import numpy as np
import pytest
import threadpoolctl
from fake_mpi import Aborted, FakeWorld

import glassnet as gn
from glassnet.errors import GlassnetError
from glassnet.network import distributed
from glassnet.network.distributed import LocalStrategy, MPIStrategy, strategy
from glassnet.parameter import Parameter
from tests.network.test_loop_mutants import Spare, Table


def install(monkeypatch: pytest.MonkeyPatch, world: FakeWorld) -> FakeWorld:
    """Answer `from mpi4py import MPI` with the fake world's module, for this test; return the world."""
    monkeypatch.setitem(sys.modules, "mpi4py", world.module())
    return world


@pytest.fixture
def world2(monkeypatch: pytest.MonkeyPatch) -> FakeWorld:
    """Two ranks, installed."""
    return install(monkeypatch, FakeWorld(2))


# The strategies' own promises -----------------------------------------------------------------


def test_without_mpi4py_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # `from mpi4py import MPI` raises ImportError
    with pytest.raises(GlassnetError) as caught:
        MPIStrategy()
    assert str(caught.value) == (
        'distributed training needs mpi4py: pip install "glassnet[mpi]", then start it with mpiexec -n K'
    )
    assert caught.value.__suppress_context__


def test_each_rank_knows_its_place_and_starts_with_an_empty_float32_buffer(monkeypatch: pytest.MonkeyPatch) -> None:
    world = install(monkeypatch, FakeWorld(3))

    def place(_: int) -> tuple[object, ...]:
        parallel = MPIStrategy()
        return parallel.rank, parallel.size, parallel.is_root, parallel.is_local, parallel.buffer

    places = world.run(place)
    assert [p[:4] for p in places] == [(0, 3, True, False), (1, 3, False, False), (2, 3, False, False)]
    assert all(p[4].dtype == np.float32 and p[4].shape == (0,) for p in places)
    assert world.run(lambda _: distributed.rank()) == [0, 1, 2]
    assert all(isinstance(s, MPIStrategy) for s in world.run(lambda _: strategy(True)))


def test_the_local_strategy_is_one_root_process_that_changes_nothing() -> None:
    local = strategy(False)
    assert isinstance(local, LocalStrategy)
    assert (local.rank, local.size, local.is_root, local.is_local) == (0, 1, True, True)
    indices = np.arange(5)
    assert local.shard(indices) is indices
    param = Parameter(np.ones(2, dtype=np.float32))
    param.grad = np.full(2, 3.0, dtype=np.float32)
    local.average_gradients([param], 2, 4)
    np.testing.assert_array_equal(param.grad, [3.0, 3.0])
    assert local.sum((1.5, 2)) == [1.5, 2]


def test_each_rank_takes_a_contiguous_slice_the_first_ones_one_longer(monkeypatch: pytest.MonkeyPatch) -> None:
    world = install(monkeypatch, FakeWorld(3))
    slices = world.run(lambda _: MPIStrategy().shard(np.arange(10, 18)))
    assert [s.tolist() for s in slices] == [[10, 11, 12], [13, 14, 15], [16, 17]]
    slices = world.run(lambda _: MPIStrategy().shard(np.arange(2)))
    assert [s.tolist() for s in slices] == [[0], [1], []]


def params_of(values: list[list[float]], grads: list[list[float] | None], dtype: type = np.float32) -> list[Parameter]:
    params = []
    for value, grad in zip(values, grads, strict=True):
        param = Parameter(np.array(value, dtype=dtype))
        param.grad = None if grad is None else np.array(grad, dtype=dtype)
        params.append(param)
    return params


def test_gradients_become_the_batch_weighted_mean_on_every_rank(world2: FakeWorld) -> None:
    """Rank 0 computed 3 of a batch of 5, rank 1 the other 2: each gradient weighs its share."""
    local = {0: ([[1.0, 2.0], [4.0]], 3), 1: ([[6.0, -3.0], [9.0]], 2)}

    def step(rank: int) -> list[Parameter]:
        grads, count = local[rank]
        params = params_of([[0.0, 0.0], [0.0]], grads)  # type: ignore[arg-type]
        MPIStrategy().average_gradients(params, count, 5)
        return params

    for params in world2.run(step):
        np.testing.assert_allclose(params[0].grad, [(3 * 1 + 2 * 6) / 5, (3 * 2 - 2 * 3) / 5], rtol=1e-6)
        np.testing.assert_allclose(params[1].grad, [(3 * 4 + 2 * 9) / 5], rtol=1e-6)
        assert params[0].grad.shape == (2,) and params[1].grad.shape == (1,)
        assert params[0].grad.dtype == np.float32


def test_a_rank_without_samples_sends_zeros_whatever_its_gradients_hold(world2: FakeWorld) -> None:
    def step(rank: int) -> list[np.ndarray]:
        # rank 1 still holds a gradient from an earlier batch, and has none yet for the second parameter
        grads = [[2.0, 4.0], [6.0]] if rank == 0 else [[100.0, 100.0], None]
        params = params_of([[0.0, 0.0], [0.0]], grads)
        MPIStrategy().average_gradients(params, 1 - rank, 1)
        return [p.grad for p in params]  # type: ignore[misc]

    for grads in world2.run(step):
        np.testing.assert_array_equal(grads[0], [2.0, 4.0])
        np.testing.assert_array_equal(grads[1], [6.0])


def test_a_parameter_without_a_gradient_sends_zeros(world2: FakeWorld) -> None:
    def step(rank: int) -> np.ndarray:
        (param,) = params_of([[0.0]], [[8.0] if rank == 0 else None])
        MPIStrategy().average_gradients([param], 1, 2)
        return param.grad  # type: ignore[return-value]

    assert [g.tolist() for g in world2.run(step)] == [[4.0], [4.0]]


def test_sums_are_taken_in_float64_over_every_rank(world2: FakeWorld) -> None:
    tiny = 2.0**-40  # lost next to 1 in float32
    totals = world2.run(lambda rank: MPIStrategy().sum([1.0 + tiny * (rank + 1), 7 * rank]))
    assert totals == [[2.0 + 3 * tiny, 7.0]] * 2
    assert all(type(value) is float for value in totals[0])
    float32 = world2.run(lambda rank: MPIStrategy().sum([np.float32(1.0 if rank == 0 else tiny)]))
    assert float32 == [[1.0 + tiny]] * 2  # float32 losses too


def test_batchnorm_statistics_become_the_mean_of_the_ranks_rounded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    world = install(monkeypatch, FakeWorld(3))
    means = np.array([[-2.33, -0.22], [-1.25, -0.73], [-0.54, -0.32]], dtype=np.float32)  # rank, feature

    def end(rank: int) -> dict[str, np.ndarray]:
        norm = gn.BatchNorm(2)
        norm.running_mean = means[rank].copy()
        norm.running_var = means[rank] + 1
        MPIStrategy().end_epoch([gn.Dense(2, 2), norm])
        return {"mean": norm.running_mean, "var": norm.running_var}

    expected = (means.astype(np.float64).sum(axis=0) / 3).astype(np.float32)
    assert not np.array_equal(expected, (means[0] + means[1] + means[2]) / np.float32(3))  # float32 sums differ
    for buffers in world.run(end):
        assert buffers["mean"].dtype == np.float32 and buffers["var"].dtype == np.float32
        np.testing.assert_array_equal(buffers["mean"], expected)
        np.testing.assert_array_equal(
            buffers["var"], ((means + 1).astype(np.float64).sum(axis=0) / 3).astype(np.float32)
        )


def test_the_flat_buffer_is_reused_while_size_and_dtype_match() -> None:
    parallel = object.__new__(MPIStrategy)
    parallel.buffer = np.empty(0, dtype=np.float32)
    first = parallel._pack([np.ones((2, 2), np.float32), np.full(3, 2.0, np.float32)], scale=0.5)
    np.testing.assert_array_equal(first, [0.5] * 4 + [1.0] * 3)
    again = parallel._pack([np.zeros(7, np.float32)])
    assert again is first and not again.any()
    wider = parallel._pack([np.arange(7.0)])
    assert wider is not first and wider.dtype == np.float64
    np.testing.assert_array_equal(wider, np.arange(7.0))
    assert parallel._pack([np.ones(6)]).size == 6
    nothing = parallel._pack([])
    assert nothing.dtype == np.float32 and nothing.size == 0


def test_values_are_written_in_place_and_gradients_are_views_of_the_buffer() -> None:
    params = params_of([[0.0, 0.0, 0.0, 0.0], [0.0]], [None, None])
    params[0].value = params[0].value.reshape(2, 2)  # (2, 2)
    held = params[0].value
    MPIStrategy._unpack(np.arange(5, dtype=np.float32), params, "value")
    assert params[0].value is held
    np.testing.assert_array_equal(held, [[0, 1], [2, 3]])
    np.testing.assert_array_equal(params[1].value, [4])
    flat = np.arange(10, 15, dtype=np.float32)
    MPIStrategy._unpack(flat, params, "grad")
    np.testing.assert_array_equal(params[0].grad, [[10, 11], [12, 13]])
    assert np.shares_memory(params[0].grad, flat) and np.shares_memory(params[1].grad, flat)
    np.testing.assert_array_equal(params[1].grad, [14])
    np.testing.assert_array_equal(held, [[0, 1], [2, 3]])


class Drawing(gn.Layer):
    """A layer without parameters that holds a generator, as Dropout does."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad


def test_the_session_starts_every_rank_from_rank_0s_weights_and_generator(world2: FakeWorld) -> None:
    def start(rank: int) -> tuple[list[np.ndarray], dict, dict]:
        dense = gn.Dense(3, 2)
        dense.initialize(np.random.default_rng(rank))
        dense.weight.value = np.full((3, 2), rank + 1.0, np.float32)
        dense.bias.value = np.full(2, -rank - 5.0, np.float32)
        rng = np.random.default_rng(10 + rank)
        with MPIStrategy().session([dense, gn.ReLU()], rng):
            inside = rng.bit_generator.state
        return [dense.weight.value, dense.bias.value], inside, np.random.default_rng(10).bit_generator.state

    for values, inside, rank0 in world2.run(start):
        np.testing.assert_array_equal(values[0], np.ones((3, 2)))
        np.testing.assert_array_equal(values[1], [-5.0, -5.0])
        assert inside == rank0


def test_layers_drawing_from_the_shared_generator_get_one_per_rank_for_the_session(world2: FakeWorld) -> None:
    def start(rank: int) -> tuple[list[float], dict, bool, bool]:
        rng = np.random.default_rng(3)
        before = rng.bit_generator.state
        users, other = Drawing(), Drawing()
        users.rng, other.rng = rng, np.random.default_rng(99)
        mine = other.rng
        with MPIStrategy().session([users, other], rng):
            drawn = users.rng.random(2).tolist()
            untouched = rng.bit_generator.state == before
        return drawn, before, untouched and other.rng is mine, users.rng is rng

    state = np.random.default_rng(3).bit_generator.state
    seed = int.from_bytes(hashlib.sha256(json.dumps(state, sort_keys=True).encode()).digest()[:8], "little")
    for index, (drawn, before, untouched, back) in enumerate(world2.run(start)):
        assert before == state and untouched and back
        assert drawn == np.random.default_rng([seed, index]).random(2).tolist()


def test_the_session_limits_the_blas_threads_to_the_cores_per_rank(monkeypatch: pytest.MonkeyPatch) -> None:
    limits: list[int] = []

    def recording(count: int) -> AbstractContextManager[None]:
        limits.append(count)
        return nullcontext()

    monkeypatch.setattr(threadpoolctl, "threadpool_limits", recording)
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    world = install(monkeypatch, FakeWorld(2, local_size=2))

    def start(_: int) -> int:
        parallel = MPIStrategy()
        with parallel.session([], np.random.default_rng(0)):
            pass
        return parallel.blas_threads()

    assert world.run(start) == [4, 4] and limits == [4, 4]
    world = install(monkeypatch, FakeWorld(1, local_size=3))
    assert world.run(lambda _: MPIStrategy().blas_threads()) == [2]
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert world.run(lambda _: MPIStrategy().blas_threads()) == [1]  # never 0
    monkeypatch.setattr("os.cpu_count", lambda: None)  # unknown: one core
    assert world.run(lambda _: MPIStrategy().blas_threads()) == [1]
    world = install(monkeypatch, FakeWorld(1, local_size=1))
    assert world.run(lambda _: MPIStrategy().blas_threads()) == [1]


def test_a_failing_rank_reports_itself_and_aborts_the_job(world2: FakeWorld, capsys: pytest.CaptureFixture) -> None:
    def start(rank: int) -> None:
        rng = np.random.default_rng(0)
        with MPIStrategy().session([], rng):
            if rank == 1:
                raise RuntimeError("deliberate failure")
            MPIStrategy().sum([1.0])  # rank 0 waits for rank 1, which never comes

    with pytest.raises(Aborted):
        world2.run(start)
    assert (1, 1) in world2.aborts
    assert "glassnet: rank 1 failed: RuntimeError: deliberate failure\n" in capsys.readouterr().err


def test_a_single_rank_raises_its_error_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    world = install(monkeypatch, FakeWorld(1))

    def start(_: int) -> None:
        with MPIStrategy().session([], np.random.default_rng(0)):
            raise RuntimeError("deliberate failure")

    with pytest.raises(RuntimeError) as caught:
        world.run(start)
    assert str(caught.value) == "deliberate failure"
    assert world.aborts == []


# The training loop's MPI paths ----------------------------------------------------------------

IMAGES = np.random.default_rng(1).standard_normal((21, 6, 6, 1)).astype(np.float32)
LABELS = (IMAGES[:, :3].sum(axis=(1, 2, 3)) > 0).astype(np.int64)


def image_net(*extra: gn.Layer) -> gn.Network:
    net = gn.Network(epochs=2, learning_rate=0.05, batch_size=4, seed=4, verbose=0, optimizer="adam")
    for layer in (gn.Flatten(), gn.Dense(36, 8), *extra, gn.ReLU(), gn.Dense(8, 2), gn.Softmax()):
        net.add(layer)
    return net.use("cross_entropy")


def test_two_ranks_train_as_one_process_even_when_a_batch_leaves_a_rank_idle(world2: FakeWorld) -> None:
    """21 images in batches of 4: the last batch's one image leaves rank 1 with nothing, at every epoch.

    The idle rank still draws the batch's augmentation (its generator stays in step, so the next
    epoch's shuffle is the same on both ranks) and takes the same step; the others split 2 + 2.
    """
    augment = gn.augment.RandomAffine(shift=0.2, rotation=10)
    nets = world2.run(lambda _: image_net().fit(IMAGES, LABELS, distributed=True, augment=augment))
    single = image_net().fit(IMAGES, LABELS, augment=augment)
    for a, b, one in zip(nets[0].parameters(), nets[1].parameters(), single.parameters(), strict=True):
        assert np.array_equal(a.value, b.value)
        np.testing.assert_allclose(a.value, one.value, rtol=0, atol=2e-6)
    for net in nets:
        np.testing.assert_allclose(net.history["loss"], single.history["loss"], rtol=1e-6)
        np.testing.assert_allclose(net.history["accuracy"], single.history["accuracy"], rtol=1e-12)
        assert len(net.history["batch_loss"]) == 2 * (6 if net is nets[0] else 5)  # rank 1 had 5 batches an epoch


def test_batchnorm_statistics_are_averaged_over_the_ranks_after_each_epoch(world2: FakeWorld) -> None:
    """After its last batch each rank's running statistics are its own; the epoch ends with their mean."""
    local: list[list[np.ndarray]] = [[], []]

    def train(rank: int) -> gn.Network:
        norm = gn.BatchNorm(8)

        def keep(batch: int, logs: dict) -> None:
            local[rank].append(np.concatenate([norm.running_mean, norm.running_var]))

        hook = gn.callbacks.LambdaCallback(on_train_batch_end=keep)
        return image_net(norm).fit(IMAGES, LABELS, distributed=True, callbacks=[hook])

    nets = world2.run(train)
    assert [len(batches) for batches in local] == [12, 10]  # rank 1 has no sample of each epoch's last batch
    own = np.array([batches[-1] for batches in local], dtype=np.float64)  # each rank's, before the average
    assert not np.array_equal(own[0], own[1])
    for net in nets:
        norm = net.layers[2]
        assert norm.running_mean.dtype == np.float32
        averaged = np.concatenate([norm.running_mean, norm.running_var])
        np.testing.assert_array_equal(averaged, (own.sum(axis=0) / 2).astype(np.float32))


class Kept(gn.Layer):
    """A layer that keeps its buffer in a dict: buffers() and set_buffers() are its only way in and out."""

    def __init__(self, value: float) -> None:
        self.kept = {"count": np.array([value], dtype=np.float32)}

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad

    def buffers(self) -> dict[str, np.ndarray]:
        return {"count": self.kept["count"]}

    def set_buffers(self, values: dict[str, np.ndarray]) -> None:
        self.kept.update(values)


def test_averaged_buffers_are_given_back_through_set_buffers(world2: FakeWorld) -> None:
    """As a model file or a rollback gives them: a layer need not hold a buffer as an attribute of its name."""

    def end(rank: int) -> np.ndarray:
        layer = Kept(2.0 + 4.0 * rank)
        MPIStrategy().end_epoch([layer])
        return layer.buffers()["count"]

    assert [count.tolist() for count in world2.run(end)] == [[4.0], [4.0]]


def test_with_batches_of_one_a_rank_is_idle_at_every_step_and_still_keeps_step(world2: FakeWorld) -> None:
    nets = world2.run(lambda _: image_net().fit(IMAGES[:5], LABELS[:5], batch_size=1, distributed=True))
    single = image_net().fit(IMAGES[:5], LABELS[:5], batch_size=1)
    for a, b, one in zip(nets[0].parameters(), nets[1].parameters(), single.parameters(), strict=True):
        assert np.array_equal(a.value, b.value)
        np.testing.assert_allclose(a.value, one.value, rtol=0, atol=2e-6)
    assert [len(net.history["batch_loss"]) for net in nets] == [10, 0]


def test_a_rank_that_read_nothing_reports_a_divergence_without_a_scaling_hint(
    world2: FakeWorld, capsys: pytest.CaptureFixture
) -> None:
    """One sample of a dataset object for two ranks: rank 1 never reads a batch, so it has no inputs to judge."""
    x, y = np.full((1, 2), 5000.0, dtype=np.float32), np.zeros((1, 2), dtype=np.float32)
    layers = [Spare(), Spare()]

    def train(rank: int) -> None:
        net = gn.Network(epochs=1, learning_rate=0.1, verbose=0, seed=0).add(layers[rank]).use("mse")
        net.fit(Table(x, y), distributed=True)

    with pytest.raises(Aborted):
        world2.run(train)
    err = capsys.readouterr().err
    start = "training diverged at epoch 1, batch 1/1: {!r}.spare holds 2 NaN or infinite values after its last step"
    advice = (
        "the network is back at its initial weights: lower the learning rate (now 0.1), "
        "e.g. fit(..., learning_rate=0.01)"
    )
    assert (
        f"glassnet: rank 1 failed: DivergenceError: {start.format(layers[1])} (no batch had a finite loss); {advice}\n"
    ) in err
    loss = f"{5000.0**2:.4g}"
    assert (
        f"glassnet: rank 0 failed: DivergenceError: {start.format(layers[0])} (the last finite batch loss was {loss}); "
        f"{advice}, or scale the inputs (the largest |x| is 5e+03) e.g. to [0, 1]\n"
    ) in err
    assert sorted(world2.aborts) == [(0, 1), (1, 1)]
