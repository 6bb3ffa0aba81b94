"""Issue 8's pieces: variant names, the ablation list, the quadrant split, snapshot
evaluation, the integer gap, the summary's new sections and the report's sentences."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from repro.config import (
    ABLATIONS,
    REGIMES,
    VARIANT_FIELDS,
    RunConfig,
    ablation_configs,
    make_config,
    make_eval_config,
)
from repro.core.data import make_dataset
from repro.core.maze import quadrant
from repro.core.metrics import integer_gap, trajectory_spearman
from repro.core.planning import PlanStats
from repro.evaluation.evaluate import (
    ModelScorer,
    eval_dataset,
    evaluate_run,
    quadrant_metrics,
    same_quadrant,
    snapshot_metrics,
)
from repro.learn.methods import run_cost
from repro.learn.runfiles import load_model
from repro.learn.train import train
from repro.report.ablation_facts import compare
from repro.report.ablations import measurable, on_seeds
from repro.results.view import Entry

# ---------------------------------------------------------------------------- configuration


def test_paper_configurations_keep_their_run_ids():
    c = make_config("contrastive-normal", "fixed", 2, "paper")
    assert c.variant == "" and c.run_id == "fixed/contrastive-normal__s2"


def test_variants_get_their_own_folders():
    ids = {c.run_id for c in ablation_configs("paper")}
    assert "fixed/contrastive-normal+gamma0.98__s0" in ids
    assert "procedural/contrastive-normal+forward+repeat4__s0" in ids
    assert "fixed/supervised-normal+classification__s0" in ids
    paper = {make_config(n, r, 0).run_id for n in ("contrastive-normal",) for r in REGIMES}
    assert not ids & paper  # no variant trains into a paper-setting run's folder


def test_ablation_list_covers_the_issue():
    configs = ablation_configs("paper", 1)
    per_regime = len(configs) // len(REGIMES)
    # gamma x 2 datasets, 5 direction/repeat variants beside the default, 1 head.
    assert per_regime == 2 + 5 + 1 == sum(len(v) for v in ABLATIONS.values())
    combos = {
        (c.direction, c.repeat) for c in configs if c.gamma == 0.9 and c.method == "contrastive"
    }
    assert combos == {(d, r) for d in ("backward", "forward", "symmetric") for r in (1, 4)} - {
        ("backward", 1)
    }
    assert {c.gamma for c in configs if c.method == "contrastive"} == {0.9, 0.98}
    assert {c.dataset for c in configs if c.gamma == 0.98} == {"normal", "stitching"}
    assert len(ablation_configs("paper", 3)) == 3 * len(configs)
    assert ablation_configs("paper") == ablation_configs("paper", 3)  # 3 seeds at paper scale
    assert ablation_configs("smoke", 0) == []


def test_a_training_unit_rebuilds_its_run_from_the_config_json_it_is_given(tmp_path):
    from repro.cli import config_file
    from repro.pipeline.runs import train_unit
    from repro.studies.family.cells import cells, trained_configs
    from repro.studies.study import Placed

    family = [c for cell in cells("smoke") for c in trained_configs("smoke", cell)]
    assert {c.size for c in family} == {6, 8}  # the family's sizes reach the unit
    for c in ablation_configs("smoke") + family:
        argv = train_unit(Placed(tmp_path, c, c.run_id), False, 1).argv
        assert "--set" not in argv and argv[:2] == ("--results", str(tmp_path))
        path = Path(argv[argv.index("--config-file") + 1])
        assert path == tmp_path / "runs" / c.run_id / "config.json"
        assert config_file(path) == c


@given(
    gamma=st.sampled_from([0.9, 0.5, 0.98]),
    direction=st.sampled_from(["backward", "forward", "symmetric"]),
    repeat=st.sampled_from([1, 2, 4]),
    head=st.sampled_from(["regression", "classification"]),
)
def test_variant_names_are_unique(gamma, direction, repeat, head):
    a = RunConfig(gamma=gamma, direction=direction, repeat=repeat, head=head)
    defaults = RunConfig()
    changed = [f for f in VARIANT_FIELDS if getattr(a, f) != getattr(defaults, f)]
    assert a.variant.count("+") == len(changed)
    if changed:
        b = RunConfig(**{**a.to_dict(), changed[0]: getattr(defaults, changed[0])})
        assert b.run_id != a.run_id


def test_longest_runs_are_scheduled_first():
    configs = [
        make_config(n, r, 0) for n in ("supervised-normal", "contrastive-normal") for r in REGIMES
    ]
    order = sorted(configs, key=run_cost, reverse=True)
    assert order[0].method == "contrastive" and order[0].regime == "procedural"
    assert order[-1].method == "supervised" and order[-1].regime == "fixed"


# ---------------------------------------------------------------------------- quadrant split


def test_same_quadrant_by_hand():
    ds = make_dataset("test", 60, 3, 8, "fixed")
    same = same_quadrant(ds)
    for i in range(len(ds)):
        path = ds.path(i)
        assert same[i] == (quadrant(path[0], 8) == quadrant(path[-1], 8))
    stitching = make_dataset("stitching", 30, 3, 8, "fixed")
    assert same_quadrant(stitching).all()


def test_quadrant_halves_partition_the_metrics():
    ds = make_dataset("test", 50, 4, 8, "fixed")
    rng = np.random.default_rng(0)
    rho = rng.uniform(-1, 1, len(ds))
    solved = rng.random(len(ds)) < 0.5
    expanded = rng.integers(1, 30, len(ds))
    stats = {
        "search": PlanStats(solved, expanded, np.where(solved, ds.lengths, -1), expanded + 2),
        "greedy": PlanStats(~solved, expanded, np.where(~solved, ds.lengths, -1), expanded),
    }
    q = quadrant_metrics(rho, ds, stats, ds)
    n_same, n_cross = q["same"]["n_test"], q["cross"]["n_test"]
    assert n_same + n_cross == len(ds) and n_same > 0 and n_cross > 0
    pooled = (n_same * q["same"]["spearman_full"] + n_cross * q["cross"]["spearman_full"]) / len(ds)
    assert pooled == pytest.approx(rho.mean())
    rate = (
        n_same * q["same"]["search"]["solved_rate"] + n_cross * q["cross"]["search"]["solved_rate"]
    )
    assert rate / len(ds) == pytest.approx(solved.mean())


# ---------------------------------------------------------------------------- integer gap


def test_integer_gap_by_hand():
    walls = np.zeros((1, 2, 2), dtype=bool)
    walls[0, 1, 1] = True
    maps = np.array([[[1.0, 2.5], [3.25, np.inf]]])  # the wall's inf is ignored
    assert integer_gap(maps, walls) == pytest.approx((0 + 0.5 + 0.25) / 3)
    with pytest.raises(ValueError):
        integer_gap(np.full((1, 2, 2), np.nan), walls)


@given(st.lists(st.integers(-50, 50), min_size=1, max_size=20), st.floats(0, 0.49))
def test_integer_gap_of_shifted_integers(values, shift):
    maps = np.array(values, dtype=np.float64)[None, None] + shift
    assert integer_gap(maps, np.zeros_like(maps, dtype=bool)) == pytest.approx(shift)


# ---------------------------------------------------------------------------- snapshots


@pytest.fixture
def trained(tmp_path):
    config = make_config("supervised-normal", "fixed", 0, "smoke")
    run = tmp_path / "runs" / config.run_id
    train(config, run, progress=False)
    return config, run


def test_snapshot_evaluation_matches_the_full_evaluation(trained):
    config, run = trained
    ev = make_eval_config("smoke")
    m = evaluate_run(run, ev, run.parents[2])
    steps = [r["step"] for r in m["training_length"]]
    assert steps == list(range(config.snapshot_every, config.steps + 1, config.snapshot_every))
    last = m["training_length"][-1]  # the last snapshot is the final model
    assert last["spearman_full"] == pytest.approx(m["spearman"]["full"]["mean"])
    assert last["spearman_paper"] == pytest.approx(m["spearman"]["paper"]["mean"])
    for mode in ("search", "greedy"):
        assert last[f"{mode}_solved"] == m["planning"][mode]["solved_rate"]
        assert last[f"{mode}_expanded"] == pytest.approx(m["planning"][mode]["mean_expanded"])
    first = m["training_length"][0]
    assert first != last  # the earlier weights differ, and so do their numbers
    halves = m["by_quadrant"]
    assert halves["same"]["n_test"] + halves["cross"]["n_test"] == ev.n_test


def test_snapshot_metrics_of_one_snapshot_by_hand(trained):
    config, run = trained
    ev = make_eval_config("smoke")
    name = f"step_{config.snapshot_every:07d}.pt"
    model, _ = load_model(run, snapshot=name)
    root = run.parents[2]
    test, plan = eval_dataset("test", config, ev, root), eval_dataset("plan", config, ev, root)
    out = snapshot_metrics(ModelScorer(model, config), test, plan, ev)
    d = [
        model.distance(
            None,
            torch.from_numpy(p[:, 0] * config.size + p[:, 1]),
            torch.full((len(p),), int(p[-1][0] * config.size + p[-1][1])),
        )
        .detach()
        .double()
        .numpy()
        for p in (test.path(i) for i in range(len(test)))
    ]
    rho, _ = trajectory_spearman(d, test.lengths)
    assert out["spearman_full"] == pytest.approx(rho.mean())


def test_damaged_snapshot_is_refused(trained):
    _, run = trained
    snap = sorted((run / "snapshots").glob("step_*.pt"))[0]
    snap.write_bytes(snap.read_bytes()[:-4] + b"abcd")
    with pytest.raises(ValueError, match="does not match the hash"):
        load_model(run, snapshot=snap.name)
    with pytest.raises(ValueError, match="missing"):
        load_model(run, snapshot="step_9999999.pt")


# ---------------------------------------------------------------------------- report text


def test_a_fact_with_one_seed_respects_the_seed_spread():
    assert compare([0.51], [0.50], 0.05)["sign"] == 0  # +0.01 within the spread 0.05
    fact = compare([0.70], [0.50], 0.05)
    assert fact["sign"] == 1 and fact["said"] == (
        "from 0.500 to 0.700, a paired difference of +0.200 (one seed)"
    )
    assert compare([0.30], [0.50], 0.05)["sign"] == -1
    assert compare([None], [0.5], 0.0)["sign"] is None


def test_a_fact_pairs_seeds_and_needs_an_interval_that_excludes_zero():
    # Paired differences +0.10, +0.12, +0.11: mean 0.11, sd 0.01, t(2) = 4.303:
    # half-width 4.303 * 0.01 / sqrt(3) = 0.0248 -> [0.085, 0.135], a change.
    fact = compare([0.60, 0.72, 0.61], [0.50, 0.60, 0.50], 0.3)
    assert fact["said"] == "from 0.533 to 0.643, a paired difference of +0.110 [+0.085, +0.135]"
    assert fact["short"] == "+0.110 [+0.085, +0.135]" and fact["sign"] == 1
    # The same mean difference with seeds that disagree (+0.40, -0.10, +0.03): no change.
    assert compare([0.90, 0.50, 0.53], [0.50, 0.60, 0.50], 0.0)["sign"] == 0
    # A seed missing on either side is left out of the pairing, not read as a number: two
    # pairs, +0.10 and +0.12, t(1) = 12.706: half-width 0.127 -> [-0.017, +0.237].
    fact = compare([0.60, None, 0.72], [0.50, 0.1, 0.60], 0.3)
    assert fact["short"] == "+0.110 [-0.017, +0.237]" and fact["sign"] == 0
    assert measurable([0.60, 0.72, 0.61], [0.50, 0.60, 0.50], 0.3) == 1
    assert measurable([0.90, 0.50, 0.53], [0.50, 0.60, 0.50], 0.0) == 0
    assert measurable([0.2], [0.9], 0.05) == -1 and measurable([None], [0.9], 0.05) == 0


def test_paired_difference_reference():
    from scipy import stats

    from repro.core.metrics import paired_difference

    new, old = np.array([0.3, 0.5, 0.4, 0.45]), np.array([0.2, 0.2, 0.35, 0.3])
    d = new - old
    ref = stats.ttest_rel(new, old).confidence_interval(0.95)  # scipy's own paired t-test
    mean, low, high = paired_difference(new, old)
    assert mean == pytest.approx(d.mean())
    assert (low, high) == pytest.approx((ref.low, ref.high))
    mean, low, high = paired_difference([0.5], [0.2])
    assert mean == pytest.approx(0.3) and np.isnan(low) and np.isnan(high)


def test_on_seeds_picks_the_shared_seeds():
    agg = {"mean": 0.5, "std": 0.4, "min": 0.1, "max": 0.9, "values": [0.1, 0.5, 0.9]}
    entry = Entry("fixed", "x", "config", {"seeds": [0, 1, 2], "metrics": {"m": agg}})
    assert on_seeds(entry, "m", [0]) == 0.1
    assert on_seeds(entry, "m", [1, 2]) == pytest.approx(0.7)
    assert on_seeds(entry, "m", [5]) is None and on_seeds(None, "m", [0]) is None


def test_summary_has_the_ablation_sections(tmp_path):
    """A tiny pipeline: one paper run, one variant, evaluated and summarised."""
    from repro.evaluation.evaluate import evaluate_baselines
    from repro.results.summary import build_summary

    ev = make_eval_config("smoke")
    for sets in ({}, {"head": "classification"}):
        c = make_config("supervised-normal", "fixed", 0, "smoke", sets)
        train(c, tmp_path / "runs" / c.run_id, progress=False)
        evaluate_run(tmp_path / "runs" / c.run_id, ev, tmp_path)
    evaluate_baselines(c, ev, tmp_path)
    s = build_summary(tmp_path, "smoke", [0], [0])
    json.dumps(s, allow_nan=False)
    assert s["ablation_seeds"] == [0]
    head = s["ablations"]["studies"]["head"][0]
    assert head["run"] == "supervised-normal+classification"
    var = s["ablations"]["runs"]["fixed"]["supervised-normal+classification"]
    assert var["config"]["head"] == "classification"
    tl = s["runs"]["fixed"]["supervised-normal"]["training_length"]
    assert tl["steps"][-1] == c.steps and len(tl["metrics"]["spearman_full"]) == len(tl["steps"])
    m = s["runs"]["fixed"]["supervised-normal"]["metrics"]
    assert m["n_test_same"]["mean"] + m["n_test_cross"]["mean"] == ev.n_test
    assert 0 <= m["integer_gap"]["mean"] <= 0.5
