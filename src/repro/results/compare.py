"""``python -m repro compare``: did a rerun reproduce the committed results?

The fresh summary (the results folder's ``summary.json``) is compared with the
committed one: ``git show HEAD:results/summary.json`` in the project, or
``--against`` another git ref or a results folder. Both are read through the
typed view (:mod:`repro.results.view`).

- A *number* is one (regime, entry, metric) present in both summaries, where an
  entry is a paper configuration, a baseline or an ablation variant. It is
  *within* when the fresh mean lies in the committed seed spread [min, max],
  widened for ``spearman_full`` by the committed bootstrap CI over test
  trajectories, give or take ``TOL`` (so deterministic numbers, such as the
  baselines', must agree to that tolerance). A number measured in one summary
  and not in the other is outside; one that neither measured is within.
- A *verdict* is a claim's verdict in one regime, as each summary stores it; it
  changed when the two differ (or only one summary has it).

Numbers that only one summary holds (a regime or ablation not rerun, a metric
added since) are counted and named but do not decide the result, with one
exception: a number the committed summary holds for an entry the rerun ran (its
*scope*) must be in the rerun too. Nothing compared is never "reproduced": each
summary must hold every section of :data:`SECTIONS`, and at least one number
must be compared; otherwise the comparison names the problem. Exit code 0 when
every compared number is within, no verdict changed and there is no problem, 1
otherwise.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from repro.config import REGIMES
from repro.errors import BadInput
from repro.io import read_json
from repro.paths import summary_file, work_dir
from repro.results.shape import check_summary
from repro.results.view import Entry, Summary

TOL = 1e-9  # absolute slack on both ends of a committed interval
COMMITTED = "results/summary.json"  # the committed summary, relative to the project root
WIDENED = "spearman_full"  # the metric whose interval the bootstrap CI widens
NOT_MEASURED = "not measured"
NOT_CHECKED = "not checked"  # a claim's verdict in a regime that one summary lacks
LIST_AT_MOST = 10  # groups of one-sided numbers named before "and N more"
SECTIONS = ("scale", "seeds", "runs", "baselines", "claims")  # what both summaries must hold

Key = tuple[str, str, str]  # (regime, entry, metric)


@dataclass(frozen=True)
class Number:
    """One (regime, entry, metric) of both summaries: the committed interval ``(low, high)``
    (None if the committed summary did not measure it) and the fresh mean (or None)."""

    regime: str
    entry: str
    metric: str
    interval: tuple[float, float] | None
    fresh: float | None

    @property
    def within(self) -> bool:
        if self.interval is None or self.fresh is None:
            return self.interval is None and self.fresh is None
        low, high = self.interval
        return low - TOL <= self.fresh <= high + TOL


@dataclass(frozen=True)
class VerdictChange:
    """A claim whose verdict in ``regime`` differs between the summaries."""

    claim: str
    regime: str
    committed: str
    fresh: str


@dataclass(frozen=True)
class Comparison:
    """The numbers both summaries hold, those only one holds, and the changed verdicts."""

    numbers: tuple[Number, ...]
    only_committed: tuple[Key, ...]
    only_fresh: tuple[Key, ...]
    changed: tuple[VerdictChange, ...]
    problems: tuple[str, ...] = ()  # why nothing, or too little, could be compared

    @property
    def outside(self) -> tuple[Number, ...]:
        return tuple(n for n in self.numbers if not n.within)

    @property
    def n_within(self) -> int:
        return len(self.numbers) - len(self.outside)

    @property
    def reproduced(self) -> bool:
        """Every compared number within, no verdict changed, no problem."""
        return not self.outside and not self.changed and not self.problems


# ---------------------------------------------------------------------------- comparing


def committed_interval(entry: Entry, metric: str) -> tuple[float, float] | None:
    """The entry's seed spread (min, max) of ``metric``, widened by its bootstrap CI for
    ``spearman_full``; None if it was not measured."""
    agg = entry.metric(metric)
    spread = None if agg is None else agg.interval("range")
    if spread is None:
        return None
    ci = entry.bootstrap_ci() if metric == WIDENED else None
    return spread if ci is None else (min(spread[0], ci[0]), max(spread[1], ci[1]))


def _entries(view: Summary) -> Iterator[Entry]:
    """Every configuration, baseline and ablation variant of every regime."""
    for regime in dict.fromkeys([*REGIMES, *view.regimes]):
        yield from view.entries(regime)


def numbers(view: Summary) -> dict[Key, Entry]:
    """(regime, entry, metric) -> its entry, for every metric of every entry, in order."""
    return {(e.regime, e.name, m): e for e in _entries(view) for m in e.metric_keys()}


def _verdicts(view: Summary) -> dict[tuple[str, str], str]:
    """(claim id, regime) -> the verdict the summary stores; a study's claims (judged again
    on its runs) as ('<study>:<id>', where)."""
    out = {(c.id, r): f.verdict for c in view.claims for r, f in c.regimes.items()}
    for study, claims in view.study_claims.items():
        for c in claims:
            out.update({(f"{study}:{c.id}", r): f.verdict for r, f in c.regimes.items()})
    return out


def changed_verdicts(fresh: Summary, committed: Summary) -> list[VerdictChange]:
    """Every (claim, regime) whose verdict differs, the committed order first."""
    old, new = _verdicts(committed), _verdicts(fresh)
    return [
        VerdictChange(*k, old.get(k, NOT_CHECKED), new.get(k, NOT_CHECKED))
        for k in dict.fromkeys([*old, *new])
        if old.get(k) != new.get(k)
    ]


def problems(fresh: Summary, committed: Summary, compared: int, lost: list[Key]) -> list[str]:
    """Why the comparison cannot count as a reproduction whatever its numbers: a section
    that a summary lacks, nothing compared, or committed numbers missing from the rerun's
    own entries (``lost``)."""
    out = []
    for section in SECTIONS:
        lacking = [
            w for w, v in (("fresh", fresh), ("committed", committed)) if not v.data.get(section)
        ]
        if lacking:
            out.append(f"the {' and the '.join(lacking)} summary has no {section!r}")
    if not compared:
        out.append("no number was compared")
    if lost:
        regime, entry, metric = lost[0]
        out.append(
            f"{len(lost)} committed number{'s' if len(lost) > 1 else ''} of the entries the "
            f"rerun ran {'are' if len(lost) > 1 else 'is'} missing from it "
            f"(first: {regime} {entry} {metric})"
        )
    return out


def compare(fresh: Summary, committed: Summary) -> Comparison:
    """Compare every number and verdict of ``fresh`` with ``committed``."""
    old, new = numbers(committed), numbers(fresh)
    both = [k for k in old if k in new]
    only_committed = [k for k in old if k not in new]
    ran = {(e.regime, e.name) for e in _entries(fresh)}
    lost = [k for k in only_committed if k[:2] in ran]
    return Comparison(
        numbers=tuple(
            Number(*k, committed_interval(old[k], k[2]), new[k].mean(k[2])) for k in both
        ),
        only_committed=tuple(only_committed),
        only_fresh=tuple(k for k in new if k not in old),
        changed=tuple(changed_verdicts(fresh, committed)),
        problems=tuple(problems(fresh, committed, len(both), lost)),
    )


# ---------------------------------------------------------------------------- reading


def _as_view(data: object, where: str) -> Summary:
    if not isinstance(data, Mapping):
        raise BadInput(f"{where} is not a summary (a JSON object)")
    return Summary.from_dict(check_summary(data, where))


def _read(path: Path) -> Summary:
    """The summary at ``path``; BadInput if it is missing or not a summary."""
    return _as_view(read_json(path), str(path))


def summary_at(ref: str, project: Path) -> Summary:
    """``results/summary.json`` as committed at git ``ref`` in ``project``; BadInput if git
    is missing, the ref or file does not exist, or the file is not a summary."""
    where = f"{ref}:{COMMITTED}"
    if not ref or ref.startswith("-"):
        raise BadInput(f"{ref!r} is not a git ref")
    try:
        out = subprocess.run(
            ["git", "-C", str(project), "show", f"{ref}:./{COMMITTED}"],
            capture_output=True,
            text=True,
        )
    except FileNotFoundError:
        raise BadInput(f"cannot read {where}: git is not installed") from None
    if out.returncode != 0:
        reason = (out.stderr.strip().splitlines() or ["git show failed"])[-1]
        raise BadInput(f"cannot read {where} in {project}: {reason}")
    try:
        data = json.loads(out.stdout)
    except json.JSONDecodeError as e:
        raise BadInput(f"{where} is not valid JSON ({e})") from None
    return _as_view(data, where)


def committed_summary(against: str | None, project: Path | None = None) -> tuple[Summary, str]:
    """The summary to compare with, and where it came from: ``against`` is a results folder
    (its summary.json) or a git ref of ``project`` (default HEAD; ``project`` defaults to
    the current directory)."""
    if against and Path(against).is_dir():
        path = Path(against) / "summary.json"
        return _read(path), str(path)
    ref = "HEAD" if against is None else against
    return summary_at(ref, work_dir() if project is None else project), f"{ref}:{COMMITTED}"


def fresh_summary(root: Path) -> tuple[Summary, str]:
    """The summary of the results folder ``root``, and its path."""
    path = summary_file(root)
    return _read(path), str(path)


# ---------------------------------------------------------------------------- printing


def _fmt(x: float | None) -> str:
    return NOT_MEASURED if x is None else f"{x:.6g}"


def _interval(iv: tuple[float, float] | None) -> str:
    return NOT_MEASURED if iv is None else f"[{_fmt(iv[0])}, {_fmt(iv[1])}]"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Left-aligned columns, two spaces apart."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, *rows]
    ]


def _one_sided(keys: tuple[Key, ...], which: str) -> list[str]:
    """One line naming the metrics (with how many entries) that only one summary holds."""
    if not keys:
        return []
    groups = Counter(metric for _, _, metric in keys)
    named = [f"{m} ({n} {'entry' if n == 1 else 'entries'})" for m, n in groups.most_common()]
    more = len(named) - LIST_AT_MOST
    text = ", ".join(named[:LIST_AT_MOST]) + (f", and {more} more metrics" if more > 0 else "")
    return [f"only in the {which} summary: {text}"]


def _about(view: Summary) -> str:
    seeds = ", ".join(str(s) for s in view.seeds) or "none"
    return f"scale {view.data.get('scale', '?')}, seeds {seeds}"


def describe(c: Comparison, fresh: Summary, committed: Summary, labels: tuple[str, str]) -> str:
    """The readable report: where each summary came from, the counts, the numbers outside
    the committed spread, and the changed verdicts."""
    lines = [
        f"fresh:     {labels[0]} ({_about(fresh)})",
        f"committed: {labels[1]} ({_about(committed)})",
    ]
    if fresh.data.get("scale") != committed.data.get("scale"):
        lines.append("note: the two summaries differ in scale, so their numbers need not agree")
    lines += [
        "",
        f"numbers: {len(c.numbers)} in both summaries, {c.n_within} within the committed seed "
        f"spread, {len(c.outside)} outside; {len(c.only_fresh)} only in the fresh summary, "
        f"{len(c.only_committed)} only in the committed one",
        *_one_sided(c.only_fresh, "fresh"),
        *_one_sided(c.only_committed, "committed"),
    ]
    if c.outside:
        rows = [
            [n.regime, n.entry, n.metric, _interval(n.interval), _fmt(n.fresh)] for n in c.outside
        ]
        lines += ["", "outside the committed seed spread:"]
        lines += _table(["regime", "entry", "metric", "committed [min, max]", "fresh"], rows)
    lines += ["", f"verdicts changed: {len(c.changed) or 'none'}"]
    if c.changed:
        rows = [[v.claim, v.regime, v.committed, v.fresh] for v in c.changed]
        lines += _table(["claim", "regime", "committed", "fresh"], rows)
    lines += [f"problem: {p}" for p in c.problems]
    lines += ["", "reproduced" if c.reproduced else "not reproduced"]
    return "\n".join(lines)


def one_line(c: Comparison) -> str:
    """The comparison in one line (the last line of a paper-scale reproduce)."""
    k = len(c.changed)
    trouble = "".join(f"; {p}" for p in c.problems)
    return (
        f"compare: {c.n_within} of {len(c.numbers)} numbers within the committed seed spread, "
        f"{k} verdict{'' if k == 1 else 's'} changed{trouble} (python -m repro compare for "
        "details)"
    )


def reproduce_line(root: Path, project: Path | None = None) -> str:
    """:func:`one_line` of the results folder ``root``'s summary against the committed one;
    never raises (no git, no committed summary: the line says why nothing was compared)."""
    try:
        c = compare(fresh_summary(root)[0], committed_summary(None, project)[0])
    except Exception as e:  # the comparison is advice: it must never fail a reproduce
        return f"compare: not run ({e})"
    return one_line(c)


def main(root: Path, against: str | None = None, project: Path | None = None) -> int:
    """Print the comparison of the results folder ``root``'s summary with the committed one
    (``against``); 0 if reproduced, else 1; BadInput if a summary is unreadable."""
    new, new_label = fresh_summary(root)
    old, old_label = committed_summary(against, project)
    c = compare(new, old)
    print(describe(c, new, old, (new_label, old_label)))
    return 0 if c.reproduced else 1
