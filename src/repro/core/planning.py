"""Planning on a heuristic map: greedy best-first search and greedy descent.

Pure numpy + heapq. A heuristic ``h`` is a float ``(size, size)`` map with
``h[cell] = d(cell, goal)`` (predicted steps to the goal); only its values on
free cells are read, so walls may hold NaN or inf.

The paper's greedy mode ("at each step, only the single best neighbor is
expanded") has three readings, :data:`RULES`; ``"unvisited"`` is ours (DESIGN),
the other two are measured beside it. :data:`PLANNERS` names every planner the
evaluation runs: search and greedy under each rule.

Every planner is deterministic: ties in ``h`` are broken by insertion order
(search) or by the fixed neighbour order ``MOVES`` = up, down, left, right
(greedy), never at random. This is what makes :func:`solved_rate_curve` exact
from one run per instance.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

import numpy as np

from repro.core.maze import MOVES, check_cell, check_walls
from repro.errors import BadInput

MODES = ("search", "greedy")
# The readings of greedy (see :func:`greedy`); the first is the default.
RULES = ("unvisited", "descent", "revisit")
# Every planner the evaluation runs: name -> (mode, greedy rule or None). The names of the
# paper's two modes keep their meaning (greedy = the 'unvisited' rule).
PLANNERS: dict[str, tuple[str, str | None]] = {
    "search": ("search", None),
    "greedy": ("greedy", "unvisited"),
    "greedy_descent": ("greedy", "descent"),
    "greedy_revisit": ("greedy", "revisit"),
}

# MOVES as plain Python tuples: the planners' inner loops run on Python scalars,
# which is several times faster than indexing numpy arrays cell by cell.
_MOVES = [(int(dr), int(dc)) for dr, dc in MOVES]


@dataclass(frozen=True)
class PlanResult:
    """Outcome of one planning run.

    solved:    whether the goal was reached (search: taken off the frontier).
    expanded:  number of expanded states (search: taken off the frontier;
               greedy: stood on, repeats included), start and goal included,
               ``<= budget``.
    path:      int64 ``(L + 1, 2)``. Solved: cells from start to goal, ``L`` steps.
               Unsolved greedy: the cells stood on, in order (``expanded`` rows).
               Unsolved search: empty ``(0, 2)``.
    generated: distinct cells whose ``h`` was looked at, start included (search:
               every cell ever put on the frontier; greedy: the start and each
               neighbour weighed at a cell stood on; the neighbours of the goal
               and of the cell where the budget ran out are not weighed).
    """

    solved: bool
    expanded: int
    path: np.ndarray
    generated: int


def check_heuristic(walls: np.ndarray, h, name: str = "h") -> np.ndarray:
    """Validate a heuristic map for ``walls`` and return it as float64 ``(size, size)``.

    ``h`` must be a real (integer or float) array of shape ``walls.shape``, finite
    on every free cell; values on walls are ignored (NaN/inf allowed there).
    Raises ValueError naming ``name``.
    """
    arr = np.asarray(h)
    if arr.shape != walls.shape:
        raise BadInput(f"{name} must have the maze's shape {walls.shape}, got {arr.shape}")
    if arr.dtype == np.bool_ or not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
    ):
        raise BadInput(f"{name} must be a real-valued (float) array, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    free = ~walls
    if np.isnan(arr[free]).any():
        raise BadInput(f"{name} has NaN on a free cell")
    if np.isinf(arr[free]).any():
        raise BadInput(f"{name} has inf on a free cell")
    return arr


def _check_budget(budget) -> int:
    if isinstance(budget, bool) or not isinstance(budget, int | np.integer) or budget < 1:
        raise BadInput(f"budget must be an integer >= 1, got {budget!r}")
    return int(budget)


def _prepare(walls, start, goal, h, budget):
    """Validate all planner inputs; return Python-level copies for the inner loop."""
    walls = check_walls(walls)
    s = check_cell(walls, start, "start")
    g = check_cell(walls, goal, "goal")
    hh = check_heuristic(walls, h)
    b = _check_budget(budget)
    return walls.tolist(), s, g, hh.tolist(), b, walls.shape[0]


def best_first_search(walls: np.ndarray, start, goal, h, budget: int) -> PlanResult:
    """Greedy best-first search on ``h`` from ``start`` to ``goal``.

    The frontier is a priority queue keyed by ``(h[cell], insertion counter)``,
    so equal ``h`` values leave in insertion order. A state is expanded when it
    is taken off the frontier (the goal included); the run is solved when the
    goal is taken off and stops unsolved once ``budget`` states were expanded
    without it (or the frontier empties). Each cell enters the frontier at most
    once; neighbours are pushed in the order up, down, left, right.

    walls: bool ``(size, size)``; start, goal: ``(row, col)`` free cells;
    h: float ``(size, size)``, finite on free cells; budget: int >= 1.
    """
    wl, s, g, hl, budget, size = _prepare(walls, start, goal, h, budget)
    parent: dict[tuple[int, int], tuple[int, int] | None] = {s: None}  # doubles as seen set
    counter = 0
    frontier = [(hl[s[0]][s[1]], counter, s)]
    expanded = 0
    while frontier:
        _, _, cell = heapq.heappop(frontier)
        expanded += 1
        if cell == g:
            path = [cell]
            while (p := parent[path[-1]]) is not None:
                path.append(p)
            return PlanResult(True, expanded, np.array(path[::-1], dtype=np.int64), len(parent))
        if expanded >= budget:
            break
        r, c = cell
        for dr, dc in _MOVES:
            rr, cc = r + dr, c + dc
            if 0 <= rr < size and 0 <= cc < size and not wl[rr][cc] and (rr, cc) not in parent:
                parent[(rr, cc)] = cell
                counter += 1
                heapq.heappush(frontier, (hl[rr][cc], counter, (rr, cc)))
    return PlanResult(False, expanded, np.zeros((0, 2), dtype=np.int64), len(parent))


def greedy(walls: np.ndarray, start, goal, h, budget: int, rule: str = "unvisited") -> PlanResult:
    """Greedy descent on ``h``: best-first search that keeps only one child.

    From ``start``, repeatedly step to one free neighbour, chosen by ``rule``:

    - ``"unvisited"`` (default): the not-yet-visited neighbour of smallest ``h``;
      fails at a dead end (every neighbour visited; there is no backtracking).
    - ``"descent"``: the neighbour of smallest ``h``, only if its ``h`` is strictly
      below the current cell's; otherwise fails (a local minimum).
    - ``"revisit"``: the neighbour of smallest ``h``, visited or not; fails only
      at the budget.

    Ties go to the first neighbour in the order up, down, left, right. Every
    state stood on is expanded, start and goal included, repeats included, so
    ``start == goal`` is solved with 1 expansion; the run fails once ``budget``
    states were expanded without reaching the goal.

    Other arguments as for :func:`best_first_search`.
    """
    if rule not in RULES:
        raise BadInput(f"rule must be one of {RULES}, got {rule!r}")
    wl, s, g, hl, budget, size = _prepare(walls, start, goal, h, budget)
    skip_visited, only_down = rule == "unvisited", rule == "descent"  # once, not per step
    path = [s]
    visited = {s}  # cells stood on
    seen = {s}  # cells whose h was looked at
    cell = s
    while cell != g:
        if len(path) >= budget:
            break
        r, c = cell
        best, best_h = None, 0.0
        for dr, dc in _MOVES:
            rr, cc = r + dr, c + dc
            if not (0 <= rr < size and 0 <= cc < size) or wl[rr][cc]:
                continue
            if skip_visited and (rr, cc) in visited:
                continue
            seen.add((rr, cc))
            # Strict '<' keeps the first neighbour in MOVES order on ties.
            if best is None or hl[rr][cc] < best_h:
                best, best_h = (rr, cc), hl[rr][cc]
        if best is None or (only_down and not best_h < hl[r][c]):
            break  # a dead end (unvisited) or a local minimum (descent)
        cell = best
        visited.add(cell)
        path.append(cell)
    return PlanResult(cell == g, len(path), np.array(path, dtype=np.int64), len(seen))


# --------------------------------------------------------------------------- many instances


class PlanStats(NamedTuple):
    """Per-instance outcomes of :func:`plan_many`.

    solved: bool (n,); expanded: int64 (n,); path_len: int64 (n,) steps of the
    returned path (-1 if unsolved); generated: int64 (n,) (see :class:`PlanResult`).
    """

    solved: np.ndarray
    expanded: np.ndarray
    path_len: np.ndarray
    generated: np.ndarray


def plan_many(
    walls: np.ndarray | Sequence[np.ndarray],
    starts,
    goals,
    heuristics,
    budget: int,
    mode: str,
    rule: str | None = "unvisited",
) -> PlanStats:
    """Run one planner over ``n`` instances.

    walls: bool ``(n, size, size)`` (or a list of ``(size, size)``), or one
    ``(size, size)`` maze shared by all instances; starts, goals: int ``(n, 2)``;
    heuristics: float ``(n, size, size)``; budget: int >= 1;
    mode: "search" (:func:`best_first_search`) or "greedy" (:func:`greedy` with
    ``rule``; search ignores ``rule``).
    Returns :class:`PlanStats` (solved, expanded, path_len, generated), unpackable
    as a tuple.
    """
    if mode not in MODES:
        raise BadInput(f"mode must be one of {MODES}, got {mode!r}")
    if mode == "search":
        planner = best_first_search
    elif rule in RULES:
        planner = partial(greedy, rule=rule)
    else:
        raise BadInput(f"rule must be one of {RULES}, got {rule!r}")
    budget = _check_budget(budget)
    starts = np.asarray(starts)
    goals = np.asarray(goals)
    n = len(starts)
    w = np.asarray(walls)
    if w.ndim == 2:  # one maze for all instances (the fixed regime)
        w = np.broadcast_to(w, (n, *w.shape))
    if not (len(w) == len(goals) == len(heuristics) == n):
        raise BadInput(
            f"walls, starts, goals and heuristics need one entry per instance, got "
            f"{len(w)}, {n}, {len(goals)}, {len(heuristics)}"
        )
    solved = np.zeros(n, dtype=bool)
    expanded = np.zeros(n, dtype=np.int64)
    path_len = np.full(n, -1, dtype=np.int64)
    generated = np.zeros(n, dtype=np.int64)
    for i in range(n):
        res = planner(w[i], starts[i], goals[i], heuristics[i], budget)
        solved[i] = res.solved
        expanded[i] = res.expanded
        generated[i] = res.generated
        if res.solved:
            path_len[i] = len(res.path) - 1
    return PlanStats(solved, expanded, path_len, generated)


def solved_rate_curve(
    expanded: np.ndarray, solved: np.ndarray, max_budget: int = 400
) -> np.ndarray:
    """Fraction of instances solved within budget ``b``, for ``b = 1 .. max_budget``.

    expanded: int (n,), solved: bool (n,), both from runs at budget
    ``>= max_budget``. Returns float64 ``(max_budget,)``; entry ``b - 1`` is the
    rate at budget ``b``.

    Exact from one run per instance: both planners are deterministic (ties are
    broken by insertion order or a fixed neighbour order, never at random), and
    the budget only decides when to stop, never which state comes next. So the
    run with budget ``b`` is a prefix of the run with any larger budget, and an
    instance is solved within ``b`` iff the full run solved it with
    ``expanded <= b``. Unsolved runs count as unsolved at every budget up to
    the one they ran with.
    """
    expanded = np.asarray(expanded)
    solved = np.asarray(solved, dtype=bool)
    if expanded.ndim != 1 or expanded.shape != solved.shape:
        raise BadInput(
            f"expanded and solved must be 1D of equal length, got {expanded.shape}, {solved.shape}"
        )
    if not np.issubdtype(expanded.dtype, np.integer) or (expanded < 0).any():
        raise BadInput("expanded must hold non-negative integers")
    max_budget = _check_budget(max_budget)
    if len(expanded) == 0:
        return np.zeros(max_budget, dtype=np.float64)
    # Count solved instances by expansion count, then accumulate over budgets.
    counts = np.bincount(expanded[solved].astype(np.int64), minlength=max_budget + 1)
    return np.cumsum(counts[: max_budget + 1])[1:] / len(expanded)
