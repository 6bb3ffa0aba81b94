"""The typed view of summary.json returns what the dict holds, and None where it holds nothing."""

import math

import pytest

from repro.config import CONFIGS, REGIMES
from repro.core.heuristics import BASELINES
from repro.io import read_json, write_json
from repro.paths import PROJECT
from repro.results.claims import check_claims
from repro.results.view import (
    Aggregate,
    Claim,
    Entry,
    Finding,
    LossCurve,
    Summary,
    as_summary,
    config_name,
    load_summary,
    short_name,
)

COMMITTED = PROJECT / "results" / "summary.json"


def agg(values):
    known = [v for v in values if v is not None]
    if not known:
        return {"mean": None, "std": None, "min": None, "max": None, "values": values}
    mean = sum(known) / len(known)
    std = math.sqrt(sum((v - mean) ** 2 for v in known) / (len(known) - 1)) if len(known) > 1 else 0
    return {"mean": mean, "std": std, "min": min(known), "max": max(known), "values": values}


def run_entry(spearman, seeds=(0, 1, 2)):
    """A configuration's entry: Spearman per seed, its bootstrap CI, curves, loss, snapshots."""
    return {
        "seeds": list(seeds),
        "metrics": {
            "spearman_full": agg(spearman),
            "spearman_full_low": agg([None if v is None else v - 0.1 for v in spearman]),
            "spearman_full_high": agg([None if v is None else v + 0.05 for v in spearman]),
        },
        "curves": {"search": [0.5, 1.0], "greedy": [0.1, 0.2]},
        "loss": {"step": [10.0, 20.0], "mean": [2.0, 1.5], "min": [1.9, 1.4], "max": [2.1, 1.6]},
        "training_length": {
            "steps": [10, 20],
            "metrics": {"spearman_full": [None, agg([0.4, 0.6, 0.5])]},
        },
        "examples": {"seed": seeds[0], "trajectories": [{"index": 0, "pred": [1.0], "true": [0]}]},
        "config": {"method": "supervised"},
    }


def summary_dict():
    runs = {
        "fixed": {name: run_entry([0.5 + 0.1 * k, 0.6, None]) for k, name in enumerate(CONFIGS)},
        "procedural": {"contrastive-normal": run_entry([0.2], seeds=(1,))},
    }
    return {
        "scale": "smoke",
        "seeds": [0, 1, 2],
        "ablation_seeds": [0],
        "paper": {
            "results": {"contrastive-normal": {"spearman": 0.848, "greedy_solved": 0.15}},
            "hyperparameters": {"lr": 3e-4},
            "n_spearman_trajectories": 10,
        },
        "runs": runs,
        "baselines": {"fixed": {b: {"metrics": {"spearman_full": agg([1.0])}} for b in BASELINES}},
        "ablations": {
            "studies": {
                "gamma": [
                    {"config": "contrastive-normal", "sets": {"gamma": 0.98}, "run": "cn+g"},
                ]
            },
            "runs": {"fixed": {"cn+g": run_entry([0.3], seeds=(0,))}, "procedural": {}},
        },
    }


# ---------------------------------------------------------------------------- Aggregate


def test_aggregate_reads_the_dict_and_skips_missing_seeds():
    a = Aggregate.from_dict(agg([0.2, None, 0.6]))
    assert (a.mean, a.min, a.max) == (pytest.approx(0.4), 0.2, 0.6)
    assert a.values == (0.2, None, 0.6) and a.n_seeds == 2
    assert a.spread() == pytest.approx(0.4)
    assert a.interval("range") == (0.2, 0.6)
    lo, hi = a.interval("sd")
    assert lo == pytest.approx(0.4 - a.std) and hi == pytest.approx(0.4 + a.std)
    assert a.std == pytest.approx(math.sqrt(0.08))  # ddof 1 over the two measured seeds
    with pytest.raises(ValueError, match="interval kind"):
        a.interval("iqr")


def test_aggregate_not_measured():
    a = Aggregate.from_dict(agg([None, None]))
    assert a.mean is None and a.n_seeds == 0
    assert a.interval() is None and a.interval("range") is None
    assert a.spread() == 0.0  # no spread to hide a change behind
    one = Aggregate.from_dict(agg([0.7]))
    assert one.spread() == 0.0 and one.interval() == (0.7, 0.7) and one.n_seeds == 1


