"""How far our greedy planning numbers lie from the paper's Table 3, under each greedy rule.

The paper's greedy mode has three readings (``repro.core.planning.RULES``). For
one reading, the gap to the paper is the mean ``|paper - ours|`` over the four
configurations, of the greedy solved rate and of the mean expanded states (as
the report's closeness table measures it). Both are read in units of their
tolerances, :data:`REACH_SOLVED` and :data:`REACH_EXPANDED`: a reading's
*distance* is the larger of the two ratios, so it puts the paper's numbers
*within reach* at distance <= 1 and *near* them at distance <= 2. The closest
reading is the one of least distance. Claims, report tables and the family study
all judge closeness here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from repro.config import CONFIGS
from repro.core.planning import PLANNERS, RULES

# rule -> the name of its planner in the metrics ('greedy', 'greedy_descent', ...)
RULE_PLANNERS = {rule: name for name, (mode, rule) in PLANNERS.items() if mode == "greedy"}
REACH_SOLVED = 0.05  # mean |paper - ours| of the greedy solved rate (5 points)
REACH_EXPANDED = 2.0  # mean |paper - ours| of the greedy mean expanded states
Number = Callable[[str, str], float]  # (configuration, metric) -> value; NaN if unmeasured


@dataclass(frozen=True)
class Gap:
    """The gap between the paper's greedy numbers and ours under one rule."""

    rule: str
    solved: float  # mean |paper - ours| of the solved rate (a fraction)
    expanded: float  # mean |paper - ours| of the mean expanded states

    @property
    def distance(self) -> float:
        """The larger gap in units of its tolerance (NaN if either gap is NaN)."""
        a, b = self.solved / REACH_SOLVED, self.expanded / REACH_EXPANDED
        return math.nan if math.isnan(a) or math.isnan(b) else max(a, b)

    @property
    def within_reach(self) -> bool:
        return self.distance <= 1.0

    @property
    def near(self) -> bool:
        """Within twice the reach tolerances."""
        return self.distance <= 2.0


def greedy_gap(ours: Number, paper: Number, rule: str) -> Gap:
    """The gap under ``rule``; ``ours`` reads e.g. ('supervised-normal', 'greedy_solved')
    and ``paper`` the paper's ('supervised-normal', 'greedy_solved'). NaN propagates."""
    planner = RULE_PLANNERS[rule]
    gaps = {
        key: float(
            np.mean([abs(paper(n, f"greedy_{key}") - ours(n, f"{planner}_{key}")) for n in CONFIGS])
        )
        for key in ("solved", "expanded")
    }
    return Gap(rule, gaps["solved"], gaps["expanded"])


def least(gaps: list[Gap]) -> Gap | None:
    """The gap of least distance (a NaN distance never wins; ties: the first); None if none."""
    known = [g for g in gaps if not math.isnan(g.distance)]
    return min(known, key=lambda g: g.distance) if known else None


def closest_rule(ours: Number, paper: Number) -> Gap:
    """The rule of least distance (if every distance is NaN: the first rule's gap)."""
    gaps = [greedy_gap(ours, paper, rule) for rule in RULES]
    return least(gaps) or gaps[0]
