"""The report's wall-use table: does a distance use the walls? (:mod:`repro.core.walluse`)

Per regime, every configuration and baseline: the full-test Spearman, the Spearman on detour
states (BFS distance at least twice the Manhattan distance), the full-test Spearman with
every trajectory scored in another test maze's walls (procedural mazes only: the fixed
regime has one maze), and greedy's solved rate on the detour planning instances.
"""

from __future__ import annotations

from typing import Any

from repro.config import REGIMES, RUN_CONFIGS
from repro.core.heuristics import BASELINES
from repro.report.texfmt import LABELS, num, pct
from repro.results.view import Summary

REGIME_WORDS = {"fixed": "fixed maze", "procedural": "procedural mazes"}


def _drop(full: float | None, shuffled: float | None) -> float | None:
    return None if full is None or shuffled is None else full - shuffled


def wall_rows(summary: Summary) -> list[dict[str, Any]]:
    """One row per regime and entry (configurations, then baselines) that ran."""
    rows = []
    for regime in REGIMES:
        for name in (*RUN_CONFIGS, *BASELINES):
            e = summary.run(regime, name)
            if e is None:
                continue
            full = e.mean("spearman_full")
            shuffled = e.mean("walls_shuffled_spearman_full")
            rows.append(
                {
                    "regime": REGIME_WORDS[regime],
                    "label": LABELS[name],
                    "full": num(full),
                    "detour": num(e.mean("walls_detour_spearman")),
                    "shuffled": num(shuffled),
                    "drop": num(_drop(full, shuffled)),
                    "greedy_detour": pct(e.mean("greedy_solved_detour")),
                }
            )
    return rows


def wall_numbers(summary: Summary) -> dict[str, Any]:
    """'<regime>_<entry>_<detour|drop|greedy_detour>' (and '..._raw'), for the prose."""
    out: dict[str, Any] = {}
    for regime in REGIMES:
        for name in (*RUN_CONFIGS, *BASELINES):
            e = summary.run(regime, name)
            key = f"{regime}_{name.replace('-', '_')}"
            full = None if e is None else e.mean("spearman_full")
            shuffled = None if e is None else e.mean("walls_shuffled_spearman_full")
            values = {
                "detour": None if e is None else e.mean("walls_detour_spearman"),
                "drop": _drop(full, shuffled),
                "greedy_detour": None if e is None else e.mean("greedy_solved_detour"),
            }
            for k, v in values.items():
                out[f"{key}_{k}"] = pct(v) if k == "greedy_detour" else num(v)
                out[f"{key}_{k}_raw"] = v
    return out


def walls_context(summary: Summary) -> dict[str, Any]:
    """Everything the template's wall-use paragraph prints."""
    n_plan = {r: (e.mean("n_plan_detour") if (e := summary.run(r, "oracle")) else None)
              for r in REGIMES}  # fmt: skip
    return {
        "rows": wall_rows(summary),
        "n": wall_numbers(summary),
        "n_plan": {r: "--" if v is None else f"{v:.0f}" for r, v in n_plan.items()},
    }
