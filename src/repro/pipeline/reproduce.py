"""``nox -s reproduce``: from nothing to ``paper/report.pdf``, every stage cached.

Stages, in order: train (every configuration x regime x seed, in parallel
processes with one thread each, longest runs first), evaluate (the frozen test
and planning sets, one process per run, then the baselines), ablations (the
variants of ``config.ABLATIONS``, trained and evaluated the same way), family,
generalization (only when asked for: ``--studies generalization``), summary,
figures, report. The summary, figures and report include a study whenever its
results exist, so a later run without ``--studies`` keeps it.
A stage is skipped, and says so, when its inputs, its code and the library
versions are unchanged: training and evaluation compare the hashes stored in
``run.json`` and ``metrics.json``; the summary, figures and report compare an
input hash kept in ``results/cache/stages.json``. Stage wall times go to
``results/timings.json`` (not into the summary, which stays byte-identical).

Scales other than ``paper`` write under ``results/<scale>/`` (and their report
to ``results/<scale>/report/report.pdf``), so a smoke run never touches the
committed paper-scale results.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import os
import resource
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path

from repro.config import (
    CONFIGS,
    REGIMES,
    SCALES,
    STUDIES,
    RunConfig,
    ablation_configs,
    make_config,
    make_eval_config,
)
from repro.errors import BadInput, Busy, ConfigError
from repro.evaluation.evaluate import eval_dataset, evaluate_baselines, metrics_up_to_date
from repro.fingerprint import code_hash
from repro.io import read_json, write_json
from repro.learn.methods import group_key, run_cost
from repro.learn.runfiles import is_complete, resolve_device
from repro.paths import (
    baselines_file,
    default_results_dir,
    family_dir,
    figures_dir,
    lock_file,
    paper_numbers_file,
    readme_file,
    report_pdf,
    results_dir,
    results_root,
    run_dir,
    stages_file,
    summary_file,
    template_dir,
    timings_file,
)
from repro.pipeline.executor import (
    LocalExecutor,
    check_reachable,
    make_executor,
    units_cpu_seconds,
    warm_up,
)
from repro.pipeline.units import ExecutorConfig, Unit
from repro.report import document as report
from repro.report import readme
from repro.report.document import TexMissing
from repro.report.figures import figure_names
from repro.results import summary
from repro.results.compare import reproduce_line
from repro.results.view import load_summary
from repro.studies import family
from repro.studies.generalization import runs as generalization
from repro.studies.generalization.evaluate import up_to_date as study_up_to_date


def log(msg: str) -> None:
    print(msg, flush=True)


@contextmanager
def results_lock() -> Iterator[None]:
    """Hold ``results/.reproduce.lock`` for the whole pipeline: a kernel lock (``flock``) on
    the file, which names the owner's pid.

    A second reproduce on the same folder stops at once with a message naming the owner,
    however close together the two started: only one process can hold the lock. A killed
    owner holds nothing (the kernel drops its lock with its last file descriptor), so the
    next reproduce proceeds without any stale-lock guessing.
    """
    path = lock_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise Busy(
                f"another reproduce ({_owner(path)}) is using {results_dir()}; wait for it "
                "to finish"
            ) from None
        # The owner before us unlinks the file while it still holds it; if that happened
        # between our open and our flock, we hold a file nobody else will open: try again.
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        path.unlink(missing_ok=True)  # while still held, so no one can lock this file after
        os.close(fd)


def _owner(path: Path) -> str:
    """'pid N' of the lock's owner, as written in the file (briefly empty while the owner
    has taken the lock but not yet written its pid)."""
    for _ in range(20):
        try:
            text = path.read_text().strip()
        except OSError:
            text = ""
        if text.isdigit():
            return f"pid {text}"
        time.sleep(0.05)
    return "pid unknown"


def all_configs(scale: str, n_seeds: int) -> list[RunConfig]:
    """Every run of the study: regime x configuration x seed."""
    return [
        make_config(name, regime, seed, scale)
        for regime in REGIMES
        for name in CONFIGS
        for seed in range(n_seeds)
    ]


def variant_sets(c: RunConfig, scale: str) -> list[str]:
    """``--set`` arguments that rebuild ``c`` from its configuration name at ``scale``: every
    field that differs from the scale's configuration (variant fields, maze family)."""
    base = make_config(c.name, c.regime, c.seed, scale)
    out = []
    for f in fields(RunConfig):
        if getattr(c, f.name) != getattr(base, f.name):
            out += ["--set", f"{f.name}={getattr(c, f.name)}"]
    return out


