"""The study of a model that sees the maze: convolutional distance models against the MLPs.

On unseen mazes the paper's MLPs, which read the maze as a flat vector, end level with the
wall-blind Manhattan distance. This study asks whether the architecture, not the objective,
holds them back: the convolutional versions of both methods (:mod:`repro.learn.field`,
:mod:`repro.learn.convcontrastive`), trained as the arms of :data:`repro.config.WALLS`
declare, each arm in a results folder of its own (``results/walls/<arm>``, laid out like the
main one), evaluated like every run (wall use included: :mod:`repro.core.walluse`), and set
against the main study's MLP runs of the same configuration.

This package is the study: its runs and stage (here), its summary block, shape check and
view (:mod:`.results`), its report section (:mod:`.report`) and figure (:mod:`.figure`);
:data:`STUDY` is its entry in :data:`repro.studies.registry.STUDIES`.
"""

from __future__ import annotations

from pathlib import Path

from repro.config import WALLS
from repro.studies import arms
from repro.studies.study import Placed, Study
from repro.studies.walls import report

NAME = "walls"


def placed(root: Path, scale: str, seeds: int | None = None) -> list[Placed]:
    """Every run of the study in its arm's folder (``results/walls/<arm>``)."""
    return arms.placed(root, NAME, WALLS, scale, seeds)


def _draw_figure(summary):
    from repro.studies.walls.figure import draw_fig9_walls  # matplotlib: only when drawn

    return draw_fig9_walls(summary)


STUDY = Study(
    name="walls",
    about="a model that sees the maze: convolutional versions of both methods against the "
    "MLPs, and whether each uses the walls (about four hours on two cores)",
    on_request=True,
    stage=lambda pipe: arms.run_stage(pipe, NAME, WALLS),
    inputs=lambda root, scale: arms.inputs(root, NAME, WALLS, scale),
    summarize=lambda root, scale: arms.collect(root, NAME, tuple(WALLS), placed(root, scale)),
    check=arms.check,
    section=report.section,
    findings=report.findings,
    figures={"fig9_walls": _draw_figure},
    preload=("repro.learn.field", "repro.learn.convcontrastive"),
    parts=tuple(WALLS),
)
