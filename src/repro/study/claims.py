"""The paper's claims C1-C7, each checked against our numbers by a stated rule.

Every verdict ('holds', 'partly', 'fails') is computed here from the summary;
none is typed in. Each rule is kept beside its claim so the report can print it.
Spearman verdicts use the full test set (mean over seeds), which is far less
noisy than the paper's 10 trajectories; both are shown in the tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from repro.config import CONFIGS
from repro.core.data import DATASETS
from repro.core.planning import MODES
from repro.study.results import Entry, LossCurve, Summary, as_summary, config_name, short_name

SUP = {d: config_name("supervised", d) for d in DATASETS}  # dataset -> configuration name
CON = {d: config_name("contrastive", d) for d in DATASETS}
NORMAL, STITCHING = DATASETS  # the paper's two training sets
Runs = Mapping[str, Entry]  # the four paper configurations of one regime, by name


def _m(entry: Entry, metric: str) -> float:
    """The metric's mean over seeds; NaN if not measured (so every rule comparing it fails)."""
    return float(entry.mean(metric, float("nan")))


def _verdict(holds: bool, partly: bool) -> str:
    return "holds" if holds else ("partly" if partly else "fails")


def c1(runs: Runs) -> dict:
    solved = {n: _m(runs[n], "search_solved") for n in CONFIGS}
    lo = min(solved.values())
    return {
        "ours": f"lowest search solved rate {lo:.1%}",
        "verdict": _verdict(lo == 1.0, lo >= 0.95),
    }


def c2(runs: Runs) -> dict:
    g = {n: _m(runs[n], "greedy_solved") for n in CONFIGS}
    s = {n: _m(runs[n], "search_solved") for n in CONFIGS}
    far = all(g[n] <= 0.5 and g[n] <= s[n] - 0.2 for n in CONFIGS)
    fewer = all(g[n] < s[n] for n in CONFIGS)
    return {
        "ours": f"greedy solves {min(g.values()):.1%} to {max(g.values()):.1%}",
        "verdict": _verdict(far, fewer),
    }


def c3(runs: Runs) -> dict:
    ratios = {}
    for mode in MODES:
        e = [_m(runs[n], f"{mode}_expanded") for n in CONFIGS]
        ratios[mode] = max(e) / min(e)
    small = [r < 10 for r in ratios.values()]
    return {
        "ours": "max/min mean expanded: "
        + ", ".join(f"{mode} {r:.2f}x" for mode, r in ratios.items()),
        "verdict": _verdict(all(small), any(small)),
    }


def _c4_rule(runs: Runs, metric: str) -> dict:
    c_drop = _m(runs[CON[NORMAL]], metric) - _m(runs[CON[STITCHING]], metric)
    s_drop = _m(runs[SUP[NORMAL]], metric) - _m(runs[SUP[STITCHING]], metric)
    return {
        "ours": f"drop normal to stitching: contrastive {c_drop:+.3f}, supervised {s_drop:+.3f}",
        "verdict": _verdict(
            c_drop >= 0.2 and s_drop <= 0.1, c_drop >= 0.1 and c_drop > s_drop + 0.1
        ),
    }


def c4(runs: Runs) -> dict:
    return _c4_rule(runs, "spearman_full")


def c4x(runs: Runs) -> dict:
    return _c4_rule(runs, "spearman_full_cross")


def c5(runs: Runs) -> dict:
    r = {n: _m(runs[n], "roughness") for n in CONFIGS}
    wins = [r[CON[d]] < r[SUP[d]] for d in DATASETS]
    return {
        "ours": "roughness sup/con: "
        + ", ".join(f"{d} {r[SUP[d]]:.2f}/{r[CON[d]]:.2f}" for d in DATASETS),
        "verdict": _verdict(all(wins), any(wins)),
    }


