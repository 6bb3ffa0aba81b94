"""The studies made of arms: the walls study (repro.studies.walls) and the stitching study
(repro.studies.stitching): their runs as declared, the stitching gap's rule by hand, and both
studies at smoke scale through one reproduce, into the summary, figures and the report."""

from __future__ import annotations

import pytest

from repro.config import SCALES, STITCHING, WALLS
from repro.io import read_json, write_json
from repro.pipeline import reproduce
from repro.results.view import as_summary
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
    assert {c.steps for c in head} == {20_000} and {c.steps for c in paper["longer"]} == {40_000}
    assert {c.conv_arch for c in paper["recurrent"]} == {"recurrent"}
    assert {c.regime for c in paper["fixed"]} == {"fixed"} and len(paper["fixed"]) == 4
    assert {c.steps for c in paper["others"]} == {5_000} == {c.steps for c in paper["recurrent"]}
    smoke = arm_configs("smoke", WALLS["longer"])
    assert {c.steps for c in smoke} == {2 * SCALES["smoke"].overrides["steps"]}
    assert len(arm_configs("paper", WALLS["headline"], seeds=1)) == 2  # --study-seeds 1
    labels = {r.label for r in placed(".", "paper")}
    assert len(labels) == sum(len(v) for v in paper.values())  # no two runs share a label


def test_labels_name_the_model():
    assert label("supervised_conv-normal+recurrent") == "Supervised, conv. field, normal, recurrent"
    assert label("contrastive-normal") == "Contrastive, normal"


def test_the_stitching_gap_is_paired_by_seed_and_closed_when_its_interval_holds_zero():
    from repro.results.view import Entry
    from repro.studies.stitching.report import closes, gap, learned

    def entry(values):
        agg = {"mean": sum(values) / len(values), "std": 0.0, "min": min(values),
               "max": max(values), "values": values}  # fmt: skip
        return Entry("fixed", "x", "config", {"seeds": [0, 1, 2],
                                              "metrics": {"spearman_cross_41+": agg}})  # fmt: skip

    normal = entry([0.9, 0.8, 0.85])
    # strict 0.1 below on every seed: gap +0.10, sd 0 -> interval [0.10, 0.10], a gap left
    g = gap(normal, entry([0.8, 0.7, 0.75]), "spearman_cross_41+")
    assert g[0] == pytest.approx(0.1) and g[3] == 3 and closes(g) is False
    # differences +0.2, -0.2, 0.0: mean 0, the interval holds zero: closed
    g = gap(normal, entry([0.7, 1.0, 0.85]), "spearman_cross_41+")
    assert abs(g[0]) < 1e-12 and closes(g) is True
    assert closes(gap(normal, None, "spearman_cross_41+")) is None
    # the gate: the normal model must reach 0.25 on every seed for a gap to say anything
    assert learned(normal) is True and learned(entry([0.9, 0.2, 0.9])) is False
    assert learned(None) is None


def test_each_learner_gets_one_verdict_and_its_checks_follow_it():
    from repro.results.view import Summary
    from repro.studies.stitching.report import (
        BY_KEY,
        CLOSED,
        LEFT,
        UNLEARNED,
        UNMEASURED,
        checks,
        rows,
        verdict,
    )  # fmt: skip

    def agg(values):
        return {"mean": sum(values) / len(values), "std": 0.0, "min": min(values),
                "max": max(values), "values": values, "n_seeds": len(values)}  # fmt: skip

    def run(values):
        return {"seeds": [0, 1, 2], "metrics": {"spearman_cross_41+": agg(values)}}

    arms = {
        "td": {"fixed": {"td-normal": run([0.9, 0.8, 0.85]),
                         "td-stitching-strict": run([0.7, 1.0, 0.85])}},  # closed
        "augment": {"fixed": {"supervised_aug-normal": run([0.9, 0.8, 0.85]),
                              "supervised_aug-stitching-strict": run([0.5, 0.4, 0.45])}},
        "mrn": {"fixed": {"contrastive_qm-normal+mrn": run([0.1, 0.0, 0.05]),
                          "contrastive_qm-stitching-strict+mrn": run([0.0, 0.0, 0.0])}},
    }  # fmt: skip
    block = {"arms": {a: {"runs": r, "baselines": {}} for a, r in arms.items()}}
    view = Summary.from_dict({"scale": "paper", "runs": {}, "baselines": {}, "stitching": block})
    found = {k: verdict(view, learner)[0] for k, learner in BY_KEY.items()}
    assert found["td"] == CLOSED and found["aug"] == LEFT and found["mrn"] == UNLEARNED
    assert found["sup"] == UNMEASURED  # the main study's runs are not in this summary
    c = checks()
    assert not c["stitch-gap-fixed"].test(view)[0]  # td closed, mrn not learned: not all left
    holds, numbers = c["stitch-aug-no-better"].test(view)
    assert not holds and numbers["aug - sup strict 41+ low"] is None  # sup not in it
    v = verdict(view, BY_KEY["aug"])[1]
    assert v["aug gap 41+"] == pytest.approx(0.4) and v["aug paired seeds"] == 3
    table = {r["key"]: r for r in rows(view)}
    assert set(table) == {"td", "aug", "mrn"} and table["aug"]["gap"].startswith("+0.40 [")


