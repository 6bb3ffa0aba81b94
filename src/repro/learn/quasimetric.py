"""Contrastive distance with a metric or quasimetric head: one shared encoder phi and
d(s, g) = head(phi(s), phi(g)), trained with the paper's InfoNCE (critic -d).

Registered as method ``contrastive_qm`` (``repro.config.METHOD_MODULES``). The paper's
contrastive critic ``-||phi(s) - psi(g)||`` uses two encoders, so nothing makes it a metric:
d(a, c) <= d(a, b) + d(b, c) need not hold, and a stitching model has no reason to compose
short distances into long ones. Here the head guarantees it (``qm_head``):

- ``metric``: ||phi(s) - phi(g)||_2, a metric (symmetric);
- ``mrn``: Metric Residual Networks (Liu et al. 2023): the first half of the embedding as a
  metric part, ||a(s) - a(g)||_2, plus max_k relu(b_k(s) - b_k(g)) over the second half, a
  quasimetric (asymmetric);
- ``iqe``: Interval Quasimetric Embeddings (Wang and Isola 2022): the embedding split into
  ``iqe_components`` components; each component's distance is the length of the union of
  the intervals [x_i, max(x_i, y_i)] over its coordinates; the components are combined by
  a learned mix of their maximum and mean (QRL's "maxmean").

Sampler, InfoNCE directions, ``repeat`` and gamma are those of :mod:`repro.learn.contrastive`.
"""

from __future__ import annotations

import torch
from torch import nn

from repro.config import RunConfig
from repro.learn.batches import TrajectoryTensors
from repro.learn.infonce import infonce
from repro.learn.trunk import Trunk, init_trunks

# Read by the model and the loss beyond the common fields: equal within a group.
SHARED = ("embed_dim", "direction", "qm_head", "iqe_components")


def metric_distance(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """||x - y||_2 over the last axis: (..., E), (..., E) -> (...)."""
    return torch.linalg.vector_norm(x - y, dim=-1)


def mrn_distance(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """MRN: the metric of the first half plus max_k relu(x_k - y_k) over the second half."""
    half = x.shape[-1] // 2
    sym = metric_distance(x[..., :half], y[..., :half])
    asym = torch.relu(x[..., half:] - y[..., half:]).amax(dim=-1)
    return sym + asym


def interval_union(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """|U_i [x_i, max(x_i, y_i)]| over the last axis (one IQE component): (..., D) -> (...).

    Sort the intervals by their start; an interval adds the part of it that lies beyond
    every earlier interval's end."""
    x, y = torch.broadcast_tensors(x, y)  # a batch against a batch: (B, 1, ..) and (1, B, ..)
    end = torch.maximum(x, y)
    order = torch.argsort(x, dim=-1)
    start, end = x.gather(-1, order), end.gather(-1, order)
    reach = torch.cummax(end, dim=-1).values  # the furthest end of intervals 0..i
    before = torch.cat([start[..., :1], reach[..., :-1]], dim=-1)  # ... of intervals 0..i-1
    return torch.clamp(end - torch.maximum(start, before), min=0).sum(dim=-1)


class QuasimetricDistance(nn.Module):
    """One encoder phi over (cell [, walls]) to ``embed_dim``; d(s, g) = head(phi(s), phi(g))."""

    def __init__(self, config: RunConfig) -> None:
        super().__init__()
        cells = config.size * config.size
        walls = config.regime == "procedural"
        self.phi = Trunk(cells, 1, walls, config.hidden, config.n_blocks, config.embed_dim)
        self.head = config.qm_head
        self.components = config.iqe_components
        # IQE's maxmean mix, sigmoid(alpha) * max + (1 - sigmoid(alpha)) * mean
        self.alpha = nn.Parameter(torch.zeros(())) if self.head == "iqe" else None

    def encode(self, walls, states, goals, maze_index=None) -> tuple[torch.Tensor, torch.Tensor]:
        """phi(s), phi(g): float (B, embed_dim) each, one shared encoder."""
        phi = self.phi(states[:, None], walls, maze_index)
        return phi, self.phi(goals[:, None], walls, maze_index)

    def pair_distance(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The head on embeddings: (..., E), (..., E) -> (...)."""
        if self.head == "metric":
            return metric_distance(x, y)
        if self.head == "mrn":
            return mrn_distance(x, y)
        comps = interval_union(
            x.unflatten(-1, (self.components, -1)), y.unflatten(-1, (self.components, -1))
        )  # (..., components)
        a = torch.sigmoid(self.alpha)
        return a * comps.amax(dim=-1) + (1 - a) * comps.mean(dim=-1)

    def distance(self, walls, states, goals, maze_index=None) -> torch.Tensor:
        """d(s, g): float (B,); arguments as SupervisedDistance.distance."""
        x, y = self.encode(walls, states, goals, maze_index)
        return self.pair_distance(x, y)

    def critic_logits(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """-d(s_a, g_b) for every pair of the batch: (B, B)."""
        return -self.pair_distance(x[:, None, :], y[None, :, :])


def build(config: RunConfig, generator: torch.Generator) -> QuasimetricDistance:
    """The model of ``config``, every parameter drawn from ``generator``."""
    return init_trunks(QuasimetricDistance(config), generator)


def sample(tensors: TrajectoryTensors, config: RunConfig, g: torch.Generator) -> dict:
    """The contrastive pairs of :mod:`repro.learn.contrastive` (geometric offsets, repeat)."""
    return tensors.sample_future(config.batch_size, config.gamma, config.repeat, g)


def loss(model, batch: dict, config: RunConfig) -> tuple[torch.Tensor, dict]:
    """InfoNCE over the batch with critic -head(phi(s), phi(g)), in ``config.direction``."""
    x, y = model.encode(batch["walls"], batch["states"], batch["goals"])
    return infonce(model.critic_logits(x, y), config.direction)


def cost(config: RunConfig) -> float:
    """Relative time of one step: one encoder, a (B, B) head (IQE sorts)."""
    return 2.5 if config.qm_head == "iqe" else 1.5
