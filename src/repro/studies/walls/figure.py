"""The walls study's figure (fig9): unseen mazes, against training steps, the MLPs (the main
study's snapshots) and the convolutional models (the study's headline arm, and the field of its
longer arm), with the Manhattan and oracle levels."""

from __future__ import annotations

from matplotlib.figure import Figure

from repro.report.figures import MIN_PT, floats, new_figure, no_run, steps_formatter, styled
from repro.results.view import Entry, Summary
from repro.studies.arms import study_of

REGIME = "procedural"
PANELS = (
    ("spearman_full", "walls_detour_spearman", "Spearman $\\rho$, full test set"),
    ("detour_spearman", "walls_detour_spearman", "Spearman $\\rho$, detour states"),
    ("greedy_solved", "greedy_solved", "greedy solved"),
)  # (snapshot metric, the baselines' metric of the same thing, title)
MODELS = (  # (where, name, colour, line)
    ("main", "supervised-normal", "C0", ":"),
    ("main", "contrastive-normal", "C3", ":"),
    ("headline", "supervised_conv-normal", "C0", "-"),
    ("headline", "contrastive_conv-normal", "C3", "-"),
    ("longer", "supervised_conv-normal", "C0", "--"),
)


def _entry(summary: Summary, where: str, name: str) -> Entry | None:
    if where == "main":
        return summary.run(REGIME, name)
    study = study_of(summary, "walls")
    return None if study is None else study.runs(where, REGIME).get(name)


@styled
def draw_fig9_walls(summary: Summary) -> Figure:
    fig, axes = new_figure(1, len(PANELS), 2.4)
    top = 0
    for ax, (key, level_key, title) in zip(axes[0], PANELS, strict=True):
        drawn = False
        for where, name, color, line in MODELS:
            tl = None if (e := _entry(summary, where, name)) is None else e.training_length
            means = None if tl is None else tl.means(key)
            if not means:
                continue
            top = max(top, max(tl.steps))
            label = f"{name.split('-')[0].replace('_conv', ', conv')}" + (
                "" if where != "longer" else " (longer)"
            )
            ax.plot(tl.steps, floats(means), color=color, linestyle=line, marker="o",
                    markersize=2, label=label)  # fmt: skip
            drawn = True
        for kind, style in (("manhattan", "--"), ("oracle", ":")):
            base = summary.run(REGIME, kind)
            k = "spearman_full" if key == "spearman_full" else level_key
            v = None if base is None else base.mean(k)
            if v is not None:
                ax.axhline(v, color="0.45" if kind == "manhattan" else "black",
                           linestyle=style, linewidth=0.8, label=kind)  # fmt: skip
        if not drawn:
            no_run(ax)
        ax.set_title(title)
        ax.set_xlabel("training steps")
        ax.xaxis.set_major_formatter(steps_formatter(top))
    handles, labels = axes[0][0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncol=4, fontsize=MIN_PT)
    return fig
