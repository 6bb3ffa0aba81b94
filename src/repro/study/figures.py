"""The report's figures, drawn from ``results/summary.json`` alone.

The paper's four (``PAPER_FIGURES``), then metrics vs training length (fig5) and
the supervised regression vs classification head heatmaps (fig6).

Each ``fig*`` function takes the summary dict and an output folder, writes
``<name>.pdf`` (for the LaTeX report) and ``<name>.png`` (150 dpi, for the
README) and returns the two paths. The output is byte-for-byte deterministic:
the PDF carries no dates and no producer string, the PNG no software tag.

Figures are built as bare :class:`matplotlib.figure.Figure` objects (never
through ``pyplot``), so nothing is registered with a GUI backend, no global
backend is switched, and a figure is freed as soon as it goes out of scope.
PNGs are rendered by Agg, PDFs by matplotlib's PDF backend.

Missing runs (a configuration absent from ``summary["runs"][regime]`` or from
``summary["ablations"]["runs"][regime]``), missing baselines and missing
training-length metrics are skipped: their panel says "no run".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogFormatter

from repro.config import CONFIGS, REGIMES
from repro.study.summary import MODES

CONFIG_NAMES = tuple(CONFIGS)  # the paper's four configurations, in their declared order
MODE_TITLES = {"search": "best-first search", "greedy": "greedy descent"}
BASELINE_STYLES = {
    "oracle": {"color": "black", "linestyle": "--"},
    "manhattan": {"color": "0.45", "linestyle": "-."},
    "constant": {"color": "0.6", "linestyle": ":"},
}
CONFIG_COLORS = dict(zip(CONFIG_NAMES, ("C0", "C9", "C3", "C1", "C2", "C4", "C5"), strict=False))
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

WIDTH_IN = 6.8  # a LaTeX \textwidth of ~6.3 in, scaled down a little when included
PNG_DPI = 150
PDF_METADATA: dict[str, Any] = {
    "Creator": "repro",
    "Producer": None,
    "CreationDate": None,
    "ModDate": None,
}
PNG_METADATA: dict[str, Any] = {"Software": None}
RC: dict[str, Any] = {
    "font.size": 7,
    "axes.titlesize": 7,
    "axes.labelsize": 7,
    "xtick.labelsize": 6,
    "ytick.labelsize": 6,
    "legend.fontsize": 6.5,
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


def _figure(nrows: int, ncols: int, height_in: float) -> tuple[Figure, np.ndarray]:
    fig = Figure(figsize=(WIDTH_IN, height_in), layout="constrained")
    fig.get_layout_engine().set(w_pad=0.02, h_pad=0.02, wspace=0.02, hspace=0.02)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def _save(fig: Figure, out_dir: Path, name: str) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pdf, png = out_dir / f"{name}.pdf", out_dir / f"{name}.png"
    fig.savefig(pdf, format="pdf", metadata=PDF_METADATA)
    fig.savefig(png, format="png", dpi=PNG_DPI, metadata=PNG_METADATA)
    fig.clear()
    return [pdf, png]


def _run(summary: dict[str, Any], regime: str, config: str) -> dict[str, Any] | None:
    return summary.get("runs", {}).get(regime, {}).get(config)


def _no_run(ax, text: str = "no run") -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="0.4")
    for spine in ax.spines.values():
        spine.set_color("0.7")


def _floats(values: Sequence[Any]) -> np.ndarray:
    """A list that may hold None (JSON null) as a float array with NaN."""
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _grid(values: Sequence[Sequence[Any]]) -> np.ndarray:
    return np.array([[np.nan if v is None else v for v in row] for row in values], np.float64)


def _ablation(summary: dict[str, Any], regime: str, variant: str) -> dict[str, Any] | None:
    return summary.get("ablations", {}).get("runs", {}).get(regime, {}).get(variant)


def fractional_parts(h: dict[str, Any] | None) -> np.ndarray:
    """``pred - round(pred)`` (in [-0.5, 0.5]) on a heatmap's free cells with a prediction.

    Values that cluster at 0 mean the predicted distances sit on integers.
    """
    if not h:
        return np.zeros(0)
    pred = _grid(h["pred"])
    free = ~np.asarray(h["walls"], dtype=bool) & np.isfinite(pred)
    p = pred[free]
    return p - np.round(p)


def _metric(entry: dict[str, Any], name: str) -> float | None:
    m = entry.get("metrics", {}).get(name)
    return None if m is None else m.get("mean")


def affine_fit(pred: np.ndarray, true: np.ndarray) -> tuple[float, float]:
    """Least-squares ``a, b`` with ``a * pred + b ~ true`` over the finite pairs, with ``a >= 0``.

    The slope is clamped at 0 (then ``b`` is the mean of ``true``) so that the display
    never turns a prediction that falls with the true distance into one that rises.
    Closed form, no LAPACK, so the numbers do not depend on the BLAS build.
    """
    ok = np.isfinite(pred) & np.isfinite(true)
    p, t = pred[ok], true[ok]
    if p.size == 0:
        return 1.0, 0.0
    dp, dt = p - p.mean(), t - t.mean()
    var = float(np.dot(dp, dp))
    a = max(float(np.dot(dp, dt)) / var, 0.0) if var > 0 else 0.0
    return a, float(t.mean() - a * p.mean())


class _PlainLogFormatter(LogFormatter):
    """LogFormatter's choice of which ticks to label, written as plain numbers (0.1, 6, 20)."""

    def __call__(self, x, pos=None):
        return f"{x:g}" if super().__call__(x, pos) else ""


