"""The residual MLP both methods build on, and the walls as a model sees them.

Positions enter as cell indices ``r * size + c``. The first layer of an MLP
on one-hot positions is a sum of weight rows, so :class:`Trunk` looks the
rows up instead of multiplying a one-hot vector (same function, same
parameters as ``nn.Linear`` on the concatenated one-hots, a fraction of the
work). In the procedural regime the walls, a 0/1 vector of ``size * size``,
go through an ordinary linear layer beside them.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from repro.config import RunConfig


class ResidualBlock(nn.Module):
    """x + ReLU(LayerNorm(Linear(x))): (B, hidden) -> (B, hidden)."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.linear = nn.Linear(hidden, hidden)
        self.norm = nn.LayerNorm(hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + torch.relu(self.norm(self.linear(x)))


class Trunk(nn.Module):
    """One-hot positions (and optionally walls) -> residual MLP -> ``out_dim`` features.

    positions: int64 (B, n_positions) cell indices; walls: float (B, cells), or
    float (M, cells) distinct mazes with ``maze_index`` int64 (B,) picking each
    row's maze (the walls' projection is then computed once per maze); or None.
    Returns float (B, out_dim).
    """

    def __init__(
        self,
        cells: int,
        n_positions: int,
        use_walls: bool,
        hidden: int,
        n_blocks: int,
        out_dim: int,
    ) -> None:
        super().__init__()
        # Parameters are filled by reset_parameters(generator); see build_model.
        self.pos_weight = nn.Parameter(torch.zeros(n_positions, cells, hidden))
        self.bias = nn.Parameter(torch.zeros(hidden))
        self.walls = nn.Linear(cells, hidden, bias=False) if use_walls else None
        self.blocks = nn.Sequential(*[ResidualBlock(hidden) for _ in range(n_blocks)])
        self.out = nn.Linear(hidden, out_dim)

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator) -> None:
        """nn.Linear's initialisation U(-1/sqrt(fan_in), 1/sqrt(fan_in)), drawn from ``generator``.

        The position rows and the walls share the fan-in of the dense layer they replace.
        """
        n_pos, cells, _ = self.pos_weight.shape
        bound = 1.0 / math.sqrt(cells * (n_pos + int(self.walls is not None)))
        self.pos_weight.uniform_(-bound, bound, generator=generator)
        self.bias.uniform_(-bound, bound, generator=generator)
        if self.walls is not None:
            self.walls.weight.uniform_(-bound, bound, generator=generator)
        for layer in [b.linear for b in self.blocks] + [self.out]:
            b = 1.0 / math.sqrt(layer.in_features)
            layer.weight.uniform_(-b, b, generator=generator)
            layer.bias.uniform_(-b, b, generator=generator)
        for block in self.blocks:
            block.norm.reset_parameters()  # ones and zeros: no randomness

    def forward(self, positions, walls, maze_index=None) -> torch.Tensor:
        x = self.bias
        for k in range(positions.shape[1]):
            x = x + self.pos_weight[k].index_select(0, positions[:, k])  # (B, hidden)
        if self.walls is not None:
            proj = self.walls(walls)  # (B or M, hidden)
            x = x + (proj if maze_index is None else proj.index_select(0, maze_index))
        return self.out(self.blocks(x))


def init_trunks(model: nn.Module, generator: torch.Generator) -> nn.Module:
    """Draw every :class:`Trunk`'s parameters from ``generator`` in module order; return it."""
    for module in model.modules():
        if isinstance(module, Trunk):
            module.reset_parameters(generator)
    return model


def walls_input(config: RunConfig, walls: np.ndarray, device: torch.device) -> torch.Tensor | None:
    """The walls as the model sees them: float (n, cells), or None in the fixed regime."""
    if config.regime != "procedural":
        return None
    flat = np.asarray(walls, dtype=np.float32).reshape(-1, config.size * config.size)
    return torch.from_numpy(flat).to(device)
