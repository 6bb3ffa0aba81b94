"""The summary keeps each run's loss improvement (C6 reads it per seed): a hand-built run
folder per seed, collected by ``collect_config``."""

import csv

import numpy as np
import pytest

from repro.core.maze import HALVES
from repro.core.metrics import loss_improvement
from repro.core.planning import MODES, PLANNERS
from repro.io import write_json
from repro.paths import runs_dir
from repro.results.summary import collect_config
from repro.results.view import Entry


def planning():
    return {
        "solved_rate": 1.0,
        "mean_expanded": 10.0,
        "mean_expanded_solved": 10.0,
        "mean_generated": 12.0,
        "mean_generated_solved": 12.0,
        "path_ratio": 1.0,
        "curve": [0.5, 1.0],
    }


def metrics_json():
    """The fields of a metrics.json that the summary reads."""
    quadrant = {"spearman_full": 0.5, "n_test": 3, "n_plan": 2}
    quadrant |= {mode: {"solved_rate": 1.0, "mean_expanded": 5.0} for mode in MODES}
    return {
        "spearman": {
            "paper": {"mean": 0.5},
            "full": {"mean": 0.5, "ci_low": 0.4, "ci_high": 0.6, "n_constant": 0},
            "protocol_draws": {"k": 10, "n_draws": 5, "quantiles": list(np.linspace(0, 1, 101))},
        },
        "all_pairs_spearman": 0.5,
        "roughness": 0.5,
        "integer_gap": 0.1,
        "planning": {name: planning() for name in PLANNERS},
        "by_quadrant": {half: quadrant for half in HALVES},
        "training_length": [{"step": 10, "spearman_full": 0.5}],
        "figures": {},
        "config": {"method": "supervised"},
        "eval_config": {},
    }


def write_run(root, seed: int, losses: list[float]) -> None:
    run = runs_dir(root) / "fixed" / f"supervised-normal__s{seed}"
    run.mkdir(parents=True)
    write_json(run / "metrics.json", metrics_json())
    with open(run / "loss.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["step", "loss"])
        w.writerows([[100 * (i + 1), x] for i, x in enumerate(losses)])


def test_collect_config_keeps_each_seeds_loss_improvement(root):
    steps = 100.0 * np.arange(1, 21)
    falling = [2.0] * 15 + [1.0] * 5  # improves by half
    rising = [1.0] * 15 + [1.25] * 5  # worsens by a quarter
    write_run(root, 0, falling)
    write_run(root, 2, rising)  # seed 1 never finished
    d = collect_config(root, "fixed", "supervised-normal", [0, 1, 2])
    e = Entry("fixed", "supervised-normal", "config", d)
    assert e.seeds == (0, 2)
    agg = e.metric("loss_improvement")
    assert agg.values == (pytest.approx(0.5), pytest.approx(-0.25))
    assert agg.values[0] == loss_improvement(steps, falling)
    assert agg.mean == pytest.approx(0.125) and (agg.min, agg.max) == (-0.25, 0.5)
    assert e.at_seed("loss_improvement", 2) == pytest.approx(-0.25)
    assert e.loss.mean[-1] == pytest.approx((1.0 + 1.25) / 2)  # the curve over seeds, as before
