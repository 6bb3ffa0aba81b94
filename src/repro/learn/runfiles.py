"""A run folder's files: checkpoints with a sha256, weights, the loss log, completeness.

A run writes to ``results/runs/<regime>/<config><variant>__s<seed>/``:

- ``config.json``  the configuration and its stage hash (written first)
- ``checkpoints/last.pt``  model, optimizer, generator state and loss log, every
  ``checkpoint_every`` steps, and ``checkpoints/prev.pt`` the one before it (both
  removed once the run is complete)
- ``snapshots/step_<k>.pt``  weights every ``snapshot_every`` steps
- ``model.pt``  the final weights; ``loss.csv``  the loss log
- ``run.json``  written last: seeds, versions, commit, threads, device, timings,
  file hashes. Its presence with the same stage hash means "complete".

Every file is written atomically (temporary file, then rename).
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from repro import cachekey
from repro.cachekey import Key
from repro.config import RunConfig, config_from_dict, config_hash
from repro.core.data import Dataset
from repro.errors import BadInput
from repro.fingerprint import library_versions
from repro.io import atomic_write_bytes, atomic_write_text, read_json
from repro.learn.methods import build_model, method_module
from repro.paths import PROJECT

_CKPT_MAGIC = b"repro-ckpt-v1\n"


def run_seeds(seed: int) -> tuple[int, int]:
    """(initialisation seed, batch-sampling seed) derived from the run's seed."""
    init, batches = np.random.SeedSequence([seed, 0x7472]).generate_state(2, dtype=np.uint64)
    return int(init), int(batches)


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' picks CUDA when present, else the CPU; 'cpu', 'cuda', 'cuda:1' are taken as given."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise BadInput(f"--device: unknown device {name!r}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise BadInput(f"--device {name}: CUDA is not available on this machine")
    return device


def train_key(config: RunConfig) -> Key:
    """What a finished run must match to be reused: its configuration and the training
    code and libraries (:mod:`repro.cachekey`)."""
    return cachekey.make("train", (method_module(config),), config=config_hash(config))


def run_modules(meta: dict[str, Any]) -> tuple[str, ...]:
    """The modules a finished run's scores depend on by name, from its run.json ``meta``: its
    method's module (an evaluation key names it, like the training key)."""
    return (method_module(config_from_dict(meta["config"])),)


def stage_hash(config: RunConfig) -> str:
    """The digest of :func:`train_key`, which a checkpoint records."""
    return cachekey.digest(train_key(config))


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def stale(out: Path, config: RunConfig) -> list[str]:
    """Why ``out`` does not hold a finished run of exactly this configuration and code
    ([] when it does)."""
    meta_path = out / "run.json"
    if not meta_path.exists():
        started = (out / "checkpoints" / "last.pt").exists()
        return ["unfinished (it resumes from its checkpoint)" if started else "not trained"]
    if not (out / "model.pt").exists():
        return ["model.pt is missing"]
    try:
        meta = read_json(meta_path)
    except BadInput:
        return ["run.json is unreadable"]
    if meta.get("status") != "complete":
        return ["unfinished"]
    return cachekey.changes(meta.get("key"), train_key(config))


def is_complete(out: Path, config: RunConfig) -> bool:
    """True when ``out`` holds a finished run of exactly this configuration and code."""
    return not stale(out, config)


def forget_finished(out: Path) -> None:
    """Make ``out`` look unfinished (``--force``): no checkpoint to resume, no run.json."""
    shutil.rmtree(out / "checkpoints", ignore_errors=True)
    (out / "run.json").unlink(missing_ok=True)


def clear_stale(out: Path) -> None:
    """Remove every file of an earlier run, so none of another configuration survives."""
    for stale in ("checkpoints", "snapshots"):
        shutil.rmtree(out / stale, ignore_errors=True)
    for stale in ("run.json", "model.pt", "loss.csv", "metrics.json"):
        (out / stale).unlink(missing_ok=True)