def _log_axis_plain(axis) -> None:
    """Plain-number labels on a log axis; every minor tick labelled below half a decade."""
    axis.set_major_formatter(_PlainLogFormatter())
    axis.set_minor_formatter(_PlainLogFormatter(minor_thresholds=(2, 0.5)))


def _steps_formatter(max_step: float) -> FuncFormatter:
    """Training steps as 5k, 10k, ... once they reach the thousands."""
    if max_step >= 1000:
        return FuncFormatter(lambda v, _pos: f"{v / 1000:g}k" if v else "0")
    return FuncFormatter(lambda v, _pos: f"{v:g}")


def _row_label(ax, regime: str) -> None:
    """The regime name, bold, left of a row (drawn as part of the y label)."""
    label = ax.get_ylabel()
    ax.set_ylabel(f"$\\bf{{{regime}}}$" + (f"\n{label}" if label else ""))


def _heatmap(fig: Figure, ax, h: dict[str, Any] | None, key: str) -> None:
    """``h[key]`` ("bfs" or "pred") over the maze: walls black, goal a red star, own colour bar.

    ``h`` is an ``examples["heatmap"]`` entry; without one the panel says "no run".
    """
    if not h:
        _no_run(ax)
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
    cb.ax.tick_params(labelsize=5.5, length=2, width=0.4)
    cb.outline.set_linewidth(0.4)


# ---------------------------------------------------------------------------- figures


