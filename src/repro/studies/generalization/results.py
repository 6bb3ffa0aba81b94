"""The generalization study's block of the summary: what it writes (:func:`collect`), the
shape it must have (:func:`check`) and the typed view its figure, section and README lines
read (:func:`study_of`: a :class:`GeneralizationStudy` whose runs are :class:`StudyCurves`,
each metric per snapshot step on training and on unseen mazes)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from repro.config import SCALES, STUDY_FIELDS
from repro.errors import BadInput
from repro.io import read_json
from repro.results.shape import Checker
from repro.results.summary import aggregate
from repro.results.view import Aggregate, Claim, Summary, get_in
from repro.studies.generalization.runs import MAZES, StudyRun, results


def _study_series(results: list[dict[str, Any]], mazes: str) -> dict[str, list[dict]]:
    """Per metric of ``mazes`` ('train_mazes' or 'unseen_mazes'), its aggregate over the
    runs (seeds) at each snapshot."""
    first = results[0]["snapshots"]
    return {
        key: [
            aggregate([r["snapshots"][i][mazes][key] for r in results]) for i in range(len(first))
        ]
        for key in first[0][mazes]
    }


def study_entry(run: StudyRun, found: list[tuple[int, Path]]) -> dict[str, Any]:
    """One generalization-study run over its seeds: at each snapshot step, every metric on
    training and on unseen mazes and the logged loss; the baselines' levels on the same mazes."""
    results = [read_json(path) for _, path in found]
    steps = [row["step"] for row in results[0]["snapshots"]]
    if any([row["step"] for row in r["snapshots"]] != steps for r in results):
        raise BadInput(f"the seeds of study run {run.label} were scored at different steps")
    levels = results[0]["baselines"]
    return {
        "label": run.label,
        "arm": run.arm,
        "config": run.config.name,
        "sets": dict(run.sets),
        "seeds": [seed for seed, _ in found],
        "n_trajectories": run.config.n_trajectories,
        "train_sample": results[0]["train_sample"]["n"],
        "steps": steps,
        "loss": [
            aggregate([r["snapshots"][i]["loss"] for r in results]) for i in range(len(steps))
        ],
        **{mazes: _study_series(results, mazes) for mazes in MAZES},
        "baselines": {
            kind: {
                mazes: {
                    key: aggregate([r["baselines"][kind][mazes][key] for r in results])
                    for key in levels[kind][mazes]
                }
                for mazes in MAZES
            }
            for kind in levels
        },
    }


def collect(root: Path, scale: str) -> dict[str, Any] | None:
    """The generalization study: its schedule, the steps of the report's table and
    its runs in declaration order (each :func:`study_entry`, the runs with results under
    ``root``); None if
    no run of it has been evaluated (the summary then has no such section)."""
    runs = [study_entry(run, found) for run, found in results(root, scale) if found]
    if not runs:
        return None
    g = SCALES[scale].generalization
    return {"schedule": list(g.schedule()), "table_steps": list(g.table_steps), "runs": runs}


def check(c: Checker, block: Any, path: tuple[str, ...]) -> None:
    """The shape :func:`study_of` reads: the schedule and table steps as integers, and each
    run's steps, per-maze series, loss and baseline levels."""
    c.typed(block, Mapping, path)
    for key in ("schedule", "table_steps"):
        if key in block:
            c.integers(block[key], (*path, key))
    c.claims(block, path)  # C1-C3, C7 judged again on the study's runs (see .claims)
    for i, run in enumerate(c.seq(block, "runs", path) or ()):
        rpath = (*path, "runs", str(i))
        c.typed(run, Mapping, rpath)
        c.fields(run, rpath, optional=(("label", str), ("arm", str), ("config", str)))
        for j, step in enumerate(c.seq(run, "steps", rpath) or ()):
            c.typed(step, int, (*rpath, "steps", str(j)))
        for mazes in MAZES:
            for key, series in (c.mapping(run, mazes, rpath) or {}).items():
                c.aggregates(series, (*rpath, mazes, key))
        if run.get("loss") is not None:
            c.aggregates(run["loss"], (*rpath, "loss"))
        for kind, by_mazes in (c.mapping(run, "baselines", rpath) or {}).items():
            bpath = (*rpath, "baselines", kind)
            for mazes, values in c.typed(by_mazes, Mapping, bpath).items():
                for key, agg in c.typed(values, Mapping, (*bpath, mazes)).items():
                    c.aggregate(agg, (*bpath, mazes, key))


