"""Collect every run's ``metrics.json`` and the baselines into one summary.

``results/summary.json`` holds, per regime and configuration, the mean, spread
and per-seed values of every metric (those of metrics.json, and each run's
``loss_improvement`` and its noise ``loss_improvement_se`` from its loss.csv), the
seed-0 figure data, the loss curves,
the baselines, the paper's numbers (from ``repro/data/paper_numbers.json``) and the
claim verdicts. ``results/summary.csv`` is the same table flat. Figures and the
report are rendered from this file alone, read through the typed view of
:mod:`repro.results.view` (this module writes the layout; that one reads it).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from repro.config import ABLATIONS, REGIMES, RUN_CONFIGS, make_config
from repro.core.heuristics import BASELINES
from repro.core.maze import HALVES
from repro.core.metrics import hierarchical_bootstrap_ci, loss_improvement
from repro.core.planning import MODES, PLANNERS
from repro.core.trend import improvement_noise
from repro.errors import BadInput
from repro.io import atomic_write_text, read_json, write_json
from repro.paths import (
    baselines_file,
    paper_numbers_file,
    runs_dir,
    summary_file,
)
from repro.results.claims import check_claims
from repro.results.view import Aggregate, Summary, as_summary

# The range of the paper's 10-trajectory protocol the summary keeps: the 5th and 95th
# percentiles of its draws (spearman_paper_p5, spearman_paper_p95; C9 reads them).
PROTOCOL_PERCENTILES = (5, 95)


def flat_metrics(m: dict[str, Any]) -> dict[str, float | None]:
    """The scalar metrics of one metrics.json (or one baseline entry), flat."""
    out: dict[str, float | None] = {
        "spearman_paper": m["spearman"]["paper"]["mean"],
        "spearman_full": m["spearman"]["full"]["mean"],
        "spearman_full_low": m["spearman"]["full"]["ci_low"],
        "spearman_full_high": m["spearman"]["full"]["ci_high"],
        "n_constant_full": float(m["spearman"]["full"]["n_constant"]),
        "all_pairs": m["all_pairs_spearman"],
        "roughness": m["roughness"],
        "order_violations": m.get("order_violations"),
        "integer_gap": m["integer_gap"],
    }
    for half, bands in m.get("by_band", {}).items():  # Spearman by half and band of BFS distance
        for band, b in bands.items():
            out[f"spearman_{half}_{band}"] = b["spearman"]
            out[f"n_{half}_{band}"] = float(b["n"])
    walls = m.get("walls")
    if walls is not None:  # does it use the walls? (repro.core.walluse)
        out["walls_detour_spearman"] = walls["detour_spearman"]
        out["walls_shuffled_spearman_full"] = walls["shuffled_spearman_full"]
        out["n_plan_detour"] = float(walls["n_plan_detour"])
        for mode in MODES:
            out[f"{mode}_solved_detour"] = walls["plan_detour"][mode]["solved_rate"]
            out[f"{mode}_expanded_detour"] = walls["plan_detour"][mode]["mean_expanded"]
    for key, value in m.get("data", {}).items():  # a trained run's data measures
        out[f"data_{key}"] = value
    q = m["spearman"]["protocol_draws"]["quantiles"]  # at 0%, 1%, ..., 100%
    low, high = PROTOCOL_PERCENTILES
    out[f"spearman_paper_p{low}"], out[f"spearman_paper_p{high}"] = q[low], q[high]
    for name in PLANNERS:  # search, and greedy under each rule
        p = m["planning"][name]
        out[f"{name}_solved"] = p["solved_rate"]
        out[f"{name}_expanded"] = p["mean_expanded"]
        out[f"{name}_expanded_solved"] = p["mean_expanded_solved"]
        out[f"{name}_generated"] = p["mean_generated"]
        out[f"{name}_generated_solved"] = p["mean_generated_solved"]
        out[f"{name}_path_ratio"] = p["path_ratio"]
    for half in HALVES:  # start and goal in one quadrant, or not
        q = m["by_quadrant"][half]
        out[f"spearman_full_{half}"] = q["spearman_full"]
        out[f"n_test_{half}"] = float(q["n_test"])
        out[f"n_plan_{half}"] = float(q["n_plan"])
        for mode in MODES:
            out[f"{mode}_solved_{half}"] = q[mode]["solved_rate"]
            out[f"{mode}_expanded_{half}"] = q[mode]["mean_expanded"]
    return out


def training_length(metrics: list[dict[str, Any]]) -> dict[str, Any]:
    """Snapshot metrics over seeds: steps (k,) and, per metric, an aggregate per step."""
    rows = [m["training_length"] for m in metrics]
    steps = [r["step"] for r in rows[0]]
    if any([r["step"] for r in run] != steps for run in rows):
        raise BadInput("runs of one configuration saved snapshots at different steps")
    keys = [k for k in rows[0][0] if k != "step"]
    return {
        "steps": steps,
        "metrics": {
            k: [aggregate([run[i][k] for run in rows]) for i in range(len(steps))] for k in keys
        },
    }


def aggregate(values: list[float | None]) -> dict[str, Any]:
    """mean, std (ddof 1; 0 for one seed), min, max over seeds; None values are skipped."""
    v = np.array([x for x in values if x is not None], dtype=np.float64)
    if v.size == 0:
        return {"mean": None, "std": None, "min": None, "max": None, "values": values}
    return {
        "mean": float(v.mean()),
        "std": float(v.std(ddof=1)) if v.size > 1 else 0.0,
        "min": float(v.min()),
        "max": float(v.max()),
        "values": values,
    }


def read_loss_csv(path: Path) -> dict[str, list[float]]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise BadInput(f"{path} holds no loss rows")
    return {"step": [float(r["step"]) for r in rows], "loss": [float(r["loss"]) for r in rows]}


def loss_curves(curves: list[dict[str, list[float]]]) -> dict[str, list[float]]:
    """Loss log rows of several seeds (each as :func:`read_loss_csv` gives it): step, mean,
    min and max over seeds."""
    n = min(len(c["loss"]) for c in curves)
    losses = np.array([c["loss"][:n] for c in curves])  # (seeds, rows)
    return {
        "step": curves[0]["step"][:n],
        "mean": losses.mean(axis=0).tolist(),
        "min": losses.min(axis=0).tolist(),
        "max": losses.max(axis=0).tolist(),
    }


def seed_interval(metrics: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The full-test Spearman's mean over seeds with a 95% interval that resamples seeds,
    then trajectories within each (:func:`repro.core.metrics.hierarchical_bootstrap_ci`);
    None where a run's metrics.json has no per-trajectory values."""
    per_seed = [m["spearman"]["full"].get("per_trajectory") for m in metrics]
    if not all(per_seed):
        return None
    ev = metrics[0]["eval_config"]
    rng = np.random.default_rng(ev["bootstrap_seed"])
    mean, low, high = hierarchical_bootstrap_ci(per_seed, rng, n_resamples=ev["n_bootstrap"])
    return {"spearman_full": {"mean": mean, "low": low, "high": high, "n_seeds": len(per_seed)}}


