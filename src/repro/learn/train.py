"""One trainer for every registered method: one run, or several as one group.

:func:`train_runs` reads top to bottom: skip the runs already finished, restore
each from its last checkpoint or start it fresh (:func:`restore_member`), put
the members that stand at one step into a :class:`Group`, run the loop
(:func:`train_loop`), and give each member its files (:func:`finish_member`).
:func:`train` is the same for one run. The files of a run folder are described
in :mod:`repro.learn.runfiles`.

One step of a group is one step of every member, each drawing its own batch
from its own generator with its method's ``sample``:

- a group of one calls the method's ``loss`` on its model, then backward and
  Adam: exactly the operations of a run alone, so its bits are a run's bits;
- a group of R > 1 stacks the members' parameters and maps the same ``loss``
  over them (:mod:`repro.learn.stack`); each member agrees with its run alone
  to rounding (a batched kernel rounds on its own), not bit for bit.

Runs train as one group only when they agree on the fields their method
branches on (:func:`repro.learn.methods.group_key`). A member that reaches its
``steps`` leaves the group (the rest are stacked again; the last one goes on as
a run alone); a member whose loss turns non-finite leaves at the next check,
its last good checkpoint kept. A killed group resumes from the members'
checkpoints and ends with the bits of an uninterrupted group. A member's
``run.json`` records ``"trainer": {"kind": "group", ...}`` when it started in a
group of more than one.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from repro.config import RunConfig
from repro.core.data import Dataset, make_dataset
from repro.errors import ConfigError, TrainingDiverged
from repro.io import read_json, write_json
from repro.learn.batches import TrajectoryTensors
from repro.learn.graphs import GraphedStep, capture
from repro.learn.methods import build_model, group_fields, group_key, method_of
from repro.learn.optim import FusedAdam
from repro.learn.runfiles import (
    clear_stale,
    forget_finished,
    is_complete,
    load_checkpoint,
    resolve_device,
    run_record,
    run_seeds,
    save_checkpoint,
    save_weights,
    stage_hash,
    train_key,
    write_loss_csv,
)
from repro.learn.stack import StackedRuns, stack_batches


@dataclass
class RunState:
    """What a run carries from step to step, and what a checkpoint saves."""

    model: torch.nn.Module
    opt: FusedAdam
    gen: torch.Generator  # the batch-sampling stream
    chash: str  # the train key's digest: a checkpoint of other code or settings is never resumed
    step: int = 0  # optimizer steps taken
    rows: list[dict[str, float]] = field(default_factory=list)  # the loss log
    elapsed_before: float = 0.0  # wall seconds spent by earlier (interrupted) processes
    last_loss: float = float("nan")  # loss of the latest step


@dataclass
class Member:
    """One run being trained: its settings, folder, data and state."""

    config: RunConfig
    out: Path | None  # its run folder (None: a member that writes nothing, as in the bench)
    ds: Dataset
    tensors: TrajectoryTensors
    state: RunState  # in a group of R > 1: weights as of the last sync; the generator is live
    first_step: int = 0  # the step this process started it from


# ---------------------------------------------------------------------------- restore


def fresh_member(config: RunConfig, dev: torch.device, data: tuple | None = None) -> Member:
    """Run ``config`` at step 0: its model and generator seeded from its seed, Adam at zero;
    ``data`` (dataset, tensors) if already built. Touches no file."""
    init_seed, batch_seed = run_seeds(config.seed)
    model = build_model(config, torch.Generator().manual_seed(init_seed)).to(dev)
    # Adam in one fused kernel call per step (bit-identical to torch.optim.Adam(fused=True)).
    state = RunState(
        model=model,
        opt=FusedAdam(model.parameters(), lr=config.lr),
        gen=torch.Generator(device=dev).manual_seed(batch_seed),
        chash=stage_hash(config),
    )
    if data is None:
        ds = make_dataset(
            config.dataset, config.n_trajectories, config.seed, config.size, config.regime,
            config.loop_prob,
        )  # fmt: skip
        procedural = config.regime == "procedural"
        data = (ds, TrajectoryTensors.from_dataset(ds, dev, with_walls=procedural))
    return Member(config, None, *data, state)


def restore_member(config: RunConfig, out: Path, dev: torch.device, saved: dict | None) -> Member:
    """Run ``config`` in folder ``out`` from checkpoint ``saved``, or fresh at step 0 (after
    clearing every file of an earlier run). Writes ``config.json`` either way."""
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
    write_json(out / "config.json", {"config": config.to_dict(), "key": train_key(config)})
    m.first_step = state.step
    return m


def saved_checkpoints(out: Path, config: RunConfig) -> dict[int, dict]:
    """The run's intact checkpoints by step: ``last.pt`` and the one before it, ``prev.pt``."""
    chash = stage_hash(config)
    found = (load_checkpoint(out / "checkpoints" / n, chash) for n in ("prev.pt", "last.pt"))
    return {saved["step"]: saved for saved in found if saved is not None}


