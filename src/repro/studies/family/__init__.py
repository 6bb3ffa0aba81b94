"""The maze-family study: the cells of ``Scale.family``, declared as data.

The paper never says how large its mazes are or how they are carved, so this
study measures how the planning numbers move with the family: every (size,
loop_prob) cell scores the three baselines in both regimes, and at the
``trained_sizes`` (with the scale's own loop_prob) the four configurations are
trained in the fixed regime. Each cell is a results folder of its own
(``results/family/size<N>-lp<p>``, see :func:`repro.paths.family_dir`) laid out
like the main one (runs/, instances/, baselines.json); the cell of the scale's
own size and loop_prob *is* the main results folder, so the main study is never
rerun for it.

This package is the study: its cells (:mod:`.cells`), its stage (here), its summary
block, shape check and typed view (:mod:`.results`), its paragraph of the report
(:mod:`.report`) and its figure (:mod:`.figure`); :data:`STUDY` is its entry in
:data:`repro.studies.registry.STUDIES`.
"""

from __future__ import annotations

from pathlib import Path

from repro.paths import baselines_file, family_dir, run_dir
from repro.studies.family import report, results
from repro.studies.family.cells import cells, contexts, trained_configs
from repro.studies.study import Pipeline, Placed, Study


def stage(pipe: Pipeline) -> bool:
    """In each cell's own results folder: the baselines of both regimes, and where the cell
    is trained the four configurations (fixed regime), trained and evaluated like the main
    runs. The main cell is the main study: skipped. Whether any work was done."""
    worked = False
    for cell in cells(pipe.scale):
        if cell.main:
            continue
        runs = [
            Placed(cell.folder(pipe.root), c, f"{cell.name}/{c.run_id}")
            for c in trained_configs(pipe.scale, cell)
        ]
        if runs:
            worked |= pipe.train(runs, f"family {cell.name}: train")
            worked |= pipe.evaluate(runs, f"family {cell.name}: evaluate")
        worked |= pipe.baselines(cell.folder(pipe.root), list(contexts(pipe.scale, cell).values()))
    where = family_dir(pipe.root, 0, 0).parent
    pipe.log(f"family: {len(cells(pipe.scale))} maze families under {where}")
    return worked


def inputs(root: Path, scale: str) -> list[Path]:
    """Every file of the study under ``root`` that its summary block reads (the non-main
    cells')."""
    out = []
    for cell in cells(scale):
        if cell.main:
            continue
        folder = cell.folder(root)
        out.append(baselines_file(folder))
        for c in trained_configs(scale, cell):
            out += [run_dir(folder, c.run_id) / n for n in ("metrics.json", "loss.csv")]
    return [p for p in out if p.exists()]


def _draw_figure(summary):
    from repro.studies.family.figure import draw_fig7_family  # matplotlib: only when drawn

    return draw_fig7_family(summary)


STUDY = Study(
    name="family",
    about="how planning moves with the maze size and loops (baselines everywhere, the four "
    "configurations trained at some sizes)",
    on_request=False,
    stage=stage,
    inputs=inputs,
    summarize=results.collect,
    check=results.check,
    section=report.section,
    figures={"fig7_family": _draw_figure},
)
