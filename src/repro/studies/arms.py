"""Studies made of arms (:mod:`repro.studies.walls`, :mod:`repro.studies.stitching`): each arm
a results folder of its own, ``results/<study>/<arm>``. Here: the summary block (per arm, its
runs as entries, trimmed of figure data, and its baselines' metrics), its shape check and the
typed view the studies' tables, figures and sentences read (:class:`ArmsStudy`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from repro.config import SCALES, RunConfig, StudyArm, make_config
from repro.io import read_json
from repro.paths import baselines_file, run_dir
from repro.results.shape import Checker
from repro.results.summary import collect_baselines, collect_config
from repro.results.view import Entry, Summary, get_in
from repro.studies.study import Pipeline, Placed

KEEP = ("seeds", "metrics", "training_length", "config", "interval", "loss")  # of each run's entry


def arm_folder(root: Path, study: str, arm: str) -> Path:
    """``<root>/<study>/<arm>``: the results folder of one arm of a study."""
    return Path(root) / study / arm


def arm_configs(scale: str, spec: StudyArm, seeds: int | None = None) -> list[RunConfig]:
    """The runs of one arm at ``scale``: configuration x regime x seed (``seeds`` caps the
    arm's count: ``reproduce --study-seeds``)."""
    base = SCALES[scale].overrides.get("steps", RunConfig.steps)
    sets = {"steps": max(1, round(base * spec.steps_factor)), **dict(spec.sets)}
    return [
        make_config(name, regime, seed, scale, sets)
        for name in spec.configs
        for regime in spec.regimes
        for seed in range(spec.seeds if seeds is None else min(seeds, spec.seeds))
    ]


def placed(
    root: Path, study: str, spec: Mapping[str, StudyArm], scale: str, seeds: int | None = None
) -> list[Placed]:
    """Every run of ``study`` in its arm's folder, labelled '<study> <arm>/<run id>'."""
    return [
        Placed(arm_folder(root, study, arm), c, f"{study} {arm}/{c.run_id}")
        for arm, a in spec.items()
        for c in arm_configs(scale, a, seeds)
    ]


def run_stage(pipe: Pipeline, study: str, spec: Mapping[str, StudyArm]) -> bool:
    """Train and evaluate every arm's runs, and score the baselines of each arm's contexts
    (the unseen mazes, each fixed maze) in its folder. Whether any work was done."""
    chosen = pipe.study_parts.get(study) or tuple(spec)  # --studies NAME:PART runs some arms
    spec = {arm: s for arm, s in spec.items() if arm in chosen}
    runs = placed(pipe.root, study, spec, pipe.scale, pipe.study_seeds)
    worked = pipe.train(runs, f"{study}: train")
    worked |= pipe.evaluate(runs, f"{study}: evaluate")
    for arm in spec:
        folder = arm_folder(pipe.root, study, arm)
        contexts = {(r.config.regime, r.config.seed if r.config.regime == "fixed" else 0): r
                    for r in runs if r.folder == folder}  # fmt: skip
        if contexts:
            worked |= pipe.baselines(folder, [r.config for r in contexts.values()])
    return worked


def inputs(root: Path, study: str, spec: Mapping[str, StudyArm], scale: str) -> list[Path]:
    """Every file the study's summary block reads that exists."""
    out = []
    for r in placed(root, study, spec, scale):
        out += [run_dir(r.folder, r.config.run_id) / n for n in ("metrics.json", "loss.csv")]
    out += [baselines_file(arm_folder(root, study, arm)) for arm in spec]
    return [p for p in out if p.exists()]


def collect(
    root: Path, study: str, arms: Sequence[str], runs: Sequence[Placed]
) -> dict[str, Any] | None:
    """{'arms': {arm: {'runs': {regime: {label: entry}}, 'baselines': {regime: {kind:
    {'metrics': ...}}}}}} for the arms (of ``study``, in the order of ``arms``) with an
    evaluated run; None if none has one."""
    out_arms: dict[str, Any] = {}
    for arm in arms:
        mine = [r for r in runs if r.folder == arm_folder(root, study, arm)]
        if not mine:
            continue
        folder = mine[0].folder
        out: dict[str, Any] = {"runs": {}, "baselines": {}}
        labels = {(r.config.regime, r.config.name + r.config.variant) for r in mine}
        for regime, label in sorted(labels):
            seeds = sorted({r.config.seed for r in mine if r.config.regime == regime})
            entry = collect_config(folder, regime, label, seeds)
            if entry is not None:
                trimmed = {k: entry[k] for k in KEEP if entry.get(k) is not None}
                out["runs"].setdefault(regime, {})[label] = trimmed
        if not out["runs"]:
            continue
        if baselines_file(folder).exists() and read_json(baselines_file(folder)):
            seeds = sorted({r.config.seed for r in mine})
            base = collect_baselines(folder, seeds)
            out["baselines"] = {
                regime: {kind: {"metrics": e["metrics"]} for kind, e in kinds.items()}
                for regime, kinds in base.items()
            }
        out_arms[arm] = out
    return {"arms": out_arms} if out_arms else None


def check(c: Checker, block: Any, path: tuple[str, ...]) -> None:
    """The shape :func:`study_of` reads: arms, each with runs as entries by regime and label,
    and baselines' metrics by regime and kind."""
    c.typed(block, Mapping, path)
    for arm, d in (c.mapping(block, "arms", path) or {}).items():
        apath = (*path, "arms", arm)
        c.typed(d, Mapping, apath)
        for regime, entries in (c.mapping(d, "runs", apath) or {}).items():
            for label, e in c.typed(entries, Mapping, (*apath, "runs", regime)).items():
                c.entry(e, (*apath, "runs", regime, label))
        for regime, kinds in (c.mapping(d, "baselines", apath) or {}).items():
            for kind, e in c.typed(kinds, Mapping, (*apath, "baselines", regime)).items():
                c.entry(e, (*apath, "baselines", regime, kind))


@dataclass(frozen=True)
class ArmsStudy:
    """A study's block, read: each arm's runs and baselines as :class:`Entry` views."""

    data: Mapping[str, Any] = field(repr=False)

    @property
    def arms(self) -> tuple[str, ...]:
        return tuple(self.data.get("arms") or ())

    def runs(self, arm: str, regime: str) -> dict[str, Entry]:
        """The arm's runs in ``regime`` by label (configuration and variant)."""
        found = get_in(self.data, "arms", arm, "runs", regime) or {}
        return {label: Entry(regime, label, "config", e) for label, e in found.items()}

    def baseline(self, arm: str, regime: str, kind: str) -> Entry | None:
        d = get_in(self.data, "arms", arm, "baselines", regime, kind)
        return None if d is None else Entry(regime, kind, "baseline", d)


def study_of(summary: Summary, study: str) -> ArmsStudy | None:
    """The view of ``study``'s block (None where the summary has none)."""
    block = summary.block(study)
    return None if not block else ArmsStudy(block)