def stage_train(
    configs: list[RunConfig], scale: str, force: bool, ex: ExecutorConfig, what: str = "train"
) -> bool:
    todo = [c for c in configs if force or not is_complete(run_dir(c.run_id), c)]
    if not todo:
        log(f"{what}: all {len(configs)} runs up to date (skipped)")
        return False
    todo.sort(key=run_cost, reverse=True)  # stable: ties keep the declared order
    trainer = training_path(ex)
    units = TRAIN_UNITS[trainer](todo, scale, force, ex.threads)
    where = f"{ex.jobs} at a time" if ex.kind == "local" else "as SLURM jobs"
    where = f"{len(units)} units {where}" if trainer == "group" else where
    log(f"{what}: {len(todo)} of {len(configs)} runs to train, {where} ({trainer} trainer)")
    make_executor(ex).run(units, "training")
    return True


def training_path(ex: ExecutorConfig) -> str:
    """'group' or 'single': ``--trainer``, where 'auto' groups runs only on CUDA (on this
    machine's CPU a group step was not faster per member; see the README)."""
    if ex.trainer != "auto":
        return ex.trainer
    return "group" if resolve_device("auto").type == "cuda" else "single"


def train_unit(c: RunConfig, scale: str, force: bool, threads: int) -> Unit:
    """The command that trains run ``c`` into the current results folder:
    ``python -m repro --results <folder> train ...``."""
    argv = ["--results", str(results_dir()), "train", "--config", c.name, "--regime", c.regime]
    argv += ["--seed", str(c.seed)]
    argv += ["--scale", scale, "--threads", str(threads), *variant_sets(c, scale)]
    return Unit(c.run_id, tuple(argv + (["--force"] if force else [])))


def member_spec(c: RunConfig, scale: str) -> str:
    """``CONFIG/REGIME/SEED[,FIELD=VALUE...]``: run ``c`` as ``train --member`` takes it."""
    sets = variant_sets(c, scale)[1::2]  # the FIELD=VALUE of each --set
    return ",".join([f"{c.name}/{c.regime}/{c.seed}", *sets])


def group_units(todo: list[RunConfig], scale: str, force: bool, threads: int) -> list[Unit]:
    """One ``python -m repro train --member ...`` command per group key, its runs as
    members (groups in the order of their costliest run)."""
    groups: dict[tuple, list[RunConfig]] = {}
    for c in todo:
        groups.setdefault(group_key(c), []).append(c)
    units = []
    for members in groups.values():
        argv = ["--results", str(results_dir()), "train", "--scale", scale]
        argv += ["--threads", str(threads)]
        for c in members:
            argv += ["--member", member_spec(c, scale)]
        label = f"group of {len(members)}: {', '.join(c.run_id for c in members)}"
        units.append(Unit(label, tuple(argv + (["--force"] if force else []))))
    return units


def single_units(todo: list[RunConfig], scale: str, force: bool, threads: int) -> list[Unit]:
    """One ``python -m repro train`` command per run."""
    return [train_unit(c, scale, force, threads) for c in todo]


# How each training path turns the runs to train into units of work.
TRAIN_UNITS = {"single": single_units, "group": group_units}


def stage_evaluate(
    configs: list[RunConfig], scale: str, force: bool, ex: ExecutorConfig, what: str = "evaluate"
) -> bool:
    ev = make_eval_config(scale)
    # Freeze the instances first, so parallel evaluations only read them.
    contexts = {("procedural" if c.regime == "procedural" else c.seed): c for c in configs}
    for c in contexts.values():
        eval_dataset("test", c, ev)
        eval_dataset("plan", c, ev)
    todo = [c for c in configs if force or not metrics_up_to_date(run_dir(c.run_id), ev)]
    if todo:
        log(f"{what}: {len(todo)} of {len(configs)} runs to evaluate")
        argv = ("--results", str(results_dir()), "evaluate", "--scale", scale, "--no-baselines")
        argv += ("--force",) if force else ()
        units = [Unit(c.run_id, (*argv, "--run", c.run_id)) for c in todo]
        make_executor(ex).run(units, "evaluation")
    else:
        log(f"{what}: all {len(configs)} runs up to date (skipped)")
    for c in contexts.values():
        evaluate_baselines(c, ev, force)
    log(f"{what}: baselines of {len(contexts)} evaluation context(s) in {baselines_file()}")
    return bool(todo)


