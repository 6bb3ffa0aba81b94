"""The maze-family study's paragraph of the report: a row per cell (the Manhattan
heuristic's greedy and search numbers on unseen mazes; where trained, the four
configurations' gaps to the paper under each greedy rule) and the closest family and rule to
the paper's greedy numbers, for the written sentence its checks guard."""

from __future__ import annotations

from typing import Any

from repro.config import SCALES, Family
from repro.core.planning import RULES
from repro.report.checks import Check
from repro.report.planning import as_float, gap_cells, paper_numbers
from repro.report.texfmt import num, pct, seed_list
from repro.results.paper_gap import RULE_PLANNERS, Gap, greedy_gap, least
from repro.results.view import Summary
from repro.studies.family.results import FamilyCell, cells_of
from repro.studies.study import Section


def _cell_gap(cell: FamilyCell, summary: Summary, rule: str) -> Gap:
    def ours(name: str, key: str) -> float:
        agg = cell.run(name, key)
        return as_float(None if agg is None else agg.mean)

    return greedy_gap(ours, paper_numbers(summary), rule)


def family_rows(summary: Summary) -> list[dict[str, Any]]:
    """Per cell: the Manhattan heuristic's greedy solved rate under each rule and its search
    expanded count on unseen mazes (procedural), and where the four configurations were
    trained (fixed regime), their gaps to the paper under each rule."""
    rows = []
    for cell in cells_of(summary):
        row: dict[str, Any] = {
            "size": str(cell.size),
            "loop_prob": f"{cell.loop_prob:g}",
            "trained": cell.trained,
            "manhattan": {
                rule: pct(_mean(cell.baseline("procedural", "manhattan", f"{p}_solved")))
                for rule, p in RULE_PLANNERS.items()
            },
            "search_expanded": num(
                _mean(cell.baseline("procedural", "manhattan", "search_expanded")), 1
            ),
            "gaps": {
                rule: gap_cells(_cell_gap(cell, summary, rule)) if cell.trained else None
                for rule in RULES
            },
        }
        rows.append(row)
    return rows


def _mean(agg) -> float | None:
    return None if agg is None else agg.mean


def family_best(summary: Summary) -> tuple[FamilyCell, Gap] | None:
    """The trained cell and rule closest to the paper's greedy numbers (None if none ran)."""
    found = [
        (cell, _cell_gap(cell, summary, rule))
        for cell in cells_of(summary)
        if cell.trained
        for rule in RULES
    ]
    best = least([g for _, g in found])
    return None if best is None else next((c, g) for c, g in found if g is best)


def closest(summary: Summary) -> dict[str, Any]:
    """The trained family and rule closest to the paper's greedy numbers, for the prose:
    {'size', 'loop', 'rule', 'solved', 'expanded': the mean gaps, 'in_reach': bool}; {} if
    no family was trained."""
    best = family_best(summary)
    if best is None:
        return {}
    cell, g = best
    return {"size": str(cell.size), "loop": f"{cell.loop_prob:g}", "rule": g.rule,
            "solved": f"{g.solved:.3f}", "expanded": f"{g.expanded:.1f}",
            "in_reach": bool(g.within_reach)}  # fmt: skip


def _in_reach(summary: Summary):
    best = family_best(summary)
    g = None if best is None else best[1]
    n = {"mean solved gap": g and g.solved, "mean expanded gap": g and g.expanded}
    return g is not None and bool(g.within_reach), n


_IN_REACH = Check(
    "a trained maze family and greedy rule bring the paper's greedy numbers within reach "
    "(repro.results.paper_gap)",
    _in_reach,
)
CHECKS = {
    "family-in-reach": _IN_REACH,
    "family-out-of-reach": _IN_REACH.opposite(
        "no trained maze family and greedy rule brings the paper's greedy numbers within reach"
    ),
}


def settings(scale: str) -> dict[str, str]:
    """The study's declared sizes and loop probabilities, as the prose lists them."""
    fam = SCALES[scale].family if scale in SCALES else Family((), (), ())
    return {
        "seed_list": seed_list(range(fam.seeds)),  # 'seed 0': the family's trained runs
        "sizes": ", ".join(str(x) for x in fam.sizes),
        "loops": ", ".join(f"{x:g}" for x in fam.loop_probs),
        "trained": ", ".join(str(x) for x in fam.trained_sizes),
    }


def section(summary: Summary) -> Section:
    """The paragraph beside the planning results (it says so where the study did not run)."""
    context = {
        "ran": bool(cells_of(summary)),
        "rows": family_rows(summary),
        "closest": closest(summary),
        **settings(summary.scale),
    }
    return Section("sections/family.tex.j2", "planning", context, CHECKS)
