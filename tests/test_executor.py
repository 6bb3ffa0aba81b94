"""The executor seam without a cluster: options, the local executor, failure reports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import smoke_argv
from repro.errors import BadInput, StageFailed
from repro.pipeline.executor import LocalExecutor, check_reachable, make_executor
from repro.pipeline.units import ExecutorConfig, Unit


@pytest.mark.parametrize(
    "fields, option",
    [
        ({"kind": "cloud"}, "--executor"),
        ({"jobs": 0}, "--jobs"),
        ({"slurm_cpus": 0}, "--slurm-cpus"),
        ({"slurm_time": -5}, "--slurm-time"),
        ({"slurm_max_jobs": 0}, "--slurm-max-jobs"),
    ],
)
def test_bad_executor_options_name_the_option(fields, option):
    with pytest.raises(BadInput, match=option):
        ExecutorConfig(**fields)


def test_threads_follow_the_executor():
    assert ExecutorConfig().threads == 1
    assert ExecutorConfig(kind="slurm", slurm_cpus=4).threads == 4
    assert ExecutorConfig(kind="local", slurm_cpus=4).threads == 1  # local: one thread a run


def test_default_log_folder_is_under_the_results(tmp_path):
    assert ExecutorConfig(kind="slurm").log_folder(tmp_path) == tmp_path / "slurm"
    assert ExecutorConfig(kind="slurm", slurm_folder="/x").log_folder(tmp_path) == Path("/x")


def test_local_executor_runs_units_and_names_a_failure(root, capsys):
    ex = make_executor(ExecutorConfig(jobs=2), root)
    assert isinstance(ex, LocalExecutor)
    ok = Unit("fixed/ok", ("train", "--help"))
    bad = Unit("fixed/bad", ("train", "--config", "nope"))
    ex.run([ok], "training")
    assert "[1/1]" in capsys.readouterr().out
    with pytest.raises(
        StageFailed, match=r"training fixed/bad failed: error: unknown configuration"
    ):
        ex.run([ok, bad], "training")


def test_no_sbatch_is_bad_input_before_anything_runs(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    check_reachable(ExecutorConfig())  # local: nothing to check
    with pytest.raises(BadInput, match="sbatch/squeue not found"):
        check_reachable(ExecutorConfig(kind="slurm"))


def test_cli_refuses_a_bad_executor_with_exit_2(tmp_path):
    cmd = smoke_argv("--executor", "cloud")
    out = subprocess.run(cmd, capture_output=True, text=True, env={"REPRO_RESULTS": str(tmp_path)})
    assert out.returncode == 2 and out.stderr.startswith("error: --executor must be one of")
    assert not any(tmp_path.iterdir())  # nothing written


def test_failure_message_shows_the_units_own_error_lines(tmp_path):
    from repro.pipeline.slurm import Tracked, failure_message

    err = tmp_path / "7_0_log.err"
    err.write_text(
        "warning: something earlier\nerror: model.pt does not match the hash recorded\n"
        "submitit ERROR (time) - Submitted job triggered an exception\nTraceback ...\n"
        '  File "submission.py", line 55\nrepro.errors.StageFailed: exited with code 2\n'
    )
    job = SimpleNamespace(job_id="7", paths=SimpleNamespace(stderr=err))
    t = Tracked(Unit("fixed/a__s0", ()), job, state="FAILED")
    msg = failure_message("evaluation", t)
    first, *rest = msg.splitlines()
    assert first == f"evaluation fixed/a__s0 failed in SLURM job 7 (FAILED); log: {err}"
    assert rest == [
        "warning: something earlier",
        "error: model.pt does not match the hash recorded",
        "repro.errors.StageFailed: exited with code 2",  # the traceback's last line only
    ]


def test_a_failed_state_must_last_before_a_slurm_job_counts_as_failed(monkeypatch, tmp_path):
    # A job that submitit requeues can show FAILED for a moment before it is PENDING again.
    from repro.pipeline import slurm

    clock = [100.0]
    monkeypatch.setattr(slurm.time, "monotonic", lambda: clock[0])
    job = SimpleNamespace(paths=SimpleNamespace(result_pickle=tmp_path / "none.pkl"))
    t = slurm.Tracked(unit=None, job=job)
    assert slurm.job_outcome(t, "FAILED") is None  # first sight: look again
    clock[0] += 5.0
    assert slurm.job_outcome(t, "PENDING") is None and t.state == "PENDING"  # requeued
    assert slurm.job_outcome(t, "FAILED") is None  # a new failure starts a new wait
    clock[0] += slurm.FAILED_GRACE_S + 0.1
    assert slurm.job_outcome(t, "FAILED") == "failed" and t.state == "FAILED"


# ---------------------------------------------------------------- the local process pool

# A parent process running one long unit through the local executor (its main thread in
# run(), as in a reproduce); a helper thread prints the unit's pid once it has started.
PARENT = """
import sys, threading, time
from repro.pipeline.executor import LocalExecutor
from repro.pipeline.units import Unit
if __name__ == "__main__":
    ex, out = LocalExecutor(1), sys.argv[1]
    def say_pid():
        while not (ex.logs and list(ex.logs.glob("*.out"))):  # the unit has started
            time.sleep(0.01)
        print(next(iter(ex.running.values()))[0].pid, flush=True)
    threading.Thread(target=say_pid, daemon=True).start()
    argv = ("--results", out, "train", "--config", "supervised-normal", "--scale", "smoke",
            "--set", "steps=1000000")
    try:
        ex.run([Unit("long", argv)], "training")
    except KeyboardInterrupt:
        print("interrupted", flush=True)
