"""The fault suite (``nox -s faults``): nothing is lost or silently reused under faults.

a. interruption: a training killed (SIGINT, SIGKILL) at 20 random points and a whole
   reproduce at 10 points of its work, each, restarted, end identical to an uninterrupted
   run;
b. damaged files are detected by their content hash and rebuilt, or refused;
c. two reproduce processes on one results folder: the second stops, naming the first;
d. bad configuration values (hypothesis, 500+ cases): exit 2, one line, no traceback;
e. bad command lines: exit 2 and a message;
f. a NaN in a batch (tests/test_train.py) stops training at the named step;
g. a changed configuration field, stage code or library version redoes exactly the
   stages that depend on it.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import FAULT_COUNTS, NO_ABLATIONS, copy_results, smoke_argv
from repro.cli import main as cli_main
from repro.config import RunConfig

pytestmark = [pytest.mark.faults, pytest.mark.slow]
PROJECT = Path(__file__).resolve().parents[1]
KILLS = 20  # of a training, per signal
REPRODUCE_KILLS = 10  # of a whole reproduce, per signal, each after its start
# The fault suite exercises the pipeline's machinery (shared by every stage) without the
# ablation runs (NO_ABLATIONS), which would double each from-scratch smoke reproduce, and
# without the stages conftest.QUICK leaves out; test_reproduce.py runs the whole smoke
# pipeline with them.
QUICK_REPRODUCE = smoke_argv(*NO_ABLATIONS, quick=True)


def count(category: str, n: int = 1) -> None:
    FAULT_COUNTS[category] = FAULT_COUNTS.get(category, 0) + n


def env_for(results: Path, **extra) -> dict[str, str]:
    return {**os.environ, "REPRO_RESULTS": str(results), **extra}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def call(argv: list[str], results: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """The command ``argv`` on the results folder ``results``, output captured."""
    return subprocess.run(
        argv, env=env or env_for(results), capture_output=True, text=True, cwd=PROJECT
    )


def repro(results: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """``python -m repro ARGS`` on the results folder ``results``, output captured."""
    return call([sys.executable, "-m", "repro", *args], results, env)


# ------------------------------------------------------------------ a. interruption


TRAIN_ARGS = [
    sys.executable,
    "-m",
    "repro",
    "train",
    "--config",
    "contrastive-normal",
    "--regime",
    "procedural",
    "--scale",
    "smoke",
    "--set",
    "steps=600",
]


def _kill_chain(
    argv: list[str],
    results: Path,
    sig: int,
    rng: random.Random,
    hi: float,
    check,
    kills_wanted: int = KILLS,
    begun: bool = False,
) -> int:
    """Start the command ``argv`` and kill it with ``sig`` at a random moment, ``kills_wanted``
    times: ``uniform(0.3, hi)`` seconds after its start, or with ``begun`` after the first
    line it prints (the command has imported its code and started its work; a kill before
    that tests only the interpreter's start, and a start that never gets further leaves the
    pipeline where it was).

    After every kill the files left behind are checked. A process that finishes
    before its kill is let be, and its results are wiped so the next start has
    work to be killed in; the caller then runs to completion and compares.
    """
    kills = 0
    for _ in range(10 * kills_wanted):
        if kills == kills_wanted:
            break
        proc = subprocess.Popen(
            argv,
            env=env_for(results),
            stdout=subprocess.PIPE if begun else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=PROJECT,
            start_new_session=True,
        )
        drain = None
        if begun:
            proc.stdout.readline()  # its first line, or '' once it has ended
            drain = threading.Thread(target=proc.stdout.read, daemon=True)  # the rest
            drain.start()
        try:  # a start that finishes before its kill is not waited out to its kill time
            proc.wait(timeout=rng.uniform(0.3, hi))
        except subprocess.TimeoutExpired:
            # The whole process group, as a terminal's Ctrl-C (or an OOM killer) would.
            os.killpg(proc.pid, sig)
            kills += 1
            proc.wait()
        else:
            assert proc.returncode == 0, proc.stderr.read()
            shutil.rmtree(results)
        if drain is not None:
            drain.join()
            proc.stdout.close()
        proc.stderr.close()
        check(results)
    assert kills == kills_wanted
    return kills


def _check_run(results: Path) -> None:
    """No partial file is ever taken as complete: run.json implies an intact model.pt."""
    for meta_path in results.glob("runs/*/*/run.json"):
        meta = json.loads(meta_path.read_text())
        assert sha(meta_path.parent / "model.pt") == meta["model_sha256"]
    for m in results.glob("runs/*/*/metrics.json"):
        json.loads(m.read_text())


@pytest.fixture(scope="session")
def reference_training(shared_folder):
    """An uninterrupted TRAIN_ARGS run, shared by the SIGINT and SIGKILL tests, and its
    wall time (the kills land at random points of that span)."""

    def build(path: Path) -> None:
        t = time.perf_counter()
        out = call(TRAIN_ARGS, path)
        assert out.returncode == 0, out.stderr
        (path / "seconds").write_text(f"{time.perf_counter() - t:.3f}")

    return shared_folder("train-600", build)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_training_killed_at_random_points_ends_identical(tmp_path, sig, reference_training):
    ref = reference_training
    # Kill points uniform over the life of an uninterrupted run (interpreter start, data,
    # training, checkpoints, final write), but never later than 4 s (a run timed on a busy
    # machine would leave most starts to finish on their own; each is then wiped and redone).
    hi = min(4.0, max(1.0, float((ref / "seconds").read_text())))
    cut = tmp_path / "cut"
    kills = _kill_chain(TRAIN_ARGS, cut, sig, random.Random(int(sig)), hi, _check_run)
    out = call(TRAIN_ARGS, cut)
    assert out.returncode == 0, out.stderr
    run = "runs/procedural/contrastive-normal__s0"
    assert sha(ref / run / "model.pt") == sha(cut / run / "model.pt")
    assert (ref / run / "loss.csv").read_bytes() == (cut / run / "loss.csv").read_bytes()
    count(f"a. training killed by {signal.Signals(sig).name}, resumed identical", kills)


def _check_pipeline(results: Path) -> None:
    _check_run(results)
    for name in ("summary.json", "baselines.json"):
        if (results / name).exists():
            json.loads((results / name).read_text())
    pdf = results / "report/report.pdf"
    if pdf.exists():
        data = pdf.read_bytes()
        assert data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_reproduce_killed_at_random_points_ends_identical(tmp_path, sig, request):
    rng = random.Random(100 + int(sig))
    # Kill points uniform over the first 8 s of each start's work, counted from its first
    # line (the quick smoke pipeline works about 30 s from an empty folder, after 2-3 s of
    # imports): each start resumes where the last was killed, so the kills spread through
    # training and evaluation into the figures (measured: 5 in training, 1 in evaluation, 4
    # in the figures). Counted from the process's start instead, every kill of a 5 s window
    # landed in the imports or in the first training units, and no start got further.
    kills = _kill_chain(
        QUICK_REPRODUCE, tmp_path, sig, rng, 8.0, _check_pipeline, REPRODUCE_KILLS, begun=True
    )
    out = call(QUICK_REPRODUCE, tmp_path)
    assert out.returncode == 0, out.stderr
    # Asked for only now: the kills need no reference, so they never wait for the worker
    # that builds it, and are under way while it does.
    reference = request.getfixturevalue("quick_reference")
    for rel in ("summary.json", "summary.csv", "baselines.json"):
        assert (tmp_path / rel).read_bytes() == (reference / rel).read_bytes(), rel
    if shutil.which("latexmk"):
        assert sha(tmp_path / "report/report.pdf") == sha(reference / "report/report.pdf")
    count(f"a. reproduce killed by {signal.Signals(sig).name}, resumed identical", kills)


def test_reproduce_twice_from_scratch_is_byte_identical(concurrent_pair, smoke_reference):
    """The first of the two concurrent reproduces (section c) ran from an empty folder: a
    second from-scratch run of the whole smoke pipeline, to compare with the reference
    (the second process, refused, must have left no trace either)."""
    results, _ = concurrent_pair
    assert (results / "summary.json").read_bytes() == (
        smoke_reference / "summary.json"
    ).read_bytes()
    if shutil.which("latexmk"):
        assert sha(results / "report/report.pdf") == sha(smoke_reference / "report/report.pdf")
    count("determinism: smoke reproduce twice from scratch, identical", 1)


# ------------------------------------------------------------------ b. damaged files


def _reproduce(results: Path, *args: str, env: dict | None = None):
    return call([*QUICK_REPRODUCE, *args], results, env)


@pytest.fixture
def smoke_copy(tmp_path, quick_reference):
    return copy_results(quick_reference, tmp_path / "results")


# The damaged file, how, and the stages the next reproduce must redo (report aside: in a
# copied folder it is always redone once, see copy_results).
DAMAGES = {
    "metrics-edit": ("runs/fixed/supervised-normal__s0/metrics.json", "edit", "evaluate"),
    "metrics-truncate": ("runs/fixed/supervised-normal__s0/metrics.json", "truncate", "evaluate"),
    "summary-edit": ("summary.json", "edit", "summary"),
    "summary-truncate": ("summary.json", "truncate", "summary"),
    "baselines-edit": ("baselines.json", "edit", "baselines"),
    "figure-truncate": ("figures/fig2_heatmaps.pdf", "truncate", "figures"),
}


@pytest.mark.parametrize("case", list(DAMAGES))
def test_damaged_result_files_are_rebuilt(smoke_copy, quick_reference, case):
    rel, how, stage = DAMAGES[case]
    path = smoke_copy / rel
    data = path.read_bytes()
    if how == "truncate":
        path.write_bytes(data[: len(data) // 2])
    else:
        text = data.decode()
        i = text.index("0.")
        path.write_text(text[:i] + "9." + text[i + 2 :])  # one number changed, still valid JSON
    out = _reproduce(smoke_copy)
    assert out.returncode == 0, out.stderr
    assert path.read_bytes() == (quick_reference / rel).read_bytes()
    # Exactly the damaged file's stage is redone; it writes the same bytes, so the stages
    # after it are not.
    stages = _stages(out.stdout)
    expected = dict.fromkeys(["train", "evaluate", "summary", "figures"], "skipped")
    if stage in expected:
        expected[stage] = "redone"
    assert {k: stages[k] for k in expected} == expected, out.stdout
    if stage == "evaluate":  # only the damaged run
        assert "evaluate: 1 of 12 runs to evaluate" in out.stdout
    count("b. damaged result file detected and rebuilt", 1)


def test_damaged_dataset_and_weights_are_refused(smoke_copy):
    inst = next((smoke_copy / "instances").glob("*.npz"))
    inst.write_bytes(inst.read_bytes()[:200])
    out = _reproduce(smoke_copy)
    assert out.returncode == 2 and inst.name in out.stderr and "Traceback" not in out.stderr
    inst.unlink()  # the user's remedy, which the message implies: rebuild it
    assert _reproduce(smoke_copy).returncode == 0
    weights = smoke_copy / "runs/fixed/contrastive-stitching__s0/model.pt"
    weights.write_bytes(weights.read_bytes()[:-10] + b"0123456789")
    out = repro(
        smoke_copy,
        "evaluate",
        "--run",
        "fixed/contrastive-stitching__s0",
        "--scale",
        "smoke",
        "--force",
    )
    assert out.returncode == 2 and "model.pt" in out.stderr and "Traceback" not in out.stderr
    count("b. damaged dataset or weights refused with the file named", 2)


class _Payload:
    """Unpickling this runs a command (what a crafted checkpoint would do)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_crafted_checkpoint_is_refused_and_runs_nothing(tmp_path):
    """Whoever can write a run folder can write a checkpoint and its matching hash: a pickle
    that would run a command on resume is refused (exit 2, one line naming the file), and the
    command never runs."""
    import torch

    from repro.config import make_config
    from repro.learn.runfiles import _CKPT_MAGIC, save_checkpoint, stage_hash

    config = make_config("supervised-normal", "fixed", 0, "smoke")
    results = tmp_path / "results"
    ckpt = results / "runs" / config.run_id / "checkpoints" / "last.pt"
    marker = tmp_path / "payload-ran"
    save_checkpoint(ckpt, {"key": stage_hash(config), "step": 1, "x": _Payload(marker)})
    # The payload is live: loaded the unsafe way, it runs.
    torch.load(io.BytesIO(ckpt.read_bytes()[len(_CKPT_MAGIC) + 32 :]), weights_only=False)
    assert marker.exists()
    marker.unlink()
    train = ["train", "--config", "supervised-normal", "--regime", "fixed", "--scale", "smoke"]
    out = repro(results, *train)
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith(f"error: checkpoint {ckpt} is not tensors and plain data")
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    assert not marker.exists()
    ckpt.unlink()  # the remedy the message names: the run starts over and completes
    assert repro(results, *train).returncode == 0
    count("b. crafted checkpoint (pickle payload) refused, nothing run", 1)


