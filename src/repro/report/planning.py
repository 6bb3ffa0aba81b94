"""The report's sections on where the paper's numbers come from.

Three measurements, each rendered from the summary alone: the paper's greedy
numbers beside ours under each reading of its greedy rule (:func:`rule_rows`),
the noise of its 10-trajectory Spearman protocol (:func:`noise_rows`), and the
maze-family study (:func:`family_rows`). The sentences are chosen by rules from
the numbers (:func:`planning_context`); nothing here is typed in.
"""

from __future__ import annotations

import math
from typing import Any

from repro.config import CONFIGS, REGIMES
from repro.core.planning import RULES
from repro.report.texfmt import LABELS, NO_VALUE, Tex, mean_sd, num, pct, printed
from repro.results.paper_gap import (
    REACH_EXPANDED,
    REACH_SOLVED,
    RULE_PLANNERS,
    Gap,
    closest_rule,
    greedy_gap,
)
from repro.results.view import Summary


def as_float(x: float | None) -> float:
    return math.nan if x is None else float(x)


def _known(x: float) -> float | None:
    return None if math.isnan(x) else x


def _ours(summary: Summary, regime: str):
    """(configuration, metric) -> our mean over seeds in ``regime`` (NaN if absent)."""

    def get(name: str, key: str) -> float:
        agg = summary.metric(regime, name, key)
        return as_float(None if agg is None else agg.mean)

    return get


def paper_numbers(summary: Summary):
    return lambda name, key: as_float(summary.paper_value(name, key))


def gap_cells(gap: Gap) -> dict[str, Tex]:
    return {"solved": num(gap.solved, 3), "expanded": num(gap.expanded, 1)}


# ---------------------------------------------------------------------------- rules


def rule_rows(summary: Summary) -> list[dict[str, Any]]:
    """Per regime: the four configurations (paper's greedy numbers as printed, ours under
    each rule: solved rate, mean expanded over all and over solved instances), then the
    gap row (mean |paper - ours|) per rule, with the closest rule named."""
    out = []
    for regime in REGIMES:
        if not summary.configs(regime):
            continue
        rows = []
        for name in CONFIGS:
            row = {
                "label": LABELS[name],
                "paper_solved": printed(summary.paper_printed(name, "greedy_solved")),
                "paper_expanded": printed(summary.paper_printed(name, "greedy_expanded")),
            }
            for rule, planner in RULE_PLANNERS.items():  # means only: the table is wide
                mean = _ours(summary, regime)
                row[rule] = {
                    "solved": pct(_known(mean(name, f"{planner}_solved"))),
                    "expanded": num(_known(mean(name, f"{planner}_expanded")), 1),
                    "solved_only": num(_known(mean(name, f"{planner}_expanded_solved")), 1),
                }
            rows.append(row)
        ours, paper = _ours(summary, regime), paper_numbers(summary)
        gaps = {rule: gap_cells(greedy_gap(ours, paper, rule)) for rule in RULES}
        out.append(
            {"regime": regime, "rows": rows, "gaps": gaps, "closest": closest_rule(ours, paper)}
        )
    return out


def closest_rules(summary: Summary) -> dict[str, dict[str, Any]]:
    """Per regime that ran: the greedy rule closest to the paper's Table 3, its mean gaps
    (solved rate, expanded states) and whether they are within our tolerance."""
    out = {}
    for regime in REGIMES:
        if summary.configs(regime):
            g = closest_rule(_ours(summary, regime), paper_numbers(summary))
            out[regime] = {"rule": g.rule, "solved": g.solved, "expanded": g.expanded,
                           "within": bool(g.within_reach)}  # fmt: skip
    return out


def rules_in_reach(summary: Summary) -> tuple[bool, dict[str, float | None]]:
    """Check 'rules-in-reach': in some regime a greedy rule brings the paper's greedy numbers
    within our tolerance (its opposite, 'rules-out-of-reach', is built from it)."""
    found = closest_rules(summary)
    n = {f"{r} {c['rule']} mean gap {k}": c[k] for r, c in found.items()
         for k in ("solved", "expanded")}  # fmt: skip
    return any(c["within"] for c in found.values()), n


# ---------------------------------------------------------------------------- protocol noise


def noise_rows(summary: Summary) -> list[dict[str, Any]]:
    """Per configuration and regime: the paper's Spearman, our 10-trajectory mean, the 5-95%
    range of that mean over random draws (pooled over seeds), and where the paper falls."""
    rows = []
    for name in CONFIGS:
        row: dict[str, Any] = {
            "label": LABELS[name],
            "paper": printed(summary.paper_printed(name, "spearman")),
        }
        value = summary.paper_value(name, "spearman")
        for regime in REGIMES:
            entry = summary.run(regime, name)
            rng = None if entry is None else entry.protocol_range()
            at = None if entry is None or value is None else entry.protocol_percentile(value)
            row[regime] = {
                "ours": mean_sd(summary.metric(regime, name, "spearman_paper")),
                "range": Tex(NO_VALUE) if rng is None else Tex(f"{rng[0]:.3f} to {rng[1]:.3f}"),
                "percentile": pct(at),
                "inside": None if at is None else INSIDE[0] <= at <= INSIDE[1],
            }
        rows.append(row)
    return rows


# "Within the noise": the paper's value falls inside this range of percentiles of our
# 10-trajectory means (the range Table 14 prints).
INSIDE = (0.05, 0.95)


def paper_percentiles(summary: Summary) -> dict[str, float | None]:
    """'<regime> <configuration> paper percentile': where the paper's Spearman falls among
    our 10-trajectory means (pooled over seeds), in [0, 1]; None where not measured."""
    out: dict[str, float | None] = {}
    for regime in REGIMES:
        for name in CONFIGS:
            entry, value = summary.run(regime, name), summary.paper_value(name, "spearman")
            at = None if entry is None or value is None else entry.protocol_percentile(value)
            out[f"{regime} {name} paper percentile"] = at
    return out


def noise_explains(only: set[tuple[str, str]]):
    """A check's test: the paper's values inside INSIDE are exactly ``only``, a set of
    (regime, configuration)."""

    def test(summary: Summary) -> tuple[bool, dict[str, float | None]]:
        n = paper_percentiles(summary)
        if any(v is None for v in n.values()):
            return False, n
        inside = {tuple(k.split()[:2]) for k, v in n.items() if INSIDE[0] <= v <= INSIDE[1]}
        return inside == only, n

    return test


def noise_above(regime: str):
    """A check's test: in ``regime`` every paper value lies above INSIDE's upper end."""

    def test(summary: Summary) -> tuple[bool, dict[str, float | None]]:
        n = {k: v for k, v in paper_percentiles(summary).items() if k.startswith(f"{regime} ")}
        if any(v is None for v in n.values()):
            return False, n
        return all(v > INSIDE[1] for v in n.values()), n

    return test


def planning_context(summary: Summary) -> dict[str, Any]:
    """Everything the template's sections on where the paper's numbers come from print."""
    rules = rule_rows(summary)
    noise = noise_rows(summary)
    return {
        "rules": rules,
        "closest": {
            r: {
                "rule": c["rule"],
                "solved": f"{c['solved']:.3f}",
                "expanded": f"{c['expanded']:.1f}",
                "within": c["within"],
            }
            for r, c in closest_rules(summary).items()
        },  # fmt: skip
        "noise": noise,
        "noise_at": {k: pct(v) for k, v in paper_percentiles(summary).items()},
        "reach": {"solved": str(REACH_SOLVED), "expanded": f"{REACH_EXPANDED:g}"},
    }