"""


def _parent(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "results")], stdout=subprocess.PIPE, text=True
    )
    pid = int(proc.stdout.readline())
    assert _proc_state(pid) != "Z"
    return proc, pid


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _proc_state(pid) != "Z":
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_ctrl_c_stops_a_running_unit_at_once(tmp_path):
    """SIGINT to the executor's process alone (not its process group): the running unit is
    stopped within seconds, and the interrupt reaches the caller."""
    proc, unit = _parent(tmp_path)
    proc.send_signal(signal.SIGINT)
    assert _gone_within(unit, 10), "the unit kept running after Ctrl-C"
    assert proc.stdout.read().strip() == "interrupted" and proc.wait(timeout=30) == 0
    assert not list(tmp_path.glob("results/runs/*/*/run.json"))


def test_a_unit_dies_with_its_parent(tmp_path):
    """A reproduce killed by SIGKILL (no clean-up code runs) leaves no unit writing behind:
    each unit's thread waiting on a pidfd of its parent sends it SIGTERM."""
    proc, unit = _parent(tmp_path)
    proc.kill()
    proc.wait()
    assert _gone_within(unit, 30), "a unit outlived its parent"


def test_a_unit_killed_by_a_signal_fails_the_stage_naming_it(tmp_path):
    import threading

    ex = LocalExecutor(1)
    argv = ("--results", str(tmp_path), "train", "--config", "supervised-normal")
    argv += ("--scale", "smoke", "--set", "steps=1000000")

    def kill_it():
        while not (ex.logs and list(ex.logs.glob("*.out"))):
            time.sleep(0.01)
        os.kill(next(iter(ex.running.values()))[0].pid, signal.SIGKILL)

    threading.Thread(target=kill_it, daemon=True).start()
    with pytest.raises(StageFailed, match="training long failed: killed by SIGKILL"):
        ex.run([Unit("long", argv)], "training")


def test_each_unit_reports_its_own_line_and_its_cpu_time(tmp_path, capsys):
    from repro.pipeline import executor

    before = executor.units_cpu_seconds()
    units = [
        Unit(
            f"fixed/supervised-normal__s{s}",
            (
                "--results",
                str(tmp_path),
                "train",
                "--config",
                "supervised-normal",
                "--regime",
                "fixed",
                "--seed",
                str(s),
                "--scale",
                "smoke",
            ),
        )  # fmt: skip
        for s in range(2)
    ]
    executor.LocalExecutor(2).run(units, "training")
    lines = capsys.readouterr().out.splitlines()
    for i in (1, 2):
        assert any(line.startswith(f"  [{i}/2] fixed/supervised-normal__s") for line in lines)
    assert executor.units_cpu_seconds() > before  # the units' own CPU time, counted here
    assert len(list((tmp_path / "runs/fixed").glob("*/run.json"))) == 2


def _proc_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return "Z"
