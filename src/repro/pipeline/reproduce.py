"""``nox -s reproduce``: from nothing to ``paper/report.pdf``, every stage cached.

The pipeline is a table (:func:`stage_table`, of :class:`repro.pipeline.stages.Stage`):
train (every configuration x regime x seed, in parallel processes with one thread each,
longest runs first), evaluate (the frozen test and planning sets, one process per run,
then the baselines), ablations (the variants of ``config.ABLATIONS``, trained and evaluated
the same way), each study of the registry that runs (the maze family by default, the
generalization study with ``--studies generalization``), summary, figures, report. The
summary, figures and report include a study whenever its results exist, so a later run
without ``--studies`` keeps it.

Every stage is cached under one key scheme (:mod:`repro.cachekey`): a run is retrained or
re-evaluated only when its configuration, its code, the libraries or what it reads
changed, and the summary, figures and report only when one of their input files did.
``reproduce --dry-run`` says which stages and runs would run and which part of their key
changed, and writes nothing. Stage wall times go to ``results/timings.json`` (not into the
summary, which stays byte-identical).

The results folder is an argument (``root``), chosen once by the command line: scales
other than ``paper`` default to ``results/<scale>/`` (their report to
``results/<scale>/report/report.pdf``), so a smoke run never touches the committed
paper-scale results.
"""

from __future__ import annotations

import fcntl
import functools
import os
import resource
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from repro.config import REGIMES, RUN_CONFIGS, SCALES, RunConfig, ablation_configs, make_config
from repro.errors import BadInput, Busy, ConfigError
from repro.io import read_json, write_json
from repro.paths import (
    baselines_file,
    figures_dir,
    is_default,
    lock_file,
    paper_numbers_file,
    readme_file,
    report_pdf,
    run_dir,
    summary_file,
    template_dir,
    timings_file,
)
from repro.pipeline.executor import LocalExecutor, check_reachable, units_cpu_seconds, warm_up
from repro.pipeline.runs import DryPipeline, RunPipeline, log
from repro.pipeline.stages import Stage, plan_stage, run_stage
from repro.pipeline.units import ExecutorConfig, Unit
from repro.report import costs as report_costs
from repro.report import document as report
from repro.report import readme
from repro.report.document import TexMissing
from repro.results import summary
from repro.results.compare import reproduce_line
from repro.studies import registry
from repro.studies.study import Pipeline, Placed, Study


