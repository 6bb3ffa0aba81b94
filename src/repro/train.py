"""One trainer for both methods, with atomic checkpoints and exact resume.

A run writes to ``results/runs/<regime>/<config>__s<seed>/``:

- ``config.json``  the configuration and its hash (written first)
- ``checkpoints/last.pt``  model, optimizer, generator state and loss log, every
  ``checkpoint_every`` steps (removed once the run is complete)
- ``snapshots/step_<k>.pt``  weights every ``snapshot_every`` steps
- ``model.pt``  the final weights; ``loss.csv``  the loss log
- ``run.json``  written last: seeds, versions, commit, threads, device, timings,
  file hashes. Its presence with the same configuration hash means "complete".

Every file is written atomically, so a run killed at any point resumes from
its last checkpoint and ends with exactly the weights of an uninterrupted run.
"""

from __future__ import annotations

import hashlib
import io
import math
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from repro.config import RunConfig, config_hash
from repro.data import make_dataset
from repro.fingerprint import code_hash, library_versions
from repro.io import atomic_write_bytes, atomic_write_text, read_json, write_json
from repro.losses import TrajectoryTensors, infonce_loss, supervised_loss
from repro.models import build_model
from repro.optim import FusedAdam
from repro.paths import PROJECT, run_dir


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the message names the run and the step."""


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' picks CUDA when present, else the CPU; 'cpu', 'cuda', 'cuda:1' are taken as given."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(f"--device: unknown device {name!r}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"--device {name}: CUDA is not available on this machine")
    return device


def run_seeds(seed: int) -> tuple[int, int]:
    """(initialisation seed, batch-sampling seed) derived from the run's seed."""
    init, batches = np.random.SeedSequence([seed, 0x7472]).generate_state(2, dtype=np.uint64)
    return int(init), int(batches)


def stage_hash(config: RunConfig) -> str:
    """What a finished run must match to be reused: configuration, training code, libraries."""
    return f"{config_hash(config)}-{code_hash('train')}"


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=PROJECT, capture_output=True, text=True, timeout=10
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def is_complete(out: Path, config: RunConfig) -> bool:
    """True when ``out`` holds a finished run of exactly this configuration."""
    meta_path = out / "run.json"
    if not meta_path.exists() or not (out / "model.pt").exists():
        return False
    try:
        meta = read_json(meta_path)
    except ValueError:
        return False
    return meta.get("stage_hash") == stage_hash(config) and meta.get("status") == "complete"


def _save_torch(path: Path, obj: Any) -> None:
    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write_bytes(path, buf.getvalue())


_CKPT_MAGIC = b"repro-ckpt-v1\n"


def _save_checkpoint(path: Path, state: dict) -> None:
    """Checkpoint = magic line + sha256 of the payload + torch-serialised payload, atomically."""
    buf = io.BytesIO()
    torch.save(state, buf)
    payload = buf.getvalue()
    atomic_write_bytes(path, _CKPT_MAGIC + hashlib.sha256(payload).digest() + payload)


def _loss_fn(config: RunConfig) -> Callable:
    if config.method == "supervised":
        return supervised_loss
    return lambda model, batch: infonce_loss(model, batch, config.direction)


def _sampler(config: RunConfig, tensors: TrajectoryTensors) -> Callable:
    if config.method == "supervised":
        return lambda g: tensors.sample_pairs(config.batch_size, g)
    return lambda g: tensors.sample_future(config.batch_size, config.gamma, config.repeat, g)