def collect_config(root: Path, regime: str, name: str, seeds: list[int]) -> dict[str, Any] | None:
    """Aggregate one configuration (``name`` with any variant suffix, e.g.
    'contrastive-normal+gamma0.98') of the results folder ``root`` in one regime over seeds
    (None if no run finished)."""
    runs = [runs_dir(root) / regime / f"{name}__s{s}" for s in seeds]
    found = [(s, r) for s, r in zip(seeds, runs, strict=True) if (r / "metrics.json").exists()]
    if not found:
        return None
    metrics = [read_json(r / "metrics.json") for _, r in found]
    losses = [read_loss_csv(r / "loss.csv") for _, r in found]
    flats = [
        {
            **flat_metrics(m),
            "loss_improvement": loss_improvement(c["step"], c["loss"]),
            "loss_improvement_se": improvement_noise(c["step"], c["loss"]),
        }
        for m, c in zip(metrics, losses, strict=True)
    ]
    keys = list(flats[0])
    first = metrics[0]
    return {
        "seeds": [s for s, _ in found],
        "interval": seed_interval(metrics),
        "metrics": {k: aggregate([f[k] for f in flats]) for k in keys},
        "curves": {
            name: np.mean([m["planning"][name]["curve"] for m in metrics], axis=0).tolist()
            for name in PLANNERS
        },
        "protocol_quantiles": [m["spearman"]["protocol_draws"]["quantiles"] for m in metrics],
        "loss": loss_curves(losses),
        "training_length": training_length(metrics),
        "examples": {"seed": found[0][0], **first["figures"]},
        "config": first["config"],
        "eval_config": first["eval_config"],
    }


