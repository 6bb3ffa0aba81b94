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
from repro.study.executor import LocalExecutor, check_reachable, make_executor
from repro.study.units import ExecutorConfig, Unit


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


def test_default_log_folder_is_under_the_results(tmp_path, monkeypatch):
    monkeypatch.setenv("REPRO_RESULTS", str(tmp_path))
    assert ExecutorConfig(kind="slurm").log_folder() == tmp_path / "slurm"
    assert ExecutorConfig(kind="slurm", slurm_folder="/x").log_folder() == Path("/x")


def test_local_executor_runs_units_and_names_a_failure(capsys):
    ex = make_executor(ExecutorConfig(jobs=2))
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
    from repro.study.slurm import Tracked, failure_message

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
    from repro.study import slurm

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


# ---------------------------------------------------------------- the local fork server


def test_units_share_one_fork_server_until_the_source_changes(monkeypatch):
    from repro.study import executor

    first = executor.fork_server()
    assert executor.fork_server() is first and first.alive()
    state = executor._source_state()
    monkeypatch.setattr(executor, "_source_state", lambda: (state[0][1:], state[1]))
    second = executor.fork_server()  # a source file changed: a fresh server, the old one gone
    assert second is not first and second.alive() and first.proc.poll() is not None


def test_a_unit_stopped_by_a_signal_reports_that_signal(tmp_path):
    from repro.study.executor import fork_server

    server = fork_server()
    argv = ("--results", str(tmp_path), "train", "--config", "supervised-normal")
    argv += ("--scale", "smoke", "--set", "steps=100000")
    rid = server.submit(argv, tmp_path / "out", tmp_path / "err")
    deadline = time.monotonic() + 60
    while rid not in server.pids:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    server.terminate(rid)
    assert server.wait(rid) == -signal.SIGTERM


def test_a_unit_stopped_before_it_is_forked_never_runs(tmp_path):
    """Stopped while the server is still loading its modules (a Ctrl-C just after a stage
    began): the unit must not start later and run to its end, with the command waiting."""
    from repro.study.executor import ForkServer

    server = ForkServer()  # a fresh one: loading its modules takes a second or more
    argv = ("--results", str(tmp_path), "train", "--config", "supervised-normal")
    argv += ("--scale", "smoke")  # about a second of training once forked
    rid = server.submit(argv, tmp_path / "out", tmp_path / "err")
    assert rid not in server.pids  # not forked yet
    server.terminate(rid)
    assert server.wait(rid) != 0
    assert not list(tmp_path.glob("runs/*/*/run.json"))  # it never finished
    server.close()


# A parent process that asks for a fork server: as a ``reproduce`` does (FORKED: the
# server is a fork of the parent) or as any other process (a fresh interpreter).
FORKED = (
    "import sys\nfrom repro.cli import main\nfrom repro.study import executor\n"
    "executor.serve_from_this_process(main)\n"
)
SPAWNED = "import sys\nfrom repro.study import executor\n"


@pytest.mark.parametrize("start", [FORKED, SPAWNED], ids=["forked", "spawned"])
def test_the_fork_server_and_its_units_die_with_their_parent(tmp_path, start):
    """A reproduce killed by SIGKILL (no clean-up code runs) leaves no unit writing behind."""
    code = start + (
        "import time\nfrom pathlib import Path\n"
        "s = executor.fork_server(); out = Path(sys.argv[1])\n"
        "argv = ('--results', str(out), 'train', '--config', 'supervised-normal',\n"
        "        '--scale', 'smoke', '--set', 'steps=1000000')\n"
        "rid = s.submit(argv, out / 'o', out / 'e')\n"
        "while rid not in s.pids: time.sleep(0.01)\n"
        "print(s.proc.pid, s.pids[rid], flush=True); time.sleep(120)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    pids = [int(p) for p in parent.stdout.readline().split()]
    assert len(pids) == 2 and all(_proc_state(p) != "Z" for p in pids)
    parent.kill()  # SIGKILL
    parent.wait()
    deadline = time.monotonic() + 30
    while any(_proc_state(p) != "Z" for p in pids):
        assert time.monotonic() < deadline, "a unit or the fork server outlived its parent"
        time.sleep(0.05)


def test_a_reproduce_forks_its_server_from_itself_once_while_its_code_is_current(tmp_path):
    """The server is a fork of the process that allowed it (its command line, no second
    interpreter) and runs units like a spawned one. A fresh interpreter while the source
    differs from the code loaded or another thread runs, and for every later server."""
    code = FORKED + (
        "import os, signal, threading, time\nfrom pathlib import Path\n"
        "def kind(s):\n"
        "    same = Path(f'/proc/{s.proc.pid}/cmdline').read_bytes() == "
        "Path('/proc/self/cmdline').read_bytes()\n"
        "    os.kill(s.proc.pid, signal.SIGTERM); s.proc.wait()\n"  # not its imports' end
        "    return 'forked' if same else 'spawned'\n"
        "out = Path(sys.argv[1]); seen = []\n"
        "state = executor._source_state()\n"
        "executor._source_state = lambda: (state[0][1:], state[1])\n"  # a file changed
        "seen.append(kind(executor.ForkServer()))\n"
        "executor._source_state = lambda: state\n"
        "stop = threading.Event(); threading.Thread(target=stop.wait).start()\n"
        "seen.append(kind(executor.ForkServer())); stop.set()\n"
        "while threading.active_count() > 1: time.sleep(0.01)\n"  # readers of closed servers
        "s = executor.ForkServer()\n"
        "rid = s.submit(('--results', str(out), 'train', '--config', 'supervised-normal',\n"
        "                '--scale', 'smoke', '--set', 'steps=20'), out / 'o', out / 'e')\n"
        "seen.append(str(s.wait(rid))); seen.append(kind(s))\n"
        "seen.append(kind(executor.ForkServer()))\n"
        "print(*seen)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == "spawned spawned 0 forked spawned\n"
    assert list(tmp_path.glob("runs/*/supervised-normal__s0/run.json"))  # the unit's run


def test_a_forked_server_serves_a_process_started_without_stdin(tmp_path):
    """A reproduce started with its stdin closed (from a daemon, or with <&-): the server's
    request pipe then takes fd 0 itself, which the fork must keep open."""
    code = FORKED + (
        "from pathlib import Path\n"
        "s = executor.fork_server(); out = Path(sys.argv[1])\n"
        "rid = s.submit(('--results', str(out), 'train', '--config', 'supervised-normal',\n"
        "                '--scale', 'smoke', '--set', 'steps=20'), out / 'o', out / 'e')\n"
        "print(type(s.proc).__name__, s.wait(rid))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.close(0),
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == "_ForkedServer 0\n"


def _proc_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return "Z"
