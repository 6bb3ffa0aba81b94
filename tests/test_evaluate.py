"""Evaluation end to end on smoke runs: metrics.json, baselines, frozen instances, bad input."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from repro.config import make_config, make_eval_config
from repro.core.heuristics import BaselineScorer, heuristic_maps
from repro.core.maze import bfs_distances
from repro.evaluation.evaluate import eval_dataset, evaluate_baselines, evaluate_run
from repro.learn.runfiles import load_model
from repro.learn.scorer import ModelScorer
from repro.learn.train import train


@pytest.fixture
def results(tmp_path, monkeypatch):
    monkeypatch.setenv("REPRO_RESULTS", str(tmp_path))
    return tmp_path


@pytest.fixture
def ev():
    return make_eval_config("smoke")


def _train(results, name="contrastive-normal", regime="procedural"):
    config = make_config(name, regime, 0, "smoke")
    train(config, results / "runs" / config.run_id, progress=False)
    return config, results / "runs" / config.run_id


@pytest.mark.parametrize("regime", ["fixed", "procedural"])
def test_metrics_json_complete_and_cached(results, ev, regime):
    config, run = _train(results, "supervised-stitching", regime)
    m = evaluate_run(run, ev, results)
    text = (run / "metrics.json").read_text()
    json.loads(text)  # strict JSON: no NaN, no inf
    assert "NaN" not in text and "Infinity" not in text
    assert len(m["spearman"]["paper"]["per_trajectory"]) == ev.n_paper
    assert m["spearman"]["full"]["n"] == ev.n_test
    assert -1 <= m["spearman"]["full"]["ci_low"] <= m["spearman"]["full"]["mean"]
    assert m["spearman"]["full"]["mean"] <= m["spearman"]["full"]["ci_high"] <= 1
    for mode in ("search", "greedy"):
        p = m["planning"][mode]
        assert p["n"] == ev.n_plan and len(p["curve"]) == ev.budget
        assert p["curve"][-1] == pytest.approx(p["solved_rate"])
    assert len(m["figures"]["trajectories"]) == ev.n_paper
    # Unchanged model and settings: the file is reused, not recomputed.
    mtime = os.stat(run / "metrics.json").st_mtime_ns
    evaluate_run(run, ev, results)
    assert os.stat(run / "metrics.json").st_mtime_ns == mtime


def test_model_scorer_matches_heuristic_map(results, ev):
    config, run = _train(results)
    model, config = load_model(run)
    plan = eval_dataset("plan", config, ev, results)
    goals = plan.cells[plan.offsets[1:] - 1][:3]
    maps = heuristic_maps(ModelScorer(model, config, chunk=37), plan.mazes, plan.maze_of[:3], goals)
    for i in range(3):
        maze = plan.mazes[plan.maze_of[i]][None]  # alone, unchunked
        one = heuristic_maps(
            ModelScorer(model, config), maze, np.zeros(1, np.int64), goals[i : i + 1]
        )[0]
        np.testing.assert_allclose(maps[i], one, rtol=1e-5)


def test_baselines(results, ev):
    config = make_config("supervised-normal", "procedural", 0, "smoke")
    b = evaluate_baselines(config, ev, results)
    assert b["oracle"]["spearman"]["full"]["mean"] == pytest.approx(1.0)
    plan = eval_dataset("plan", config, ev, results)
    for mode in ("search", "greedy"):
        o = b["oracle"]["planning"][mode]
        assert o["solved_rate"] == 1.0 and o["path_ratio"] == 1.0
        assert o["mean_expanded"] == pytest.approx(plan.lengths.mean() + 1)
    assert b["constant"]["spearman"]["full"]["n_constant"] == ev.n_test
    assert b["constant"]["spearman"]["full"]["mean"] == 0.0
    assert b["manhattan"]["spearman"]["full"]["mean"] > 0.3
    key = json.loads((results / "baselines.json").read_text())["procedural"]["key"]
    assert set(key) == {"code", "eval", "context"}


def test_oracle_scorer_is_bfs(results, ev):
    config = make_config("supervised-normal", "fixed", 3, "smoke")
    test = eval_dataset("test", config, ev, results)
    goal = test.path(0)[-1]
    h = heuristic_maps(BaselineScorer("oracle"), test.mazes, np.array([0]), goal[None])[0]
    d = bfs_distances(test.mazes[0], tuple(goal)).astype(float)
    d[d < 0] = np.inf
    np.testing.assert_array_equal(h, d)


def test_instances_frozen_and_shared(results, ev):
    a = make_config("supervised-normal", "procedural", 0, "smoke")
    b = make_config("contrastive-stitching", "procedural", 2, "smoke")
    pa, pb = eval_dataset("plan", a, ev, results), eval_dataset("plan", b, ev, results)
    assert pa.content_hash() == pb.content_hash()  # same unseen mazes for every run
    assert len(list((results / "instances").glob("*.npz"))) == 1
    f = make_config("supervised-normal", "fixed", 1, "smoke")
    pf = eval_dataset("plan", f, ev, results)
    train_ds_maze = eval_dataset("test", f, ev, results).mazes[0]
    assert (pf.mazes[0] == train_ds_maze).all()


def test_weights_changed_metrics_recomputed(results, ev):
    config, run = _train(results, "supervised-normal", "fixed")
    first = evaluate_run(run, ev, results)
    train(make_config("supervised-normal", "fixed", 0, "smoke", {"lr": 3e-3}), run, progress=False)
    assert not (run / "metrics.json").exists()  # a retrained run drops stale metrics
    second = evaluate_run(run, ev, results)
    assert second["key"]["model"] != first["key"]["model"]


def _cli(results, *args):
    env = {**os.environ, "REPRO_RESULTS": str(results)}
    return subprocess.run(
        [sys.executable, "-m", "repro", *args], capture_output=True, text=True, env=env, timeout=300
    )


def test_cli_evaluate_bad_input(results, repro_cli):
    out = repro_cli(results, "evaluate", "--run", "fixed/supervised-normal__s9", "--scale", "smoke")
    assert out.returncode == 2 and "supervised-normal__s9" in out.stderr
    (results / "runs/fixed/empty__s0").mkdir(parents=True)
    out = repro_cli(results, "evaluate", "--run", "fixed/empty__s0", "--scale", "smoke")
    assert out.returncode == 2 and "empty__s0" in out.stderr and "Traceback" not in out.stderr
    out = repro_cli(results, "evaluate", "--all", "--scale", "smoke")
    assert out.returncode == 2 and "no finished runs" in out.stderr


def test_cli_evaluate_damaged_weights(results, repro_cli):
    config, run = _train(results)
    (run / "model.pt").write_bytes(b"garbage")
    out = repro_cli(results, "evaluate", "--run", config.run_id, "--scale", "smoke")
    assert out.returncode == 2 and "model.pt" in out.stderr and "Traceback" not in out.stderr


def test_cli_evaluate_all(results):
    _train(results, "supervised-normal", "fixed")
    out = _cli(results, "evaluate", "--all", "--scale", "smoke")
    assert out.returncode == 0, out.stderr
    assert "fixed/supervised-normal__s0: spearman" in out.stdout
    assert "fixed__s0" in json.loads((results / "baselines.json").read_text())
