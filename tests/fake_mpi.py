"""A fake mpi4py for one process: K ranks run as K threads and meet for each collective call.

glassnet's MPIStrategy uses COMM_WORLD's Get_rank, Get_size, Bcast, bcast, Allreduce (in place, SUM),
Split_type(COMM_TYPE_SHARED) and Abort. The fake implements those, checks that every rank makes the
same call with buffers of the same size and dtype (a real MPI job would hang or mix up messages), and
sums in rank order. A rank that fails breaks the others' waits (BrokenJob), as Abort would end them.
Tests put `FakeWorld.module()` in `sys.modules["mpi4py"]`; then `MPIStrategy()` built in a thread
started by `FakeWorld.run` is that thread's rank. Mutation testing reaches this code, which it cannot
do in the processes mpiexec starts (tests/network/test_distributed.py).
"""

from __future__ import annotations

import copy
import threading
import types
from collections.abc import Callable
from typing import Any

import numpy as np

IN_PLACE = object()
SUM = object()
COMM_TYPE_SHARED = object()


class Aborted(BaseException):
    """What the fake Abort raises in the rank that called it (a real Abort ends every process)."""

    def __init__(self, rank: int, code: int) -> None:
        super().__init__(f"rank {rank} called Abort({code})")
        self.rank, self.code = rank, code


class BrokenJob(RuntimeError):
    """Raised in a rank waiting at a collective call that will never complete (another rank failed or hung)."""


