"""The SLURM executor: one job per unit through submitit, watched with squeue.

Each unit runs its command, ``python -m repro <argv>``, in its job's own process
(:class:`UnitJob`), with the submitting process's environment; its command names the results folder
(``--results``), so that folder and the Python environment must be the same on every
node: a shared filesystem.

A job that is preempted or nears its time limit gets SIGUSR2 from SLURM (submitit
asks for it ``signal_delay_s`` before the limit); submitit then requeues it with
the same command, which resumes from the run's last checkpoint. A job cancelled
with ``scancel`` fails its unit; the next ``reproduce`` resumes that run from its
last checkpoint too.

Job states come from ``squeue --states=all`` (and the result file submitit writes
when the command returns), not from ``sacct``: accounting is often off on small
clusters (on the test cluster ``sacct`` fails), and submitit's own watcher relies
on it.
"""

from __future__ import annotations

import getpass
import runpy
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import submitit
from tqdm import tqdm

from repro.errors import StageFailed
from repro.pipeline.units import ExecutorConfig, Unit

# Job states in which a job is still in the queue (waiting, running or being requeued).
ACTIVE = {
    *("PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED"),
    *("REQUEUE_FED", "REQUEUE_HOLD", "RESIZING", "SIGNALING", "STAGE_OUT", "RESV_DEL_HOLD"),
}
POLL_S = 1.0  # seconds between two looks at the queue
GONE_GRACE_S = 30.0  # a job out of the queue without a result file is failed after this long
# A failed state must last this long: a job that submitit requeues (preemption, time limit)
# can show FAILED for a moment while its first run ends, before it is PENDING again.
FAILED_GRACE_S = 20.0


def run_unit(argv: tuple[str, ...]) -> int:
    """Inside a job: ``python -m repro <argv>``, run in the job's own process (so that the
    signals SLURM sends reach submitit's handlers, not a child that would die of them), its
    output going to the job's log; raise if it fails (the job then fails)."""
    # The command line is the layer above this one: it is loaded here, in the job, as
    # `python -m repro` would load it, not imported by the study. Its main() returns the exit
    # code; a SystemExit raised by submitit's requeue handler passes through untouched.
    cli = runpy.run_module("repro.cli", run_name="repro_unit")
    code = cli["main"](list(argv))
    sys.stdout.flush()
    if code != 0:
        raise StageFailed(f"python -m repro {' '.join(argv)} exited with code {code}")
    return code


class UnitJob(submitit.helpers.Checkpointable):
    """A unit as a job that submitit requeues with the same command on preemption or timeout."""

    def __call__(self, argv: tuple[str, ...]) -> int:
        return run_unit(argv)


@dataclass
class Tracked:
    """A submitted unit and what the executor knows of its job."""

    unit: Unit
    job: submitit.Job
    submitted: float = field(default_factory=time.monotonic)
    state: str = "PENDING"
    gone_since: float | None = None  # when it was first missing from the queue
    failed_since: float | None = None  # when the queue first showed it in a failed state


