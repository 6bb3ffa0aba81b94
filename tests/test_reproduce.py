"""The whole pipeline at smoke scale: one command to the PDF, cached reruns, the PDF's tables."""

import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import NO_ABLATIONS, copy_results, exclusive, smoke_argv
from repro.config import CONFIGS

pytestmark = pytest.mark.slow


def reproduce(results, *args, path=None, quick=False):
    """A smoke reproduce (conftest.smoke_argv) on the results folder ``results``."""
    env = {**os.environ, "REPRO_RESULTS": str(results)}
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        smoke_argv(*args, quick=quick),
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )


@pytest.fixture
def smoke_built(shared_folder, smoke_reference):
    """One ``reproduce --scale smoke`` (ablations included), run once per session, and what
    it printed and wrote.

    It starts from the trained and evaluated paper-setting runs of the session's smoke
    reference (``reproduce --ablation-seeds 0`` from an empty folder, tests/conftest.py,
    compared byte for byte with a second one in tests/test_faults.py) and nothing else, so
    this one command trains and evaluates the 16 ablation runs and writes the baselines,
    summary, figures, report and timings itself (the maze-family study comes from the
    reference too).

    Returns the results folder and the record; tests use it through ``smoke``.
    """

    def build(path: Path) -> None:
        results = path / "results"
        for part in ("runs", "instances", "family"):
            shutil.copytree(smoke_reference / part, results / part)
        out = reproduce(results)
        record = {
            "returncode": out.returncode,
            "stdout": out.stdout,
            "output": out.stdout + out.stderr,
            # What the command wrote, as it was right after it (later tests rerun it).
            "files": sorted(str(p.relative_to(results)) for p in results.rglob("*")),
            "timings": json.loads((results / "timings.json").read_text())
            if out.returncode == 0
            else None,
        }
        (path / "build.json").write_text(json.dumps(record))

    path = shared_folder("smoke-with-ablations", build)
    record = json.loads((path / "build.json").read_text())
    assert record["returncode"] == 0, record["output"]
    return path / "results", record


@pytest.fixture
def smoke(smoke_built):
    """The shared smoke pipeline, for this test alone: the tests that use it run on any
    pytest-xdist worker, in any order, one at a time (each holds its lock); one that
    changes it (a lost metrics file) leaves it as it found it, a cached one-seed pipeline."""
    with exclusive(smoke_built[0]):
        yield smoke_built


@pytest.mark.early  # under xdist, started first: the other tests here wait for its folder
def test_smoke_builds_everything(smoke):
    _, built = smoke
    # The paper-setting runs came trained and evaluated; everything else is this command's.
    assert "train: all 12 runs up to date (skipped)" in built["stdout"]
    assert "ablations: 16 of 16 runs to train" in built["stdout"]
    assert "ablations: 16 of 16 runs to evaluate" in built["stdout"]
    files = set(built["files"])
    for rel in (
        "summary.json",
        "summary.csv",
        "baselines.json",
        "timings.json",
        "report/report.pdf",
        "figures/fig2_heatmaps.png",
    ):
        assert rel in files, rel
    metrics = [f for f in files if re.fullmatch(r"runs/[^/]+/[^/]+__s0/metrics\.json", f)]
    assert len(metrics) == 12 + 16  # 12 main runs (the paper's 4 and the strict pair), 16 ablations
    timings = built["timings"]["stages_s"]
    assert set(timings) == {
        "train",
        "evaluate",
        "ablations",
        "family",
        "summary",
        "figures",
        "report",
        "total",
    }