# ------------------------------------------------------------------ c. concurrency


@pytest.fixture(scope="session")
def concurrent_pair(shared_folder):
    """A smoke reproduce (the whole pipeline, no ablations) from an empty folder, and a second
    one started on the same folder while the first holds the lock. Returns the folder and
    what both processes did."""
    argv = smoke_argv(*NO_ABLATIONS)

    def build(path: Path) -> None:
        results = path / "results"
        first = subprocess.Popen(
            argv,
            env=env_for(results),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=PROJECT,
        )
        lock = results / ".reproduce.lock"
        for _ in range(200):
            if lock.exists():
                break
            time.sleep(0.05)
        second = call(argv, results)
        _, err = first.communicate(timeout=600)
        record = {
            "first_pid": first.pid,
            "first_returncode": first.returncode,
            "first_stderr": err,
            "second_returncode": second.returncode,
            "second_stderr": second.stderr,
            "lock_left": lock.exists(),
        }
        (path / "record.json").write_text(json.dumps(record))

    path = shared_folder("concurrent-pair", build)
    return path / "results", json.loads((path / "record.json").read_text())


def test_second_reproduce_on_same_folder_stops_with_owner_pid(concurrent_pair):
    results, r = concurrent_pair
    assert r["second_returncode"] == 2
    assert f"pid {r['first_pid']}" in r["second_stderr"]
    assert "Traceback" not in r["second_stderr"]
    assert r["first_returncode"] == 0, r["first_stderr"]
    assert not r["lock_left"]
    _check_pipeline(results)
    count("c. concurrent reproduce refused, first unharmed", 1)


