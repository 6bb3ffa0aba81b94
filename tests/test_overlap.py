"""Quadrant leaks and seen pairs (repro.core.overlap): hand-computed on tiny datasets."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from repro.core.data import Dataset, make_dataset
from repro.core.overlap import goal_pairs, overlap_table, pair_overlap, quadrant_leak
from strategies import seeds


def dataset(paths, mazes=None, maze_of=None, size=4, kind="normal"):
    """A Dataset of the given paths (lists of (r, c)) in open 4x4 mazes by default."""
    mazes = np.zeros((1, size, size), dtype=bool) if mazes is None else mazes
    maze_of = np.zeros(len(paths), dtype=np.int64) if maze_of is None else np.array(maze_of)
    cells = np.concatenate([np.array(p, dtype=np.int64) for p in paths])
    offsets = np.concatenate([[0], np.cumsum([len(p) for p in paths])]).astype(np.int64)
    return Dataset(kind, "fixed", 0, mazes, maze_of, cells, offsets)


def test_quadrant_leak_by_hand():
    # Size 4: quadrants are the 2x2 corners. Path 0 stays in quadrant 0; path 1 starts in
    # quadrant 0 and passes through quadrant 1 (2 of its 4 cells) before coming back.
    ds = dataset([[(0, 0), (0, 1), (1, 1)], [(1, 0), (1, 1), (1, 2), (0, 2)]])
    # (1, 2) and (0, 2) are in quadrant 1 ... but the goal (0, 2) is too, so for the
    # measure it is the start's quadrant that counts: 2 cells of 7 lie outside it.
    trajectories, cells = quadrant_leak(ds)
    assert trajectories == 0.5 and cells == 2 / 7


def test_goal_pairs_by_hand():
    ds = dataset([[(0, 0), (0, 1), (1, 1)], [(3, 3), (3, 2)]])
    maze, states, goals = goal_pairs(ds)
    assert maze.tolist() == [0, 0, 0]
    assert states.tolist() == [[0, 0], [0, 1], [3, 3]]
    assert goals.tolist() == [[1, 1], [1, 1], [3, 2]]


def test_pair_overlap_by_hand():
    train = dataset([[(0, 0), (0, 1), (1, 1)]])  # pairs (a,b), (a,c), (b,c) in that order
    test = dataset([[(0, 0), (0, 1), (1, 1)], [(1, 1), (0, 1)], [(0, 0), (1, 0), (1, 1)]])
    maze, states, goals = goal_pairs(test)
    seen = pair_overlap(train, test, maze, states, goals)
    # test pairs: (a, c), (b, c) | (c, b) reversed: unseen | (a, c) seen, ((1, 0), c) unseen
    assert seen.tolist() == [True, True, False, True, False]


def test_pairs_in_another_maze_are_never_seen():
    other = np.zeros((1, 4, 4), dtype=bool)
    other[0, 3, 0] = True
    train = dataset([[(0, 0), (0, 1)]])
    test = dataset([[(0, 0), (0, 1)]], mazes=other)
    maze, states, goals = goal_pairs(test)
    assert not pair_overlap(train, test, maze, states, goals).any()


@settings(max_examples=10, deadline=None)
@given(seeds, st.sampled_from(["fixed", "procedural"]))
def test_a_training_set_sees_every_pair_of_itself_and_strict_data_never_leaks(seed, regime):
    ds = make_dataset("normal", 20, seed, 8, regime)
    maze, states, goals = goal_pairs(ds)
    assert pair_overlap(ds, ds, maze, states, goals).all()
    strict = make_dataset("stitching-strict", 20, seed, 8, regime)
    assert quadrant_leak(strict) == (0.0, 0.0)


def test_overlap_table_procedural_test_mazes_share_no_pair():
    train = make_dataset("normal", 50, 0, 8, "procedural")
    test, plan = make_dataset("test", 20, 5, 8, "procedural"), make_dataset("plan", 20, 5, 8)
    t = overlap_table(train, test, plan)
    assert t["seen_test"] == 0.0 and t["seen_plan"] == 0.0
    assert set(t) == {"leak_trajectories", "leak_cells", "seen_test", "seen_test_cross",
                      "seen_plan"}  # fmt: skip
