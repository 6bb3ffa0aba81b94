"""Planners: hand-computed cases on a 5x5 maze, properties on generated mazes, bad inputs."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from repro.core.heuristics import BaselineScorer, baseline_map, heuristic_maps
from repro.core.maze import bfs_distances, free_cells, generate_maze
from repro.core.planning import (
    RULES,
    PlanResult,
    best_first_search,
    check_heuristic,
    greedy,
    plan_many,
    solved_rate_curve,
)
from strategies import maze_and_cells, seeds

PLANNERS = {
    "search": best_first_search,
    "greedy": greedy,
    "greedy_descent": partial(greedy, rule="descent"),
    "greedy_revisit": partial(greedy, rule="revisit"),
}
MODE_RULE = {  # plan_many's (mode, rule) of each planner above
    "search": ("search", "unvisited"),
    "greedy": ("greedy", "unvisited"),
    "greedy_descent": ("greedy", "descent"),
    "greedy_revisit": ("greedy", "revisit"),
}

# The hand-checked maze ('#' = wall). The right column is a dead-end corridor:
# from (0, 4) it runs down to (4, 4), and (4, 3) is a wall. The goal G = (2, 2)
# is only reachable through the left column and the bottom row.
#
#        c0 c1 c2 c3 c4
#   r0    S  .  .  .  .
#   r1    .  #  #  #  .
#   r2    .  #  G  #  .
#   r3    .  #  .  #  .
#   r4    .  .  .  #  .
_ = False
X = True
WALLS = np.array(
    [
        [_, _, _, _, _],
        [_, X, X, X, _],
        [_, X, _, X, _],
        [_, X, _, X, _],
        [_, _, _, X, _],
    ]
)
START, GOAL = (0, 0), (2, 2)
SHORTEST = [(0, 0), (1, 0), (2, 0), (3, 0), (4, 0), (4, 1), (4, 2), (3, 2), (2, 2)]  # 8 steps
INF = np.inf
# A lure: low values along the top row and down the dead-end right column.
LURE = np.array(
    [
        [5.0, 4.0, 3.0, 2.0, 1.0],
        [6.0, INF, INF, INF, 0.5],
        [7.0, INF, 0.0, INF, 0.4],
        [8.0, INF, 1.0, INF, 0.3],
        [9.0, 2.0, 1.5, INF, 0.2],
    ]
)


def cells(res: PlanResult) -> list[tuple[int, int]]:
    return [tuple(int(x) for x in row) for row in res.path]


# --------------------------------------------------------------------------- by hand


def test_maze_by_hand_is_as_drawn():
    assert len(free_cells(WALLS)) == 17
    assert bfs_distances(WALLS, GOAL)[START] == 8


def test_greedy_lured_into_dead_end():
    # (0,0): down (1,0) h=6, right (0,1) h=4 -> (0,1); then along the top row
    # (0,2) h=3, (0,3) h=2, (0,4) h=1 (their down-neighbours are walls), then down
    # the corridor (1,4) .5, (2,4) .4, (3,4) .3, (4,4) .2. At (4,4): up is visited,
    # left (4,3) is a wall -> dead end after 9 states stood on.
    res = greedy(WALLS, START, GOAL, LURE, budget=400)
    assert not res.solved
    assert res.expanded == 9
    assert cells(res) == [(0, 0), (0, 1), (0, 2), (0, 3), (0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]
    assert res.path.dtype == np.int64
    # Weighed: the start, (1,0), (0,1), then one new cell per step up to (4,4).
    assert res.generated == 10


def test_descent_stops_at_the_lure_minimum():
    # The same walk as above (every step lowers h), then at (4,4) the only free
    # neighbour (3,4) has h .3, not below .2: a local minimum after 9 states.
    res = greedy(WALLS, START, GOAL, LURE, budget=400, rule="descent")
    assert not res.solved and res.expanded == 9 and res.generated == 10
    assert cells(res)[-1] == (4, 4)


def test_revisit_oscillates_until_the_budget():
    # As above to (4,4), then back to (3,4) (its smallest neighbour, visited or not),
    # whose smallest neighbour is (4,4) again: (3,4), (4,4), ... until the budget.
    res = greedy(WALLS, START, GOAL, LURE, budget=400, rule="revisit")
    assert not res.solved and res.expanded == 400 and len(res.path) == 400
    assert cells(res)[9:13] == [(3, 4), (4, 4), (3, 4), (4, 4)]
    assert res.generated == 10  # no cell is weighed that the walk had not seen
    res = greedy(WALLS, START, GOAL, LURE, budget=12, rule="revisit")
    assert not res.solved and res.expanded == 12


def test_best_first_recovers_from_lure():
    # Expansions (pushes in brackets, counter order):
    #  1 (0,0) [(1,0) h6, (0,1) h4]   2 (0,1) [(0,2) h3]   3 (0,2) [(0,3) h2]
    #  4 (0,3) [(0,4) h1]             5 (0,4) [(1,4) .5]   6 (1,4) [(2,4) .4]
    #  7 (2,4) [(3,4) .3]             8 (3,4) [(4,4) .2]   9 (4,4) [] dead end
    # 10 (1,0) [(2,0) h7]            11 (2,0) [(3,0) h8]  12 (3,0) [(4,0) h9]
    # 13 (4,0) [(4,1) h2]            14 (4,1) [(4,2) 1.5] 15 (4,2) [(3,2) h1]
    # 16 (3,2) [(2,2) h0]            17 (2,2) goal -> solved, 17 expanded (every free cell).
    res = best_first_search(WALLS, START, GOAL, LURE, budget=400)
    assert res.solved
    assert res.expanded == 17
    assert res.generated == 17  # every free cell was put on the frontier
    assert cells(res) == SHORTEST  # parents: (2,2)<-(3,2)<-(4,2)<-(4,1)<-(4,0)<-...<-(0,0)
    # One expansion short of the goal: unsolved, empty path; the goal was never pushed
    # (the 16th expansion spends the budget before its neighbours are pushed).
    res = best_first_search(WALLS, START, GOAL, LURE, budget=16)
    assert (res.solved, res.expanded, res.path.shape) == (False, 16, (0, 2))
    assert res.generated == 16


def test_manhattan_by_hand():
    # h = |r-2| + |c-2|. Greedy from (0,0) h4: down (1,0) h3 and right (0,1) h3 tie
    # -> down (first in MOVES). (1,0)->(2,0) h2 -> only (3,0) h3 -> (4,0) h4 -> (4,1) h3
    # -> (4,2) h2 -> (3,2) h1 -> (2,2) h0: the shortest path, 9 states.
    h = baseline_map("manhattan", WALLS, GOAL)
    res = greedy(WALLS, START, GOAL, h, budget=400)
    assert res.solved and res.expanded == 9 and cells(res) == SHORTEST
    # Budget 5: stops after standing on 5 states.
    res = greedy(WALLS, START, GOAL, h, budget=5)
    assert not res.solved and res.expanded == 5 and cells(res) == SHORTEST[:5]
    # Search: 1 (0,0) h4 [(1,0) h3 c1, (0,1) h3 c2]; 2 (1,0) h3 (older tie) [(2,0) h2];
    # 3 (2,0) h2 [(3,0) h3 c4]; 4 (0,1) h3 c2 [(0,2) h2]; 5 (0,2) h2 [(0,3) h3 c6];
    # 6 (3,0) h3 c4 [(4,0) h4]; 7 (0,3) h3 c6 [(0,4) h4 c8]; 8 (4,0) h4 c7 [(4,1) h3];
    # 9 (4,1) [(4,2) h2]; 10 (4,2) [(3,2) h1]; 11 (3,2) [(2,2) h0]; 12 (2,2) goal.
    res = best_first_search(WALLS, START, GOAL, h, budget=400)
    assert res.solved and res.expanded == 12 and cells(res) == SHORTEST
    # Pushed: the start, (1,0) (0,1) (2,0) (3,0) (0,2) (0,3) (4,0) (0,4) (4,1) (4,2)
    # (3,2) (2,2): 13 cells.
    assert res.generated == 13


def test_manhattan_descent_and_revisit_by_hand():
    # Descent: (0,0) h4 -> (1,0) h3 (ties with (0,1); down first) -> (2,0) h2, whose
    # neighbours (1,0) and (3,0) both have h3: a local minimum after 3 states.
    h = baseline_map("manhattan", WALLS, GOAL)
    res = greedy(WALLS, START, GOAL, h, budget=400, rule="descent")
    assert not res.solved and res.expanded == 3 and cells(res) == SHORTEST[:3]
    assert res.generated == 5  # (0,0), (1,0), (0,1), (2,0), and (3,0) weighed at (2,0)
    # Revisit: at (2,0) the tie (1,0) / (3,0) goes up; from (1,0) back down to (2,0).
    res = greedy(WALLS, START, GOAL, h, budget=400, rule="revisit")
    assert not res.solved and res.expanded == 400
    assert cells(res)[:6] == [(0, 0), (1, 0), (2, 0), (1, 0), (2, 0), (1, 0)]
    assert res.generated == 5  # the same cells: the oscillation weighs nothing new


def test_constant_by_hand():
    # Constant h: the insertion counter alone orders the frontier -> BFS order:
    # (0,0) (1,0) (0,1) (2,0) (0,2) (3,0) (0,3) (4,0) (0,4) (4,1) (1,4) (4,2) (2,4)
    # (3,2) (3,4) (2,2): the goal is the 16th state taken off.
    h = baseline_map("constant", WALLS, GOAL)
    res = best_first_search(WALLS, START, GOAL, h, budget=400)
    assert res.solved and res.expanded == 16 and cells(res) == SHORTEST
    # Greedy: all ties -> always the first free unvisited neighbour in order up, down,
    # left, right: down the left column, right along the bottom, up to the goal.
    res = greedy(WALLS, START, GOAL, h, budget=400)
    assert res.solved and res.expanded == 9 and cells(res) == SHORTEST
    # Descent: no neighbour is strictly lower than the start: stuck at once.
    res = greedy(WALLS, START, GOAL, h, budget=400, rule="descent")
    assert not res.solved and res.expanded == 1 and res.generated == 3


def test_oracle_by_hand():
    h = baseline_map("oracle", WALLS, GOAL)
    assert h[START] == 8 and np.isinf(h[1, 1]) and h.dtype == np.float64
    for planner in PLANNERS.values():
        res = planner(WALLS, START, GOAL, h, budget=400)
        assert res.solved and res.expanded == 9 and cells(res) == SHORTEST


@pytest.mark.parametrize("planner", PLANNERS.values())
def test_start_is_goal(planner):
    res = planner(WALLS, GOAL, GOAL, LURE, budget=1)
    assert res.solved and res.expanded == 1 and cells(res) == [GOAL]


@pytest.mark.parametrize("planner", PLANNERS.values())
def test_budget_one_is_only_the_start(planner):
    res = planner(WALLS, START, GOAL, LURE, budget=1)
    assert not res.solved and res.expanded == 1


def test_heuristic_maps_match_single():
    rng = np.random.default_rng(0)
    walls = np.stack([generate_maze(9, rng) for _ in range(3)])
    goals = np.array([free_cells(w)[-1] for w in walls])
    rows, cols = np.indices(walls.shape[1:])
    for kind in ("oracle", "manhattan", "constant"):
        maps = heuristic_maps(BaselineScorer(kind), walls, np.arange(3), goals)
        assert maps.shape == walls.shape and maps.dtype == np.float64
        for i in range(3):
            np.testing.assert_array_equal(maps[i], baseline_map(kind, walls[i], goals[i]))
            # an independent reference for each kind, on the free cells; inf on walls
            free = ~walls[i]
            ref = {
                "oracle": bfs_distances(walls[i], tuple(goals[i])),
                "manhattan": np.abs(rows - goals[i][0]) + np.abs(cols - goals[i][1]),
                "constant": np.zeros(walls.shape[1:]),
            }[kind]
            np.testing.assert_array_equal(maps[i][free], ref[free])
            assert np.isinf(maps[i][walls[i]]).all()


# --------------------------------------------------------------------------- properties


def assert_valid_path(walls, path, start, goal):
    """Every step joins free 4-neighbours; first cell is start, last is goal."""
    assert path.dtype == np.int64 and path.ndim == 2 and path.shape[1] == 2
    assert tuple(path[0]) == tuple(start) and tuple(path[-1]) == tuple(goal)
    assert not walls[path[:, 0], path[:, 1]].any()
    steps = np.abs(np.diff(path, axis=0)).sum(axis=1)
    assert (steps == 1).all()


def random_heuristic(walls, seed, ties: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = walls.shape
    return rng.integers(0, 3, shape).astype(float) if ties else rng.normal(size=shape)


@given(maze_and_cells())
def test_oracle_is_optimal_for_both(mc):
    walls, (start, goal) = mc
    d = int(bfs_distances(walls, goal)[start])
    h = baseline_map("oracle", walls, goal)
    for planner in PLANNERS.values():
        res = planner(walls, start, goal, h, budget=d + 1)  # exactly enough
        assert res.solved and res.expanded == d + 1
        assert len(res.path) == d + 1
        assert_valid_path(walls, res.path, start, goal)


@given(maze_and_cells(), seeds, st.booleans())
def test_search_with_full_budget_always_solves(mc, seed, ties):
    walls, (start, goal) = mc
    h = random_heuristic(walls, seed, ties)
    n_free = len(free_cells(walls))
    res = best_first_search(walls, start, goal, h, budget=n_free)
    assert res.solved and 1 <= res.expanded <= n_free
    assert_valid_path(walls, res.path, start, goal)
    assert len(res.path) - 1 >= bfs_distances(walls, goal)[start]


@given(maze_and_cells(), seeds, st.booleans(), st.integers(1, 60))
def test_greedy_paths_are_simple_walks(mc, seed, ties, budget):
    walls, (start, goal) = mc
    h = random_heuristic(walls, seed, ties)
    res = greedy(walls, start, goal, h, budget=budget)
    assert 0 < res.expanded <= budget
    assert len(res.path) == res.expanded  # one row per state stood on
    assert len({tuple(c) for c in res.path.tolist()}) == len(res.path)  # never twice
    end = goal if res.solved else tuple(res.path[-1])
    assert_valid_path(walls, res.path, start, end)
    assert res.solved == (tuple(res.path[-1]) == tuple(goal))


@given(maze_and_cells(), seeds, st.booleans(), st.integers(1, 60))
def test_descent_only_goes_down(mc, seed, ties, budget):
    walls, (start, goal) = mc
    h = random_heuristic(walls, seed, ties)
    res = greedy(walls, start, goal, h, budget=budget, rule="descent")
    along = h[res.path[:, 0], res.path[:, 1]]
    assert (np.diff(along) < 0).all()  # h strictly falls at every step
    below = np.unique(h[~walls][h[~walls] < h[tuple(start)]])
    assert res.expanded <= 1 + len(below)
    end = goal if res.solved else tuple(res.path[-1])
    assert_valid_path(walls, res.path, start, end)


@given(maze_and_cells(), seeds, st.booleans(), st.integers(1, 60))
def test_revisit_fails_only_at_the_budget(mc, seed, ties, budget):
    walls, (start, goal) = mc
    h = random_heuristic(walls, seed, ties)
    res = greedy(walls, start, goal, h, budget=budget, rule="revisit")
    assert res.solved or res.expanded == budget
    assert len(res.path) == res.expanded
    end = goal if res.solved else tuple(res.path[-1])
    assert_valid_path(walls, res.path, start, end)


@given(maze_and_cells(), st.integers(1, 80))
def test_revisit_with_the_oracle_is_unvisited(mc, budget):
    walls, (start, goal) = mc
    h = baseline_map("oracle", walls, goal)
    a = greedy(walls, start, goal, h, budget=budget, rule="revisit")
    b = greedy(walls, start, goal, h, budget=budget, rule="unvisited")
    c = greedy(walls, start, goal, h, budget=budget, rule="descent")
    for other in (b, c):
        assert (a.solved, a.expanded, a.generated) == (
            other.solved,
            other.expanded,
            other.generated,
        )
        np.testing.assert_array_equal(a.path, other.path)


@given(maze_and_cells(), seeds, st.booleans(), st.integers(1, 60), st.sampled_from(RULES))
def test_generated_counts_the_cells_weighed(mc, seed, ties, budget, rule):
    walls, (start, goal) = mc
    h = random_heuristic(walls, seed, ties)
    n_free = len(free_cells(walls))
    g = greedy(walls, start, goal, h, budget=budget, rule=rule)
    stood = {tuple(c) for c in g.path.tolist()}
    assert len(stood) <= g.generated <= n_free
    s = best_first_search(walls, start, goal, h, budget=budget)
    # Each expansion pops a distinct generated cell; a solved search expanded the goal.
    assert s.expanded <= s.generated <= n_free


@given(maze_and_cells(), seeds, st.booleans(), st.integers(1, 60))
def test_search_respects_budget(mc, seed, ties, budget):
    walls, (start, goal) = mc
    h = random_heuristic(walls, seed, ties)
    res = best_first_search(walls, start, goal, h, budget=budget)
    assert 0 < res.expanded <= budget
    if res.solved:
        assert_valid_path(walls, res.path, start, goal)
    else:
        assert res.path.shape == (0, 2)
        # Generated mazes are connected, so only the budget can stop it.
        assert res.expanded == budget


@settings(max_examples=10)
@given(seeds, st.sampled_from(list(MODE_RULE)), st.booleans())
def test_solved_rate_curve_matches_rerunning(seed, planner, ties):
    mode, rule = MODE_RULE[planner]
    rng = np.random.default_rng(seed)
    n, max_budget = 5, 30
    walls = np.stack([generate_maze(7, rng) for _ in range(n)])
    pairs = [free_cells(w)[rng.choice(len(free_cells(w)), 2)] for w in walls]
    starts = np.array([p[0] for p in pairs])
    goals = np.array([p[1] for p in pairs])
    h = np.stack([random_heuristic(w, rng.integers(2**32), ties) for w in walls])
    full = plan_many(walls, starts, goals, h, max_budget, mode, rule)
    curve = solved_rate_curve(full.expanded, full.solved, max_budget)
    reference = [
        plan_many(walls, starts, goals, h, b, mode, rule).solved.mean() for b in range(1, 31)
    ]
    np.testing.assert_array_equal(curve, reference)
    assert curve.shape == (max_budget,) and curve.dtype == np.float64


def test_plan_many_matches_single_runs():
    rng = np.random.default_rng(3)
    walls = generate_maze(11, rng)  # one shared maze, as in the fixed regime
    fc = free_cells(walls)
    idx = rng.choice(len(fc), (8, 2))
    starts, goals = fc[idx[:, 0]], fc[idx[:, 1]]
    h = heuristic_maps(BaselineScorer("manhattan"), walls[None], np.zeros(8, np.int64), goals)
    for name, planner in PLANNERS.items():
        solved, expanded, path_len, generated = plan_many(
            walls, starts, goals, h, 40, *MODE_RULE[name]
        )
        for i in range(8):
            res = planner(walls, starts[i], goals[i], h[i], 40)
            assert solved[i] == res.solved and expanded[i] == res.expanded
            assert generated[i] == res.generated
            assert path_len[i] == (len(res.path) - 1 if res.solved else -1)
        assert solved.dtype == np.bool_ and expanded.dtype == path_len.dtype == np.int64


def test_solved_rate_curve_by_hand():
    curve = solved_rate_curve(np.array([1, 3, 3, 5]), np.array([True, True, False, True]), 6)
    np.testing.assert_allclose(curve, [0.25, 0.25, 0.5, 0.5, 0.75, 0.75])


# --------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize("planner", PLANNERS.values())
@pytest.mark.parametrize(
    ("start", "goal", "match"),
    [
        ((1, 1), GOAL, "start"),  # wall
        ((5, 0), GOAL, "start"),  # off grid
        ((-1, 0), GOAL, "start"),
        (START, (3, 3), "goal"),  # wall
        (START, (0, 9), "goal"),
        ((0.0, 0.0), GOAL, "start"),  # not integers
    ],
)
def test_bad_cells(planner, start, goal, match):
    with pytest.raises(ValueError, match=match):
        planner(WALLS, start, goal, LURE, budget=10)


@pytest.mark.parametrize("planner", PLANNERS.values())
def test_bad_heuristic(planner):
    with pytest.raises(ValueError, match=r"^h must have the maze's shape"):
        planner(WALLS, START, GOAL, np.zeros((4, 5)), budget=10)
    bad = LURE.copy()
    bad[0, 2] = np.nan
    with pytest.raises(ValueError, match=r"^h has NaN on a free cell"):
        planner(WALLS, START, GOAL, bad, budget=10)
    bad[0, 2] = np.inf
    with pytest.raises(ValueError, match=r"^h has inf on a free cell"):
        planner(WALLS, START, GOAL, bad, budget=10)
    with pytest.raises(ValueError, match=r"^h must be a real-valued"):
        planner(WALLS, START, GOAL, np.zeros((5, 5), dtype=bool), budget=10)


def test_check_heuristic_ignores_walls():
    h = check_heuristic(WALLS, np.where(WALLS, np.nan, 1))
    assert h.dtype == np.float64


@pytest.mark.parametrize("planner", PLANNERS.values())
@pytest.mark.parametrize("budget", [0, -3, 2.5, True, None])
def test_bad_budget(planner, budget):
    with pytest.raises(ValueError, match="budget"):
        planner(WALLS, START, GOAL, LURE, budget=budget)


def test_bad_walls_and_mode():
    with pytest.raises(ValueError, match="walls"):
        greedy(WALLS.astype(int), START, GOAL, LURE, budget=10)
    with pytest.raises(ValueError, match="mode"):
        plan_many(WALLS[None], [START], [GOAL], LURE[None], 10, "astar")
    with pytest.raises(ValueError, match="rule must be one of"):
        plan_many(WALLS[None], [START], [GOAL], LURE[None], 10, "greedy", "backtrack")
    with pytest.raises(ValueError, match="rule must be one of"):
        greedy(WALLS, START, GOAL, LURE, budget=10, rule="Descent")
    with pytest.raises(ValueError, match="one entry per instance"):
        plan_many(WALLS[None], [START, START], [GOAL], LURE[None], 10, "greedy")
    with pytest.raises(ValueError, match="budget"):
        solved_rate_curve(np.array([1]), np.array([True]), 0)