# ------------------------------------------------------------------ d. bad configuration

FIELDS = {f.name: f.type for f in __import__("dataclasses").fields(RunConfig)}
INT_BOUNDS = {
    "seed": (0, 2**63 - 1),
    "size": (3, 200),
    "n_trajectories": (1, 10**7),
    "steps": (1, 10**8),
    "batch_size": (2, 10**6),
    "hidden": (1, 10**5),
    "n_blocks": (0, 1000),
    "embed_dim": (1, 10**5),
    "log_every": (1, 10**8),
    "checkpoint_every": (1, 10**8),
    "snapshot_every": (1, 10**8),
}
CHOICES = {"regime", "direction", "head"}
SETTABLE = set(FIELDS) - {"method", "dataset"}

# Long text that never parses as a number (a run of digits such as "000...0" would).
huge = st.text(min_size=5000, max_size=20000).map(lambda s: s.replace("\n", " ") + "#")
not_a_number = st.sampled_from(["", "abc", "1e", "--", "0x1g", "one", "1,000"]) | huge


@st.composite
def bad_set(draw):
    """A --set FIELD=VALUE string that must be refused, and the field it must name."""
    kind = draw(
        st.sampled_from(
            ["unknown", "int_type", "int_range", "int_digits", "float", "choice", "fixed", "empty"]
        )
    )
    if kind == "unknown":
        name = draw(
            st.text(min_size=0, max_size=30).filter(
                lambda s: s.strip() not in FIELDS and "=" not in s and "\n" not in s
            )
        )
        return f"{name}={draw(st.text(max_size=10))}", repr(name.strip())
    if kind == "int_type":
        name = draw(st.sampled_from(sorted(INT_BOUNDS)))
        value = draw(
            not_a_number
            | st.floats(allow_nan=True).map(repr).filter(lambda s: not s.lstrip("-").isdigit())
        )
        return f"{name}={value}", name
    if kind == "int_range":
        name = draw(st.sampled_from(sorted(INT_BOUNDS)))
        lo, hi = INT_BOUNDS[name]
        bad = st.integers(max_value=lo - 1)
        if hi is not None:
            bad = bad | st.integers(min_value=hi + 1)
        return f"{name}={draw(bad)}", name
    if kind == "int_digits":  # digits that are not ASCII, or far too many of them
        name = draw(st.sampled_from(sorted(INT_BOUNDS)))
        value = draw(
            st.sampled_from(["１０", "١٠", "٣", "𝟙𝟚", "1０"])
            | st.integers(min_value=21, max_value=6000).map(lambda n: "7" * n)
        )
        return f"{name}={value}", name
    if kind == "float":
        name = draw(st.sampled_from(["gamma", "lr", "loop_prob"]))
        value = draw(
            not_a_number | st.sampled_from(["nan", "inf", "-inf", "-0.5", "1.5", "100", "1e400"])
        )
        if name == "lr" and value in ("1.5",):
            value = "-1.5"
        if name == "loop_prob" and value in ("-0.5",):
            value = "-0.25"
        return f"{name}={value}", name
    if kind == "choice":
        name = draw(st.sampled_from(sorted(CHOICES)))
        value = draw(st.text(max_size=40) | huge)
        from repro.config import DIRECTIONS, HEADS, REGIMES

        allowed = {"regime": REGIMES, "direction": DIRECTIONS, "head": HEADS}[name]
        if value.strip() in allowed:
            value = value + "x"
        return f"{name}={value}", name
    if kind == "fixed":
        name = draw(st.sampled_from(["method", "dataset"]))
        return f"{name}={draw(st.sampled_from(['x', 'normalx', 'supervisedx']))}", name
    name = draw(st.sampled_from(sorted(SETTABLE)))
    return f"{name}=", name


