"""The maze-family study's block of the summary: what it writes, the shape it must have, and
the typed view its figure and report paragraph read (:func:`cells_of`).

The block is a list of cells, each with its size, loop_prob, whether it was trained and
whether it is the main study's family, the baselines per regime and kind, and its trained
configurations; every metric of :data:`FAMILY_METRICS` as an aggregate over the family's
seeds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from repro.config import CONFIGS, SCALES, make_config
from repro.core.heuristics import BASELINES
from repro.core.planning import PLANNERS
from repro.io import read_json
from repro.paths import baselines_file, run_dir
from repro.results.shape import Checker
from repro.results.summary import aggregate, flat_metrics
from repro.results.view import Aggregate, Summary, get_in
from repro.studies.family.cells import Cell, cells, contexts

# The metrics the maze-family study keeps per cell and entry (the summary stays small).
FAMILY_METRICS = ("spearman_full", "all_pairs") + tuple(
    f"{name}_{k}"
    for name in PLANNERS
    for k in ("solved", "expanded", "expanded_solved", "generated")
)


def _family_metrics(flats: list[dict[str, float | None]]) -> dict[str, Any]:
    return {k: aggregate([f[k] for f in flats]) for k in FAMILY_METRICS}


def collect_cell(root: Path, scale: str, cell: Cell) -> dict[str, Any]:
    """One maze-family cell: its baselines per regime, and its trained configurations (fixed
    regime), each metric of FAMILY_METRICS aggregated over the family's seeds."""
    n = SCALES[scale].family.seeds
    out: dict[str, Any] = {
        "size": cell.size,
        "loop_prob": cell.loop_prob,
        "trained": cell.trained,
        "main": cell.main,
        "baselines": {},
        "runs": {},
    }
    folder = cell.folder(root)
    path = baselines_file(folder)
    data = read_json(path) if path.exists() else {}
    for key, c in contexts(scale, cell).items():
        if key in data:
            regime = out["baselines"].setdefault(c.regime, {})
            for kind in BASELINES:
                regime.setdefault(kind, []).append(flat_metrics(data[key][kind]))
    out["baselines"] = {
        r: {kind: _family_metrics(fl) for kind, fl in kinds.items()}
        for r, kinds in out["baselines"].items()
    }
    for name in CONFIGS if cell.trained else ():
        configs = [make_config(name, "fixed", s, scale, cell.sets()) for s in range(n)]
        runs = [run_dir(folder, c.run_id) for c in configs]
        done = [r for r in runs if (r / "metrics.json").exists()]
        if done:
            flats = [flat_metrics(read_json(r / "metrics.json")) for r in done]
            out["runs"][name] = {"n": len(done), "metrics": _family_metrics(flats)}
    return out


def collect(root: Path, scale: str) -> list[dict[str, Any]]:
    """The study's summary block: every cell under ``root`` (:func:`collect_cell`), in
    declaration order."""
    return [collect_cell(root, scale, cell) for cell in cells(scale)]


def check(c: Checker, block: Any, path: tuple[str, ...]) -> None:
    """The shape :func:`cells_of` reads: a list of cells, each with its fields, its
    baselines' aggregates and its trained configurations as entries."""
    for i, cell in enumerate(c.typed(block, list, path)):
        cpath = (*path, str(i))
        c.typed(cell, Mapping, cpath)
        cell_fields = (("size", int), ("loop_prob", (int, float)), ("trained", bool))
        c.fields(cell, cpath, required=cell_fields)
        for regime, kinds in (c.mapping(cell, "baselines", cpath) or {}).items():
            for kind, aggs in c.typed(kinds, Mapping, (*cpath, "baselines", regime)).items():
                bpath = (*cpath, "baselines", regime, kind)
                for key, agg in c.typed(aggs, Mapping, bpath).items():
                    c.aggregate(agg, (*bpath, key))
        for name, e in (c.mapping(cell, "runs", cpath) or {}).items():
            c.entry(e, (*cpath, "runs", name))


@dataclass(frozen=True)
class FamilyCell:
    """One maze family of the family study: its size and loop_prob, the baselines per regime
    and the four configurations trained in the fixed regime (where ``trained``)."""

    size: int
    loop_prob: float
    trained: bool
    main: bool  # the paper-scale family itself (its numbers are the main study's seed 0)
    data: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FamilyCell:
        return cls(d["size"], d["loop_prob"], d["trained"], d.get("main", False), d)

    def baseline(self, regime: str, kind: str, key: str) -> Aggregate | None:
        """A baseline's metric in ``regime`` (None if not measured)."""
        d = get_in(self.data, "baselines", regime, kind, key)
        return None if d is None else Aggregate.from_dict(d)

    def run(self, name: str, key: str) -> Aggregate | None:
        """A trained configuration's metric (fixed regime; None if not trained)."""
        d = get_in(self.data, "runs", name, "metrics", key)
        return None if d is None else Aggregate.from_dict(d)


def cells_of(summary: Summary) -> tuple[FamilyCell, ...]:
    """The study's cells in the summary, in size then loop_prob order (() if it did not run)."""
    return tuple(FamilyCell.from_dict(c) for c in summary.block("family") or ())