def test_smoke_has_the_family_study_and_every_planner(smoke):
    results, _ = smoke
    summary = json.loads((results / "summary.json").read_text())
    cells = {(c["size"], c["loop_prob"]): c for c in summary["family"]}
    assert sorted(cells) == [(6, 0.0), (6, 0.1), (8, 0.0), (8, 0.1)]
    assert cells[(8, 0.1)]["main"] and not cells[(6, 0.1)]["main"]
    for key in ((6, 0.1), (8, 0.1)):  # trained: the four configurations, in the fixed regime
        assert sorted(cells[key]["runs"]) == sorted(CONFIGS), key
    for key, c in cells.items():  # every family's baselines, both regimes
        assert sorted(c["baselines"]) == ["fixed", "procedural"], key
    # The size-6 family really trained at size 6, in a folder of its own.
    run = results / "family/size6-lp0.1/runs/fixed/supervised-normal__s0"
    assert json.loads((run / "config.json").read_text())["config"]["size"] == 6
    entry = summary["runs"]["fixed"]["supervised-normal"]["metrics"]
    for planner in ("search", "greedy", "greedy_descent", "greedy_revisit"):
        assert entry[f"{planner}_solved"]["mean"] is not None, planner
    assert entry["search_generated"]["mean"] >= entry["search_expanded"]["mean"]
    assert entry["spearman_paper_p5"]["mean"] <= entry["spearman_paper_p95"]["mean"]
    assert {c["id"] for c in summary["claims"]} >= {"C8", "C9"}


