"""Data-parallel training over MPI: every rank trains on a shard, gradients are averaged.

`Network.fit(..., distributed=True)` trains with `MPIStrategy`; plain training uses
`LocalStrategy`, which changes nothing. mpi4py is imported only here, and only when asked for.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from glassnet.errors import GlassnetError
from glassnet.layers.base import Layer
from glassnet.parameter import Parameter


class LocalStrategy:
    """Single-process training: the whole batch is local and there is nothing to exchange."""

    rank = 0
    size = 1
    is_root = True
    is_local = True  # one process: fit chooses the BLAS threads (glassnet.threads)

    @contextmanager
    def session(self, layers: Sequence[Layer], rng: np.random.Generator) -> Iterator[None]:
        """Nothing to set up or agree on."""
        yield

    def shard(self, indices: np.ndarray) -> np.ndarray:
        """The part of a global batch (or data set) this process computes: all of it."""
        return indices

    def average_gradients(self, params: list[Parameter], local: int, total: int) -> None:
        """The local gradients already are the batch's."""

    def sum(self, values: Sequence[float]) -> list[float]:
        """Totals over all processes: these values."""
        return list(values)

    def end_epoch(self, layers: Sequence[Layer]) -> None:
        """Nothing to reconcile."""


class MPIStrategy:
    """Data parallelism over MPI: rank 0's weights broadcast, one Allreduce of all gradients a step.

    Each rank takes a contiguous slice of every global batch (batch_size stays the global batch).
    The gradients, each weighted by its slice's share of the batch, are summed in one flat buffer,
    so every rank applies the same update and the weights stay identical.
    """

    def __init__(self) -> None:
        try:
            from mpi4py import MPI
        except ImportError:
            raise GlassnetError(
                'distributed training needs mpi4py: pip install "glassnet[mpi]", then start it with mpiexec -n K'
            ) from None
        self.mpi = MPI
        self.comm = MPI.COMM_WORLD
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()
        self.is_root = self.rank == 0
        self.is_local = False  # the session limits the BLAS threads per rank
        self.buffer = np.empty(0, dtype=np.float32)

    @contextmanager
    def session(self, layers: Sequence[Layer], rng: np.random.Generator) -> Iterator[None]:
        """Agree on weights and generator, limit BLAS threads, and abort every rank if one fails."""
        from threadpoolctl import threadpool_limits

        try:
            self._broadcast_start(layers, rng)
            own_rngs = self._give_dropout_own_generators(layers, rng)
            with threadpool_limits(self.blas_threads()):
                yield
            for layer in own_rngs:
                layer.rng = rng
        except BaseException as error:  # one failing rank must stop all, not leave them waiting
            if self.size == 1:
                raise
            print(f"glassnet: rank {self.rank} failed: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
            self.comm.Abort(1)

    def blas_threads(self) -> int:
        """Cores per rank on this machine, so K ranks on K cores do not oversubscribe."""
        local_ranks = self.comm.Split_type(self.mpi.COMM_TYPE_SHARED).Get_size()
        return max(1, (os.cpu_count() or 1) // local_ranks)

    def _broadcast_start(self, layers: Sequence[Layer], rng: np.random.Generator) -> None:
        params = [p for layer in layers for p in layer.parameters()]
        flat = self._pack([p.value for p in params])
        self.comm.Bcast(flat, root=0)
        self._unpack(flat, params, "value")
        state = self.comm.bcast(rng.bit_generator.state if self.is_root else None, root=0)
        rng.bit_generator.state = state

    def _give_dropout_own_generators(self, layers: Sequence[Layer], rng: np.random.Generator) -> list[Layer]:
        """Layers drawing from the shared generator get one of their own per rank.

        Otherwise their draws would differ in count between ranks and the shuffles would part.
        """
        users = [layer for layer in layers if layer.rng is rng]
        # Seeded from the shared generator's state without drawing from it: the ranks' shuffles stay
        # in step, and the first epoch's is a single process's (later ones differ from a single
        # process, whose Dropout masks draw from the shared generator).
        state = json.dumps(rng.bit_generator.state, sort_keys=True).encode()
        seed = int.from_bytes(hashlib.sha256(state).digest()[:8], "little")
        for layer in users:
            layer.rng = np.random.default_rng([seed, self.rank])
        return users

    def shard(self, indices: np.ndarray) -> np.ndarray:
        """This rank's contiguous slice of a global batch or data set; empty when it has fewer items than ranks."""
        return np.array_split(indices, self.size)[self.rank]

    def average_gradients(self, params: list[Parameter], local: int, total: int) -> None:
        """Replace every gradient by the batch-weighted mean over ranks, in one Allreduce.

        A rank with no image of this batch (local 0: the batch is smaller than the rank count)
        sends zeros, whatever its gradients from an earlier batch hold.
        """
        grads = [p.grad if p.grad is not None and local else np.zeros_like(p.value) for p in params]
        flat = self._pack(grads, scale=local / total)
        self.comm.Allreduce(self.mpi.IN_PLACE, flat, op=self.mpi.SUM)
        self._unpack(flat, params, "grad")

    def sum(self, values: Sequence[float]) -> list[float]:
        """Totals over all ranks (loss sums, counts)."""
        totals = np.array(values, dtype=np.float64)
        self.comm.Allreduce(self.mpi.IN_PLACE, totals, op=self.mpi.SUM)
        sums: list[float] = totals.tolist()
        return sums

    def end_epoch(self, layers: Sequence[Layer]) -> None:
        """Average the non-trained state (BatchNorm running statistics) over ranks; set_buffers takes it back."""
        for layer in layers:
            averaged = {}
            for name, array in layer.buffers().items():
                mean = np.ascontiguousarray(array, dtype=np.float64)
                self.comm.Allreduce(self.mpi.IN_PLACE, mean, op=self.mpi.SUM)
                averaged[name] = (mean / self.size).astype(array.dtype)
            layer.set_buffers(averaged)

    def _pack(self, arrays: Sequence[np.ndarray], scale: float = 1.0) -> np.ndarray:
        """All arrays in one reused flat buffer (one message instead of one per parameter)."""
        total = sum(a.size for a in arrays)
        dtype = arrays[0].dtype if arrays else np.float32
        if self.buffer.size != total or self.buffer.dtype != dtype:
            self.buffer = np.empty(total, dtype=dtype)
        offset = 0
        for array in arrays:
            np.multiply(array.ravel(), scale, out=self.buffer[offset : offset + array.size], casting="same_kind")
            offset += array.size
        return self.buffer

    @staticmethod
    def _unpack(flat: np.ndarray, params: list[Parameter], attribute: str) -> None:
        """Values are written in place (others may hold them); gradients become views of flat."""
        offset = 0
        for param in params:
            part = flat[offset : offset + param.size].reshape(param.shape)  # (param shape)
            if attribute == "value":
                param.value[...] = part
            else:
                param.grad = part
            offset += param.size


def rank() -> int:
    """This process's MPI rank (0 without mpiexec); needs mpi4py."""
    return MPIStrategy().rank


Parallel = LocalStrategy | MPIStrategy


def strategy(distributed: bool) -> Parallel:
    """MPIStrategy when distributed training is asked for, else LocalStrategy."""
    return MPIStrategy() if distributed else LocalStrategy()