# ---------------------------------------------------------------------------- entries


def test_run_finds_configurations_baselines_and_variants():
    s = Summary.from_dict(summary_dict())
    assert s.run("fixed", "supervised-normal").kind == "config"
    assert s.run("fixed", "oracle").kind == "baseline"
    variant = s.run("fixed", "cn+g")
    assert variant.kind == "ablation" and variant.seeds == (0,)
    assert variant.metric("spearman_full").mean == pytest.approx(0.3)
    assert s.run("procedural", "oracle") is None  # no baselines there
    assert s.run("procedural", "supervised-normal") is None  # not run there
    assert s.run("nowhere", "supervised-normal") is None
    assert s.run("fixed", "no-such-run") is None


def test_entry_returns_what_the_dict_holds():
    d = summary_dict()
    e = Summary.from_dict(d).run("fixed", "supervised-stitching")
    raw = d["runs"]["fixed"]["supervised-stitching"]
    assert (e.regime, e.name) == ("fixed", "supervised-stitching")
    assert e.seeds == (0, 1, 2)
    assert e.metric_keys() == tuple(raw["metrics"])
    m = e.metric("spearman_full")
    assert m == Aggregate.from_dict(raw["metrics"]["spearman_full"])
    assert m.values == (0.6, 0.6, None) and m.mean == pytest.approx(0.6)
    assert e.metric("roughness") is None
    assert e.mean("roughness") is None and math.isnan(e.mean("roughness", float("nan")))
    assert e.curve("search") == [0.5, 1.0] and e.curve("other") is None
    assert e.loss == LossCurve((10.0, 20.0), (2.0, 1.5), (1.9, 1.4), (2.1, 1.6))
    assert e.loss.final == 1.5
    assert e.trajectories == raw["examples"]["trajectories"]
    assert e.heatmap is None  # this entry has no heatmap
    assert e.config == {"method": "supervised"}


def test_training_length_keeps_null_steps():
    e = Summary.from_dict(summary_dict()).run("fixed", "contrastive-normal")
    tl = e.training_length
    assert tl.steps == (10, 20)
    assert tl.series("spearman_full")[0] is None
    assert tl.means("spearman_full") == [None, pytest.approx(0.5)]
    assert tl.series("greedy_solved") is None and tl.means("greedy_solved") is None


def test_on_seeds_and_the_two_kinds_of_interval():
    e = Summary.from_dict(summary_dict()).run("fixed", "contrastive-normal")  # k = 2: 0.7, 0.6
    assert e.on_seeds("spearman_full", [0]) == pytest.approx(0.7)
    assert e.on_seeds("spearman_full", (0, 1)) == pytest.approx(0.65)
    assert e.on_seeds("spearman_full", [2]) is None  # seed 2 measured nothing
    assert e.on_seeds("roughness", [0]) is None
    # across seeds: the spread of the means; across trajectories: the stored bootstrap CI
    assert e.metric("spearman_full").interval("range") == (0.6, 0.7)
    lo, hi = e.bootstrap_ci()
    assert lo == pytest.approx(0.55) and hi == pytest.approx(0.70)
    assert Summary.from_dict(summary_dict()).run("fixed", "oracle").bootstrap_ci() is None


def test_entry_without_optional_sections():
    e = Entry("fixed", "x", "config", {"metrics": {}})
    assert e.seeds == () and e.loss is None and e.training_length is None
    assert e.trajectories == [] and e.heatmap is None and e.curve("search") is None


# ---------------------------------------------------------------------------- the summary


def test_summary_sections():
    s = Summary.from_dict(summary_dict())
    assert s.scale == "smoke" and s.seeds == (0, 1, 2) and s.ablation_seeds == (0,)
    assert s.regimes == ("fixed", "procedural")
    assert list(s.configs("fixed")) == list(CONFIGS)
    assert list(s.configs("procedural")) == ["contrastive-normal"]
    assert [e.name for e in s.entries("fixed")] == [*CONFIGS, *BASELINES, "cn+g"]
    assert [e.kind for e in s.entries("fixed", "baseline")] == ["baseline"] * len(BASELINES)
    assert s.n_ablation_entries() == 1
    (v,) = s.studies("gamma")
    assert (v.config, v.sets, v.run) == ("contrastive-normal", {"gamma": 0.98}, "cn+g")
    assert s.studies("head") == ()
    assert s.paper_value("contrastive-normal", "spearman") == 0.848
    assert s.paper_value("contrastive-normal", "search_solved") is None
    assert s.paper_value("manhattan", "spearman") is None
    assert s.paper_hyperparameters == {"lr": 3e-4} and s.paper_n_trajectories == 10
    assert s.metric("fixed", "oracle", "spearman_full").mean == 1.0
    assert s.metric("procedural", "oracle", "spearman_full") is None


