"""The executor seam: every unit of work of ``reproduce`` goes through one interface.

A *unit* is one command of our CLI (``python -m repro train ...`` or
``python -m repro evaluate --run ...``) with a label (the run id). Two
executors run lists of units:

- ``local`` (the default): a pool of ``jobs`` processes on this machine, one
  thread each; it stops at the first failure and stops its children when it
  is interrupted or killed.
- ``slurm``: one SLURM job per unit through submitit (:mod:`repro.study.slurm`).

A unit writes the same files whichever executor ran it; the results folder is
the only meeting point, so on a cluster it must live on a shared filesystem.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Protocol

from repro.errors import BadInput, StageFailed
from repro.paths import PROJECT
from repro.study.units import ExecutorConfig, Unit


class Executor(Protocol):
    """Runs units; raises StageFailed naming the first failed unit once the others are over."""

    def run(self, units: list[Unit], what: str) -> None: ...


def make_executor(config: ExecutorConfig) -> Executor:
    """The executor of ``config``; for SLURM, BadInput (exit 2) if no cluster is reachable."""
    if config.kind == "local":
        return LocalExecutor(config.jobs)
    # Deferred on purpose: submitit is an optional extra ([slurm]) that local runs never need.
    from repro.study.slurm import SlurmExecutor

    return SlurmExecutor(config)


def check_reachable(config: ExecutorConfig) -> None:
    """Before anything is written: the executor can run here (BadInput naming why not)."""
    if config.kind != "slurm":
        return
    if shutil.which("sbatch") is None or shutil.which("squeue") is None:
        raise BadInput("--executor slurm: sbatch/squeue not found; is this a SLURM login node?")
    try:
        out = subprocess.run(
            ["squeue", "-h", "-o", "%i"], capture_output=True, text=True, timeout=30
        )
    except subprocess.TimeoutExpired:
        raise BadInput("--executor slurm: the SLURM controller did not answer in 30 s") from None
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["no message"])[-1]
        raise BadInput(f"--executor slurm: the SLURM controller is not reachable ({last})")
    try:
        import submitit  # noqa: F401  (checked here so that nothing is written without it)
    except ImportError:
        raise BadInput("--executor slurm needs submitit: pip install -e '.[slurm]'") from None


# ---------------------------------------------------------------------------- local


def _die_with_parent() -> None:
    """In a child: ask Linux to send SIGTERM when the parent dies (even by SIGKILL)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: children may outlive a killed parent; their writes stay atomic


class LocalExecutor:
    """``jobs`` processes at a time on this machine, one thread each; stops at the first failure.

    If this process is interrupted or killed, its children are stopped too, so
    no orphan keeps writing into the results folder behind a restarted run.
    """

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        self.live: set[subprocess.Popen] = set()
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def _run_one(self, unit: Unit) -> tuple[Unit, int, str, str, float]:
        t = time.perf_counter()
        with self.lock:
            if self.stopping.is_set():
                return unit, -1, "", "cancelled", 0.0
            proc = subprocess.Popen(
                [sys.executable, "-m", "repro", *unit.argv],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=self.env,
                cwd=PROJECT,
                preexec_fn=_die_with_parent,
            )
            self.live.add(proc)
        out, err = proc.communicate()
        with self.lock:
            self.live.discard(proc)
        return unit, proc.returncode, out, err, time.perf_counter() - t

    def run(self, units: list[Unit], what: str) -> None:
        self.stopping.clear()
        pool = ThreadPoolExecutor(max_workers=self.jobs)
        futures: list = []
        try:
            futures = [pool.submit(self._run_one, u) for u in units]
            for done, fut in enumerate(as_completed(futures), 1):
                unit, code, out, err, seconds = fut.result()
                if code != 0:
                    msg = (err or out).strip().splitlines()
                    raise StageFailed(f"{what} {unit.label} failed: {msg[-1] if msg else code}")
                last = (out.strip().splitlines() or [unit.label])[-1]
                if not last.startswith(unit.label):  # a study run: its label names more
                    last = f"{unit.label}: {last.partition(': ')[2] or last}"
                print(f"  [{done}/{len(units)}] {last} ({seconds:.1f} s)", flush=True)
        except BaseException:
            for f in futures:
                f.cancel()
            with self.lock:
                self.stopping.set()
                for proc in self.live:
                    proc.terminate()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
