"""The shape of ``summary.json`` as the typed view reads it, checked before anything reads it.

A summary is written by :mod:`repro.results.summary`, but the one that ``compare``,
``figures`` and the report read may come from anywhere (another machine, a git ref, an
edited file). :func:`check_summary` raises :class:`BadInput` naming the file and the key
path of the first value that is not what the view expects, so a damaged summary is a
one-line error, never a traceback or a figure drawn from garbage.

Checked: the whole tree is at most :data:`MAX_DEPTH` deep and every number in it is finite;
the top-level fields; every entry (configuration, baseline, ablation variant) and each of
its metrics' aggregates; the claims; the paper's numbers; and each study's block with the
study's own check (passed in by the layers that know the studies), as far as the views
read them. Sections may be missing (a partial summary renders); a section that is present
must have its shape.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any

from repro.config import EvalConfig, RunConfig
from repro.errors import BadInput

MAX_DEPTH = 32  # the deepest a summary goes is about 8
# The kind of every field of a run's configuration and of the evaluation settings, as the
# dataclasses declare them (a field they do not declare may be a number or a word).
_KIND_OF = {"int": int, "float": (int, float), "str": str}
_FIELD_KINDS = {
    section: {f.name: _KIND_OF.get(str(f.type), (str, int, float)) for f in fields(cls)}
    for section, cls in (("config", RunConfig), ("eval_config", EvalConfig))
}


def _kind_words(kind) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if str in kinds and int in kinds:
        return "a number or a string"
    return "a string" if str in kinds else ("an integer" if float not in kinds else "a number")


AGGREGATE_FIELDS = ("mean", "std", "min", "max")
_NUMBER_TYPES = (int, float, type(None))  # exact types: bool is not a number here
_ENTRY_SECTIONS = (("runs",), ("baselines",), ("ablations", "runs"))


class Checker:
    """Checks one summary; ``where`` names its file in every message. A study's
    :data:`BlockCheck` uses its methods on the study's block."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, path: tuple[str, ...], what: str) -> None:
        at = ".".join(path) if path else "the top level"
        raise BadInput(f"{self.where}: {at} {what}")

    def typed(self, value: Any, kind: type | tuple[type, ...], path: tuple[str, ...]) -> Any:
        names = {Mapping: "an object", list: "a list", str: "a string", int: "an integer"}
        kinds = kind if isinstance(kind, tuple) else (kind,)
        bad_bool = isinstance(value, bool) and bool not in kinds
        if bad_bool or not isinstance(value, kinds):
            want = " or ".join(names.get(k, k.__name__) for k in kinds)
            self.fail(path, f"must be {want}, not {type(value).__name__}")
        return value

    def number(self, value: Any, path: tuple[str, ...]) -> None:
        """A number or null."""
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            self.fail(path, f"must be a number or null, not {type(value).__name__}")

    def fields(self, d: Mapping, path: tuple[str, ...], required=(), optional=()) -> None:
        """``(key, kind)`` pairs of ``d``: each required one present and of its kind, each
        optional one of its kind where present."""
        for key, _ in required:
            if key not in d:
                self.fail(path, f"has no {key!r}")
        for key, kind in (*required, *optional):
            if key in d:
                self.typed(d[key], kind, (*path, key))

    def mapping(self, d: Mapping, key: str, path: tuple[str, ...]) -> Mapping | None:
        """``d[key]`` if present (it must be an object), else None."""
        if key not in d:
            return None
        return self.typed(d[key], Mapping, (*path, key))

    def seq(self, d: Mapping, key: str, path: tuple[str, ...]) -> list | None:
        if key not in d:
            return None
        return self.typed(d[key], list, (*path, key))

    # ------------------------------------------------------------------ the whole tree

    def finite_and_shallow(self, data: Any) -> None:
        """Every number finite, nothing deeper than MAX_DEPTH: one pass without recursion and
        without paths (a paper-scale summary has about 160,000 values); the path of a
        culprit is looked up only once one is found."""
        todo = [(data, 0)]
        while todo:
            value, depth = todo.pop()
            if depth > MAX_DEPTH:
                path = _locate(data, lambda v, d: d > MAX_DEPTH)
                self.fail((*path[:3], "..."), f"nests deeper than {MAX_DEPTH} levels")
            for v in value.values() if isinstance(value, Mapping) else value:
                if type(v) is float and not math.isfinite(v):
                    path = _locate(data, lambda x, d: type(x) is float and not math.isfinite(x))
                    self.fail(path, f"is {_locate_value(data, path)}, not a finite number")
                if isinstance(v, Mapping | list):
                    todo.append((v, depth + 1))

    # ------------------------------------------------------------------ the parts

    def aggregate(self, agg: Any, path: tuple[str, ...]) -> None:
        self.typed(agg, Mapping, path)
        for k in AGGREGATE_FIELDS:
            self.number(agg.get(k), (*path, k))
        if "values" in agg:
            self.numbers(agg["values"], (*path, "values"))

    def entry(self, e: Any, path: tuple[str, ...]) -> None:
        self.typed(e, Mapping, path)
        for key, agg in (self.mapping(e, "metrics", path) or {}).items():
            self.aggregate(agg, (*path, "metrics", key))
        for i, s in enumerate(self.seq(e, "seeds", path) or ()):
            self.typed(s, int, (*path, "seeds", str(i)))
        for section in ("config", "eval_config"):  # plain fields, each of its declared kind
            kinds = _FIELD_KINDS[section]
            for key, v in (self.mapping(e, section, path) or {}).items():
                kind = kinds.get(key, (str, int, float, type(None)))
                if isinstance(v, bool) or not isinstance(v, kind):
                    self.fail((*path, section, key), f"must be {_kind_words(kind)}, not "
                              f"{type(v).__name__}")  # fmt: skip
        if e.get("interval") is not None:
            ipath = (*path, "interval")
            for key, iv in self.typed(e["interval"], Mapping, ipath).items():
                self.typed(iv, Mapping, (*ipath, key))
                number = (int, float)
                self.fields(
                    iv, (*ipath, key), required=(("low", number), ("high", number)),
                    optional=(("mean", number), ("n_seeds", int)),
                )  # fmt: skip
        for key, series in (self.mapping(e, "curves", path) or {}).items():
            self.numbers(series, (*path, "curves", key))
        for key, series in (self.mapping(e, "loss", path) or {}).items():
            self.numbers(series, (*path, "loss", key))
        for i, row in enumerate(self.seq(e, "protocol_quantiles", path) or ()):
            self.numbers(row, (*path, "protocol_quantiles", str(i)))
        if e.get("examples") is not None:
            self.examples(self.typed(e["examples"], Mapping, (*path, "examples")), path)
        if e.get("training_length") is not None:
            tl = self.typed(e["training_length"], Mapping, (*path, "training_length"))
            tpath = (*path, "training_length")
            self.integers(tl.get("steps", []), (*tpath, "steps"))
            for key, aggs in (self.mapping(tl, "metrics", tpath) or {}).items():
                self.aggregates(aggs, (*tpath, "metrics", key))

    def numbers(self, values: Any, path: tuple[str, ...], depth: int = 1) -> None:
        """A list of numbers (or null); of such lists for ``depth`` 2."""
        self.typed(values, list, path)
        if depth > 1:
            for i, v in enumerate(values):
                self.numbers(v, (*path, str(i)), depth - 1)
        elif not all(type(v) in _NUMBER_TYPES for v in values):  # the fast path: one pass
            for i, v in enumerate(values):
                self.number(v, (*path, str(i)))

    def integers(self, values: Any, path: tuple[str, ...]) -> None:
        for i, v in enumerate(self.typed(values, list, path)):
            self.typed(v, int, (*path, str(i)))

    def aggregates(self, values: Any, path: tuple[str, ...]) -> None:
        """A list of aggregates (or null), one per step."""
        for i, agg in enumerate(self.typed(values, list, path)):
            if agg is not None:
                self.aggregate(agg, (*path, str(i)))

    def examples(self, ex: Mapping, path: tuple[str, ...]) -> None:
        path = (*path, "examples")
        if ex.get("heatmap") is not None:
            hm = self.typed(ex["heatmap"], Mapping, (*path, "heatmap"))
            for key in ("bfs", "pred", "walls"):
                if key in hm:
                    self.numbers(hm[key], (*path, "heatmap", key), depth=2)
            if "goal" in hm:
                self.integers(hm["goal"], (*path, "heatmap", "goal"))
        for i, t in enumerate(self.seq(ex, "trajectories", path) or ()):
            tpath = (*path, "trajectories", str(i))
            self.typed(t, Mapping, tpath)
            for key in ("pred", "true"):
                if key in t:
                    self.numbers(t[key], (*tpath, key))
            if "index" in t:
                self.typed(t["index"], int, (*tpath, "index"))

    def entries(self, data: Mapping) -> None:
        for keys in _ENTRY_SECTIONS:
            d, path = data, ()
            for k in keys:
                d = self.mapping(d, k, path) if d is not None else None
                path = (*path, k)
            for regime, names in (d or {}).items():
                self.typed(names, Mapping, (*path, regime))
                for name, e in names.items():
                    self.entry(e, (*path, regime, name))

    def ablation_studies(self, data: Mapping) -> None:
        studies = self.mapping(data.get("ablations") or {}, "studies", ("ablations",))
        for study, rows in (studies or {}).items():
            path = ("ablations", "studies", study)
            for i, v in enumerate(self.typed(rows, list, path)):
                vpath = (*path, str(i))
                self.typed(v, Mapping, vpath)
                self.fields(v, vpath, required=(("config", str), ("run", str), ("sets", Mapping)))

    def claims(self, data: Mapping, path: tuple[str, ...] = ()) -> None:
        """``data["claims"]``: the main claims (``path`` ()), or a study's judged again on its
        own runs (``path`` its block; there a "regime" names where it was judged)."""
        for i, c in enumerate(self.seq(data, "claims", path) or ()):
            path_i = (*path, "claims", str(i))
            self.claim(c, path_i)

    def claim(self, c: Any, path: tuple[str, ...]) -> None:
        """One claim: its words, and per regime its finding (verdict, seeds, shares learned)."""
        self.typed(c, Mapping, path)
        words = (("claim", str), ("paper", str), ("rule", str), ("gate", (str, type(None))))
        self.fields(c, path, required=(("id", str),), optional=words)
        for regime, f in (self.mapping(c, "regimes", path) or {}).items():
            fpath = (*path, "regimes", regime)
            self.typed(f, Mapping, fpath)
            self.fields(f, fpath, required=(("verdict", str),), optional=(("ours", str),))
            for j, v in enumerate(self.seq(f, "by_seed", fpath) or ()):
                self.typed(v, str, (*fpath, "by_seed", str(j)))
            self.integers(f.get("seeds", []), (*fpath, "seeds"))
            for name, x in (self.mapping(f, "learned", fpath) or {}).items():
                self.number(x, (*fpath, "learned", name))

    def paper(self, data: Mapping) -> None:
        paper = self.mapping(data, "paper", ())
        if paper is None:
            return
        for name, values in (self.mapping(paper, "results", ("paper",)) or {}).items():
            self.typed(values, Mapping, ("paper", "results", name))
            for key, v in values.items():
                self.number(v, ("paper", "results", name, key))
        for name, values in (self.mapping(paper, "printed", ("paper",)) or {}).items():
            self.typed(values, Mapping, ("paper", "printed", name))
            for key, v in values.items():
                self.typed(v, (str, int, float), ("paper", "printed", name, key))
        self.mapping(paper, "hyperparameters", ("paper",))
        if paper.get("n_spearman_trajectories") is not None:
            self.typed(paper["n_spearman_trajectories"], int, ("paper", "n_spearman_trajectories"))


