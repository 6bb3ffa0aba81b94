"""Wall use (repro.core.walluse): detour pairs and the shuffled-walls control, by hand on
tiny mazes, and their place in a scorer's evaluation."""

from __future__ import annotations

import numpy as np

from repro.core.heuristics import BaselineScorer
from repro.core.maze import bfs_distances
from repro.core.walluse import (
    detour_mask,
    detour_spearman,
    finite_for_ranks,
    manhattan,
    shuffled_mazes,
)


def u_maze():
    """5x5, a wall across the middle open only at the right end: from (0, 0) to (4, 0) the
    way runs right, down and back left."""
    walls = np.zeros((5, 5), dtype=bool)
    walls[2, :4] = True
    return walls


def test_detour_pairs_by_hand():
    walls = u_maze()
    goal = (4, 0)
    bfs = bfs_distances(walls, goal)
    states = np.array([[0, 0], [3, 0], [0, 4], [2, 4]])
    goals = np.repeat([goal], 4, axis=0)
    d = bfs[states[:, 0], states[:, 1]]
    # (0, 0): Manhattan 4, BFS 12 (right 4, down 4, left 4): a detour. (3, 0): 1 and 1.
    # (0, 4): Manhattan 8, BFS 8. (2, 4): 6 and 6.
    assert manhattan(states, goals).tolist() == [4, 1, 8, 6]
    assert d.tolist() == [12, 1, 8, 6]
    assert detour_mask(states, goals, d).tolist() == [True, False, False, False]
    assert not detour_mask(np.array([goal]), np.array([goal]), np.array([0]))[0]  # the goal


def test_detour_spearman_ranks_only_the_detour_states():
    # 7x7, a wall across row 3 open only at column 6: (0, 0) -> (6, 0) runs right, down and
    # back left, 18 steps against a Manhattan distance of 6.
    walls = np.zeros((7, 7), dtype=bool)
    walls[3, :6] = True
    path = np.array([[0, c] for c in range(7)] + [[r, 6] for r in range(1, 7)]
                    + [[6, c] for c in range(5, -1, -1)])  # fmt: skip
    assert len(path) - 1 == bfs_distances(walls, (6, 0))[0, 0] == 18
    remaining = np.arange(18, -1, -1)
    mask = detour_mask(path, np.broadcast_to(path[-1], path.shape), remaining)
    # (0, c): BFS 18 - c against Manhattan 6 + c: a detour for c <= 2, and nowhere else
    assert np.flatnonzero(mask).tolist() == [0, 1, 2]
    truth = remaining.astype(float)
    manhattan_pred = manhattan(path, np.broadcast_to(path[-1], path.shape)).astype(float)
    assert detour_spearman([truth], [path]) == (1.0, 1, 3)
    # The wall-blind Manhattan distance orders the detour states backwards.
    assert detour_spearman([manhattan_pred], [path])[0] == -1.0
    # A trajectory with fewer than 3 detour states is left out.
    assert detour_spearman([truth[10:]], [path[10:]]) == (None, 0, 0)


def test_shuffled_mazes_is_a_fixed_derangement():
    assert shuffled_mazes(4).tolist() == [1, 2, 3, 0]
    assert shuffled_mazes(1).tolist() == [0]  # one maze: nothing to shuffle with
    for n in range(2, 30):
        p = shuffled_mazes(n)
        assert sorted(p.tolist()) == list(range(n)) and (p != np.arange(n)).all()


def test_a_wall_blind_distance_scores_the_same_with_shuffled_walls():
    open_maze = np.zeros((5, 5), dtype=bool)
    mazes = np.stack([u_maze(), open_maze])
    states, goals = np.array([[0, 0], [1, 1]]), np.array([[4, 0], [4, 0]])
    for kind, same in (("manhattan", True), ("constant", True), ("oracle", False)):
        s = BaselineScorer(kind)
        own = s.pairs(mazes, np.array([0, 0]), states, goals)
        moved = s.pairs(mazes, shuffled_mazes(2)[[0, 0]], states, goals)
        assert np.array_equal(own, moved) == same, kind
    assert finite_for_ranks(np.array([1.0, np.inf, 3.0])).tolist() == [1.0, 4.0, 3.0]
    assert finite_for_ranks(np.array([np.inf])).tolist() == [0.0]


def test_a_scorers_wall_metrics_tell_the_oracle_from_manhattan():
    import tempfile
    from pathlib import Path

    from repro.config import make_config, make_eval_config
    from repro.evaluation.evaluate import eval_dataset, evaluate_scorer

    root = Path(tempfile.mkdtemp())
    c = make_config("supervised-normal", "procedural", 0, "smoke")
    ev = make_eval_config("smoke")
    walls = {k: evaluate_scorer(BaselineScorer(k), c, ev, root)["walls"] for k in
             ("oracle", "manhattan")}  # fmt: skip
    assert walls["oracle"]["detour_spearman"] == 1.0
    assert walls["manhattan"]["detour_spearman"] < 0.5
    # Manhattan never reads the walls: the shuffled-walls Spearman is its own
    test = eval_dataset("test", c, ev, root)
    assert walls["oracle"]["shuffled_spearman_full"] < 1.0
    assert walls["oracle"]["n_plan_detour"] == walls["manhattan"]["n_plan_detour"] > 0
    assert len(test.mazes) > 1