@dataclass(frozen=True)
class StudyCurves:
    """One run of the generalization study over its seeds: per snapshot step, every metric on
    its training mazes and on unseen mazes (``mazes``: 'train_mazes' or 'unseen_mazes'), the
    logged loss, and the Manhattan and oracle levels on the same mazes."""

    label: str  # configuration, variant and study fields: 'supervised-normal+steps200000'
    data: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def arm(self) -> str:
        """'models' (the scale's training data) or 'data' (ten times more mazes)."""
        return self.data.get("arm", "")

    @property
    def config(self) -> str:
        """The paper configuration it varies, e.g. 'contrastive-normal'."""
        return self.data.get("config", "")

    @property
    def sets(self) -> Mapping[str, Any]:
        """Every field it overrides (its variant's and the study's)."""
        return self.data.get("sets") or {}

    @property
    def variant_sets(self) -> dict[str, Any]:
        """The overrides that make it a model variant (the study's own fields left out)."""
        return {k: v for k, v in self.sets.items() if k not in STUDY_FIELDS}

    @property
    def method(self) -> str:
        return self.config.partition("-")[0]

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(self.data.get("seeds", ()))

    @property
    def n_trajectories(self) -> int | None:
        """Its training trajectories: in the procedural regime, its training mazes."""
        return self.data.get("n_trajectories")

    @property
    def steps(self) -> tuple[int, ...]:
        """The snapshot steps it was scored at, increasing."""
        return tuple(self.data.get("steps", ()))

    def title(self) -> str:
        """The model in words: 'supervised, regression', 'contrastive, symmetric, repeat 4'."""
        c = {**self.variant_sets}
        if self.method == "supervised":
            return f"supervised, {c.get('head', 'regression')}"
        if self.method == "contrastive":
            return f"contrastive, {c.get('direction', 'backward')}, repeat {c.get('repeat', 1)}"
        return self.config

    def series(self, mazes: str, key: str) -> tuple[Aggregate | None, ...] | None:
        """The metric's aggregate over seeds at each step (None if not recorded)."""
        aggs = get_in(self.data, mazes, key)
        return (
            None
            if aggs is None
            else tuple(None if a is None else Aggregate.from_dict(a) for a in aggs)
        )

    def means(self, mazes: str, key: str) -> list[float | None] | None:
        """The metric's mean over seeds at each step (None if not recorded)."""
        series = self.series(mazes, key)
        return None if series is None else [None if a is None else a.mean for a in series]

    def at(self, mazes: str, key: str, step: int) -> float | None:
        """The metric's mean over seeds at ``step`` (None if not scored there)."""
        means = self.means(mazes, key)
        if means is None or step not in self.steps:
            return None
        return means[self.steps.index(step)]

    def spread(self, mazes: str, key: str) -> float:
        """The largest spread (max - min) over seeds at any step; 0.0 for one seed."""
        return max(
            (a.spread() for a in self.series(mazes, key) or () if a is not None), default=0.0
        )

    def gap(self, key: str = "spearman_full") -> list[float | None]:
        """Training mazes minus unseen mazes at each step: the generalization gap."""
        train, unseen = self.means("train_mazes", key), self.means("unseen_mazes", key)
        if train is None or unseen is None:
            return [None] * len(self.steps)
        return [
            None if a is None or b is None else a - b for a, b in zip(train, unseen, strict=True)
        ]

    def level(self, kind: str, mazes: str, key: str) -> float | None:
        """Baseline ``kind``'s ('manhattan', 'oracle') mean on the same mazes (None if absent)."""
        d = get_in(self.data, "baselines", kind, mazes, key)
        return None if d is None else Aggregate.from_dict(d).mean

    @property
    def loss(self) -> tuple[Aggregate | None, ...]:
        """The logged training loss at each step, over seeds."""
        return tuple(
            None if a is None else Aggregate.from_dict(a) for a in self.data.get("loss") or ()
        )


@dataclass(frozen=True)
class GeneralizationStudy:
    """The generalization study: its evaluation schedule, the steps the report's
    table shows, and its runs in declaration order."""

    schedule: tuple[int, ...]
    table_steps: tuple[int, ...]
    runs: tuple[StudyCurves, ...]
    # The paper's claims judged again at each table step (repro.studies.generalization.claims):
    # each Claim's "regimes" are the steps, as text ('50000').
    claims: tuple[Claim, ...] = ()

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> GeneralizationStudy:
        runs = tuple(StudyCurves(r.get("label", ""), r) for r in d.get("runs") or ())
        claims = tuple(Claim.from_dict(c) for c in d.get("claims") or ())
        steps = (tuple(d.get(k) or ()) for k in ("schedule", "table_steps"))
        return cls(*steps, runs, claims)

    def arm(self, arm: str) -> tuple[StudyCurves, ...]:
        """The runs of one arm ('models' or 'data'), in declaration order."""
        return tuple(r for r in self.runs if r.arm == arm)

    def counterpart(self, run: StudyCurves, arm: str) -> StudyCurves | None:
        """The run of ``arm`` that trains the same model as ``run`` (same configuration and
        variant; only the study's fields differ), or None."""
        for other in self.arm(arm):
            if other.config == run.config and other.variant_sets == run.variant_sets:
                return other
        return None


def study_of(summary: Summary) -> GeneralizationStudy | None:
    """The study in the summary, or None where it has no results."""
    d = summary.block("generalization")
    return None if not d else GeneralizationStudy.from_dict(d)