def test_short_path_gaps_are_read_like_strict_ones_and_their_checks_follow_them():
    from repro.results.view import Summary
    from repro.studies.stitching import section, short
    from repro.studies.stitching.report import BY_KEY, CLOSED, FIXED, LEFT, SHORT_DATA, verdict

    def agg(values):
        return {"mean": sum(values) / len(values), "std": 0.0, "min": min(values),
                "max": max(values), "values": values, "n_seeds": len(values)}  # fmt: skip

    def run(values):
        return {"seeds": [0, 1, 2], "metrics": {"spearman_cross_41+": agg(values)}}

    normal, strict = run([0.9, 0.8, 0.85]), run([0.3, 0.2, 0.25])  # strict gap +0.60
    kept, lost = run([0.7, 1.0, 0.85]), run([0.6, 0.5, 0.55])  # short gap 0 (closed), +0.30
    main = {"supervised-normal": normal, "supervised-stitching-strict": strict,
            "contrastive-normal": normal, "contrastive-stitching-strict": strict}  # fmt: skip
    arms = {"paper": {"fixed": {"supervised-short": lost, "contrastive-short": kept}}}
    for k in FIXED:
        learner = BY_KEY[k]
        if learner.arm != "main":
            arms[learner.arm] = {"fixed": {learner.normal: normal, learner.strict: strict,
                                           learner.short: kept if k == "td" else lost}}  # fmt: skip

    def view(arms):
        block = {"arms": {a: {"runs": r, "baselines": {}} for a, r in arms.items()}}
        return Summary.from_dict({"scale": "paper", "runs": {"fixed": main}, "baselines": {},
                                  "stitching": block})  # fmt: skip

    whole = view(arms)
    found = short.verdicts(whole)
    assert found == {k: CLOSED if k in ("con", "td") else LEFT for k in FIXED}
    v = verdict(whole, BY_KEY["sup"], SHORT_DATA)[1]
    assert v["sup short gap 41+"] == pytest.approx(0.3) and v["sup short 41+"] == pytest.approx(
        0.55
    )
    assert verdict(whole, BY_KEY["sup"])[1]["sup gap 41+"] == pytest.approx(
        0.6
    )  # strict: as before
    c = short.checks()
    assert short.complete(whole) and c["stitch-short-some-closed"].test(whole)[0]
    assert not c["stitch-short-some-closed:not"].test(whole)[0]
    holds, n = c["stitch-short-below-strict"].test(whole)
    assert (
        holds
        and n["td short gap 41+"] == pytest.approx(0.0)
        and n["td gap 41+"] == pytest.approx(0.6)
    )
    ctx = section(whole).context["sp"]
    assert ctx["closed_n"] == 2 and "TD distance" in ctx["closed"] and ctx["left_n"] == 5
    assert {r["key"] for r in ctx["rows"]} == set(FIXED)
    # every short model falls behind: no learner closes, and the opposite sentence holds
    arms["paper"]["fixed"]["contrastive-short"] = lost
    arms["td"]["fixed"]["td-short"] = lost
    none = view(arms)
    assert not c["stitch-short-some-closed"].test(none)[0]
    assert c["stitch-short-some-closed:not"].test(none)[0]
    # a short model as bad as the strict one: short paths do not cost every learner less
    arms["td"]["fixed"]["td-short"] = strict
    assert c["stitch-short-below-strict:not"].test(view(arms))[0]
    # one learner's short runs missing: the paragraph draws no conclusion, neither sentence holds
    del arms["td"]["fixed"]["td-short"]
    partial = view(arms)
    assert not short.complete(partial) and "td" not in short.verdicts(partial)
    assert not c["stitch-short-below-strict"].test(partial)[0]
    assert not c["stitch-short-below-strict:not"].test(partial)[0]