def test_empty_summary_reads_as_nothing():
    s = Summary.from_dict({})
    assert s.regimes == () and s.seeds == () and s.claims == ()
    assert s.run("fixed", "supervised-normal") is None and s.configs("fixed") == {}
    assert list(s.entries("fixed")) == [] and s.n_ablation_entries() == 0
    assert s.studies("gamma") == () and s.paper_value("supervised-normal", "spearman") is None


def test_claims_round_trip():
    d = summary_dict()
    d["claims"] = check_claims(d)
    claims = Summary.from_dict(d).claims
    assert [c.id for c in claims] == [c["id"] for c in d["claims"]]
    c1 = claims[0]
    assert isinstance(c1, Claim) and c1.rule == d["claims"][0]["rule"]
    # only the fixed regime ran all four configurations
    assert list(c1.regimes) == ["fixed"]
    raw = d["claims"][0]["regimes"]["fixed"]
    assert c1.regimes["fixed"] == Finding(
        raw["ours"], raw["verdict"], tuple(raw["seeds"]), tuple(raw["by_seed"]), raw["learned"]
    )
    assert c1.gate == "search_expanded"
    # no seed measured the solved rates, so each seed fails C1; and no model has the
    # expanded states its gate needs, so C1 is not testable at all
    assert c1.regimes["fixed"].seeds == (0, 1, 2)
    assert c1.regimes["fixed"].by_seed == ("fails",) * 3
    assert c1.regimes["fixed"].verdict == "not testable"


def test_a_finding_written_before_per_seed_verdicts_reads_back():
    f = Finding.from_dict({"ours": "x", "verdict": "holds"})
    assert f == Finding("x", "holds") and f.seeds == () and f.by_seed == ()


def test_at_seed_follows_the_entry_seed_order():
    e = Summary.from_dict(summary_dict()).run("procedural", "contrastive-normal")
    assert e.seeds == (1,) and e.at_seed("spearman_full", 1) == 0.2
    assert e.at_seed("spearman_full", 0) is None  # seed 0 did not run
    assert e.at_seed("missing", 1) is None
    f = Summary.from_dict(summary_dict()).run("fixed", next(iter(CONFIGS)))
    assert [f.at_seed("spearman_full", s) for s in (0, 1, 2)] == [0.5, 0.6, None]


def test_as_summary_and_load_summary(tmp_path):
    d = summary_dict()
    s = as_summary(d)
    assert as_summary(s) is s and s.data is d
    write_json(tmp_path / "summary.json", d)
    loaded = load_summary(tmp_path / "summary.json")
    assert loaded.run("fixed", "cn+g").metric("spearman_full") == s.run("fixed", "cn+g").metric(
        "spearman_full"
    )
    with pytest.raises(ValueError, match="does not exist"):
        load_summary(tmp_path / "missing.json")


def test_names():
    assert config_name("contrastive", "stitching") == "contrastive-stitching"
    with pytest.raises(KeyError):
        config_name("contrastive", "other")
    assert short_name("supervised-normal") == "sup-normal" and short_name("oracle") == "oracle"


def test_the_committed_summary_reads_back_entry_by_entry():
    d = read_json(COMMITTED)
    s = Summary.from_dict(d)
    sections = (("runs", "config"), ("baselines", "baseline"))
    for section, kind in sections:
        for regime in REGIMES:
            for name, raw in d[section][regime].items():
                e = s.run(regime, name)
                assert e.kind == kind
                for key, a in raw["metrics"].items():
                    assert e.metric(key) == Aggregate.from_dict(a)
    for regime, runs in d["ablations"]["runs"].items():
        for name in runs:
            assert s.run(regime, name).kind == "ablation"
    assert [c.id for c in s.claims] == [c["id"] for c in d["claims"]]