def _locate(data: Any, bad) -> tuple[str, ...]:
    """The key path of the first value ``v`` at depth ``d`` with ``bad(v, d)``."""
    todo: list[tuple[Any, tuple[str, ...]]] = [(data, ())]
    while todo:
        value, path = todo.pop()
        if bad(value, len(path)):
            return path
        if isinstance(value, Mapping):
            todo.extend((v, (*path, str(k))) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            todo.extend((v, (*path, str(k))) for k, v in reversed(list(enumerate(value))))
    return ()


def _locate_value(data: Any, path: tuple[str, ...]) -> Any:
    for k in path:
        data = data[int(k)] if isinstance(data, list) else data[k]
    return data


# A study's check of its block: (checker, block, key path of the block); raises through the
# checker's ``fail`` (BadInput naming the file and the key path).
BlockCheck = Callable[[Checker, Any, tuple[str, ...]], None]


def check_summary(
    data: Any, where: str, blocks: Mapping[str, BlockCheck] | None = None
) -> Mapping[str, Any]:
    """``data`` if it has the shape the typed view reads; BadInput naming ``where`` (the
    file) and the key path of the first value that does not. ``blocks``: the studies'
    checks by summary key (:func:`repro.studies.registry.check`), each run on its block
    where the summary has one."""
    c = Checker(where)
    c.typed(data, Mapping, ())
    c.finite_and_shallow(data)
    if "scale" in data:
        c.typed(data["scale"], str, ("scale",))
    for key in ("seeds", "ablation_seeds"):
        for i, s in enumerate(c.seq(data, key, ()) or ()):
            c.typed(s, int, (key, str(i)))
    c.entries(data)
    c.ablation_studies(data)
    c.claims(data)
    c.paper(data)
    for key, check in (blocks or {}).items():
        if data.get(key) is not None:
            check(c, data[key], (key,))
    return data