def loss_improvement(loss: LossCurve) -> float:
    """Relative drop of the mean loss from the window ending at 75% of training to the end.

    The windows are the last 5% of the log rows before 75% and before 100% of
    the steps (15k and 20k at paper scale). Positive = still improving.
    """
    steps = np.asarray(loss.step)
    mean = np.asarray(loss.mean)
    total = steps[-1]
    w = max(1, int(round(0.05 * len(steps))))
    at = int(np.searchsorted(steps, 0.75 * total, side="right"))
    before = mean[max(0, at - w) : at].mean()
    end = mean[-w:].mean()
    return float((before - end) / abs(before)) if before != 0 else 0.0


def c6(runs: Runs) -> dict:
    gains = {n: loss_improvement(runs[n].loss) for n in CONFIGS}
    improving = [g > 0 for g in gains.values()]
    return {
        "ours": "loss change 75% to 100% of steps: "
        + ", ".join(f"{short_name(n)} {-g:+.1%}" for n, g in gains.items()),
        "verdict": _verdict(all(improving), any(improving)),
    }


def c7(runs: Runs) -> dict:
    wins = [_m(runs[SUP[d]], "spearman_full") > _m(runs[CON[d]], "spearman_full") for d in DATASETS]
    return {
        "ours": "supervised higher on normal: {}, on stitching: {}".format(
            *("yes" if w else "no" for w in wins)
        ),
        "verdict": _verdict(all(wins), any(wins)),
    }


CLAIMS = [
    (
        "C1",
        "Both models solve every instance with search",
        "100% solved by all four",
        "holds if every model solves 100%; partly if all solve at least 95%",
        c1,
    ),
    (
        "C2",
        "Greedy solves far fewer instances than search",
        "14% to 30% solved",
        "holds if every greedy rate is at most 50% and 20 points below search; "
        "partly if every greedy rate is below search",
        c2,
    ),
    (
        "C3",
        "Both models expand a similar number of states",
        "44 to 67 (search), 9 to 11 (greedy)",
        "holds if the largest mean is under 10x the smallest in both modes; partly in one",
        c3,
    ),
    (
        "C4",
        "Stitching data lowers the contrastive Spearman sharply, not the supervised one",
        "contrastive 0.848 to 0.470; supervised 0.807 to 0.939",
        "holds if the contrastive drop is at least 0.2 and the supervised drop at most 0.1; "
        "partly if the contrastive drop exceeds the supervised one by 0.1",
        c4,
    ),
    (
        "C4x",
        "C4 where stitching matters: test trajectories whose start and goal lie in "
        "different quadrants",
        "not reported (its test set is not split)",
        "the rule of C4 on the cross-quadrant test trajectories only",
        c4x,
    ),
    (
        "C5",
        "Contrastive heatmaps are smoother than supervised ones",
        "shown in its Figure 2",
        "roughness (see text) lower for contrastive: holds on both datasets, partly on one",
        c5,
    ),
    (
        "C6",
        "The loss still improves from 15k to 20k steps",
        "slightly lower at 20k, both models",
        "holds if the mean loss near the end is below that near 75% of training for all four; "
        "partly for some",
        c6,
    ),
    (
        "C7",
        "The supervised model ranks distances better on both datasets (the paper's text)",
        "text says both; its Table 2 says stitching only",
        "full-test-set Spearman: holds if supervised is higher on both datasets, partly on one",
        c7,
    ),
]


def check_claims(summary: Summary | Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every claim with its paper figure, rule, and per-regime finding and verdict, as the
    summary's ``claims`` list holds them (a regime counts only where all four configurations
    ran; read them back with ``Summary.claims``)."""
    view = as_summary(summary)
    complete = {r: runs for r in view.regimes if len(runs := view.configs(r)) == len(CONFIGS)}
    return [
        {
            "id": cid,
            "claim": text,
            "paper": paper,
            "rule": rule,
            "regimes": {regime: fn(runs) for regime, runs in complete.items()},
        }
        for cid, text, paper, rule, fn in CLAIMS
    ]
