"""The report's figures, drawn from the summary alone (read through :mod:`repro.results.view`).

The paper's four (``PAPER_FIGURES``), then metrics vs training length (fig5) and
the supervised regression vs classification head heatmaps (fig6). A study's figures
(planning across maze families, fig7; the generalization curves, fig8) are its own, in
its package under :mod:`repro.studies`, drawn with the helpers here.

Each figure has a ``draw_*`` function that takes the summary (a dict or a
:class:`~repro.results.view.Summary`) and returns the
:class:`matplotlib.figure.Figure`, so tests can read what it plots;
:func:`write_figure` draws one and writes ``<name>.pdf`` (for the LaTeX
report) and ``<name>.png`` (150 dpi, for the README) into an output folder and
returns the two paths. The output is byte-for-byte deterministic: the PDF
carries no dates and no producer string, the PNG no software tag.

Figures are built as bare :class:`matplotlib.figure.Figure` objects (never
through ``pyplot``), so nothing is registered with a GUI backend, no global
backend is switched, and a figure is freed as soon as it goes out of scope.
PNGs are rendered by Agg, PDFs by matplotlib's PDF backend.

Missing runs (a configuration or an ablation variant that did not run in a
regime), missing baselines and missing training-length metrics are skipped:
their panel says "no run".
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogFormatter

from repro.config import CONFIGS, REGIMES
from repro.core.heuristics import BASELINES
from repro.core.planning import MODES
from repro.results.view import Entry, Summary, as_summary

MODE_TITLES = {"search": "best-first search", "greedy": "greedy descent"}
BASELINE_STYLES = dict(  # grey, broken lines, so the models' colours stand out
    zip(
        BASELINES,
        (
            {"color": "black", "linestyle": "--"},
            {"color": "0.45", "linestyle": "-."},
            {"color": "0.6", "linestyle": ":"},
        ),
        strict=True,
    )
)
CONFIG_COLORS = dict(zip(CONFIGS, ("C0", "C9", "C3", "C1", "C2", "C4", "C5"), strict=False))
# fig5: (training_length metric key, panel title, y label)
LENGTH_PANELS = (
    ("spearman_full", "Spearman $\\rho$, full test set", "Spearman $\\rho$"),
    ("greedy_solved", "greedy descent: solved", "solved rate"),
    ("search_expanded", "best-first search: expanded", "expanded states (mean)"),
)
# fig6: the supervised head ablation against its regression counterpart
HEAD_REGRESSION = "supervised-normal"
HEAD_CLASSIFICATION = "supervised-normal+classification"
HEAD_COLORS = {"regression": CONFIG_COLORS[HEAD_REGRESSION], "classification": "C4"}
HEAD_BINS = 10  # histogram bins of the fractional parts over [-0.5, 0.5]

WIDTH_IN = 6.8  # a LaTeX \textwidth of ~6.3 in, scaled down a little when included
PNG_DPI = 150
PDF_METADATA: dict[str, Any] = {
    "Creator": "repro",
    "Producer": None,
    "CreationDate": None,
    "ModDate": None,
}
PNG_METADATA: dict[str, Any] = {"Software": None}
MIN_PT = 8  # the smallest text of any figure, at print size (figures are drawn at text width)
RC: dict[str, Any] = {
    "font.size": MIN_PT,
    "axes.titlesize": MIN_PT,
    "axes.labelsize": MIN_PT,
    "xtick.labelsize": MIN_PT,
    "ytick.labelsize": MIN_PT,
    "legend.fontsize": MIN_PT,
    "axes.linewidth": 0.6,
    "lines.linewidth": 1.0,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.minor.width": 0.4,
    "ytick.minor.width": 0.4,
    "pdf.fonttype": 42,  # TrueType subsets: selectable text, accepted by publishers
    "svg.hashsalt": "repro",
    "path.simplify": True,
}


# ---------------------------------------------------------------------------- helpers


def new_figure(nrows: int, ncols: int, height_in: float) -> tuple[Figure, np.ndarray]:
    fig = Figure(figsize=(WIDTH_IN, height_in), layout="constrained")
    fig.get_layout_engine().set(w_pad=0.02, h_pad=0.02, wspace=0.02, hspace=0.02)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def _save(fig: Figure, out_dir: Path, name: str) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pdf, png = out_dir / f"{name}.pdf", out_dir / f"{name}.png"
    fig.savefig(pdf, format="pdf", metadata=PDF_METADATA)
    # Drawing the PDF placed every axes (constrained layout). The PNG keeps that placement
    # instead of solving the layout a second time, a third of a figure's drawing time.
    fig.set_layout_engine("none")
    fig.savefig(png, format="png", dpi=PNG_DPI, metadata=PNG_METADATA)
    fig.clear()
    return [pdf, png]


def no_run(ax: Axes, text: str = "no run") -> None:
    """An empty panel that says why it is empty."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="0.4")
    for spine in ax.spines.values():
        spine.set_color("0.7")


