"""Temporal-difference distance: d(s, g) regressed toward 1 + min over the data's successors
s' of s of d(s', g), for goals drawn from anywhere in the maze's data (the dynamic-
programming route to stitching, as in QRL and temporal metric distillation).

Registered as method ``td`` (``repro.config.METHOD_MODULES``). The model is the supervised
model (:class:`repro.learn.supervised.SupervisedDistance`, regression head); only the
targets differ. A batch row is a data state s (a path cell that has a next cell), a goal g
and, where g != s, the target 1 + min_{s'} d(s', g) with the minimum over every cell that
follows s somewhere in the data of its maze and no gradient through it (semi-gradient TD);
a row with g = s is the anchor d(s, s) = 0. Goals are path cells of the same maze: in the
fixed regime any cell of the data, in the procedural regime (a maze per trajectory) a cell
of the state's own trajectory. Only transitions the data holds are used: no knowledge of
the maze beyond them.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from repro.config import RunConfig
from repro.learn.batches import TrajectoryTensors
from repro.learn.supervised import SupervisedDistance
from repro.learn.trunk import init_trunks

# Read by the model beyond the common fields: equal within a group (its head).
SHARED = ("head",)
MAX_SUCCESSORS = 4  # a grid cell has at most four neighbours


@dataclass(frozen=True)
class Successors:
    """The data's transitions: ``keys`` int64 (K,) sorted (maze, cell) keys of every cell that
    has a next cell; ``next`` int64 (K, 4) the distinct next cells of each, -1 padded."""

    keys: torch.Tensor
    next: torch.Tensor


_TABLES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def successors(tensors: TrajectoryTensors, cells_per_maze: int) -> Successors:
    """The data's :class:`Successors`, built once per tensors object."""
    table = _TABLES.get(tensors)
    if table is not None:
        return table
    dev = tensors.cells.device
    n = tensors.lengths.shape[0]
    traj_of = torch.repeat_interleave(torch.arange(n, device=dev), tensors.lengths + 1)
    last = tensors.offsets + tensors.lengths  # the goal cell of each path: no next cell
    has_next = torch.ones_like(tensors.cells, dtype=torch.bool)
    has_next[last] = False
    pos = torch.nonzero(has_next)[:, 0]
    key = tensors.maze_of[traj_of[pos]] * cells_per_maze + tensors.cells[pos]
    pair = torch.unique(torch.stack([key, tensors.cells[pos + 1]], 1), dim=0)  # sorted by key
    keys, counts = torch.unique_consecutive(pair[:, 0], return_counts=True)
    rank = torch.arange(len(pair), device=dev) - torch.repeat_interleave(
        torch.cumsum(counts, 0) - counts, counts
    )  # the place of each successor within its key
    nxt = torch.full((len(keys), MAX_SUCCESSORS), -1, dtype=torch.int64, device=dev)
    row = torch.repeat_interleave(torch.arange(len(keys), device=dev), counts)
    nxt[row, rank] = pair[:, 1]
    table = Successors(keys, nxt)
    _TABLES[tensors] = table
    return table


def sample(tensors: TrajectoryTensors, config: RunConfig, g: torch.Generator) -> dict:
    """A batch of (state, goal) rows with each state's successors: walls, states, goals (B,),
    next int64 (B, 4) (-1 padded). A state is a uniform path cell that has a next cell; its
    goal a uniform cell of a uniform trajectory of the same maze (procedural: its own)."""
    size2 = config.size * config.size
    table = successors(tensors, size2)
    b, dev = config.batch_size, tensors.cells.device
    n = tensors.lengths.shape[0]
    traj = torch.randint(n, (b,), generator=g, device=dev)
    t = tensors.lengths[traj]
    i = torch.minimum((torch.rand(b, generator=g, device=dev) * t).long(), t - 1)  # has next
    base = tensors.offsets[traj]
    states = tensors.cells[base + i]
    if tensors.mazes is None and n > 1:  # the fixed regime: any path cell of the data
        other = torch.randint(n, (b,), generator=g, device=dev)
    else:  # a maze per trajectory: a cell of the state's own path
        other = traj
    j = torch.minimum(
        (torch.rand(b, generator=g, device=dev) * (tensors.lengths[other] + 1)).long(),
        tensors.lengths[other],
    )
    goals = tensors.cells[tensors.offsets[other] + j]
    key = tensors.maze_of[traj] * size2 + states
    nxt = table.next[torch.searchsorted(table.keys, key)]
    mazes = tensors.mazes
    walls = None if mazes is None else mazes.index_select(0, tensors.maze_of[traj])
    return {"walls": walls, "states": states, "goals": goals, "next": nxt}


def build(config: RunConfig, generator: torch.Generator) -> SupervisedDistance:
    """The supervised model of ``config``, every parameter from ``generator``."""
    return init_trunks(SupervisedDistance(config), generator)


def loss(model, batch: dict, config: RunConfig) -> tuple[torch.Tensor, dict]:
    """Mean squared TD error: d(s, g) against 1 + min_{s'} d(s', g) (no gradient through the
    target), and d(s, s) against 0 where the goal is the state."""
    walls, s, goal, nxt = batch["walls"], batch["states"], batch["goals"], batch["next"]
    d = model.outputs(walls, s, goal)  # (B,)
    b, k = nxt.shape
    with torch.no_grad():
        w = None if walls is None else walls.repeat_interleave(k, 0)
        flat = nxt.reshape(-1).clamp(min=0)  # padding scored as cell 0, then masked
        d_next = model.outputs(w, flat, goal.repeat_interleave(k)).reshape(b, k)
        d_next = torch.where(nxt >= 0, d_next, torch.full_like(d_next, float("inf")))
        reached = (nxt == goal[:, None]).any(dim=1)  # a successor is the goal: d(g, g) = 0
        target = torch.where(reached, 1.0, 1.0 + d_next.min(dim=1).values)
        target = torch.where(s == goal, 0.0, target)
    loss = F.mse_loss(d, target)
    with torch.no_grad():
        info = {"target_mean": target.mean(), "anchor_share": (s == goal).float().mean()}
    return loss, info


def cost(config: RunConfig) -> float:
    """Relative time of one step: the regression step plus four no-gradient successors."""
    return 2.5
