"""One trainer for every registered method, with atomic checkpoints and exact resume.

:func:`train` reads top to bottom: skip a finished run, build the data, restore
the last checkpoint or start fresh (:func:`restore_or_start`), run the loop
(:func:`train_loop`), save the weights and write the run record
(:func:`run_record`). The files of a run folder are described in
:mod:`repro.learn.runfiles`. A run killed at any point resumes from its last
checkpoint and ends with exactly the weights of an uninterrupted run.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from repro.config import RunConfig, config_hash
from repro.core.data import Dataset, make_dataset
from repro.errors import TrainingDiverged
from repro.fingerprint import library_versions
from repro.io import read_json, write_json
from repro.learn.batches import TrajectoryTensors
from repro.learn.methods import build_model, method_of
from repro.learn.optim import FusedAdam
from repro.learn.runfiles import (
    clear_stale,
    forget_finished,
    is_complete,
    load_checkpoint,
    resolve_device,
    save_checkpoint,
    save_weights,
    sha256_file,
    stage_hash,
    write_loss_csv,
)
from repro.paths import PROJECT, run_dir


@dataclass
class RunState:
    """What a run carries from step to step, and what a checkpoint saves."""

    model: torch.nn.Module
    opt: FusedAdam
    gen: torch.Generator  # the batch-sampling stream
    chash: str  # the stage hash: a checkpoint of other code or settings is never resumed
    step: int = 0  # optimizer steps taken
    rows: list[dict[str, float]] = field(default_factory=list)  # the loss log
    elapsed_before: float = 0.0  # wall seconds spent by earlier (interrupted) processes
    last_loss: float = float("nan")  # loss of the latest step


def run_seeds(seed: int) -> tuple[int, int]:
    """(initialisation seed, batch-sampling seed) derived from the run's seed."""
    init, batches = np.random.SeedSequence([seed, 0x7472]).generate_state(2, dtype=np.uint64)
    return int(init), int(batches)


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=PROJECT, capture_output=True, text=True, timeout=10
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def train(
    config: RunConfig,
    out: Path | None = None,
    device: str = "auto",
    threads: int = 1,
    progress: bool | None = None,
    on_step: Callable[[int], None] | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Train ``config`` (or resume it) and return its ``run.json`` contents.

    A run already complete with the same stage hash is not retrained; ``force``
    retrains from step 0. ``on_step(step)`` is called after every optimizer step
    (tests use it to interrupt a run). ``progress=None`` shows a bar only on a terminal.
    """
    out = Path(out) if out is not None else run_dir(config.run_id)
    method_of(config)  # an unknown method is refused before anything is written
    if force:
        forget_finished(out)
    if is_complete(out, config):
        return {**read_json(out / "run.json"), "cached": True}
    torch.set_num_threads(threads)
    dev = resolve_device(device)
    started = time.perf_counter()
    ds = make_dataset(
        config.dataset, config.n_trajectories, config.seed, config.size, config.regime,
        config.loop_prob,
    )  # fmt: skip
    tensors = TrajectoryTensors.from_dataset(ds, dev, with_walls=config.regime == "procedural")
    state = restore_or_start(config, out, dev)
    first_step, t_loop = state.step, time.perf_counter()
    train_loop(config, state, tensors, out, started, progress, on_step)
    loop_time = time.perf_counter() - t_loop

    save_weights(out / "model.pt", state.model)
    write_loss_csv(out / "loss.csv", state.rows)
    meta = run_record(config, out, state, ds, str(dev), threads)
    meta["wall_time_s"] = round(state.elapsed_before + time.perf_counter() - started, 3)
    meta["steps_per_s"] = round((state.step - first_step) / loop_time, 2) if loop_time else None
    meta["resumed_from_step"] = first_step
    write_json(out / "run.json", meta)
    shutil.rmtree(out / "checkpoints", ignore_errors=True)
    return meta


def restore_or_start(config: RunConfig, out: Path, dev: torch.device) -> RunState:
    """The state of the last intact checkpoint of this very run, or a fresh start at step 0
    (after clearing every file of an earlier run). Writes ``config.json`` either way."""
    init_seed, batch_seed = run_seeds(config.seed)
    model = build_model(config, torch.Generator().manual_seed(init_seed)).to(dev)
    # Adam in one fused kernel call per step (bit-identical to torch.optim.Adam(fused=True)).
    state = RunState(
        model=model,
        opt=FusedAdam(model.parameters(), lr=config.lr),
        gen=torch.Generator(device=dev).manual_seed(batch_seed),
        chash=stage_hash(config),
    )
    saved = load_checkpoint(out / "checkpoints" / "last.pt", state.chash)
    if saved is not None:
        state.model.load_state_dict(saved["model"])
        state.opt.load_state_dict(saved["optimizer"])
        state.gen.set_state(saved["generator"])
        state.step, state.rows = saved["step"], saved["rows"]
        state.elapsed_before = saved["elapsed"]
    else:
        clear_stale(out)
    write_json(out / "config.json", {"config": config.to_dict(), "stage_hash": state.chash})
    return state


def train_loop(
    config: RunConfig,
    state: RunState,
    tensors: TrajectoryTensors,
    out: Path,
    started: float,
    progress: bool | None,
    on_step: Callable[[int], None] | None,
) -> None:
    """Optimizer steps from ``state.step`` to ``config.steps``: sample, loss, backward, Adam;
    then log, snapshot and checkpoint on their schedules."""
    method = method_of(config)
    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(
        total=config.steps, initial=state.step, disable=not show, desc=config.run_id,
        unit="step", dynamic_ncols=True, leave=False,
    )  # fmt: skip
    window: dict[str, float] = {}  # sums of the loss and diagnostics since the last log row
    state.model.train()
    while state.step < config.steps:
        batch = method.sample(tensors, config, state.gen)
        loss, info = method.loss(state.model, batch, config)
        state.last_loss = loss.item()
        if not math.isfinite(state.last_loss):
            bar.close()
            raise diverged(config, state, out)
        state.opt.zero_grad()
        loss.backward()
        state.opt.step()
        state.step += 1

        for k, v in {"loss": state.last_loss, **info}.items():
            window[k] = window.get(k, 0.0) + float(v)
        if state.step % config.log_every == 0:
            means = {k: v / config.log_every for k, v in window.items()}
            state.rows.append({"step": state.step, **means})
            window = {}
            bar.set_postfix(loss=f"{state.rows[-1]['loss']:.4g}")
        bar.update(1)
        save_on_schedule(config, state, out, started)
        if on_step is not None:
            on_step(state.step)
    bar.close()


def save_on_schedule(config: RunConfig, state: RunState, out: Path, started: float) -> None:
    """A weight snapshot every ``snapshot_every`` steps (and at the end); a resumable
    checkpoint every ``checkpoint_every`` steps before the end."""
    step = state.step
    if step % config.snapshot_every == 0 or step == config.steps:
        save_weights(out / "snapshots" / f"step_{step:07d}.pt", state.model)
    if step % config.checkpoint_every == 0 and step < config.steps:
        save_checkpoint(
            out / "checkpoints" / "last.pt",
            {
                "stage_hash": state.chash,
                "step": step,
                "rows": state.rows,
                "elapsed": state.elapsed_before + time.perf_counter() - started,
                "model": state.model.state_dict(),
                "optimizer": state.opt.state_dict(),
                "generator": state.gen.get_state(),
            },
        )


def diverged(config: RunConfig, state: RunState, out: Path) -> TrainingDiverged:
    last = state.step - state.step % config.checkpoint_every
    return TrainingDiverged(
        f"{config.run_id} ({config.name}, {config.regime}): loss is {state.last_loss} at step "
        f"{state.step + 1}; the last good checkpoint (step {last}) is kept in "
        f"{out / 'checkpoints' / 'last.pt'}"
    )


def run_record(
    config: RunConfig, out: Path, state: RunState, ds: Dataset, device: str, threads: int
) -> dict[str, Any]:
    """The ``run.json`` of a finished run: configuration, seeds, hashes, versions, where it ran.
    (The caller adds the timings.)"""
    init_seed, batch_seed = run_seeds(config.seed)
    return {
        "status": "complete",
        "run_id": config.run_id,
        "config": config.to_dict(),
        "config_hash": config_hash(config),
        "stage_hash": state.chash,
        "seed": config.seed,
        "derived_seeds": {"init": init_seed, "batches": batch_seed},
        "dataset_sha256": ds.content_hash(),
        "model_sha256": sha256_file(out / "model.pt"),
        "snapshots_sha256": {
            p.name: sha256_file(p) for p in sorted((out / "snapshots").glob("step_*.pt"))
        },
        "versions": library_versions(),
        "git_commit": git_commit(),
        "threads": threads,
        "device": device,
        # Where it ran; outside every hashed file, so the results' bytes do not depend on it.
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
        "final_loss": state.rows[-1]["loss"] if state.rows else state.last_loss,
    }
