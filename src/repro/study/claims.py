"""The paper's claims C1-C7, each checked against our numbers by a stated rule.

Every verdict ('holds', 'partly', 'fails') is computed here from the summary;
none is typed in. Each rule is kept beside its claim so the report can print it.
Spearman verdicts use the full test set (mean over seeds), which is far less
noisy than the paper's 10 trajectories; both are shown in the tables.
"""

from __future__ import annotations

from typing import Any

import numpy as np

NAMES = ("supervised-normal", "supervised-stitching", "contrastive-normal", "contrastive-stitching")


def _m(entry: dict, metric: str) -> float:
    v = entry["metrics"][metric]["mean"]
    return float("nan") if v is None else float(v)


def _verdict(holds: bool, partly: bool) -> str:
    return "holds" if holds else ("partly" if partly else "fails")


def c1(runs: dict) -> dict:
    solved = {n: _m(runs[n], "search_solved") for n in NAMES}
    lo = min(solved.values())
    return {
        "ours": f"lowest search solved rate {lo:.1%}",
        "verdict": _verdict(lo == 1.0, lo >= 0.95),
    }


def c2(runs: dict) -> dict:
    g = {n: _m(runs[n], "greedy_solved") for n in NAMES}
    s = {n: _m(runs[n], "search_solved") for n in NAMES}
    far = all(g[n] <= 0.5 and g[n] <= s[n] - 0.2 for n in NAMES)
    fewer = all(g[n] < s[n] for n in NAMES)
    return {
        "ours": f"greedy solves {min(g.values()):.1%} to {max(g.values()):.1%}",
        "verdict": _verdict(far, fewer),
    }


def c3(runs: dict) -> dict:
    ratios = []
    for mode in ("search", "greedy"):
        e = [_m(runs[n], f"{mode}_expanded") for n in NAMES]
        ratios.append(max(e) / min(e))
    return {
        "ours": f"max/min mean expanded: search {ratios[0]:.2f}x, greedy {ratios[1]:.2f}x",
        "verdict": _verdict(all(r < 10 for r in ratios), any(r < 10 for r in ratios)),
    }


def _c4_rule(runs: dict, metric: str) -> dict:
    c_drop = _m(runs["contrastive-normal"], metric) - _m(runs["contrastive-stitching"], metric)
    s_drop = _m(runs["supervised-normal"], metric) - _m(runs["supervised-stitching"], metric)
    return {
        "ours": f"drop normal to stitching: contrastive {c_drop:+.3f}, supervised {s_drop:+.3f}",
        "verdict": _verdict(
            c_drop >= 0.2 and s_drop <= 0.1, c_drop >= 0.1 and c_drop > s_drop + 0.1
        ),
    }


def c4(runs: dict) -> dict:
    return _c4_rule(runs, "spearman_full")


def c4x(runs: dict) -> dict:
    return _c4_rule(runs, "spearman_full_cross")


def c5(runs: dict) -> dict:
    r = {n: _m(runs[n], "roughness") for n in NAMES}
    wins = [r[f"contrastive-{d}"] < r[f"supervised-{d}"] for d in ("normal", "stitching")]
    return {
        "ours": "roughness sup/con: normal {:.2f}/{:.2f}, stitching {:.2f}/{:.2f}".format(
            r["supervised-normal"],
            r["contrastive-normal"],
            r["supervised-stitching"],
            r["contrastive-stitching"],
        ),
        "verdict": _verdict(all(wins), any(wins)),
    }


def loss_improvement(loss: dict[str, list[float]]) -> float:
    """Relative drop of the mean loss from the window ending at 75% of training to the end.

    The windows are the last 5% of the log rows before 75% and before 100% of
    the steps (15k and 20k at paper scale). Positive = still improving.
    """
    steps = np.asarray(loss["step"])
    mean = np.asarray(loss["mean"])
    total = steps[-1]
    w = max(1, int(round(0.05 * len(steps))))
    at = int(np.searchsorted(steps, 0.75 * total, side="right"))
    before = mean[max(0, at - w) : at].mean()
    end = mean[-w:].mean()
    return float((before - end) / abs(before)) if before != 0 else 0.0


def c6(runs: dict) -> dict:
    gains = {n: loss_improvement(runs[n]["loss"]) for n in NAMES}
    improving = [g > 0 for g in gains.values()]
    return {
        "ours": "loss change 75% to 100% of steps: "
        + ", ".join(
            f"{n.replace('supervised', 'sup').replace('contrastive', 'con')} {-g:+.1%}"
            for n, g in gains.items()
        ),
        "verdict": _verdict(all(improving), any(improving)),
    }


def c7(runs: dict) -> dict:
    wins = [
        _m(runs[f"supervised-{d}"], "spearman_full") > _m(runs[f"contrastive-{d}"], "spearman_full")
        for d in ("normal", "stitching")
    ]
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


def check_claims(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Every claim with its paper figure, rule, and per-regime finding and verdict."""
    out = []
    for cid, text, paper, rule, fn in CLAIMS:
        regimes = {}
        for regime, runs in summary["runs"].items():
            if all(n in runs for n in NAMES):
                regimes[regime] = fn(runs)
        out.append({"id": cid, "claim": text, "paper": paper, "rule": rule, "regimes": regimes})
    return out