def fig1_trajectories(summary: dict[str, Any], out_dir: Path) -> list[Path]:
    """Predicted (solid) vs true (dashed) remaining steps on the 10 protocol trajectories.

    Each panel's predictions are mapped by one least-squares affine fit ``a*d + b``
    (over all its trajectories) onto the true remaining steps, since contrastive
    distances have no units; the fit is printed in the panel.
    """
    name = "fig1_trajectories"
    with matplotlib.rc_context(RC):
        fig, axes = _figure(len(REGIMES), len(CONFIG_NAMES), 3.9)
        colors = matplotlib.colormaps["tab10"].colors
        for i, regime in enumerate(REGIMES):
            for j, config in enumerate(CONFIG_NAMES):
                ax = axes[i, j]
                entry = _run(summary, regime, config)
                trajs = (entry or {}).get("examples", {}).get("trajectories") or []
                if not trajs:
                    _no_run(ax)
                    ax.set_title(config)
                else:
                    preds = [_floats(t["pred"]) for t in trajs]
                    trues = [_floats(t["true"]) for t in trajs]
                    a, b = affine_fit(np.concatenate(preds), np.concatenate(trues))
                    for k, (p, t) in enumerate(zip(preds, trues, strict=True)):
                        c = colors[k % len(colors)]
                        ax.plot(np.arange(t.size), t, color=c, linestyle="--", linewidth=0.8)
                        ax.plot(np.arange(p.size), a * p + b, color=c, linewidth=1.0)
                    rho = _metric(entry, "spearman_paper")
                    rho_s = "n/a" if rho is None else f"{round(rho, 2) + 0.0:.2f}"
                    rho_s = rho_s.replace("-", "\N{MINUS SIGN}")
                    ax.set_title(f"{config}\nSpearman $\\rho$ = {rho_s}")
                    ax.text(
                        0.97,
                        0.95,
                        f"shown: {a:.3g}$\\cdot$d {'+' if b >= 0 else '−'} {abs(b):.3g}",
                        transform=ax.transAxes,
                        ha="right",
                        va="top",
                        fontsize=5.5,
                        color="0.3",
                    )
                    ax.set_xlim(left=0)
                    ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))
                    if i == len(REGIMES) - 1:
                        ax.set_xlabel("step $t$")
                if j == 0:
                    ax.set_ylabel("remaining steps")
                    _row_label(ax, regime)
        handles = [
            Line2D([], [], color="black", label="predicted $d(s_t, s_T)$, affine-rescaled"),
            Line2D([], [], color="black", linestyle="--", label="true $T - t$"),
        ]
        fig.legend(handles=handles, loc="outside lower center", ncols=2, frameon=False)
        return _save(fig, out_dir, name)


def fig2_heatmaps(summary: dict[str, Any], out_dir: Path) -> list[Path]:
    """BFS distance to the goal, then each model's predicted distance, one row per regime.

    Walls are black; the goal is a red star; every panel has its own colour scale.
    """
    name = "fig2_heatmaps"
    columns = ("BFS (truth)", *CONFIG_NAMES)
    with matplotlib.rc_context(RC):
        fig, axes = _figure(len(REGIMES), len(columns), 3.2)
        for i, regime in enumerate(REGIMES):
            heat = {
                c: (_run(summary, regime, c) or {}).get("examples", {}).get("heatmap")
                for c in CONFIG_NAMES
            }
            first = next((h for h in heat.values() if h), None)
            for j, column in enumerate(columns):
                ax = axes[i, j]
                h = first if j == 0 else heat[column]
                ax.set_title(column.replace("-", "-\n", 1) if j else "BFS distance\n(truth)")
                _heatmap(fig, ax, h, "bfs" if j == 0 else "pred")
                if j == 0:
                    _row_label(ax, regime)
        return _save(fig, out_dir, name)


def fig3_budget(summary: dict[str, Any], out_dir: Path) -> list[Path]:
    """Solved rate vs expansion budget: models (solid) and baselines (grey, dashed/dotted)."""
    name = "fig3_budget"
    with matplotlib.rc_context(RC):
        fig, axes = _figure(len(REGIMES), len(MODES), 3.9)
        handles: dict[str, Line2D] = {}
        for i, regime in enumerate(REGIMES):
            baselines = summary.get("baselines", {}).get(regime, {})
            for j, mode in enumerate(MODES):
                ax = axes[i, j]
                drawn = 0
                for config in CONFIG_NAMES:
                    curve = ((_run(summary, regime, config) or {}).get("curves") or {}).get(mode)
                    if curve:
                        y = _floats(curve)
                        (line,) = ax.plot(
                            np.arange(1, y.size + 1),
                            y,
                            label=config,
                            color=CONFIG_COLORS[config],
                            linewidth=1.2,
                        )
                        handles.setdefault(config, line)
                        drawn += 1
                for kind, style in BASELINE_STYLES.items():
                    curve = (baselines.get(kind, {}).get("curves") or {}).get(mode)
                    if curve:
                        y = _floats(curve)
                        (line,) = ax.plot(
                            np.arange(1, y.size + 1), y, label=kind, linewidth=0.9, **style
                        )
                        handles.setdefault(kind, line)
                        drawn += 1
                ax.set_title(f"{regime}: {MODE_TITLES[mode]}")
                if not drawn:
                    _no_run(ax)
                    continue
                ax.set_xscale("log")
                ax.set_xlim(left=1)
                ax.set_ylim(-0.02, 1.02)
                ax.grid(True, which="major", linewidth=0.3, color="0.85")
                if i == len(REGIMES) - 1:
                    ax.set_xlabel("expansion budget (states)")
                if j == 0:
                    ax.set_ylabel("solved rate")
        order = [k for k in (*CONFIG_NAMES, *BASELINE_STYLES) if k in handles]
        if order:
            fig.legend(
                handles=[handles[k] for k in order], loc="outside right center", frameon=False
            )
        return _save(fig, out_dir, name)


