"""The stitching study's test on short paths: each learner's normal-trained model against the
same learner trained on paths of at most SHORT_HORIZON steps (``repro.core.data``'s 'short'
kind, with PATHS_FACTOR times the paths so that both data hold about as many transitions).

Strict stitching data cut the maze into four pieces no data join, so what a strict-trained
model says across a border is extrapolation. Short paths join every cell to its neighbours
but never span a long test pair: a learner ranks the longest band after training on them only
if it composes the pieces, which is what stitching means. The gap is read as for strict data
(:func:`repro.studies.stitching.report.verdict` with ``data=SHORT_DATA``): normal minus short on
the longest cross-quadrant band, paired by seed, counted where the normal model learned it.
"""

from __future__ import annotations

from typing import Any

from repro.config import PATHS_FACTOR
from repro.core.data import SHORT_HORIZON
from repro.report.checks import Check
from repro.report.texfmt import Tex, pct
from repro.results.view import Summary
from repro.studies.stitching.report import (
    BY_KEY,
    CLOSED,
    FIXED,
    LEARNERS,
    LEFT,
    LONG,
    SHORT_DATA,
    STRICT,
    UNMEASURED,
    VERDICT_WORDS,
    entries,
    rows,
    verdict,
)

# The checks whose sentence the section writes in either polarity (a ':not' check each).
TWO_WAY = ("stitch-short-some-closed", "stitch-short-below-strict")


def verdicts(summary: Summary) -> dict[str, str]:
    """key -> the learner's verdict on short paths, for each learner whose short run ran."""
    return {
        learner.key: verdict(summary, learner, SHORT_DATA)[0]
        for learner in LEARNERS
        if entries(summary, learner, SHORT_DATA)[1] is not None
    }


def some_closed(summary: Summary) -> tuple[bool, dict[str, float | None]]:
    """Whether at least one fixed-maze learner closes its gap on short paths (its normal
    model learned the longest band and the gap's interval holds zero or lies below it); the
    numbers are every fixed-maze learner's gap and its interval's ends."""
    found = [verdict(summary, BY_KEY[k], SHORT_DATA) for k in FIXED]
    n = {name: v for _, numbers in found for name, v in numbers.items() if " gap " in name}
    return any(v == CLOSED for v, _ in found), n


def complete(summary: Summary) -> bool:
    """Whether every fixed-maze learner's short-path gap was measured (its short run ran on
    at least two seeds that pair with its normal run's): the paragraph's sentences need all."""
    found = verdicts(summary)
    return all(k in found and found[k] != UNMEASURED for k in FIXED)


def below_strict(summary: Summary) -> tuple[bool, dict[str, float | None]]:
    """Whether short paths cost every fixed-maze learner less than strict data on the longest
    band (its mean gap against short paths below its mean gap against strict data)."""
    n: dict[str, float | None] = {}
    for k in FIXED:
        for data in (STRICT, SHORT_DATA):
            numbers = verdict(summary, BY_KEY[k], data)[1]
            tag = "" if data == STRICT else " short"
            n[f"{k}{tag} gap {LONG}"] = numbers[f"{k}{tag} gap {LONG}"]
    values = list(n.values())
    if any(v is None for v in values):
        return False, n
    pairs = zip(values[::2], values[1::2], strict=True)  # (strict gap, short gap) per learner
    return all(short < strict for strict, short in pairs), n


def checks() -> dict[str, Check]:
    """The short-path paragraph's named checks, with the ':not' form of the two-way ones."""
    found = {
        "stitch-short-some-closed": Check(
            "in the fixed maze at least one learner's normal-trained model learned the longest "
            "cross-quadrant band and its gap against short paths has an interval that holds "
            "zero or lies below it", some_closed,
        ),
        "stitch-short-below-strict": Check(
            "in the fixed maze short paths cost every learner less of the longest band's "
            "Spearman than strict stitching data (mean gaps)", below_strict,
        ),
    }  # fmt: skip
    for name in TWO_WAY:
        found[f"{name}:not"] = found[name].opposite(f"not: {found[name].says}")
    return found


def _names(summary: Summary, wanted: str) -> Tex | None:
    """The labels of the fixed-maze learners whose short verdict is ``wanted``, as a list in
    words (None if there are none)."""
    found = verdicts(summary)
    labels = [BY_KEY[k].label for k in FIXED if found.get(k) == wanted]
    if len(labels) < 2:
        return Tex(labels[0]) if labels else None
    return Tex(", ".join(labels[:-1]) + " and " + labels[-1])


def context(summary: Summary) -> dict[str, Any]:
    """What the section's short-path paragraph prints: its table rows, the verdicts, the
    learners that close and keep a gap, the data's horizon and paths factor, and the share of
    cross-quadrant test pairs the short data hold (the paper's supervised run's, fixed maze)."""
    table = rows(summary, SHORT_DATA)
    short = entries(summary, BY_KEY["sup"], SHORT_DATA)[1]
    return {
        "rows": table,
        "ran": {r["key"] for r in table},
        "verdicts": verdicts(summary),
        "complete": complete(summary),
        "closed": _names(summary, CLOSED),
        "closed_n": sum(v == CLOSED for k, v in verdicts(summary).items() if k in FIXED),
        "left": _names(summary, LEFT),
        "left_n": sum(v == LEFT for k, v in verdicts(summary).items() if k in FIXED),
        "horizon": SHORT_HORIZON,
        "factor": PATHS_FACTOR[SHORT_DATA],
        "seen_cross": pct(None if short is None else short.mean("data_seen_test_cross")),
        "held": {name: c.test(summary)[0] for name, c in checks().items() if ":" not in name},
    }


def finding(summary: Summary) -> list[str]:
    """The README's line on short paths: per learner whose short run ran, its longest-band
    Spearman, normal / short, and its verdict ([] before any ran)."""
    parts = []
    for learner in LEARNERS:
        if entries(summary, learner, SHORT_DATA)[1] is None:
            continue
        v, n = verdict(summary, learner, SHORT_DATA)
        a, b = n[f"{learner.key} normal {LONG}"], n[f"{learner.key} short {LONG}"]
        text = lambda x: "–" if x is None else f"{x:.2f}"  # noqa: E731
        where = "" if learner.regime == "fixed" else ", unseen mazes"
        parts.append(f"{learner.label.replace(chr(92) + ' ', ' ')}{where} {text(a)} / {text(b)} "
                     f"({VERDICT_WORDS[v]})")  # fmt: skip
    if not parts:
        return []
    return [
        "- Which learners stitch short paths (stitching study, fixed maze unless marked): "
        f"Spearman on the longest cross-quadrant test trajectories ({LONG} steps), normal- / "
        f"short-path-trained (paths of at most {SHORT_HORIZON} steps): {'; '.join(parts)}."
    ]
