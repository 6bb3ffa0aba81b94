"""A typed, read-only view of ``summary.json``: the one reader that knows its layout.

:mod:`repro.results.summary` writes the summary as nested dicts (kept as they are,
so the JSON never changes); the claims, figures, report and README read it only
through this module:

>>> s = Summary.from_dict(read_json(summary_file(root)))   # or load_summary(path)
>>> e = s.run("fixed", "contrastive-normal")              # Entry, or None if it did not run
>>> e.metric("spearman_full").interval("range")           # (min, max) over seeds
>>> e.bootstrap_ci()                                      # (low, high) over test trajectories
>>> s.paper_value("contrastive-normal", "spearman")       # the paper's number (or None)

An :class:`Entry` is a paper configuration, a baseline or an ablation variant:
``Summary.run`` finds any of them by name, since the names never collide (a
variant's name carries a ``+``; the baselines are ``BASELINES``). Each entry's
metrics are :class:`Aggregate` values over seeds. Two kinds of uncertainty are
kept apart, as in rliable's ``get_interval_estimates``: across seeds
(:meth:`Aggregate.interval`) and across test trajectories within a run
(:meth:`Entry.bootstrap_ci`, the bootstrap CI that evaluation stored).

A study's block (``Summary.block(name)``) is read by that study's own view, in its
package under :mod:`repro.studies`.

Missing sections, runs, metrics or figure data read as None (or empty), never as
an error, so partial summaries (one regime run, no ablations) render.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from repro.config import CONFIGS, RUN_CONFIGS
from repro.core.metrics import mixture_cdf, mixture_quantile
from repro.io import read_json
from repro.results.shape import BlockCheck, check_summary

INTERVALS = ("sd", "range")  # the kinds of seed interval Aggregate.interval gives
KINDS = ("config", "baseline", "ablation")  # what an Entry is; its section in the summary
# A claim's verdicts (see claims.py): 'undecided' when the seeds disagree, 'not testable'
# when a configuration the claim is about did not learn.
VERDICTS = ("holds", "partly", "fails", "undecided", "not testable")
SHORT_METHODS = {"supervised": "sup", "contrastive": "con"}  # the short names the prose uses
_SECTIONS = (
    ("config", ("runs",)),
    ("baseline", ("baselines",)),
    ("ablation", ("ablations", "runs")),
)


def get_in(d: Mapping[str, Any] | None, *keys: str) -> Any:
    """``d[k1][k2]...``, or None where a level is missing."""
    for k in keys:
        if not isinstance(d, Mapping) or k not in d:
            return None
        d = d[k]
    return d


def config_name(method: str, dataset: str) -> str:
    """The configuration (a key of ``RUN_CONFIGS``) that trains ``method`` on ``dataset``."""
    for name, c in RUN_CONFIGS.items():
        if c["method"] == method and c["dataset"] == dataset:
            return name
    raise KeyError(f"no configuration trains {method!r} on {dataset!r}")


def short_name(name: str) -> str:
    """'supervised-normal' -> 'sup-normal' (method names shortened as in the prose)."""
    method, _, rest = name.partition("-")
    return f"{SHORT_METHODS.get(method, method)}-{rest}" if rest else name


# ---------------------------------------------------------------------------- values


@dataclass(frozen=True)
class Aggregate:
    """One metric over seeds: mean, std (ddof 1; 0 for one seed), min, max.

    ``values`` holds one value per seed, in the entry's seed order, None where a
    seed did not measure it; the statistics skip those (all None if none measured).
    """

    mean: float | None
    std: float | None
    min: float | None
    max: float | None
    values: tuple[float | None, ...] = ()

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Aggregate:
        """From the summary's ``{"mean", "std", "min", "max", "values"}``."""
        return cls(
            d.get("mean"), d.get("std"), d.get("min"), d.get("max"), tuple(d.get("values", ()))
        )

    @property
    def n_seeds(self) -> int:
        """How many seeds measured the metric."""
        return sum(v is not None for v in self.values)

    def spread(self) -> float:
        """max - min over seeds: how far seeds disagree (0.0 for one seed or none)."""
        if self.mean is None:
            return 0.0
        return float(self.max - self.min)

    def interval(self, kind: str = "sd") -> tuple[float, float] | None:
        """The interval across seeds: 'sd' (mean -/+ std) or 'range' (min, max); None if
        nothing was measured."""
        if kind not in INTERVALS:
            raise ValueError(f"interval kind must be one of {INTERVALS}, got {kind!r}")
        if self.mean is None:
            return None
        if kind == "range":
            return (self.min, self.max)
        return (self.mean - self.std, self.mean + self.std)


