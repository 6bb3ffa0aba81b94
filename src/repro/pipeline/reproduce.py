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

import fcntl
import functools
import hashlib
import os
import resource
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path

from repro.config import (
    CONFIGS,
    REGIMES,
    SCALES,
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
from repro.results import summary
from repro.results.compare import reproduce_line
from repro.studies import registry
from repro.studies.study import Placed, Study


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


def _run_dir(r: Placed) -> Path:
    return run_dir(r.config.run_id, r.folder)


def main_runs(configs: list[RunConfig]) -> list[Placed]:
    """The runs of ``configs`` in the main results folder, labelled by run id."""
    return [Placed(results_dir(), c, c.run_id) for c in configs]


def stage_train(
    runs: list[Placed], scale: str, force: bool, ex: ExecutorConfig, what: str = "train"
) -> bool:
    """Train the runs that are not complete (every folder's in one executor call, longest
    first); whether any was."""
    todo = [r for r in runs if force or not is_complete(_run_dir(r), r.config)]
    if not todo:
        log(f"{what}: all {len(runs)} runs up to date (skipped)")
        return False
    todo.sort(key=lambda r: run_cost(r.config), reverse=True)  # stable: ties keep the order
    trainer = training_path(ex)
    units = TRAIN_UNITS[trainer](todo, scale, force, ex.threads)
    where = f"{ex.jobs} at a time" if ex.kind == "local" else "as SLURM jobs"
    where = f"{len(units)} units {where}" if trainer == "group" else where
    log(f"{what}: {len(todo)} of {len(runs)} runs to train, {where} ({trainer} trainer)")
    make_executor(ex).run(units, "training")
    return True


def training_path(ex: ExecutorConfig) -> str:
    """'group' or 'single': ``--trainer``, where 'auto' groups runs only on CUDA (on this
    machine's CPU a group step was not faster per member; see the README)."""
    if ex.trainer != "auto":
        return ex.trainer
    return "group" if resolve_device("auto").type == "cuda" else "single"


def train_unit(r: Placed, scale: str, force: bool, threads: int) -> Unit:
    """The command that trains run ``r`` into its results folder:
    ``python -m repro --results <folder> train ...``."""
    c = r.config
    argv = ["--results", str(r.folder), "train", "--config", c.name, "--regime", c.regime]
    argv += ["--seed", str(c.seed)]
    argv += ["--scale", scale, "--threads", str(threads), *variant_sets(c, scale)]
    return Unit(r.label, tuple(argv + (["--force"] if force else [])))


def member_spec(c: RunConfig, scale: str) -> str:
    """``CONFIG/REGIME/SEED[,FIELD=VALUE...]``: run ``c`` as ``train --member`` takes it."""
    sets = variant_sets(c, scale)[1::2]  # the FIELD=VALUE of each --set
    return ",".join([f"{c.name}/{c.regime}/{c.seed}", *sets])


def group_units(todo: list[Placed], scale: str, force: bool, threads: int) -> list[Unit]:
    """One ``python -m repro train --member ...`` command per results folder and group key,
    its runs as members (groups in the order of their costliest run)."""
    groups: dict[tuple, list[Placed]] = {}
    for r in todo:
        groups.setdefault((r.folder, group_key(r.config)), []).append(r)
    units = []
    for (folder, _), members in groups.items():
        argv = ["--results", str(folder), "train", "--scale", scale]
        argv += ["--threads", str(threads)]
        for r in members:
            argv += ["--member", member_spec(r.config, scale)]
        label = f"group of {len(members)}: {', '.join(r.label for r in members)}"
        units.append(Unit(label, tuple(argv + (["--force"] if force else []))))
    return units


def single_units(todo: list[Placed], scale: str, force: bool, threads: int) -> list[Unit]:
    """One ``python -m repro train`` command per run."""
    return [train_unit(r, scale, force, threads) for r in todo]


# How each training path turns the runs to train into units of work.
TRAIN_UNITS = {"single": single_units, "group": group_units}


def stage_evaluate(
    runs: list[Placed], scale: str, force: bool, ex: ExecutorConfig, what: str = "evaluate"
) -> bool:
    """Score the runs whose metrics.json is missing or stale, then the baselines of their
    evaluation contexts (each in its run's results folder); whether any run was scored."""
    ev = make_eval_config(scale)
    # Freeze the instances first, so parallel evaluations only read them.
    contexts: dict[tuple, Placed] = {}
    for r in runs:
        key = (r.folder, "procedural" if r.config.regime == "procedural" else r.config.seed)
        contexts.setdefault(key, r)
    for r in contexts.values():
        with results_root(r.folder):
            eval_dataset("test", r.config, ev)
            eval_dataset("plan", r.config, ev)
    todo = [r for r in runs if force or not metrics_up_to_date(_run_dir(r), ev)]
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
        make_executor(ex).run(units, "evaluation")
    else:
        log(f"{what}: all {len(runs)} runs up to date (skipped)")
    for r in contexts.values():
        with results_root(r.folder):
            evaluate_baselines(r.config, ev, force)
    folders = sorted({str(r.folder) for r in runs})
    log(f"{what}: baselines of {len(contexts)} evaluation context(s) in {', '.join(folders)}")
    return bool(todo)


def stage_ablations(configs: list[RunConfig], scale: str, force: bool, ex: ExecutorConfig) -> bool:
    """Train and evaluate the ablation variants, cached like the main runs."""
    trained = stage_train(main_runs(configs), scale, force, ex, "ablations")
    evaluated = stage_evaluate(main_runs(configs), scale, force, ex, "ablations")
    return trained or evaluated


@dataclass
class StudyPipeline:
    """What a study's stage may ask of this pipeline (:class:`repro.studies.study.Pipeline`):
    its runs trained and evaluated like the main ones, through the same executor."""

    scale: str
    force: bool
    study_seeds: int | None
    ex: ExecutorConfig

    def train(self, runs: Sequence[Placed], what: str) -> bool:
        return stage_train(list(runs), self.scale, self.force, self.ex, what)

    def evaluate(self, runs: Sequence[Placed], what: str) -> bool:
        return stage_evaluate(list(runs), self.scale, self.force, self.ex, what)

    def baselines(self, folder: Path, contexts: Sequence[RunConfig]) -> bool:
        ev = make_eval_config(self.scale)
        with results_root(folder):
            before = _sha(baselines_file()) if baselines_file().exists() else None
            for c in contexts:
                evaluate_baselines(c, ev, self.force)
            return _sha(baselines_file()) != before

    def run(self, commands: Sequence[tuple[str, tuple[str, ...]]], kind: str) -> None:
        make_executor(self.ex).run([Unit(label, tuple(argv)) for label, argv in commands], kind)

    def log(self, msg: str) -> None:
        log(msg)


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
    studies: list[Study],
) -> bool:
    """The summary of the runs of ``configs`` and the blocks of ``studies`` (each where its
    results exist), cached on every file it reads."""
    runs = [run_dir(c.run_id) for c in configs]
    inputs = [r / n for r in runs for n in ("metrics.json", "loss.csv")]
    inputs += [baselines_file(), paper_numbers_file()]
    for s in studies:
        inputs += s.inputs(scale)
    blocks = {s.name: functools.partial(s.summarize, scale) for s in studies}
    out = summary_file()
    return cached_stage(
        "summary",
        inputs,
        [out, out.with_suffix(".csv")],
        f"{scale}|{seeds}|{ablation_seeds}|studies={','.join(blocks)}",
        lambda: summary.main(scale, seeds, ablation_seeds, blocks),
        force,
    )