def stage_ablations(configs: list[RunConfig], scale: str, force: bool, ex: ExecutorConfig) -> bool:
    """Train and evaluate the ablation variants, cached like the main runs."""
    trained = stage_train(configs, scale, force, ex, "ablations")
    evaluated = stage_evaluate(configs, scale, force, ex, "ablations")
    return trained or evaluated


def stage_family(scale: str, force: bool, ex: ExecutorConfig) -> bool:
    """The maze-family study: in each cell's own results folder, the baselines of
    both regimes, and where the cell is trained the four configurations (fixed regime),
    trained and evaluated like the main runs. The main cell is the main study: skipped."""
    ev = make_eval_config(scale)
    worked = False
    for cell in family.cells(scale):
        if cell.main:
            continue
        with results_root(cell.folder()):
            configs = family.trained_configs(scale, cell)
            if configs:
                worked |= stage_train(configs, scale, force, ex, f"family {cell.name}: train")
                worked |= stage_evaluate(configs, scale, force, ex, f"family {cell.name}: evaluate")
            for c in family.contexts(scale, cell).values():
                worked |= _baselines_changed(c, ev, force)
    log(f"family: {len(family.cells(scale))} maze families under {family_dir(0, 0).parent}")
    return worked


def _baselines_changed(c: RunConfig, ev, force: bool) -> bool:
    """Score the baselines of ``c``'s context (cached in baselines.json); whether any work."""
    before = _sha(baselines_file()) if baselines_file().exists() else None
    evaluate_baselines(c, ev, force)
    return _sha(baselines_file()) != before


def stage_generalization(scale: str, n_seeds: int | None, force: bool, ex: ExecutorConfig) -> bool:
    """The generalization study: train its runs, every folder's in one executor
    call, longest first; freeze each run's test, planning and training-maze sets; then
    evaluate each run's scheduled snapshots as a unit of its own. Cached like the others."""
    runs = generalization.study_runs(scale, n_seeds)
    todo = [r for r in runs if force or not is_complete(r.run_dir(), r.config)]
    if todo:
        todo.sort(key=lambda r: run_cost(r.config), reverse=True)  # stable for ties
        trainer = training_path(ex)
        units = _study_train_units(todo, scale, force, ex.threads, trainer)
        where = f"{ex.jobs} at a time" if ex.kind == "local" else "as SLURM jobs"
        log(
            f"generalization: {len(todo)} of {len(runs)} runs to train in {len(units)} units, "
            f"{where} ({trainer} trainer)"
        )
        make_executor(ex).run(units, "training")
    else:
        log(f"generalization: all {len(runs)} runs trained (skipped)")
    return _evaluate_study(runs, scale, force, ex) or bool(todo)


def _study_train_units(
    todo: list[generalization.StudyRun], scale: str, force: bool, threads: int, trainer: str
) -> list[Unit]:
    """The training units of the study runs ``todo`` (longest first): one per run, labelled
    with its study id ('single'), or one per architecture within each folder ('group')."""
    if trainer == "single":
        units = []
        for r in todo:
            with results_root(r.folder()):
                unit = train_unit(r.config, scale, force, threads)
            units.append(dataclasses.replace(unit, label=r.id))
        return units
    folders: dict[Path, list[RunConfig]] = {}
    for r in todo:
        folders.setdefault(r.folder(), []).append(r.config)
    units = []
    for folder, configs in folders.items():
        with results_root(folder):
            units += TRAIN_UNITS[trainer](configs, scale, force, threads)
    return units


def _evaluate_study(
    runs: list[generalization.StudyRun], scale: str, force: bool, ex: ExecutorConfig
) -> bool:
    """Freeze the study's instances (so parallel units only read them), then evaluate the
    runs whose generalization.json is missing or stale; whether any was."""
    ev, g = make_eval_config(scale), SCALES[scale].generalization
    for r in runs:
        with results_root(r.folder()):
            eval_dataset("test", r.config, ev)
            eval_dataset("plan", r.config, ev)
            generalization.train_sample(r.config, g)
    todo = [r for r in runs if force or not study_up_to_date(r.run_dir(), ev, g)]
    if not todo:
        log(f"generalization: all {len(runs)} runs evaluated (skipped)")
        return False
    log(f"generalization: {len(todo)} of {len(runs)} runs to evaluate at {len(g.schedule())} steps")
    units = [
        Unit(
            r.id,
            ("--results", str(r.folder()), "evaluate-generalization", "--scale", scale)
            + ("--run", r.config.run_id)
            + (("--force",) if force else ()),
        )
        for r in todo
    ]
    make_executor(ex).run(units, "evaluation")
    return True


