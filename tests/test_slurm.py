"""Reproduce through a real one-node SLURM cluster (tests/slurm/cluster.sh), not a mock.

The cluster is started once per test session (root needed) and stopped at the end.
Where the machine cannot run the daemons the tests skip with the reason; in CI
(``CI`` set) they fail instead, so CI can never pass by skipping them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import NO_ABLATIONS, copy_results, smoke_argv
from repro.config import make_config
from repro.errors import StageFailed
from repro.learn.train import train
from repro.paths import PROJECT
from repro.pipeline.reproduce import main_runs, results_lock
from repro.pipeline.runs import train_unit
from repro.pipeline.units import ExecutorConfig, Unit

pytestmark = [pytest.mark.slurm, pytest.mark.slow, pytest.mark.xdist_group("slurm")]
CLUSTER = PROJECT / "tests" / "slurm" / "cluster.sh"


def _unavailable(reason: str):
    """Fail where the machine cannot run the daemons (never skip: a skipped SLURM test
    would pass CI unseen); the message says how to deselect them on such a machine."""
    pytest.fail(
        f"the SLURM tests need a one-node cluster here: {reason} (as root: apt-get install "
        "slurmctld slurmd slurm-client munge; or leave them out with -m 'not slurm')"
    )


def test_a_missing_cluster_fails_and_says_how_to_leave_the_tests_out():
    with pytest.raises(pytest.fail.Exception, match="one-node cluster here: no root") as e:
        _unavailable("no root")
    assert "-m 'not slurm'" in str(e.value)


@contextlib.contextmanager
def _locked(path: Path):
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _free_port_pair() -> int:
    """A port p with p and p + 1 free on this machine (for slurmctld and slurmd)."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 65535:
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port + 1))
                    return port
                except OSError:
                    continue
    raise RuntimeError("no two free consecutive ports")


