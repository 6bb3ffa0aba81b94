"""The two distance models, built from one residual MLP.

Positions enter as cell indices ``r * size + c``. The first layer of an MLP
on one-hot positions is a sum of weight rows, so :class:`Trunk` looks the
rows up instead of multiplying a one-hot vector (same function, same
parameters as ``nn.Linear`` on the concatenated one-hots, a fraction of the
work). In the procedural regime the walls, a 0/1 vector of ``size * size``,
go through an ordinary linear layer beside them.

Every model offers ``distance(walls, states, goals) -> (B,)``, the one
interface used by metrics and planners; :func:`heuristic_map` evaluates it for
all free cells of a maze in one batched forward pass.
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


class SupervisedDistance(nn.Module):
    """d(s, g) regressed on step counts: trunk over (s, g [, walls]) -> one value >= 0.

    With ``head='classification'`` the trunk outputs logits over 0..max_steps and
    the distance is the expected count under their softmax.
    """

    def __init__(self, config: RunConfig) -> None:
        super().__init__()
        cells = config.size * config.size
        self.head = config.head
        self.max_steps = cells  # no shortest path is longer than the number of cells
        out_dim = 1 if self.head == "regression" else self.max_steps + 1
        self.trunk = Trunk(
            cells, 2, config.regime == "procedural", config.hidden, config.n_blocks, out_dim
        )
        self.register_buffer("steps", torch.arange(out_dim, dtype=torch.float32), persistent=False)

    def outputs(self, walls, states, goals, maze_index=None) -> torch.Tensor:
        """Raw outputs: (B,) softplus value, or (B, max_steps + 1) logits."""
        out = self.trunk(torch.stack([states, goals], dim=1), walls, maze_index)
        if self.head == "regression":
            return nn.functional.softplus(out[:, 0])
        return out

    def distance(self, walls, states, goals, maze_index=None) -> torch.Tensor:
        """Predicted steps from each state to its goal: float (B,), >= 0.

        walls: float (B, cells), or (M, cells) with maze_index (B,), or None
        (fixed regime); states, goals: int64 (B,) cell indices r * size + c.
        """
        out = self.outputs(walls, states, goals, maze_index)
        if self.head == "regression":
            return out
        return torch.softmax(out, dim=1) @ self.steps


class ContrastiveDistance(nn.Module):
    """Encoders phi(s) and psi(g) of the same shape; d(s, g) = ||phi(s) - psi(g)||_2."""

    def __init__(self, config: RunConfig) -> None:
        super().__init__()
        cells = config.size * config.size
        walls = config.regime == "procedural"
        args = (cells, 1, walls, config.hidden, config.n_blocks, config.embed_dim)
        self.phi = Trunk(*args)
        self.psi = Trunk(*args)

    def encode(self, walls, states, goals, maze_index=None) -> tuple[torch.Tensor, torch.Tensor]:
        """phi(s), psi(g): float (B, embed_dim) each."""
        phi = self.phi(states[:, None], walls, maze_index)
        return phi, self.psi(goals[:, None], walls, maze_index)

    def distance(self, walls, states, goals, maze_index=None) -> torch.Tensor:
        """||phi(s) - psi(g)||_2: float (B,); arguments as SupervisedDistance.distance."""
        phi, psi = self.encode(walls, states, goals, maze_index)
        return torch.linalg.vector_norm(phi - psi, dim=1)


def build_model(config: RunConfig, generator: torch.Generator) -> nn.Module:
    """The model of ``config``, every parameter drawn from ``generator`` (no global RNG)."""
    model = (
        SupervisedDistance(config) if config.method == "supervised" else ContrastiveDistance(config)
    )
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


@torch.no_grad()
def heuristic_map(model: nn.Module, config: RunConfig, walls: np.ndarray, goal) -> np.ndarray:
    """Predicted d(cell, goal) for every free cell in one forward pass.

    walls: bool (size, size); goal: (row, col). Returns float64 (size, size),
    ``inf`` on walls.
    """
    device = next(model.parameters()).device
    size = config.size
    free = np.flatnonzero(~np.asarray(walls).reshape(-1))  # (F,)
    states = torch.from_numpy(free).to(device)
    goals = torch.full_like(states, int(goal[0]) * size + int(goal[1]))
    w = walls_input(config, walls, device)
    if w is not None:
        w = w.expand(len(free), -1)
    d = model.distance(w, states, goals).double().cpu().numpy()
    out = np.full(size * size, np.inf)
    out[free] = d
    return out.reshape(size, size)