class SlurmExecutor:
    """One SLURM job per unit, at most ``slurm_max_jobs`` in the queue at once."""

    def __init__(self, config: ExecutorConfig, root: Path) -> None:
        self.config = config
        self.folder = config.log_folder(root)
        threads = str(config.slurm_cpus)
        self.executor = submitit.SlurmExecutor(folder=self.folder / "%j", max_num_timeout=3)
        self.executor.update_parameters(
            time=config.slurm_time,
            cpus_per_task=config.slurm_cpus,
            setup=[f"export OMP_NUM_THREADS={threads} MKL_NUM_THREADS={threads}"],
            signal_delay_s=60,
            **({"partition": config.slurm_partition} if config.slurm_partition else {}),
            **({"mem": config.slurm_mem} if config.slurm_mem else {}),
        )

    # ------------------------------------------------------------------ the loop

    def run(self, units: list[Unit], what: str) -> None:
        todo, active, failures = list(units), {}, []
        counts = {"pending": len(units), "running": 0, "done": 0, "failed": 0}
        progress = Progress(what, len(units))
        main = threading.current_thread() is threading.main_thread()  # handlers: main only
        previous = signal.signal(signal.SIGTERM, _interrupt) if main else None  # `kill` too
        try:
            while todo or active:
                while todo and len(active) < self.config.slurm_max_jobs and not failures:
                    t = self._submit(todo.pop(0), what)
                    active[t.job.job_id] = t
                if failures and todo:  # stop feeding the queue; let the running jobs finish
                    counts["pending"] -= len(todo)
                    todo.clear()
                    self._cancel([t for t in active.values() if t.state == "PENDING"])
                time.sleep(POLL_S)
                self._poll(active, counts, failures, progress)
                progress.show(counts)
        except BaseException:
            self._cancel(list(active.values()))  # Ctrl-C or a bug: leave no job behind
            raise
        finally:
            if main:
                signal.signal(signal.SIGTERM, previous)
            progress.close()
        if failures:
            raise StageFailed(failure_message(what, failures[0]))

    def _submit(self, unit: Unit, what: str) -> Tracked:
        self.executor.update_parameters(job_name=f"repro-{what}-{unit.label}")
        job = self.executor.submit(UnitJob(), unit.argv)
        return Tracked(unit, job)

    def _poll(self, active: dict, counts: dict, failures: list, progress: Progress) -> None:
        states = queue_states(list(active))
        for job_id, t in list(active.items()):
            before = t.state
            outcome = job_outcome(t, states.get(job_id))
            if outcome is None:
                if before == "PENDING" and t.state == "RUNNING":
                    counts["pending"] -= 1
                    counts["running"] += 1
                continue
            del active[job_id]
            counts["pending" if before == "PENDING" else "running"] -= 1
            if outcome == "done":
                counts["done"] += 1
                progress.line(f"[{counts['done']}/{progress.total}] {last_line(t)} (job {job_id})")
            elif outcome != "cancelled-by-us":
                counts["failed"] += 1
                failures.append(t)

    def _cancel(self, tracked: list[Tracked]) -> None:
        ids = [t.job.job_id for t in tracked]
        if ids:
            subprocess.run(["scancel", *ids], capture_output=True, timeout=60)
        for t in tracked:
            t.state = "CANCELLED-BY-US"


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def queue_states(job_ids: list[str]) -> dict[str, str]:
    """{job id: SLURM state} of our jobs still known to the controller."""
    if not job_ids:
        return {}
    out = subprocess.run(
        ["squeue", "-h", "--states=all", "-o", "%i|%T", "-u", getpass.getuser()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    states = dict(line.split("|", 1) for line in out.stdout.split() if "|" in line)
    return {j: states[j] for j in job_ids if j in states}


def job_outcome(t: Tracked, state: str | None) -> str | None:
    """'done', 'failed' or 'cancelled-by-us' once the job is over; None while it is not.

    Updates ``t.state`` to PENDING or RUNNING while the job is in the queue.
    """
    if t.state == "CANCELLED-BY-US":
        return "cancelled-by-us" if state not in ACTIVE else None
    if state is not None and state not in ACTIVE and state != "COMPLETED":
        t.failed_since = t.failed_since or time.monotonic()
        if time.monotonic() - t.failed_since < FAILED_GRACE_S:
            return None  # perhaps a requeue in passing: look again
        t.state = state  # CANCELLED, FAILED, TIMEOUT, NODE_FAIL, OUT_OF_MEMORY, ...
        return "failed"
    t.failed_since = None
    if t.job.paths.result_pickle.exists():  # the command returned (or raised) in the job
        if t.job.exception() is None:
            return "done"
        t.state = "FAILED"
        return "failed"
    if state in ACTIVE:
        t.state = "RUNNING" if state not in ("PENDING", "REQUEUED", "REQUEUE_HOLD") else "PENDING"
        t.gone_since = None
        return None
    # COMPLETED without a result file yet, or no longer in the queue: wait for the file a while
    t.gone_since = t.gone_since or time.monotonic()
    if time.monotonic() - t.gone_since > GONE_GRACE_S:
        t.state = state or "LEFT THE QUEUE WITHOUT A RESULT"
        return "failed"
    return None


def tail(path: Path, n: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").strip().splitlines()[-n:])
    except OSError:
        return "(no log)"


def last_line(t: Tracked) -> str:
    """The unit's own last line of output (submitit's log lines left out)."""
    lines = [x for x in tail(t.job.paths.stdout, 20).splitlines() if not x.startswith("submitit ")]
    return lines[-1] if lines and lines[-1] != "(no log)" else t.unit.label


def failure_message(what: str, t: Tracked) -> str:
    """The unit, its job id, its state, the path of its log and the unit's last lines of
    error output there; of submitit's traceback, which follows them, only its last line (the
    exception: the unit's own error, or a bug's that the unit did not print)."""
    log = t.job.paths.stderr
    lines = tail(log, 200).splitlines()
    cut = next((i for i, x in enumerate(lines) if x.startswith("submitit ERROR")), len(lines))
    own = lines[:cut][-15:] or lines[-15:]
    if cut < len(lines) - 1:
        own.append(lines[-1])
    return f"{what} {t.unit.label} failed in SLURM job {t.job.job_id} ({t.state}); log: {log}\n" + (
        "\n".join(own)
    )


class Progress:
    """Counts of pending, running, done and failed units: a bar on a terminal, else a line
    whenever they change."""

    def __init__(self, what: str, total: int) -> None:
        self.what, self.total, self.last = what, total, None
        self.bar = tqdm(total=total, desc=what, unit="unit", leave=False) if _tty() else None

    def show(self, counts: dict[str, int]) -> None:
        key = tuple(counts.items())
        if key == self.last:
            return
        self.last = key
        text = ", ".join(f"{v} {k}" for k, v in counts.items())
        if self.bar is not None:
            self.bar.n = counts["done"] + counts["failed"]
            self.bar.set_postfix_str(text)
        else:
            print(f"  {self.what} [slurm]: {text}", flush=True)

    def line(self, text: str) -> None:
        (self.bar.write if self.bar is not None else print)(f"  {text}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _tty() -> bool:
    return sys.stderr.isatty()