def fig4_loss(summary: dict[str, Any], out_dir: Path) -> list[Path]:
    """Training loss: mean over seeds (line) and min-max over seeds (shaded)."""
    name = "fig4_loss"
    with matplotlib.rc_context(RC):
        fig, axes = _figure(len(REGIMES), len(CONFIG_NAMES), 3.6)
        for i, regime in enumerate(REGIMES):
            for j, config in enumerate(CONFIG_NAMES):
                ax = axes[i, j]
                ax.set_title(config)
                loss = (_run(summary, regime, config) or {}).get("loss")
                if not loss or not loss.get("step"):
                    _no_run(ax)
                else:
                    step = _floats(loss["step"])
                    mean, lo, hi = (_floats(loss[k]) for k in ("mean", "min", "max"))
                    color = CONFIG_COLORS[config]
                    ax.fill_between(step, lo, hi, color=color, alpha=0.25, linewidth=0)
                    ax.plot(step, mean, color=color, linewidth=0.9)
                    finite = np.concatenate([lo, mean, hi])
                    finite = finite[np.isfinite(finite)]
                    if config.startswith("supervised") and finite.size and finite.min() > 0:
                        ax.set_yscale("log")
                        # plain numbers (0.5, 2, 10), not 5x10^-1, on majors and minors
                        _log_axis_plain(ax.yaxis)
                    ax.grid(True, which="major", linewidth=0.3, color="0.85")
                    ax.xaxis.set_major_formatter(_steps_formatter(float(np.nanmax(step))))
                    if i == len(REGIMES) - 1:
                        ax.set_xlabel("training step")
                if j == 0:
                    ax.set_ylabel("loss")
                    _row_label(ax, regime)
        return _save(fig, out_dir, name)


def fig5_training_length(summary: dict[str, Any], out_dir: Path) -> list[Path]:
    """Evaluation metrics vs training steps: mean over seeds (line) and min-max (shaded).

    Columns: full-test-set Spearman, greedy solved rate, best-first mean expanded states.
    """
    name = "fig5_training_length"
    with matplotlib.rc_context(RC):
        fig, axes = _figure(len(REGIMES), len(LENGTH_PANELS), 3.6)
        handles: dict[str, Line2D] = {}
        for i, regime in enumerate(REGIMES):
            for j, (key, title, ylabel) in enumerate(LENGTH_PANELS):
                ax = axes[i, j]
                ax.set_title(title)
                steps_seen: set[float] = set()
                for config in CONFIG_NAMES:
                    length = (_run(summary, regime, config) or {}).get("training_length") or {}
                    aggs = (length.get("metrics") or {}).get(key)
                    if not length.get("steps") or not aggs:
                        continue
                    step = _floats(length["steps"])
                    mean, lo, hi = (
                        _floats([(a or {}).get(k) for a in aggs]) for k in ("mean", "min", "max")
                    )
                    color = CONFIG_COLORS[config]
                    ax.fill_between(step, lo, hi, color=color, alpha=0.2, linewidth=0)
                    (line,) = ax.plot(
                        step, mean, color=color, marker="o", markersize=2.5, label=config
                    )
                    handles.setdefault(config, line)
                    steps_seen.update(float(x) for x in step[np.isfinite(step)])
                if not steps_seen:
                    _no_run(ax)
                else:
                    ticks = sorted(steps_seen)
                    if len(ticks) <= 8:
                        ax.set_xticks(ticks)
                    ax.xaxis.set_major_formatter(_steps_formatter(max(ticks)))
                    if key == "greedy_solved":
                        ax.set_ylim(-0.02, 1.02)
                    ax.grid(True, which="major", linewidth=0.3, color="0.85")
                    if i == len(REGIMES) - 1:
                        ax.set_xlabel("training steps")
                ax.set_ylabel(ylabel)
                if j == 0:
                    _row_label(ax, regime)
        order = [k for k in CONFIG_NAMES if k in handles]
        if order:
            fig.legend(
                handles=[handles[k] for k in order],
                loc="outside lower center",
                ncols=len(order),
                frameon=False,
            )
        return _save(fig, out_dir, name)