def test_the_stitching_arms_are_the_declared_learners():
    runs = {a: arm_configs("paper", spec) for a, spec in STITCHING.items()}
    assert {c.qm_head for c in runs["mrn"]} == {"mrn"} and len(runs["mrn"]) == 9
    assert {c.dataset for c in runs["td"]} == {"normal", "stitching-strict", "short"}
    fixed = [c for a, cs in runs.items() if a != "procedural" for c in cs]
    assert {c.regime for c in fixed} == {"fixed"} and {c.steps for c in fixed} == {20_000}
    # unseen mazes: the one learner that learns there, the convolutional field, 5,000 steps
    assert {(c.method, c.regime, c.steps) for c in runs["procedural"]} == {
        ("supervised_conv", "procedural", 5_000)
    }
    assert len(runs["procedural"]) == 9
    # the paper's learners on short paths (on normal and strict data: the main study's runs)
    assert sorted({c.name for c in runs["paper"]}) == ["contrastive-short", "supervised-short"]
    assert len(runs["paper"]) == 6


@pytest.mark.parametrize("scale", ["paper", "smoke"])
def test_short_paths_get_more_paths_so_the_data_hold_about_as_many_transitions(scale):
    from repro.config import PATHS_FACTOR, RunConfig, make_config

    base = SCALES[scale].overrides.get("n_trajectories", RunConfig.n_trajectories)
    normal = make_config("td-normal", "fixed", 0, scale)
    short = make_config("td-short", "fixed", 0, scale)
    assert normal.n_trajectories == base and PATHS_FACTOR["short"] == 5
    assert short.n_trajectories == 5 * base and short.dataset == "short"
    # a run's own --set is exact: the factor applies to the scale's count, not to it
    assert make_config("td-short", "fixed", 0, scale, {"n_trajectories": 7}).n_trajectories == 7
    assert make_config("supervised-short", "fixed", 0, scale).n_trajectories == 5 * base


def test_the_arm_studies_run_through_reproduce_at_smoke_scale(quick_reference, tmp_path, capsys):
    from conftest import copy_results

    results = copy_results(quick_reference, tmp_path / "results")
    kwargs = dict(root=results, scale="smoke", n_ablation_seeds=0, skip_studies=("family",),
                  studies=("walls:headline",), study_seeds=1,
                  with_pdf=False)  # fmt: skip
    assert reproduce.main(**kwargs) == 0  # first one part of the walls study: its headline
    out = capsys.readouterr().out
    assert "walls: train: 2 of 2 runs to train" in out
    assert set(read_json(results / "summary.json")["walls"]["arms"]) == {"headline"}
    kwargs["studies"] = ("walls", "stitching")  # then the whole: the headline is not redone
    assert reproduce.main(**kwargs) == 0
    out = capsys.readouterr().out
    assert "train: all 12 runs up to date (skipped)" in out  # the main study is untouched
    assert "walls: train: 7 of 9 runs to train" in out
    assert "stitching: train: 20 of 20 runs to train" in out
    block = read_json(results / "summary.json")["stitching"]["arms"]
    assert set(block) == set(STITCHING)
    assert set(block["mrn"]["runs"]["fixed"]) == {
        "contrastive_qm-normal+mrn",
        "contrastive_qm-stitching-strict+mrn",
        "contrastive_qm-short+mrn",
    }
    assert "spearman_cross_41+" in block["td"]["runs"]["fixed"]["td-normal"]["metrics"]
    assert (results / "figures" / "fig10_stitching.pdf").exists()
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
    assert "tab:walls-claims" in tex  # the claims judged on both architectures
    # every arm ran, so each has its paragraph and none is said to be pending
    for words in ("Twice the paper's length", "The fixed maze", "The other trunk"):
        assert rf"\paragraph{{{words}" in tex
    assert "have not been run yet" not in tex
    from repro.studies.walls.report import findings

    line = findings(as_summary(summary))
    assert len(line) == 1 and "distance field" in line[0] and "1 seed," in line[0]
    assert r"\section{Which learners stitch}" in tex and "tab:stitch-study" in tex
    assert "tab:stitch-short" in tex and "have not been run yet" not in tex  # short paths too
    assert set(block["paper"]["runs"]["fixed"]) == {"supervised-short", "contrastive-short"}
    # A second run has nothing of it to redo; a damaged block is refused by its path.
    assert reproduce.main(**kwargs) == 0
    again = capsys.readouterr().out
    assert "walls: train: all 9 runs up to date (skipped)" in again
    assert "stitching: train: all 20 runs up to date (skipped)" in again
    e["metrics"]["spearman_full"]["mean"] = "high"
    write_json(tmp_path / "bad.json", summary)
    from repro.errors import BadInput

    with pytest.raises(BadInput, match=r"walls\.arms\.headline\.runs"):
        registry.load_summary(tmp_path / "bad.json")
