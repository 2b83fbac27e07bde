"""How many BLAS threads fit trains with: a number, or "auto" (the default), measured while training.

On a machine where another program computes on the same cores, BLAS threads that wait for each
other spin against it, and an epoch can become tens of times slower; one thread would have been
fast. "auto" does not guess: it times the first batches of a fit with each candidate count (1,
half the cores, all of them), keeps the fastest by the median of its batches, and measures again
when the step time jumps (another program started). Measuring costs: beside another program, a
batch on spinning threads can take ten times as long, and is now and then fast. So the median
decides, not one lucky batch; a count far slower than another is not timed again in the same
measurement; and a re-measurement that keeps the count doubles the wait before the next one.
`set_threads(None)` leaves BLAS as it is. Only fit is tuned; the count in force before fit is
restored when it ends.

The count can change the last bits of a matrix product (OpenBLAS splits the work differently), so
two "auto" runs may differ slightly. Every fit records the counts its batches ran with in the
model's reproducibility card, and `replaying(log)` trains with exactly those counts again
(`glassnet reproduce`); for runs that compare bit for bit, fix the count: `set_threads(1)`.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from glassnet.checks import is_int
from glassnet.errors import InputError

ThreadLog = list[list[int]]  # [[batch, count], ...]: from that batch of the fit on, BLAS ran `count` threads


@dataclass(frozen=True)
class Replay:
    """The thread counts of a recorded fit, to train with again (see replaying)."""

    log: tuple[tuple[int, int], ...]


Setting = int | str | None | Replay
_setting: Setting = "auto"

WARMUP = 1  # untimed batches before measuring (first-touch allocations, caches)
ROUNDS = 3  # timed batches per candidate
RECHECK_FACTOR = 1.5  # re-measure when recent steps are this much slower than the chosen count's
WARN_FACTOR = 2.0  # say so once when even the best count is this much slower than at the start
RECENT = 5  # batches in the running median
MIN_GAP = 50  # batches between two re-measurements; doubled each time one keeps the count
GIVE_UP_FACTOR = 2.0  # a candidate whose timed batch is this much slower than the best so far is timed no more


def set_threads(threads: Setting) -> None:
    """Choose the BLAS threads of fit: an int >= 1, "auto" (measure; the default) or None (leave BLAS alone).

    Args:
        threads: the count, "auto" or None.
    """
    global _setting
    _setting = check_threads(threads)


def get_threads() -> Setting:
    """The current setting: an int, "auto" or None (a Replay while replaying)."""
    return _setting


@contextlib.contextmanager
def replaying(log: ThreadLog) -> Iterator[None]:
    """Train with the thread counts a fit recorded (its card's "blas_threads"), batch for batch.

    Args:
        log: [[batch, count], ...] as ThreadTuner.log holds it.
    """
    global _setting
    before, _setting = _setting, Replay(tuple((int(batch), int(count)) for batch, count in log))
    try:
        yield
    finally:
        _setting = before


def check_threads(threads: object) -> Setting:
    """An int >= 1, "auto" or None, or a clear error."""
    if threads is None or threads == "auto" or (is_int(threads) and int(threads) >= 1):
        return threads if not is_int(threads) else int(threads)  # type: ignore[return-value]
    raise InputError(f'threads must be an int >= 1, "auto" or None, got {threads!r}: e.g. gn.set_threads(1)')


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class ThreadTuner:
    """The BLAS thread count of one fit: fixed, or chosen by timing batches ("auto").

    Args:
        setting: an int, "auto", None (see set_threads) or a Replay.
        verbose: print the one-time slow-down note when > 0.
        log: where to record the count of each batch (a list kept in the card), appended to.
    """

    def __init__(self, setting: Setting, verbose: int, log: ThreadLog | None = None) -> None:
        from threadpoolctl import ThreadpoolController

        self.verbose = verbose
        self.controller = ThreadpoolController().select(user_api="blas")
        self.original = self.controller.limit(limits=None)  # to restore what was in force
        most = max([info["num_threads"] for info in self.controller.info()] + [1])
        self.auto = setting == "auto" and most > 1 and bool(self.controller.lib_controllers)
        self.candidates = sorted({1, max(most // 2, 1), most})
        self.replay = dict(setting.log) if isinstance(setting, Replay) else {}
        self.current = int(setting) if isinstance(setting, int) else most
        if isinstance(setting, int):
            self._use(setting)
        self.log = log if log is not None else []
        self.queue: list[int] = []  # candidates still to time, one entry per timed batch
        self.timings: dict[int, list[float]] = {}
        self.recent: list[float] = []
        self.reference: float | None = None  # seconds per sample of the chosen count
        self.first: float | None = None  # the first measurement's reference
        self.since_check, self.warned, self.batches = 0, False, 0
        self.gap, self.chosen = MIN_GAP, 0  # batches until the next re-measurement may start; the last choice
        if self.auto:
            self._measure()

    def _use(self, threads: int) -> None:
        self.controller.limit(limits=threads)
        self.current = threads

    def _measure(self) -> None:
        self.queue = [self.current] * WARMUP + [c for c in self.candidates for _ in range(ROUNDS)]
        self.timings = {c: [] for c in self.candidates}
        self.warming = WARMUP

    def before_batch(self) -> None:
        """Set the count of the coming batch, and log it when it changed."""
        if self.auto and self.queue and self.queue[0] != self.current:
            self._use(self.queue[0])
        if self.batches in self.replay:
            self._use(self.replay[self.batches])
        if not self.log or self.log[-1][1] != self.current:
            self.log.append([self.batches, self.current])
        self.batches += 1

    def after_batch(self, seconds: float, samples: int) -> None:
        """Record a batch's time; choose or re-check the count (auto only)."""
        if not self.auto:
            return
        per_sample = seconds / max(samples, 1)
        if self.queue:
            self.queue.pop(0)
            if self.warming:
                self.warming -= 1
            else:
                self.timings[self.current].append(per_sample)
                self._give_up_if_slow(per_sample)
            if not self.queue:
                self._choose()
            return
        self.recent = [*self.recent[-(RECENT - 1) :], per_sample]
        self.since_check += 1
        slow = len(self.recent) == RECENT and statistics.median(self.recent) > RECHECK_FACTOR * (self.reference or 0)
        if slow and self.since_check >= self.gap:
            self._measure()

    def _give_up_if_slow(self, per_sample: float) -> None:
        """Drop the current candidate's remaining rounds when it is far slower than another count.

        Beside another program, a batch on spinning BLAS threads can take 10x as long: its
        verdict is clear after one batch, and each more round of it would cost the run.
        """
        others = [min(times) for count, times in self.timings.items() if times and count != self.current]
        if others and per_sample > GIVE_UP_FACTOR * min(others):
            self.queue = [count for count in self.queue if count != self.current]

    def _choose(self) -> None:
        best = min(self.candidates, key=lambda c: statistics.median(self.timings[c]))
        self.reference = statistics.median(self.timings[best])
        self._use(best)
        self.gap = 2 * self.gap if best == self.chosen else MIN_GAP  # steady timings: measure less often
        self.chosen = best
        self.recent, self.since_check = [], 0
        if self.first is None:
            self.first = self.reference
        elif self.reference > WARN_FACTOR * self.first and not self.warned and self.verbose:
            self.warned = True
            print(
                f"glassnet: training became {self.reference / self.first:.1f}x slower than its first batches "
                f"(another program may be using the cores); now on {best} BLAS thread{'s' * (best != 1)}. "
                "Set the count with --threads N or gn.set_threads(N).",
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        """Restore the count in force before the fit."""
        self.original.restore_original_limits()
