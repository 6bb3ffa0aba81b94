"""The convolutional models (a model that sees the maze): receptive field, one field per goal
equal to pair scoring, training through the registry alone and in a group."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from repro.config import make_config, make_eval_config
from repro.core.maze import generate_maze
from repro.learn.conv import dilations, receptive_field
from repro.learn.methods import build_model
from repro.learn.scorer import ModelScorer

CONV = ("supervised_conv-normal", "contrastive_conv-normal")


def model_of(name, regime="procedural", **sets):
    c = make_config(name, regime, 0, "smoke", sets)
    return build_model(c, torch.Generator().manual_seed(0)).eval(), c


def test_dilations_reach_twice_the_maze_side():
    assert dilations(20) == [1, 2, 4, 8, 16]  # 1 + 2 * 31 = 63 >= 40
    assert dilations(8) == [1, 2, 4, 8]  # 1 + 2 * 7 = 15 < 16, so one more: 31
    # Measured, not read off the formula: the gradient of a dilated field's output at one
    # corner reaches the input at the far corner, at every smoke-like size.
    for size in (6, 8, 11):
        c = make_config("supervised_conv-normal", "procedural", 0, "smoke", {"size": size})
        model = build_model(c, torch.Generator().manual_seed(0))
        x = torch.zeros(1, 2, size, size, requires_grad=True)
        model.trunk(x)[0, 0, 0, 0].backward()
        assert x.grad[0, :, size - 1, size - 1].abs().sum() > 0, size


@pytest.mark.parametrize("name", CONV)
@pytest.mark.parametrize(("arch", "iters", "sees"), [("dilated", 1, True), ("recurrent", 20, True),
                                                     ("recurrent", 1, False)])  # fmt: skip
def test_a_wall_at_the_far_side_changes_the_prediction_only_within_the_receptive_field(
    name, arch, iters, sees
):
    model, c = model_of(name, conv_arch=arch, conv_iters=iters)
    size = c.size  # 8 at smoke scale
    assert (receptive_field(c) >= 2 * size) == sees
    walls = np.zeros((1, size, size), dtype=bool)
    far = walls.copy()
    far[0, size - 1, size - 1] = True  # the corner farthest from (0, 0)
    s, g = np.array([[0, 0]]), np.array([[0, 1]])
    scorer = ModelScorer(model, c)
    a = scorer.pairs(walls, np.array([0]), s, g)
    b = scorer.pairs(far, np.array([0]), s, g)
    if name.startswith("contrastive"):  # its encoders pool over the whole grid by design
        assert abs(a[0] - b[0]) > 0
    else:  # a field cell sees exactly its receptive field (the norms are per cell)
        assert (abs(a[0] - b[0]) > 0) == sees


@pytest.mark.parametrize("name", CONV)
@pytest.mark.parametrize("regime", ["procedural", "fixed"])
def test_one_pass_per_goal_equals_scoring_each_pair(name, regime):
    model, c = model_of(name, regime)
    size = c.size
    rng = np.random.default_rng(0)
    mazes = np.stack([generate_maze(size, rng) for _ in range(3)])
    cells = [np.argwhere(~m) for m in mazes]
    idx = np.array([0, 1, 2, 1, 0, 2, 2])
    states = np.array([cells[i][rng.integers(len(cells[i]))] for i in idx])
    goals = np.array([cells[i][rng.integers(len(cells[i]))] for i in idx])
    goals[3] = goals[1]  # a repeated (maze, goal) row: computed once, read twice
    fast = ModelScorer(model, c).pairs(mazes, idx, states, goals)
    slow = np.concatenate(
        [ModelScorer(model, c).pairs(mazes, idx[i : i + 1], states[i : i + 1], goals[i : i + 1])
         for i in range(len(idx))]
    )  # fmt: skip
    np.testing.assert_allclose(fast, slow, rtol=1e-5, atol=1e-6)


def test_the_field_is_the_pairs_for_every_cell_of_a_goal():
    model, c = model_of("supervised_conv-normal")
    size = c.size
    walls = generate_maze(size, np.random.default_rng(3))
    free = np.argwhere(~walls)
    goal = free[5]
    w = torch.from_numpy(walls.reshape(1, -1).astype(np.float32))
    with torch.no_grad():
        field = model.fields(w, torch.tensor([goal[0] * size + goal[1]]))[0].numpy()
    pairs = ModelScorer(model, c).pairs(
        walls[None], np.zeros(len(free), int), free, np.repeat(goal[None], len(free), 0)
    )
    np.testing.assert_allclose(field[free[:, 0], free[:, 1]], pairs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", CONV)
def test_a_convolutional_method_trains_and_evaluates_through_the_registry(name, tmp_path):
    from repro.evaluation.evaluate import evaluate_run
    from repro.learn.train import train, train_runs

    short = {"steps": 20, "checkpoint_every": 10, "log_every": 10, "snapshot_every": 10}
    c = make_config(name, "procedural", 0, "smoke", short)
    meta = train(c, tmp_path / "alone", device="cpu", progress=False)
    assert meta["status"] == "complete" and np.isfinite(meta["final_loss"])
    m = evaluate_run(tmp_path / "alone", make_eval_config("smoke"), tmp_path)
    assert -1.0 <= m["spearman"]["full"]["mean"] <= 1.0
    # In a group of two (stacked parameters, the loss vmapped) a member's first step is its
    # run alone's, up to rounding. (Over 20 steps the supervised field stays bitwise equal;
    # the contrastive encoders drift to about 1e-3, which the group's CPU tolerance of the
    # MLP models does not allow: see the note in repro.learn.convcontrastive.)
    one = {"steps": 1, "checkpoint_every": 1, "log_every": 1, "snapshot_every": 1}
    a1, g1 = (
        make_config(name, "procedural", 0, "smoke", one),
        make_config(name, "procedural", 1, "smoke", one),
    )
    train(a1, tmp_path / "alone1", device="cpu", progress=False)
    train_runs([a1, g1], [tmp_path / "g0", tmp_path / "g1"], device="cpu", progress=False)
    a = torch.load(tmp_path / "alone1" / "model.pt", weights_only=True)
    b = torch.load(tmp_path / "g0" / "model.pt", weights_only=True)
    assert max(float((a[k] - b[k]).abs().max()) for k in a) < 5e-6
