"""The results lock is the kernel's: two reproduces started in the same instant never both
hold it, a killed holder frees it at once, and a refusal names the holder."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
from pathlib import Path

import pytest

from repro.errors import Busy
from repro.paths import lock_file
from repro.pipeline.reproduce import results_lock

HOLD_S = 0.15


def _contender(barrier, out, results: str) -> None:
    """Wait for the others, then try to take the lock and hold it for HOLD_S seconds."""
    barrier.wait()
    try:
        with results_lock(Path(results)):
            start = time.monotonic()
            time.sleep(HOLD_S)
            out.put(("held", os.getpid(), start, time.monotonic()))
    except Busy as e:
        out.put(("busy", os.getpid(), str(e), 0.0))


def test_contenders_started_together_never_hold_the_lock_at_once(tmp_path):
    ctx = mp.get_context("fork")
    rounds, per_round, contended = 25, 3, 0
    for _ in range(rounds):
        barrier, out = ctx.Barrier(per_round), ctx.Queue()
        procs = [
            ctx.Process(target=_contender, args=(barrier, out, str(tmp_path)))
            for _ in range(per_round)
        ]
        for p in procs:
            p.start()
        got = [out.get(timeout=30) for _ in procs]
        for p in procs:
            p.join(timeout=30)
            assert p.exitcode == 0
        held = sorted((start, end) for kind, _, start, end in got if kind == "held")
        assert held, "someone must get the lock"
        for (_, end), (start, _) in zip(held, held[1:], strict=False):
            assert start >= end, "two processes held the lock at the same time"
        refused = [msg for kind, _, msg, _ in got if kind == "busy"]
        contended += bool(refused)
        for msg in refused:
            assert "another reproduce (pid " in msg
        assert not lock_file(tmp_path).exists()  # the last holder removed it
    assert contended >= rounds // 2  # the test did start them together


def _hold_forever(results: str, ready) -> None:
    with results_lock(Path(results)):
        ready.set()
        time.sleep(600)


def test_a_killed_holder_frees_the_lock_at_once(tmp_path):
    ctx = mp.get_context("fork")
    ready = ctx.Event()
    holder = ctx.Process(target=_hold_forever, args=(str(tmp_path), ready))
    holder.start()
    assert ready.wait(30)
    with pytest.raises(Busy, match=f"pid {holder.pid}"):
        with results_lock(tmp_path):
            pass
    os.kill(holder.pid, signal.SIGKILL)
    holder.join(30)
    lock = lock_file(tmp_path)
    assert lock.read_text().strip() == str(holder.pid)  # its file is left behind ...
    with results_lock(tmp_path):  # ... but holds nothing: no stale-lock guess, no wait
        assert lock.read_text().strip() == str(os.getpid())
    assert not lock.exists()


def test_an_empty_lock_file_is_not_a_holder(tmp_path):
    """The old pid-file lock took an empty file for a stale one and deleted it, so two could
    proceed; a file nobody has locked is simply free, and one that is locked is not."""
    lock_file(tmp_path).write_text("")
    with results_lock(tmp_path):
        assert lock_file(tmp_path).read_text().strip() == str(os.getpid())