def floats(values: Sequence[Any]) -> np.ndarray:
    """A list that may hold None (JSON null) as a float array with NaN."""
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _grid(values: Sequence[Sequence[Any]]) -> np.ndarray:
    """A nested list that may hold None as a float (rows, cols) array with NaN."""
    return np.array([[np.nan if v is None else v for v in row] for row in values], np.float64)


def fractional_parts(h: Mapping[str, Any] | None) -> np.ndarray:
    """``pred - round(pred)`` (in [-0.5, 0.5]) on a heatmap's free cells with a prediction.

    Values that cluster at 0 mean the predicted distances sit on integers.
    """
    if not h:
        return np.zeros(0)
    pred = _grid(h["pred"])
    free = ~np.asarray(h["walls"], dtype=bool) & np.isfinite(pred)
    p = pred[free]
    return p - np.round(p)


def display_scale(pred: np.ndarray, true: np.ndarray) -> float:
    """One positive factor ``c`` that puts predictions on the scale of the true steps for
    display: mean(true) / mean(pred) over the finite pairs (1.0 when that is undefined).

    Only a positive factor, no offset and no fitted slope: the drawn curve has the
    prediction's own shape and order (a flat prediction stays flat, a falling one falls),
    and a supervised model, already in steps, is shown with a factor near 1.
    """
    ok = np.isfinite(pred) & np.isfinite(true)
    p, t = pred[ok], true[ok]
    if p.size == 0 or p.mean() <= 0 or t.mean() <= 0:
        return 1.0
    return float(t.mean() / p.mean())


class _PlainLogFormatter(LogFormatter):
    """LogFormatter's choice of which ticks to label, written as plain numbers (0.1, 6, 20)."""

    def __call__(self, x, pos=None):
        return f"{x:g}" if super().__call__(x, pos) else ""


def _log_axis_plain(axis) -> None:
    """Plain-number labels on a log axis; every minor tick labelled below half a decade."""
    axis.set_major_formatter(_PlainLogFormatter())
    axis.set_minor_formatter(_PlainLogFormatter(minor_thresholds=(2, 0.5)))


def steps_formatter(max_step: float) -> FuncFormatter:
    """Training steps as 5k, 10k, ... once they reach the thousands."""
    if max_step >= 1000:
        return FuncFormatter(lambda v, _pos: f"{v / 1000:g}k" if v else "0")
    return FuncFormatter(lambda v, _pos: f"{v:g}")


def _row_label(ax: Axes, regime: str) -> None:
    """The regime name, bold, left of a row (drawn as part of the y label)."""
    label = ax.get_ylabel()
    ax.set_ylabel(f"$\\bf{{{regime}}}$" + (f"\n{label}" if label else ""))


def _heatmap(fig: Figure, ax: Axes, h: Mapping[str, Any] | None, key: str) -> None:
    """``h[key]`` ("bfs" or "pred") over the maze: walls black, goal a red star, own colour bar.

    ``h`` is an :attr:`Entry.heatmap <repro.results.view.Entry.heatmap>`; without one the
    panel says "no run".
    """
    if not h:
        no_run(ax)
        ax.set_box_aspect(1)
        return
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="black")
    values = _grid(h[key])
    walls = np.asarray(h["walls"], dtype=bool)
    masked = np.ma.masked_array(values, mask=walls | ~np.isfinite(values))
    im = ax.imshow(masked, cmap=cmap, interpolation="nearest")
    r, c = h["goal"]
    ax.plot(
        c,
        r,
        marker="*",
        color="red",
        markersize=8,
        markeredgecolor="white",
        markeredgewidth=0.5,
        linestyle="none",
    )
    ax.set_xticks([])
    ax.set_yticks([])
    cb = fig.colorbar(im, ax=ax, shrink=0.8, fraction=0.08, pad=0.03, aspect=15)
    cb.ax.tick_params(labelsize=MIN_PT, length=2, width=0.4)
    cb.outline.set_linewidth(0.4)


