"""The stitching study's figure (fig10): per learner, the cross-quadrant Spearman against the
band of BFS distance, normal-trained (solid), strict-stitching-trained (dashed) and
short-path-trained (dotted); one panel per regime (the fixed maze, unseen mazes), on one y
scale."""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from repro.core.overlap import BANDS, band_name
from repro.report.figures import MIN_PT, floats, new_figure, no_run, styled
from repro.results.view import Summary
from repro.studies.stitching.report import LEARNERS, REGIME_WORDS, SHORT_DATA, entries

REGIMES = ("fixed", "procedural")


@styled
def draw_fig10_stitching(summary: Summary) -> Figure:
    fig, axes = new_figure(1, len(REGIMES), 3.4)
    x = list(range(len(BANDS)))
    styles_drawn: set[str] = set()
    for ax, regime in zip(axes[0], REGIMES, strict=True):
        drawn = False
        for k, learner in enumerate(LEARNERS):
            if learner.regime != regime:
                continue
            normal, strict = entries(summary, learner)
            short = entries(summary, learner, SHORT_DATA)[1]
            for e, style in zip((normal, strict, short), ("-", "--", ":"), strict=True):
                if e is None:
                    continue
                y = floats([e.mean(f"spearman_cross_{band_name(b)}") for b in BANDS])
                text = learner.label.replace("\\ ", " ") if style == "-" else None
                ax.plot(x, y, color=f"C{k}", linestyle=style, marker="o", markersize=3, label=text)
                drawn = True
                styles_drawn.add(style)
        ax.set_title(REGIME_WORDS[regime], fontsize=MIN_PT + 1)
        if not drawn:
            no_run(ax)
            continue
        ax.set_xticks(x, [band_name(b) for b in BANDS])
        ax.set_xlabel("BFS distance, cross-quadrant test trajectories")
        ax.set_ylim(-0.1, 1.05)
    axes[0, 0].set_ylabel("Spearman $\\rho$")
    handles = [h for ax in axes[0] for h in ax.get_legend_handles_labels()[0]]
    if handles:  # one legend below both panels, with the line styles' meaning
        meaning = (("-", "normal data"), ("--", "strict stitching data"), (":", "short paths"))
        styles = [Line2D([], [], color="0.3", linestyle=ls, label=text)
                  for ls, text in meaning if ls in styles_drawn]  # fmt: skip
        fig.legend(handles=handles + styles, loc="outside lower center", ncol=3, fontsize=MIN_PT)
    return fig
