"""Trajectory datasets: mazes plus BFS shortest paths, built vectorized, saved as ``.npz``.

Pure numpy. A :class:`Dataset` keeps its paths as one flat array of cells plus
offsets (path ``i`` is ``cells[offsets[i]:offsets[i + 1]]``), and its mazes once
each (``mazes[maze_of[i]]`` is the maze of path ``i``), so the fixed regime
stores its single maze once.

Seeds. ``make_dataset(kind, n, seed, ...)`` derives every stream from
``np.random.SeedSequence([seed, stream])``: the maze stream is shared by all
kinds (so in the fixed regime the test set lies in the training maze), the
start-goal stream is one per kind (so train and test draws are disjoint
streams). In the procedural regime, a maze belongs to the training split or
the test split by one bit of its hash, so no test maze can ever equal a
training maze, whatever the seeds.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from repro.core.maze import (
    _check_size,
    bfs_distances_batch,
    generate_maze,
    quadrant_map,
    sample_paths_batch,
)
from repro.errors import BadInput
from repro.io import atomic_write_bytes

REGIMES = ("fixed", "procedural")  # one fixed maze, or a new maze per trajectory (DESIGN)
DATASETS = ("normal", "stitching")  # the paper's two training sets
# stitching-strict: start and goal in one quadrant, the path confined to it (no leak).
TRAINING_SETS = (*DATASETS, "stitching-strict")
# short: paths of at most SHORT_HORIZON steps from a uniform start, anywhere in the maze:
# they cross the quadrant borders, so pieces overlap, but no path spans a long test pair.
# A kind the data can make; which kinds a run may train on is repro.config's choice.
SHORT_HORIZON = 10
KINDS = (*TRAINING_SETS, "short", "test", "plan")
TEST_MIN_LENGTH = 5  # test trajectories have T >= 5 (DESIGN)
_STREAM_MAZE = 0
_STREAM_TASK = {"normal": 1, "stitching": 2, "test": 3, "plan": 4, "stitching-strict": 5,
                "short": 6}  # fmt: skip
_IN_QUADRANT = ("stitching", "stitching-strict")  # kinds whose start and goal share a quadrant
_HELD_OUT = ("test", "plan")  # kinds drawn in unseen (test-split) mazes
_MAX_REJECTIONS = 10_000


@dataclass(frozen=True)
class Dataset:
    """Trajectories in mazes.

    mazes:   bool  (m, size, size) distinct mazes (m = 1 in the fixed regime)
    maze_of: int64 (n,)  maze index of each trajectory
    cells:   int64 (N, 2) all paths' cells, concatenated
    offsets: int64 (n + 1,) path i is cells[offsets[i]:offsets[i + 1]]
    """

    kind: str
    regime: str
    seed: int
    mazes: np.ndarray
    maze_of: np.ndarray
    cells: np.ndarray
    offsets: np.ndarray

    @property
    def size(self) -> int:
        return int(self.mazes.shape[1])

    def __len__(self) -> int:
        return int(self.maze_of.shape[0])

    @property
    def walls(self) -> np.ndarray:
        """bool (n, size, size): the maze of every trajectory (a view when possible)."""
        if self.mazes.shape[0] == 1:
            return np.broadcast_to(self.mazes, (len(self), self.size, self.size))
        return self.mazes[self.maze_of]

    @property
    def lengths(self) -> np.ndarray:
        """int64 (n,): number of steps T of each path (its cell count minus one)."""
        return np.diff(self.offsets) - 1

    @property
    def paths(self) -> list[np.ndarray]:
        """Path i as int64 (T_i + 1, 2), start first, goal last."""
        return np.split(self.cells, self.offsets[1:-1])

    def path(self, i: int) -> np.ndarray:
        return self.cells[self.offsets[i] : self.offsets[i + 1]]

    def content_hash(self) -> str:
        """sha256 over the metadata and every array's dtype, shape and bytes."""
        h = hashlib.sha256(f"{self.kind}|{self.regime}|{self.seed}".encode())
        for name in ("mazes", "maze_of", "cells", "offsets"):
            a = np.ascontiguousarray(getattr(self, name))
            h.update(f"{name}|{a.dtype.str}|{a.shape}".encode())
            h.update(a.tobytes())
        return h.hexdigest()


def maze_split(maze: np.ndarray) -> str:
    """'train' or 'test': the split a maze belongs to in the procedural regime (one hash bit)."""
    digest = hashlib.sha256(np.packbits(maze).tobytes() + bytes([maze.shape[0]])).digest()
    return "test" if digest[0] & 1 else "train"


