"""Shared test set-up.

- Hypothesis profiles: 'ci' is derandomized so CI is repeatable; 'dev' explores.
- Every test runs with ``REPRO_RESULTS`` pointing at a fresh temporary folder, so no command
  it runs (in-process or in a subprocess, which inherits the variable) can write into the
  committed ``results/``; a test that sets its own ``REPRO_RESULTS`` overrides it. The
  library never reads the variable: a test passes it the same folder, the ``root``
  fixture.
- ``shared_folder``: an expensive folder (a trained smoke pipeline) built once per test
  session and read by several tests, also across pytest-xdist workers.
- The fault suite's table of cases checked, summed over xdist workers.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

PROJECT = Path(__file__).resolve().parents[1]

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("dev", max_examples=40, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# ---------------------------------------------------------------- isolated results folder


@pytest.fixture(scope="session", autouse=True)
def _session_results(tmp_path_factory):
    """For module- and session-scoped fixtures, which run before the per-test fixture."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REPRO_RESULTS", str(tmp_path_factory.mktemp("session_results")))
        yield


@pytest.fixture(autouse=True)
def _isolated_results(_session_results, tmp_path_factory, monkeypatch):
    """Every test gets its own empty results folder (not its tmp_path, which stays the test's)."""
    folder = tmp_path_factory.mktemp("results")
    monkeypatch.setenv("REPRO_RESULTS", str(folder))
    return folder


@pytest.fixture
def root(_isolated_results) -> Path:
    """This test's results folder, to pass to the library (the commands a test runs find it
    as ``$REPRO_RESULTS``, as a user's would)."""
    return _isolated_results


@pytest.fixture
def repro_cli(capsys, monkeypatch) -> Callable[..., subprocess.CompletedProcess]:
    """``repro_cli(results, *argv)``: ``python -m repro ARGV`` on the results folder
    ``results``, run in this process (``repro.cli.main``, as ``python -m repro`` calls it),
    its exit code and output returned as a CompletedProcess. For the many bad-input cases,
    which would otherwise each pay an interpreter's start and torch's import (2-4 s);
    test_cli.py checks the real command line's exit codes in a process of its own."""
    from repro.cli import main

    def run(results: Path, *argv: str) -> subprocess.CompletedProcess:
        monkeypatch.setenv("REPRO_RESULTS", str(results))
        capsys.readouterr()  # what the test printed before
        try:
            code = main(list(argv))
        except SystemExit as e:  # argparse's errors
            code = e.code if isinstance(e.code, int) else 1
        out = capsys.readouterr()
        return subprocess.CompletedProcess(["repro", *argv], code, out.out, out.err)

    return run


# ---------------------------------------------------------------- shared expensive folders