def generalization_inputs(scale: str) -> list[Path]:
    """The study's evaluations the summary reads (whichever exist)."""
    return [path for _, found in generalization.results(scale) for _, path in found]


def family_inputs(scale: str) -> list[Path]:
    """Every file of the family study the summary reads (the non-main cells)."""
    out = []
    for cell in family.cells(scale):
        if cell.main:
            continue
        with results_root(cell.folder()):
            out.append(baselines_file())
            for c in family.trained_configs(scale, cell):
                out += [run_dir(c.run_id) / n for n in ("metrics.json", "loss.csv")]
    return [p for p in out if p.exists()]


def _files_hash(paths: list[Path], extra: str) -> str:
    """sha256 of ``extra`` and each file's name and bytes, in the order of the names (a name
    is relative to the results folder, so the key does not depend on where it lies)."""
    root = results_dir()
    named = sorted(
        (str(p.relative_to(root) if p.is_relative_to(root) else p.name), p) for p in paths
    )
    h = hashlib.sha256(extra.encode())
    for name, p in named:
        h.update(name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _read_stages() -> dict:
    try:
        data = read_json(stages_file()) if stages_file().exists() else {}
    except ValueError:
        return {}  # damaged: every cached stage reruns
    return data if isinstance(data, dict) else {}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cached_stage(
    name: str,
    inputs: list[Path],
    outputs: list[Path],
    extra: str,
    fn: Callable[[], object],
    force: bool,
) -> bool:
    """Run ``fn`` unless its inputs' hash matches the last run and its outputs are intact.

    Outputs are checked against the hashes recorded when they were written, so a
    truncated or hand-edited summary, figure or PDF is rebuilt, never reused.
    """
    key = _files_hash(inputs, f"{extra}|{code_hash(name)}")
    entry = _read_stages().get(name)
    if (
        not force
        and isinstance(entry, dict)
        and entry.get("key") == key
        and all(p.exists() and entry.get("outputs", {}).get(str(p)) == _sha(p) for p in outputs)
    ):
        log(f"{name}: up to date (skipped)")
        return False
    fn()
    stages = _read_stages()
    stages[name] = {"key": key, "outputs": {str(p): _sha(p) for p in outputs}}
    write_json(stages_file(), stages)
    return True


def stage_summary(
    configs: list[RunConfig],
    scale: str,
    seeds: list[int],
    force: bool,
    ablation_seeds: list[int],
    with_family: bool = True,
) -> bool:
    runs = [run_dir(c.run_id) for c in configs]
    inputs = [r / n for r in runs for n in ("metrics.json", "loss.csv")]
    inputs += [baselines_file(), paper_numbers_file()]
    inputs += family_inputs(scale) if with_family else []
    inputs += generalization_inputs(scale)
    out = summary_file()
    return cached_stage(
        "summary",
        inputs,
        [out, out.with_suffix(".csv")],
        f"{scale}|{seeds}|{ablation_seeds}|family={with_family}",
        lambda: summary.main(scale, seeds, ablation_seeds, with_family),
        force,
    )


def figure_files() -> list[Path]:
    """The figures of the current summary (a study's only where its results exist)."""
    names = figure_names(read_json(summary_file()))
    return [figures_dir() / f"{name}.{ext}" for name in names for ext in ("pdf", "png")]


def draw_figures(jobs: int) -> None:
    """Every figure of the summary (:func:`figures.figure_names`), each in a local process
    of its own (``python -m repro figures --only NAME``), ``jobs`` at a time: they are
    independent, and matplotlib takes about a second a figure. Local even for a SLURM run:
    a figure is not worth a job."""
    argv = ("--results", str(results_dir()), "figures", "--only")
    names = figure_names(read_json(summary_file()))
    LocalExecutor(jobs).run([Unit(name, (*argv, name)) for name in names], "figure")


def stage_figures(force: bool, jobs: int = 2) -> bool:
    return cached_stage(
        "figures", [summary_file()], figure_files(), "", lambda: draw_figures(jobs), force
    )


def stage_report(force: bool) -> bool:
    inputs = [summary_file(), template_dir() / report.TEMPLATE, *figure_files()]
    return cached_stage(
        "report",
        inputs,
        [report_pdf()],
        str(report_pdf()),
        lambda: report.main(load_summary(summary_file())),
        force,
    )


def _update_readme() -> None:
    """The README's headline block from the summary and timings, where ./README.md has one."""
    if not readme.has_section(readme_file(), "headline"):
        log(f"readme: no headline block in {readme_file()} (skipped)")
        return
    timings = read_json(timings_file()) if timings_file().exists() else None
    changed = readme.update("headline", readme.headline(read_json(summary_file()), timings))
    log(f"readme: headline {'updated' if changed else 'unchanged'} ({readme_file()})")


def _remove_stale_temporaries() -> None:
    """Delete temporary files a killed writer left behind (never read, only litter)."""
    for tmp in results_dir().rglob(".*.tmp"):
        tmp.unlink(missing_ok=True)


def _timings_record(
    scale: str,
    n_seeds: int,
    timings: dict,
    worked: dict,
    force: bool = False,
    cpu: dict | None = None,
) -> dict:
    """This run's stage times. A ``--force`` run (every stage redone from scratch) is kept as
    'full_run' and carried over by later runs. A run in which every stage merely did some
    work (a resumed run, new evaluation code) is not a from-scratch time. ``cpu``: each
    stage's CPU seconds (this process and its local workers); the last time a study's stage
    did work is kept under 'studies' and carried over too."""
    try:
        previous = read_json(timings_file()) if timings_file().exists() else {}
    except ValueError:
        previous = {}
    same = isinstance(previous, dict) and previous.get("scale") == scale
    record = {"scale": scale, "seeds": n_seeds, "stages_s": timings, "did_work": worked}
    if cpu:
        record["cpu_s"] = cpu
    if force and all(worked.values()):
        record["full_run"] = {"stages_s": timings, "seeds": n_seeds}
    elif same and "full_run" in previous:
        record["full_run"] = previous["full_run"]
    studies = dict(previous.get("studies") or {}) if same else {}
    for name in STUDIES:
        if worked.get(name):
            studies[name] = {"wall_s": timings[name], "cpu_s": (cpu or {}).get(name)}
    if studies:
        record["studies"] = studies
    return record


def _cpu_seconds() -> float:
    """CPU seconds (user + system) of this process, of its finished child processes and of
    the finished local units (their forkserver reaps them; a SLURM job's are not here)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime + units_cpu_seconds()


def _study_list(studies: tuple[str, ...]) -> tuple[str, ...]:
    """The ``--studies`` names, checked (ConfigError naming an unknown one)."""
    for name in studies:
        if name not in STUDIES:
            raise ConfigError(f"unknown study {name!r}; studies are: {', '.join(STUDIES)}")
    return tuple(dict.fromkeys(studies))


def _counts(scale: str, n_seeds: int | None, n_ablation: int | None) -> tuple[int, int]:
    """(seeds, ablation seeds) of the run, the scale's defaults filled in; ConfigError if bad."""
    if scale not in SCALES:
        raise ConfigError(f"unknown scale {scale!r}; choose from: {', '.join(SCALES)}")
    n_seeds = SCALES[scale].seeds if n_seeds is None else n_seeds
    if n_seeds < 1:
        raise ConfigError(f"--seeds must be >= 1; got {n_seeds}")
    n_ablation = SCALES[scale].ablation_seeds if n_ablation is None else n_ablation
    if n_ablation < 0:
        raise ConfigError(f"--ablation-seeds must be >= 0; got {n_ablation}")
    return n_seeds, n_ablation


def _stages(
    scale: str,
    n_seeds: int,
    n_ablation: int,
    force: bool,
    ex: ExecutorConfig,
    with_family: bool,
    studies: tuple[str, ...] = (),
    study_seeds: int | None = None,
) -> list[tuple[str, Callable[[], bool]]]:
    """The pipeline's stages in order, each a (name, run) pair; run() says whether it did work.
    The studies of ``studies`` run before the summary, with ``study_seeds`` seeds each."""
    configs = all_configs(scale, n_seeds)
    ablations = ablation_configs(scale, n_ablation)
    seeds, ablation_seeds = list(range(n_seeds)), list(range(n_ablation))
    log(
        f"reproduce: scale {scale}, {n_seeds} seed(s), {len(configs)} runs and "
        f"{len(ablations)} ablation runs -> {results_dir()}"
    )
    stages = [
        ("train", lambda: stage_train(configs, scale, force, ex)),
        ("evaluate", lambda: stage_evaluate(configs, scale, force, ex)),
        ("ablations", lambda: stage_ablations(ablations, scale, force, ex)),
        ("family", lambda: stage_family(scale, force, ex)),
        ("generalization", lambda: stage_generalization(scale, study_seeds, force, ex)),
        (
            "summary",
            lambda: stage_summary(
                configs + ablations, scale, seeds, force, ablation_seeds, with_family
            ),
        ),
        ("figures", lambda: stage_figures(force, ex.jobs)),
        ("report", lambda: stage_report(force)),
    ]
    skip = {"ablations": not ablations, "family": not with_family}
    skip |= {name: name not in studies for name in STUDIES}
    return [(name, fn) for name, fn in stages if not skip.get(name)]


def _run_stages(
    stages: list[tuple[str, Callable[[], bool]]], scale: str, n_seeds: int, force: bool = False
) -> TexMissing | None:
    """Run the stages under the results lock, timing each; the TeX error if TeX is missing."""
    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}
    worked: dict[str, bool] = {}
    tex_missing = None
    t0 = time.perf_counter()
    with results_lock():
        warm_up()  # the forkserver's imports (about 2 s) overlap with the first stage's checks
        _remove_stale_temporaries()
        for name, fn in stages:
            t, c = time.perf_counter(), _cpu_seconds()
            try:
                worked[name] = fn()
            except TexMissing as e:  # everything else is written; say how to get TeX
                tex_missing, worked[name] = e, False
            timings[name] = round(time.perf_counter() - t, 3)
            cpu[name] = round(_cpu_seconds() - c, 3)
            log(f"{name}: {timings[name]:.1f} s")
        timings["total"] = round(time.perf_counter() - t0, 3)
        if any(worked.values()) or not timings_file().exists():  # a no-op run writes nothing
            record = _timings_record(scale, n_seeds, timings, worked, force, cpu)
            write_json(timings_file(), record)
    log(f"reproduce: done in {timings['total']:.1f} s; stage times in {timings_file()}")
    return tex_missing