def save_weights(path: Path, model: torch.nn.Module) -> None:
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    atomic_write_bytes(path, buf.getvalue())


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Checkpoint = magic line + sha256 of the payload + torch-serialised payload, atomically."""
    buf = io.BytesIO()
    torch.save(state, buf)
    payload = buf.getvalue()
    atomic_write_bytes(path, _CKPT_MAGIC + hashlib.sha256(payload).digest() + payload)


def load_checkpoint(path: Path, chash: str) -> dict | None:
    """The checkpoint at ``path`` if it is intact and belongs to this run, else None.

    A truncated or edited checkpoint fails its sha256 and is not used: the run
    says so and resumes from the one before it (``prev.pt``) or starts over (a
    checkpoint of another configuration or code is ignored silently).
    """
    if not path.exists():
        return None
    data = path.read_bytes()
    head = len(_CKPT_MAGIC)
    payload = data[head + 32 :]
    if data[:head] != _CKPT_MAGIC or hashlib.sha256(payload).digest() != data[head : head + 32]:
        print(
            f"warning: checkpoint {path} is damaged (hash mismatch) and is not used; the run "
            "resumes from its previous checkpoint, or starts over",
            file=sys.stderr,
        )
        return None
    # weights_only: tensors and plain containers only. A pickle that would build any other
    # object (and so could run code) is refused, whoever wrote its matching hash.
    try:
        state = torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise BadInput(
            f"checkpoint {path} is not tensors and plain data, so it is not loaded (a pickle "
            f"could run code); delete it to start the run over ({reason[:160]})"
        ) from None
    if not isinstance(state, dict) or state.get("key") != chash:
        return None
    return state


def write_loss_csv(path: Path, rows: list[dict[str, float]]) -> None:
    if not rows:
        atomic_write_text(path, "step,loss\n")
        return
    keys = list(rows[0])
    lines = [",".join(keys)] + [",".join(repr(float(r[k])) for k in keys) for r in rows]
    atomic_write_text(path, "\n".join(lines) + "\n")


def load_model(
    run: Path, device: str = "cpu", snapshot: str | None = None
) -> tuple[torch.nn.Module, RunConfig]:
    """The trained model of a finished run folder and its configuration.

    ``snapshot`` (a file name under ``snapshots/``, e.g. 'step_0005000.pt') loads
    those weights instead of the final ones; every file is checked against the
    sha256 that ``run.json`` recorded for it.
    """
    run = Path(run)
    if not (run / "model.pt").exists() or not (run / "run.json").exists():
        raise BadInput(f"run folder {run} has no finished model (model.pt and run.json)")
    meta = read_json(run / "run.json")
    config = config_from_dict(meta["config"])
    model = build_model(config, torch.Generator().manual_seed(0))
    if snapshot is None:
        path, want = run / "model.pt", meta.get("model_sha256")
    else:
        path, want = run / "snapshots" / snapshot, meta.get("snapshots_sha256", {}).get(snapshot)
    if not path.exists():
        raise BadInput(f"{path} is missing")
    try:
        weights = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise BadInput(f"{path} is unreadable ({e})") from None
    if sha256_file(path) != want:
        raise BadInput(f"{path} does not match the hash recorded in run.json")
    model.load_state_dict(weights)
    model.eval()
    return model.to(resolve_device(device)), config


def git_commit() -> str:
    """The source checkout's commit, or 'unknown' (an installed package has none)."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=PROJECT, capture_output=True, text=True, timeout=10
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def run_record(config: RunConfig, out: Path, state, ds: Dataset, device: str, threads: int) -> dict:
    """The ``run.json`` of a finished run: configuration, seeds, hashes, versions, where it ran.
    ``state``: the run's :class:`repro.learn.train.RunState`. (The caller adds the timings.)"""
    init_seed, batch_seed = run_seeds(config.seed)
    return {
        "status": "complete",
        "run_id": config.run_id,
        "config": config.to_dict(),
        "config_hash": config_hash(config),
        "key": train_key(config),
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