def _draw_mazes(n: int, size: int, split: str, rng: np.random.Generator, loop_prob: float):
    out = np.empty((n, size, size), dtype=bool)
    for i in range(n):
        for _ in range(_MAX_REJECTIONS):
            maze = generate_maze(size, rng, loop_prob)
            if maze_split(maze) == split:
                break
        else:
            raise BadInput(f"size {size} has too few distinct mazes to split train from test")
        out[i] = maze
    return out


def _draw_cells(allowed: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One uniform cell per row among ``allowed`` (bool (n, size, size)) -> int64 (n, 2)."""
    n, size, _ = allowed.shape
    score = np.where(allowed.reshape(n, -1), rng.random((n, size * size)), -1.0)
    flat = score.argmax(axis=1)
    return np.stack([flat // size, flat % size], axis=1).astype(np.int64)


def _quadrant_regions(free: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One uniform quadrant per maze, redrawn where it holds fewer than two free cells:
    bool (n, size, size), the free cells of each maze's quadrant."""
    n, size, _ = free.shape
    qmap = quadrant_map(size)[None]
    quads = rng.integers(4, size=n)
    region = free & (qmap == quads[:, None, None])
    for _ in range(_MAX_REJECTIONS):
        bad = region.reshape(n, -1).sum(axis=1) < 2
        if not bad.any():
            return region
        quads[bad] = rng.integers(4, size=int(bad.sum()))
        region[bad] = free[bad] & (qmap == quads[bad, None, None])
    raise BadInput(f"size {size}: no quadrant holds two free cells")


def _draw_pair(region: np.ndarray, rng: np.random.Generator):
    """Distinct start and goal cells among ``region`` (bool (n, size, size)): int64 (n, 2) each."""
    n = region.shape[0]
    starts = _draw_cells(region, rng)
    rest = region.copy()
    rest[np.arange(n), starts[:, 0], starts[:, 1]] = False
    return starts, _draw_cells(rest, rng)


def _draw_near(walls: np.ndarray, horizon: int, rng: np.random.Generator):
    """A uniform free start per maze and a goal uniform among the free cells 1 to
    ``horizon`` steps from it (BFS): int64 (n, 2) each. A free cell of a maze always has a
    free neighbour (mazes are connected), so every start has a goal."""
    starts = _draw_cells(~walls, rng)
    d = bfs_distances_batch(walls, starts)  # (n, size, size), -1 where unreachable
    return starts, _draw_cells((d >= 1) & (d <= horizon), rng)


def _draw_tasks(kind: str, walls: np.ndarray, rng: np.random.Generator):
    """Distinct start and goal free cells per maze, int64 (n, 2) each, and the walls their
    path is walked in, bool (n, size, size): the maze's, except for 'stitching-strict',
    where every cell outside the task's quadrant is a wall too."""
    free = ~walls
    if kind == "short":
        return (*_draw_near(walls, SHORT_HORIZON, rng), walls)
    if kind not in _IN_QUADRANT:
        return (*_draw_pair(free, rng), walls)
    region = _quadrant_regions(free, rng)
    starts, goals = _draw_pair(region, rng)
    if kind == "stitching":
        return starts, goals, walls
    return _confine(walls, region, starts, goals, rng)


def _confine(walls, region, starts, goals, rng):
    """Strict stitching: keep the tasks whose shortest path in the maze can stay inside
    their quadrant (the BFS distance within the quadrant equals the maze's), redraw the
    others (a new quadrant and pair). A path walked within the quadrant is then a shortest
    path of the maze, so every sub-path's length is the true BFS distance."""
    n = walls.shape[0]
    idx = np.arange(n)
    region, starts, goals = region.copy(), starts.copy(), goals.copy()
    for _ in range(_MAX_REJECTIONS):
        inside = ~region
        d_in = bfs_distances_batch(inside, goals)[idx, starts[:, 0], starts[:, 1]]
        d_all = bfs_distances_batch(walls, goals)[idx, starts[:, 0], starts[:, 1]]
        bad = np.flatnonzero((d_in < 0) | (d_in != d_all))
        if bad.size == 0:
            return starts, goals, inside
        region[bad] = _quadrant_regions(~walls[bad], rng)
        starts[bad], goals[bad] = _draw_pair(region[bad], rng)
    raise BadInput("no start-goal pair with a shortest path inside one quadrant found")


def make_dataset(
    kind: str,
    n_trajectories: int,
    seed: int,
    size: int = 20,
    regime: str = "procedural",
    loop_prob: float = 0.1,
) -> Dataset:
    """Build ``n_trajectories`` BFS shortest paths of the given kind and regime.

    kind: 'normal' (start, goal anywhere), 'stitching' (both in one quadrant; the
    path may leave it), 'stitching-strict' (both in one quadrant and a shortest path that
    stays inside it: tasks without one are redrawn), 'short' (a start anywhere, a goal at
    most SHORT_HORIZON steps from it), 'test' (like normal, T >= 5, in
    unseen mazes) or 'plan' (planning instances: like normal, in unseen mazes, their own
    stream).
    regime: 'fixed' (one maze from ``seed`` for every kind) or 'procedural' (a
    fresh maze per trajectory). The same arguments give the same dataset bit for bit.
    """
    if kind not in KINDS:
        raise BadInput(f"kind must be one of {KINDS}, got {kind!r}")
    if regime not in REGIMES:
        raise BadInput(f"regime must be one of {REGIMES}, got {regime!r}")
    _check_size(size)
    if not isinstance(n_trajectories, int | np.integer) or n_trajectories < 1:
        raise BadInput(f"n_trajectories must be a positive integer, got {n_trajectories!r}")
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise BadInput(f"seed must be a non-negative integer, got {seed!r}")
    n = int(n_trajectories)
    maze_rng = np.random.default_rng(np.random.SeedSequence([int(seed), _STREAM_MAZE]))
    task_rng = np.random.default_rng(np.random.SeedSequence([int(seed), _STREAM_TASK[kind]]))
    if regime == "fixed":
        mazes = generate_maze(size, maze_rng, loop_prob)[None]
        maze_of = np.zeros(n, dtype=np.int64)
    else:
        # Held-out kinds draw their own maze streams, from the test split only.
        if kind in _HELD_OUT:
            stream = [int(seed), _STREAM_MAZE, 1 + _HELD_OUT.index(kind)]
            maze_rng = np.random.default_rng(np.random.SeedSequence(stream))
        split = "test" if kind in _HELD_OUT else "train"
        mazes = _draw_mazes(n, size, split, maze_rng, loop_prob)
        maze_of = np.arange(n, dtype=np.int64)
    walls = mazes[maze_of] if mazes.shape[0] > 1 else np.broadcast_to(mazes, (n, size, size))
    starts, goals, walk_in = _draw_tasks(kind, walls, task_rng)
    cells, lengths = sample_paths_batch(walk_in, starts, goals, task_rng)
    if kind == "test":
        # Redraw tasks shorter than TEST_MIN_LENGTH in their own maze.
        for _ in range(_MAX_REJECTIONS):
            short = np.flatnonzero(lengths < TEST_MIN_LENGTH)
            if short.size == 0:
                break
            s, g, _ = _draw_tasks(kind, walls[short], task_rng)
            c, ln = sample_paths_batch(walls[short], s, g, task_rng)
            lengths[short] = ln
            cells = _pad_to(cells, c.shape[1])
            cells[short] = _pad_to(c, cells.shape[1])
        else:
            raise BadInput(f"size {size}: no test task of length >= {TEST_MIN_LENGTH} found")
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths + 1, out=offsets[1:])
    keep = np.arange(cells.shape[1])[None, :] <= lengths[:, None]  # (n, L + 1)
    flat = cells[keep]  # row-major: path 0's cells, then path 1's, ...
    return Dataset(kind, regime, int(seed), mazes, maze_of, flat, offsets)


