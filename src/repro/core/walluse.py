"""Does a distance use the walls? Two measurements that a wall-blind distance fails.

Pure numpy.

- **Detour pairs** (:func:`detour_mask`): (state, goal) pairs whose BFS distance is at
  least twice their Manhattan distance. There the walls force a long way round, so a
  distance that ignores them (the Manhattan distance itself) orders such states badly.
  :func:`detour_spearman` is the per-trajectory Spearman restricted to a trajectory's
  detour states.
- **Shuffled walls** (:func:`shuffled_mazes`): the same (state, goal) pairs scored with
  another test maze's walls put in. A model that ignores the walls scores exactly as
  before; one that reads them loses what it read.
"""

from __future__ import annotations

import numpy as np

from repro.core.metrics import spearman

DETOUR_FACTOR = 2  # BFS distance >= this x Manhattan distance: a detour pair
MIN_DETOUR_STATES = 3  # a trajectory needs this many detour states for a Spearman


def manhattan(states: np.ndarray, goals: np.ndarray) -> np.ndarray:
    """|dr| + |dc| of each pair: int64 (n,) from states, goals int (n, 2)."""
    return np.abs(np.asarray(states) - np.asarray(goals)).sum(axis=1)


def detour_mask(states: np.ndarray, goals: np.ndarray, bfs: np.ndarray) -> np.ndarray:
    """bool (n,): pairs with BFS distance ``bfs`` (n,) >= DETOUR_FACTOR x Manhattan (> 0)."""
    m = manhattan(states, goals)
    return (m > 0) & (np.asarray(bfs) >= DETOUR_FACTOR * m)


def detour_spearman(
    preds: list[np.ndarray], paths: list[np.ndarray]
) -> tuple[float | None, int, int]:
    """Per trajectory, the Spearman of the predicted d(s_t, s_T) against the remaining steps
    T - t over its detour states only; the mean over trajectories with at least
    MIN_DETOUR_STATES of them.

    preds: float (T + 1,) per trajectory; paths: int (T + 1, 2) per trajectory (shortest
    paths, so T - t is the BFS distance). Returns (mean or None, trajectories used, detour
    states in them).
    """
    rhos, states_used = [], 0
    for pred, path in zip(preds, paths, strict=True):
        remaining = np.arange(len(path) - 1, -1, -1)
        mask = detour_mask(path, np.broadcast_to(path[-1], path.shape), remaining)
        if mask.sum() >= MIN_DETOUR_STATES:
            rhos.append(spearman(np.asarray(pred)[mask], remaining[mask]))
            states_used += int(mask.sum())
    return (float(np.mean(rhos)) if rhos else None), len(rhos), states_used


def shuffled_mazes(n_mazes: int) -> np.ndarray:
    """int64 (n_mazes,): maze i is scored with the walls of maze (i + 1) mod n_mazes, a fixed
    derangement (None of the mazes keeps its own walls when there are two or more)."""
    return (np.arange(n_mazes, dtype=np.int64) + 1) % max(n_mazes, 1)


def finite_for_ranks(pred: np.ndarray) -> np.ndarray:
    """``pred`` with non-finite values (a BFS distance to a cell the other maze walls off)
    replaced by one more than the largest finite value: ranked last, as unreachable."""
    pred = np.asarray(pred, dtype=np.float64)
    ok = np.isfinite(pred)
    top = pred[ok].max() + 1.0 if ok.any() else 0.0
    return np.where(ok, pred, top)
