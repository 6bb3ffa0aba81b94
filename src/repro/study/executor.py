"""The executor seam: every unit of work of ``reproduce`` goes through one interface.

A *unit* is one command of our CLI (``python -m repro train ...`` or
``python -m repro evaluate --run ...``) with a label (the run id). Two
executors run lists of units:

- ``local`` (the default): ``jobs`` processes at a time on this machine, one
  thread each, forked from a server that has imported the units' code; it
  stops at the first failure and stops its children when it is interrupted or
  killed.
- ``slurm``: one SLURM job per unit through submitit (:mod:`repro.study.slurm`).

A unit writes the same files whichever executor ran it; the results folder is
the only meeting point, so on a cluster it must live on a shared filesystem.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Protocol

from repro.errors import BadInput, StageFailed
from repro.study.forkserve import Run, die_with_parent, serve
from repro.study.units import ExecutorConfig, Unit

_SRC = Path(__file__).resolve().parents[2]  # src/, the package's source root


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


_ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def _source_state() -> tuple:
    """What a running fork server depends on: the package's source files and the environment.

    A server whose preloaded code or inherited environment is out of date is replaced
    (``REPRO_RESULTS`` aside: every unit names its results folder).
    """
    files = sorted((_SRC / "repro").rglob("*.py"))
    env = sorted((k, v) for k, v in os.environ.items() if k != "REPRO_RESULTS")
    return tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files), tuple(env)


# The process that may fork its own fork server (serve_from_this_process), and the source
# state its code was loaded from: None, or (run, state).
_FORKABLE: tuple[Run, tuple] | None = None


def serve_from_this_process(run: Run) -> None:
    """Let this process's next fork server be a fork of this process, serving ``run`` (the
    command line's main), if the source and environment are still as they are now.

    A ``reproduce`` has imported the units' code already (torch included): a fork of it is
    a server at once, where a fresh interpreter takes seconds of CPU to import it again.
    Only one server is forked: later the process may have asked torch about CUDA, which a
    forked child can then no longer use (any later server is a fresh interpreter).
    Called before this process has run any numerical code or started a thread.
    """
    global _FORKABLE
    _FORKABLE = (run, _source_state())


def _one_thread() -> None:
    """In a forked server: one thread per numerical library, as a spawned server has from
    its environment (each unit also sets torch's own count)."""
    os.environ.update(_ONE_THREAD)  # for the processes the units start in their turn
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


class _ForkedServer:
    """A server forked from this process, with the parts of ``Popen`` the client uses."""

    def __init__(self, run: Run) -> None:
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        parent = os.getpid()
        self.pid = os.fork()
        if self.pid == 0:  # the server: requests on fd 0, replies on fd 1; never returns
            code = 1
            try:
                os.dup2(req_r, 0)
                os.dup2(rep_w, 1)
                for fd in {req_r, req_w, rep_r, rep_w} - {0, 1}:  # 0: this one had no stdin
                    os.close(fd)
                if die_with_parent(parent):  # else its parent died before that took effect
                    _one_thread()
                    serve(run)
                    code = 0
            except BaseException:  # a bug: say where, as a spawned server's traceback would
                traceback.print_exc()
            finally:
                os._exit(code)
        os.close(req_r)
        os.close(rep_w)
        self.stdin = os.fdopen(req_w, "wb")
        self.stdout = os.fdopen(rep_r, "rb")
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self) -> int:
        if self.returncode is None:
            self.returncode = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
        return self.returncode


