"""The generalization study's lines in the README's headline: a table of each model's
unseen-maze Spearman at the report's steps, Manhattan's beside it and what the study cost
(:func:`lines`), and its finding (:func:`findings`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from repro.results.view import Summary
from repro.studies.generalization.results import GeneralizationStudy, StudyCurves, study_of


def _study_cell(run: StudyCurves | None, steps: tuple[int, ...]) -> str:
    """A study run's unseen-maze full-test Spearman at ``steps``, 'a / b / c' ('–' if none)."""
    if run is None:
        return "–"
    values = [run.at("unseen_mazes", "spearman_full", s) for s in steps]
    return " / ".join("–" if v is None else f"{v:.3f}" for v in values)


def _seeds(seeds: tuple[int, ...]) -> str:
    """'seed 0' or 'seeds 0, 1, 2'."""
    return ("seed " if len(seeds) == 1 else "seeds ") + ", ".join(str(s) for s in seeds)


def generalization_lines(study: GeneralizationStudy, timing: Mapping[str, Any] | None) -> list:
    """The generalization study in the headline: per model, its unseen-maze Spearman at the
    table's steps on each arm's mazes, Manhattan's beside it, and what the study cost."""
    steps = study.table_steps
    arms = [a for a in ("models", "data") if study.arm(a)]
    counts = [f"{study.arm(a)[0].n_trajectories or 0:,} mazes" for a in arms]
    lines = [
        "Generalization study (`reproduce --studies generalization`, procedural regime, "
        f"{_seeds(study.runs[0].seeds)}): full-test Spearman on "
        f"unseen mazes at {' / '.join(f'{s:,}' for s in steps)} steps.",
        "",
        "| model | " + " | ".join(counts) + " |",
        "|---|" + "---|" * len(arms),
    ]
    for run in study.arm("models"):
        cells = [_study_cell(study.counterpart(run, a), steps) for a in arms]
        lines.append(f"| {run.title()} | " + " | ".join(cells) + " |")
    level = study.runs[0].level("manhattan", "unseen_mazes", "spearman_full")
    manhattan = "–" if level is None else f"{level:.3f}"
    lines.append("| Manhattan (no training) | " + " | ".join([manhattan] * len(arms)) + " |")
    if timing and timing.get("wall_s") is not None:
        cpu = timing.get("cpu_s")
        cost = f", {cpu / 60:.1f} CPU-min" if cpu else ""
        lines += [
            "",
            f"The study took {timing['wall_s'] / 60:.1f} min on this machine (2 CPU cores, "
            f"local executor{cost}; stage time in `results/timings.json`).",
        ]
    return lines


def lines(view: Summary, timings: Mapping[str, Any] | None) -> list[str]:
    """The headline's lines of the study ([] where it has no results)."""
    study = study_of(view)
    if study is None or not study.runs:
        return []
    timing = ((timings or {}).get("studies") or {}).get("generalization")
    return generalization_lines(study, timing)


def findings(view: Summary) -> list[str]:
    """The best unseen-maze Spearman of the study beside Manhattan's ([] without results)."""
    lines = []
    study = study_of(view)
    if study is not None and study.runs:
        scored = [
            (r.at("unseen_mazes", "spearman_full", r.steps[-1]), r) for r in study.runs if r.steps
        ]
        scored = [(v, r) for v, r in scored if v is not None]
        if scored:
            best, run = max(scored, key=lambda vr: vr[0])
            manhattan = run.level("manhattan", "unseen_mazes", "spearman_full")
            level = "–" if manhattan is None else f"{manhattan:.3f}"
            lines.append(
                f"- Trained for {run.steps[-1]:,} steps, the best learned distance on unseen "
                f"mazes ({run.title()}, {run.n_trajectories or 0:,} training mazes) reaches "
                f"full-test Spearman {best:.3f}; the wall-blind Manhattan distance scores "
                f"{level}."
            )
    return lines
