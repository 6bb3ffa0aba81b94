"""The per-run stages: runs trained and evaluated through the executor, each cached on its
own key (:mod:`repro.cachekey`), or, in a dry run, what would be and why.

A training unit receives its run as the ``config.json`` this module writes into the run's
folder (``python -m repro --results <folder> train --config-file <run>/config.json``,
repeated for the members of a group), so no configuration is turned into flags and
parsed back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from repro.config import RunConfig, make_eval_config
from repro.evaluation.evaluate import (
    baselines_stale,
    context_key,
    eval_dataset,
    evaluate_baselines,
    metrics_stale,
)
from repro.io import write_json
from repro.learn.methods import group_key, run_cost
from repro.learn.runfiles import resolve_device, stale, train_key
from repro.paths import baselines_file, run_dir
from repro.pipeline.executor import make_executor
from repro.pipeline.units import ExecutorConfig, Unit
from repro.studies.study import Placed


def log(msg: str) -> None:
    print(msg, flush=True)


def run_folder(r: Placed) -> Path:
    return run_dir(r.folder, r.config.run_id)


def write_config(r: Placed) -> Path:
    """``<run>/config.json``: the run's configuration and train key, which its unit reads
    (the trainer writes the same file again when it starts)."""
    path = run_folder(r) / "config.json"
    write_json(path, {"config": r.config.to_dict(), "key": train_key(r.config)})
    return path


def training_path(ex: ExecutorConfig) -> str:
    """'group' or 'single': ``--trainer``, where 'auto' groups runs only on CUDA (on this
    machine's CPU a group step was not faster per member; see the README)."""
    if ex.trainer != "auto":
        return ex.trainer
    return "group" if resolve_device("auto").type == "cuda" else "single"


def _train_argv(
    folder: Path, members: Sequence[Placed], force: bool, threads: int, graphs: bool = False
) -> tuple:
    argv = ["--results", str(folder), "train", "--threads", str(threads)]
    for r in members:
        argv += ["--config-file", str(write_config(r))]
    return tuple(argv + (["--force"] if force else []) + (["--cuda-graphs"] if graphs else []))


def train_unit(r: Placed, force: bool, threads: int) -> Unit:
    """The command that trains run ``r`` into its results folder."""
    return Unit(r.label, _train_argv(r.folder, [r], force, threads))


def group_units(todo: list[Placed], force: bool, threads: int, graphs: bool = False) -> list[Unit]:
    """One ``train`` command per results folder and group key, its runs as members (groups
    in the order of their costliest run); ``graphs``: with ``--cuda-graphs``."""
    groups: dict[tuple, list[Placed]] = {}
    for r in todo:
        groups.setdefault((r.folder, group_key(r.config)), []).append(r)
    return [
        Unit(
            f"group of {len(members)}: {', '.join(r.label for r in members)}",
            _train_argv(folder, members, force, threads, graphs),
        )
        for (folder, _), members in groups.items()
    ]


def single_units(todo: list[Placed], force: bool, threads: int, graphs: bool = False) -> list[Unit]:
    """One ``train`` command per run (a run alone has no group step to capture)."""
    return [train_unit(r, force, threads) for r in todo]


# How each training path turns the runs to train into units of work.
TRAIN_UNITS = {"single": single_units, "group": group_units}


def stage_train(
    runs: list[Placed], force: bool, ex: ExecutorConfig, root: Path, what: str = "train"
) -> bool:
    """Train the runs that are not complete (every folder's in one executor call, longest
    first); whether any was."""
    todo = [r for r in runs if force or stale(run_folder(r), r.config)]
    if not todo:
        log(f"{what}: all {len(runs)} runs up to date (skipped)")
        return False
    todo.sort(key=lambda r: run_cost(r.config), reverse=True)  # stable: ties keep the order
    trainer = training_path(ex)
    units = TRAIN_UNITS[trainer](todo, force, ex.threads, ex.cuda_graphs)
    where = f"{ex.jobs} at a time" if ex.kind == "local" else "as SLURM jobs"
    where = f"{len(units)} units {where}" if trainer == "group" else where
    log(f"{what}: {len(todo)} of {len(runs)} runs to train, {where} ({trainer} trainer)")
    make_executor(ex, root).run(units, "training")
    return True


def contexts_of(runs: Sequence[Placed]) -> dict[tuple, Placed]:
    """One run per evaluation context (results folder, and the seed of a fixed regime)."""
    out: dict[tuple, Placed] = {}
    for r in runs:
        key = (r.folder, "procedural" if r.config.regime == "procedural" else r.config.seed)
        out.setdefault(key, r)
    return out


def stage_evaluate(
    runs: list[Placed],
    scale: str,
    force: bool,
    ex: ExecutorConfig,
    root: Path,
    what: str = "evaluate",
) -> bool:
    """Score the runs whose metrics.json is missing or stale, then the baselines of their
    evaluation contexts (each in its run's results folder); whether any run was scored."""
    ev = make_eval_config(scale)
    contexts = contexts_of(runs)
    for r in contexts.values():  # frozen first, so parallel evaluations only read them
        eval_dataset("test", r.config, ev, r.folder)
        eval_dataset("plan", r.config, ev, r.folder)
    todo = [r for r in runs if force or metrics_stale(run_folder(r), ev)]
    if todo:
        log(f"{what}: {len(todo)} of {len(runs)} runs to evaluate")
        units = [
            Unit(
                r.label,
                ("--results", str(r.folder), "evaluate", "--scale", scale, "--no-baselines")
                + (("--force",) if force else ())
                + ("--run", r.config.run_id),
            )
            for r in todo
        ]
        make_executor(ex, root).run(units, "evaluation")
    else:
        log(f"{what}: all {len(runs)} runs up to date (skipped)")
    for r in contexts.values():
        evaluate_baselines(r.config, ev, r.folder, force)
    folders = sorted({str(r.folder) for r in runs})
    log(f"{what}: baselines of {len(contexts)} evaluation context(s) in {', '.join(folders)}")
    return bool(todo)


@dataclass
class RunPipeline:
    """What a stage may ask of the pipeline (:class:`repro.studies.study.Pipeline`): runs
    trained and evaluated through the executor, each only if stale."""

    root: Path
    scale: str
    force: bool
    study_seeds: int | None
    ex: ExecutorConfig
    dry: bool = False
    study_parts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def train(self, runs: Sequence[Placed], what: str) -> bool:
        return stage_train(list(runs), self.force, self.ex, self.root, what)

    def evaluate(self, runs: Sequence[Placed], what: str) -> bool:
        return stage_evaluate(list(runs), self.scale, self.force, self.ex, self.root, what)

    def baselines(self, folder: Path, contexts: Sequence[RunConfig]) -> bool:
        ev = make_eval_config(self.scale)
        todo = [c for c in contexts if self.force or baselines_stale(c, ev, folder)]
        for c in todo:
            evaluate_baselines(c, ev, folder, self.force)
        return bool(todo)

    def retrained(self, run: Path) -> bool:
        return False

    def run(self, commands: Sequence[tuple[str, tuple[str, ...]]], kind: str) -> None:
        units = [Unit(label, tuple(argv)) for label, argv in commands]
        make_executor(self.ex, self.root).run(units, kind)

    def log(self, msg: str) -> None:
        log(msg)


@dataclass
class DryPipeline:
    """The same questions answered without doing anything: each says what would run and
    why (the parts of its key that changed), and remembers the runs that would be trained,
    so that their evaluations are reported as running after them."""

    root: Path
    scale: str
    force: bool
    study_seeds: int | None
    dry: bool = True
    pending: set[Path] = field(default_factory=set)  # run folders that would be trained
    study_parts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def _say(self, what: str, verb: str, total: int, todo: list[tuple[str, list[str]]]) -> bool:
        if not todo:
            log(f"{what}: all {total} up to date")
            return False
        log(f"{what}: {len(todo)} of {total} would {verb}")
        for label, why in todo:
            log(f"  {label}: {'; '.join(why)}")
        return True

    def _why(self, reasons: list[str]) -> list[str]:
        return ["--force"] if self.force else reasons

    def train(self, runs: Sequence[Placed], what: str) -> bool:
        todo = [(r, self._why(stale(run_folder(r), r.config))) for r in runs]
        todo = [(r, why) for r, why in todo if why]
        self.pending |= {run_folder(r) for r, _ in todo}
        return self._say(what, "train", len(runs), [(r.label, why) for r, why in todo])

    def evaluate(self, runs: Sequence[Placed], what: str) -> bool:
        ev = make_eval_config(self.scale)
        todo = []
        for r in runs:
            after = self.retrained(run_folder(r))
            why = ["after its training"] if after else self._why(metrics_stale(run_folder(r), ev))
            if why:
                todo.append((r.label, why))
        worked = self._say(what, "be evaluated", len(runs), todo)
        by_folder: dict[Path, list[RunConfig]] = {}
        for (folder, _), r in contexts_of(runs).items():
            by_folder.setdefault(folder, []).append(r.config)
        scored = [self._baselines(f, cs, f"{what}: baselines") for f, cs in by_folder.items()]
        return any(scored) or worked

    def _baselines(self, folder: Path, contexts: Sequence[RunConfig], what: str) -> bool:
        ev = make_eval_config(self.scale)
        todo = [
            (f"{context_key(c)} in {baselines_file(folder)}", why)
            for c in contexts
            if (why := self._why(baselines_stale(c, ev, folder)))
        ]
        return self._say(what, "be scored", len(contexts), todo)

    def baselines(self, folder: Path, contexts: Sequence[RunConfig]) -> bool:
        return self._baselines(folder, contexts, f"baselines in {folder.name}")

    def retrained(self, run: Path) -> bool:
        return run in self.pending

    def run(self, commands: Sequence[tuple[str, tuple[str, ...]]], kind: str) -> None:
        for label, _ in commands:
            log(f"  would run ({kind}): {label}")

    def log(self, msg: str) -> None:
        log(msg)
