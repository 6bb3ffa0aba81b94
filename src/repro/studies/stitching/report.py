"""The stitching study's section: per learner, the cross-quadrant Spearman of its normal-,
strict-stitching- and short-path-trained models by band of BFS distance, the gap between the
normal-trained model and each other (normal minus other, paired by seed), and the named checks
that the section's written sentences rest on."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from repro.config import REGIMES
from repro.core.metrics import paired_difference
from repro.core.overlap import BANDS, band_name
from repro.report.checks import MOSTLY_SEEN, Check
from repro.report.stitching import data_value
from repro.report.texfmt import NO_VALUE, Tex, num, pct
from repro.results.claims import LEARNED_SHARE
from repro.results.view import Entry, Summary
from repro.studies.arms import study_of
from repro.studies.study import Section

LONG = band_name(BANDS[-1])  # the longest band: where stitching must compose the most
LONG_KEY = f"spearman_cross_{LONG}"

# The level of the gap's interval: paired_difference's own default, read, not typed.
CONFIDENCE = inspect.signature(paired_difference).parameters["confidence"].default

# The verdicts on one learner's gap on the longest band (normal minus strict, paired by seed).
CLOSED = "closed"  # the interval holds zero or lies below it
LEFT = "left"  # the interval lies above zero: the strict-trained model ranks worse
UNLEARNED = "not testable"  # the normal-trained model did not learn the band (the gate)
UNMEASURED = "not measured"  # fewer than two seeds pair, or a number is missing
VERDICT_WORDS = {CLOSED: "gap closed", LEFT: "a gap remains", UNLEARNED: "not testable",
                 UNMEASURED: "not measured"}  # fmt: skip


# The data a learner's normal-trained model is set against: strict stitching paths (nothing
# joins two quadrants) and short paths (every cell joined, no path spans a long test pair).
STRICT, SHORT_DATA = "strict", "short"
OTHER_DATA = (STRICT, SHORT_DATA)
# The arm of the paper's learners on short paths (on normal and strict data: the main study).
PAPER_ARM = "paper"


@dataclass(frozen=True)
class Learner:
    """One learner: its key in the checks, its name in the report, the arm its runs are in
    ('main': the main study; their short-path runs are in PAPER_ARM), its runs' labels on
    normal, strict stitching and short-path data, and the regime they were trained in."""

    key: str
    label: str
    arm: str
    normal: str
    strict: str
    short: str
    regime: str = "fixed"


LEARNERS = (
    Learner("sup", "supervised (paper)", "main", "supervised-normal",
            "supervised-stitching-strict", "supervised-short"),
    Learner("con", "contrastive (paper)", "main", "contrastive-normal",
            "contrastive-stitching-strict", "contrastive-short"),
    Learner("metric", "contrastive, metric head", "metric", "contrastive_qm-normal+metric",
            "contrastive_qm-stitching-strict+metric", "contrastive_qm-short+metric"),
    Learner("mrn", "contrastive, MRN head", "mrn", "contrastive_qm-normal+mrn",
            "contrastive_qm-stitching-strict+mrn", "contrastive_qm-short+mrn"),
    Learner("iqe", "contrastive, IQE head", "iqe", "contrastive_qm-normal",
            "contrastive_qm-stitching-strict", "contrastive_qm-short"),
    Learner("aug", "supervised, temporal augmentation", "augment", "supervised_aug-normal",
            "supervised_aug-stitching-strict", "supervised_aug-short"),
    Learner("td", "TD distance", "td", "td-normal", "td-stitching-strict", "td-short"),
    Learner("field", "supervised, conv.\\ field", "procedural", "supervised_conv-normal",
            "supervised_conv-stitching-strict", "supervised_conv-short", "procedural"),
)  # fmt: skip
BY_KEY = {learner.key: learner for learner in LEARNERS}
REGIME_WORDS = {"fixed": "fixed maze", "procedural": "unseen mazes"}


def _arm_run(summary: Summary, arm: str, regime: str, label: str) -> Entry | None:
    study = study_of(summary, "stitching")
    return (study.runs(arm, regime) if study else {}).get(label)


def entries(
    summary: Summary, learner: Learner, data: str = STRICT
) -> tuple[Entry | None, Entry | None]:
    """The learner's normal-trained entry and the one trained on ``data`` (STRICT or
    SHORT_DATA); None where not run."""
    if data == SHORT_DATA:
        arm = PAPER_ARM if learner.arm == "main" else learner.arm
        other = _arm_run(summary, arm, learner.regime, learner.short)
    elif learner.arm == "main":
        other = summary.run(learner.regime, learner.strict)
    else:
        other = _arm_run(summary, learner.arm, learner.regime, learner.strict)
    if learner.arm == "main":
        return summary.run(learner.regime, learner.normal), other
    return _arm_run(summary, learner.arm, learner.regime, learner.normal), other


def _tag(data: str) -> str:
    """The infix of a number's name for ``data``: '' for strict data (the names the checks
    have always read), ' short' for short paths."""
    return "" if data == STRICT else f" {data}"


def gap(normal: Entry | None, strict: Entry | None, key: str) -> tuple[float | None, ...]:
    """normal - strict on ``key``, paired by seed: (mean, low, high, seeds) with a 95%
    Student-t interval (low and high None with one seed; all None if nothing pairs)."""
    if normal is None or strict is None:
        return None, None, None, 0
    seeds = [s for s in normal.seeds if s in strict.seeds]
    pairs = [(normal.at_seed(key, s), strict.at_seed(key, s)) for s in seeds]
    pairs = [(a, b) for a, b in pairs if a is not None and b is not None]
    if not pairs:
        return None, None, None, 0
    d, low, high = paired_difference([a for a, _ in pairs], [b for _, b in pairs])
    if len(pairs) < 2:
        return d, None, None, 1
    return d, low, high, len(pairs)


def closes(g: Sequence) -> bool | None:
    """Whether a gap is closed: its interval holds zero or lies below it (None: unmeasured
    or one seed)."""
    d, low, high, n = g
    if d is None or n < 2:
        return None
    return low <= 0


def learned(normal: Entry | None, key: str = LONG_KEY) -> bool | None:
    """Whether the normal-trained model learned the band ``key`` (the longest by default): a
    Spearman of at least LEARNED_SHARE (the claims' gate: that share of the way from a
    constant, 0, to the BFS distance, 1) on every seed; None where not measured."""
    values = [] if normal is None else [normal.at_seed(key, s) for s in normal.seeds]
    if not values or any(v is None for v in values):
        return None
    return min(values) >= LEARNED_SHARE


def band_verdict(
    summary: Summary, learner: Learner, band: str, data: str = STRICT
) -> tuple[str, dict]:
    """The learner's verdict on one band against ``data`` (CLOSED, LEFT, UNLEARNED or
    UNMEASURED) and the numbers it read ('<key>[ short] gap <band>', its interval's ends)."""
    key = f"spearman_cross_{band}"
    normal, other = entries(summary, learner, data)
    d, low, high, n = g = gap(normal, other, key)
    k = f"{learner.key}{_tag(data)} gap {band}"
    numbers = {k: d, f"{k} low": low, f"{k} high": high}
    if closes(g) is None or learned(normal, key) is None:
        return UNMEASURED, numbers
    if not learned(normal, key):
        return UNLEARNED, numbers
    return (CLOSED if closes(g) else LEFT), numbers


def verdict(
    summary: Summary, learner: Learner, data: str = STRICT
) -> tuple[str, dict[str, float | None]]:
    """The learner's verdict on the longest band against ``data`` (:func:`band_verdict`),
    with the numbers it read, the band's normal and other means and the paired seeds."""
    found, numbers = band_verdict(summary, learner, LONG, data)
    normal, other = entries(summary, learner, data)
    k, t = learner.key, _tag(data)
    numbers[f"{k} normal {LONG}"] = None if normal is None else normal.mean(LONG_KEY)
    numbers[f"{k} {data} {LONG}"] = None if other is None else other.mean(LONG_KEY)
    numbers[f"{k}{t} paired seeds"] = float(gap(normal, other, LONG_KEY)[3])
    return found, numbers


def by_band(wanted: dict[str, str], keys: Sequence[str]):
    """A check's test: every learner of ``keys`` has, on each band of ``wanted``, the
    verdict it names ({band name: CLOSED or LEFT})."""

    def test(summary: Summary) -> tuple[bool, dict[str, float | None]]:
        found = [band_verdict(summary, BY_KEY[k], b) for k in keys for b in wanted]
        numbers = {name: v for _, n in found for name, v in n.items()}
        verdicts = [v for v, _ in found]
        return verdicts == [w for _ in keys for w in wanted.values()], numbers

    return test


def _pair(normal: Entry | None, strict: Entry | None, key: str, rate: bool = False) -> str:
    show = pct if rate else (lambda x: num(x, 2))
    a = None if normal is None else normal.mean(key)
    b = None if strict is None else strict.mean(key)
    return f"{show(a)} / {show(b)}"


def rows(summary: Summary, data: str = STRICT) -> list[dict[str, Any]]:
    """Per learner whose ``data``-trained model ran: cross-quadrant Spearman per band, normal /
    other, the longest band's gap with its interval, and the same-quadrant Spearman, the
    cross-quadrant one and greedy's solved rate on cross-quadrant instances (normal / other)."""
    out = []
    for learner in LEARNERS:
        normal, other = entries(summary, learner, data)
        if other is None and (normal is None or data != STRICT):  # short: only once it ran
            continue
        bands = [_pair(normal, other, f"spearman_cross_{band_name(b)}") for b in BANDS]
        d, low, high, n = gap(normal, other, LONG_KEY)
        interval = NO_VALUE if low is None else f"[{low:+.2f}, {high:+.2f}]"
        out.append(
            {
                "key": learner.key,
                "label": Tex(learner.label),
                "regime": REGIME_WORDS[learner.regime],
                "bands": Tex(" & ".join(bands)),
                "gap": NO_VALUE if d is None else f"{d:+.2f} {interval}",
                "halves": Tex(" & ".join((
                    _pair(normal, other, "spearman_full_same"),
                    _pair(normal, other, "spearman_full_cross"),
                    _pair(normal, other, "greedy_solved_cross", rate=True),
                ))),
                "verdict": verdict(summary, learner, data)[0],
                "steps": f"{steps:,}" if (steps := normal and normal.config.get("steps")) else "",
            }
        )  # fmt: skip
    return out


def numbers(summary: Summary) -> dict[str, Any]:
    """'<key>_<what>' for the sentences: the longest band's normal, strict and short Spearman
    and the gaps ('<key>_gap' against strict data, '<key>_short_gap' against short paths), as
    TeX (two decimals), per learner."""
    out: dict[str, Any] = {}
    for learner in LEARNERS:
        k = learner.key
        for data in OTHER_DATA:
            _, n = verdict(summary, learner, data)
            out[f"{k}_normal"] = num(n[f"{k} normal {LONG}"], 2)
            out[f"{k}_{data}"] = num(n[f"{k} {data} {LONG}"], 2)
            out[f"{k}{_tag(data).replace(' ', '_')}_gap"] = num(n[f"{k}{_tag(data)} gap {LONG}"], 2)
    return out


def _is(keys: Sequence[str], wanted: str):
    """A check's test: every learner of ``keys`` has the verdict ``wanted``."""

    def test(summary: Summary) -> tuple[bool, dict[str, float | None]]:
        found = [verdict(summary, BY_KEY[k]) for k in keys]
        numbers = {name: v for _, n in found for name, v in n.items()}
        return all(v == wanted for v, _ in found), numbers

    return test


def no_bridge(summary: Summary) -> tuple[bool, dict[str, float | None]]:
    """Strict stitching data hold no step between quadrants: in both regimes no path cell
    lies outside its start's quadrant (so no transition crosses a border)."""
    n = {f"{r} strict leak_cells": data_value(summary, r, "stitching-strict", "leak_cells")
         for r in REGIMES}  # fmt: skip
    return all(v is not None for v in n.values()) and max(n.values()) == 0.0, n


def fixed_cross_recall(summary: Summary) -> tuple[bool, dict[str, float | None]]:
    """In the fixed maze the normal data hold at least MOSTLY_SEEN of the cross-quadrant test
    pairs and the strict data none."""
    n = {"fixed normal seen_test_cross": data_value(summary, "fixed", "normal", "seen_test_cross"),
         "fixed strict seen_test_cross": data_value(summary, "fixed", "stitching-strict",
                                               "seen_test_cross")}  # fmt: skip
    if any(v is None for v in n.values()):
        return False, n
    return n["fixed normal seen_test_cross"] >= MOSTLY_SEEN and not n[
        "fixed strict seen_test_cross"
    ], n


def loses_more(summary: Summary, a: str, b: str) -> tuple[bool, dict[str, float | None]]:
    """Learner ``a``'s longest-band gap exceeds ``b``'s beyond both intervals (a's low end
    above b's high end), each learner having learned the band."""
    (va, na), (vb, nb) = verdict(summary, BY_KEY[a]), verdict(summary, BY_KEY[b])
    n = {**na, **nb}
    low, high = na[f"{a} gap {LONG} low"], nb[f"{b} gap {LONG} high"]
    learned_both = va in (CLOSED, LEFT) and vb in (CLOSED, LEFT)
    return learned_both and low is not None and high is not None and low > high, n


FIXED = tuple(k for k, learner in BY_KEY.items() if learner.regime == "fixed")
# The learners whose training pairs include cross-quadrant ones even on strict data: the
# contrastive ones (their negatives come from other trajectories of the maze) and TD (its
# goals come from any trajectory); the regression learners see within-quadrant pairs only.
SEES_CROSS = ("con", "metric", "mrn", "iqe", "td")
WITHIN_ONLY = ("sup", "aug")
HEADS = ("metric", "mrn", "iqe")
# The bands of at most 20 steps, and the longer ones (the field's sentence names both).
SHORT = tuple(band_name(b) for b in BANDS if b[1] is not None and b[1] <= 20)
LONGER = tuple(band_name(b) for b in BANDS if band_name(b) not in SHORT)


def _strict_seeds(summary: Summary, key: str) -> list[float]:
    strict = entries(summary, BY_KEY[key])[1]
    values = [] if strict is None else [strict.at_seed(LONG_KEY, s) for s in strict.seeds]
    return [v for v in values if v is not None]


def strict_above(summary: Summary, high: Sequence[str], low: Sequence[str]):
    """Every seed of every ``high`` learner's strict model ranks the longest band above every
    seed of every ``low`` learner's."""
    hi = {k: _strict_seeds(summary, k) for k in high}
    lo = {k: _strict_seeds(summary, k) for k in low}
    n = {f"{k} strict {LONG} lowest seed": min(v, default=None) for k, v in hi.items()}
    n |= {f"{k} strict {LONG} highest seed": max(v, default=None) for k, v in lo.items()}
    if any(v is None for v in n.values()):
        return False, n
    return min(min(v) for v in hi.values()) > max(max(v) for v in lo.values()), n


def not_above(summary: Summary, keys: Sequence[str], ref: str):
    """No learner of ``keys`` has a strict model measurably above ``ref``'s on the longest
    band (paired by seed: the interval of key minus ref reaches zero or below)."""
    n: dict[str, float | None] = {}
    ok = True
    for k in keys:
        _, low, high, m = gap(entries(summary, BY_KEY[k])[1], entries(summary, BY_KEY[ref])[1],
                              LONG_KEY)  # fmt: skip
        n[f"{k} - {ref} strict {LONG} low"], n[f"{k} - {ref} strict {LONG} high"] = low, high
        ok = ok and low is not None and low <= 0
    return ok, n


def smallest_from_weakest(summary: Summary, key: str, among: Sequence[str]):
    """``key``'s longest-band gap is the smallest of ``among`` and its normal-trained model
    the weakest there (means over seeds)."""
    n = {}
    for k in among:
        _, v = verdict(summary, BY_KEY[k])
        n[f"{k} gap {LONG}"], n[f"{k} normal {LONG}"] = (
            v[f"{k} gap {LONG}"],
            v[f"{k} normal {LONG}"],
        )
    if any(v is None for v in n.values()):
        return False, n
    others = [k for k in among if k != key]
    g, w = f"{key} gap {LONG}", f"{key} normal {LONG}"
    return all(n[g] < n[f"{k} gap {LONG}"] and n[w] < n[f"{k} normal {LONG}"] for k in others), n


def checks() -> dict[str, Check]:
    """The section's named checks, each the claim of one written sentence."""
    return {
        "stitch-gap-fixed": Check(
            "in the fixed maze every learner's normal-trained model learned the longest "
            f"cross-quadrant band and the {CONFIDENCE:.0%} interval of its gap (normal minus "
            "strict) lies above zero", _is(FIXED, LEFT),
        ),
        "stitch-no-bridge": Check(
            "in both regimes no path cell of the strict stitching data lies outside its "
            "start's quadrant", no_bridge,
        ),
        "stitch-fixed-recall": Check(
            f"in the fixed maze the normal data hold at least {MOSTLY_SEEN:.0%} of the "
            "cross-quadrant test pairs and the strict data none", fixed_cross_recall,
        ),
        "stitch-cross-pairs-keep": Check(
            "every seed of every strict-trained learner whose training pairs cross quadrants "
            "(contrastive, TD) ranks the longest band above every seed of the regression "
            "learners' (supervised, augmented)",
            lambda s: strict_above(s, SEES_CROSS, WITHIN_ONLY),
        ),
        "stitch-heads-no-better": Check(
            "no metric or quasimetric head's strict-trained model ranks the longest band "
            "measurably above the paper's contrastive critic's (paired by seed)",
            lambda s: not_above(s, HEADS, "con"),
        ),
        "stitch-aug-no-better": Check(
            "the augmented regression's strict-trained model does not rank the longest band "
            "measurably above the paper's regression's (paired by seed)",
            lambda s: not_above(s, ("aug",), "sup"),
        ),
        "stitch-td-smallest": Check(
            "TD's longest-band gap is the smallest of the fixed-maze learners and its "
            "normal-trained model the weakest there",
            lambda s: smallest_from_weakest(s, "td", FIXED),
        ),
        "stitch-sup-loses-more": Check(
            "the paper's supervised learner's longest-band gap exceeds the contrastive "
            "one's beyond both intervals", lambda s: loses_more(s, "sup", "con"),
        ),
        "stitch-field-short-closed": Check(
            f"in unseen mazes the convolutional field's gap interval holds zero on the bands "
            f"{' and '.join(SHORT)} and lies above zero on the longer ones",
            by_band({**dict.fromkeys(SHORT, CLOSED), **dict.fromkeys(LONGER, LEFT)}, ("field",)),
        ),
        "stitch-fixed-second-left": Check(
            f"in the fixed maze every learner's gap interval lies above zero already on the "
            f"band {SHORT[-1]}", by_band({SHORT[-1]: LEFT}, FIXED),
        ),
        "stitch-field-gap": Check(
            "in unseen mazes the convolutional field's gap interval lies above zero",
            _is(("field",), LEFT),
        ),
    }  # fmt: skip


def section(summary: Summary) -> Section | None:
    """The section after the ablations (None where the study has no results)."""
    if study_of(summary, "stitching") is None:
        return None
    table = rows(summary)
    context = {
        "rows": table,
        "ran": {r["key"] for r in table},
        "verdicts": {r["key"]: r["verdict"] for r in table},
        "n": numbers(summary),
        "bands": Tex(" & ".join(band_name(b) for b in BANDS)),
        "n_bands": len(BANDS),
        "long": LONG,
        "learned": f"{LEARNED_SHARE:.2f}",
        "ci": Tex(f"{CONFIDENCE:.0%}".replace("%", "\\%")),
        "field_steps": next((r["steps"] for r in table if r["key"] == "field"), NO_VALUE),
        "short": " and ".join(SHORT),
        "short_last": SHORT[-1],
        "seen_cross": pct(fixed_cross_recall(summary)[1]["fixed normal seen_test_cross"]),
    }
    return Section("sections/stitching.tex.j2", "end", context, checks())


def findings(summary: Summary) -> list[str]:
    """The README's line: per learner that ran, its longest-band cross-quadrant Spearman,
    normal / strict, and its verdict ([] without the study)."""
    if study_of(summary, "stitching") is None:
        return []
    parts = []
    for learner in LEARNERS:
        v, n = verdict(summary, learner)
        a, b = n[f"{learner.key} normal {LONG}"], n[f"{learner.key} strict {LONG}"]
        if a is None and b is None:
            continue
        text = lambda x: "–" if x is None else f"{x:.2f}"  # noqa: E731
        where = "" if learner.regime == "fixed" else ", unseen mazes"
        parts.append(f"{learner.label.replace(chr(92) + ' ', ' ')}{where} {text(a)} / {text(b)} "
                     f"({VERDICT_WORDS[v]})")  # fmt: skip
    return [
        "- Which learners stitch (stitching study, fixed maze unless marked): Spearman on the "
        f"longest cross-quadrant test trajectories ({LONG} steps), normal- / strict-stitching-"
        f"trained: {'; '.join(parts)}."
    ]
