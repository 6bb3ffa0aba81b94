"""Contrastive (InfoNCE) distance: d(s, g) = ||phi(s) - psi(g)||_2.

Registered as method ``contrastive`` in :mod:`repro.learn.methods`.
"""

from __future__ import annotations

import torch
from torch import nn

from repro.config import RunConfig
from repro.learn.batches import TrajectoryTensors
from repro.learn.infonce import infonce
from repro.learn.trunk import Trunk, init_trunks

# Read by the model (embed_dim) and the loss (its direction branch): equal within a group.
SHARED = ("embed_dim", "direction")


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


def build(config: RunConfig, generator: torch.Generator) -> ContrastiveDistance:
    """The model of ``config``, every parameter drawn from ``generator``."""
    return init_trunks(ContrastiveDistance(config), generator)


def sample(tensors: TrajectoryTensors, config: RunConfig, g: torch.Generator) -> dict:
    """A batch of pairs (s_i, s_{i+k}), k ~ Geometric(1 - gamma); each trajectory ``repeat``
    times in the batch."""
    return tensors.sample_future(config.batch_size, config.gamma, config.repeat, g)


def loss(model, batch: dict, config: RunConfig) -> tuple[torch.Tensor, dict]:
    """InfoNCE over the batch in ``config.direction``: (loss, info)."""
    return infonce_loss(model, batch, config.direction)


def cost(config: RunConfig) -> float:
    """Relative time of one training step: two encoders and a (B, B) critic."""
    return 2.0


def infonce_loss(model, batch: dict, direction: str) -> tuple[torch.Tensor, dict]:
    """InfoNCE with critic f(s, g) = -||phi(s) - psi(g)||_2 over the batch, in ``direction``
    (:func:`repro.learn.infonce.infonce`: the loss, its directions and its info)."""
    phi, psi = model.encode(batch["walls"], batch["states"], batch["goals"])
    # Exact pairwise distances (the matrix-product shortcut loses precision near 0).
    logits = -torch.cdist(phi, psi, compute_mode="donot_use_mm_for_euclid_dist")  # (B, B)
    return infonce(logits, direction)
