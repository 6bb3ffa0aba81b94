"""The stitching study's figure (fig10): per learner, the cross-quadrant Spearman against the
band of BFS distance, normal-trained (solid) and strict-stitching-trained (dashed)."""

from __future__ import annotations

from matplotlib.figure import Figure

from repro.core.overlap import BANDS, band_name
from repro.report.figures import MIN_PT, floats, new_figure, no_run, styled
from repro.results.view import Summary
from repro.studies.stitching.report import LEARNERS, entries


@styled
def draw_fig10_stitching(summary: Summary) -> Figure:
    fig, axes = new_figure(1, 1, 3.0)
    ax = axes[0, 0]
    x = list(range(len(BANDS)))
    drawn = False
    for k, learner in enumerate(LEARNERS):
        for e, style in zip(entries(summary, learner), ("-", "--"), strict=True):
            if e is None:
                continue
            y = floats([e.mean(f"spearman_cross_{band_name(b)}") for b in BANDS])
            ax.plot(x, y, color=f"C{k}", linestyle=style, marker="o", markersize=3,
                    label=learner.label if style == "-" else None)  # fmt: skip
            drawn = True
    if not drawn:
        no_run(ax)
        return fig
    ax.set_xticks(x, [band_name(b) for b in BANDS])
    ax.set_xlabel("BFS distance from start to goal (cross-quadrant test trajectories)")
    ax.set_ylabel("Spearman $\\rho$")
    ax.legend(fontsize=MIN_PT, ncol=2, loc="lower left")
    return fig
