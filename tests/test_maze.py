"""Maze generation, BFS ground truth and shortest paths: hand cases and properties."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from repro.core.maze import (
    bfs_distances,
    bfs_distances_batch,
    free_cells,
    generate_maze,
    neighbours,
    quadrant,
    shortest_path,
)
from strategies import brute_force_distances, maze_and_cells, mazes, seeds


def grid(text: str) -> np.ndarray:
    """'#' = wall, '.' = free."""
    return np.array([[ch == "#" for ch in row] for row in text.split()], dtype=bool)


MAZE3 = grid(
    """
    ...
    ##.
    ...
    """
)

MAZE5 = grid(
    """
    .....
    .#.#.
    .#.##
    .#...
    ...#.
    """
)


def test_bfs_3x3_by_hand():
    expected = np.array([[0, 1, 2], [-1, -1, 3], [6, 5, 4]])
    np.testing.assert_array_equal(bfs_distances(MAZE3, (0, 0)), expected)


def test_bfs_5x5_by_hand():
    # From (0, 0): along the top row and down the left column; (3, 2) is reached from
    # (2, 2) (5 steps), which is shorter than around the bottom (7 steps).
    expected = np.array(
        [
            [0, 1, 2, 3, 4],
            [1, -1, 3, -1, 5],
            [2, -1, 4, -1, -1],
            [3, -1, 5, 6, 7],
            [4, 5, 6, -1, 8],
        ]
    )
    np.testing.assert_array_equal(bfs_distances(MAZE5, (0, 0)), expected)


def test_shortest_path_3x3_by_hand():
    path = shortest_path(MAZE3, (0, 0), (2, 0), np.random.default_rng(0))
    expected = [(0, 0), (0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0)]
    assert [tuple(p) for p in path] == expected


def test_shortest_path_5x5_breaks_ties_at_random():
    # (0, 0) -> (2, 2): via (0, 1), (0, 2), (1, 2) is the only shortest path (4 steps;
    # around the bottom-left takes 8), so every seed must find it.
    seen = set()
    for s in range(20):
        p = shortest_path(MAZE5, (0, 0), (2, 2), np.random.default_rng(s))
        seen.add(tuple(map(tuple, p)))
    assert seen == {((0, 0), (0, 1), (0, 2), (1, 2), (2, 2))}
    # In an open 3x3 room, (0, 0) -> (2, 2) has 6 shortest paths; random ties find several.
    open3 = np.zeros((3, 3), dtype=bool)
    routes = {
        tuple(map(tuple, shortest_path(open3, (0, 0), (2, 2), np.random.default_rng(s))))
        for s in range(60)
    }
    assert len(routes) == 6


def test_quadrant_and_neighbours():
    assert [quadrant((r, c), 20) for r, c in [(0, 0), (0, 10), (10, 0), (19, 19)]] == [0, 1, 2, 3]
    assert quadrant((9, 9), 20) == 0 and quadrant((1, 1), 3) == 3
    assert neighbours(MAZE5, (0, 2)) == [(1, 2), (0, 1), (0, 3)]


@given(mazes())
def test_every_free_cell_reachable(walls):
    src = tuple(free_cells(walls)[0])
    d = bfs_distances(walls, src)
    assert (d[~walls] >= 0).all()
    assert (d[walls] == -1).all()


@given(maze_and_cells(k=1))
def test_bfs_zero_at_source_and_lipschitz(args):
    walls, (src,) = args
    d = bfs_distances(walls, src)
    assert d[src] == 0 and (d[~walls] > 0).sum() == (~walls).sum() - 1
    free = ~walls
    # neighbouring free cells differ by at most 1
    dv = np.abs(d[1:] - d[:-1])[free[1:] & free[:-1]]
    dh = np.abs(d[:, 1:] - d[:, :-1])[free[:, 1:] & free[:, :-1]]
    assert (dv <= 1).all() and (dh <= 1).all()


@given(maze_and_cells(k=3))
def test_bfs_symmetric_and_triangle(args):
    walls, (a, b, c) = args
    da, db, dc = (bfs_distances(walls, x) for x in (a, b, c))
    assert da[b] == db[a]
    assert da[c] <= da[b] + db[c]


@given(maze_and_cells(k=1, max_size=9))
def test_bfs_equals_brute_force(args):
    walls, (src,) = args
    np.testing.assert_array_equal(bfs_distances(walls, src), brute_force_distances(walls, src))


@given(st.lists(maze_and_cells(k=1, min_size=7, max_size=7), min_size=1, max_size=5))
def test_batched_bfs_equals_single(items):
    walls = np.stack([w for w, _ in items])
    srcs = np.array([c[0] for _, c in items])
    batched = bfs_distances_batch(walls, srcs)
    for i, (w, (s,)) in enumerate(items):
        np.testing.assert_array_equal(batched[i], bfs_distances(w, s))


@given(maze_and_cells(k=2), seeds)
def test_shortest_path_is_valid_and_shortest(args, seed):
    walls, (start, goal) = args
    path = shortest_path(walls, start, goal, np.random.default_rng(seed))
    assert tuple(path[0]) == start and tuple(path[-1]) == goal
    assert not walls[path[:, 0], path[:, 1]].any()
    steps = np.abs(np.diff(path, axis=0)).sum(axis=1)
    assert (steps == 1).all()
    assert len(path) - 1 == bfs_distances(walls, start)[goal]


@given(st.integers(3, 30), seeds)
def test_generate_is_deterministic_and_seed_dependent(size, seed):
    a = generate_maze(size, np.random.default_rng(seed))
    b = generate_maze(size, np.random.default_rng(seed))
    assert a.dtype == np.bool_ and a.shape == (size, size)
    np.testing.assert_array_equal(a, b)


def test_loop_prob_bounds_change_loops():
    rng = np.random.default_rng(1)
    perfect = generate_maze(21, rng, loop_prob=0.0)
    open_ = generate_maze(21, np.random.default_rng(1), loop_prob=1.0)
    # A perfect maze on 11x11 rooms has 120 openings (a spanning tree); loop_prob=1 opens all 220.
    rooms = 11 * 11
    assert (~perfect).sum() == rooms + rooms - 1
    assert (~open_).sum() == rooms + 2 * 11 * 10


@pytest.mark.parametrize("size", [2, 0, -1, 3.5, "20"])
def test_bad_size(size):
    with pytest.raises(ValueError, match="size"):
        generate_maze(size, np.random.default_rng(0))


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan"), "0.1"])
def test_bad_loop_prob(p):
    with pytest.raises(ValueError, match="loop_prob"):
        generate_maze(10, np.random.default_rng(0), loop_prob=p)


@pytest.mark.parametrize(
    ("start", "goal", "name"),
    [
        ((1, 0), (0, 0), "start"),
        ((0, 0), (1, 1), "goal"),
        ((3, 0), (0, 0), "start"),
        ((0, 0), (0, -1), "goal"),
    ],
)
def test_bad_cells(start, goal, name):
    with pytest.raises(ValueError, match=name):
        shortest_path(MAZE3, start, goal, np.random.default_rng(0))


def test_bfs_bad_source():
    with pytest.raises(ValueError, match="source"):
        bfs_distances(MAZE3, (1, 1))
