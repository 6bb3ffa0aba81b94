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

from repro.config import SCALES, WALLS, RunConfig, WallsArm, make_config
from repro.paths import baselines_file, run_dir
from repro.studies.study import Pipeline, Placed, Study
from repro.studies.walls import report, results


def arm_folder(root: Path, arm: str) -> Path:
    """``<root>/walls/<arm>``: the results folder of one arm."""
    return Path(root) / "walls" / arm


def arm_configs(scale: str, spec: WallsArm, seeds: int | None = None) -> list[RunConfig]:
    """The runs of one arm at ``scale``: configuration x regime x seed (``seeds`` overrides
    the arm's count: ``reproduce --study-seeds``)."""
    base = SCALES[scale].overrides.get("steps", RunConfig.steps)
    steps = max(1, round(base * spec.steps_factor))
    sets = {"steps": steps, **dict(spec.sets)}
    return [
        make_config(name, regime, seed, scale, sets)
        for name in spec.configs
        for regime in spec.regimes
        for seed in range(spec.seeds if seeds is None else min(seeds, spec.seeds))
    ]


def placed(root: Path, scale: str, seeds: int | None = None) -> list[Placed]:
    """Every run of the study in its arm's folder, labelled '<arm>/<run id>'."""
    return [
        Placed(arm_folder(root, arm), c, f"walls {arm}/{c.run_id}")
        for arm, spec in WALLS.items()
        for c in arm_configs(scale, spec, seeds)
    ]


def stage(pipe: Pipeline) -> bool:
    """Train and evaluate every arm's runs, and score the baselines of each arm's contexts
    (the unseen mazes, each fixed maze) in its folder. Whether any work was done."""
    runs = placed(pipe.root, pipe.scale, pipe.study_seeds)
    worked = pipe.train(runs, "walls: train")
    worked |= pipe.evaluate(runs, "walls: evaluate")
    for arm in WALLS:
        contexts = {(r.config.regime, r.config.seed if r.config.regime == "fixed" else 0): r
                    for r in runs if r.folder == arm_folder(pipe.root, arm)}  # fmt: skip
        if contexts:
            worked |= pipe.baselines(
                arm_folder(pipe.root, arm), [r.config for r in contexts.values()]
            )
    return worked


def inputs(root: Path, scale: str) -> list[Path]:
    """Every file the study's summary block reads that exists."""
    out = []
    for r in placed(root, scale):
        out += [run_dir(r.folder, r.config.run_id) / n for n in ("metrics.json", "loss.csv")]
    out += [baselines_file(arm_folder(root, arm)) for arm in WALLS]
    return [p for p in out if p.exists()]


def _draw_figure(summary):
    from repro.studies.walls.figure import draw_fig9_walls  # matplotlib: only when drawn

    return draw_fig9_walls(summary)


STUDY = Study(
    name="walls",
    about="a model that sees the maze: convolutional versions of both methods against the "
    "MLPs, and whether each uses the walls (about two hours on two cores)",
    on_request=True,
    stage=stage,
    inputs=inputs,
    summarize=lambda root, scale: results.collect(root, scale, placed(root, scale)),
    check=results.check,
    section=report.section,
    figures={"fig9_walls": _draw_figure},
    preload=("repro.learn.field", "repro.learn.convcontrastive"),
)
