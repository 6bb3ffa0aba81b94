"""Supervised temporal distance: regress (or classify) the steps between two states.

Registered as method ``supervised`` in :mod:`repro.learn.methods`.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from repro.config import RunConfig
from repro.learn.batches import TrajectoryTensors
from repro.learn.trunk import Trunk, init_trunks

# Read by the model (its output layer) beyond the common fields: equal within a group.
SHARED = ("head",)


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


def build(config: RunConfig, generator: torch.Generator) -> SupervisedDistance:
    """The model of ``config``, every parameter drawn from ``generator``."""
    return init_trunks(SupervisedDistance(config), generator)


def sample(tensors: TrajectoryTensors, config: RunConfig, g: torch.Generator) -> dict:
    """A batch of pairs (s_i, s_j), i <= j, with target j - i."""
    return tensors.sample_pairs(config.batch_size, g)


def loss(model, batch: dict, config: RunConfig) -> tuple[torch.Tensor, dict]:
    """The supervised loss of ``batch``: (loss, info)."""
    return supervised_loss(model, batch)


def cost(config: RunConfig) -> float:
    """Relative time of one training step (the supervised regression step is 1)."""
    return 1.2 if config.head == "classification" else 1.0


def supervised_loss(model, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
    """Regression: MSE between d(s_i, s_j) and j - i. Classification: CE over step counts."""
    target = batch["target"]
    out = model.outputs(batch["walls"], batch["states"], batch["goals"])
    if out.ndim == 1:
        loss = F.mse_loss(out, target)
        pred = out
    else:
        loss = F.cross_entropy(out, target.long())
        pred = torch.softmax(out, dim=1) @ model.steps
    with torch.no_grad():
        mae = (pred - target).abs().mean()
    return loss, {"mae": mae}
