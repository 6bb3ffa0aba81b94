"""Contrastive distance with convolutional encoders: phi([walls, state]) and psi([walls, goal]),
each a :class:`~repro.learn.conv.ConvTrunk` pooled over the grid (mean and max) to
``embed_dim``; d(s, g) = ||phi - psi||_2.

Registered as method ``contrastive_conv`` (``repro.config.METHOD_MODULES``). The critic,
InfoNCE directions, ``repeat`` and gamma are those of :mod:`repro.learn.contrastive`; only
the encoders differ. Scoring encodes each distinct (maze, state) and (maze, goal) once.

Trained in a group (stacked parameters, the loss vmapped), a member's first step equals its
run alone's to 1e-6, but over 20 smoke steps the two drift apart to about 1e-3 on a weight
(the supervised field stays bitwise equal), beyond the 5e-5 the MLP groups keep. Where the
rounding enters is not yet known (the max pooling over the grid is the first suspect); until
it is, train this method alone (``--trainer single``, the CPU default) where bits matter.
"""

from __future__ import annotations

import torch
from torch import nn

from repro.config import RunConfig
from repro.learn.batches import TrajectoryTensors
from repro.learn.contrastive import infonce_loss
from repro.learn.conv import (
    ConvTrunk,
    distinct,
    init_conv,
    one_hot_planes,
    row_mazes,
    wall_planes,
)

# Read by the model and the loss beyond the common fields: equal within a group.
SHARED = ("embed_dim", "direction", "conv_arch", "channels", "conv_iters")


class ConvEncoder(nn.Module):
    """[walls, one-hot cell] -> ConvTrunk -> mean and max over the grid -> Linear -> (B, E)."""

    def __init__(self, config: RunConfig) -> None:
        super().__init__()
        self.size = config.size
        self.trunk = ConvTrunk(config, in_channels=2, out_channels=config.channels)
        self.head = nn.Linear(2 * config.channels, config.embed_dim)

    def forward(self, walls, cells, maze_index=None) -> torch.Tensor:
        b = cells.shape[0]
        x = torch.cat(
            [wall_planes(walls, maze_index, b, self.size, cells.device),
             one_hot_planes(cells, self.size)], dim=1,
        )  # fmt: skip
        h = self.trunk(x).flatten(2)  # (B, C, S * S)
        return self.head(torch.cat([h.mean(dim=2), h.amax(dim=2)], dim=1))


class ConvContrastiveDistance(nn.Module):
    """Encoders phi(s) and psi(g) of the same shape; d(s, g) = ||phi(s) - psi(g)||_2."""

    def __init__(self, config: RunConfig) -> None:
        super().__init__()
        self.phi = ConvEncoder(config)
        self.psi = ConvEncoder(config)

    def encode(self, walls, states, goals, maze_index=None) -> tuple[torch.Tensor, torch.Tensor]:
        """phi(s), psi(g): float (B, embed_dim) each (the training path: one pass per row)."""
        return self.phi(walls, states, maze_index), self.psi(walls, goals, maze_index)

    def distance(self, walls, states, goals, maze_index=None) -> torch.Tensor:
        """||phi(s) - psi(g)||_2: float (B,); arguments as FieldDistance.distance. Each
        distinct (maze, cell) is encoded once."""
        m = row_mazes(walls, maze_index, goals.shape[0], goals.device)
        phi = _encode_distinct(self.phi, walls, states, m)
        psi = _encode_distinct(self.psi, walls, goals, m)
        return torch.linalg.vector_norm(phi - psi, dim=1)


def _encode_distinct(encoder: ConvEncoder, walls, cells, maze) -> torch.Tensor:
    """encoder(walls, cells) for each row, computing each distinct (maze, cell) once."""
    first, inverse = distinct(maze, cells, encoder.size)
    return encoder(walls, cells[first], None if walls is None else maze[first])[inverse]


def build(config: RunConfig, generator: torch.Generator) -> ConvContrastiveDistance:
    """The model of ``config``: the convolutions from ``generator``, then the heads."""
    model = init_conv(ConvContrastiveDistance(config), generator)
    with torch.no_grad():
        for enc in (model.phi, model.psi):
            b = 1.0 / enc.head.in_features**0.5
            enc.head.weight.uniform_(-b, b, generator=generator)
            enc.head.bias.uniform_(-b, b, generator=generator)
    return model


def sample(tensors: TrajectoryTensors, config: RunConfig, g: torch.Generator) -> dict:
    """The contrastive pairs of :mod:`repro.learn.contrastive` (geometric offsets, repeat)."""
    return tensors.sample_future(config.batch_size, config.gamma, config.repeat, g)


def loss(model, batch: dict, config: RunConfig) -> tuple[torch.Tensor, dict]:
    """InfoNCE over the batch in ``config.direction``."""
    return infonce_loss(model, batch, config.direction)


def cost(config: RunConfig) -> float:
    """Relative time of one step: two convolutional encoders (see :func:`field.cost`)."""
    layers = config.conv_iters if config.conv_arch == "recurrent" else 6
    return 6.0 * layers * (config.channels / 16) ** 2 * (config.size / 20) ** 2
