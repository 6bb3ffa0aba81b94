"""Supervised distance with temporal data augmentation: new training pairs made by joining two
trajectories at a cell they share (Ghugare et al., ICLR 2024, "Closing the gap between TD
learning and supervised learning").

Registered as method ``supervised_aug`` (``repro.config.METHOD_MODULES``). A fraction
``aug_prob`` of each batch is joined pairs, the rest the paper's regression pairs; model,
objective and the rest are the supervised model's (:mod:`repro.learn.supervised`). A joined
pair starts at s_i of trajectory A, follows A to its cell s_k, and there continues along any
trajectory B of the same maze that passes through that cell, from its visit m to a later s_j:
the state is A[i], the goal B[j], the target (k - i) + (j - m), the length of a real path
through the shared cell (an upper bound of the BFS distance; equal when the joined path is
shortest). Trajectories meet only within one maze, so in the procedural regime, where each
trajectory has its own maze, a path can only be joined with itself.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import torch

from repro.config import RunConfig
from repro.learn.batches import TrajectoryTensors
from repro.learn.supervised import SupervisedDistance, supervised_loss
from repro.learn.trunk import init_trunks

# Read by the model beyond the common fields: equal within a group (the supervised head).
SHARED = ("head",)


@dataclass(frozen=True)
class JoinTable:
    """Where each (maze, cell) occurs in the data.

    traj_of: int64 (N,) the trajectory of each path cell; order: int64 (N,) the path cells'
    positions sorted by (maze, cell) key; keys: int64 (N,) those sorted keys.
    """

    traj_of: torch.Tensor
    order: torch.Tensor
    keys: torch.Tensor


_TABLES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def join_table(tensors: TrajectoryTensors, cells_per_maze: int) -> JoinTable:
    """The data's :class:`JoinTable`, built once per tensors object."""
    table = _TABLES.get(tensors)
    if table is None:
        n = tensors.lengths.shape[0]
        traj_of = torch.repeat_interleave(torch.arange(n, device=tensors.cells.device),
                                          tensors.lengths + 1)  # fmt: skip
        keys = tensors.maze_of[traj_of] * cells_per_maze + tensors.cells
        sorted_keys, order = torch.sort(keys, stable=True)
        table = JoinTable(traj_of, order, sorted_keys)
        _TABLES[tensors] = table
    return table


def _uniform(low: torch.Tensor, high: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """One uniform integer in [low, high] per entry (int64, inclusive)."""
    u = torch.rand(low.shape, generator=g, device=low.device)
    span = high - low + 1
    return low + torch.minimum((u * span).long(), span - 1)


def sample_joined(tensors: TrajectoryTensors, batch: int, size: int, g: torch.Generator) -> dict:
    """``batch`` joined pairs: walls (or None), states, goals (B,) cell indices, target (B,)."""
    table = join_table(tensors, size * size)
    n = tensors.lengths.shape[0]
    a = torch.randint(n, (batch,), generator=g, device=tensors.cells.device)
    t_a = tensors.lengths[a]
    i = _uniform(torch.zeros_like(t_a), t_a, g)
    k = _uniform(i, t_a, g)  # the junction on A
    key = tensors.maze_of[a] * size * size + tensors.cells[tensors.offsets[a] + k]
    lo = torch.searchsorted(table.keys, key)
    hi = torch.searchsorted(table.keys, key, right=True) - 1  # A's own visit is among them
    pos_b = table.order[_uniform(lo, hi, g)]
    b = table.traj_of[pos_b]
    m = pos_b - tensors.offsets[b]
    j = _uniform(m, tensors.lengths[b], g)
    return {
        "walls": None
        if tensors.mazes is None
        else tensors.mazes.index_select(0, tensors.maze_of[a]),
        "states": tensors.cells[tensors.offsets[a] + i],
        "goals": tensors.cells[tensors.offsets[b] + j],
        "target": ((k - i) + (j - m)).float(),
    }


def build(config: RunConfig, generator: torch.Generator) -> SupervisedDistance:
    """The supervised model of ``config`` (its head), every parameter from ``generator``."""
    return init_trunks(SupervisedDistance(config), generator)


def sample(tensors: TrajectoryTensors, config: RunConfig, g: torch.Generator) -> dict:
    """A batch whose first round(aug_prob * batch) rows are joined pairs, the rest the
    paper's regression pairs (the split is fixed, so batches stack in a group)."""
    n_join = round(config.aug_prob * config.batch_size)
    plain = tensors.sample_pairs(config.batch_size - n_join, g)
    if n_join == 0:
        return plain
    joined = sample_joined(tensors, n_join, config.size, g)
    return {k: None if joined[k] is None else torch.cat([joined[k], plain[k]]) for k in joined}


def loss(model, batch: dict, config: RunConfig) -> tuple[torch.Tensor, dict]:
    """The supervised loss of ``batch`` (mean squared error on the targets)."""
    return supervised_loss(model, batch)


def cost(config: RunConfig) -> float:
    """Relative time of one step (the supervised regression step is 1)."""
    return 1.2
