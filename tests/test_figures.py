"""The report figures: every file is written, rendering is byte-for-byte deterministic, and
each figure plots the summary's numbers (read back from the matplotlib Figure)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from repro.config import CONFIGS, REGIMES
from repro.core.heuristics import BASELINES
from repro.core.planning import MODES
from repro.report.figures import (
    DRAW,
    FIGURES,
    HEAD_BINS,
    HEAD_SHORT,
    LENGTH_PANELS,
    PAPER_FIGURES,
    display_scale,
    draw_fig1_trajectories,
    draw_fig2_heatmaps,
    draw_fig3_budget,
    draw_fig4_loss,
    draw_fig5_training_length,
    draw_fig6_head_heatmaps,
    fractional_parts,
    main,
    write_figure,
)
from repro.results.view import Summary

MISSING = ("procedural", "contrastive-stitching")
LENGTH_KEYS = (
    "spearman_full",
    "spearman_paper",
    "search_solved",
    "search_expanded",
    "greedy_solved",
    "greedy_expanded",
)
NEW_FIGURES = ("fig5_training_length", "fig6_head_heatmaps")  # the studies add their own


def _curve(rng: np.random.Generator, budget: int, top: float) -> list[float]:
    steps = np.sort(rng.uniform(0, 1, budget))
    return (top * np.minimum(1.0, np.cumsum(steps) / steps.sum() * 1.3)).tolist()


def _metric(value: float) -> dict[str, Any]:
    return {"mean": value, "std": 0.0, "min": value, "max": value, "values": [value]}


def _spread(values: list[float]) -> dict[str, Any]:
    return {
        "mean": float(np.mean(values)),
        "std": float(np.std(values)),
        "min": min(values),
        "max": max(values),
        "values": values,
    }


def _training_length(rng: np.random.Generator, k: int) -> dict[str, Any]:
    """Metrics at 4 training lengths over 3 seeds; one step's Spearman is null."""
    steps = [5000, 10000, 15000, 20000]
    metrics: dict[str, list[Any]] = {}
    for key in LENGTH_KEYS:
        top = 200.0 if key.endswith("expanded") else 0.9 - 0.1 * k
        metrics[key] = [
            _spread((top * (0.5 + 0.1 * n) + rng.normal(0, 0.03 * top, 3)).tolist())
            for n in range(len(steps))
        ]
    metrics["spearman_full"][1] = {
        "mean": None,
        "std": None,
        "min": None,
        "max": None,
        "values": [None],
    }
    return {"steps": steps, "metrics": metrics}


def _heatmap(
    walls: np.ndarray, goal: tuple[int, int], pred: np.ndarray, bfs_list: list
) -> dict[str, Any]:
    size = walls.shape[0]
    pred_list = [
        [None if walls[r, c] else float(pred[r, c]) for c in range(size)] for r in range(size)
    ]
    return {
        "index": 0,
        "goal": list(goal),
        "walls": walls.tolist(),
        "pred": pred_list,
        "bfs": bfs_list,
    }


