"""The stitching study: which distance learners compose short experience into long distances?

Trained only on strict stitching data (start, goal and every step in one quadrant), a learner
must join pieces of different trajectories to know the distance between cells of different
quadrants; trained on short paths (at most SHORT_HORIZON steps, anywhere), it must compose
pieces to know any long distance. The study sets each learner's strict- and short-trained
models against its normal-trained one on the cross-quadrant test trajectories, by band of BFS
distance: the paper's two learners (the main study's runs; on short paths the 'paper' arm),
the contrastive model with a metric or quasimetric head (:mod:`repro.learn.quasimetric`), the
supervised model with temporal augmentation (:mod:`repro.learn.augment`) and a
temporal-difference distance (:mod:`repro.learn.td`), declared as the arms of
:data:`repro.config.STITCHING` (:mod:`repro.studies.arms`).

This package is the study: its entry (here), its report section (:mod:`.report`, with the
short-path paragraph's parts in :mod:`.short`) and figure (:mod:`.figure`); :data:`STUDY` is
its entry in :data:`repro.studies.registry.STUDIES`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from repro.config import STITCHING
from repro.results.view import Summary
from repro.studies import arms
from repro.studies.stitching import report, short
from repro.studies.study import Placed, Section, Study

NAME = "stitching"


def placed(root: Path, scale: str, seeds: int | None = None) -> list[Placed]:
    """Every run of the study in its arm's folder (``results/stitching/<arm>``)."""
    return arms.placed(root, NAME, STITCHING, scale, seeds)


def section(summary: Summary) -> Section | None:
    """The section (:func:`.report.section`) with its short-path paragraph's values and checks
    (:mod:`.short`) added; None where the study has no results."""
    found = report.section(summary)
    if found is None:
        return None
    return replace(
        found,
        context={**found.context, "sp": short.context(summary)},
        checks={**found.checks, **short.checks()},
    )


def findings(summary: Summary) -> list[str]:
    """The README's lines: strict stitching data, then short paths."""
    lines = report.findings(summary)
    return lines + short.finding(summary) if lines else []


def _draw_figure(summary):
    from repro.studies.stitching.figure import draw_fig10_stitching  # matplotlib: when drawn

    return draw_fig10_stitching(summary)


STUDY = Study(
    name=NAME,
    about="which learners stitch: metric and quasimetric heads, temporal augmentation and a TD "
    "distance against the paper's learners on strict stitching data and on short paths, and "
    "the convolutional field in unseen mazes (about 4 hours on two cores)",
    on_request=True,
    stage=lambda pipe: arms.run_stage(pipe, NAME, STITCHING),
    inputs=lambda root, scale: arms.inputs(root, NAME, STITCHING, scale),
    summarize=lambda root, scale: arms.collect(root, NAME, tuple(STITCHING), placed(root, scale)),
    check=arms.check,
    section=section,
    findings=findings,
    figures={"fig10_stitching": _draw_figure},
    preload=("repro.learn.quasimetric", "repro.learn.augment", "repro.learn.td"),
    parts=tuple(STITCHING),
)
