"""The four report figures: every file is written, and rendering is byte-for-byte deterministic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from repro.figures import PAPER_FIGURES, affine_fit, main

CONFIGS = (
    "supervised-normal",
    "supervised-stitching",
    "contrastive-normal",
    "contrastive-stitching",
)
MISSING = ("procedural", "contrastive-stitching")


def _curve(rng: np.random.Generator, budget: int, top: float) -> list[float]:
    steps = np.sort(rng.uniform(0, 1, budget))
    return (top * np.minimum(1.0, np.cumsum(steps) / steps.sum() * 1.3)).tolist()


def _metric(value: float) -> dict[str, Any]:
    return {"mean": value, "std": 0.0, "min": value, "max": value, "values": [value]}


def synthetic_summary(size: int = 9, budget: int = 40, n_steps: int = 30) -> dict[str, Any]:
    """A summary with the layout of ``results/summary.json``; one run missing, one null metric."""
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
            pred_list = [
                [None if walls[r, c] else float(pred_map[r, c]) for c in range(size)]
                for r in range(size)
            ]
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
                    "heatmap": {
                        "index": 0,
                        "goal": list(goal),
                        "walls": walls.tolist(),
                        "pred": pred_list,
                        "bfs": bfs_list,
                    },
                },
            }
    baselines = {
        regime: {
            kind: {"curves": {mode: _curve(rng, budget, top) for mode in ("search", "greedy")}}
            for kind, top in (("oracle", 1.0), ("manhattan", 0.9), ("constant", 0.5))
        }
        for regime in ("fixed", "procedural")
    }
    return {"scale": "test", "seeds": [0, 1, 2], "runs": runs, "baselines": baselines}


EXPECTED = sorted(f"{name}.{ext}" for name in PAPER_FIGURES for ext in ("pdf", "png"))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], list[Path]]:
    summary = synthetic_summary()
    return summary, main(summary, tmp_path_factory.mktemp("figures"))


def test_main_writes_every_figure(rendered: tuple[dict[str, Any], list[Path]]) -> None:
    _, paths = rendered
    assert len(PAPER_FIGURES) == 4
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
    assert len(main(summary, tmp_path / "partial")) == 8
    assert len(main({"runs": {}, "baselines": {}}, tmp_path / "empty")) == 8


def test_affine_fit() -> None:
    pred = np.array([0.1, 0.2, 0.3, np.nan])
    true = np.array([1.0, 2.0, 3.0, 4.0])
    a, b = affine_fit(pred, true)
    assert a == pytest.approx(10.0) and b == pytest.approx(0.0, abs=1e-9)
    assert affine_fit(np.ones(3), true[:3]) == (0.0, 2.0)
    # a prediction that falls as the true distance rises is not flipped for display
    assert affine_fit(-pred[:3], true[:3]) == (0.0, pytest.approx(2.0))