def fig6_head_heatmaps(summary: dict[str, Any], out_dir: Path) -> list[Path]:
    """The supervised head ablation: regression vs classification heatmaps, one row per regime.

    Columns: BFS distance (truth), supervised regression, supervised classification
    (the expected step count under the softmax), drawn as in :func:`fig2_heatmaps`;
    then a histogram of the fractional parts ``pred - round(pred)`` on the free cells,
    which piles up at 0 when the predictions sit on integers ("sharply discretized").
    """
    name = "fig6_head_heatmaps"
    titles = (
        "BFS distance\n(truth)",
        f"{HEAD_REGRESSION}\nregression head",
        f"{HEAD_REGRESSION}\nclassification head",
        "fractional part\npred $-$ round(pred)",
    )
    bins = np.linspace(-0.5, 0.5, 11)
    with matplotlib.rc_context(RC):
        fig, axes = _figure(len(REGIMES), len(titles), 3.2)
        for i, regime in enumerate(REGIMES):
            heat = {
                "regression": (_run(summary, regime, HEAD_REGRESSION) or {}),
                "classification": (_ablation(summary, regime, HEAD_CLASSIFICATION) or {}),
            }
            heat = {k: v.get("examples", {}).get("heatmap") for k, v in heat.items()}
            first = next((h for h in heat.values() if h), None)
            for j, title in enumerate(titles):
                ax = axes[i, j]
                ax.set_title(title)
                if j < 3:
                    h = (first, heat["regression"], heat["classification"])[j]
                    _heatmap(fig, ax, h, "bfs" if j == 0 else "pred")
                else:
                    ax.set_box_aspect(1)
                    drawn = 0
                    for head, h in heat.items():
                        frac = fractional_parts(h)
                        if frac.size:
                            near = float(np.mean(np.abs(frac) <= 0.1))
                            ax.hist(
                                frac,
                                bins=bins,
                                density=True,
                                histtype="stepfilled" if head == "classification" else "step",
                                color=HEAD_COLORS[head],
                                alpha=0.5 if head == "classification" else 1.0,
                                linewidth=1.0,
                                label=f"{head} {near:.0%}",
                            )
                            drawn += 1
                    if not drawn:
                        _no_run(ax)
                    else:
                        ax.axhline(1.0, color="0.45", linestyle=":", linewidth=0.8)
                        ax.set_xlim(-0.5, 0.5)
                        ax.set_xticks([-0.5, 0.0, 0.5])
                        ax.set_ylabel("density (dotted: uniform)")
                        ax.legend(
                            loc="upper center",
                            title="within $\\pm$0.1 of an integer:",
                            title_fontsize=5,
                            fontsize=5,
                            frameon=False,
                            handlelength=1.2,
                            borderaxespad=0.2,
                        )
                        ax.set_ylim(0, ax.get_ylim()[1] * 1.6)
                if j == 0:
                    _row_label(ax, regime)
        return _save(fig, out_dir, name)


# ---------------------------------------------------------------------------- entry point

FIGURES: dict[str, Callable[[dict[str, Any], Path], list[Path]]] = {
    "fig1_trajectories": fig1_trajectories,
    "fig2_heatmaps": fig2_heatmaps,
    "fig3_budget": fig3_budget,
    "fig4_loss": fig4_loss,
    "fig5_training_length": fig5_training_length,
    "fig6_head_heatmaps": fig6_head_heatmaps,
}
PAPER_FIGURES = ("fig1_trajectories", "fig2_heatmaps", "fig3_budget", "fig4_loss")


def main(summary: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write every figure (PDF and PNG) into ``out_dir``; return the paths written."""
    paths: list[Path] = []
    for fn in FIGURES.values():
        paths.extend(fn(summary, Path(out_dir)))
    return paths
