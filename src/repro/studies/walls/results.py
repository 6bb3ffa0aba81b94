"""The walls study's block of the summary: per arm, its runs as entries (metrics and the
snapshot curves, trimmed of figure data) and its baselines' metrics; its shape check; and
the typed view its table, figure and sentences read (:func:`study_of`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from repro.config import WALLS
from repro.io import read_json
from repro.paths import baselines_file
from repro.results.shape import Checker
from repro.results.summary import collect_baselines, collect_config
from repro.results.view import Entry, Summary, get_in
from repro.studies.study import Placed

KEEP = ("seeds", "metrics", "training_length", "config", "interval")  # of each run's entry


def collect(root: Path, scale: str, runs: Sequence[Placed]) -> dict[str, Any] | None:
    """{'arms': {arm: {'runs': {regime: {label: entry}}, 'baselines': {regime: {kind:
    {'metrics': ...}}}}}} for the arms with an evaluated run; None if none has one."""
    arms: dict[str, Any] = {}
    for arm in WALLS:
        mine = [r for r in runs if r.folder.name == arm and r.folder.parent.name == "walls"]
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
        arms[arm] = out
    return {"arms": arms} if arms else None


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
class WallsStudy:
    """The study's block, read: each arm's runs and baselines as :class:`Entry` views."""

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


def study_of(summary: Summary) -> WallsStudy | None:
    """The study's view (None where the summary has no block)."""
    block = summary.block("walls")
    return None if not block else WallsStudy(block)
