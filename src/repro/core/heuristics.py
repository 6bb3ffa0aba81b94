"""Heuristic maps: ``h[cell] = d(cell, goal)`` from any scorer, and the three baselines.

A *scorer* is anything with ``pairs(mazes, maze_index, states, goals) -> d``
(float64 ``(n,)``): a trained model (``repro.learn.scorer.ModelScorer``) or a
baseline (:class:`BaselineScorer`: the BFS oracle, the Manhattan distance, a
constant). :func:`heuristic_maps` is the one function that turns a scorer into
maps; evaluation, planning and the tests all call it.
"""

from __future__ import annotations

import numpy as np

from repro.core.maze import bfs_distances_batch, check_cell, check_walls
from repro.errors import BadInput

BASELINES = ("oracle", "manhattan", "constant")


class BaselineScorer:
    """The oracle (the project's one BFS), Manhattan and constant heuristics as scorers."""

    def __init__(self, kind: str) -> None:
        if kind not in BASELINES:
            raise BadInput(f"baseline must be one of {BASELINES}, got {kind!r}")
        self.kind = kind

    def pairs(self, mazes, maze_index, states, goals) -> np.ndarray:
        """mazes bool (M, S, S); maze_index int (n,); states, goals int (n, 2) -> float64 (n,).

        The oracle is inf where a state cannot reach its goal (never in our mazes).
        """
        states, goals = np.asarray(states), np.asarray(goals)
        if self.kind == "constant":
            return np.zeros(len(states))
        if self.kind == "manhattan":
            return np.abs(states - goals).sum(axis=1).astype(np.float64)
        # oracle: one BFS per distinct (maze, goal), from the goal.
        keys = np.stack([np.asarray(maze_index), goals[:, 0], goals[:, 1]], axis=1)
        uniq, inv = np.unique(keys, axis=0, return_inverse=True)
        dist = bfs_distances_batch(np.asarray(mazes)[uniq[:, 0]], uniq[:, 1:])
        d = dist[inv.reshape(-1), states[:, 0], states[:, 1]].astype(np.float64)
        d[d < 0] = np.inf
        return d


def heuristic_maps(scorer, mazes, maze_index, goals) -> np.ndarray:
    """d(cell, goal_i) on the free cells of maze ``maze_index[i]``, inf on walls.

    mazes: bool (M, S, S); maze_index: int (n,); goals: int (n, 2) free cells.
    Returns float64 (n, S, S). One call of ``scorer.pairs`` for all free cells
    of all instances (a model scores them in one batched pass).
    """
    mazes = np.asarray(mazes)
    maze_index = np.asarray(maze_index, dtype=np.int64)
    goals = np.asarray(goals)
    if mazes.ndim != 3:
        raise BadInput(f"mazes must be (M, size, size), got shape {mazes.shape}")
    if maze_index.ndim != 1 or goals.shape != (len(maze_index), 2):
        raise BadInput(
            f"maze_index must be (n,) and goals (n, 2), got {maze_index.shape}, {goals.shape}"
        )
    n, size = len(goals), mazes.shape[1]
    free = ~mazes[maze_index]  # (n, S, S)
    ok = ((goals >= 0) & (goals < size)).all(axis=1)
    ok[ok] = free[np.flatnonzero(ok), goals[ok, 0], goals[ok, 1]]
    for i in np.flatnonzero(~ok)[:1]:  # off the grid or on a wall: raise, naming the goal
        check_cell(check_walls(mazes[maze_index[i]]), goals[i], "goal")
    inst, rows, cols = np.nonzero(free)
    d = scorer.pairs(mazes, maze_index[inst], np.stack([rows, cols], 1), goals[inst])
    out = np.full((n, size, size), np.inf)
    out[inst, rows, cols] = d
    return out


def baseline_map(kind: str, walls: np.ndarray, goal) -> np.ndarray:
    """One baseline's map for one maze and goal: float64 (size, size), inf on walls.

    kind: one of :data:`BASELINES`; walls: bool (size, size); goal: (row, col) free cell.
    """
    walls = check_walls(walls)
    goal = check_cell(walls, goal, "goal")
    return heuristic_maps(BaselineScorer(kind), walls[None], np.zeros(1, np.int64), [goal])[0]
