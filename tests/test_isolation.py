"""No test can touch the committed results: REPRO_RESULTS is a fresh temporary folder per test.

The autouse fixture ``_isolated_results`` (tests/conftest.py) sets it; these tests write
through the project's own code (the atomic JSON writer, the CLI's ``train`` and
``evaluate`` in-process, a ``python -m repro`` subprocess) without setting anything
themselves, and check that the committed ``results/`` (and the README and PDF that
paper-scale runs rewrite) did not change by a byte, while the files landed in the
temporary folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from repro import paths
from repro.cli import main as cli_main
from repro.io import read_json, write_json

COMMITTED = paths.PROJECT / "results"


def snapshot() -> dict[str, tuple]:
    """Every entry under results/ (and README.md, paper/report.pdf): size, mtime, sha256."""
    entries: dict[str, tuple] = {}
    files = [paths.PROJECT / "README.md", paths.PROJECT / "paper/report.pdf"]
    files += sorted(COMMITTED.rglob("*")) if COMMITTED.exists() else []
    for p in files:
        if not p.exists():
            continue
        st = p.stat()
        digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        entries[str(p.relative_to(paths.PROJECT))] = (st.st_size, st.st_mtime_ns, digest)
    return entries


def test_results_folder_is_a_fresh_temporary_folder(_isolated_results, root):
    assert paths.chosen_results() == Path(os.environ["REPRO_RESULTS"]) == _isolated_results
    assert root == _isolated_results
    assert root.is_dir() and not any(root.iterdir())
    assert not root.resolve().is_relative_to(COMMITTED.resolve())
    assert not root.resolve().is_relative_to(paths.PROJECT.resolve())
    # Not the default folder: the PDF goes inside it, never to the committed paper/report.pdf.
    assert not paths.is_default(root) and paths.report_pdf(root).is_relative_to(root)


def test_each_test_gets_its_own_folder(_isolated_results, tmp_path):
    """Not the test's own tmp_path (a test may fill that itself)."""
    assert not _isolated_results.is_relative_to(tmp_path)
    assert not tmp_path.is_relative_to(_isolated_results)


@pytest.mark.parametrize("n", [0, 1])
def test_no_test_sees_another_tests_files(n, root):
    marker = root / "marker.json"
    assert not marker.exists()
    write_json(marker, n)


def test_writes_without_a_setting_of_its_own_never_reach_committed_results(_isolated_results):
    before = snapshot()
    assert before, "the committed results folder should exist in a checkout"

    # The atomic writer, through the project's own path helpers.
    write_json(paths.summary_file(paths.chosen_results()), {"isolation": True})
    assert read_json(_isolated_results / "summary.json") == {"isolation": True}

    # The command line, in this process: a smoke training and its evaluation. Its run id
    # is one of the committed paper-scale runs, the very folder a stray test once overwrote.
    run = "fixed/supervised-normal__s0"
    train = ["train", "--config", "supervised-normal", "--regime", "fixed", "--scale", "smoke"]
    assert cli_main(train) == 0
    assert cli_main(["evaluate", "--run", run, "--scale", "smoke"]) == 0
    assert (_isolated_results / "runs" / run / "model.pt").is_file()
    metrics = json.loads((_isolated_results / "runs" / run / "metrics.json").read_text())
    assert metrics  # written here, by the evaluation just run

    # A subprocess inherits the variable: its writes land in the same temporary folder.
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from repro.io import write_json; from repro.paths import chosen_results, timings_file;"
            "write_json(timings_file(chosen_results()), {'child': True}); print(chosen_results())",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=paths.PROJECT,
    )
    assert Path(out.stdout.strip()) == _isolated_results
    assert read_json(_isolated_results / "timings.json") == {"child": True}

    assert snapshot() == before


def test_a_test_may_still_choose_its_own_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("REPRO_RESULTS", str(tmp_path / "mine"))
    write_json(paths.summary_file(paths.chosen_results()), {"mine": True})
    assert read_json(tmp_path / "mine" / "summary.json") == {"mine": True}


def test_only_the_command_line_reads_the_results_variable():
    """The results folder is chosen once, where a command starts, and passed down as an
    argument: no module but repro.paths (whose chosen_results the command lines call) names
    the variable, to read it or to set it."""
    import ast

    for path in sorted(paths.PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        named = [
            n for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value == "REPRO_RESULTS"
        ]
        assert not named or path == paths.PACKAGE / "paths.py", path
