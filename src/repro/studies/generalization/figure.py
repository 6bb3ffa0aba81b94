"""The generalization study's figure (fig8): each metric against training steps, on the
runs' own training mazes and on unseen mazes, with the baselines' levels."""

from __future__ import annotations

from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from repro.report.figures import MIN_PT, floats, new_figure, no_run, steps_formatter, styled
from repro.report.texfmt import LABELS
from repro.results.view import Summary
from repro.studies.generalization.results import GeneralizationStudy, study_of

# fig8 panels, row by row: (mazes, metric, title); each metric's two maze panels share a y range
STUDY_PANELS = (
    (
        ("train_mazes", "spearman_full", "Spearman $\\rho$, training mazes"),
        ("unseen_mazes", "spearman_full", "Spearman $\\rho$, unseen mazes"),
        ("unseen_mazes", "greedy_solved", "greedy solved, unseen mazes"),
    ),
    (
        ("train_mazes", "all_pairs", "all-pairs $\\rho$, training mazes"),
        ("unseen_mazes", "all_pairs", "all-pairs $\\rho$, unseen mazes"),
        ("unseen_mazes", "search_expanded", "search expanded, unseen mazes"),
    ),
)
STUDY_COLORS = ("C0", "C4", "C3", "C1")  # the 'models' arm's runs, in declaration order
LEVEL_STYLES = {  # the baselines' levels on the same mazes
    "manhattan": {"color": "0.45", "linestyle": "--", "linewidth": 0.8},
    "oracle": {"color": "black", "linestyle": ":", "linewidth": 0.8},
}


def study_styles(study: GeneralizationStudy) -> dict[str, dict[str, Any]]:
    """Line style per study run: a colour per model ('models' arm order); a run of the 'data'
    arm is dashed in the colour of the same model trained on fewer mazes."""
    styles: dict[str, dict[str, Any]] = {}
    models = study.arm("models")
    for i, run in enumerate(models):
        styles[run.label] = {"color": STUDY_COLORS[i % len(STUDY_COLORS)], "linestyle": "-"}
    for j, run in enumerate(r for r in study.runs if r.label not in styles):
        base = study.counterpart(run, "models")
        color = styles[base.label]["color"] if base else f"C{(len(models) + j) % 10}"
        styles[run.label] = {"color": color, "linestyle": "--"}
    return styles


def _study_panel(ax: Axes, study: GeneralizationStudy, mazes: str, key: str, styles) -> None:
    """One metric on one kind of mazes against training steps (log x): each run's mean over
    seeds, and the Manhattan and oracle levels (from the first run that has them)."""
    for run in study.runs:
        means = run.means(mazes, key)
        if means is None or not run.steps:
            continue
        label = f"{run.title()} ({run.n_trajectories or 0:,})"
        ax.plot(
            run.steps, floats(means), marker="o", markersize=2, label=label, **styles[run.label]
        )
    if not ax.lines:
        no_run(ax)
        return
    for kind, style in LEVEL_STYLES.items():
        level = next((x for r in study.runs if (x := r.level(kind, mazes, key)) is not None), None)
        if level is not None:
            ax.axhline(level, label=LABELS[kind], **style)
    if study.table_steps:  # the paper's training length
        ax.axvline(study.table_steps[0], color="0.8", linewidth=0.6, zorder=0)
    ax.set_xscale("log")
    ticks = sorted({*study.schedule[:1], *study.table_steps})  # the first and the table's steps
    ax.set_xticks(ticks)
    ax.xaxis.set_major_formatter(steps_formatter(max(study.schedule or (1,))))
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _pos: ""))
    ax.grid(True, which="major", linewidth=0.3, color="0.85")


@styled
def draw_fig8_generalization(summary: Summary) -> Figure:
    """The generalization study: each metric against training steps (log scale), on the
    runs' own training mazes and on unseen mazes side by side, with the Manhattan (dashed
    grey) and oracle (dotted) levels on the same mazes and the paper's training length
    (vertical line). Rows and columns: :data:`STUDY_PANELS`; a panel's lines: the study's
    runs (mean over seeds), dashed for the 'data' arm (more training mazes)."""
    study = study_of(summary)
    fig, axes = new_figure(len(STUDY_PANELS), len(STUDY_PANELS[0]), 4.0)
    if study is None:
        for ax in axes.flat:
            no_run(ax, "no generalization study")
        return fig
    styles = study_styles(study)
    for i, row in enumerate(STUDY_PANELS):
        for j, (mazes, key, title) in enumerate(row):
            ax = axes[i, j]
            ax.set_title(title)
            _study_panel(ax, study, mazes, key, styles)
            if i == len(STUDY_PANELS) - 1:
                ax.set_xlabel("training steps (log)")
        low = min(ax.get_ylim()[0] for ax in axes[i, :2])
        high = max(ax.get_ylim()[1] for ax in axes[i, :2])
        for ax in axes[i, :2]:  # training and unseen mazes on one scale
            ax.set_ylim(low, high)
    handles, labels = axes[0, 1].get_legend_handles_labels()
    if handles:
        fig.legend(
            handles,
            labels,
            loc="outside lower center",
            ncols=3,
            frameon=False,
            title="model (training mazes); grey: baselines on the same mazes",
            title_fontsize=MIN_PT,
        )
    return fig