def _pad_to(cells: np.ndarray, width: int) -> np.ndarray:
    """Pad (n, L, 2) paths along L to ``width`` by repeating their last cell."""
    if cells.shape[1] >= width:
        return cells
    pad = np.repeat(cells[:, -1:], width - cells.shape[1], axis=1)
    return np.concatenate([cells, pad], axis=1)


def save_dataset(ds: Dataset, path: str | os.PathLike) -> None:
    """Write ``ds`` to ``path`` (.npz) atomically, with its content hash."""
    buf = io.BytesIO()
    np.savez(
        buf,
        kind=np.array(ds.kind),
        regime=np.array(ds.regime),
        seed=np.array(ds.seed),
        mazes=ds.mazes,
        maze_of=ds.maze_of,
        cells=ds.cells,
        offsets=ds.offsets,
        sha256=np.array(ds.content_hash()),
    )
    atomic_write_bytes(Path(path), buf.getvalue())


def load_dataset(path: str | os.PathLike) -> Dataset:
    """Read a dataset written by :func:`save_dataset`; ValueError naming the file if damaged."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            ds = Dataset(
                kind=str(z["kind"]),
                regime=str(z["regime"]),
                seed=int(z["seed"]),
                mazes=z["mazes"],
                maze_of=z["maze_of"],
                cells=z["cells"],
                offsets=z["offsets"],
            )
            stored = str(z["sha256"])
    except FileNotFoundError:
        raise BadInput(f"dataset file {path} does not exist") from None
    except Exception as e:  # truncated zip, missing member, bad dtype ...
        raise BadInput(f"dataset file {path} is unreadable or damaged ({e})") from None
    if ds.content_hash() != stored:
        raise BadInput(f"dataset file {path} fails its content hash check (edited or corrupt)")
    return ds
