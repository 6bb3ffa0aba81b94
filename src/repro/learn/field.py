"""Supervised distance field: a convolutional network maps the walls and the goal to the
distance of every cell to that goal, read at the state.

Registered as method ``supervised_conv`` (``repro.config.METHOD_MODULES``). The objective,
sampler, batch, learning rate and steps are the paper's regression (:mod:`supervised`: one
pair of one trajectory per row, mean squared error on j - i); only the architecture differs.
A whole heatmap is one forward pass per goal: :meth:`FieldDistance.distance` computes each
distinct (maze, goal) field once and reads every state asking for it.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from repro.config import RunConfig
from repro.learn.batches import TrajectoryTensors
from repro.learn.conv import (
    ConvTrunk,
    distinct,
    init_conv,
    one_hot_planes,
    row_mazes,
    wall_planes,
)
from repro.learn.supervised import supervised_loss

# Read by the model beyond the common fields: equal within a group.
SHARED = ("conv_arch", "channels", "conv_iters")


class FieldDistance(nn.Module):
    """d(., g) as a field over the grid: ConvTrunk([walls, one-hot goal]) -> (B, S, S) >= 0."""

    def __init__(self, config: RunConfig) -> None:
        super().__init__()
        self.size = config.size
        self.trunk = ConvTrunk(config, in_channels=2, out_channels=1)

    def fields(self, walls, goals, maze_index=None) -> torch.Tensor:
        """The predicted distance of every cell to each goal: float (B, S, S), >= 0.
        walls: as :meth:`distance`; goals: int64 (B,) cell indices."""
        b = goals.shape[0]
        x = torch.cat(
            [wall_planes(walls, maze_index, b, self.size, goals.device),
             one_hot_planes(goals, self.size)], dim=1,
        )  # fmt: skip
        return F.softplus(self.trunk(x)[:, 0])

    def outputs(self, walls, states, goals, maze_index=None) -> torch.Tensor:
        """d(s, g) for each row, one field per row (the training path): float (B,)."""
        field = self.fields(walls, goals, maze_index).flatten(1)  # (B, S * S)
        return field.gather(1, states[:, None])[:, 0]

    def distance(self, walls, states, goals, maze_index=None) -> torch.Tensor:
        """Predicted steps from each state to its goal: float (B,), >= 0.

        walls: float (B, cells), or (M, cells) with maze_index (B,), or None (fixed
        regime); states, goals: int64 (B,) cell indices. Each distinct (maze, goal) field
        is computed once, so a heatmap of one goal costs one forward pass.
        """
        m = row_mazes(walls, maze_index, goals.shape[0], goals.device)
        first, inverse = distinct(m, goals, self.size)
        field = self.fields(walls, goals[first], None if walls is None else m[first])
        return field.flatten(1)[inverse, states]


def build(config: RunConfig, generator: torch.Generator) -> FieldDistance:
    """The model of ``config``, every parameter drawn from ``generator``."""
    return init_conv(FieldDistance(config), generator)


def sample(tensors: TrajectoryTensors, config: RunConfig, g: torch.Generator) -> dict:
    """The paper's regression pairs (s_i, s_j), i <= j, with target j - i."""
    return tensors.sample_pairs(config.batch_size, g)


def loss(model, batch: dict, config: RunConfig) -> tuple[torch.Tensor, dict]:
    """Mean squared error on j - i (:func:`repro.learn.supervised.supervised_loss`)."""
    return supervised_loss(model, batch)


def cost(config: RunConfig) -> float:
    """Relative time of one step (an MLP regression step is 1): measured in ``nox -s bench``,
    roughly 10 per convolution and channel group over the grid."""
    layers = config.conv_iters if config.conv_arch == "recurrent" else 6
    return 3.0 * layers * (config.channels / 16) ** 2 * (config.size / 20) ** 2