def resume_points(saved: list[dict[int, dict]]) -> list[dict | None]:
    """Which checkpoint each member resumes from (None: a fresh start, step 0).

    A round of checkpoints is R files written one after another, so a kill in the middle
    of it leaves some members one round ahead. Every member resumes at the newest step
    that all of them still have (each keeps its previous checkpoint, and step 0 is always
    at hand), so the group is the group it was and ends with the same bits. A member
    without that step (another group's leftover) resumes from its newest, in a group of
    its own step. A run alone resumes from its newest.
    """
    common = min(max(s, default=0) for s in saved)
    return [s.get(common) if common in s or common == 0 else s[max(s)] for s in saved]


# ---------------------------------------------------------------------------- the group


@dataclass
class Group:
    """Members at one step, trained together.

    stacked: the members as one vmapped model (None for a group of one, which trains its
    member's own model); window: float64 (K, R) sums of the loss and diagnostics since the
    last log row, rows named by ``keys``; first_bad: int64 (R,) first step with a
    non-finite loss (-1: none), bad_loss float32 (R,) that loss; last: float32 (R,) the
    latest step's losses.
    """

    members: list[Member]
    stacked: StackedRuns | None
    step: int
    window: torch.Tensor
    first_bad: torch.Tensor
    bad_loss: torch.Tensor
    last: torch.Tensor
    keys: list[str] = field(default_factory=list)
    formed: tuple[str, ...] = ()  # run ids of the members the group started with
    loop_started: float = field(default_factory=time.perf_counter)
    # --cuda-graphs: the stacked step captured at the first step (repro.learn.graphs);
    # graph_note says whether it was, or why not (None: not asked for)
    cuda_graphs: bool = False
    graph: GraphedStep | None = None
    graph_note: str | None = None

    @classmethod
    def of(cls, members: list[Member], cuda_graphs: bool = False) -> Group:
        """The members (all at one step) as a group; R > 1 stacks their weights and moments;
        ``cuda_graphs``: replay the stacked step as a CUDA graph where one can be captured."""
        stacked = None
        if len(members) > 1:
            m0 = members[0]
            stacked = StackedRuns(
                [m.state.model for m in members], [m.state.opt for m in members],
                method_of(m0.config).loss, m0.config,
            )  # fmt: skip
        R, dev = len(members), members[0].tensors.cells.device
        return cls(
            members=members, stacked=stacked, step=members[0].state.step,
            window=torch.zeros(0, R, dtype=torch.float64, device=dev),
            first_bad=torch.full((R,), -1, dtype=torch.int64, device=dev),
            bad_loss=torch.full((R,), float("nan"), device=dev),
            last=torch.full((R,), float("nan"), device=dev),
            formed=tuple(m.config.run_id for m in members), cuda_graphs=cuda_graphs,
        )  # fmt: skip


def group_step(group: Group) -> None:
    """One step of every member: its own batch, the loss, backward, Adam; the losses and
    diagnostics added to the window and a first non-finite loss noted (no host sync)."""
    method = method_of(group.members[0].config)
    batches = [method.sample(m.tensors, m.config, m.state.gen) for m in group.members]
    if group.stacked is None:  # a run alone: the method's loss on its own model, as is
        state, config = group.members[0].state, group.members[0].config
        loss, info = method.loss(state.model, batches[0], config)
        state.opt.zero_grad()
        loss.backward()
        state.opt.step()
        loss = loss.detach()[None]
        info = {k: torch.as_tensor(v, device=loss.device)[None] for k, v in info.items()}
    else:
        batch = stack_batches(batches)
        if group.cuda_graphs and group.graph_note is None:  # the first step: capture once
            group.graph, group.graph_note = capture(group.stacked, batch)
        loss, info = (group.graph or group.stacked.step)(batch)
    group.step += 1
    values = torch.stack([loss, *(v.detach().to(loss.dtype) for v in info.values())]).double()
    if not group.keys:
        group.keys, group.window = ["loss", *info], torch.zeros_like(values)
    group.window += values  # (K, R): float32 -> float64 exactly, summed in float64
    group.last = loss
    bad = (group.first_bad < 0) & ~torch.isfinite(loss)
    group.first_bad = torch.where(bad, group.step, group.first_bad)
    group.bad_loss = torch.where(bad, loss, group.bad_loss)