def _shared_root(tmp_path_factory) -> Path:
    """The session's temporary root, common to every xdist worker (each has a subfolder)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def shared_folder(tmp_path_factory) -> Callable[[str, Callable[[Path], None]], Path]:
    """``shared_folder(name, build)``: the folder ``name``, made by ``build(path)`` once.

    The first worker to ask builds it under a file lock; the others wait and reuse it.
    A failed build leaves nothing behind (the next test to ask builds it again).
    Readers must not change it: tests that modify it work on a copy.
    """
    root = _shared_root(tmp_path_factory)

    def get(name: str, build: Callable[[Path], None]) -> Path:
        path = root / f"shared-{name}"
        with exclusive(path):
            if not (root / f"shared-{name}.done").exists():
                shutil.rmtree(path, ignore_errors=True)
                path.mkdir()
                build(path)
                (root / f"shared-{name}.done").touch()
        return path

    return get


def copy_results(src: Path, dst: Path) -> Path:
    """Copy the results folder ``src`` to ``dst``. Every record in it names its files
    relative to the folder, so the copy is as up to date as the original."""
    shutil.copytree(src, dst)
    return dst


@contextlib.contextmanager
def exclusive(path: Path):
    """Hold an exclusive lock on ``path`` (any test process, any xdist worker)."""
    with open(f"{path}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# ---------------------------------------------------------------- the smoke reproduce command
# Every smoke ``reproduce`` the tests start is written with smoke_argv, so that an option
# is added in one place. Two kinds:
# - the whole pipeline (the default): test_smoke_builds_everything, the determinism test
#   (two from-scratch runs compared), the SLURM byte-identity test, and smoke_reference;
# - ``quick=True``: the tests of the pipeline's machinery (kills, damaged files, stale
#   caches, added seeds, no TeX, locks), which leave out the stages that QUICK names (the
#   maze family); they compare with and copy quick_reference, built with the same options.
SMOKE = (sys.executable, "-m", "repro", "reproduce", "--scale", "smoke")
QUICK: tuple[str, ...] = ("--no-family",)  # the stages a machinery test skips
# The smoke pipeline without the ablations (12 runs, not 12 + 16): for every test that is not
# about the ablations.
NO_ABLATIONS = ("--ablation-seeds", "0")


def smoke_argv(*extra: str, quick: bool = False) -> list[str]:
    """``python -m repro reproduce --scale smoke [QUICK] EXTRA`` (see above)."""
    return [*SMOKE, *(QUICK if quick else ()), *extra]


def _reference(shared_folder, quick: bool) -> Path:
    """``smoke_argv(*NO_ABLATIONS, quick=quick)`` run from an empty folder, once per session
    for each kind (QUICK leaves the family stage out, so they are two folders)."""
    argv = smoke_argv(*NO_ABLATIONS, quick=quick)

    def build(path: Path) -> None:
        out = subprocess.run(
            argv,
            env={**os.environ, "REPRO_RESULTS": str(path)},
            capture_output=True,
            text=True,
            cwd=PROJECT,
        )
        assert out.returncode == 0, out.stdout + out.stderr

    name = "smoke-" + "".join(argv[len(SMOKE) :]).replace("-", "")
    return shared_folder(name, build)


@pytest.fixture(scope="session")
def smoke_reference(shared_folder) -> Path:
    """The whole smoke pipeline without ablations from an empty folder, built once per
    session; read-only (copy it to change it)."""
    return _reference(shared_folder, quick=False)


@pytest.fixture(scope="session")
def quick_reference(shared_folder) -> Path:
    """``smoke_argv(*NO_ABLATIONS, quick=True)`` from an empty folder, built once per session
    (the same folder as smoke_reference while QUICK is empty); read-only."""
    return _reference(shared_folder, quick=True)


# ---------------------------------------------------------------- order under pytest-xdist


# Seconds a test takes under ``-n 2`` (its usual share of shared fixtures included), for the
# tests that take more than a few: file::function -> seconds. Only their order matters.
COST = {
    "test_faults.py::test_reproduce_killed_at_random_points_ends_identical": 82,
    "test_slurm.py::test_cancelled_job_resumes_exactly_on_the_next_run": 48,
    "test_reproduce.py::test_smoke_builds_everything": 37,  # setup: smoke_reference + ablations
    "test_faults.py::test_training_killed_at_random_points_ends_identical": 36,
    "test_slurm.py::test_a_failing_unit_is_named_with_its_job_and_log": 33,  # FAILED_GRACE_S
    "test_slurm.py::test_smoke_reproduce_through_slurm_is_byte_identical": 31,
    "test_generalization.py::test_smoke_study_through_reproduce": 26,
    "test_reproduce.py::test_added_seed_trains_only_new_runs": 24,
    "test_faults.py::test_unchanged_code_and_a_late_stage_change_redo_only_that_stage": 20,
    "test_group.py::test_smoke_reproduce_through_groups": 19,
    "test_studies.py::test_a_toy_study_added_to_the_registry_runs_through_reproduce": 18,
    "test_faults.py::test_reproduce_twice_from_scratch_is_byte_identical": 17,
    "test_figures.py::test_main_writes_every_figure_and_renders_them_identically": 17,
    "test_slurm.py::test_preempted_job_is_requeued_and_ends_identical": 14,
    "test_faults.py::test_changes_redo_exactly_the_dependent_stages": 13,
    "test_faults.py::test_damaged_result_files_are_rebuilt": 9,
    "test_reproduce.py::test_without_tex_everything_else_is_written": 9,
    "test_figures.py::test_tolerates_empty_and_partial_summaries": 8,
    "test_faults.py::test_damaged_dataset_and_weights_are_refused": 8,
    "test_evaluate.py::test_cli_evaluate_bad_input": 7,
    "test_slurm.py::test_no_controller_is_exit_2_and_writes_nothing": 6,
    "test_faults.py::test_bad_set_values_exit_2_one_line_naming_the_field": 6,
    "test_bench.py::test_group_scaling_is_measured_per_member_on_a_small_setting": 5,
}


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist, the tests marked ``early`` (they build what other tests wait for),
    then the others longest first (COST; other slow tests next, the rest last): the
    controller hands tests out one at a time in this order (--dist load --maxschedchunk 1),
    so the long ones start at once, the short ones fill in around them and the workers
    finish together. A run without xdist keeps the files' order."""
    if not hasattr(config, "workerinput"):
        return

    def key(item) -> tuple[int, float]:
        early = item.get_closest_marker("early") is not None
        slow = item.get_closest_marker("slow") is not None
        cost = COST.get(f"{item.path.name}::{item.originalname}", 5 if slow else 0)
        return (0 if early else 1, -cost)

    items.sort(key=key)  # stable: the files' order among equals


# ---------------------------------------------------------------- fault-suite counts
# Each fault test adds the number of cases it checked to FAULT_COUNTS[category];
# the table is printed at the end of the run (nox -s faults). Under pytest-xdist each
# worker sends its counts to the controller when it finishes, which sums them.
FAULT_COUNTS: dict[str, int] = {}


def pytest_sessionfinish(session):
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the counts to the controller
        workeroutput["fault_counts"] = dict(FAULT_COUNTS)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """On the xdist controller: add a finished worker's counts."""
    for category, n in getattr(node, "workeroutput", {}).get("fault_counts", {}).items():
        FAULT_COUNTS[category] = FAULT_COUNTS.get(category, 0) + n


def pytest_terminal_summary(terminalreporter):
    if not FAULT_COUNTS:
        return
    tr = terminalreporter
    tr.section("fault suite: cases checked")
    for category, n in sorted(FAULT_COUNTS.items()):
        tr.write_line(f"  {category:<58}{n:>6}")
    tr.write_line(f"  {'total':<58}{sum(FAULT_COUNTS.values()):>6}")


def pytest_configure(config):
    """A shell that starts the suite in the background (no job control) leaves SIGINT ignored,
    and every process the tests start would inherit that: Ctrl-C tests would then test
    nothing. Give SIGINT its default meaning back, so children start with it."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