def main(
    scale: str = "paper",
    n_seeds: int | None = None,
    force: bool = False,
    n_ablation_seeds: int | None = None,
    executor: ExecutorConfig | None = None,
    with_family: bool = True,
    studies: tuple[str, ...] = (),
    study_seeds: int | None = None,
    with_pdf: bool = True,
) -> int:
    """Run the whole study at ``scale`` with ``executor`` (default: local, one process per
    core), the maze-family stage unless ``with_family`` is False, and the studies named in
    ``studies`` (``STUDIES``) with ``study_seeds`` seeds per run (default the scale's); the
    PDF unless ``with_pdf`` is False. Return 0, or 2 if TeX went missing during the run (all
    else written; a missing latexmk is a BadInput before anything is written). At paper
    scale the last line compares the summary with the committed one (``compare``)."""
    ex = executor or ExecutorConfig()
    n_seeds, n_ablation = _counts(scale, n_seeds, n_ablation_seeds)
    studies = _study_list(tuple(studies))
    if "generalization" in studies:
        generalization.study_runs(scale, study_seeds)  # a bad --study-seeds: nothing written
    check_reachable(ex)  # before anything is written
    if with_pdf and shutil.which("latexmk") is None:  # before an hour of work, not after it
        raise BadInput(
            f"latexmk not found: the report needs TeX Live; install it with: "
            f"{report.INSTALL_HINT}, or pass --no-pdf to write everything but the PDF"
        )
    if scale != "paper" and not os.environ.get("REPRO_RESULTS"):
        os.environ["REPRO_RESULTS"] = str(default_results_dir() / scale)
    stages = _stages(scale, n_seeds, n_ablation, force, ex, with_family, studies, study_seeds)
    if not with_pdf:
        stages = [(name, fn) for name, fn in stages if name != "report"]
        log("report: not built (--no-pdf)")
    tex_missing = _run_stages(stages, scale, n_seeds, force)
    if scale == "paper" and not os.environ.get("REPRO_RESULTS") and summary_file().exists():
        _update_readme()
    if tex_missing is None and with_pdf:
        log(f"report: {report_pdf()}")
    else:
        print(f"error: {tex_missing}", file=sys.stderr)
    if scale == "paper":  # did this run reproduce the committed results? (never fails)
        log(reproduce_line())
    return 0 if tex_missing is None else 2