@torch.no_grad()
def sync_members(group: Group, which: list[int]) -> None:
    """Bring members ``which`` to the group's step in their own states (weights and moments
    copied out of the stacked model), so they can be saved, or stacked again."""
    for r in which:
        m = group.members[r]
        if group.stacked is not None:
            group.stacked.write_member(r, m.state.model, m.state.opt)
        m.state.step = group.step
        m.state.last_loss = float(group.last[r])


def restack(group: Group, keep: list[int]) -> Group:
    """The group without the members not in ``keep`` (those that finished or diverged);
    the others' weights, moments, window and records carried over exactly."""
    sync_members(group, keep)
    smaller = Group.of([group.members[r] for r in keep], group.cuda_graphs)
    index = torch.tensor(keep, device=group.last.device)
    smaller.keys, smaller.formed = group.keys, group.formed
    smaller.loop_started = group.loop_started
    smaller.window = group.window.index_select(1, index) if group.keys else smaller.window
    for name in ("first_bad", "bad_loss", "last"):
        setattr(smaller, name, getattr(group, name).index_select(0, index))
    return smaller


# ---------------------------------------------------------------------------- the loop


def log_rows(group: Group) -> None:
    """Append each member's loss-log row (the window's means) and empty the window."""
    means = (group.window / group.members[0].config.log_every).tolist()  # [K][R]
    for r, m in enumerate(group.members):
        m.state.rows.append(
            {"step": group.step} | {k: means[i][r] for i, k in enumerate(group.keys)}
        )
    group.window.zero_()


def diverged_message(m: Member, step: int, loss: float) -> str:
    """The run, the step, the last good checkpoint."""
    c = m.config
    last = (step - 1) - (step - 1) % c.checkpoint_every
    return (
        f"{c.run_id} ({c.name}, {c.regime}): loss is {loss} at step {step}; the last good "
        f"checkpoint (step {last}) is kept in {m.out / 'checkpoints' / 'last.pt'}"
    )


def save_due(config: RunConfig, step: int) -> bool:
    """Does :func:`save_on_schedule` write anything at ``step``?"""
    every = (config.snapshot_every, config.checkpoint_every)
    return step == config.steps or any(step % e == 0 for e in every)


def save_on_schedule(config: RunConfig, state: RunState, out: Path, started: float) -> None:
    """A weight snapshot every ``snapshot_every`` steps (and at the end); a resumable
    checkpoint every ``checkpoint_every`` steps before the end, the one before it kept as
    ``prev.pt`` (see :func:`resume_points`)."""
    step = state.step
    if step % config.snapshot_every == 0 or step == config.steps:
        save_weights(out / "snapshots" / f"step_{step:07d}.pt", state.model)
    if step % config.checkpoint_every == 0 and step < config.steps:
        last = out / "checkpoints" / "last.pt"
        if last.exists():
            last.replace(last.with_name("prev.pt"))
        save_checkpoint(
            last,
            {
                "key": state.chash,
                "step": step,
                "rows": state.rows,
                "elapsed": state.elapsed_before + time.perf_counter() - started,
                "model": state.model.state_dict(),
                "optimizer": state.opt.state_dict(),
                "generator": state.gen.get_state(),
            },
        )


def finish_member(group: Group, r: int, run: tuple[str, int, float]) -> dict[str, Any]:
    """Member ``r`` (synced, at its last step): model.pt, loss.csv and run.json, the
    checkpoints removed. ``run``: (device name, threads, perf_counter at this process's
    start)."""
    device, threads, started = run
    m = group.members[r]
    save_weights(m.out / "model.pt", m.state.model)
    write_loss_csv(m.out / "loss.csv", m.state.rows)
    meta = run_record(m.config, m.out, m.state, m.ds, device, threads)
    now = time.perf_counter()
    meta["wall_time_s"] = round(m.state.elapsed_before + now - started, 3)
    loop = now - group.loop_started
    # In a group each step is one step of every member: steps_per_s is the group's rate.
    meta["steps_per_s"] = round((m.config.steps - m.first_step) / loop, 2) if loop else None
    meta["resumed_from_step"] = m.first_step
    if len(group.formed) > 1:
        meta["trainer"] = {
            "kind": "group",
            "members": len(group.formed),
            "group": list(group.formed),
        }
    if group.cuda_graphs:
        meta["cuda_graph"] = group.graph_note or "not used (a run alone)"
    write_json(m.out / "run.json", meta)
    shutil.rmtree(m.out / "checkpoints", ignore_errors=True)
    return meta


