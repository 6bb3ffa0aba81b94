"""Claim verdicts and the numbers quoted beside them follow their stated rules
(hand-built summaries)."""

import pytest

from repro.config import CONFIGS
from repro.study.claims import CLAIMS, check_claims, loss_improvement
from repro.study.results import LossCurve, Summary


def agg(v):
    return {"mean": v, "std": 0.0, "min": v, "max": v, "values": [v]}


def entry(
    spearman=0.9,
    search=1.0,
    greedy=0.2,
    exp_s=40.0,
    exp_g=10.0,
    rough=0.5,
    loss=(2.0, 1.0),
    cross=None,
):
    steps = [100.0 * i for i in range(1, 21)]
    curve = [loss[0]] * 15 + [loss[1]] * 5
    return {
        "metrics": {
            "spearman_full": agg(spearman),
            "spearman_full_cross": agg(spearman if cross is None else cross),
            "search_solved": agg(search),
            "greedy_solved": agg(greedy),
            "search_expanded": agg(exp_s),
            "greedy_expanded": agg(exp_g),
            "roughness": agg(rough),
        },
        "loss": {"step": steps, "mean": curve, "min": curve, "max": curve},
    }


def findings(runs, regime="fixed"):
    """claim id -> {'ours', 'verdict'} of the one regime."""
    return {c["id"]: c["regimes"][regime] for c in check_claims({"runs": {regime: runs}})}


def verdicts(runs):
    return {cid: f["verdict"] for cid, f in findings(runs).items()}


def paperlike():
    return {
        "supervised-normal": entry(0.807, greedy=0.30, exp_s=46.7, rough=0.9),
        "supervised-stitching": entry(0.939, greedy=0.14, exp_s=66.6, rough=0.9),
        "contrastive-normal": entry(0.848, greedy=0.15, exp_s=44.7, rough=0.3),
        "contrastive-stitching": entry(0.470, greedy=0.18, exp_s=43.5, rough=0.3),
    }


def test_the_papers_own_numbers_support_its_claims():
    v = verdicts(paperlike())
    assert v == {
        "C1": "holds",
        "C2": "holds",
        "C3": "holds",
        "C4": "holds",
        "C4x": "holds",
        "C5": "holds",
        "C6": "holds",
        "C7": "partly",
    }  # C7: its Table 2 contradicts its text


def test_ours_quotes_the_computed_numbers():
    ours = {cid: f["ours"] for cid, f in findings(paperlike()).items()}
    assert ours["C1"] == "lowest search solved rate 100.0%"
    assert ours["C2"] == "greedy solves 14.0% to 30.0%"
    # 66.6 / 43.5 = 1.531; every greedy count is 10
    assert ours["C3"] == "max/min mean expanded: search 1.53x, greedy 1.00x"
    # contrastive 0.848 - 0.470, supervised 0.807 - 0.939
    assert ours["C4"] == "drop normal to stitching: contrastive +0.378, supervised -0.132"
    assert ours["C4x"] == ours["C4"]  # the cross-quadrant numbers equal the full ones here
    assert ours["C5"] == "roughness sup/con: normal 0.90/0.30, stitching 0.90/0.30"
    # the loss halves between 75% (2.0) and 100% (1.0) of the steps: a change of -50%
    assert ours["C6"] == (
        "loss change 75% to 100% of steps: sup-normal -50.0%, sup-stitching -50.0%, "
        "con-normal -50.0%, con-stitching -50.0%"
    )
    assert ours["C7"] == "supervised higher on normal: no, on stitching: yes"


@pytest.mark.parametrize(
    ("rates", "verdict", "quoted"),
    [
        ((1.0, 1.0, 1.0, 1.0), "holds", "100.0%"),
        ((1.0, 0.97, 1.0, 0.999), "partly", "97.0%"),
        ((1.0, 1.0, 0.9, 1.0), "fails", "90.0%"),
        ((0.949, 1.0, 1.0, 1.0), "fails", "94.9%"),
    ],
)
def test_c1_follows_the_lowest_search_rate(rates, verdict, quoted):
    runs = paperlike()
    for name, rate in zip(CONFIGS, rates, strict=True):
        runs[name]["metrics"]["search_solved"] = agg(rate)
    f = findings(runs)["C1"]
    assert f == {"ours": f"lowest search solved rate {quoted}", "verdict": verdict}


def test_c2_needs_greedy_far_below_search_for_every_model():
    runs = paperlike()
    runs["contrastive-normal"]["metrics"]["greedy_solved"] = agg(0.85)  # below search, not far
    f = findings(runs)["C2"]
    assert f == {"ours": "greedy solves 14.0% to 85.0%", "verdict": "partly"}
    runs["contrastive-normal"]["metrics"]["greedy_solved"] = agg(1.0)  # as good as search
    assert findings(runs)["C2"]["verdict"] == "fails"