class FakeWorld:
    """size ranks as threads of this process, with the collective calls MPIStrategy makes.

    Args:
        size: the number of ranks.
        local_size: the ranks on this machine, as Split_type(COMM_TYPE_SHARED) reports them.
        timeout: seconds a rank waits for the others at a collective call before the job fails.
    """

    def __init__(self, size: int, local_size: int | None = None, timeout: float = 30.0) -> None:
        self.size = size
        self.local_size = size if local_size is None else local_size
        self.timeout = timeout
        self.meeting = threading.Condition()
        self.slots: list[tuple[str, Any]] = [("", None)] * size  # the call under way
        self.arrived = 0  # ranks that reached it
        self.generation = 0  # collective calls completed
        self.done: dict[int, list[tuple[str, Any]]] = {}  # each completed call's slots, by generation
        self.broken = False  # a rank failed: calls not yet complete never will be
        self.aborts: list[tuple[int, int]] = []  # (rank, code) of each Abort
        self.calls: list[list[str]] = [[] for _ in range(size)]  # each rank's collective calls, in order
        self.thread = threading.local()

    def module(self) -> types.ModuleType:
        """A stand-in for the mpi4py package: its MPI attribute holds COMM_WORLD and the constants."""
        package = types.ModuleType("mpi4py")
        package.MPI = types.SimpleNamespace(  # type: ignore[attr-defined]
            COMM_WORLD=Communicator(self), IN_PLACE=IN_PLACE, SUM=SUM, COMM_TYPE_SHARED=COMM_TYPE_SHARED
        )
        return package

    @property
    def rank(self) -> int:
        """The rank of the calling thread."""
        rank: int = self.thread.rank
        return rank

    def run(self, job: Callable[[int], Any]) -> list[Any]:
        """Run job(rank) on every rank, each in its own thread; return the results by rank.

        The first error raised on any rank (in time) is raised again here, after every rank ended;
        the others' waits are broken at once (BrokenJob) rather than left to time out.
        """
        results: list[Any] = [None] * self.size
        errors: list[BaseException] = []
        lock = threading.Lock()

        def main(rank: int) -> None:
            self.thread.rank = rank
            try:
                results[rank] = job(rank)
            except BaseException as error:
                with lock:
                    errors.append(error)
                with self.meeting:
                    self.broken = True
                    self.meeting.notify_all()

        threads = [threading.Thread(target=main, args=(rank,)) for rank in range(self.size)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        return results

    def exchange(self, name: str, value: Any) -> list[Any]:
        """Every rank's value for one collective call, in rank order, after checking they all made it.

        A call every rank reached is complete, even if a rank fails while the others read its result
        (as in MPI); a rank still waiting when another fails raises BrokenJob.
        """
        rank = self.rank
        self.calls[rank].append(name)
        with self.meeting:
            generation = self.generation
            self.slots[rank] = (name, value)
            self.arrived += 1
            if self.arrived == self.size:
                self.done[generation] = list(self.slots)
                self.done.pop(generation - 2, None)  # every rank has read it: none is two calls behind
                self.generation += 1
                self.arrived = 0
                self.meeting.notify_all()
            elif not self.meeting.wait_for(lambda: self.generation > generation or self.broken, self.timeout):
                self.broken = True
                self.meeting.notify_all()
                raise BrokenJob(f"rank {rank} waited {self.timeout} s at {name} for the other ranks")
            if self.generation == generation:
                raise BrokenJob(f"rank {rank} was waiting at {name} when another rank failed")
            slots = self.done[generation]
        names = [slot[0] for slot in slots]
        if len(set(names)) != 1:
            raise RuntimeError(f"the ranks made different collective calls: {names}")
        return [slot[1] for slot in slots]


class Communicator:
    """COMM_WORLD of a FakeWorld: each method acts for the rank of the calling thread (mpi4py's method names)."""

    def __init__(self, world: FakeWorld) -> None:
        self.world = world

    def Get_rank(self) -> int:
        return self.world.rank

    def Get_size(self) -> int:
        return self.world.size

    def Split_type(self, split_type: object) -> types.SimpleNamespace:
        """The ranks sharing this machine's memory; only COMM_TYPE_SHARED is known."""
        if split_type is not COMM_TYPE_SHARED:
            raise ValueError(f"Split_type expects COMM_TYPE_SHARED, got {split_type!r}")
        return types.SimpleNamespace(Get_size=lambda: self.world.local_size)

    def Bcast(self, buffer: np.ndarray, root: int = 0) -> None:
        """Copy root's buffer into every rank's."""
        shapes = self.world.exchange("Bcast", (root, buffer.shape, buffer.dtype, buffer.copy()))
        if len({(r, s, d) for r, s, d, _ in shapes}) != 1:
            raise RuntimeError(f"Bcast with different roots or buffers: {[s[:3] for s in shapes]}")
        buffer[...] = shapes[root][3]

    def bcast(self, value: object, root: int = 0) -> object:
        """Root's object, on every rank (a copy, as pickled through MPI)."""
        values = self.world.exchange("bcast", (root, value))
        if len({r for r, _ in values}) != 1:
            raise RuntimeError(f"bcast with different roots: {[r for r, _ in values]}")
        return copy.deepcopy(values[root][1])

    def Allreduce(self, send: object, buffer: np.ndarray, op: object = None) -> None:
        """Sum every rank's buffer into each (in place, as MPIStrategy asks), adding in rank order."""
        if send is not IN_PLACE or op is not SUM:
            raise ValueError("the fake Allreduce supports only Allreduce(IN_PLACE, buffer, op=SUM)")
        if not buffer.flags.c_contiguous:
            raise ValueError("Allreduce needs a contiguous buffer")
        parts = self.world.exchange("Allreduce", buffer.copy())
        if len({(part.shape, part.dtype) for part in parts}) != 1:
            raise RuntimeError(f"Allreduce of different buffers: {[(p.shape, p.dtype) for p in parts]}")
        total = parts[0].copy()
        for part in parts[1:]:
            total += part
        buffer[...] = total

    def Abort(self, code: int = 0) -> None:
        """Record the call and end this rank (FakeWorld.run then breaks the others' waits)."""
        self.world.aborts.append((self.world.rank, code))
        raise Aborted(self.world.rank, code)
