"""The card's data hashes: computed on a thread of the lowest priority, finished by the caller when needed."""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections.abc import Iterator

import numpy as np
import pytest

from glassnet.network import card as card_module
from glassnet.network.card import CHUNK, DataHashing, array_hash

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice values are Linux's")


def test_the_hash_in_chunks_is_the_sha256_of_the_whole_array() -> None:
    """Cards written before the hash went chunk by chunk still match their data (glassnet reproduce)."""
    x = np.arange(3 * CHUNK // 4 + 2, dtype=np.float32).reshape(-1, 2)  # 3 chunks and 8 bytes
    expected = hashlib.sha256(f"{x.dtype.str}{x.shape}".encode() + x.tobytes()).hexdigest()
    assert array_hash(x) == expected
    assert array_hash(np.asfortranarray(x)) == expected  # the values in C order, whatever the layout


@linux_only
def test_the_hashing_thread_runs_at_the_lowest_priority(monkeypatch: pytest.MonkeyPatch) -> None:
    """At normal priority it took one of two cores from BLAS: an MLP's epoch went from 0.63 s to 0.94 s."""
    seen: list[tuple[str, int]] = []

    def spy_steps(*args: object) -> Iterator[None]:
        for _ in range(3):
            thread = threading.current_thread().name
            seen.append((thread, os.getpriority(os.PRIO_PROCESS, threading.get_native_id())))
            yield

    monkeypatch.setattr(card_module, "record_steps", spy_steps)
    hashing = DataHashing({}, None, None, None)
    hashing.thread.join(timeout=30)
    assert seen == [("glassnet-data-hash", 19)] * 3
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) < 19  # the caller keeps its own


def test_finish_hashes_what_a_starved_thread_left(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a busy machine the low-priority thread may get no time at all: finish does the work itself."""
    release = threading.Event()
    monkeypatch.setattr(card_module, "lowest_priority", lambda: release.wait(30))  # the thread never starts hashing
    x = np.random.default_rng(0).random((300, 1000), dtype=np.float32)  # 1.2 MB: two chunks
    y = np.arange(300)
    record: dict[str, object] = {}
    hashing = DataHashing(record, x, y, (x[:10], y[:10]))
    finisher = threading.Thread(target=hashing.finish)
    finisher.start()
    for _ in range(3000):  # finish must not wait for the starved thread's join... until it is released
        if record.get("validation") is not None:
            break
        finisher.join(timeout=0.01)
    assert record["data"] == {"x": array_hash(x), "y": array_hash(y), "samples": 300, "shape": [300, 1000]}
    assert record["validation"] == {
        "x": array_hash(x[:10]),
        "y": array_hash(y[:10]),
        "samples": 10,
        "shape": [10, 1000],
    }
    release.set()
    finisher.join(timeout=30)
    assert not finisher.is_alive() and not hashing.thread.is_alive()
