"""Grid mazes and their ground truth: generation, BFS distances, shortest paths.

Pure numpy. A maze is ``walls``: bool ``(size, size)``, ``True`` = wall; cells off
the grid count as walls. Moves are the 4-neighbourhood with unit cost.

There is exactly one BFS in the project, :func:`bfs_distances_batch`; every
other distance (ground truth, datasets, the oracle heuristic, the tests) calls it.
"""

from __future__ import annotations

import numpy as np

from repro.errors import BadInput

# Neighbour order used everywhere a fixed order matters (greedy ties, paths):
# up, down, left, right.
MOVES = np.array([(-1, 0), (1, 0), (0, -1), (0, 1)], dtype=np.int64)  # (4, 2)


def _check_size(size: int) -> None:
    if not isinstance(size, int | np.integer) or isinstance(size, bool) or size < 3:
        raise BadInput(f"size must be an integer >= 3, got {size!r}")


def check_walls(walls: np.ndarray, name: str = "walls") -> np.ndarray:
    """Validate a maze array and return it as a bool ``(size, size)`` array."""
    walls = np.asarray(walls)
    if walls.ndim != 2 or walls.shape[0] != walls.shape[1]:
        raise BadInput(f"{name} must be a square 2D array, got shape {walls.shape}")
    if walls.dtype != np.bool_:
        raise BadInput(f"{name} must have dtype bool, got {walls.dtype}")
    return walls


def check_cell(walls: np.ndarray, cell, name: str) -> tuple[int, int]:
    """Return ``cell`` as ``(row, col)`` ints; ValueError naming ``name`` if off-grid or a wall."""
    arr = np.asarray(cell)
    if arr.shape != (2,) or not np.issubdtype(arr.dtype, np.integer):
        raise BadInput(f"{name} must be a (row, col) pair of integers, got {cell!r}")
    r, c = int(arr[0]), int(arr[1])
    size = walls.shape[0]
    if not (0 <= r < size and 0 <= c < size):
        raise BadInput(f"{name} {(r, c)} is off the {size}x{size} grid")
    if walls[r, c]:
        raise BadInput(f"{name} {(r, c)} is on a wall")
    return r, c


