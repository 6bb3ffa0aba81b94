"""Sessions: `nox -l` lists them. A plain `nox` runs only the quick lint session.

Every session installs the package editable with the exact pins of constraints.txt
(PIP_CONSTRAINT also pins the build backend used for the editable install). The sessions that
need system packages (TeX Live, poppler, SLURM) get them from scripts/system-deps.sh, which
installs what is missing as root on Debian and otherwise stops at once with exit code 2,
naming the one command to run.
"""

import subprocess
from pathlib import Path

import nox

ROOT = Path(__file__).parent
CONSTRAINTS = str(ROOT / "constraints.txt")
nox.options.sessions = ["lint"]
nox.options.reuse_existing_virtualenvs = True
nox.options.default_venv_backend = "venv"
# pytest-xdist: one worker per core ("auto"), each handed one test at a time, slow ones
# first (see pytest_collection_modifyitems in tests/conftest.py). Options after `--` come
# last, so they can narrow the run (`-m "not slow"`) or override these (`-n 0`).
PYTEST_ARGS = ("-n", "auto", "--dist", "load", "--maxschedchunk", "1")


def _system_deps(group: str) -> None:
    """Install the missing system packages of ``group`` (scripts/system-deps.sh), or stop the
    session with exit code 2 before any long work where they cannot be installed."""
    code = subprocess.run(["bash", str(ROOT / "scripts" / "system-deps.sh"), group]).returncode
    if code:
        raise SystemExit(code)


def _install(session: nox.Session, extras: str = "") -> None:
    env = {"PIP_CONSTRAINT": CONSTRAINTS}
    session.install("-c", CONSTRAINTS, "-e", f".{extras}", env=env)


@nox.session(python="3.11")
def tests(session: nox.Session) -> None:
    """Run the test suite (pytest + hypothesis, derandomized CI profile), on every core.

    The quick subset for editing work: `nox -s tests -- -m "not slow"`.
    """
    _system_deps("all")  # the report tests need TeX and poppler; the slurm tests SLURM
    _install(session, "[test,slurm]")
    session.run("pytest", *PYTEST_ARGS, *session.posargs, env={"HYPOTHESIS_PROFILE": "ci"})


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """Check lint and formatting with ruff (quick; the default session)."""
    session.install("-c", CONSTRAINTS, "ruff", env={"PIP_CONSTRAINT": CONSTRAINTS})
    session.run("ruff", "check", "src", "tests", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "noxfile.py")


@nox.session(python="3.11")
def reproduce(session: nox.Session) -> None:
    """The whole study: data, 24 trainings, evaluation, figures, paper/report.pdf.

    Options after `--`: --scale paper|smoke, --seeds N, --force, --jobs N, --ablation-seeds N,
    --executor local|slurm and the --slurm-* options (see README, "Running on your cluster").
    """
    _system_deps("report")  # before an hour of training, not after it
    _install(session, "[slurm]")
    session.run("python", "-m", "repro", "reproduce", *session.posargs)


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    """Speed and memory benchmarks: training vs a reference, evaluation, RSS -> bench.json."""
    _install(session)
    session.run("python", "-m", "repro.bench", *session.posargs)


@nox.session(name="gpu-check", python="3.11")
def gpu_check(session: nox.Session) -> None:
    """The accelerator path in one command: group-vs-alone equivalence and resume on the
    device, per-member step time against R, the study through `reproduce --trainer auto`,
    all in results/gpu.json (src/repro/gpucheck.py). On a GPU machine: `nox -s gpu-check`
    (paper scale, about 8 minutes); anywhere: `nox -s gpu-check -- --device cpu --scale smoke`.
    """
    _install(session)
    session.run("python", "-m", "repro.gpucheck", *session.posargs)


@nox.session(python="3.11")
def faults(session: nox.Session) -> None:
    """The fault suite: kills, damaged files, concurrency, bad input, stale caches (smoke scale)."""
    _system_deps("report")
    _install(session, "[test]")
    session.run(
        "pytest", *PYTEST_ARGS, "-m", "faults", *session.posargs, env={"HYPOTHESIS_PROFILE": "ci"}
    )