def synthetic_summary(size: int = 9, budget: int = 40, n_steps: int = 30) -> dict[str, Any]:
    """A summary with the layout of ``results/summary.json``; one run missing, one null metric.

    With the training-length metrics of every run and the supervised classification-head
    ablation (predictions near integers) in both regimes.
    """
    rng = np.random.default_rng(0)
    walls = np.zeros((size, size), dtype=int)
    walls[0, :] = walls[-1, :] = walls[:, 0] = walls[:, -1] = 1
    walls[2:-2, size // 2] = 1
    goal = (1, 1)
    rows, cols = np.indices((size, size))
    bfs = (np.abs(rows - goal[0]) + np.abs(cols - goal[1])).astype(float)
    bfs_list = [
        [None if walls[r, c] else float(bfs[r, c]) for c in range(size)] for r in range(size)
    ]
    runs: dict[str, Any] = {}
    for regime in REGIMES:
        runs[regime] = {}
        for k, config in enumerate(CONFIGS):
            if (regime, config) == MISSING:
                continue
            scale = 1.0 if config.startswith("supervised") else 0.1
            trajectories = []
            for i in range(10):
                t_len = int(rng.integers(3, 15))
                true = list(range(t_len, -1, -1))
                pred = (scale * np.array(true) + rng.normal(0, 0.5 * scale, t_len + 1)).tolist()
                trajectories.append({"index": i, "pred": pred, "true": true})
            pred_map = scale * bfs + rng.normal(0, 0.3 * scale, bfs.shape)
            step = (100.0 * np.arange(1, n_steps + 1)).tolist()
            base = 10.0 * np.exp(-np.arange(n_steps) / 10) + (0.1 if scale == 1 else 1.0)
            runs[regime][config] = {
                "seeds": [0, 1, 2],
                "metrics": {
                    "spearman_paper": _metric(0.9 - 0.1 * k),
                    "search_solved": _metric(1.0),
                    "roughness": {
                        "mean": None,
                        "std": None,
                        "min": None,
                        "max": None,
                        "values": [None],
                    },
                },
                "curves": {
                    "search": _curve(rng, budget, 1.0),
                    "greedy": _curve(rng, budget, 0.8 - 0.1 * k),
                },
                "loss": {
                    "step": step,
                    "mean": base.tolist(),
                    "min": (0.8 * base).tolist(),
                    "max": (1.2 * base).tolist(),
                },
                "examples": {
                    "seed": 0,
                    "trajectories": trajectories,
                    "heatmap": _heatmap(walls, goal, pred_map, bfs_list),
                },
                "training_length": _training_length(rng, k),
            }
    baselines = {
        regime: {
            kind: {"curves": {mode: _curve(rng, budget, top) for mode in MODES}}
            for kind, top in zip(BASELINES, (1.0, 0.9, 0.5), strict=True)
        }
        for regime in REGIMES
    }
    ablations: dict[str, Any] = {"runs": {}, "studies": {}}
    for regime in REGIMES:
        entry = copy.deepcopy(runs[regime]["supervised-normal"])
        entry["examples"]["heatmap"] = _heatmap(
            walls, goal, bfs + rng.normal(0, 0.05, bfs.shape), bfs_list
        )
        ablations["runs"][regime] = {"supervised-normal+classification": entry}
    return {
        "scale": "test",
        "seeds": [0, 1, 2],
        "runs": runs,
        "baselines": baselines,
        "ablations": ablations,
    }


EXPECTED = sorted(f"{name}.{ext}" for name in FIGURES for ext in ("pdf", "png"))


def test_main_writes_every_figure_and_renders_them_identically(tmp_path: Path) -> None:
    # One test, not two sharing a module fixture: under xdist each worker drew the fixture's
    # figures again, three renderings in all where two show both properties.
    summary = synthetic_summary()
    paths = main(summary, tmp_path / "first")
    assert len(PAPER_FIGURES) == 4
    assert tuple(FIGURES) == (*PAPER_FIGURES, *NEW_FIGURES)
    assert sorted(p.name for p in paths) == EXPECTED
    assert sorted(p.name for p in paths[0].parent.iterdir()) == EXPECTED
    for p in paths:
        data = p.read_bytes()
        assert len(data) > 1000, p
        if p.suffix == ".pdf":
            assert data.startswith(b"%PDF"), p
            assert b"CreationDate" not in data and b"ModDate" not in data, p
        else:
            assert data.startswith(b"\x89PNG"), p
    second = main(summary, tmp_path / "second")  # the same summary drawn again
    for p, q in zip(paths, second, strict=True):
        assert p.name == q.name
        assert p.read_bytes() == q.read_bytes(), p.name


def test_tolerates_empty_and_partial_summaries(tmp_path: Path) -> None:
    summary = synthetic_summary()
    del summary["runs"]["fixed"]
    del summary["baselines"]["procedural"]
    assert len(main(summary, tmp_path / "partial")) == 2 * len(FIGURES)
    assert len(main({"runs": {}, "baselines": {}}, tmp_path / "empty")) == 2 * len(FIGURES)


@pytest.mark.parametrize("name", ["fig5_training_length", "fig6_head_heatmaps"])
def test_new_figures_tolerate_missing_ablations_and_training_length(name, tmp_path: Path) -> None:
    def fn(summary, out_dir):
        return write_figure(name, summary, out_dir)

    summary = synthetic_summary()
    # training length: absent for one run, empty for another, one metric gone for a third
    del summary["runs"]["fixed"]["supervised-normal"]["training_length"]
    summary["runs"]["fixed"]["contrastive-normal"]["training_length"] = {"steps": [], "metrics": {}}
    del summary["runs"]["procedural"]["supervised-normal"]["training_length"]["metrics"][
        "greedy_solved"
    ]
    # head ablation: the classification run missing in one regime, the regression in the other
    del summary["ablations"]["runs"]["fixed"]["supervised-normal+classification"]
    del summary["runs"]["procedural"]["supervised-normal"]["examples"]["heatmap"]
    paths = fn(summary, tmp_path / "partial")
    assert [p.suffix for p in paths] == [".pdf", ".png"]
    assert all(p.stat().st_size > 1000 for p in paths)
    # nothing at all: every panel says "no run"
    for regime in summary["runs"].values():
        for entry in regime.values():
            entry.pop("training_length", None)
            entry["examples"].pop("heatmap", None)
    del summary["ablations"]
    assert len(fn(summary, tmp_path / "none")) == 2
    assert len(fn({}, tmp_path / "empty")) == 2


def test_fractional_parts() -> None:
    h = {
        "walls": [[0, 0, 1], [0, 0, 0]],
        "pred": [[1.0, 2.2, None], [2.9, None, 3.5]],
    }
    assert fractional_parts(h) == pytest.approx([0.0, 0.2, -0.1, -0.5])
    assert fractional_parts(None).size == 0


def test_display_scale() -> None:
    pred = np.array([0.1, 0.2, 0.3, np.nan])
    true = np.array([1.0, 2.0, 3.0, 4.0])
    assert display_scale(pred, true) == pytest.approx(10.0)  # mean 2.0 over mean 0.2
    assert display_scale(np.ones(3), true[:3]) == pytest.approx(2.0)  # flat stays flat
    # a positive factor only: a prediction that falls as the truth rises keeps falling
    falling = np.array([0.3, 0.2, 0.1])
    assert display_scale(falling, true[:3]) > 0
    assert display_scale(np.zeros(3), true[:3]) == 1.0  # no scale to take: shown as is


# ---------------------------------------------------------------------------- what is plotted


def _panels(fig, ncols: int) -> np.ndarray:
    """The figure's grid of panels (rows = REGIMES); colour bars, added later, come after."""
    return np.array(fig.axes[: len(REGIMES) * ncols], dtype=object).reshape(len(REGIMES), ncols)


def _says_no_run(ax) -> bool:
    return [t.get_text() for t in ax.texts] == ["no run"]


def test_draw_takes_the_dict_or_its_view() -> None:
    summary = synthetic_summary()
    assert tuple(DRAW) == FIGURES
    a, b = draw_fig3_budget(summary), draw_fig3_budget(Summary.from_dict(summary))
    for ax, bx in zip(a.axes, b.axes, strict=True):
        ys = [line.get_ydata() for line in ax.get_lines()]
        assert len(ys) == len(bx.get_lines())
        for y, line in zip(ys, bx.get_lines(), strict=True):
            np.testing.assert_array_equal(y, line.get_ydata())


def test_fig1_plots_true_steps_and_fitted_predictions() -> None:
    summary = synthetic_summary()
    axes = _panels(draw_fig1_trajectories(summary), len(CONFIGS))
    for i, regime in enumerate(REGIMES):
        for j, config in enumerate(CONFIGS):
            ax = axes[i, j]
            if (regime, config) == MISSING:
                assert _says_no_run(ax) and not ax.get_lines() and ax.get_title() == config
                continue
            entry = summary["runs"][regime][config]
            trajs = entry["examples"]["trajectories"]
            preds = [np.asarray(t["pred"], dtype=float) for t in trajs]
            trues = [np.asarray(t["true"], dtype=float) for t in trajs]
            c = display_scale(np.concatenate(preds), np.concatenate(trues))
            lines = ax.get_lines()
            assert len(lines) == 2 * len(trajs)  # (true, scaled prediction) per trajectory
            for k, (p, t) in enumerate(zip(preds, trues, strict=True)):
                dashed, solid = lines[2 * k], lines[2 * k + 1]
                assert dashed.get_linestyle() == "--" and solid.get_linestyle() == "-"
                np.testing.assert_array_equal(dashed.get_ydata(), t)
                np.testing.assert_allclose(solid.get_ydata(), c * p)
                assert dashed.get_color() == solid.get_color()
            rho = entry["metrics"]["spearman_paper"]["mean"]
            assert ax.get_title() == f"{config}\nSpearman $\\rho$ = {rho:.2f}"
            assert f"prediction $\\times$ {c:.3g}" in ax.texts[0].get_text()
        drawn = [ax for ax in axes[i] if ax.get_lines()]
        assert len({ax.get_ylim() for ax in drawn}) == 1  # one y scale per row


def test_fig2_shows_the_truth_and_each_models_map() -> None:
    summary = synthetic_summary()
    axes = _panels(draw_fig2_heatmaps(summary), 1 + len(CONFIGS))
    for i, regime in enumerate(REGIMES):
        runs = summary["runs"][regime]
        first = runs["supervised-normal"]["examples"]["heatmap"]
        walls = np.asarray(first["walls"], dtype=bool)
        grids = [("bfs", first)] + [
            ("pred", runs[c]["examples"]["heatmap"] if c in runs else None) for c in CONFIGS
        ]
        for j, (key, h) in enumerate(grids):
            ax = axes[i, j]
            if h is None:
                assert _says_no_run(ax) and not ax.get_images()
                continue
            (image,) = ax.get_images()
            shown = image.get_array()
            np.testing.assert_array_equal(np.ma.getmaskarray(shown), walls)
            expected = np.array([[np.nan if v is None else v for v in r] for r in h[key]])
            np.testing.assert_array_equal(shown.data[~walls], expected[~walls])
            (star,) = ax.get_lines()  # the goal, at (column, row)
            assert (star.get_xdata()[0], star.get_ydata()[0]) == (h["goal"][1], h["goal"][0])


def test_fig3_plots_the_summarys_curves() -> None:
    summary = synthetic_summary()
    fig = draw_fig3_budget(summary)
    axes = _panels(fig, len(MODES))
    for i, regime in enumerate(REGIMES):
        for j, mode in enumerate(MODES):
            runs, baselines = summary["runs"][regime], summary["baselines"][regime]
            expected = [(c, runs[c]["curves"][mode]) for c in CONFIGS if c in runs]
            expected += [(b, baselines[b]["curves"][mode]) for b in BASELINES]
            lines = axes[i, j].get_lines()
            assert [line.get_label() for line in lines] == [name for name, _ in expected]
            for line, (_, curve) in zip(lines, expected, strict=True):
                np.testing.assert_array_equal(line.get_ydata(), curve)
                np.testing.assert_array_equal(line.get_xdata(), np.arange(1, len(curve) + 1))
            assert axes[i, j].get_xscale() == "log"
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == [*CONFIGS, *BASELINES]


def test_fig3_without_a_regimes_runs_or_baselines() -> None:
    summary = synthetic_summary()
    del summary["runs"]["fixed"]
    del summary["baselines"]["fixed"]
    axes = _panels(draw_fig3_budget(summary), len(MODES))
    assert all(_says_no_run(ax) and not ax.get_lines() for ax in axes[0])
    assert [len(ax.get_lines()) for ax in axes[1]] == [len(CONFIGS) - 1 + len(BASELINES)] * 2


def test_fig4_plots_the_mean_loss_on_the_right_scale() -> None:
    summary = synthetic_summary()
    axes = _panels(draw_fig4_loss(summary), len(CONFIGS))
    for i, regime in enumerate(REGIMES):
        for j, config in enumerate(CONFIGS):
            ax = axes[i, j]
            if (regime, config) == MISSING:
                assert _says_no_run(ax) and not ax.get_lines()
                continue
            loss = summary["runs"][regime][config]["loss"]
            (line,) = ax.get_lines()
            np.testing.assert_array_equal(line.get_xdata(), loss["step"])
            np.testing.assert_array_equal(line.get_ydata(), loss["mean"])
            # one scale for both losses, each named by its method
            assert ax.get_yscale() == "log"
            want = "MSE" if config.startswith("supervised") else "InfoNCE"
            assert want in ax.get_ylabel()


def test_fig5_plots_the_mean_over_seeds_at_each_snapshot() -> None:
    summary = synthetic_summary()
    fig = draw_fig5_training_length(summary)
    axes = _panels(fig, len(LENGTH_PANELS))
    for i, regime in enumerate(REGIMES):
        runs = summary["runs"][regime]
        for j, (key, _, _) in enumerate(LENGTH_PANELS):
            lines = axes[i, j].get_lines()
            assert [line.get_label() for line in lines] == [c for c in CONFIGS if c in runs]
            for line in lines:
                length = runs[line.get_label()]["training_length"]
                means = [a["mean"] for a in length["metrics"][key]]
                expected = np.array([np.nan if m is None else m for m in means])
                np.testing.assert_array_equal(line.get_xdata(), length["steps"])
                np.testing.assert_array_equal(line.get_ydata(), expected)
            if key == "spearman_full":  # the null step is a gap, not a zero
                assert all(np.isnan(line.get_ydata()[1]) for line in lines)
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == list(CONFIGS)


def test_fig6_histograms_the_fractional_parts_of_both_heads() -> None:
    summary = synthetic_summary()
    axes = _panels(draw_fig6_head_heatmaps(summary), 4)
    bins = np.linspace(-0.5, 0.5, HEAD_BINS + 1)
    for i, regime in enumerate(REGIMES):
        heads = {
            "regression": summary["runs"][regime]["supervised-normal"],
            "classification": summary["ablations"]["runs"][regime][
                "supervised-normal+classification"
            ],
        }
        ax = axes[i, 3]
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        expected_labels = []
        for patch, (head, entry) in zip(ax.patches, heads.items(), strict=True):
            frac = fractional_parts(entry["examples"]["heatmap"])
            heights, _ = np.histogram(frac, bins=bins, density=True)
            drawn = patch.get_xy()[1 : 2 * HEAD_BINS : 2, 1]  # the step outline's tops
            np.testing.assert_allclose(drawn, heights)
            expected_labels.append(f"{HEAD_SHORT[head]} {np.mean(np.abs(frac) <= 0.1):.0%}")
        assert labels == expected_labels
        # the classification head's predictions sit near integers, the regression's do not
        share = {label.split()[0]: float(label.split()[1].rstrip("%")) for label in labels}
        assert share["class."] >= 90 and share["regr."] < 50
        (image,) = axes[i, 2].get_images()
        pred = heads["classification"]["examples"]["heatmap"]["pred"]
        walls = np.asarray(heads["classification"]["examples"]["heatmap"]["walls"], bool)
        shown = np.array([[np.nan if v is None else v for v in r] for r in pred])
        np.testing.assert_array_equal(image.get_array().data[~walls], shown[~walls])


def test_every_figure_is_legible_at_print_size():
    """No text of any figure, drawn from the committed results, is smaller than MIN_PT (the
    figures are drawn at the text width they are printed at)."""
    from matplotlib.text import Text

    from repro.io import read_json
    from repro.paths import PROJECT
    from repro.report.figures import MIN_PT
    from repro.studies.registry import figure_draws

    d = read_json(PROJECT / "results" / "summary.json")
    for name, draw in figure_draws(d).items():
        fig = draw(d)
        fig.canvas.draw()  # lays out legends, colour bars and ticks
        small = {
            (t.get_text(), t.get_fontsize())
            for t in fig.findobj(Text)
            if t.get_text().strip() and t.get_visible() and t.get_fontsize() < MIN_PT
        }
        assert not small, (name, sorted(small)[:5])
