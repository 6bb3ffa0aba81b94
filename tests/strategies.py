"""Shared hypothesis strategies: mazes of sizes 3 to 30 from any seed, free cells, seeds."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from repro.core.maze import free_cells, generate_maze

seeds = st.integers(min_value=0, max_value=2**32 - 1)
loop_probs = st.sampled_from([0.0, 0.1, 0.5, 1.0]) | st.floats(0.0, 1.0)


@st.composite
def mazes(draw, min_size: int = 3, max_size: int = 30) -> np.ndarray:
    """A generated maze: bool (size, size)."""
    size = draw(st.integers(min_size, max_size))
    return generate_maze(size, np.random.default_rng(draw(seeds)), draw(loop_probs))


@st.composite
def maze_and_cells(draw, k: int = 2, min_size: int = 3, max_size: int = 30):
    """A maze and ``k`` free cells in it (not necessarily distinct)."""
    walls = draw(mazes(min_size, max_size))
    cells = free_cells(walls)
    picks = [tuple(int(x) for x in cells[draw(st.integers(0, len(cells) - 1))]) for _ in range(k)]
    return walls, picks


def brute_force_distances(walls: np.ndarray, source) -> np.ndarray:
    """Reference distances by Bellman-Ford relaxation: int (size, size), -1 = none."""
    size = walls.shape[0]
    inf = 10**9
    d = np.full((size, size), inf, dtype=np.int64)
    d[source] = 0
    changed = True
    while changed:
        changed = False
        for r in range(size):
            for c in range(size):
                if walls[r, c]:
                    continue
                for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
                    rr, cc = r + dr, c + dc
                    if 0 <= rr < size and 0 <= cc < size and not walls[rr, cc]:
                        if d[rr, cc] + 1 < d[r, c]:
                            d[r, c] = d[rr, cc] + 1
                            changed = True
    d[d == inf] = -1
    return d