@dataclass(frozen=True)
class LossCurve:
    """The loss log over seeds: per logged step, the mean, min and max (float tuples (k,))."""

    step: tuple[float, ...]
    mean: tuple[float, ...]
    min: tuple[float, ...]
    max: tuple[float, ...]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> LossCurve:
        return cls(*(tuple(d.get(k, ())) for k in ("step", "mean", "min", "max")))

    @property
    def final(self) -> float | None:
        """The mean loss of the last logged step (None if nothing was logged)."""
        return self.mean[-1] if self.mean else None


@dataclass(frozen=True)
class TrainingLength:
    """Metrics of the snapshots saved during training: ``steps`` (k,) and, per metric, one
    :class:`Aggregate` over seeds per step (None where the summary holds null)."""

    steps: tuple[int, ...]
    metrics: Mapping[str, tuple[Aggregate | None, ...]]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrainingLength:
        metrics = {
            k: tuple(None if a is None else Aggregate.from_dict(a) for a in aggs)
            for k, aggs in (d.get("metrics") or {}).items()
        }
        return cls(tuple(d.get("steps") or ()), metrics)

    def series(self, key: str) -> tuple[Aggregate | None, ...] | None:
        """The metric's aggregate at each step (None if the metric was not recorded)."""
        return self.metrics.get(key)

    def means(self, key: str) -> list[float | None] | None:
        """The metric's mean over seeds at each step (None if not recorded)."""
        series = self.series(key)
        return None if series is None else [None if a is None else a.mean for a in series]


# ---------------------------------------------------------------------------- entries


@dataclass(frozen=True)
class Entry:
    """One configuration, baseline or ablation variant in one regime (``kind`` in KINDS)."""

    regime: str
    name: str
    kind: str
    data: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def seeds(self) -> tuple[int, ...]:
        """The seeds whose runs finished; for a fixed-regime baseline, the seeds of the
        evaluation contexts it was measured in (a procedural baseline has none: one context
        serves every seed)."""
        return tuple(self.data.get("seeds", ()))

    def metric_keys(self) -> tuple[str, ...]:
        """The names of the entry's metrics, in the summary's order."""
        return tuple(self.data.get("metrics") or ())

    def metric(self, key: str) -> Aggregate | None:
        """The metric over seeds (None if the entry does not hold it)."""
        d = get_in(self.data, "metrics", key)
        return None if d is None else Aggregate.from_dict(d)

    def mean(self, key: str, default: Any = None) -> Any:
        """The metric's mean over seeds, or ``default`` when it was not measured."""
        agg = self.metric(key)
        return default if agg is None or agg.mean is None else agg.mean

    def on_seeds(self, key: str, seeds: Any) -> float | None:
        """The metric's mean over the runs whose seed is in ``seeds`` (None if none)."""
        agg = self.metric(key)
        if agg is None:
            return None
        vals = [
            v for s, v in zip(self.seeds, agg.values, strict=True) if s in seeds and v is not None
        ]
        return sum(vals) / len(vals) if vals else None

    def at_seed(self, key: str, seed: int) -> float | None:
        """The metric of the run with ``seed`` (None if that run did not finish or did not
        measure it): ``metric(key).values`` is aligned with :attr:`seeds`."""
        agg = self.metric(key)
        if agg is None or seed not in self.seeds:
            return None
        i = self.seeds.index(seed)
        return agg.values[i] if i < len(agg.values) else None

    def bootstrap_ci(self) -> tuple[float, float] | None:
        """The full-test Spearman's 95% bootstrap CI over test trajectories, (low, high),
        averaged over seeds; None if it was not measured."""
        low, high = self.mean("spearman_full_low"), self.mean("spearman_full_high")
        return None if low is None or high is None else (low, high)

    def seed_interval(self, key: str = "spearman_full") -> tuple[float, float] | None:
        """The 95% interval of ``key``'s mean over seeds that resamples seeds, then test
        trajectories within each (low, high); None where the summary holds none."""
        d = get_in(self.data, "interval", key)
        return None if not d else (d["low"], d["high"])

    def curve(self, planner: str) -> list[float | None] | None:
        """Solved rate vs expansion budget 1..B of ``planner`` (a PLANNERS name: 'search',
        'greedy', 'greedy_descent', ...; mean over seeds)."""
        return get_in(self.data, "curves", planner) or None

    @property
    def protocol_quantiles(self) -> tuple[tuple[float, ...], ...]:
        """Per seed, the quantiles (0%, 1%, ..., 100%) of the paper protocol's Spearman (the
        mean over 10 random test trajectories) over many random draws; () if not measured."""
        return tuple(tuple(q) for q in self.data.get("protocol_quantiles") or ())

    def protocol_range(self, low: float = 0.05, high: float = 0.95) -> tuple[float, float] | None:
        """The ``low``-``high`` quantile range of the paper protocol's Spearman, pooled over
        seeds (what one run and one draw of 10 trajectories could give); None if absent."""
        tables = self.protocol_quantiles
        if not tables:
            return None
        return mixture_quantile(tables, low), mixture_quantile(tables, high)

    def protocol_percentile(self, value: float) -> float | None:
        """Where ``value`` falls in the pooled protocol distribution, in [0, 1] (None if absent)."""
        tables = self.protocol_quantiles
        return mixture_cdf(tables, value) if tables else None

    @property
    def loss(self) -> LossCurve | None:
        d = self.data.get("loss")
        return None if not d else LossCurve.from_dict(d)

    @property
    def training_length(self) -> TrainingLength | None:
        d = self.data.get("training_length")
        return None if d is None else TrainingLength.from_dict(d)

    @property
    def examples(self) -> Mapping[str, Any]:
        """The figure data of the first seed: 'seed', 'trajectories', 'heatmap' (may be {})."""
        return self.data.get("examples") or {}

    @property
    def trajectories(self) -> list[Mapping[str, Any]]:
        """The protocol trajectories: each {'index', 'pred' (T+1,), 'true' (T+1,)}."""
        return self.examples.get("trajectories") or []

    @property
    def heatmap(self) -> Mapping[str, Any] | None:
        """{'goal' [r, c], 'walls' (S, S) 0/1, 'pred' and 'bfs' (S, S) with null on walls}."""
        return self.examples.get("heatmap") or None

    @property
    def config(self) -> Mapping[str, Any]:
        """The run configuration of the first seed (a RunConfig as a dict; {} for baselines)."""
        return self.data.get("config") or {}