def train_loop(
    group: Group,
    run: tuple[str, int, float],
    progress: bool | None,
    on_step: Callable[[int], None] | None,
) -> tuple[dict[str, dict], list[str]]:
    """Steps until every member has left: each step, log, check, save on the members'
    schedules, then let the finished and the diverged leave.
    Returns ({run_id: run.json} of the finished, [message] of the diverged)."""
    finished, diverged = {}, []
    show = sys.stderr.isatty() if progress is None else progress
    label = group.members[0].config.run_id if len(group.members) == 1 else None
    bar = tqdm(
        total=max(m.config.steps for m in group.members), initial=group.step, disable=not show,
        desc=label or f"group of {len(group.members)}", unit="step", dynamic_ncols=True,
        leave=False,
    )  # fmt: skip
    for m in group.members:
        m.state.model.train()
    log_every = group.members[0].config.log_every
    while True:
        group_step(group)
        bar.update(1)
        step, members = group.step, group.members
        ends = [r for r, m in enumerate(members) if m.config.steps == step]
        due = [r for r, m in enumerate(members) if save_due(m.config, step)]
        if step % log_every == 0:
            log_rows(group)
            bar.set_postfix(loss=f"{members[0].state.rows[-1]['loss']:.4g}")
        bad: set[int] = set()
        # The host synchronisations: every step for a run alone (as cheap as its loss), in a
        # group only when a row is logged, something is saved or a member ends.
        if len(members) == 1 or due or step % log_every == 0:
            first_bad = group.first_bad.tolist()
            bad = {r for r, s in enumerate(first_bad) if s >= 0}
            diverged += [
                diverged_message(members[r], first_bad[r], float(group.bad_loss[r])) for r in bad
            ]
        due = [r for r in due if r not in bad]
        sync_members(group, due)
        for r in due:
            save_on_schedule(members[r].config, members[r].state, members[r].out, run[2])
        if on_step is not None:
            on_step(step)
        for r in (r for r in ends if r not in bad):
            finished[members[r].config.run_id] = finish_member(group, r, run)
        keep = [r for r in range(len(members)) if r not in bad | set(ends)]
        if not keep:
            break
        if len(keep) < len(members):
            group = restack(group, keep)
    bar.close()
    return finished, diverged


# ---------------------------------------------------------------------------- entry points


def check_group(configs: list[RunConfig], outs: list[Path]) -> None:
    """ConfigError unless the runs can train as one group and have distinct folders."""
    if not configs:
        raise ConfigError("a group needs at least one run")
    for c in configs:
        method_of(c)  # an unknown method is refused before anything is written
    keys = {group_key(c) for c in configs}
    if len(keys) > 1:
        differ = sorted({f for k in keys for f, v in k if v != getattr(configs[0], f, None)})
        raise ConfigError(
            f"runs of one group must agree on {', '.join(group_fields(configs[0]))}; got "
            f"{len(keys)} different architectures (they differ in {', '.join(differ)})"
        )
    if len({Path(o).resolve() for o in outs}) != len(outs):
        raise ConfigError("two runs of a group would write into the same folder")


def train_runs(
    configs: list[RunConfig],
    outs: list[Path],
    device: str = "auto",
    threads: int = 1,
    progress: bool | None = None,
    on_step: Callable[[int], None] | None = None,
    force: bool = False,
    cuda_graphs: bool = False,
) -> list[dict[str, Any]]:
    """Train ``configs`` (or resume them) as one group; return their ``run.json`` contents.

    A run already complete with the same stage hash is not retrained; ``force`` retrains
    from step 0. ``on_step(step)`` is called after every step (tests use it to interrupt).
    ``cuda_graphs``: replay a group's step as a CUDA graph (:mod:`repro.learn.graphs`; on
    the CPU nothing changes); run.json's 'cuda_graph' says whether it was captured.
    ``progress=None`` shows a bar only on a terminal. Raises TrainingDiverged naming every
    diverged run once the others are done.
    """
    outs = [Path(o) for o in outs]
    check_group(configs, outs)
    if force:
        for out in outs:
            forget_finished(out)
    metas = {
        c.run_id: {**read_json(out / "run.json"), "cached": True}
        for c, out in zip(configs, outs, strict=True)
        if is_complete(out, c)
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
            group = Group.of([m for m in members if m.state.step == step], cuda_graphs)
            done, bad = train_loop(group, run, progress, on_step)
            metas.update(done)
            diverged += bad
        if diverged:
            raise TrainingDiverged("; ".join(diverged))
    return [metas[c.run_id] for c in configs]


def train(
    config: RunConfig,
    out: Path,
    device: str = "auto",
    threads: int = 1,
    progress: bool | None = None,
    on_step: Callable[[int], None] | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Train one run (or resume it) and return its ``run.json`` contents; as
    :func:`train_runs` with one member."""
    return train_runs([config], [out], device, threads, progress, on_step, force)[0]
