"""The pipeline as a table: one cache-key scheme, and ``reproduce --dry-run`` saying what
would run and why while writing nothing."""

from __future__ import annotations

import os
import subprocess

from repro import cachekey
from repro.pipeline import reproduce
from repro.studies import registry

QUICK = dict(scale="smoke", n_ablation_seeds=0, skip_studies=("family",))


# ---------------------------------------------------------------------------- cache keys


def test_changes_name_each_part_that_differs():
    old = {"code": "a", "config": "b", "file:x.json": "1", "file:gone.json": "2"}
    new = {"code": "a", "config": "B", "file:x.json": "9", "file:new.json": "3"}
    assert cachekey.changes(old, new) == [
        "configuration changed",
        "x.json changed",
        "new.json is new",
        "gone.json is gone",
    ]
    assert cachekey.changes(new, dict(new)) == []
    assert cachekey.changes(None, new) == ["never made (or its record is unreadable)"]
    assert cachekey.changes({"code": "a", "odd": "1"}, {"code": "a", "odd": "2"}) == ["odd changed"]


def test_keys_hash_files_by_their_name_in_the_results_folder(tmp_path):
    for root in (tmp_path / "a", tmp_path / "b"):
        (root / "runs").mkdir(parents=True)
        (root / "runs" / "m.json").write_text("{}")
    a = cachekey.of_files([tmp_path / "a" / "runs" / "m.json"], tmp_path / "a")
    b = cachekey.of_files([tmp_path / "b" / "runs" / "m.json"], tmp_path / "b")
    assert a == b and list(a) == ["file:runs/m.json"]  # where the folder lies is not in it
    assert cachekey.digest(a) == cachekey.digest(dict(a))
    assert cachekey.digest(a) != cachekey.digest({"file:runs/m.json": "other"})


# ---------------------------------------------------------------------------- the table


def test_the_table_lists_every_stage_in_order_with_what_it_reads(root):
    stages = reproduce.stage_table(root, "smoke", 1, 1, 2, registry.select(), registry.select())
    names = [s.name for s in stages]
    assert names == ["train", "evaluate", "ablations", "family", "summary", "figures", "report"]
    whole = {s.name: s for s in stages if s.whole}
    assert list(whole) == ["summary", "figures", "report"]
    assert whole["summary"].needs == ("train", "evaluate", "ablations", "family")
    assert whole["report"].needs == ("summary", "figures")
    no_ablations = reproduce.stage_table(root, "smoke", 1, 0, 2, [], [])
    assert "ablations" not in [s.name for s in no_ablations]


def test_figures_are_dealt_into_one_batch_per_job():
    batches = reproduce.figure_batches
    assert batches(list("abcde"), 2) == [["a", "c", "e"], ["b", "d"]]
    assert batches(list("ab"), 4) == [["a"], ["b"]]  # never an empty process
    assert batches(list("abc"), 1) == [["a", "b", "c"]]
    assert batches([], 2) == []
    names = [f"fig{i}" for i in range(9)]
    dealt = batches(names, 4)
    assert sorted(n for b in dealt for n in b) == sorted(names) and len(dealt) == 4


# ---------------------------------------------------------------------------- --dry-run


def test_dry_run_from_nothing_writes_nothing_and_says_everything_would_run(
    tmp_path, monkeypatch, capsys
):
    empty = tmp_path / "results"
    empty.mkdir()
    assert reproduce.main(empty, **QUICK, dry_run=True) == 0
    out = capsys.readouterr().out
    assert list(empty.iterdir()) == []
    assert "train: 12 of 12 would train" in out
    assert "  fixed/supervised-normal__s0: not trained" in out
    assert "evaluate: 12 of 12 would be evaluated" in out
    assert "  procedural/contrastive-stitching__s0: after its training" in out
    assert "summary: would run: after train, evaluate" in out
    assert "report: would run: after summary, figures" in out
    assert "dry run: 5 of 5 stages would run" in out


def test_dry_run_names_what_changed_and_the_run_does_just_that(
    quick_reference, tmp_path, monkeypatch, capsys
):
    from conftest import copy_results

    results = copy_results(quick_reference, tmp_path / "results")
    assert reproduce.main(results, **QUICK, dry_run=True) == 0
    assert "dry run: 0 of 5 stages would run" in capsys.readouterr().out

    run = "procedural/contrastive-normal__s0"
    (results / "runs" / run / "metrics.json").unlink()
    (results / "figures" / "fig2_heatmaps.png").unlink()
    before = sorted(p for p in results.rglob("*"))
    assert reproduce.main(results, **QUICK, dry_run=True) == 0
    out = capsys.readouterr().out
    assert sorted(p for p in results.rglob("*")) == before  # nothing written
    assert "train: all 12 up to date" in out
    assert f"evaluate: 1 of 12 would be evaluated\n  {run}: not evaluated" in out
    assert "summary: would run: after evaluate" in out
    assert "figures: would run: after summary" in out
    assert "dry run: 4 of 5 stages would run (evaluate, summary, figures, report)" in out

    # The real run does what the dry run said.
    assert reproduce.main(results, **QUICK, with_pdf=False) == 0
    done = capsys.readouterr().out
    assert "train: all 12 runs up to date (skipped)" in done
    assert "evaluate: 1 of 12 runs to evaluate" in done
    assert (results / "figures" / "fig2_heatmaps.png").exists()

    # New training code: every run would train, and says why.
    monkeypatch.setattr("repro.cachekey.code_hash", lambda stage, **kw: f"new-{stage}")
    assert reproduce.main(results, **QUICK, dry_run=True) == 0
    out = capsys.readouterr().out
    assert "train: 12 of 12 would train" in out
    assert f"  {run}: code or library versions changed" in out


def test_dry_run_of_a_changed_input_file_names_the_file(
    quick_reference, tmp_path, monkeypatch, capsys
):
    from conftest import copy_results

    results = copy_results(quick_reference, tmp_path / "results")
    loss = results / "runs" / "fixed" / "supervised-normal__s0" / "loss.csv"
    loss.write_text(loss.read_text() + "\n")
    assert reproduce.main(results, **QUICK, dry_run=True) == 0
    out = capsys.readouterr().out
    assert "summary: would run: runs/fixed/supervised-normal__s0/loss.csv changed" in out
    assert "figures: would run: after summary" in out


def test_dry_run_from_the_command_line_needs_no_tex_and_exits_0(tmp_path):
    import sys

    env = {**os.environ, "REPRO_RESULTS": str(tmp_path), "PATH": os.path.dirname(sys.executable)}
    argv = [sys.executable, "-m", "repro", "reproduce", "--scale", "smoke", "-n"]
    out = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "would run" in out.stdout and list(tmp_path.iterdir()) == []


def test_a_config_file_unit_refuses_flags_that_would_change_it(tmp_path):
    import sys

    from repro.config import make_config
    from repro.pipeline.runs import write_config
    from repro.studies.study import Placed

    c = make_config("supervised-normal", "fixed", 0, "smoke")
    path = write_config(Placed(tmp_path, c, c.run_id))
    argv = [sys.executable, "-m", "repro", "--results", str(tmp_path), "train"]
    argv += ["--config-file", str(path), "--seed", "3"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "drop --seed" in out.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"config": {"name": "supervised-normal", "colour": 1}}')
    argv = [sys.executable, "-m", "repro", "--results", str(tmp_path), "train"]
    out = subprocess.run([*argv, "--config-file", str(bad)], capture_output=True, text=True)
    assert out.returncode == 2 and "bad.json" in out.stderr and "colour" in out.stderr
    assert "Traceback" not in out.stderr
