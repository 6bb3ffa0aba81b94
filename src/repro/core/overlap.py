"""What a test can measure, given the training data: quadrant leaks and seen pairs.

Pure numpy. Two properties of a training set decide what the paper's tests can show:

- **Leak** (:func:`quadrant_leak`): a stitching trajectory starts and ends in one quadrant,
  but its shortest path may pass through another; such a trajectory shows the model
  cross-quadrant pairs, which the stitching test assumes it never saw.
- **Overlap** (:func:`pair_overlap`): the share of test (state, goal) pairs that occur,
  in the same maze, as an ordered pair of one training trajectory (the state earlier).
  A test pair seen in training measures recall, not generalization.

A pair is keyed by its maze's bytes and its two cells, so two datasets that share a maze
(the fixed regime) share pairs, and datasets of disjoint mazes (the procedural regime's
train and test splits) share none.
"""

from __future__ import annotations

import numpy as np

from repro.core.data import Dataset
from repro.core.maze import quadrant_map

# Bands of BFS distance (a test trajectory's length T, inclusive; None: no upper end) in
# which the Spearman of same- and cross-quadrant trajectories is reported: stitching is
# hardest on long cross-quadrant paths. Test trajectories have T >= 5.
BANDS: tuple[tuple[int, int | None], ...] = ((1, 10), (11, 20), (21, 40), (41, None))


def band_name(band: tuple[int, int | None]) -> str:
    """'1-10', ..., '41+': a band's name in metrics.json and the summary."""
    lo, hi = band
    return f"{lo}+" if hi is None else f"{lo}-{hi}"


def quadrant_leak(ds: Dataset) -> tuple[float, float]:
    """(share of trajectories with a cell outside their start's quadrant, share of all path
    cells outside it): two floats in [0, 1]."""
    q = quadrant_map(ds.size)
    cell_q = q[ds.cells[:, 0], ds.cells[:, 1]]  # (N,)
    start_q = np.repeat(cell_q[ds.offsets[:-1]], ds.lengths + 1)  # (N,) each path's start's
    outside = cell_q != start_q
    per_path = np.add.reduceat(outside.astype(np.int64), ds.offsets[:-1])  # (n,)
    return float((per_path > 0).mean()), float(outside.mean())


def _maze_ids(*datasets: Dataset) -> list[np.ndarray]:
    """Per dataset, int64 (n_mazes,): one id per distinct maze bytes across all datasets."""
    ids: dict[bytes, int] = {}
    out = []
    for ds in datasets:
        out.append(np.array([ids.setdefault(m.tobytes(), len(ids)) for m in ds.mazes]))
    return out


def _keys(maze: np.ndarray, states: np.ndarray, goals: np.ndarray, size: int) -> np.ndarray:
    """int64 (k,) key of each (maze id, state, goal): maze (k,), states and goals (k, 2)."""
    s = states[:, 0] * size + states[:, 1]
    g = goals[:, 0] * size + goals[:, 1]
    return (maze.astype(np.int64) * size * size + s) * size * size + g


def training_pair_keys(ds: Dataset, maze_id: np.ndarray) -> np.ndarray:
    """Sorted unique int64 keys of every ordered pair (s_i, s_j), i < j, of every path.

    maze_id: int64 (n_mazes,) the id of each of ``ds.mazes`` (see :func:`_maze_ids`).
    """
    size, parts = ds.size, []
    for i in range(len(ds)):
        path = ds.path(i)  # (T + 1, 2)
        a, b = np.triu_indices(len(path), k=1)  # i < j
        m = np.full(a.shape, maze_id[ds.maze_of[i]])
        parts.append(_keys(m, path[a], path[b], size))
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64)


def goal_pairs(ds: Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The test set's (state, goal) pairs (s_t, s_T), t < T, of every path: maze index
    int64 (k,) into ``ds.mazes``, states and goals int64 (k, 2)."""
    goal_rows = ds.offsets[1:] - 1
    owner = np.repeat(np.arange(len(ds)), ds.lengths + 1)  # (N,) path of each cell
    keep = np.ones(len(ds.cells), dtype=bool)
    keep[goal_rows] = False  # t = T: the goal paired with itself
    return ds.maze_of[owner][keep], ds.cells[keep], ds.cells[goal_rows][owner][keep]


def pair_overlap(
    train: Dataset, test: Dataset, maze: np.ndarray, states: np.ndarray, goals: np.ndarray
) -> np.ndarray:
    """Whether each (state, goal) pair in ``test``'s mazes occurs as an ordered pair of one
    ``train`` trajectory: bool (k,).

    maze: int64 (k,) indices into ``test.mazes``; states, goals: int64 (k, 2).
    """
    if train.size != test.size:
        return np.zeros(len(maze), dtype=bool)
    train_ids, test_ids = _maze_ids(train, test)
    if not np.isin(test_ids[maze], train_ids).any():  # no maze in common: nothing seen
        return np.zeros(len(maze), dtype=bool)
    seen = training_pair_keys(train, train_ids)
    keys = _keys(test_ids[maze], states, goals, test.size)
    return np.isin(keys, seen)


def cross_quadrant(states: np.ndarray, goals: np.ndarray, size: int) -> np.ndarray:
    """Whether each state and goal lie in different quadrants: bool (k,)."""
    q = quadrant_map(size)
    return q[states[:, 0], states[:, 1]] != q[goals[:, 0], goals[:, 1]]


def overlap_table(train: Dataset, test: Dataset, plan: Dataset) -> dict[str, float | None]:
    """The data measures of one training set against its test and planning sets.

    Keys: 'leak_trajectories', 'leak_cells' (:func:`quadrant_leak` of ``train``);
    'seen_test' and 'seen_test_cross' (share of test pairs, all and cross-quadrant ones,
    seen in training); 'seen_plan' (share of planning (start, goal) pairs seen). None where
    a set has no such pair.
    """
    leak_t, leak_c = quadrant_leak(train)
    maze, states, goals = goal_pairs(test)
    seen = pair_overlap(train, test, maze, states, goals)
    cross = cross_quadrant(states, goals, test.size)
    p_states, p_goals = plan.cells[plan.offsets[:-1]], plan.cells[plan.offsets[1:] - 1]
    p_seen = pair_overlap(train, plan, plan.maze_of, p_states, p_goals)

    def share(x: np.ndarray) -> float | None:
        return float(x.mean()) if x.size else None

    return {
        "leak_trajectories": leak_t,
        "leak_cells": leak_c,
        "seen_test": share(seen),
        "seen_test_cross": share(seen[cross]),
        "seen_plan": share(p_seen),
    }