def collect_baselines(root: Path, seeds: list[int]) -> dict[str, Any]:
    """Baselines per regime: the procedural context, and the fixed contexts averaged over seeds.

    A fixed-regime baseline names the seeds of its contexts (its ``values`` follow them), so
    a seed's model can be set against the baseline on the same instances; the procedural
    context is one for every seed and names none."""
    data = read_json(baselines_file(root))
    out: dict[str, Any] = {}
    for regime in REGIMES:
        keyed = (
            {None: "procedural"} if regime == "procedural" else {s: f"fixed__s{s}" for s in seeds}
        )
        found = {s: data[k] for s, k in keyed.items() if k in data}
        if not found:
            continue
        entries = list(found.values())
        named = {} if regime == "procedural" else {"seeds": list(found)}
        out[regime] = {}
        for kind in BASELINES:
            flats = [flat_metrics(e[kind]) for e in entries]
            out[regime][kind] = {
                **named,
                "metrics": {k: aggregate([f[k] for f in flats]) for k in flats[0]},
                "curves": {
                    name: np.mean([e[kind]["planning"][name]["curve"] for e in entries], 0).tolist()
                    for name in PLANNERS
                },
                "protocol_quantiles": [
                    e[kind]["spearman"]["protocol_draws"]["quantiles"] for e in entries
                ],
            }
    return out


def collect_ablations(
    root: Path, ablation_seeds: list[int]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ablation studies: per study, its variants (configuration, overrides, run name);
    and per regime, each variant's aggregate (as for the paper's configurations)."""
    studies: dict[str, Any] = {}
    runs: dict[str, Any] = {}
    for study, variants in ABLATIONS.items():
        studies[study] = []
        for name, sets in variants:
            variant = make_config(name, "fixed", 0, "paper", sets).variant
            studies[study].append({"config": name, "sets": sets, "run": name + variant})
            for regime in REGIMES:
                entry = collect_config(root, regime, name + variant, ablation_seeds)
                if entry is not None:
                    runs.setdefault(regime, {})[name + variant] = entry
    return studies, runs


def build_summary(
    root: Path,
    scale: str,
    seeds: list[int],
    ablation_seeds: list[int] = (),
    blocks: Mapping[str, Callable[[], Any]] | None = None,
) -> dict[str, Any]:
    """The summary of the runs of ``seeds`` in the results folder ``root`` (and the
    ablations' ``ablation_seeds``), with the
    block of each study of ``blocks`` (its name -> a function writing its block; a None block
    is left out, so a summary without a study's results is the same as before it)."""
    runs: dict[str, Any] = {}
    for regime in REGIMES:
        for name in RUN_CONFIGS:
            entry = collect_config(root, regime, name, seeds)
            if entry is not None:
                runs.setdefault(regime, {})[name] = entry
    if not runs:
        raise BadInput(f"no evaluated runs (metrics.json) under {runs_dir(root)}")
    paper = read_json(paper_numbers_file())
    studies, ablation_runs = collect_ablations(root, list(ablation_seeds))
    summary = {
        "scale": scale,
        "seeds": seeds,
        "ablation_seeds": list(ablation_seeds),
        "paper": paper,
        "runs": runs,
        "baselines": collect_baselines(root, seeds),
        "ablations": {"studies": studies, "runs": ablation_runs},
    }
    for name, collect in (blocks or {}).items():
        block = collect()
        if block is not None:
            summary[name] = block
    summary["claims"] = check_claims(summary)
    return summary


CSV_COLUMNS = ("regime", "config", "metric", "mean", "std", "min", "max", "values", "paper")
PAPER_KEYS = {
    "spearman_paper": "spearman",
    "search_solved": "search_solved",
    "search_expanded": "search_expanded",
    "greedy_solved": "greedy_solved",
    "greedy_expanded": "greedy_expanded",
}


def _csv_cell(x: float | None) -> str:
    return "" if x is None else repr(x)  # repr: every digit of the float, not a rounding


def _csv_row(regime: str, name: str, metric: str, agg: Aggregate, paper: float | None) -> list:
    stats = [_csv_cell(x) for x in (agg.mean, agg.std, agg.min, agg.max)]
    values = ";".join(_csv_cell(v) for v in agg.values)
    return [regime, name, metric, *stats, values, _csv_cell(paper)]


def summary_csv(summary: Summary | dict[str, Any]) -> str:
    """One row per (regime, configuration, baseline or variant, metric), with the paper's value
    if any; the entries in the summary's order."""
    view = as_summary(summary)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for regime in view.regimes:
        for entry in view.entries(regime):
            for metric in entry.metric_keys():
                paper = view.paper_value(entry.name, PAPER_KEYS.get(metric, ""))
                w.writerow(_csv_row(regime, entry.name, metric, entry.metric(metric), paper))
    return buf.getvalue()


def main(
    root: Path,
    scale: str,
    seeds: list[int],
    ablation_seeds: list[int] = (),
    blocks: Mapping[str, Callable[[], Any]] | None = None,
) -> dict[str, Any]:
    """Write ``<root>/summary.json`` and ``summary.csv`` (:func:`build_summary`); return
    the summary."""
    summary = build_summary(root, scale, seeds, ablation_seeds, blocks)
    write_json(summary_file(root), summary)
    atomic_write_text(summary_file(root).with_suffix(".csv"), summary_csv(summary))
    return summary
