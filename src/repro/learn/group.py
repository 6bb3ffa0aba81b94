"""The group trainer: R runs of one architecture trained as one stacked model.

:func:`train_group` reads top to bottom like :func:`repro.learn.train.train`:
skip the members already trained, restore each member from its own last
checkpoint (or start it fresh), stack the members into one model
(:mod:`repro.learn.stacked`) and one :class:`~repro.learn.optim.FusedAdam`,
run the loop (:func:`group_loop`), and give each member the files a run
trained alone has. One group step is one step of every member: each draws its
own batch from its own generator (:mod:`repro.learn.group_batches`), the loss
is the sum of the members' mean losses (so each member's gradient is its
gradient alone), and Adam, being elementwise, is each member's own Adam.

Each member is also held in the single trainer's form, a
:class:`~repro.learn.train.RunState` (a model of its method's class, its
optimizer, its generator), written from the group at every snapshot,
checkpoint and at its end; its files are then written by the single trainer's
own functions, so they are the same files. A member that reaches its
``steps`` leaves the group (the rest are stacked again); a member whose loss
turns non-finite leaves it at the next log step, its last good checkpoint
kept. After a kill, each member resumes from its checkpoint; members at one
step form one group again and end with the weights of an uninterrupted group.

A member's ``run.json`` says ``"trainer": {"kind": "group", ...}``; a run.json
without ``trainer`` was written by the single trainer. Its ``stage_hash`` is
the group trainer's (:func:`group_stage_hash`: the same configuration hash, and
the code of every module the group trainer imports, which includes all of the
single trainer's), because its weights are the group code's numbers. A run
counts as trained (:func:`is_trained`) when it is complete under either hash.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm import tqdm

from repro.config import RunConfig, config_hash
from repro.core.data import Dataset, make_dataset
from repro.errors import ConfigError, TrainingDiverged
from repro.fingerprint import code_hash
from repro.io import read_json, write_json
from repro.learn.batches import TrajectoryTensors
from repro.learn.group_batches import GroupData
from repro.learn.group_methods import GroupMethod, group_key, group_method_of
from repro.learn.methods import build_model, method_of
from repro.learn.optim import FusedAdam
from repro.learn.runfiles import (
    clear_stale,
    forget_finished,
    is_complete,
    load_checkpoint,
    resolve_device,
    save_weights,
    write_loss_csv,
)
from repro.learn.stacked import member_tensors, stack_tensors
from repro.learn.train import RunState, run_record, run_seeds, save_on_schedule
from repro.paths import run_dir

# ---------------------------------------------------------------------------- caching


def group_stage_hash(config: RunConfig) -> str:
    """What a group-trained run must match to be reused: configuration, group code, libraries."""
    return f"{config_hash(config)}-{code_hash('train_group')}"


def is_trained(out: Path, config: RunConfig) -> bool:
    """True when ``out`` holds a finished run of ``config`` by either trainer (current code)."""
    if is_complete(out, config):
        return True
    try:
        meta = read_json(out / "run.json")
    except (OSError, ValueError):
        return False
    return (
        isinstance(meta, dict)
        and (out / "model.pt").exists()
        and meta.get("status") == "complete"
        and meta.get("stage_hash") == group_stage_hash(config)
    )


# ---------------------------------------------------------------------------- the state


@dataclasses.dataclass
class Member:
    """One run of a group: its settings, folder, data and single-trainer state."""

    config: RunConfig
    out: Path
    ds: Dataset
    tensors: TrajectoryTensors
    state: RunState  # weights and moments as of the last sync; its generator is live
    first_step: int  # the step this process started it from


@dataclasses.dataclass
class Group:
    """Members at one step as one stacked model.

    window: float64 (K, R) sums of the loss and diagnostics since the last log row;
    first_bad: int64 (R,) first step with a non-finite loss (-1: none); last: float32 (R,)
    the latest step's losses.
    """

    members: list[Member]
    method: GroupMethod
    model: nn.Module
    opt: FusedAdam
    data: GroupData
    weights: dict[str, torch.Tensor]
    step: int
    window: torch.Tensor
    first_bad: torch.Tensor
    last: torch.Tensor
    keys: list[str] = dataclasses.field(default_factory=list)  # rows of window: loss, diagnostics
    formed: tuple[str, ...] = ()  # run ids of the members the group started with
    loop_started: float = dataclasses.field(default_factory=time.perf_counter)


def saved_checkpoints(out: Path, config: RunConfig) -> dict[int, dict]:
    """The member's intact group checkpoints by step: ``last.pt`` and the one before it,
    ``prev.pt`` (a group keeps both; see :func:`resume_points`)."""
    chash = group_stage_hash(config)
    found = (load_checkpoint(out / "checkpoints" / n, chash) for n in ("prev.pt", "last.pt"))
    return {saved["step"]: saved for saved in found if saved is not None}


def resume_points(saved: list[dict[int, dict]]) -> list[dict | None]:
    """Which checkpoint each member resumes from (None: a fresh start, step 0).

    A round of checkpoints is R files written one after another, so a kill in the middle
    of it leaves some members one round ahead. Every member resumes at the newest step
    that all of them still have (each keeps its previous checkpoint, and step 0 is always
    at hand), so the group is the group it was and ends with the same bits. A member
    without that step (another group's leftover) resumes from its newest, in a group of
    its own step.
    """
    common = min(max(s, default=0) for s in saved)
    return [s.get(common) if common in s or common == 0 else s[max(s)] for s in saved]


def fresh_member(config: RunConfig, dev: torch.device, data: tuple | None = None) -> Member:
    """Member ``config`` at step 0, seeded as :func:`repro.learn.train.restore_or_start`
    seeds a run; ``data`` (dataset, tensors) if already built. Touches no file."""
    init_seed, batch_seed = run_seeds(config.seed)
    model = build_model(config, torch.Generator().manual_seed(init_seed)).to(dev)
    state = RunState(
        model=model,
        opt=FusedAdam(model.parameters(), lr=config.lr),
        gen=torch.Generator(device=dev).manual_seed(batch_seed),
        chash=group_stage_hash(config),
    )
    if data is None:
        ds = make_dataset(
            config.dataset, config.n_trajectories, config.seed, config.size, config.regime,
            config.loop_prob,
        )  # fmt: skip
        procedural = config.regime == "procedural"
        data = (ds, TrajectoryTensors.from_dataset(ds, dev, with_walls=procedural))
    return Member(config, run_dir(config.run_id), *data, state, first_step=0)


def restore_member(config: RunConfig, out: Path, dev: torch.device, saved: dict | None) -> Member:
    """Member ``config`` in folder ``out`` from checkpoint ``saved``, or fresh at step 0
    (the folder cleared): :func:`repro.learn.train.restore_or_start` under the group's hash."""
    m = fresh_member(config, dev)
    m.out, state = out, m.state
    if saved is not None:
        state.model.load_state_dict(saved["model"])
        state.opt.load_state_dict(saved["optimizer"])
        state.gen.set_state(saved["generator"])
        state.step, state.rows = saved["step"], saved["rows"]
        state.elapsed_before = saved["elapsed"]
    else:
        clear_stale(out)
    write_json(out / "config.json", {"config": config.to_dict(), "stage_hash": state.chash})
    m.first_step = state.step
    return m


def _moments(state: RunState) -> dict[str, dict[str, torch.Tensor]]:
    """A single optimizer's moments by parameter name: {'exp_avg': {name: tensor}, ...}."""
    names = [n for n, _ in state.model.named_parameters()]
    saved = state.opt.state_dict()
    return {k: dict(zip(names, saved[k], strict=True)) for k in ("exp_avg", "exp_avg_sq")}


def stack_members(members: list[Member], dev: torch.device) -> Group:
    """One stacked model and optimizer holding exactly the members' weights and moments
    (every member at the same step)."""
    config = members[0].config
    method = group_method_of(config)
    model = method.build(config, len(members)).to(dev)
    model.load_state_dict(stack_tensors([m.state.model.state_dict() for m in members]))
    opt = FusedAdam(model.parameters(), lr=config.lr)
    names = [n for n, _ in model.named_parameters()]
    moments = [_moments(m.state) for m in members]
    opt.load_state_dict(
        {
            **{
                k: [torch.stack([mo[k][n] for mo in moments]) for n in names]
                for k in ("exp_avg", "exp_avg_sq")
            },  # fmt: skip
            "step": [members[0].state.opt.steps[0].clone() for _ in names],
        }
    )
    R = len(members)
    return Group(
        members=members, method=method, model=model, opt=opt,
        data=GroupData.join([m.tensors for m in members], [m.config for m in members]),
        weights=method.weights([m.config for m in members], dev),
        step=members[0].state.step,
        window=torch.zeros(0, R, dtype=torch.float64, device=dev),
        first_bad=torch.full((R,), -1, dtype=torch.int64, device=dev),
        last=torch.full((R,), float("nan"), device=dev),
        formed=tuple(m.config.run_id for m in members),
    )  # fmt: skip


def restack(group: Group, keep: list[int], dev: torch.device) -> Group:
    """The group without the members not in ``keep`` (those that finished or diverged);
    the others' weights, moments, window and records carried over exactly."""
    sync_members(group, keep)
    smaller = stack_members([group.members[r] for r in keep], dev)
    index = torch.tensor(keep, device=dev)
    smaller.keys, smaller.formed = group.keys, group.formed
    smaller.loop_started = group.loop_started
    smaller.window = group.window.index_select(1, index) if group.keys else smaller.window
    smaller.first_bad = group.first_bad.index_select(0, index)
    smaller.last = group.last.index_select(0, index)
    return smaller


@torch.no_grad()
def sync_members(group: Group, which: list[int]) -> None:
    """Write members ``which``'s slices of the group's weights and moments into their
    single-trainer states (so they can be saved, or stacked again)."""
    weights = dict(group.model.state_dict())
    names = [n for n, _ in group.model.named_parameters()]
    for r in which:
        m = group.members[r]
        m.state.model.load_state_dict(member_tensors(weights, r))
        by_name = {
            k: dict(zip(names, [t[r] for t in getattr(group.opt, k)], strict=True))
            for k in ("exp_avg", "exp_avg_sq")
        }
        single = [n for n, _ in m.state.model.named_parameters()]
        m.state.opt.load_state_dict(
            {
                **{k: [by_name[k][n] for n in single] for k in by_name},
                "step": [group.opt.steps[0] for _ in single],
            }
        )
        m.state.step = group.step


# ---------------------------------------------------------------------------- the loop


def group_step(group: Group) -> None:
    """One step of every member: its own batch (:func:`draw_batch`), then one update of
    all (:func:`update`); no host synchronisation."""
    update(group, draw_batch(group))


def draw_batch(group: Group) -> dict[str, Any]:
    """Every member's batch, each from its own generator: tensors of shape (R, B, ...)."""
    configs = [m.config for m in group.members]
    return group.method.sample(group.data, [m.state.gen for m in group.members], configs)


def update(group: Group, batch: dict[str, Any]) -> None:
    """R losses summed, backward, one Adam update of the stacked parameters; the losses and
    diagnostics added to the window, and the first non-finite loss of each member noted.
    Its operators do not depend on R."""
    loss, info = group.method.loss(group.model, batch, group.weights)  # (R,), {name: (R,)}
    group.opt.zero_grad()
    loss.sum().backward()
    group.opt.step()
    group.step += 1
    values = torch.stack([loss.detach(), *info.values()]).double()  # (K, R)
    if not group.keys:
        group.keys = ["loss", *info]
        group.window = torch.zeros_like(values)
    group.window += values
    group.last = loss.detach()
    bad = (group.first_bad < 0) & ~torch.isfinite(group.last)
    group.first_bad = torch.where(bad, group.step, group.first_bad)


def log_rows(group: Group) -> None:
    """Append each member's loss-log row (the window's means) and empty the window."""
    means = (group.window / group.members[0].config.log_every).tolist()  # [K][R]
    for r, m in enumerate(group.members):
        m.state.rows.append(
            {"step": group.step} | {k: means[i][r] for i, k in enumerate(group.keys)}
        )
    group.window.zero_()


def diverged_message(m: Member, step: int) -> str:
    """As the single trainer words it: the run, the step, the last good checkpoint."""
    c = m.config
    last = (step - 1) - (step - 1) % c.checkpoint_every
    return (
        f"{c.run_id} ({c.name}, {c.regime}): loss is not finite at step {step}; the last good "
        f"checkpoint (step {last}) is kept in {m.out / 'checkpoints' / 'last.pt'}"
    )


def _save_due(config: RunConfig, step: int) -> bool:
    """Does :func:`repro.learn.train.save_on_schedule` write anything at ``step``?"""
    every = (config.snapshot_every, config.checkpoint_every)
    return step == config.steps or any(step % e == 0 for e in every)


def save_member(m: Member, started: float) -> None:
    """The single trainer's snapshot and checkpoint of a (synced) member on its schedule;
    before a new checkpoint, the last one becomes ``prev.pt`` (see :func:`resume_points`)."""
    step, c = m.state.step, m.config
    last = m.out / "checkpoints" / "last.pt"
    if step % c.checkpoint_every == 0 and step < c.steps and last.exists():
        last.replace(last.with_name("prev.pt"))
    save_on_schedule(c, m.state, m.out, started)


def finish_member(group: Group, r: int, run: tuple[str, int, float]) -> dict[str, Any]:
    """Member ``r`` (synced, at its last step): model.pt, loss.csv, run.json, written as
    :func:`repro.learn.train.train` writes them, plus the ``trainer`` record.
    ``run``: (device name, threads, perf_counter when this process started)."""
    device, threads, started = run
    m = group.members[r]
    m.state.last_loss = float(group.last[r])
    save_weights(m.out / "model.pt", m.state.model)
    write_loss_csv(m.out / "loss.csv", m.state.rows)
    meta = run_record(m.config, m.out, m.state, m.ds, device, threads)
    now = time.perf_counter()
    meta["wall_time_s"] = round(m.state.elapsed_before + now - started, 3)
    loop = now - group.loop_started
    meta["steps_per_s"] = round((m.config.steps - m.first_step) / loop, 2) if loop else None
    meta["resumed_from_step"] = m.first_step
    # Each group step is one step of every member: steps_per_s is the group's step rate.
    meta["trainer"] = {"kind": "group", "members": len(group.formed), "group": list(group.formed)}
    write_json(m.out / "run.json", meta)
    shutil.rmtree(m.out / "checkpoints", ignore_errors=True)
    return meta


def group_loop(
    group: Group,
    dev: torch.device,
    run: tuple[str, int, float],
    progress: bool | None,
    on_step: Callable[[int], None] | None,
) -> tuple[dict[str, dict], list[str]]:
    """Steps until every member has left: each step, log, check, save on the members'
    schedules, then let the finished and the diverged leave.
    Returns ({run_id: run.json} of the finished, [message] of the diverged)."""
    finished, diverged = {}, []
    first = group.members[0].config
    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(
        total=max(m.config.steps for m in group.members), initial=group.step, disable=not show,
        desc=f"group of {len(group.members)}", unit="step", dynamic_ncols=True, leave=False,
    )  # fmt: skip
    group.model.train()
    while True:
        group_step(group)
        bar.update(1)
        step, members = group.step, group.members
        ends = [r for r, m in enumerate(members) if m.config.steps == step]
        if step % first.log_every == 0:
            log_rows(group)
        bad = set()
        if ends or step % first.log_every == 0:  # the only host synchronisations
            bad = {r for r, s in enumerate(group.first_bad.tolist()) if s >= 0}
            diverged += [diverged_message(members[r], group.first_bad[r].item()) for r in bad]
        due = [r for r, m in enumerate(members) if r not in bad and _save_due(m.config, step)]
        sync_members(group, due)
        for r in due:
            save_member(members[r], run[2])
        if on_step is not None:
            on_step(step)
        for r in (r for r in ends if r not in bad):
            finished[members[r].config.run_id] = finish_member(group, r, run)
        keep = [r for r in range(len(members)) if r not in bad | set(ends)]
        if not keep:
            break
        if len(keep) < len(members):
            group = restack(group, keep, dev)
    bar.close()
    return finished, diverged


# ---------------------------------------------------------------------------- entry point


def check_group(configs: list[RunConfig], outs: list[Path]) -> None:
    """ConfigError unless the runs can share one stacked model and have distinct folders."""
    if not configs:
        raise ConfigError("a group needs at least one run")
    for c in configs:
        method_of(c)  # an unknown method is refused before anything is written
        group_method_of(c)
    keys = {group_key(c) for c in configs}
    if len(keys) > 1:
        raise ConfigError(
            "runs of one group must share method, regime, sizes, head, batch, lr and schedules; "
            f"got {len(keys)} different architectures"
        )
    if len({Path(o).resolve() for o in outs}) != len(outs):
        raise ConfigError("two runs of a group would write into the same folder")


def train_group(
    configs: list[RunConfig],
    outs: list[Path] | None = None,
    device: str = "auto",
    threads: int = 1,
    progress: bool | None = None,
    on_step: Callable[[int], None] | None = None,
    force: bool = False,
) -> list[dict[str, Any]]:
    """Train ``configs`` (or resume them) as groups; return their ``run.json`` contents.

    Runs already trained (by either trainer) are not retrained, unless ``force``.
    ``on_step(step)`` is called after every group step (tests use it to interrupt).
    Raises TrainingDiverged naming every diverged member once the others are done.
    """
    outs = [Path(o) for o in outs] if outs is not None else [run_dir(c.run_id) for c in configs]
    check_group(configs, outs)
    if force:
        for out in outs:
            forget_finished(out)
    metas = {
        c.run_id: {**read_json(out / "run.json"), "cached": True}
        for c, out in zip(configs, outs, strict=True)
        if is_trained(out, c)
    }
    todo = [(c, o) for c, o in zip(configs, outs, strict=True) if c.run_id not in metas]
    if todo:
        torch.set_num_threads(threads)
        dev = resolve_device(device)
        run = (str(dev), threads, time.perf_counter())
        points = resume_points([saved_checkpoints(out, c) for c, out in todo])
        members = [restore_member(c, o, dev, p) for (c, o), p in zip(todo, points, strict=True)]
        diverged: list[str] = []
        for step in sorted({m.state.step for m in members}):  # members at one step: one group
            group = stack_members([m for m in members if m.state.step == step], dev)
            done, bad = group_loop(group, dev, run, progress, on_step)
            metas.update(done)
            diverged += bad
        if diverged:
            raise TrainingDiverged("; ".join(diverged))
    return [metas[c.run_id] for c in configs]
