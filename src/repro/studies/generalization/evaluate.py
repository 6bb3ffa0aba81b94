"""Score a generalization-study run's snapshots on unseen and on training mazes.

For every snapshot step on the study's schedule (:meth:`Generalization.schedule`), the
weights saved at that step are scored, with the evaluation's own functions
(:mod:`repro.evaluation.evaluate`), on

- ``unseen_mazes``: the frozen test set (full-test and 10-trajectory Spearman, all-pairs
  correlation) and the frozen planning instances (search and greedy, solved rate and mean
  expanded states): the same data every run of the main study is judged on;
- ``train_mazes``: a frozen sample of the run's own training trajectories
  (:func:`repro.studies.generalization.runs.train_sample`): full-test Spearman and all-pairs;

beside the training loss logged at that step. The Manhattan and oracle heuristics are
scored the same way (``baselines``), so every curve has its levels on the same mazes.
The result, ``generalization.json`` beside the run, carries a content hash and the keys
it was computed from (weights, settings, code), and is recomputed when any changes.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from repro import cachekey
from repro.cachekey import Key
from repro.config import EvalConfig, Generalization, config_hash
from repro.core.data import Dataset
from repro.core.heuristics import BaselineScorer
from repro.core.metrics import trajectory_spearman
from repro.errors import BadInput
from repro.evaluation.evaluate import (
    all_pairs_metric,
    eval_dataset,
    snapshot_metrics,
    trajectory_predictions,
)
from repro.io import read_json, with_content_hash, write_json
from repro.learn.runfiles import load_model, run_modules
from repro.learn.scorer import ModelScorer
from repro.studies.generalization.runs import OUTPUT, train_sample

# The baselines scored on the same mazes: the levels the study draws (oracle, Manhattan) and
# the references of the learned-model gate its claims use (constant, oracle).
LEVELS = ("oracle", "manhattan", "constant")


def snapshot_name(step: int) -> str:
    """The weight file training saves at ``step`` (see repro.learn.train.save_on_schedule)."""
    return f"step_{step:07d}.pt"


def mazes_metrics(
    scorer, test: Dataset, plan: Dataset, sample: Dataset, ev: EvalConfig
) -> dict[str, dict[str, float]]:
    """One scorer on unseen mazes (test and planning sets) and on training mazes (the sample)."""
    unseen = snapshot_metrics(scorer, test, plan, ev)
    unseen["all_pairs"] = all_pairs_metric(scorer, test, ev)
    rho, _ = trajectory_spearman(trajectory_predictions(scorer, sample), sample.lengths)
    train = {"spearman_full": float(rho.mean()), "all_pairs": all_pairs_metric(scorer, sample, ev)}
    return {"unseen_mazes": unseen, "train_mazes": train}


def logged_loss(run: Path) -> dict[int, float]:
    """The loss log of a run as step -> mean loss over the ``log_every`` steps before it."""
    with open(run / "loss.csv", newline="") as f:
        return {int(float(r["step"])): float(r["loss"]) for r in csv.DictReader(f)}


def _study_key(g: Generalization) -> str:
    """Hash of the study settings the evaluation depends on (not its seeds or table)."""
    return config_hash(
        {"schedule": g.schedule(), "train_sample": g.train_sample, "sample_seed": g.sample_seed}
    )


def _key(run: Path, ev: EvalConfig, g: Generalization) -> Key:
    """What a run's generalization.json must match to be reused: weights, settings, code."""
    meta = read_json(run / "run.json")
    saved = meta.get("snapshots_sha256") or {}
    names = [snapshot_name(s) for s in g.schedule()]
    missing = [n for n in names if n not in saved]
    if missing:
        raise BadInput(f"{run} has no snapshot {missing[0]} (the study's schedule needs it)")
    return cachekey.make(
        "generalization",
        run_modules(meta),
        eval=config_hash(ev),
        settings=_study_key(g),
        model=meta["model_sha256"],
        snapshots=cachekey.of_value({n: saved[n] for n in names}),
    )


def stale(run: Path, ev: EvalConfig, g: Generalization) -> list[str]:
    """Why ``run/generalization.json`` must be (re)computed: [] when it is intact and made
    under the current key (the run's weights, the settings and the code)."""
    run = Path(run)
    return cachekey.stale_result(run / OUTPUT, lambda: _key(run, ev, g))


def up_to_date(run: Path, ev: EvalConfig, g: Generalization) -> bool:
    """True when ``run/generalization.json`` is intact and matches the run's weights, the
    settings and the code."""
    return not stale(run, ev, g)


def evaluate_study_run(
    run: Path,
    ev: EvalConfig,
    g: Generalization,
    root: Path,
    device: str = "cpu",
    force: bool = False,
) -> dict[str, Any]:
    """Write ``generalization.json`` beside a finished study run (skipped if up to date),
    scored on the frozen sets of its results folder ``root``."""
    run = Path(run)
    _, config = load_model(run, device)  # BadInput if the run is not finished
    if not force and up_to_date(run, ev, g):
        return read_json(run / OUTPUT)
    key = _key(run, ev, g)
    test, plan = eval_dataset("test", config, ev, root), eval_dataset("plan", config, ev, root)
    sample = train_sample(config, g, root)
    loss = logged_loss(run)
    snapshots = []
    for step in g.schedule():
        model = load_model(run, device, snapshot_name(step))[0]
        scores = mazes_metrics(ModelScorer(model, config), test, plan, sample, ev)
        snapshots.append({"step": step, "loss": loss.get(step), **scores})
    result = {
        "run_id": config.run_id,
        "config": config.to_dict(),
        "eval_config": ev.to_dict(),
        "train_sample": {"n": len(sample), "seed": g.sample_seed},
        "key": key,
        "snapshots": snapshots,
        "baselines": {
            kind: mazes_metrics(BaselineScorer(kind), test, plan, sample, ev) for kind in LEVELS
        },
    }
    result = with_content_hash(result)  # an edited number is caught on the next run
    write_json(run / OUTPUT, result)
    return result
