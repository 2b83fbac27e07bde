"""gn.set_threads and the "auto" tuner: its choices from batch timings fed by hand, and fit's thread counts."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import glassnet as gn
from glassnet.errors import InputError
from glassnet.threads import MIN_GAP, ROUNDS, WARMUP, ThreadTuner, replaying


def blas_threads() -> int:
    return max(info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas")


@pytest.fixture(autouse=True)
def default_setting():
    yield
    gn.set_threads("auto")


def test_set_threads_checks_its_argument() -> None:
    for good in (1, np.int64(2), "auto", None):
        gn.set_threads(good)
        assert gn.get_threads() == good
    with pytest.raises(InputError, match=r'threads must be an int >= 1, "auto" or None, got 0'):
        gn.set_threads(0)
    with pytest.raises(InputError, match="got 'fast'"):
        gn.set_threads("fast")


def test_fit_trains_with_the_count_set_and_restores_it() -> None:
    before, seen = blas_threads(), []
    gn.set_threads(1)
    net = gn.Network(batch_size=8, verbose=0, seed=0).add(gn.Dense(4, 2)).add(gn.Softmax()).use("cross_entropy")
    spy = gn.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(blas_threads()))
    net.fit(np.zeros((16, 4)), np.zeros(16, dtype=int), callbacks=[spy])
    assert seen == [1, 1] and blas_threads() == before


def feed(tuner: ThreadTuner, seconds: dict[int, float], batches: int) -> None:
    for _ in range(batches):
        tuner.before_batch()
        tuner.after_batch(seconds[tuner.current] * 10, 10)


def test_auto_keeps_the_fastest_count_and_measures_again_when_steps_slow_down(capsys) -> None:
    tuner = ThreadTuner("auto", verbose=1)
    try:
        if not tuner.auto:
            pytest.skip("BLAS runs one thread here: nothing to choose")
        most = max(tuner.candidates)
        quiet = {c: 1.0 / c for c in tuner.candidates}  # alone: more threads are faster
        feed(tuner, quiet, 1 + 3 * len(tuner.candidates))
        assert tuner.current == most and blas_threads() == most
        busy = {c: (1.5 if c == 1 else 20.0) for c in tuner.candidates}  # another program: spinning threads lose
        feed(tuner, busy, MIN_GAP - 1)
        assert tuner.current == most  # not yet: re-checks are at least MIN_GAP batches apart
        feed(tuner, busy, 2 + 1 + 3 * len(tuner.candidates))
        assert tuner.current == 1 and blas_threads() == 1
        assert "became" in capsys.readouterr().err  # 1.5 per sample vs 1/most at first: said once
    finally:
        tuner.close()


@pytest.fixture
def auto_tuner() -> Iterator[ThreadTuner]:
    """A silent "auto" tuner, closed after the test; skipped where BLAS runs one thread."""
    tuner = ThreadTuner("auto", verbose=0)
    try:
        if not tuner.auto:
            pytest.skip("BLAS runs one thread here: nothing to choose")
        yield tuner
    finally:
        tuner.close()


def first_measurement(tuner: ThreadTuner, per_sample: Callable[[int], float]) -> list[int]:
    """Feed the tuner's first measurement, each batch taking per_sample(count); the counts it ran."""
    counts = []
    while tuner.queue:
        tuner.before_batch()
        counts.append(tuner.current)
        tuner.after_batch(per_sample(tuner.current) * 10, 10)
    return counts


def test_a_count_far_slower_than_another_is_timed_once(auto_tuner: ThreadTuner) -> None:
    """Beside another program a batch on spinning threads took 10x as long: three of them cost the run."""
    counts = first_measurement(auto_tuner, lambda count: 1.0 if count == 1 else 20.0)
    others = sorted(c for c in auto_tuner.candidates if c != 1)
    assert counts == [max(auto_tuner.candidates)] * WARMUP + [1] * ROUNDS + others
    assert auto_tuner.current == 1


def test_one_lucky_batch_does_not_choose_a_count(auto_tuner: ThreadTuner) -> None:
    """Beside another program, spinning threads are sometimes fast and mostly slow: the median decides."""
    lucky_then_slow = iter([0.5, 1.9, 1.9] * len(auto_tuner.candidates))  # never 2x slower: all rounds timed
    first_measurement(auto_tuner, lambda count: 1.0 if count == 1 else next(lucky_then_slow))
    assert auto_tuner.current == 1


def test_a_re_measurement_that_keeps_the_count_doubles_the_wait_for_the_next(auto_tuner: ThreadTuner) -> None:
    """Steps that keep slowing down trip the re-check again and again; each costs slow batches."""
    waits: list[int] = []
    since: int | None = None  # batches since the last measurement ended
    for batch in range(1000):
        measuring = bool(auto_tuner.queue)
        auto_tuner.before_batch()
        per_sample = 1.01**batch if auto_tuner.current == 1 else 1e9  # one thread, 1% slower every batch, wins
        auto_tuner.after_batch(per_sample * 10, 10)
        if measuring and not auto_tuner.queue:
            since = 0
        elif since is not None:
            since += 1
            if auto_tuner.queue:  # this batch started a re-measurement
                waits.append(since)
                since = None
    assert waits == [MIN_GAP, 2 * MIN_GAP, 4 * MIN_GAP, 8 * MIN_GAP] and auto_tuner.current == 1


def test_a_fit_records_the_count_of_its_batches_in_the_card() -> None:
    gn.set_threads(1)
    net = gn.Network(batch_size=8, verbose=0, seed=0).add(gn.Dense(4, 2)).add(gn.Softmax()).use("cross_entropy")
    net.fit(np.zeros((24, 4)), np.zeros(24, dtype=int), epochs=2)
    assert net.card["fits"][-1]["blas_threads"] == [[0, 1]]  # 6 batches, all on one thread


def test_a_replay_sets_the_recorded_count_from_its_batch_on() -> None:
    if blas_threads() < 2:
        pytest.skip("BLAS runs one thread here: nothing to replay")
    log = [[0, 2], [2, 1], [3, 2]]
    with replaying(log):
        tuner = ThreadTuner(gn.get_threads(), verbose=0)
    try:
        seen = []
        for _ in range(5):
            tuner.before_batch()
            seen.append(blas_threads())
            tuner.after_batch(0.01, 10)
        assert seen == [2, 2, 1, 2, 2] and tuner.log == log
    finally:
        tuner.close()
