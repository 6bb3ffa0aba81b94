"""The study of a model that sees the maze (repro.studies.walls): its runs as declared, and
the whole study at smoke scale through reproduce, into the summary, a figure and the report."""

from __future__ import annotations

import pytest

from repro.config import SCALES, WALLS
from repro.io import read_json, write_json
from repro.pipeline import reproduce
from repro.studies import registry
from repro.studies.arms import arm_configs
from repro.studies.walls import placed
from repro.studies.walls.report import label

pytestmark = pytest.mark.slow


def test_the_arms_are_the_declared_runs():
    paper = {arm: arm_configs("paper", spec) for arm, spec in WALLS.items()}
    head = paper["headline"]
    assert sorted(c.run_id for c in head) == sorted(
        f"procedural/{m}_conv-normal__s{s}" for m in ("supervised", "contrastive") for s in range(3)
    )
    assert {c.steps for c in head} == {20_000} and {c.steps for c in paper["longer"]} == {60_000}
    assert {c.conv_arch for c in paper["recurrent"]} == {"recurrent"}
    assert {c.regime for c in paper["fixed"]} == {"fixed"} and len(paper["fixed"]) == 4
    assert {c.steps for c in paper["others"]} == {10_000}
    smoke = arm_configs("smoke", WALLS["longer"])
    assert {c.steps for c in smoke} == {3 * SCALES["smoke"].overrides["steps"]}
    assert len(arm_configs("paper", WALLS["headline"], seeds=1)) == 2  # --study-seeds 1
    labels = {r.label for r in placed(".", "paper")}
    assert len(labels) == sum(len(v) for v in paper.values())  # no two runs share a label


def test_labels_name_the_model():
    assert label("supervised_conv-normal+recurrent") == "Supervised, conv. field, normal, recurrent"
    assert label("contrastive-normal") == "Contrastive, normal"


def test_the_walls_study_runs_through_reproduce_at_smoke_scale(quick_reference, tmp_path, capsys):
    from conftest import copy_results

    results = copy_results(quick_reference, tmp_path / "results")
    kwargs = dict(root=results, scale="smoke", n_ablation_seeds=0, skip_studies=("family",),
                  studies=("walls",), study_seeds=1, with_pdf=False)  # fmt: skip
    assert reproduce.main(**kwargs) == 0
    out = capsys.readouterr().out
    assert "train: all 12 runs up to date (skipped)" in out  # the main study is untouched
    assert "walls: train: 12 of 12 runs to train" in out
    summary = read_json(results / "summary.json")
    arms = summary["walls"]["arms"]
    assert set(arms) == set(WALLS)
    head = arms["headline"]["runs"]["procedural"]
    assert set(head) == {"supervised_conv-normal", "contrastive_conv-normal"}
    e = head["supervised_conv-normal"]
    assert e["seeds"] == [0] and "walls_detour_spearman" in e["metrics"]
    assert e["training_length"]["steps"] == [30, 60]  # snapshots every 30 smoke steps
    assert "detour_spearman" in e["training_length"]["metrics"]
    assert "manhattan" in arms["headline"]["baselines"]["procedural"]
    assert (results / "figures" / "fig9_walls.pdf").exists()
    tex = registry.render(summary)
    assert r"\section{A model that sees the maze}" in tex and "tab:walls-study" in tex
    # A second run has nothing of it to redo; a damaged block is refused by its path.
    assert reproduce.main(**kwargs) == 0
    assert "walls: train: all 12 runs up to date (skipped)" in capsys.readouterr().out
    e["metrics"]["spearman_full"]["mean"] = "high"
    write_json(tmp_path / "bad.json", summary)
    from repro.errors import BadInput

    with pytest.raises(BadInput, match=r"walls\.arms\.headline\.runs"):
        registry.load_summary(tmp_path / "bad.json")