@pytest.fixture(scope="module")
def scratch_results(tmp_path_factory):
    """A results folder for in-process CLI calls: if a drawn value were accepted after all,
    its run must land here, never in the project's committed results."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REPRO_RESULTS", str(tmp_path_factory.mktemp("bad_set")))
        yield


@settings(max_examples=520, deadline=None)
@given(bad_set(), st.sampled_from(["supervised-normal", "contrastive-normal"]))
def test_bad_set_values_exit_2_one_line_naming_the_field(scratch_results, case, config):
    item, name = case
    buf = io.StringIO()
    with contextlib.redirect_stderr(buf):
        # "--set=ITEM": a drawn item starting with "-" must reach our checks, not argparse's.
        code = cli_main(["train", "--config", config, "--scale", "smoke", f"--set={item}"])
    err = buf.getvalue()
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")
    assert "Traceback" not in err
    assert name in err
    assert len(err) < 400  # the value is cut, never printed whole
    count("d. bad --set value: exit 2, one line naming the field")


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.text(max_size=12),
        st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.floats(allow_nan=True),
        max_size=4,
    )
)
def test_bad_config_dicts_refused_naming_a_field(d):
    from repro.config import ConfigError, config_from_dict

    base = RunConfig().to_dict()
    bad = {**base, **d}
    try:
        config_from_dict(bad)
    except ConfigError as e:
        msg = str(e)
        assert any(k in msg or repr(k) in msg for k in bad) and "\n" not in msg
        count("d. hand-edited configuration dict refused, field named")
        return
    # Only a dict of valid values may pass.
    assert all(k in base for k in d)


# ------------------------------------------------------------------ e. bad command lines


@pytest.mark.parametrize(
    "argv",
    [
        ["fly"],
        [],
        ["train"],
        ["train", "--config", "supervised-normal", "--bogus"],
        ["train", "--config", "supervised-normal", "--seed", "x"],
        ["train", "--config", "supervised-normal", "--threads", "0"],
        ["evaluate", "--run", "fixed/nothing__s0"],
        ["evaluate", "--run", "../../etc"],
        ["evaluate"],
        ["reproduce", "--scale", "giant"],
        ["reproduce", "--seeds", "0"],
        ["reproduce", "--jobs", "-1"],
    ],
)
def test_bad_command_lines_exit_2(tmp_path, argv, repro_cli):
    out = repro_cli(tmp_path, *argv)
    assert out.returncode == 2, (argv, out.stderr)
    assert out.stderr.startswith("error: ") and "Traceback" not in out.stderr
    count("e. bad command line: exit 2 with a message")


def test_unreadable_results_path_exit_2(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    out = _reproduce(blocker / "results")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    count("e. bad command line: exit 2 with a message")


# ------------------------------------------------------------------ g. stale caches


@pytest.fixture
def project_copy(tmp_path):
    """A copy of the project's code, so a test can edit a module and see what is redone."""
    dst = tmp_path / "proj"
    shutil.copytree(PROJECT / "src", dst / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(PROJECT / "paper", dst / "paper", ignore=shutil.ignore_patterns("*.pdf"))
    return dst


def _stages(out: str) -> dict[str, str]:
    lines = out.splitlines()
    return {
        "train": "redone"
        if any(s.startswith("train:") and "to train" in s for s in lines)
        else "skipped",
        "evaluate": "redone"
        if any(s.startswith("evaluate:") and "to evaluate" in s for s in lines)
        else "skipped",
        **{
            s: "skipped" if f"{s}: up to date (skipped)" in lines else "redone"
            for s in ("summary", "figures", "report")
        },
    }


SKIPPED = dict.fromkeys(["train", "evaluate", "summary", "figures", "report"], "skipped")


def _planned(out: str) -> dict[str, str]:
    """What a ``--dry-run`` says, in :func:`_stages`' terms: each stage 'redone' if it would
    run, else 'skipped'."""
    lines = out.splitlines()

    def says(stage: str, words: str) -> bool:
        return any(s.startswith(f"{stage}:") and words in s for s in lines)

    return {
        "train": "redone" if says("train", "would train") else "skipped",
        "evaluate": "redone" if says("evaluate", "would be evaluated") else "skipped",
        **{
            s: "redone" if says(s, "would run") else "skipped"
            for s in ("summary", "figures", "report")
        },
    }


@pytest.fixture
def stale_setup(tmp_path, project_copy, quick_reference):
    """The reference smoke results (copied) and a copy of the code that made them.

    Returns ``run(env, dry)`` (a reproduce, or with ``dry`` a ``--dry-run``, with the copied
    code: the stages it redid, or would redo, and its output) and ``edit(module, old,
    new)`` (appends a line of code, or replaces ``old`` by ``new``; ``prose`` appends a
    comment and rewords the module's docstring instead). The copied code is the same
    code, so the copied runs and metrics are reused as they are; only a change made by the
    test can make them stale.
    """
    results = copy_results(quick_reference, tmp_path / "results")
    env = env_for(results, PYTHONPATH=str(project_copy / "src"))

    def run(env=env, dry=False):
        out = _reproduce(results, *(["--dry-run"] if dry else []), env=env)
        assert out.returncode == 0, out.stderr
        return (_planned if dry else _stages)(out.stdout), out.stdout

    def edit(module: str, old: str = "", new: str = "", prose: bool = False):
        path = project_copy / "src/repro" / f"{module}.py"
        text = path.read_text()
        assert not old or text.count(old) == 1, (module, old)
        if prose:
            path.write_text(text.replace('"""', '"""Reworded. ', 1) + "\n# edited\n")
        else:
            path.write_text(text.replace(old, new) if old else text + "\n_EDITED = True\n")

    return run, edit, env


def test_unchanged_code_and_a_late_stage_change_redo_only_that_stage(stale_setup):
    run, edit, _ = stale_setup
    assert run()[0] == SKIPPED  # a copied folder is as up to date as the original
    count("g. stale cache: change redid exactly the dependent stages", 1)
    edit("learn/trunk", prose=True)  # a comment and a docstring: no stage's code changed
    assert run()[0] == SKIPPED
    count("g. stale cache: a prose edit to training code redid nothing", 1)
    edit("report/figures")  # code of a late stage: only it reruns; same figures, report kept
    assert run()[0] == {**SKIPPED, "figures": "redone"}
    count("g. stale cache: change redid exactly the dependent stages", 1)


# Each change, made alone to the reference's code (or, None, a library version): the
# stages that must be redone and those that must not, the reason the dry run gives for
# each redone run, and whether the change is also carried out by a real run.
STALE_CHANGES = {
    # evaluation code: every run re-evaluated, nothing retrained
    "evaluation code": (
        ("core/planning",),
        {"train": "skipped", "evaluate": "redone"},
        "code or library versions changed",
        True,
    ),
    # training code: everything retrains (and so is evaluated again)
    "training code": (
        ("learn/trunk",),
        {"train": "redone", "evaluate": "redone"},
        "code or library versions changed",
        False,
    ),
    # an evaluation setting
    "evaluation setting": (
        ("config", '"n_plan": 40', '"n_plan": 41'),
        {"train": "skipped", "evaluate": "redone"},
        "evaluation settings changed",
        False,
    ),
    # a training setting
    "training setting": (
        ("config", '"steps": 60', '"steps": 61'),
        {"train": "redone", "evaluate": "redone"},
        "configuration changed",
        True,
    ),
    # a library version: a dist-info that shadows jinja2's with another version
    "library version": (
        None,
        {"train": "redone", "evaluate": "redone"},
        "code or library versions changed",
        False,
    ),
}


@pytest.mark.parametrize("change", list(STALE_CHANGES))
def test_changes_redo_exactly_the_dependent_stages(tmp_path, stale_setup, change):
    """The dry run names what each change makes stale, and why; two of the changes (one that
    only re-evaluates, one that retrains) are then carried out, and the real run redoes
    exactly what the dry run said. The dry and the real run decide each run and stage with
    the same functions (repro.pipeline.runs, repro.pipeline.stages)."""
    run, edit, env = stale_setup
    where, expected, why, real = STALE_CHANGES[change]
    if where is None:
        fake = tmp_path / "fake"
        (fake / "jinja2-0.0.1.dist-info").mkdir(parents=True)
        (fake / "jinja2-0.0.1.dist-info/METADATA").write_text("Name: jinja2\nVersion: 0.0.1\n")
        env = {**env, "PYTHONPATH": f"{fake}{os.pathsep}{env['PYTHONPATH']}"}
    else:
        edit(*where)
    planned, said = run(env, dry=True)
    assert {k: planned[k] for k in expected} == expected, said
    first = "train" if expected["train"] == "redone" else "evaluate"
    assert f"  fixed/supervised-normal__s0: {why}" in said.split(f"\n{first}: ", 1)[1], said
    count("g. stale cache: dry run named exactly the dependent stages", 1)
    if real:
        stages, _ = run(env)
        assert {k: stages[k] for k in expected} == expected
        # A later stage may find its inputs unchanged after all (the dry run cannot know
        # that before they are made): the run redoes what was planned, never more.
        assert all(planned[k] == "redone" for k, v in stages.items() if v == "redone"), stages
        count("g. stale cache: change redid exactly the dependent stages", 1)
