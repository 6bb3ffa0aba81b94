"""The method registry: one table from a method's name to what training needs.

In the spirit of OGBench's agent table. Each method is one module (here
:mod:`repro.learn.supervised` and :mod:`repro.learn.contrastive`) that offers

- ``build(config, generator) -> nn.Module``: the model, every parameter drawn
  from ``generator``; the model has ``distance(walls, states, goals[, maze_index])
  -> (B,)``, the only thing evaluation and planning call;
- ``sample(tensors, config, generator) -> batch``: one batch (a dict of tensors);
- ``loss(model, batch, config) -> (loss, info)``: a scalar loss and a dict of
  diagnostics, averaged into the loss log;
- ``cost(config) -> float``: the relative time of one step, so the pipeline
  starts the longest runs first;
- ``SHARED`` (optional, a tuple of configuration fields): the fields beyond the
  common ones (:data:`COMMON_FIELDS`) that ``build`` or ``loss`` branch on or
  shape tensors by, which therefore must agree between runs trained as one group.

Adding a distance model is one new module with these functions and one line in
:data:`repro.config.METHOD_MODULES`; the trainer (alone or in a group, :mod:`repro.learn.train`),
the evaluation and the pipeline never branch on a method's name.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from repro.config import METHOD_MODULES, RunConfig
from repro.errors import ConfigError
from repro.learn.batches import TrajectoryTensors


@dataclass(frozen=True)
class Method:
    """What the trainer and the pipeline need of one distance model."""

    build: Callable[[RunConfig, torch.Generator], nn.Module]  # the model, seeded init
    sample: Callable[[TrajectoryTensors, RunConfig, torch.Generator], dict[str, Any]]  # a batch
    # (loss, info): a scalar to minimise and diagnostics for the loss log
    loss: Callable[[nn.Module, dict[str, Any], RunConfig], tuple[torch.Tensor, dict]]
    cost: Callable[[RunConfig], float]  # relative time of one step (scheduling only)
    # fields that build() or loss() read, beyond COMMON_FIELDS: equal within a group
    shared: tuple[str, ...] = ()


def _from_module(module) -> Method:
    return Method(
        build=module.build, sample=module.sample, loss=module.loss, cost=module.cost,
        shared=tuple(getattr(module, "SHARED", ())),
    )  # fmt: skip


# The registry: each method of repro.config.METHOD_MODULES, from its module.
METHODS: dict[str, Method] = {
    name: _from_module(importlib.import_module(module)) for name, module in METHOD_MODULES.items()
}


def method_module(config: RunConfig) -> str:
    """The module that implements ``config``'s method (its code is part of the run's
    training key; see :func:`repro.learn.runfiles.train_key`)."""
    return method_of(config).build.__module__


def method_of(config: RunConfig) -> Method:
    """The registered method of ``config``; ConfigError naming the method if there is none."""
    try:
        return METHODS[config.method]
    except KeyError:
        raise ConfigError(
            f"unknown method {config.method!r}; registered methods: {', '.join(METHODS)}"
        ) from None


def build_model(config: RunConfig, generator: torch.Generator) -> nn.Module:
    """The model of ``config``, every parameter drawn from ``generator`` (no global RNG)."""
    return method_of(config).build(config, generator)


def run_cost(config: RunConfig) -> float:
    """A rough relative training time of a whole run, to start the longest runs first
    (so that no long run starts last while the other workers sit idle)."""
    per_step = method_of(config).cost(config)
    per_step *= 1.3 if config.regime == "procedural" else 1.0  # the walls layer
    return per_step * config.steps


# Fields every group shares whatever its method: the architecture's common part, the batch
# (members' batches are stacked), the optimizer (one Adam over the stacked parameters) and
# the schedules (members log and save at the same steps). The others (seed, dataset,
# n_trajectories, loop_prob, steps, and whatever only ``sample`` reads, such as gamma and
# repeat) may differ between members: each member draws its own batches.
COMMON_FIELDS = (
    "method", "regime", "size", "hidden", "n_blocks", "batch_size", "lr",
    "log_every", "checkpoint_every", "snapshot_every",
)  # fmt: skip


def group_fields(config: RunConfig) -> tuple[str, ...]:
    """The fields runs must agree on to train with ``config`` as one group."""
    return COMMON_FIELDS + method_of(config).shared


def group_key(config: RunConfig) -> tuple:
    """Runs with equal keys can train as one group (one stacked model, one vmapped loss)."""
    return tuple((f, getattr(config, f)) for f in group_fields(config))