def styled(draw: Callable[[Summary], Figure]) -> Callable[[Summary | Mapping], Figure]:
    """``draw`` run on the summary's view under the figures' rcParams (:data:`RC`)."""

    @functools.wraps(draw)
    def styled(summary: Summary | Mapping[str, Any]) -> Figure:
        with matplotlib.rc_context(RC):
            return draw(as_summary(summary))

    return styled


# ---------------------------------------------------------------------------- fig1


def _trajectory_panel(ax: Axes, entry: Entry | None, config: str, bottom: bool) -> None:
    """One model's protocol trajectories, as the paper draws them: each trajectory's true
    remaining steps (dashed) and its predicted distance (solid) in one colour, the
    predictions multiplied by one positive factor per panel (:func:`display_scale`)."""
    trajs = entry.trajectories if entry else []
    if not trajs:
        no_run(ax)
        ax.set_title(config)
        return
    colors = matplotlib.colormaps["tab10"].colors
    preds = [floats(t["pred"]) for t in trajs]
    trues = [floats(t["true"]) for t in trajs]
    c = display_scale(np.concatenate(preds), np.concatenate(trues))
    for k, (p, t) in enumerate(zip(preds, trues, strict=True)):
        color = colors[k % len(colors)]
        ax.plot(np.arange(t.size), t, color=color, linestyle="--", linewidth=0.8)
        ax.plot(np.arange(p.size), c * p, color=color, linewidth=1.0)
    rho = entry.mean("spearman_paper")
    rho_s = "n/a" if rho is None else f"{round(rho, 2) + 0.0:.2f}"  # + 0.0: no "-0.00"
    rho_s = rho_s.replace("-", "\N{MINUS SIGN}")
    ax.set_title(f"{config}\nSpearman $\\rho$ = {rho_s}")
    ax.text(0.97, 0.95, f"prediction $\\times$ {c:.3g}", transform=ax.transAxes, ha="right",
            va="top", fontsize=MIN_PT, color="0.3")  # fmt: skip
    ax.set_xlim(left=0)
    if bottom:
        ax.set_xlabel("step $t$")