# ---------------------------------------------------------------------------- the summary


@dataclass(frozen=True)
class Variant:
    """One ablation variant: its paper configuration, the fields it sets, its run name."""

    config: str
    sets: Mapping[str, Any]
    run: str


@dataclass(frozen=True)
class Finding:
    """A claim's finding in one regime: our numbers in words (means over seeds), the
    verdict ('holds', 'partly', 'fails', 'undecided' when the seeds disagree, or 'not
    testable' when a configuration did not learn), the verdict of each seed the rule was
    applied to (``by_seed`` aligned with ``seeds``), and the learned-model gate: per
    configuration, the share of the constant-to-oracle gap it closed on the gate's metric,
    worst seed (``learned``; empty for a claim with no gate)."""

    ours: str
    verdict: str
    seeds: tuple[int, ...] = ()
    by_seed: tuple[str, ...] = ()
    learned: Mapping[str, float | None] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Finding:
        """From the summary's ``{"ours", "verdict", "seeds", "by_seed", "learned"}`` (the
        last three may be missing in a summary written before they were recorded)."""
        seeds, by_seed = tuple(d.get("seeds", ())), tuple(d.get("by_seed", ()))
        return cls(d.get("ours", ""), d["verdict"], seeds, by_seed, dict(d.get("learned", {})))


@dataclass(frozen=True)
class Claim:
    """One paper claim with its rule, and per regime (the regimes with all four runs) a
    :class:`Finding`."""

    id: str
    claim: str
    paper: str
    rule: str
    regimes: Mapping[str, Finding]
    gate: str | None = None  # the metric a model must have learned on (None: no gate)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Claim:
        regimes = {r: Finding.from_dict(f) for r, f in d.get("regimes", {}).items()}
        texts = (d.get("claim", ""), d.get("paper", ""), d.get("rule", ""))
        return cls(d["id"], *texts, regimes, d.get("gate"))


