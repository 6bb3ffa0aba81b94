"""R runs of one architecture as one model: stacked parameters and a vmapped loss.

PyTorch's model-ensembling recipe applied to training: the members' parameters
are stacked along a new leading axis (``torch.func.stack_module_state``), and
the method's own ``loss`` (the one a run alone calls, unchanged) is mapped over
that axis with ``torch.func.vmap`` of ``torch.func.functional_call``. One
backward of the summed losses gives each member's slice its own gradient (the
members share no parameter), and Adam, being elementwise, is each member's own
Adam over the stacked tensors. The operators of a step do not depend on R: a
launch-bound GPU step costs about the same for 1 or 40 members.

Each member still draws its own batch from its own generator with its own
method's ``sample`` (a Python loop over the members); the batches are stacked
key by key. A member's slice agrees with its run alone to a few ulps per step
(a batched kernel need not round like a single one), not bit for bit; R = 1
never comes here (:mod:`repro.learn.train` calls the loss directly).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from repro.config import RunConfig
from repro.learn.optim import FusedAdam

Losses = tuple[torch.Tensor, dict[str, torch.Tensor]]  # loss (R,), diagnostics {name: (R,)}


class _LossOf(nn.Module):
    """``loss(model, batch, config)`` as a module's forward, so that functional_call can
    swap the model's parameters for one member's slice."""

    def __init__(self, model: nn.Module, loss: Callable, config: RunConfig) -> None:
        super().__init__()
        self.model, self.loss, self.config = model, loss, config

    def forward(self, batch: dict[str, Any]) -> tuple[torch.Tensor, dict]:
        return self.loss(self.model, batch, self.config)


def stack_batches(batches: list[dict[str, Any]]) -> dict[str, Any]:
    """R members' batches as one: each tensor stacked to (R, ...); a None stays None."""
    return {
        k: None if v is None else torch.stack([b[k] for b in batches])
        for k, v in batches[0].items()
    }


class StackedRuns:
    """R same-shaped models as stacked tensors, with one optimizer and a vmapped loss.

    ``params``/``buffers``: {name: float (R, *shape)} in the order of the first model's
    ``named_parameters``/``named_buffers``; member r's weights are ``params[name][r]``.
    """

    def __init__(self, models: list[nn.Module], opts: list[FusedAdam], loss, config) -> None:
        self.names = [n for n, _ in models[0].named_parameters()]
        self.params, self.buffers = stack_module_state(models)
        # The template holds no data: functional_call supplies every tensor.
        self.module = _LossOf(copy.deepcopy(models[0]).to("meta"), loss, config)
        self.opt = FusedAdam([self.params[n] for n in self.names], lr=config.lr)
        self.opt.load_state_dict(
            {
                "exp_avg": [torch.stack(t) for t in zip(*(o.exp_avg for o in opts), strict=True)],
                "exp_avg_sq": [
                    torch.stack(t) for t in zip(*(o.exp_avg_sq for o in opts), strict=True)
                ],
                "step": [opts[0].steps[0].clone() for _ in self.names],  # one step count
            }
        )

    def _one(self, params, buffers, batch) -> tuple[torch.Tensor, dict]:
        prefixed = {f"model.{k}": v for k, v in (params | buffers).items()}
        return functional_call(self.module, prefixed, (batch,))

    def loss(self, batch: dict[str, Any]) -> Losses:
        """Every member's (loss, info) on its slice of ``batch`` (tensors (R, B, ...))."""
        dims = {k: None if v is None else 0 for k, v in batch.items()}
        return vmap(self._one, in_dims=(0, 0, dims))(self.params, self.buffers, batch)

    def step(self, batch: dict[str, Any]) -> Losses:
        """The summed loss's backward and one Adam update of every member: (loss, info)."""
        loss, info = self.loss(batch)
        self.opt.zero_grad()
        loss.sum().backward()
        self.opt.step()
        return loss.detach(), info

    @torch.no_grad()
    def write_member(self, r: int, model: nn.Module, opt: FusedAdam) -> None:
        """Copy member r's weights and Adam moments into its own ``model`` and ``opt``."""
        for i, (name, p) in enumerate(model.named_parameters()):  # the order of self.names
            p.copy_(self.params[name][r])
            opt.exp_avg[i].copy_(self.opt.exp_avg[i][r])
            opt.exp_avg_sq[i].copy_(self.opt.exp_avg_sq[i][r])
            opt.steps[i].copy_(self.opt.steps[i])