@contextmanager
def results_lock(root: Path) -> Iterator[None]:
    """Hold ``<root>/.reproduce.lock`` for the whole pipeline: a kernel lock (``flock``) on
    the file, which names the owner's pid.

    A second reproduce on the same folder stops at once with a message naming the owner,
    however close together the two started: only one process can hold the lock. A killed
    owner holds nothing (the kernel drops its lock with its last file descriptor), so the
    next reproduce proceeds without any stale-lock guessing.
    """
    path = lock_file(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise Busy(
                f"another reproduce ({_owner(path)}) is using {root}; wait for it to finish"
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
        for name in RUN_CONFIGS
        for seed in range(n_seeds)
    ]


def main_runs(root: Path, configs: list[RunConfig]) -> list[Placed]:
    """The runs of ``configs`` in the main results folder ``root``, labelled by run id."""
    return [Placed(root, c, c.run_id) for c in configs]


def _ablations(pipe: Pipeline, configs: list[RunConfig]) -> bool:
    """Train and evaluate the ablation variants, cached like the main runs."""
    trained = pipe.train(main_runs(pipe.root, configs), "ablations")
    evaluated = pipe.evaluate(main_runs(pipe.root, configs), "ablations")
    return trained or evaluated


def summary_stage(
    root: Path, configs: list[RunConfig], scale: str, seeds: list[int],
    ablation_seeds: list[int], studies: list[Study], needs: tuple[str, ...],
) -> Stage:  # fmt: skip
    """The summary of the runs of ``configs`` in ``root`` and the blocks of ``studies``
    (each where its results exist), keyed on every file it reads."""

    def inputs() -> list[Path]:
        runs = [run_dir(root, c.run_id) for c in configs]
        files = [r / n for r in runs for n in ("metrics.json", "loss.csv")]
        files += [baselines_file(root), paper_numbers_file()]
        for s in studies:
            files += s.inputs(root, scale)
        return [p for p in files if p.exists()]

    blocks = {s.name: functools.partial(s.summarize, root, scale) for s in studies}
    out = summary_file(root)
    return Stage(
        "summary",
        lambda: summary.main(root, scale, seeds, ablation_seeds, blocks),
        needs,
        inputs,
        lambda: [out, out.with_suffix(".csv")],
        lambda: f"{scale}|{seeds}|{ablation_seeds}|studies={','.join(blocks)}",
    )


def figure_files(root: Path) -> list[Path]:
    """The figures of the current summary (a study's only where its results exist)."""
    names = registry.figure_draws(read_json(summary_file(root)))
    return [figures_dir(root) / f"{name}.{ext}" for name in names for ext in ("pdf", "png")]


def figure_batches(names: list[str], jobs: int) -> list[list[str]]:
    """``names`` dealt round-robin into at most ``jobs`` batches, one process each."""
    n = max(1, min(jobs, len(names)))
    return [names[i::n] for i in range(n) if names[i::n]]


def draw_figures(root: Path, jobs: int) -> None:
    """Every figure of the summary (:func:`repro.studies.registry.figure_draws`), in ``jobs``
    local processes (``python -m repro figures --only A --only B ...``), each drawing its
    share: the figures are independent, and each process pays matplotlib's import (about a
    second) once rather than once a figure. Local even for a SLURM run: a figure is not
    worth a job."""
    names = list(registry.figure_draws(read_json(summary_file(root))))
    units = [
        Unit(", ".join(batch), ("--results", str(root), "figures", *_only(batch)))
        for batch in figure_batches(names, jobs)
    ]
    LocalExecutor(jobs).run(units, "figures")


def _only(names: list[str]) -> list[str]:
    return [arg for name in names for arg in ("--only", name)]


def figures_stage(root: Path, jobs: int) -> Stage:
    return Stage(
        "figures",
        lambda: draw_figures(root, jobs),
        ("summary",),
        lambda: [summary_file(root)],
        lambda: figure_files(root),
    )


def _build_report(root: Path) -> None:
    view = registry.load_summary(summary_file(root))
    report.main(view, root, registry.sections(view))


def report_stage(root: Path) -> Stage:
    def inputs() -> list[Path]:
        sections = sorted((template_dir() / "sections").glob("*.j2"))
        template = template_dir() / report.TEMPLATE
        bib = template_dir() / report.BIBLIOGRAPHY
        return [summary_file(root), template, bib, *sections, *figure_files(root)]

    return Stage(
        "report",
        lambda: _build_report(root),
        ("summary", "figures"),
        inputs,
        lambda: [report_pdf(root)],
        # where it goes, and the records of time its appendix prints (not the whole
        # timings.json, whose ordinary rerun times change every run)
        lambda: f"{os.path.relpath(report_pdf(root), root)}|costs={report_costs.digest(root)}",
    )


def _update_readme(root: Path) -> None:
    """The README's headline block from the summary and timings, where ./README.md has one."""
    if not readme.has_section(readme_file(), "headline"):
        log(f"readme: no headline block in {readme_file()} (skipped)")
        return
    timings = read_json(timings_file(root)) if timings_file(root).exists() else None
    body = registry.headline(read_json(summary_file(root)), timings, with_abstract=True)
    changed = readme.update("headline", body)
    log(f"readme: headline {'updated' if changed else 'unchanged'} ({readme_file()})")


def _remove_stale_temporaries(root: Path) -> None:
    """Delete temporary files a killed writer left behind (never read, only litter)."""
    for tmp in root.rglob(".*.tmp"):
        tmp.unlink(missing_ok=True)


def _timings_record(
    root: Path,
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
        previous = read_json(timings_file(root)) if timings_file(root).exists() else {}
    except ValueError:
        previous = {}
    same = isinstance(previous, dict) and previous.get("scale") == scale
    record = {"scale": scale, "seeds": n_seeds, "stages_s": timings, "did_work": worked}
    if cpu:
        record["cpu_s"] = cpu
    if force and all(worked.values()):
        runs = len(all_configs(scale, n_seeds))
        record["full_run"] = {"stages_s": timings, "seeds": n_seeds, "runs": runs}
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


def stage_table(
    root: Path,
    scale: str,
    n_seeds: int,
    n_ablation: int,
    jobs: int,
    studies: list[Study],
    summarized: list[Study],
) -> list[Stage]:
    """The pipeline's stages in order (see :mod:`repro.pipeline.stages`). The ``studies`` run
    before the summary; the ``summarized`` ones have their block in the summary wherever
    their results exist."""
    configs = all_configs(scale, n_seeds)
    ablations = ablation_configs(scale, n_ablation)
    seeds, ablation_seeds = list(range(n_seeds)), list(range(n_ablation))
    per_run = [
        Stage("train", lambda pipe: pipe.train(main_runs(root, configs), "train")),
        Stage("evaluate", lambda p: p.evaluate(main_runs(root, configs), "evaluate"), ("train",)),
    ]
    if ablations:
        per_run.append(Stage("ablations", functools.partial(_ablations, configs=ablations)))
    per_run += [Stage(s.name, s.stage) for s in studies]
    return [
        *per_run,
        summary_stage(
            root,
            configs + ablations,
            scale,
            seeds,
            ablation_seeds,
            summarized,
            tuple(s.name for s in per_run),
        ),  # fmt: skip
        figures_stage(root, jobs),
        report_stage(root),
    ]


def _run_stages(stages: list[Stage], pipe: RunPipeline, n_seeds: int) -> TexMissing | None:
    """Run the stages under the results lock, timing each; the TeX error if TeX is missing."""
    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}
    worked: dict[str, bool] = {}
    tex_missing = None
    t0 = time.perf_counter()
    root = pipe.root
    with results_lock(root):
        warm_up()  # the forkserver's imports (about 2 s) overlap with the first stage's checks
        _remove_stale_temporaries(root)
        for stage in stages:
            name = stage.name
            t, c = time.perf_counter(), _cpu_seconds()
            try:
                worked[name] = run_stage(stage, pipe)
            except TexMissing as e:  # everything else is written; say how to get TeX
                tex_missing, worked[name] = e, False
            timings[name] = round(time.perf_counter() - t, 3)
            cpu[name] = round(_cpu_seconds() - c, 3)
            log(f"{name}: {timings[name]:.1f} s")
        timings["total"] = round(time.perf_counter() - t0, 3)
        if any(worked.values()) or not timings_file(root).exists():  # a no-op writes nothing
            record = _timings_record(root, pipe.scale, n_seeds, timings, worked, pipe.force, cpu)
            write_json(timings_file(root), record)
    log(f"reproduce: done in {timings['total']:.1f} s; stage times in {timings_file(root)}")
    return tex_missing


def plan(stages: list[Stage], pipe: DryPipeline) -> None:
    """Say what each stage would do and why, the way ``snakemake -n`` does; write nothing."""
    running: list[str] = []
    for stage in stages:
        if plan_stage(stage, pipe, running):
            running.append(stage.name)
    log(
        f"dry run: {len(running)} of {len(stages)} stages would run"
        + (f" ({', '.join(running)})" if running else "")
        + "; nothing was written"
    )


def main(
    root: Path,
    scale: str = "paper",
    n_seeds: int | None = None,
    force: bool = False,
    n_ablation_seeds: int | None = None,
    executor: ExecutorConfig | None = None,
    skip_studies: tuple[str, ...] = (),
    studies: tuple[str, ...] = (),
    study_seeds: int | None = None,
    with_pdf: bool = True,
    dry_run: bool = False,
) -> int:
    """Run the whole study at ``scale`` into the results folder ``root`` with ``executor``
    (default: local, one process per core): every study of the registry that runs by
    default unless named in ``skip_studies``, and the on-request ones named in ``studies``,
    with ``study_seeds`` seeds per study run (default the scale's); the PDF unless
    ``with_pdf`` is False. Return 0, or 2 if TeX went missing during the run (all else
    written; a missing latexmk is a BadInput before anything is written). At paper scale
    the last line compares the summary with the committed one (``compare``). ``dry_run``:
    only say what would run and why."""
    ex = executor or ExecutorConfig()
    n_seeds, n_ablation = _counts(scale, n_seeds, n_ablation_seeds)
    names, parts = registry.parse_requested(studies)  # 'walls:headline' runs one arm
    to_run = registry.select(names, skip_studies)
    summarized = registry.select(registry.STUDIES, skip_studies)
    for s in to_run:
        if s.check_args:
            s.check_args(scale, study_seeds)  # bad --study-seeds: nothing written
    if not dry_run:
        check_reachable(ex)  # before anything is written
    if not dry_run and with_pdf and shutil.which("latexmk") is None:  # before an hour of work
        raise BadInput(
            f"latexmk not found: the report needs TeX Live; install it with: "
            f"{report.INSTALL_HINT}, or pass --no-pdf to write everything but the PDF"
        )
    root = Path(root).absolute()
    stages = stage_table(root, scale, n_seeds, n_ablation, ex.jobs, to_run, summarized)
    n_runs, n_ablations = len(all_configs(scale, n_seeds)), len(ablation_configs(scale, n_ablation))
    log(
        f"reproduce{' --dry-run' if dry_run else ''}: scale {scale}, {n_seeds} seed(s), "
        f"{n_runs} runs and {n_ablations} ablation runs -> {root}"
    )
    if not with_pdf:
        stages = [s for s in stages if s.name != "report"]
        log("report: not built (--no-pdf)")
    if dry_run:
        plan(stages, DryPipeline(root, scale, force, study_seeds, study_parts=parts))
        return 0
    pipe = RunPipeline(root, scale, force, study_seeds, ex, study_parts=parts)
    tex_missing = _run_stages(stages, pipe, n_seeds)
    if scale == "paper" and is_default(root) and summary_file(root).exists():
        _update_readme(root)  # the committed results' README block
    if tex_missing is None and with_pdf:
        log(f"report: {report_pdf(root)}")
    else:
        print(f"error: {tex_missing}", file=sys.stderr)
    if scale == "paper":  # did this run reproduce the committed results? (never fails)
        log(reproduce_line(root))
    return 0 if tex_missing is None else 2
