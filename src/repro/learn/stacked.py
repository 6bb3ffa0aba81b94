"""R models of one architecture as one model: every parameter carries a leading member axis.

The layers mirror :mod:`repro.learn.trunk` one for one, so that a stacked model's
parameter names are exactly those of the single model it stacks
(``trunk.blocks.0.linear.weight``, ``phi.pos_weight``, ...) and member ``r``'s
weights are ``param[r]`` with the single model's shape. Stacking R single
models and slicing member ``r`` back out are therefore one ``torch.stack`` and
one index per tensor (:func:`stack_tensors`, :func:`member_tensors`).

- a linear layer is ``[R, out, in]`` weights and ``[R, out]`` biases, applied with
  ``torch.baddbmm`` (the ``VectorizedLinear`` of CORL's ensembles);
- the one-hot position lookup is one table ``[R * P * cells, hidden]``, each
  member's rows found with a per-member offset;
- LayerNorm is ``F.layer_norm`` without affine, then a per-member scale and shift.

The number of operators of a forward and backward pass does not depend on R.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from repro.config import RunConfig


class StackedLinear(nn.Module):
    """R linear layers: x float (R, B, in) -> float (R, B, out).

    weight float (R, out, in) as ``nn.Linear.weight`` per member; bias float (R, out) or None.
    """

    def __init__(self, members: int, in_features: int, out_features: int, bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(members, out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(members, out_features)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.bias is None:
            return torch.bmm(x, self.weight.mT)
        return torch.baddbmm(self.bias[:, None, :], x, self.weight.mT)


class StackedLayerNorm(nn.Module):
    """R LayerNorms over the last axis: (R, B, H) -> (R, B, H); weight, bias float (R, H)."""

    def __init__(self, members: int, hidden: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(members, hidden))
        self.bias = nn.Parameter(torch.zeros(members, hidden))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.layer_norm(x, x.shape[-1:])  # no affine: the scale and shift differ per member
        return y * self.weight[:, None, :] + self.bias[:, None, :]


class StackedResidualBlock(nn.Module):
    """x + ReLU(LayerNorm(Linear(x))) per member: (R, B, H) -> (R, B, H)."""

    def __init__(self, members: int, hidden: int) -> None:
        super().__init__()
        self.linear = StackedLinear(members, hidden, hidden)
        self.norm = StackedLayerNorm(members, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + torch.relu(self.norm(self.linear(x)))


class StackedTrunk(nn.Module):
    """R :class:`repro.learn.trunk.Trunk` s of one shape, with the same parameter names.

    positions: int64 (P, R, B) cell indices (position k of member r's row b);
    walls: float (R, B, cells) or None. Returns float (R, B, out_dim).
    """

    def __init__(
        self,
        members: int,
        cells: int,
        n_positions: int,
        use_walls: bool,
        hidden: int,
        n_blocks: int,
        out_dim: int,
    ) -> None:
        super().__init__()
        self.pos_weight = nn.Parameter(torch.zeros(members, n_positions, cells, hidden))
        self.bias = nn.Parameter(torch.zeros(members, hidden))
        self.walls = StackedLinear(members, cells, hidden, bias=False) if use_walls else None
        blocks = [StackedResidualBlock(members, hidden) for _ in range(n_blocks)]
        self.blocks = nn.Sequential(*blocks)
        self.out = StackedLinear(members, hidden, out_dim)
        # Row of (member r, position k, cell 0) in the flattened table: (r * P + k) * cells.
        first = torch.arange(members)[None, :] * n_positions + torch.arange(n_positions)[:, None]
        self.register_buffer("row0", (first * cells)[:, :, None], persistent=False)  # (P, R, 1)

    def forward(self, positions: torch.Tensor, walls: torch.Tensor | None) -> torch.Tensor:
        members, hidden = self.bias.shape
        table = self.pos_weight.view(-1, hidden)  # (R * P * cells, hidden)
        rows = positions + self.row0  # (P, R, B) rows of the table
        x = self.bias[:, None, :]  # (R, 1, H); the single trunk's order of additions
        for k in range(rows.shape[0]):
            x = x + table.index_select(0, rows[k].view(-1)).view(members, -1, hidden)
        if self.walls is not None:
            x = x + self.walls(walls)
        return self.out(self.blocks(x))


def _trunk_args(config: RunConfig, n_positions: int, out_dim: int) -> tuple:
    cells = config.size * config.size
    procedural = config.regime == "procedural"
    return cells, n_positions, procedural, config.hidden, config.n_blocks, out_dim


class StackedSupervised(nn.Module):
    """R :class:`repro.learn.supervised.SupervisedDistance` s (one head, one shape)."""

    def __init__(self, config: RunConfig, members: int) -> None:
        super().__init__()
        cells = config.size * config.size
        self.head = config.head
        out_dim = 1 if self.head == "regression" else cells + 1
        self.trunk = StackedTrunk(members, *_trunk_args(config, 2, out_dim))
        self.register_buffer("steps", torch.arange(out_dim, dtype=torch.float32), persistent=False)

    def outputs(self, walls, states, goals) -> torch.Tensor:
        """Raw outputs: float (R, B, out_dim) from states, goals int64 (R, B)."""
        return self.trunk(torch.stack([states, goals]), walls)


class StackedContrastive(nn.Module):
    """R :class:`repro.learn.contrastive.ContrastiveDistance` s: encoders phi and psi."""

    def __init__(self, config: RunConfig, members: int) -> None:
        super().__init__()
        args = _trunk_args(config, 1, config.embed_dim)
        self.phi = StackedTrunk(members, *args)
        self.psi = StackedTrunk(members, *args)

    def encode(self, walls, states, goals) -> tuple[torch.Tensor, torch.Tensor]:
        """phi(s), psi(g): float (R, B, embed_dim) each, from states, goals int64 (R, B)."""
        return self.phi(states[None], walls), self.psi(goals[None], walls)


def stack_tensors(per_member: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """{name: (R, *shape)} from R dicts {name: shape} with the same names."""
    return {name: torch.stack([m[name] for m in per_member]) for name in per_member[0]}


def member_tensors(stacked: dict[str, torch.Tensor], r: int) -> dict[str, torch.Tensor]:
    """Member ``r``'s slice of every stacked tensor, as a copy: {name: shape}."""
    return {name: t[r].clone() for name, t in stacked.items()}
