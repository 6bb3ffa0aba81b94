"""The group trainer's method table: for each registered method, its stacked model,
its batches for R members and its R losses.

The same table shape as :data:`repro.learn.methods.METHODS`, one entry per
method; a member's loss is its own mean loss, computed exactly as the single
method computes it (same terms, same order), so that the sum over members has,
for each member's parameters, the gradient that member has alone.
Per-member settings that change a loss (the InfoNCE direction) enter as
per-member weights from a table, never as branches on a member.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from repro.config import RunConfig
from repro.errors import ConfigError
from repro.learn.group_batches import GroupData, sample_future, sample_pairs
from repro.learn.stacked import StackedContrastive, StackedSupervised

Losses = tuple[torch.Tensor, dict[str, torch.Tensor]]  # loss (R,), diagnostics {name: (R,)}


@dataclass(frozen=True)
class GroupMethod:
    """What the group trainer needs of one method."""

    build: Callable[[RunConfig, int], nn.Module]  # the stacked model of R members (zeros)
    sample: Callable[[GroupData, list[torch.Generator], list[RunConfig]], dict[str, Any]]
    # (loss (R,), diagnostics {name: (R,)}) of a batch; weights: per-member constants
    loss: Callable[[nn.Module, dict[str, Any], dict[str, torch.Tensor]], Losses]
    weights: Callable[[list[RunConfig], torch.device], dict[str, torch.Tensor]]


# ---------------------------------------------------------------------------- supervised


def _regression(out: torch.Tensor, target: torch.Tensor, steps: torch.Tensor):
    """MSE per member: out (R, B, 1) -> (loss (R,), prediction (R, B))."""
    pred = F.softplus(out[..., 0])
    return F.mse_loss(pred, target, reduction="none").mean(dim=1), pred


def _classification(out: torch.Tensor, target: torch.Tensor, steps: torch.Tensor):
    """Cross-entropy over step counts per member: out (R, B, C) -> (loss (R,), pred (R, B))."""
    members, batch, classes = out.shape
    ce = F.cross_entropy(out.reshape(-1, classes), target.long().view(-1), reduction="none")
    pred = torch.softmax(out, dim=2) @ steps
    return ce.view(members, batch).mean(dim=1), pred


HEADS = {"regression": _regression, "classification": _classification}


def supervised_loss(model, batch: dict, weights: dict[str, torch.Tensor]) -> Losses:
    """repro.learn.supervised.supervised_loss per member: (loss (R,), {'mae': (R,)})."""
    target = batch["target"]
    out = model.outputs(batch["walls"], batch["states"], batch["goals"])
    loss, pred = HEADS[model.head](out, target, model.steps)
    with torch.no_grad():
        mae = (pred - target).abs().mean(dim=1)
    return loss, {"mae": mae}


# ---------------------------------------------------------------------------- contrastive

# (backward, forward) terms of the InfoNCE loss and of its accuracy, per direction.
DIRECTION_WEIGHTS: dict[str, tuple[float, float, float, float]] = {
    "backward": (1.0, 0.0, 1.0, 0.0),
    "forward": (0.0, 1.0, 0.0, 1.0),
    "symmetric": (1.0, 1.0, 0.5, 0.5),
}


def direction_weights(configs: list[RunConfig], device: torch.device) -> dict[str, torch.Tensor]:
    """Each member's loss and accuracy weights of the two InfoNCE directions: float (R,)."""
    w = torch.tensor([DIRECTION_WEIGHTS[c.direction] for c in configs], device=device)
    return {"loss_b": w[:, 0], "loss_f": w[:, 1], "acc_b": w[:, 2], "acc_f": w[:, 3]}


def infonce_loss(model, batch: dict, weights: dict[str, torch.Tensor]) -> Losses:
    """repro.learn.contrastive.infonce_loss per member, logits float (R, B, B).

    logits[r, a, b] = -||phi_r(s_a) - psi_r(g_b)||; 'backward' is a softmax over the states
    of each goal (axis 1), 'forward' over the goals of each state (axis 2); each member's
    loss is w_b * backward + w_f * forward with its direction's weights.
    """
    phi, psi = model.encode(batch["walls"], batch["states"], batch["goals"])
    logits = -torch.cdist(phi, psi, compute_mode="donot_use_mm_for_euclid_dist")  # (R, B, B)
    backward = -logits.log_softmax(dim=1).diagonal(dim1=1, dim2=2).mean(dim=1)  # (R,)
    forward = -logits.log_softmax(dim=2).diagonal(dim1=1, dim2=2).mean(dim=1)  # (R,)
    loss = weights["loss_b"] * backward + weights["loss_f"] * forward
    with torch.no_grad():
        labels = torch.arange(logits.shape[1], device=logits.device)
        acc_b = (logits.argmax(dim=1) == labels).float().mean(dim=1)
        acc_f = (logits.argmax(dim=2) == labels).float().mean(dim=1)
        eye = torch.eye(logits.shape[1], dtype=torch.bool, device=logits.device)
        info = {
            "accuracy": weights["acc_b"] * acc_b + weights["acc_f"] * acc_f,
            "logit_pos": logits.diagonal(dim1=1, dim2=2).mean(dim=1),
            "logit_neg": logits[:, ~eye].mean(dim=1),
        }
    return loss, info


# ---------------------------------------------------------------------------- the table


def _no_weights(configs: list[RunConfig], device: torch.device) -> dict[str, torch.Tensor]:
    return {}


GROUP_METHODS: dict[str, GroupMethod] = {
    "supervised": GroupMethod(
        build=StackedSupervised,
        sample=lambda data, gens, configs: sample_pairs(data, gens, configs[0].batch_size),
        loss=supervised_loss,
        weights=_no_weights,
    ),
    "contrastive": GroupMethod(
        build=StackedContrastive,
        sample=sample_future,
        loss=infonce_loss,
        weights=direction_weights,
    ),
}


def group_method_of(config: RunConfig) -> GroupMethod:
    """The group entry of ``config``'s method; ConfigError if the method has none."""
    try:
        return GROUP_METHODS[config.method]
    except KeyError:
        raise ConfigError(
            f"method {config.method!r} has no group trainer; methods with one: "
            f"{', '.join(GROUP_METHODS)} (train it with `python -m repro train`)"
        ) from None


# Fields that must agree for runs to share one stacked model: the architecture, the batch,
# the optimizer and the shared schedules. The others (seed, dataset, n_trajectories,
# loop_prob, gamma, repeat, direction, steps) may differ between members.
SHARED_FIELDS = (
    "method", "regime", "size", "hidden", "n_blocks", "embed_dim", "head", "batch_size", "lr",
    "log_every", "checkpoint_every", "snapshot_every",
)  # fmt: skip


def group_key(config: RunConfig) -> tuple:
    """Runs with equal keys can train as one group."""
    return tuple(getattr(config, f) for f in SHARED_FIELDS)
