"""The stitching study's section: per learner, the cross-quadrant Spearman of its normal- and
strict-stitching-trained models by band of BFS distance, the gap between them paired by seed,
and the sentence that says which learners close it."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from repro.core.metrics import paired_difference
from repro.core.overlap import BANDS, band_name
from repro.report.texfmt import NO_VALUE, Tex, num
from repro.results.view import Entry, Summary
from repro.studies.arms import study_of
from repro.studies.study import Section

REGIME = "fixed"
LONG = band_name(BANDS[-1])  # the longest band: where stitching must compose the most

# The level of the gap's interval: paired_difference's own default, read, not typed.
CONFIDENCE = inspect.signature(paired_difference).parameters["confidence"].default


@dataclass(frozen=True)
class Learner:
    """One learner: its name in the report, the arm its runs are in ('main': the main study)
    and its runs' labels on normal and on strict stitching data."""

    label: str
    arm: str
    normal: str
    strict: str


LEARNERS = (
    Learner("supervised (paper)", "main", "supervised-normal", "supervised-stitching-strict"),
    Learner("contrastive (paper)", "main", "contrastive-normal", "contrastive-stitching-strict"),
    Learner("contrastive, metric head", "metric", "contrastive_qm-normal+metric",
            "contrastive_qm-stitching-strict+metric"),
    Learner("contrastive, MRN head", "mrn", "contrastive_qm-normal+mrn",
            "contrastive_qm-stitching-strict+mrn"),
    Learner("contrastive, IQE head", "iqe", "contrastive_qm-normal",
            "contrastive_qm-stitching-strict"),
    Learner("supervised, temporal augmentation", "augment", "supervised_aug-normal",
            "supervised_aug-stitching-strict"),
    Learner("TD distance", "td", "td-normal", "td-stitching-strict"),
)  # fmt: skip


def entries(summary: Summary, learner: Learner) -> tuple[Entry | None, Entry | None]:
    """The learner's normal- and strict-trained entries (None where not run)."""
    if learner.arm == "main":
        return summary.run(REGIME, learner.normal), summary.run(REGIME, learner.strict)
    study = study_of(summary, "stitching")
    runs = study.runs(learner.arm, REGIME) if study else {}
    return runs.get(learner.normal), runs.get(learner.strict)


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


def rows(summary: Summary) -> list[dict[str, Any]]:
    """Per learner that ran: cross-quadrant Spearman per band, normal / strict, and the
    longest band's gap with its interval."""
    out = []
    for learner in LEARNERS:
        normal, strict = entries(summary, learner)
        if normal is None and strict is None:
            continue
        cells = []
        for band in BANDS:
            key = f"spearman_cross_{band_name(band)}"
            a = None if normal is None else normal.mean(key)
            b = None if strict is None else strict.mean(key)
            cells.append(f"{num(a, 2)} / {num(b, 2)}")
        g = gap(normal, strict, f"spearman_cross_{LONG}")
        d, low, high, n = g
        interval = NO_VALUE if low is None else f"[{low:+.2f}, {high:+.2f}]"
        out.append(
            {
                "label": learner.label,
                "bands": Tex(" & ".join(cells)),
                "gap": NO_VALUE if d is None else f"{d:+.2f} {interval}",
                "closes": closes(g),
            }
        )
    return out


def verdict_sentence(table: list[dict[str, Any]]) -> str:
    """Which learners close the longest band's gap, and which leave one."""
    closed = [r["label"] for r in table if r["closes"] is True]
    left = [r["label"] for r in table if r["closes"] is False]
    if not closed and not left:
        return "No learner ran with enough seeds to measure its gap."
    parts = []
    if closed:
        parts.append(
            "on the longest cross-quadrant trajectories the strict-stitching model cannot be "
            "told from the normal-trained one (the gap's interval holds zero) for: "
            + "; ".join(closed)
        )
    if left:
        parts.append(f"a gap remains for: {'; '.join(left)}")
    text = ", and ".join(parts)
    return text[0].upper() + text[1:] + "."


def section(summary: Summary) -> Section | None:
    """The section after the ablations (None where the study has no results)."""
    if study_of(summary, "stitching") is None:
        return None
    table = rows(summary)
    context = {
        "rows": table,
        "bands": Tex(" & ".join(band_name(b) for b in BANDS)),
        "long": LONG,
        "sentence": verdict_sentence(table),
        "ci": Tex(f"{CONFIDENCE:.0%}".replace("%", "\\%")),
    }
    return Section("sections/stitching.tex.j2", "end", context)