def test_pdf_has_the_four_tables_with_paper_and_our_numbers(smoke):
    assert shutil.which("pdftotext"), "needs poppler-utils (pdftotext; .ci/run installs it)"
    results, _ = smoke
    text = subprocess.run(
        ["pdftotext", "-layout", str(results / "report/report.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for caption in (
        "Table 1: Hyper-parameters",
        "Table 2: Spearman",
        "Table 3: Planning",
        "Table 4: The paper",
    ):
        assert caption in text
    for paper_value in ("0.807", "0.939", "0.848", "0.470", "46.735", "66.56", "0.3025", "0.14"):
        assert paper_value in text  # as the paper prints them
    summary = json.loads((results / "summary.json").read_text())
    ours = summary["runs"]["fixed"]["supervised-normal"]["metrics"]["spearman_full"]["mean"]
    assert f"{ours:.3f}" in text
    for claim in ("C1", "C2", "C3", "C4", "C4x", "C5", "C6", "C7", "C8", "C9"):
        assert claim in text
    # Where the paper's numbers come from (issue 14), then the ablations (issue 8): their
    # tables, figures and numbers from the summary.
    flat = " ".join(text.split())
    for caption in (  # by caption, whatever number a new table before it gives it
        "Table N: Greedy descent under the three rules",
        "Table N: The maze family",
        "Figure N: Planning against maze size",
        "Table N: The paper",  # ... Spearman protocol, re-drawn (a typographic apostrophe)
        "Table N: Training length",
        "Table N: Contrastive discount",
        "Table N: Contrastive InfoNCE direction",
        "Table N: Supervised head",
        "Table N: Every model and baseline",
        "Table N: What each training set shows the model",
        "Table N: Full-test Spearman on cross-quadrant test trajectories",
        "Table N: Wall use",
        "Figure N: Training length",
        "Figure N: Supervised model, regression against classification",
    ):
        assert re.search(re.escape(caption).replace("N:", "[0-9]+:"), flat), caption
    forward = summary["ablations"]["runs"]["procedural"]["contrastive-normal+forward"]
    assert f"{forward['metrics']['all_pairs']['mean']:.3f}" in text
    cross = summary["runs"]["fixed"]["contrastive-stitching"]["metrics"]["spearman_full_cross"]
    assert f"{cross['mean']:.3f}" in text
    verdicts = {r["verdict"] for c in summary["claims"] for r in c["regimes"].values()}
    # one seed: never undecided; a smoke model may not learn, and the PDF then says so
    assert verdicts <= {"holds", "partly", "fails", "not testable"} and verdicts
    if "not testable" in verdicts:  # Table 4's cell: "... (did not learn; ...): not testable"
        assert "): not testable" in " ".join(text.split())


def _files(folder):
    """Every file under ``folder``: (size, mtime, sha256)."""
    return {
        str(p.relative_to(folder)): (
            p.stat().st_size,
            p.stat().st_mtime_ns,
            hashlib.sha256(p.read_bytes()).hexdigest(),
        )
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_second_run_redoes_nothing(smoke):
    """... and writes nothing: not a byte, not an mtime (timings.json included), so a rerun of
    the committed results leaves the git tree clean."""
    results, _ = smoke
    before = _files(results)
    out = reproduce(results)
    assert _files(results) == before
    assert out.returncode == 0, out.stderr
    assert "train: all 12 runs up to date (skipped)" in out.stdout
    assert "evaluate: all 12 runs up to date (skipped)" in out.stdout
    for stage in ("summary", "figures", "report"):
        assert f"{stage}: up to date (skipped)" in out.stdout


def test_lost_metrics_redo_only_that_run(smoke):
    results, _ = smoke
    before = (results / "summary.json").read_bytes()
    (results / "runs/fixed/contrastive-normal__s0/metrics.json").unlink()
    out = reproduce(results)
    assert out.returncode == 0, out.stderr
    assert "train: all 12 runs up to date (skipped)" in out.stdout
    assert "evaluate: 1 of 12 runs to evaluate" in out.stdout
    # The same model gives the same metrics, so nothing downstream changes.
    assert "summary: up to date (skipped)" in out.stdout
    assert (results / "summary.json").read_bytes() == before


def test_added_seed_trains_only_new_runs(quick_reference, tmp_path):
    # The ablations play no part here: a copy of the session's pipeline without them.
    # (The report is left out: what a seed changes in it is the summary's, checked here.)
    results = copy_results(quick_reference, tmp_path / "results")
    out = reproduce(results, "--seeds", "2", *NO_ABLATIONS, "--no-pdf", quick=True)
    assert out.returncode == 0, out.stderr
    assert "train: 12 of 24 runs to train" in out.stdout
    assert "evaluate: 12 of 24 runs to evaluate" in out.stdout
    summary = json.loads((results / "summary.json").read_text())
    assert summary["seeds"] == [0, 1]
    # Back to one seed: nothing to train or evaluate, only the summary to redo.
    out = reproduce(results, *NO_ABLATIONS, "--no-pdf", "--dry-run", quick=True)
    assert out.returncode == 0, out.stderr
    assert "train: all 12 up to date" in out.stdout and "evaluate: all 12 up to date" in out.stdout
    assert "summary: would run: settings changed" in out.stdout


def test_without_tex_everything_else_is_written_with_no_pdf(tmp_path, quick_reference):
    results = tmp_path / "results"
    # The trained and evaluated runs of a smoke pipeline (tests/conftest.py); all that
    # comes after them, which this run must write itself, left out.
    shutil.copytree(
        quick_reference,
        results,
        ignore=shutil.ignore_patterns("summary.*", "baselines.json", "figures", "report", "cache"),
    )
    for rel in ("summary.json", "figures", "cache", "report", "baselines.json"):
        assert not (results / rel).exists()
    bare = tmp_path / "bin"
    bare.mkdir()
    out = reproduce(results, *NO_ABLATIONS, "--no-pdf", path=str(bare), quick=True)
    assert out.returncode == 0, out.stderr
    assert "report: not built (--no-pdf)" in out.stdout
    assert "train: all 12 runs up to date (skipped)" in out.stdout
    assert (results / "summary.json").exists()
    assert (results / "baselines.json").exists()
    assert (results / "figures/fig1_trajectories.pdf").exists()
    assert not (results / "report").exists()


def test_without_tex_it_stops_before_any_work(tmp_path):
    """No latexmk and no --no-pdf: one line naming the script that installs TeX, exit 2,
    before anything is written (not after an hour of training)."""
    results = tmp_path / "results"
    bare = tmp_path / "bin"
    bare.mkdir()
    out = reproduce(results, *NO_ABLATIONS, path=str(bare), quick=True)
    assert out.returncode == 2
    assert out.stderr.startswith("error: latexmk not found")
    assert "scripts/system-deps.sh report" in out.stderr and "--no-pdf" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert not results.exists()
