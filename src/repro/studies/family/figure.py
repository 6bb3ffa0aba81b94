"""The maze-family study's figure (fig7): planning against maze size, for the trained models
and the Manhattan heuristic, beside the paper's values."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from repro.config import CONFIGS
from repro.report.figures import MIN_PT, new_figure, no_run, styled
from repro.results.paper_gap import RULE_PLANNERS
from repro.results.view import Summary
from repro.studies.family.results import cells_of

RULE_COLORS = {"unvisited": "C0", "descent": "C3", "revisit": "C2"}
# fig7 panels: (metric suffix, paper key, y label); greedy panels draw one line per rule
FAMILY_PANELS = (
    ("solved", "greedy_solved", "greedy: solved rate"),
    ("expanded", "greedy_expanded", "greedy: mean expanded"),
    ("search", "search_expanded", "search: mean expanded"),
)


def family_series(summary: Summary, planner: str, key: str) -> dict[str, list[tuple[int, float]]]:
    """Over the family cells with the loop_prob of the trained ones, in size order: the
    trained models' mean over the four configurations ('trained') and the Manhattan
    heuristic on unseen mazes ('manhattan') of metric ``<planner>_<key>``, as (size, value)
    points."""
    cells = cells_of(summary)
    # The loop_prob of the scale's own family (where the models were trained).
    base = next((c.loop_prob for c in cells if c.main or c.trained), None)
    out: dict[str, list[tuple[int, float]]] = {"trained": [], "manhattan": []}
    for cell in sorted(cells, key=lambda c: c.size):
        if cell.loop_prob != base:
            continue
        metric = f"{planner}_{key}"
        values = [cell.run(n, metric) for n in CONFIGS] if cell.trained else []
        if values and all(v is not None and v.mean is not None for v in values):
            out["trained"].append((cell.size, float(np.mean([v.mean for v in values]))))
        m = cell.baseline("procedural", "manhattan", metric)
        if m is not None and m.mean is not None:
            out["manhattan"].append((cell.size, m.mean))
    return out


@styled
def draw_fig7_family(summary: Summary) -> Figure:
    """Planning against maze size: greedy solved rate and mean expanded under each rule, and
    search's mean expanded, for the trained models (mean of the four, fixed regime) and the
    Manhattan heuristic (unseen mazes, dashed); the paper's four values as a grey band."""
    fig, axes = new_figure(1, len(FAMILY_PANELS), 2.6)
    for ax, (key, paper_key, title) in zip(axes[0], FAMILY_PANELS, strict=True):
        ax.set_title(title)
        ax.set_xlabel("maze size")
        paper = [summary.paper_value(n, paper_key) for n in CONFIGS]
        if all(p is not None for p in paper):
            ax.axhspan(min(paper), max(paper), color="0.85", zorder=0, label="paper")
        lines = RULE_COLORS if key != "search" else {"search": "C4"}
        for rule, color in lines.items():
            planner = "search" if key == "search" else RULE_PLANNERS[rule]
            metric = "expanded" if key == "search" else key
            series = family_series(summary, planner, metric)
            for kind, style in (("trained", "-"), ("manhattan", "--")):
                pts = series[kind]
                if pts:
                    x, y = zip(*pts, strict=True)
                    label = f"{rule}, {kind}" if kind == "trained" or key == "search" else None
                    ax.plot(x, y, style, color=color, marker="o", markersize=2.5, label=label)
        if ax.lines:
            ax.set_xticks(sorted({c.size for c in cells_of(summary)}))
            handles, _ = ax.get_legend_handles_labels()
            if key != "search":  # one key for the dashed Manhattan lines of every rule
                handles.append(Line2D([], [], color="0.3", linestyle="--", label="Manhattan"))
            ax.legend(  # below the panel: inside, at print size, it hides the lines
                handles=handles,
                frameon=False,
                fontsize=MIN_PT,
                loc="upper center",
                bbox_to_anchor=(0.5, -0.25),
            )
        else:
            no_run(ax, "no family study")
    return fig