@dataclass(frozen=True)
class Summary:
    """The whole summary. Build with :meth:`from_dict`, :func:`as_summary` or
    :func:`load_summary`; ``data`` is the dict as written, never modified."""

    data: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Summary:
        return cls(d)

    @property
    def scale(self) -> str:
        return self.data["scale"]

    @property
    def seeds(self) -> tuple[int, ...]:
        """The seeds of the paper configurations."""
        return tuple(self.data.get("seeds", ()))

    @property
    def ablation_seeds(self) -> tuple[int, ...]:
        """The seeds of the ablation variants (compared with their configuration's same seeds)."""
        return tuple(self.data.get("ablation_seeds", ()))

    @property
    def regimes(self) -> tuple[str, ...]:
        """The regimes where at least one paper configuration ran, in the summary's order."""
        return tuple(self.data.get("runs") or ())

    def run(self, regime: str, name: str) -> Entry | None:
        """The paper configuration, baseline or ablation variant ``name`` in ``regime``
        (None if it did not run)."""
        for kind, keys in _SECTIONS:
            d = get_in(self.data, *keys, regime, name)
            if d is not None:
                return Entry(regime, name, kind, d)
        return None

    def metric(self, regime: str, name: str, key: str) -> Aggregate | None:
        """``run(regime, name).metric(key)``, or None if the entry or the metric is missing."""
        entry = self.run(regime, name)
        return None if entry is None else entry.metric(key)

    def entries(self, regime: str, kind: str | None = None) -> Iterator[Entry]:
        """Every entry of ``regime`` (only those of ``kind`` if given): the configurations,
        then the baselines, then the ablation variants, each in the summary's order."""
        for k, keys in _SECTIONS:
            if kind is None or k == kind:
                for name, d in (get_in(self.data, *keys, regime) or {}).items():
                    yield Entry(regime, name, k, d)

    def configs(self, regime: str) -> dict[str, Entry]:
        """The paper configurations that ran in ``regime``, in ``CONFIGS`` order."""
        found = {name: self.run(regime, name) for name in CONFIGS}
        return {name: e for name, e in found.items() if e is not None and e.kind == "config"}

    def n_ablation_entries(self) -> int:
        """How many (regime, variant) pairs ran."""
        return sum(len(r) for r in (get_in(self.data, "ablations", "runs") or {}).values())

    def studies(self, study: str) -> tuple[Variant, ...]:
        """The variants of one ablation study ('gamma', 'direction', 'head'), as declared."""
        rows = get_in(self.data, "ablations", "studies", study) or ()
        return tuple(Variant(v["config"], v["sets"], v["run"]) for v in rows)

    def paper_value(self, name: str, key: str) -> float | None:
        """The paper's number ``key`` ('spearman', 'search_solved', ...) for ``name``."""
        return get_in(self.data, "paper", "results", name, key)

    def paper_printed(self, name: str, key: str) -> str | None:
        """The paper's number ``key`` for ``name`` with exactly the digits the paper prints
        ('0.3025', '1', '0.470'), for tables that quote it; None if the paper has none."""
        printed = get_in(self.data, "paper", "printed", name, key)
        return None if printed is None else str(printed)

    @property
    def paper_hyperparameters(self) -> Mapping[str, Any]:
        return get_in(self.data, "paper", "hyperparameters") or {}

    @property
    def paper_n_trajectories(self) -> int | None:
        """How many trajectories the paper's Spearman averages over."""
        return get_in(self.data, "paper", "n_spearman_trajectories")

    def block(self, name: str) -> Any:
        """A study's block of the summary, as written (None where the summary has none); the
        study's own view reads it (see :mod:`repro.studies.study`)."""
        return self.data.get(name)

    @property
    def claims(self) -> tuple[Claim, ...]:
        return tuple(Claim.from_dict(c) for c in self.data.get("claims") or ())

    @property
    def study_claims(self) -> dict[str, tuple[Claim, ...]]:
        """Per study block that judges the paper's claims again on its own runs (a "claims"
        list in its block), those claims; their "regimes" name where each was judged."""
        return {
            name: tuple(Claim.from_dict(c) for c in block["claims"])
            for name, block in self.data.items()
            if isinstance(block, Mapping) and isinstance(block.get("claims"), list)
        }


def as_summary(summary: Summary | Mapping[str, Any]) -> Summary:
    """The view of ``summary`` (a :class:`Summary` is returned as it is)."""
    return summary if isinstance(summary, Summary) else Summary.from_dict(summary)


def load_summary(path: Path, blocks: Mapping[str, BlockCheck] | None = None) -> Summary:
    """Read ``summary.json`` at ``path``: BadInput naming the file if it is unreadable, and
    the key path if it does not have the shape the view reads (:mod:`repro.results.shape`;
    ``blocks``: the studies' checks, see :func:`repro.studies.registry.load_summary`)."""
    return Summary.from_dict(check_summary(read_json(path), str(path), blocks))