@styled
def draw_fig1_trajectories(summary: Summary) -> Figure:
    """Predicted (solid) and true (dashed) remaining steps on the 10 protocol trajectories.

    Rows: REGIMES; columns: CONFIGS; every panel of a row shares its y axis. Lines per
    panel: (true, scaled prediction) per trajectory, the prediction times the panel's
    :func:`display_scale` (printed in the panel).
    """
    fig, axes = new_figure(len(REGIMES), len(CONFIGS), 3.9)
    for i, regime in enumerate(REGIMES):
        for j, config in enumerate(CONFIGS):
            ax = axes[i, j]
            _trajectory_panel(ax, summary.run(regime, config), config, i == len(REGIMES) - 1)
            if j == 0:
                ax.set_ylabel("remaining steps")
                _row_label(ax, regime)
        _share_rows_y(axes[i])
    handles = [
        Line2D(
            [], [], color="black", label="predicted $d(s_t, s_T)$, one positive scale per panel"
        ),
        Line2D([], [], color="black", linestyle="--", label="true $T - t$"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=2, frameon=False)
    return fig


def _share_rows_y(row) -> None:
    """One y range for every drawn panel of a row (from 0 to the largest top)."""
    drawn = [ax for ax in row if ax.get_lines()]
    if drawn:
        top = max(ax.get_ylim()[1] for ax in drawn)
        bottom = min(0.0, *(ax.get_ylim()[0] for ax in drawn))
        for ax in drawn:
            ax.set_ylim(bottom, top)


# ---------------------------------------------------------------------------- fig2


@styled
def draw_fig2_heatmaps(summary: Summary) -> Figure:
    """BFS distance to the goal, then each model's predicted distance, one row per regime.

    Walls are black; the goal is a red star; every panel has its own colour scale.
    Columns: the BFS truth (of the first model with a heatmap), then CONFIGS.
    """
    columns = ("BFS (truth)", *CONFIGS)
    fig, axes = new_figure(len(REGIMES), len(columns), 3.2)
    for i, regime in enumerate(REGIMES):
        heat = {c: (e.heatmap if (e := summary.run(regime, c)) else None) for c in CONFIGS}
        first = next((h for h in heat.values() if h), None)
        for j, column in enumerate(columns):
            ax = axes[i, j]
            h = first if j == 0 else heat[column]
            ax.set_title(column.replace("-", "-\n", 1) if j else "BFS distance\n(truth)")
            _heatmap(fig, ax, h, "bfs" if j == 0 else "pred")
            if j == 0:
                _row_label(ax, regime)
    return fig


# ---------------------------------------------------------------------------- fig3


def _budget_lines(ax: Axes, summary: Summary, regime: str, mode: str) -> dict[str, Line2D]:
    """Plot the solved-rate curves of the models, then of the baselines; the lines by name."""
    lines: dict[str, Line2D] = {}
    for name in (*CONFIGS, *BASELINES):
        entry = summary.run(regime, name)
        curve = entry.curve(mode) if entry else None
        if not curve:
            continue
        y = floats(curve)
        style = (
            {"color": CONFIG_COLORS[name], "linewidth": 1.2}
            if name in CONFIGS
            else {"linewidth": 0.9, **BASELINE_STYLES[name]}
        )
        (lines[name],) = ax.plot(np.arange(1, y.size + 1), y, label=name, **style)
    return lines


@styled
def draw_fig3_budget(summary: Summary) -> Figure:
    """Solved rate vs expansion budget: models (solid) and baselines (grey, dashed/dotted).

    Rows: REGIMES; columns: MODES. Each panel's lines, in order: the CONFIGS that ran,
    then the BASELINES that ran; line k's y data is the curve for budgets 1..B.
    """
    fig, axes = new_figure(len(REGIMES), len(MODES), 3.9)
    handles: dict[str, Line2D] = {}
    for i, regime in enumerate(REGIMES):
        for j, mode in enumerate(MODES):
            ax = axes[i, j]
            lines = _budget_lines(ax, summary, regime, mode)
            for name, line in lines.items():
                handles.setdefault(name, line)
            ax.set_title(f"{regime}: {MODE_TITLES[mode]}")
            if not lines:
                no_run(ax)
                continue
            ax.set_xscale("log")
            ax.set_xlim(left=1)
            ax.set_ylim(-0.02, 1.02)
            ax.grid(True, which="major", linewidth=0.3, color="0.85")
            if i == len(REGIMES) - 1:
                ax.set_xlabel("expansion budget (states)")
            if j == 0:
                ax.set_ylabel("solved rate")
    order = [k for k in (*CONFIGS, *BASELINES) if k in handles]
    if order:
        fig.legend(handles=[handles[k] for k in order], loc="outside right center", frameon=False)
    return fig


# ---------------------------------------------------------------------------- fig4


def _loss_panel(ax: Axes, entry: Entry | None, config: str, bottom: bool) -> None:
    """One model's loss log: the mean over seeds (the panel's one line), min-max shaded."""
    loss = entry.loss if entry else None
    if loss is None or not loss.step:
        no_run(ax)
        return
    step = floats(loss.step)
    mean, lo, hi = (floats(v) for v in (loss.mean, loss.min, loss.max))
    color = CONFIG_COLORS[config]
    ax.fill_between(step, lo, hi, color=color, alpha=0.25, linewidth=0)
    ax.plot(step, mean, color=color, linewidth=0.9)
    finite = np.concatenate([lo, mean, hi])
    finite = finite[np.isfinite(finite)]
    # One scale for both losses: log (the squared error falls by decades; the InfoNCE loss,
    # a cross-entropy, is positive too), plain numbers (0.5, 2, 10) on majors and minors.
    if finite.size and finite.min() > 0:
        ax.set_yscale("log")
        _log_axis_plain(ax.yaxis)
    ax.grid(True, which="major", linewidth=0.3, color="0.85")
    ax.xaxis.set_major_formatter(steps_formatter(float(np.nanmax(step))))
    if bottom:
        ax.set_xlabel("training step")


# Each method's training loss by its name, as Figure 4's axes say it.
LOSS_NAMES = {"supervised": "MSE (steps$^2$)", "contrastive": "InfoNCE (nats)"}


@styled
def draw_fig4_loss(summary: Summary) -> Figure:
    """Training loss: mean over seeds (line) and min-max over seeds (shaded).

    Rows: REGIMES; columns: CONFIGS; a panel's one line is (step, mean loss).
    """
    fig, axes = new_figure(len(REGIMES), len(CONFIGS), 3.6)
    for i, regime in enumerate(REGIMES):
        for j, config in enumerate(CONFIGS):
            ax = axes[i, j]
            ax.set_title(config)
            _loss_panel(ax, summary.run(regime, config), config, i == len(REGIMES) - 1)
            ax.set_ylabel(LOSS_NAMES[config.partition("-")[0]])
            if j == 0:
                _row_label(ax, regime)
    return fig


# ---------------------------------------------------------------------------- fig5


def _length_lines(ax: Axes, summary: Summary, regime: str, key: str) -> dict[str, Line2D]:
    """Plot metric ``key`` vs training steps for every model that recorded it: the mean over
    seeds (a line with markers) and the min-max (shaded). The lines by configuration."""
    lines: dict[str, Line2D] = {}
    for config in CONFIGS:
        entry = summary.run(regime, config)
        length = entry.training_length if entry else None
        aggs = length.series(key) if length else None
        if not length or not length.steps or not aggs:
            continue
        step = floats(length.steps)
        mean, lo, hi = (
            floats([None if a is None else getattr(a, k) for a in aggs])
            for k in ("mean", "min", "max")
        )
        color = CONFIG_COLORS[config]
        ax.fill_between(step, lo, hi, color=color, alpha=0.2, linewidth=0)
        (lines[config],) = ax.plot(
            step, mean, color=color, marker="o", markersize=2.5, label=config
        )
    return lines


def _length_axes(ax: Axes, key: str, steps: list[float], bottom: bool) -> None:
    """Ticks at the snapshot steps (if few), the axis limits and the grid of a fig5 panel."""
    if len(steps) <= 8:
        ax.set_xticks(steps)
    ax.xaxis.set_major_formatter(steps_formatter(max(steps)))
    if key == "greedy_solved":
        ax.set_ylim(-0.02, 1.02)
    ax.grid(True, which="major", linewidth=0.3, color="0.85")
    if bottom:
        ax.set_xlabel("training steps")


@styled
def draw_fig5_training_length(summary: Summary) -> Figure:
    """Evaluation metrics vs training steps: mean over seeds (line) and min-max (shaded).

    Rows: REGIMES; columns (LENGTH_PANELS): full-test-set Spearman, greedy solved rate,
    best-first mean expanded states. A panel's lines: the CONFIGS that recorded the
    metric, each (steps, mean over seeds).
    """
    fig, axes = new_figure(len(REGIMES), len(LENGTH_PANELS), 3.6)
    handles: dict[str, Line2D] = {}
    for i, regime in enumerate(REGIMES):
        for j, (key, title, ylabel) in enumerate(LENGTH_PANELS):
            ax = axes[i, j]
            ax.set_title(title)
            lines = _length_lines(ax, summary, regime, key)
            steps = {
                float(x) for line in lines.values() for x in line.get_xdata() if np.isfinite(x)
            }
            for config, line in lines.items():
                handles.setdefault(config, line)
            if not steps:
                no_run(ax)
            else:
                _length_axes(ax, key, sorted(steps), i == len(REGIMES) - 1)
            ax.set_ylabel(ylabel)
            if j == 0:
                _row_label(ax, regime)
    order = [k for k in CONFIGS if k in handles]
    if order:
        fig.legend(
            handles=[handles[k] for k in order],
            loc="outside lower center",
            ncols=len(order),
            frameon=False,
        )
    return fig


# ---------------------------------------------------------------------------- fig6


def _fraction_histograms(ax: Axes, heat: Mapping[str, Mapping[str, Any] | None]) -> None:
    """Histograms of ``pred - round(pred)`` per head (density; dotted: a uniform spread)."""
    ax.set_box_aspect(1)
    bins = np.linspace(-0.5, 0.5, HEAD_BINS + 1)
    drawn = 0
    for head, h in heat.items():
        frac = fractional_parts(h)
        if not frac.size:
            continue
        near = float(np.mean(np.abs(frac) <= 0.1))
        classification = head == "classification"
        ax.hist(
            frac,
            bins=bins,
            density=True,
            histtype="stepfilled" if classification else "step",
            color=HEAD_COLORS[head],
            alpha=0.5 if classification else 1.0,
            linewidth=1.0,
            label=f"{HEAD_SHORT[head]} {near:.0%}",
        )
        drawn += 1
    if not drawn:
        no_run(ax)
        return
    ax.axhline(1.0, color="0.45", linestyle=":", linewidth=0.8)
    ax.set_xlim(-0.5, 0.5)
    ax.set_xticks([-0.5, 0.0, 0.5])
    ax.set_ylabel("density")
    # The share within 0.1 of an integer per head (the caption says so): short enough to sit
    # above the bars at print size.
    ax.legend(loc="upper center", fontsize=MIN_PT, frameon=False, handlelength=1.0,
              borderaxespad=0.1, ncol=1)  # fmt: skip
    ax.set_ylim(0, ax.get_ylim()[1] * 1.7)


HEAD_SHORT = {"regression": "regr.", "classification": "class."}  # fig6's legend


def head_heatmaps(summary: Summary, regime: str) -> dict[str, Mapping[str, Any] | None]:
    """The regression and the classification head's heatmaps in ``regime`` (None if not run)."""
    runs = {"regression": HEAD_REGRESSION, "classification": HEAD_CLASSIFICATION}
    return {
        head: (e.heatmap if (e := summary.run(regime, run)) else None) for head, run in runs.items()
    }


@styled
def draw_fig6_head_heatmaps(summary: Summary) -> Figure:
    """The supervised head ablation: regression vs classification heatmaps, one row per regime.

    Columns: BFS distance (truth), supervised regression, supervised classification
    (the expected step count under the softmax), drawn as in :func:`draw_fig2_heatmaps`;
    then a histogram of the fractional parts ``pred - round(pred)`` on the free cells,
    which piles up at 0 when the predictions sit on integers ("sharply discretized").
    """
    titles = (
        "BFS distance\n(truth)",
        f"{HEAD_REGRESSION}\nregression head",
        f"{HEAD_REGRESSION}\nclassification head",
        "fractional part\npred $-$ round(pred)",
    )
    fig, axes = new_figure(len(REGIMES), len(titles), 3.2)
    for i, regime in enumerate(REGIMES):
        heat = head_heatmaps(summary, regime)
        first = next((h for h in heat.values() if h), None)
        maps = (first, heat["regression"], heat["classification"])
        for j, title in enumerate(titles):
            ax = axes[i, j]
            ax.set_title(title)
            if j < len(maps):
                _heatmap(fig, ax, maps[j], "bfs" if j == 0 else "pred")
            else:
                _fraction_histograms(ax, heat)
            if j == 0:
                _row_label(ax, regime)
    return fig


# ---------------------------------------------------------------------------- entry point

DRAW: dict[str, Callable[[Summary | Mapping[str, Any]], Figure]] = {
    "fig1_trajectories": draw_fig1_trajectories,
    "fig2_heatmaps": draw_fig2_heatmaps,
    "fig3_budget": draw_fig3_budget,
    "fig4_loss": draw_fig4_loss,
    "fig5_training_length": draw_fig5_training_length,
    "fig6_head_heatmaps": draw_fig6_head_heatmaps,
}
FIGURES = tuple(DRAW)  # the figures of every summary, in order (the studies add theirs)
PAPER_FIGURES = ("fig1_trajectories", "fig2_heatmaps", "fig3_budget", "fig4_loss")
Draw = Callable[[Summary | Mapping[str, Any]], Figure]


def write_figure(
    name: str, summary: Summary | Mapping[str, Any], out_dir: Path, draw: Draw | None = None
) -> list[Path]:
    """Draw figure ``name`` with ``draw`` (default: ``DRAW[name]``; a study's figure comes
    with its own, see :func:`repro.studies.registry.figure_draws`) and write its PDF and PNG
    into ``out_dir``; return the two paths."""
    draw = draw or DRAW[name]
    with matplotlib.rc_context(RC):  # the savers read it too
        return _save(draw(as_summary(summary)), Path(out_dir), name)


def main(
    summary: Summary | Mapping[str, Any], out_dir: Path, draws: Mapping[str, Draw] | None = None
) -> list[Path]:
    """Write every figure of ``draws`` (default :data:`DRAW`), PDF and PNG, into ``out_dir``;
    return the paths written."""
    view = as_summary(summary)
    paths: list[Path] = []
    for name, draw in (draws or DRAW).items():
        paths.extend(write_figure(name, view, Path(out_dir), draw))
    return paths