def generate_maze(size: int, rng: np.random.Generator, loop_prob: float = 0.1) -> np.ndarray:
    """A random maze: bool ``(size, size)``, ``True`` = wall.

    Rooms sit at even coordinates. A randomized depth-first search carves a
    perfect maze (a spanning tree of the rooms); then every wall that still
    separates two adjacent rooms is opened with probability ``loop_prob``, so
    mazes have loops and more than one route. Every free cell is reachable.
    """
    _check_size(size)
    if not (isinstance(loop_prob, int | float) and 0.0 <= float(loop_prob) <= 1.0):
        raise BadInput(f"loop_prob must be a number in [0, 1], got {loop_prob!r}")
    n = (size + 1) // 2  # rooms per side
    walls = np.ones((size, size), dtype=bool)
    walls[::2, ::2] = False  # (n, n) rooms
    visited = np.zeros((n, n), dtype=bool)
    # Draw all randomness up front: one start room and one uniform per DFS step.
    start = int(rng.integers(n * n))
    draws = rng.random(2 * n * n).tolist()
    di = (-1, 1, 0, 0)
    dj = (0, 0, -1, 1)
    stack = [(start // n, start % n)]
    visited[start // n, start % n] = True
    k = 0
    while stack:
        i, j = stack[-1]
        options = [
            (i + a, j + b)
            for a, b in zip(di, dj, strict=True)
            if 0 <= i + a < n and 0 <= j + b < n and not visited[i + a, j + b]
        ]
        if not options:
            stack.pop()
            continue
        ni, nj = options[int(draws[k] * len(options))]
        k += 1
        visited[ni, nj] = True
        walls[i + ni, j + nj] = False  # the wall cell between the two rooms (2i+2ni)/2
        stack.append((ni, nj))
    # Loops: walls between horizontally / vertically adjacent rooms.
    if loop_prob > 0:
        between = np.zeros((size, size), dtype=bool)
        between[::2, 1 : 2 * n - 1 : 2] = True  # between (r, c-1) and (r, c+1)
        between[1 : 2 * n - 1 : 2, ::2] = True  # between (r-1, c) and (r+1, c)
        opened = between & walls & (rng.random((size, size)) < loop_prob)
        walls[opened] = False
    return walls


# A start-goal pair lies in one quadrant ("same") or not ("cross"): the halves of the test
# and planning sets on which stitching data can and cannot have shown the pair.
HALVES = ("same", "cross")


def quadrant(cell, size: int) -> int:
    """Quadrant 0..3 of ``cell = (r, c)``: ``2 * (r >= size // 2) + (c >= size // 2)``."""
    r, c = int(cell[0]), int(cell[1])
    return 2 * int(r >= size // 2) + int(c >= size // 2)


def quadrant_map(size: int) -> np.ndarray:
    """Quadrant of every cell: int ``(size, size)``."""
    r, c = np.indices((size, size))
    return 2 * (r >= size // 2) + (c >= size // 2)


def free_cells(walls: np.ndarray) -> np.ndarray:
    """The free cells in row-major order: int ``(F, 2)``."""
    return np.argwhere(~np.asarray(walls))


def neighbours(walls: np.ndarray, cell) -> list[tuple[int, int]]:
    """Free 4-neighbours of ``cell`` in the fixed order up, down, left, right."""
    size = walls.shape[0]
    r, c = int(cell[0]), int(cell[1])
    out = []
    for dr, dc in MOVES.tolist():
        rr, cc = r + dr, c + dc
        if 0 <= rr < size and 0 <= cc < size and not walls[rr, cc]:
            out.append((rr, cc))
    return out


def _shift(a: np.ndarray, dr: int, dc: int, fill) -> np.ndarray:
    """``out[..., r, c] = a[..., r - dr, c - dc]`` (``fill`` where that is off-grid)."""
    out = np.full_like(a, fill)
    h, w = a.shape[-2:]
    out[..., max(dr, 0) : h + min(dr, 0), max(dc, 0) : w + min(dc, 0)] = a[
        ..., max(-dr, 0) : h + min(-dr, 0), max(-dc, 0) : w + min(-dc, 0)
    ]
    return out


def bfs_distances_batch(walls: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """Breadth-first search from one source per maze, all mazes at once.

    walls: bool ``(n, size, size)``; sources: int ``(n, 2)`` free cells.
    Returns int64 ``(n, size, size)``: steps from the source, -1 on walls and
    unreachable cells. Frontiers of all mazes grow together by array shifts.
    """
    walls = np.asarray(walls, dtype=bool)
    sources = np.asarray(sources, dtype=np.int64)
    n = walls.shape[0]
    dist = np.full(walls.shape, -1, dtype=np.int64)
    free = ~walls
    idx = np.arange(n)
    frontier = np.zeros(walls.shape, dtype=bool)
    frontier[idx, sources[:, 0], sources[:, 1]] = True
    frontier &= free
    dist[frontier] = 0
    d = 0
    while frontier.any():
        d += 1
        grown = (
            _shift(frontier, 1, 0, False)
            | _shift(frontier, -1, 0, False)
            | _shift(frontier, 0, 1, False)
            | _shift(frontier, 0, -1, False)
        )
        frontier = grown & free & (dist < 0)
        dist[frontier] = d
    return dist


def bfs_distances(walls: np.ndarray, source) -> np.ndarray:
    """Steps from ``source`` to every cell: int64 ``(size, size)``, -1 on walls/unreachable."""
    walls = check_walls(walls)
    r, c = check_cell(walls, source, "source")
    return bfs_distances_batch(walls[None], np.array([[r, c]]))[0]


def sample_paths_batch(
    walls: np.ndarray, starts: np.ndarray, goals: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Random shortest paths, one per maze, all walked in lockstep.

    walls: bool ``(n, size, size)``; starts, goals: int ``(n, 2)`` free cells.
    Returns ``(cells, lengths)``: int64 ``(n, L + 1, 2)`` padded with the goal,
    and int64 ``(n,)`` path lengths ``T`` (= BFS distance). At every step the
    next cell is drawn uniformly among the neighbours one step closer to the goal.
    """
    n, size, _ = walls.shape
    dist = bfs_distances_batch(walls, goals)  # (n, size, size), from the goal
    idx = np.arange(n)
    lengths = dist[idx, starts[:, 0], starts[:, 1]]
    if (lengths < 0).any():
        raise BadInput("a start cannot reach its goal")
    steps = int(lengths.max())
    cells = np.empty((n, steps + 1, 2), dtype=np.int64)
    cur = starts.astype(np.int64).copy()
    cells[:, 0] = cur
    padded = np.pad(dist, ((0, 0), (1, 1), (1, 1)), constant_values=-1)
    for t in range(1, steps + 1):
        here = dist[idx, cur[:, 0], cur[:, 1]]  # (n,)
        nxt = cur[:, None, :] + MOVES[None]  # (n, 4, 2)
        nd = padded[idx[:, None], nxt[..., 0] + 1, nxt[..., 1] + 1]  # (n, 4)
        ok = (nd == (here - 1)[:, None]) & (here > 0)[:, None]
        score = np.where(ok, rng.random((n, 4)), -1.0)
        choice = score.argmax(axis=1)
        moving = here > 0
        cur = np.where(moving[:, None], nxt[idx, choice], cur)
        cells[:, t] = cur
    return cells, lengths


def shortest_path(walls: np.ndarray, start, goal, rng: np.random.Generator) -> np.ndarray:
    """A shortest path from ``start`` to ``goal``, ties broken at random.

    Returns int64 ``(T + 1, 2)``: start first, goal last, ``T`` = BFS distance.
    """
    walls = check_walls(walls)
    s = check_cell(walls, start, "start")
    g = check_cell(walls, goal, "goal")
    cells, lengths = sample_paths_batch(walls[None], np.array([s]), np.array([g]), rng)
    return cells[0, : lengths[0] + 1]