class ForkServer:
    """The client side of a fork server (:mod:`repro.study.forkserve`): submit a unit, wait
    for its code. The server is a fork of this process where serve_from_this_process allows
    it (once) and this process's code is still the code on disk, else a fresh interpreter
    (``python -m repro.forkserver``).
    """

    def __init__(self) -> None:
        self.state = _source_state()
        # Forked only from a single-threaded process: a thread holding a lock at the fork
        # would leave it held forever in the server.
        global _FORKABLE
        if _FORKABLE and _FORKABLE[1] == self.state and threading.active_count() == 1:
            run, _FORKABLE = _FORKABLE[0], None
            self.proc: subprocess.Popen | _ForkedServer = _ForkedServer(run)
        else:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "repro.forkserver"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env={**os.environ, **_ONE_THREAD},
                preexec_fn=die_with_parent,
            )
        self.cond = threading.Condition()
        self.pids: dict[int, int] = {}
        self.codes: dict[int, int] = {}
        self.next_id = 0
        self.dead = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        global _UNITS_CPU
        for line in self.proc.stdout:
            reply = json.loads(line)
            with self.cond:
                table = self.codes if "code" in reply else self.pids
                table[reply["id"]] = reply.get("code", reply.get("pid"))
                _UNITS_CPU += reply.get("cpu", 0.0)
                self.cond.notify_all()
        with self.cond:  # the server is gone: every unit not yet reported is lost
            self.dead = True
            self.cond.notify_all()

    def alive(self) -> bool:
        return self.proc.poll() is None and not self.dead

    def submit(self, argv: tuple[str, ...], out: Path, err: Path) -> int:
        """Fork a child running ``python -m repro ARGV``; the request's id."""
        with self.cond:
            rid, self.next_id = self.next_id, self.next_id + 1
        request = {"id": rid, "argv": list(argv), "out": str(out), "err": str(err)}
        self.proc.stdin.write((json.dumps(request) + "\n").encode())
        self.proc.stdin.flush()
        return rid

    def wait(self, rid: int) -> int:
        """The exit code of request ``rid`` (negative: the signal that killed it)."""
        with self.cond:
            self.cond.wait_for(lambda: rid in self.codes or self.dead)
            return self.codes.get(rid, -1)

    def terminate(self, rid: int) -> None:
        """SIGTERM to the child of request ``rid`` if it is running; if it is not forked yet,
        to the server, whose children die with it (a Ctrl-C while the server was still
        loading its modules waited for it to load, then for that unit to run to its end)."""
        with self.cond:
            if rid in self.codes:
                return
            pid = self.pids.get(rid, self.proc.pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        self.proc.wait()


_SERVER: ForkServer | None = None
_UNITS_CPU = 0.0  # CPU seconds of every unit the fork servers of this process have reaped


def units_cpu_seconds() -> float:
    """CPU seconds (user + system) used so far by the units forked for this process (its
    own child processes' times do not include them: the fork server reaps them)."""
    return _UNITS_CPU


def fork_server() -> ForkServer:
    """This process's fork server, started on first use and replaced if out of date."""
    global _SERVER
    if _SERVER is None or not _SERVER.alive() or _SERVER.state != _source_state():
        if _SERVER is not None:
            _SERVER.close()
        _SERVER = ForkServer()
    return _SERVER


class LocalExecutor:
    """``jobs`` processes at a time on this machine, one thread each; stops at the first failure.

    Each unit is forked from this process's fork server (:mod:`repro.forkserver`),
    which has imported the units' code. If this process is interrupted or killed, its
    units are stopped too, so no orphan keeps writing into the results folder behind a
    restarted run.
    """

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.live: set[int] = set()
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def _run_one(self, unit: Unit, log: Path) -> tuple[Unit, int, str, str, float]:
        t = time.perf_counter()
        out, err = log.with_suffix(".out"), log.with_suffix(".err")
        with self.lock:
            if self.stopping.is_set():
                return unit, -1, "", "cancelled", 0.0
            rid = self.server.submit(unit.argv, out, err)
            self.live.add(rid)
        code = self.server.wait(rid)
        with self.lock:
            self.live.discard(rid)
        text = [p.read_text(errors="replace") if p.exists() else "" for p in (out, err)]
        return unit, code, text[0], text[1], time.perf_counter() - t

    def run(self, units: list[Unit], what: str) -> None:
        self.stopping.clear()
        self.server = fork_server()
        pool = ThreadPoolExecutor(max_workers=self.jobs)
        futures: list = []
        with tempfile.TemporaryDirectory(prefix="repro-units-") as logs:
            try:
                futures = [
                    pool.submit(self._run_one, u, Path(logs) / str(i)) for i, u in enumerate(units)
                ]
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
                    for rid in self.live:
                        self.server.terminate(rid)
                raise
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