def _write_loss_csv(path: Path, rows: list[dict[str, float]]) -> None:
    if not rows:
        atomic_write_text(path, "step,loss\n")
        return
    keys = list(rows[0])
    lines = [",".join(keys)] + [",".join(repr(float(r[k])) for k in keys) for r in rows]
    atomic_write_text(path, "\n".join(lines) + "\n")


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

    A run already complete with the same configuration hash is not retrained.
    ``on_step(step)`` is called after every optimizer step (tests use it to
    interrupt a run). ``progress=None`` shows a bar only on a terminal.
    ``force`` retrains from step 0 even if the run is complete or resumable.
    """
    out = Path(out) if out is not None else run_dir(config.run_id)
    chash = stage_hash(config)  # checkpoints of another configuration or code are not resumed
    if force:
        shutil.rmtree(out / "checkpoints", ignore_errors=True)
        (out / "run.json").unlink(missing_ok=True)
    if is_complete(out, config):
        meta = read_json(out / "run.json")
        meta["cached"] = True
        return meta
    torch.set_num_threads(threads)
    dev = resolve_device(device)
    start_time = time.perf_counter()

    ds = make_dataset(
        config.dataset,
        config.n_trajectories,
        config.seed,
        config.size,
        config.regime,
        config.loop_prob,
    )
    tensors = TrajectoryTensors.from_dataset(ds, dev, with_walls=config.regime == "procedural")
    init_seed, batch_seed = run_seeds(config.seed)
    model = build_model(config, torch.Generator().manual_seed(init_seed)).to(dev)
    # Adam in one fused kernel call per step (bit-identical to torch.optim.Adam(fused=True)).
    opt = FusedAdam(model.parameters(), lr=config.lr)
    gen = torch.Generator(device=dev).manual_seed(batch_seed)
    loss_fn, sample = _loss_fn(config), _sampler(config, tensors)

    step, rows, elapsed_before = 0, [], 0.0
    ckpt_path = out / "checkpoints" / "last.pt"
    state = _load_checkpoint(ckpt_path, chash)
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        gen.set_state(state["generator"])
        step, rows, elapsed_before = state["step"], state["rows"], state["elapsed"]
    else:
        # A stale or missing run: start clean so no file of another configuration survives.
        for stale in ("checkpoints", "snapshots"):
            shutil.rmtree(out / stale, ignore_errors=True)
        for stale in ("run.json", "model.pt", "loss.csv", "metrics.json"):
            (out / stale).unlink(missing_ok=True)
    write_json(out / "config.json", {"config": config.to_dict(), "stage_hash": chash})

    show = sys.stderr.isatty() if progress is None else progress
    from tqdm import tqdm

    bar = tqdm(
        total=config.steps,
        initial=step,
        disable=not show,
        desc=config.run_id,
        unit="step",
        dynamic_ncols=True,
        leave=False,
    )
    window: dict[str, float] = {}
    t_loop = time.perf_counter()
    steps_at_start = step
    model.train()
    while step < config.steps:
        batch = sample(gen)
        loss, info = loss_fn(model, batch)
        value = loss.item()
        if not math.isfinite(value):
            bar.close()
            last = step - step % config.checkpoint_every
            raise TrainingDiverged(
                f"{config.run_id} ({config.name}, {config.regime}): loss is {value} at step "
                f"{step + 1}; the last good checkpoint (step {last}) is kept in {ckpt_path}"
            )
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        window["loss"] = window.get("loss", 0.0) + value
        for k, v in info.items():
            window[k] = window.get(k, 0.0) + float(v)
        if step % config.log_every == 0:
            rows.append({"step": step, **{k: v / config.log_every for k, v in window.items()}})
            window = {}
            bar.set_postfix(loss=f"{rows[-1]['loss']:.4g}")
        bar.update(1)
        if step % config.snapshot_every == 0 or step == config.steps:
            _save_torch(out / "snapshots" / f"step_{step:07d}.pt", model.state_dict())
        if step % config.checkpoint_every == 0 and step < config.steps:
            elapsed = elapsed_before + time.perf_counter() - start_time
            _save_checkpoint(
                ckpt_path,
                {
                    "stage_hash": chash,
                    "step": step,
                    "rows": rows,
                    "elapsed": elapsed,
                    "model": model.state_dict(),
                    "optimizer": opt.state_dict(),
                    "generator": gen.get_state(),
                },
            )
        if on_step is not None:
            on_step(step)
    bar.close()
    loop_time = time.perf_counter() - t_loop

    _save_torch(out / "model.pt", model.state_dict())
    _write_loss_csv(out / "loss.csv", rows)
    meta = {
        "status": "complete",
        "run_id": config.run_id,
        "config": config.to_dict(),
        "config_hash": config_hash(config),
        "stage_hash": chash,
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
        "device": str(dev),
        "wall_time_s": round(elapsed_before + time.perf_counter() - start_time, 3),
        "steps_per_s": round((step - steps_at_start) / loop_time, 2) if loop_time > 0 else None,
        "resumed_from_step": steps_at_start,
        "final_loss": rows[-1]["loss"] if rows else value,
    }
    write_json(out / "run.json", meta)
    shutil.rmtree(out / "checkpoints", ignore_errors=True)
    return meta


def _load_checkpoint(path: Path, chash: str) -> dict | None:
    """The checkpoint at ``path`` if it is intact and belongs to this run, else None.

    A truncated or edited checkpoint fails its sha256 and is not used: the run
    says so and starts over (a checkpoint of another configuration or code is
    ignored silently).
    """
    if not path.exists():
        return None
    data = path.read_bytes()
    head = len(_CKPT_MAGIC)
    payload = data[head + 32 :]
    if data[:head] != _CKPT_MAGIC or hashlib.sha256(payload).digest() != data[head : head + 32]:
        print(
            f"warning: checkpoint {path} is damaged (hash mismatch); starting the run over",
            file=sys.stderr,
        )
        return None
    state = torch.load(io.BytesIO(payload), map_location="cpu", weights_only=False)
    if not isinstance(state, dict) or state.get("stage_hash") != chash:
        return None
    return state


def load_model(
    run: Path, device: str = "cpu", snapshot: str | None = None
) -> tuple[torch.nn.Module, RunConfig]:
    """The trained model of a finished run folder and its configuration.

    ``snapshot`` (a file name under ``snapshots/``, e.g. 'step_0005000.pt') loads
    those weights instead of the final ones; every file is checked against the
    sha256 that ``run.json`` recorded for it.
    """
    from repro.config import config_from_dict

    run = Path(run)
    if not (run / "model.pt").exists() or not (run / "run.json").exists():
        raise ValueError(f"run folder {run} has no finished model (model.pt and run.json)")
    meta = read_json(run / "run.json")
    config = config_from_dict(meta["config"])
    model = build_model(config, torch.Generator().manual_seed(0))
    if snapshot is None:
        path, want = run / "model.pt", meta.get("model_sha256")
    else:
        path, want = run / "snapshots" / snapshot, meta.get("snapshots_sha256", {}).get(snapshot)
    if not path.exists():
        raise ValueError(f"{path} is missing")
    try:
        weights = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise ValueError(f"{path} is unreadable ({e})") from None
    if sha256_file(path) != want:
        raise ValueError(f"{path} does not match the hash recorded in run.json")
    model.load_state_dict(weights)
    model.eval()
    return model.to(resolve_device(device)), config
