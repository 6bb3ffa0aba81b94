"""The report figures: every file is written, and rendering is byte-for-byte deterministic."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from repro.study.figures import (
    FIGURES,
    PAPER_FIGURES,
    affine_fit,
    fig5_training_length,
    fig6_head_heatmaps,
    fractional_parts,
    main,
)

CONFIGS = (
    "supervised-normal",
    "supervised-stitching",
    "contrastive-normal",
    "contrastive-stitching",
)
MISSING = ("procedural", "contrastive-stitching")
LENGTH_KEYS = (
    "spearman_full",
    "spearman_paper",
    "search_solved",
    "search_expanded",
    "greedy_solved",
    "greedy_expanded",
)
NEW_FIGURES = ("fig5_training_length", "fig6_head_heatmaps")


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
    for regime in ("fixed", "procedural"):
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
            kind: {"curves": {mode: _curve(rng, budget, top) for mode in ("search", "greedy")}}
            for kind, top in (("oracle", 1.0), ("manhattan", 0.9), ("constant", 0.5))
        }
        for regime in ("fixed", "procedural")
    }
    ablations: dict[str, Any] = {"runs": {}, "studies": {}}
    for regime in ("fixed", "procedural"):
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


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], list[Path]]:
    summary = synthetic_summary()
    return summary, main(summary, tmp_path_factory.mktemp("figures"))


def test_main_writes_every_figure(rendered: tuple[dict[str, Any], list[Path]]) -> None:
    _, paths = rendered
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


def test_rendering_is_deterministic(
    rendered: tuple[dict[str, Any], list[Path]], tmp_path: Path
) -> None:
    summary, first = rendered
    second = main(summary, tmp_path)
    for p, q in zip(first, second, strict=True):
        assert p.name == q.name
        assert p.read_bytes() == q.read_bytes(), p.name


def test_tolerates_empty_and_partial_summaries(tmp_path: Path) -> None:
    summary = synthetic_summary()
    del summary["runs"]["fixed"]
    del summary["baselines"]["procedural"]
    assert len(main(summary, tmp_path / "partial")) == 2 * len(FIGURES)
    assert len(main({"runs": {}, "baselines": {}}, tmp_path / "empty")) == 2 * len(FIGURES)


@pytest.mark.parametrize("fn", [fig5_training_length, fig6_head_heatmaps])
def test_new_figures_tolerate_missing_ablations_and_training_length(fn, tmp_path: Path) -> None:
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


def test_affine_fit() -> None:
    pred = np.array([0.1, 0.2, 0.3, np.nan])
    true = np.array([1.0, 2.0, 3.0, 4.0])
    a, b = affine_fit(pred, true)
    assert a == pytest.approx(10.0) and b == pytest.approx(0.0, abs=1e-9)
    assert affine_fit(np.ones(3), true[:3]) == (0.0, 2.0)
    # a prediction that falls as the true distance rises is not flipped for display
    assert affine_fit(-pred[:3], true[:3]) == (0.0, pytest.approx(2.0))
