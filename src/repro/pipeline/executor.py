"""The executor seam: every unit of work of ``reproduce`` goes through one interface.

A *unit* is one command of our CLI (``python -m repro train ...`` or
``python -m repro evaluate --run ...``) with a label (the run id). Two
executors run lists of units:

- ``local`` (the default): ``jobs`` processes at a time on this machine, one
  thread each: a fresh process per unit from the standard library's
  forkserver, which has the units' code preloaded; it stops at the first
  failure and stops its units when it is interrupted or killed.
- ``slurm``: one SLURM job per unit through submitit (:mod:`repro.pipeline.slurm`).

A unit writes the same files whichever executor ran it; the results folder is
the only meeting point, so on a cluster it must live on a shared filesystem.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import runpy
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from multiprocessing import connection as mp_connection
from pathlib import Path
from typing import Protocol

from repro.errors import BadInput, StageFailed
from repro.pipeline.units import ExecutorConfig, Unit
from repro.studies import registry


class Executor(Protocol):
    """Runs units; raises StageFailed naming the first failed unit once the others are over."""

    def run(self, units: list[Unit], what: str) -> None: ...


def make_executor(config: ExecutorConfig, root: Path) -> Executor:
    """The executor of ``config`` for the results folder ``root`` (where SLURM's job logs go
    by default); for SLURM, BadInput (exit 2) if no cluster is reachable."""
    if config.kind == "local":
        return LocalExecutor(config.jobs)
    # Deferred on purpose: submitit is an optional extra ([slurm]) that local runs never need.
    from repro.pipeline.slurm import SlurmExecutor

    return SlurmExecutor(config, root)


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

_ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
# What the units run besides the command line itself, imported once by the forkserver
# (the command line imports each command's code only when it runs), so that a unit's
# process starts with torch and our code loaded.
PRELOAD = [
    "repro.cli",
    "repro.learn.train",
    "repro.evaluation.evaluate",
    "scipy.stats",
]
_UNITS_CPU = 0.0  # CPU seconds of every unit this process's local executors have run


def units_cpu_seconds() -> float:
    """CPU seconds (user + system) used so far by the local units of this process (its own
    children's times do not include them: the forkserver, not this process, reaps them)."""
    return _UNITS_CPU


def _context():
    """The forkserver context with our modules preloaded; the stdlib starts one server per
    process, on first use (or at :func:`warm_up`), and forks every unit's process from it."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([*PRELOAD, *registry.preload()])  # and the studies' units
    return ctx


def warm_up() -> None:
    """Start the forkserver now, so that its imports (a few seconds) overlap other work."""
    import multiprocessing.forkserver

    _context()
    multiprocessing.forkserver.ensure_running()


def die_with(parent: int) -> None:
    """In a unit's process: SIGTERM to itself as soon as the executor's process ``parent``
    ends, even by SIGKILL (a watcher thread blocked on a pidfd of the parent; a unit's own
    parent is the forkserver, which lives while any unit does, so Linux's parent-death
    signal would not come)."""

    def watch(fd: int | None) -> None:
        if fd is not None:
            select.select([fd], [], [])  # readable once the process has exited
        else:  # no pidfd (not Linux, or an old kernel): look once a second
            while _alive(parent):
                time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    try:
        fd = os.pidfd_open(parent)
    except ProcessLookupError:  # it is gone already
        os.kill(os.getpid(), signal.SIGTERM)
        return
    except (AttributeError, OSError):
        fd = None
    threading.Thread(target=watch, args=(fd,), daemon=True, name="die-with-parent").start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # no signal sent: only whether ``pid`` exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        pass
    return True


def _unit_main(argv: tuple[str, ...], log: str, parent: int) -> None:
    """A unit's process: ``python -m repro ARGV`` with stdout and stderr sent to ``LOG.out``
    and ``LOG.err`` and its CPU seconds to ``LOG.cpu``; exits with the command's code. It
    dies with the executor's process ``parent``, runs one thread per numerical library and
    takes Ctrl-C as usual."""
    die_with(parent)
    os.environ.update(_ONE_THREAD)  # for the processes the unit starts in its turn
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for fd, suffix in ((1, ".out"), (2, ".err")):
        target = os.open(log + suffix, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(target, fd)
        os.close(target)
    sys.argv = ["python -m repro", *argv]
    try:  # exactly `python -m repro ARGV` (the command line is the layer above this one)
        runpy.run_module("repro", run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as e:  # the command line's exit code (its __main__ exits with it)
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:  # a bug: its traceback, as a fresh interpreter would show it
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    usage = resource.getrusage(resource.RUSAGE_SELF)  # this process only: a fresh fork
    Path(log + ".cpu").write_text(repr(usage.ru_utime + usage.ru_stime))
    raise SystemExit(code or 0)


class LocalExecutor:
    """``jobs`` processes at a time on this machine, one thread each; stops at the first failure.

    Each unit is a fresh process of the standard library's forkserver context, whose server
    has imported the units' code once (:data:`PRELOAD`), so a unit starts in milliseconds and
    never sees another unit's state. If this process is interrupted (or a unit fails), the
    running units are stopped at once; if it is killed, they die with it, so no orphan keeps
    writing into the results folder behind a restarted run.
    """

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.logs: Path | None = None  # while run() runs: the units' log files
        self.running: dict[int, tuple] = {}  # sentinel -> (process, index, unit, start)

    def run(self, units: list[Unit], what: str) -> None:
        ctx = _context()
        todo = list(enumerate(units))
        with tempfile.TemporaryDirectory(prefix="repro-units-") as logs:
            self.logs = Path(logs)
            try:
                done = 0
                while todo or self.running:
                    while todo and len(self.running) < self.jobs:
                        i, unit = todo.pop(0)
                        args = (unit.argv, str(self.logs / str(i)), os.getpid())
                        proc = ctx.Process(target=_unit_main, args=args, name=unit.label)
                        proc.start()
                        self.running[proc.sentinel] = (proc, i, unit, time.perf_counter())
                    for sentinel in mp_connection.wait(list(self.running)):
                        done += 1
                        self._finished(*self.running.pop(sentinel), done, len(units), what)
            except BaseException:
                for proc, *_ in self.running.values():
                    proc.terminate()
                for proc, *_ in self.running.values():
                    proc.join()
                self.running.clear()
                raise
            finally:
                self.logs = None

    def _finished(self, proc, i: int, unit: Unit, t: float, done: int, n: int, what: str):
        """Report unit ``i`` (its process has ended), or raise StageFailed naming it."""
        global _UNITS_CPU
        proc.join()
        seconds = time.perf_counter() - t
        log = self.logs / str(i)
        out, err, cpu = (_read(Path(f"{log}{s}")) for s in (".out", ".err", ".cpu"))
        _UNITS_CPU += float(cpu or 0.0)
        code = proc.exitcode
        if code != 0:
            msg = (err or out).strip().splitlines()
            why = msg[-1] if msg else f"exit code {code}"
            if code is not None and code < 0:
                why = f"killed by {signal.Signals(-code).name}" + (f" ({why})" if msg else "")
            raise StageFailed(f"{what} {unit.label} failed: {why}")
        last = (out.strip().splitlines() or [unit.label])[-1]
        if not last.startswith(unit.label):  # a study run: its label names more
            last = f"{unit.label}: {last.partition(': ')[2] or last}"
        print(f"  [{done}/{n}] {last} ({seconds:.1f} s)", flush=True)


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""