def figure_files() -> list[Path]:
    """The figures of the current summary (a study's only where its results exist)."""
    names = registry.figure_draws(read_json(summary_file()))
    return [figures_dir() / f"{name}.{ext}" for name in names for ext in ("pdf", "png")]


def draw_figures(jobs: int) -> None:
    """Every figure of the summary (:func:`repro.studies.registry.figure_draws`), each in a
    local process of its own (``python -m repro figures --only NAME``), ``jobs`` at a time:
    they are independent, and matplotlib takes about a second a figure. Local even for a
    SLURM run: a figure is not worth a job."""
    argv = ("--results", str(results_dir()), "figures", "--only")
    names = registry.figure_draws(read_json(summary_file()))
    LocalExecutor(jobs).run([Unit(name, (*argv, name)) for name in names], "figure")


def stage_figures(force: bool, jobs: int = 2) -> bool:
    return cached_stage(
        "figures", [summary_file()], figure_files(), "", lambda: draw_figures(jobs), force
    )


def _build_report() -> None:
    view = registry.load_summary(summary_file())
    report.main(view, registry.sections(view))


def stage_report(force: bool) -> bool:
    sections = sorted((template_dir() / "sections").glob("*.j2"))
    templates = [template_dir() / report.TEMPLATE, *sections]
    inputs = [summary_file(), *templates, *figure_files()]
    return cached_stage("report", inputs, [report_pdf()], str(report_pdf()), _build_report, force)