def _shared_dir(tmp_path_factory) -> Path:
    """A folder shared by the xdist workers of this test session (the base folder without)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def slurm(tmp_path_factory):
    """The one-node SLURM cluster: yields the environment that reaches it.

    Started by the first xdist worker that needs it and stopped by the last one done with
    it (a count under a file lock), so the workers never start two clusters on one port.
    """
    if os.geteuid() != 0:
        _unavailable("the one-node SLURM cluster needs root (munged, slurmctld, slurmd)")
    shared = _shared_dir(tmp_path_factory)
    folder, users = shared / "slurm-cluster", shared / "slurm-cluster.users"
    with _locked(shared / "slurm-cluster.lock"):
        count = int(users.read_text()) if users.exists() else 0
        if count == 0:
            folder.mkdir(exist_ok=True)
            cmd = ["bash", str(CLUSTER), "up", str(folder)]
            port = {"REPRO_SLURM_PORT": str(_free_port_pair())}  # beside any other cluster
            up = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **port})
            if up.returncode != 0:
                _unavailable(f"cluster.sh up failed: {up.stderr.strip()}")
        users.write_text(str(count + 1))
    env = {**os.environ, "SLURM_CONF": str(folder / "slurm.conf")}
    previous = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = env["SLURM_CONF"]  # for the in-process executor tests
    yield env
    if previous is None:
        del os.environ["SLURM_CONF"]
    else:
        os.environ["SLURM_CONF"] = previous
    with _locked(shared / "slurm-cluster.lock"):
        count = int(users.read_text()) - 1
        users.write_text(str(count))
        if count == 0:
            down = ["bash", str(CLUSTER), "down", str(folder)]
            subprocess.run(down, capture_output=True, timeout=60)


def reproduce(results: Path, *args: str, env: dict, quick: bool = True, timeout: int = 600):
    """A smoke reproduce without ablations (conftest.smoke_argv) on ``results``."""
    env = {**env, "REPRO_RESULTS": str(results)}
    cmd = smoke_argv(*NO_ABLATIONS, *args, quick=quick)
    return subprocess.run(
        cmd, capture_output=True, text=True, env=env, cwd=PROJECT, timeout=timeout
    )


def submitted(results: Path) -> list[str]:
    """Ids of the jobs submitted for the results folder ``results`` (their log folders)."""
    folder = results / "slurm"
    return sorted(p.name for p in folder.glob("*") if p.is_dir() and p.name.isdigit())


@pytest.fixture(scope="session")
def through_slurm(slurm, shared_folder):
    """The quick smoke pipeline (no ablations, no maze family: conftest.QUICK) reproduced
    through SLURM from an empty folder, once per session (also across xdist workers), and
    what it printed; read-only.

    Its local twin is the session's quick_reference (tests/conftest.py): the same command
    from an empty folder, with the local executor. (The family's runs are more units of the
    same two stages; leaving them out saves 8 jobs.)
    """

    def build(path: Path) -> None:
        out = reproduce(path / "results", "--executor", "slurm", env=slurm)
        assert out.returncode == 0, out.stdout + out.stderr
        (path / "stdout").write_text(out.stdout)

    path = shared_folder("through-slurm", build)
    return path / "results", (path / "stdout").read_text()


# The SLURM reproduce first, the local reference after (argument order): while one
# worker builds the reference, another can already be building this.
def test_smoke_reproduce_through_slurm_is_byte_identical(through_slurm, quick_reference):
    remote, stdout = through_slurm
    local = quick_reference
    for name in ("summary.json", "summary.csv", "baselines.json", "report/report.pdf"):
        assert (local / name).read_bytes() == (remote / name).read_bytes(), name
    assert "training [slurm]:" in stdout and "0 failed" in stdout  # progress lines
    for run in sorted((remote / "runs").glob("*/*/run.json")):
        job = json.loads(run.read_text())["slurm_job_id"]
        assert job is not None and job.isdigit()
        local_meta = json.loads((local / run.relative_to(remote)).read_text())
        assert local_meta["slurm_job_id"] is None
        assert local_meta["model_sha256"] == json.loads(run.read_text())["model_sha256"]
    assert list((remote / "slurm").glob("*/*_log.err"))  # the job logs, under the results


def test_a_failing_unit_is_named_with_its_job_and_log(through_slurm, slurm, tmp_path):
    # A copy of the session's SLURM-built folder (trained and evaluated through SLURM),
    # which this test damages; rerun with the options it was built with (quick).
    remote = copy_results(through_slurm[0], tmp_path / "results")
    runs = sorted((remote / "runs").glob("*/*/run.json"))
    broken, fine = runs[0].parent, runs[1].parent
    for run in (broken, fine):
        (run / "metrics.json").unlink()
    good = (broken / "model.pt").read_bytes()
    (broken / "model.pt").write_bytes(good[:-7] + b"damaged")
    out = reproduce(remote, "--executor", "slurm", env=slurm)
    assert out.returncode == 1, out.stdout + out.stderr
    first = out.stderr.splitlines()[0]
    label = broken.relative_to(remote / "runs").as_posix()
    assert first.startswith(f"error: evaluation {label} failed in SLURM job ")
    assert "log: " in first and first.rstrip().endswith("_log.err")
    log = Path(first.split("log: ")[1].strip())
    assert log.is_file()
    assert "does not match the hash recorded in run.json" in out.stderr  # the log's tail
    assert (fine / "metrics.json").exists()  # the other unit finished and is kept
    (broken / "model.pt").write_bytes(good)
    again = reproduce(remote, "--executor", "slurm", env=slurm)
    assert again.returncode == 0, again.stderr
    assert "evaluate: 1 of 12 runs to evaluate" in again.stdout  # nothing finished is redone
    assert "train: all 12 runs up to date (skipped)" in again.stdout


def _long_run(tmp_path: Path):
    """A smoke run long enough to interrupt, with frequent checkpoints. (About 10 s of
    training: a cancelled job runs on for KillWait, 2 s, after scancel, since submitit
    ignores SIGTERM; 5000 steps, 3 s, were sometimes done by then.)"""
    config = dataclasses.replace(
        make_config("supervised-normal", "fixed", 0, "smoke"), steps=12000, checkpoint_every=200
    )
    unit = train_unit(
        main_runs(tmp_path, [config])[0], False, 1
    )  # its config.json says 12000 steps
    return config, unit, tmp_path / "runs" / config.run_id


def _run_in_thread(executor, unit: Unit) -> tuple[threading.Thread, list]:
    errors: list = []

    def target():
        try:
            executor.run([unit], "training")
        except BaseException as e:  # noqa: BLE001 (handed to the test)
            errors.append(e)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, errors


def _wait_for(path: Path, errors: list, seconds: float = 180) -> None:
    end = time.monotonic() + seconds
    while not path.exists():
        assert not errors, errors
        assert time.monotonic() < end, f"{path} did not appear"
        time.sleep(0.2)


@pytest.fixture(scope="session")
def reference_sha(shared_folder) -> str:
    """The weights of the long run trained without interruption, in the process of the first
    test to ask (once per session, also across xdist workers)."""

    def build(path: Path) -> None:
        config, _, _ = _long_run(path)
        (path / "run").mkdir()
        sha = train(config, out=path / "run", progress=False)["model_sha256"]
        (path / "sha256").write_text(sha)

    return (shared_folder("slurm-long-run", build) / "sha256").read_text()


def test_cancelled_job_resumes_exactly_on_the_next_run(slurm, tmp_path, monkeypatch, reference_sha):
    from repro.pipeline.slurm import SlurmExecutor

    monkeypatch.setenv("REPRO_RESULTS", str(tmp_path))
    config, unit, run = _long_run(tmp_path)
    ex = SlurmExecutor(ExecutorConfig(kind="slurm"), tmp_path)
    thread, errors = _run_in_thread(ex, unit)
    _wait_for(run / "checkpoints" / "last.pt", errors)
    job = submitted(tmp_path)
    subprocess.run(["scancel", *job], check=True, env=slurm)
    thread.join(180)
    assert len(errors) == 1 and isinstance(errors[0], StageFailed)
    assert f"failed in SLURM job {job[0]} (CANCELLED" in str(errors[0])
    assert not (run / "run.json").exists()
    SlurmExecutor(ExecutorConfig(kind="slurm"), tmp_path).run([unit], "training")
    meta = json.loads((run / "run.json").read_text())
    assert meta["resumed_from_step"] > 0 and meta["slurm_job_id"] != job[0]
    assert meta["model_sha256"] == reference_sha


def test_preempted_job_is_requeued_and_ends_identical(slurm, tmp_path, monkeypatch, reference_sha):
    from repro.pipeline.slurm import SlurmExecutor

    monkeypatch.setenv("REPRO_RESULTS", str(tmp_path))
    config, unit, run = _long_run(tmp_path)
    ex = SlurmExecutor(ExecutorConfig(kind="slurm"), tmp_path)
    thread, errors = _run_in_thread(ex, unit)
    _wait_for(run / "checkpoints" / "last.pt", errors)
    job = submitted(tmp_path)[0]
    # The signal submitit requeues on (SLURM sends it before a time limit or a preemption;
    # the SIGTERM that may come with a preemption is ignored by submitit's handler).
    subprocess.run(["scancel", job, "--signal", "USR2"], check=True, env=slurm)
    # SLURM holds a requeued job back for a while (its begin time); let it start sooner, but
    # not within the second its first run was killed in: the node revoked that run's job
    # credential, and one reissued in the same second counts as revoked too ("Killing
    # non-startable batch job: Job credential revoked"), so the job failed (two CI failures).
    end = time.monotonic() + 120
    while _states([job], slurm)[job] != "PENDING":
        assert time.monotonic() < end and not errors, errors
        time.sleep(0.2)
    subprocess.run(["scontrol", "update", f"JobId={job}", "StartTime=now+2"], env=slurm)
    thread.join(300)
    assert not errors, (errors, _cluster_lines(job, slurm))
    meta = json.loads((run / "run.json").read_text())
    assert meta["slurm_job_id"] == job and meta["resumed_from_step"] > 0  # same job, requeued
    assert meta["model_sha256"] == reference_sha


def _cluster_lines(job: str, env: dict) -> str:
    """The controller's and the node's log lines about ``job`` (for a failure's message)."""
    folder, about = Path(env["SLURM_CONF"]).parent, re.compile(rf"(JobId=|job |StepId=|\[){job}\b")
    found = []
    for name in ("slurmctld.log", "slurmd.log"):
        text = (folder / name).read_text(errors="replace") if (folder / name).exists() else ""
        found += [f"{name}: {x}" for x in text.splitlines() if about.search(x)]
    return "\n".join(found[-40:])


def _states(job_ids: list[str], env: dict) -> dict[str, str]:
    cmd = ["squeue", "-h", "--states=all", "-o", "%i|%T"]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60).stdout
    states = dict(line.split("|") for line in out.split())
    return {j: states.get(j, "GONE") for j in job_ids}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_cancels_the_submitted_jobs(slurm, tmp_path, sig):
    env = {**slurm, "REPRO_RESULTS": str(tmp_path)}
    cmd = smoke_argv(*NO_ABLATIONS, "--executor", "slurm", quick=True)
    proc = subprocess.Popen(cmd, env=env, cwd=PROJECT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    for line in proc.stdout:  # wait until this reproduce has jobs in the queue
        if line.startswith("  training [slurm]:"):
            break
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    jobs = submitted(tmp_path)
    assert jobs
    states = _states(jobs, slurm)
    assert not [j for j, s in states.items() if s in ("PENDING", "RUNNING", "CONFIGURING")], states


def test_no_controller_is_exit_2_and_writes_nothing(slurm, tmp_path):
    conf = Path(slurm["SLURM_CONF"]).read_text()
    dead = tmp_path / "dead.conf"
    port = int(conf.split("SlurmctldPort=")[1].split()[0])
    dead_port = f"SlurmctldPort={_free_port_pair()}"
    # MessageTimeout: the clients give up on the absent controller after 1 s, not 9.
    dead.write_text(conf.replace(f"SlurmctldPort={port}", dead_port) + "MessageTimeout=2\n")
    results = tmp_path / "results"
    out = reproduce(results, "--executor", "slurm", env={**slurm, "SLURM_CONF": str(dead)})
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.startswith("error: --executor slurm: the SLURM controller is not reachable")
    assert len(out.stderr.strip().splitlines()) == 1
    no_sbatch = {**slurm, "PATH": "/nonexistent"}
    out = subprocess.run(
        smoke_argv("--executor", "slurm", quick=True),
        capture_output=True, text=True, env={**no_sbatch, "REPRO_RESULTS": str(results)},
    )  # fmt: skip
    assert out.returncode == 2 and "sbatch/squeue not found" in out.stderr
    assert not results.exists()  # nothing written


def test_results_lock_holds_across_executors(slurm, tmp_path, monkeypatch):
    monkeypatch.setenv("REPRO_RESULTS", str(tmp_path))
    with results_lock(tmp_path):  # as a local reproduce holds it
        out = reproduce(tmp_path, "--executor", "slurm", env=slurm)
    assert out.returncode == 2 and f"another reproduce (pid {os.getpid()})" in out.stderr
    assert submitted(tmp_path) == [] and not (tmp_path / "runs").exists()
