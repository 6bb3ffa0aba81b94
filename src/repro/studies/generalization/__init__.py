"""The generalization study: does a learned distance transfer to unseen mazes, and what
does it take?

This package is the study: its runs and folders (:mod:`.runs`), the scoring of every
scheduled weight snapshot on training and unseen mazes (:mod:`.evaluate`, the
``evaluate-generalization`` command), its summary block, shape check and typed view
(:mod:`.results`), its section of the report (:mod:`.report`), its figure
(:mod:`.figure`) and its README lines (:mod:`.readme`); its stage is here, and
:data:`STUDY` is its entry in :data:`repro.studies.registry.STUDIES`. It runs only on
request (``reproduce --studies generalization``: about an hour on two cores).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from repro.config import SCALES, make_eval_config
from repro.errors import BadInput
from repro.paths import run_dir
from repro.studies.generalization import claims, readme, report, results
from repro.studies.generalization.runs import results as evaluated
from repro.studies.generalization.runs import study_runs, train_sample
from repro.studies.study import Command, Pipeline, Placed, Study

NAME = "generalization"
EVALUATE = "evaluate-generalization"  # the command that scores one run's snapshots


def stage(pipe: Pipeline) -> bool:
    """Train the study's runs (every folder's in one executor call, longest first); freeze
    each run's test, planning and training-maze sets; then score each run's scheduled
    snapshots as a unit of its own. Cached like the main runs; whether any work was done."""
    runs = study_runs(pipe.scale, pipe.study_seeds)
    trained = pipe.train([Placed(r.folder(pipe.root), r.config, r.id) for r in runs], NAME)
    return _evaluate(pipe, runs) or trained


def _evaluate(pipe: Pipeline, runs) -> bool:
    from repro.evaluation.evaluate import eval_dataset  # torch: only when the stage runs
    from repro.studies.generalization.evaluate import stale

    ev, g = make_eval_config(pipe.scale), SCALES[pipe.scale].generalization
    if not pipe.dry:  # frozen first, so that parallel units only read them
        for r in runs:
            eval_dataset("test", r.config, ev, r.folder(pipe.root))
            eval_dataset("plan", r.config, ev, r.folder(pipe.root))
            train_sample(r.config, g, r.folder(pipe.root))

    def why(r) -> list[str]:
        if pipe.force:
            return ["--force"]
        run = r.run_dir(pipe.root)
        return ["after its training"] if pipe.retrained(run) else stale(run, ev, g)

    todo = [(r, reasons) for r in runs if (reasons := why(r))]
    if not todo:
        pipe.log(f"{NAME}: all {len(runs)} runs evaluated (skipped)")
        return False
    pipe.log(f"{NAME}: {len(todo)} of {len(runs)} runs to evaluate at {len(g.schedule())} steps")
    force = ("--force",) if pipe.force else ()
    commands = [
        (
            f"{r.id} ({'; '.join(reasons)})" if pipe.dry else r.id,
            ("--results", str(r.folder(pipe.root)), EVALUATE, "--scale", pipe.scale)
            + ("--run", r.config.run_id, *force),
        )
        for r, reasons in todo
    ]
    pipe.run(commands, "evaluation")
    return True


def summarize(root: Path, scale: str) -> dict | None:
    """The study's block of the summary (:func:`.results.collect`), with the paper's claims
    judged again on its runs at each table step (:func:`.claims.judge`)."""
    block = results.collect(root, scale)
    if block is not None:
        block["claims"] = claims.judge(results.GeneralizationStudy.from_dict(block))
    return block


def inputs(root: Path, scale: str) -> list[Path]:
    """The study's evaluations under ``root`` that its summary block reads (whichever exist)."""
    return [path for _, found in evaluated(root, scale) for _, path in found]


def _add_arguments(g: argparse.ArgumentParser) -> None:
    g.add_argument("--run", required=True, help="a run id under the results folder's runs/")
    g.add_argument("--scale", default="paper", help=f"study preset: {', '.join(SCALES)}")
    g.add_argument("--device", default="cpu", help="cpu (default), auto, cuda[:N]")
    g.add_argument("--force", action="store_true", help="recompute even if up to date")


def _evaluate_command(args: argparse.Namespace) -> int:
    """``evaluate-generalization``: score one study run's snapshots."""
    import torch

    from repro.studies.generalization.evaluate import evaluate_study_run

    torch.set_num_threads(1)
    if args.scale not in SCALES:
        raise BadInput(f"unknown scale {args.scale!r}; choose from: {', '.join(SCALES)}")
    ev = make_eval_config(args.scale)
    run = run_dir(args.root, args.run)
    if not run.is_dir():
        raise BadInput(f"run folder {run} does not exist")
    g = SCALES[args.scale].generalization
    out = evaluate_study_run(run, ev, g, args.root, args.device, args.force)
    last = out["snapshots"][-1]
    print(
        f"{out['run_id']}: step {last['step']}: full-test Spearman "
        f"{last['unseen_mazes']['spearman_full']:.3f} on unseen mazes, "
        f"{last['train_mazes']['spearman_full']:.3f} on training mazes"
    )
    return 0


def _draw_figure(summary):
    from repro.studies.generalization.figure import draw_fig8_generalization  # matplotlib

    return draw_fig8_generalization(summary)


STUDY = Study(
    name=NAME,
    about="each model trained ten times longer (and on ten times more mazes), every snapshot "
    "scored on its training mazes and on unseen ones",
    on_request=True,
    stage=stage,
    inputs=inputs,
    summarize=summarize,
    check=results.check,
    section=report.section,
    figures={"fig8_generalization": _draw_figure},
    readme=readme.lines,
    findings=readme.findings,
    commands=(
        Command(
            EVALUATE,
            "score a generalization-study run's snapshots on training and unseen mazes",
            _add_arguments,
            _evaluate_command,
        ),
    ),
    preload=("repro.studies.generalization.evaluate",),
    check_args=lambda scale, seeds: study_runs(scale, seeds),  # a bad --study-seeds: stop
)