def _update_readme() -> None:
    """The README's headline block from the summary and timings, where ./README.md has one."""
    if not readme.has_section(readme_file(), "headline"):
        log(f"readme: no headline block in {readme_file()} (skipped)")
        return
    timings = read_json(timings_file()) if timings_file().exists() else None
    changed = readme.update("headline", registry.headline(read_json(summary_file()), timings))
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
    for name in registry.on_request():
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
    studies: list[Study],
    summarized: list[Study],
    study_seeds: int | None = None,
) -> list[tuple[str, Callable[[], bool]]]:
    """The pipeline's stages in order, each a (name, run) pair; run() says whether it did work.
    The ``studies`` run before the summary (``study_seeds`` seeds per study run); the
    ``summarized`` ones have their block in the summary wherever their results exist."""
    configs = all_configs(scale, n_seeds)
    ablations = ablation_configs(scale, n_ablation)
    seeds, ablation_seeds = list(range(n_seeds)), list(range(n_ablation))
    log(
        f"reproduce: scale {scale}, {n_seeds} seed(s), {len(configs)} runs and "
        f"{len(ablations)} ablation runs -> {results_dir()}"
    )
    pipe = StudyPipeline(scale, force, study_seeds, ex)
    stages = [
        ("train", lambda: stage_train(main_runs(configs), scale, force, ex)),
        ("evaluate", lambda: stage_evaluate(main_runs(configs), scale, force, ex)),
        ("ablations", lambda: stage_ablations(ablations, scale, force, ex)),
        *((s.name, functools.partial(s.stage, pipe)) for s in studies),
        (
            "summary",
            lambda: stage_summary(
                configs + ablations, scale, seeds, force, ablation_seeds, summarized
            ),
        ),
        ("figures", lambda: stage_figures(force, ex.jobs)),
        ("report", lambda: stage_report(force)),
    ]
    return [(name, fn) for name, fn in stages if name != "ablations" or ablations]


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
    skip_studies: tuple[str, ...] = (),
    studies: tuple[str, ...] = (),
    study_seeds: int | None = None,
    with_pdf: bool = True,
) -> int:
    """Run the whole study at ``scale`` with ``executor`` (default: local, one process per
    core): every study of the registry that runs by default unless named in
    ``skip_studies``, and the on-request ones named in ``studies``, with ``study_seeds``
    seeds per study run (default the scale's); the PDF unless ``with_pdf`` is False. Return
    0, or 2 if TeX went missing during the run (all else written; a missing latexmk is a
    BadInput before anything is written). At paper scale the last line compares the summary
    with the committed one (``compare``)."""
    ex = executor or ExecutorConfig()
    n_seeds, n_ablation = _counts(scale, n_seeds, n_ablation_seeds)
    to_run = registry.select(studies, skip_studies)
    summarized = registry.select(registry.STUDIES, skip_studies)
    for s in to_run:
        if s.check_args:
            s.check_args(scale, study_seeds)  # bad --study-seeds: nothing written
    check_reachable(ex)  # before anything is written
    if with_pdf and shutil.which("latexmk") is None:  # before an hour of work, not after it
        raise BadInput(
            f"latexmk not found: the report needs TeX Live; install it with: "
            f"{report.INSTALL_HINT}, or pass --no-pdf to write everything but the PDF"
        )
    if scale != "paper" and not os.environ.get("REPRO_RESULTS"):
        os.environ["REPRO_RESULTS"] = str(default_results_dir() / scale)
    stages = _stages(scale, n_seeds, n_ablation, force, ex, to_run, summarized, study_seeds)
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