def test_c3_ratio_threshold():
    runs = paperlike()
    runs["supervised-normal"]["metrics"]["search_expanded"] = agg(43.5 * 9.99)
    assert findings(runs)["C3"]["verdict"] == "holds"
    runs["supervised-normal"]["metrics"]["search_expanded"] = agg(435.0)  # 10.00x
    f = findings(runs)["C3"]
    assert f == {"ours": "max/min mean expanded: search 10.00x, greedy 1.00x", "verdict": "partly"}
    runs["supervised-normal"]["metrics"]["greedy_expanded"] = agg(100.0)
    assert findings(runs)["C3"]["verdict"] == "fails"


def test_rules_flip_when_numbers_do():
    runs = paperlike()
    runs["supervised-normal"] = entry(
        0.807, search=0.96, greedy=0.97, exp_s=46.7, rough=0.1, loss=(1.0, 2.0)
    )
    runs["contrastive-stitching"] = entry(0.848, greedy=0.18, exp_s=900.0, rough=0.3)
    v = verdicts(runs)
    assert v["C1"] == "partly"  # 96% >= 95%
    assert v["C2"] == "fails"  # greedy 97% > search 96%
    assert v["C3"] == "partly"  # search spread > 10x, greedy not
    assert v["C4"] == "fails"  # no contrastive drop
    assert v["C4x"] == "fails"
    assert v["C5"] == "partly"
    assert v["C6"] == "partly"
    runs["supervised-normal"] = entry(0.1)
    runs["supervised-stitching"] = entry(0.1)
    assert verdicts(runs)["C7"] == "fails"


def test_c4_partly_when_the_contrastive_drop_is_moderate():
    runs = paperlike()
    runs["contrastive-stitching"] = entry(0.70)  # drop 0.148: >= 0.1 and > -0.132 + 0.1
    f = findings(runs)["C4"]
    assert f["verdict"] == "partly" and "contrastive +0.148" in f["ours"]
    runs["contrastive-stitching"] = entry(0.80)  # drop 0.048
    assert findings(runs)["C4"]["verdict"] == "fails"


def test_c4x_reads_only_the_cross_quadrant_spearman():
    runs = paperlike()
    # The same full-test numbers, but the contrastive drop exists only across quadrants.
    runs["contrastive-normal"] = entry(0.85, cross=0.85)
    runs["contrastive-stitching"] = entry(0.84, cross=0.40)
    runs["supervised-normal"] = entry(0.9, cross=0.9)
    runs["supervised-stitching"] = entry(0.9, cross=0.88)
    f = findings(runs)
    assert f["C4"]["verdict"] == "fails" and f["C4x"]["verdict"] == "holds"
    assert f["C4x"]["ours"] == "drop normal to stitching: contrastive +0.450, supervised +0.020"


def test_c6_quotes_each_models_loss_change():
    runs = paperlike()
    runs["contrastive-stitching"] = entry(0.47, loss=(1.0, 1.25))  # rises by 25%
    f = findings(runs)["C6"]
    assert f["verdict"] == "partly"
    assert f["ours"].endswith("con-normal -50.0%, con-stitching +25.0%")


def test_an_unmeasured_metric_fails_its_rule():
    runs = paperlike()
    runs["contrastive-stitching"]["metrics"]["spearman_full"] = agg(None)
    f = findings(runs)
    assert f["C4"]["verdict"] == "fails" and "contrastive +nan" in f["C4"]["ours"]


def test_loss_improvement_windows():
    steps = [float(s) for s in range(100, 20001, 100)]
    flat = LossCurve(tuple(steps), (1.0,) * len(steps), (), ())
    assert loss_improvement(flat) == 0.0
    falling = LossCurve(tuple(steps), tuple(2.0 - s / 20000 for s in steps), (), ())
    # the windows are the last 10 rows before 15000 (1.2775 on average) and the last 10
    before = sum(2.0 - s / 20000 for s in steps[140:150]) / 10
    end = sum(2.0 - s / 20000 for s in steps[-10:]) / 10
    assert loss_improvement(falling) == pytest.approx((before - end) / before)
    rising = LossCurve(tuple(steps), tuple(1.0 + s / 20000 for s in steps), (), ())
    assert loss_improvement(rising) < 0


def test_only_regimes_with_all_four_configurations_get_a_verdict():
    runs = paperlike()
    partial = dict(runs)
    del partial["contrastive-normal"]
    claims = check_claims({"runs": {"fixed": runs, "procedural": partial}})
    assert all(list(c["regimes"]) == ["fixed"] for c in claims)
    assert all(c["regimes"] == {} for c in check_claims({"runs": {"fixed": partial}}))


def test_check_claims_takes_the_view_or_the_dict():
    d = {"runs": {"fixed": paperlike()}}
    assert check_claims(Summary.from_dict(d)) == check_claims(d)


@pytest.mark.parametrize("cid", [c[0] for c in CLAIMS])
def test_every_claim_states_its_rule(cid):
    c = next(c for c in check_claims({"runs": {"fixed": paperlike()}}) if c["id"] == cid)
    assert c["rule"] and c["paper"] and c["claim"]
    assert c["regimes"]["fixed"]["verdict"] in ("holds", "partly", "fails")
