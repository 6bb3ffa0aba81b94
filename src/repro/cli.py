"""Command line: ``python -m repro <command> ...``.

Bad input (:class:`repro.errors.BadInput`: an unknown name, field or value; a
missing or damaged file; a path that cannot be used) prints one line
``error: ...`` naming what is wrong and exits with code 2, without a traceback;
so does a results folder held by another reproduce. A failed unit of work (a
training or evaluation process) exits with code 1 naming it; a diverged
training run with code 3; ``compare`` exits with code 1 when the rerun did not
reproduce the committed results. Anything else is a bug: its traceback is shown and
the exit code is 1.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from repro.config import (
    ALL_CONFIGS,
    REGIMES,
    SCALES,
    config_from_dict,
    make_config,
    make_eval_config,
    parse_int,
    parse_sets,
)
from repro.errors import BadInput, Busy, ConfigError, StageFailed, TrainingDiverged
from repro.io import read_json
from repro.paths import chosen_results, default_results_dir, run_dir, runs_dir
from repro.studies import registry


def _ascii_int(text: str) -> int:
    """An integer option: ASCII digits only (int() would also take '１０'), at most 20."""
    try:
        return parse_int("the value", text)
    except ConfigError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own errors: one line, exit 2
        self.exit(2, f"error: {message} (see --help)\n")


def _add_train(sub) -> None:
    """The ``train`` command: one run, or several as one group (``--member``, repeatable).

    ``train-group`` is kept as another name of the same command."""
    t = sub.add_parser(
        "train",
        aliases=["train-group"],
        help="train one run, or several runs of one architecture as one group (--member)",
    )
    which = t.add_mutually_exclusive_group(required=True)
    which.add_argument("--config", help=f"one of: {', '.join(ALL_CONFIGS)}")
    which.add_argument(
        "--member",
        action="append",
        metavar="CONFIG/REGIME/SEED[,FIELD=VALUE...]",
        help="a run of a group (repeatable), e.g. contrastive-normal/fixed/0,gamma=0.98",
    )
    which.add_argument(
        "--config-file",
        action="append",
        metavar="PATH",
        help="a run as the config.json reproduce wrote into its folder (repeatable: a group)",
    )
    t.add_argument("--regime", default=None, help=f"one of: {', '.join(REGIMES)} (procedural)")
    t.add_argument("--seed", type=_ascii_int, default=None, help="the run's seed (default 0)")
    t.add_argument("--scale", default="paper", help=f"size preset: {', '.join(SCALES)}")
    t.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override a configuration field (repeatable), e.g. --set steps=5000",
    )
    t.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda[:N]")
    t.add_argument("--threads", type=_ascii_int, default=1, help="torch CPU threads (default 1)")
    t.add_argument("--force", action="store_true", help="retrain even if the run is complete")
    t.add_argument(
        "--cuda-graphs",
        action="store_true",
        help="replay a group's step as a CUDA graph (CUDA only; the same training, fewer "
        "launches; off by default until measured, see nox -s gpu-check)",
    )


def _add_evaluate(sub) -> None:
    """The ``evaluate`` command: metrics of trained runs, and the baselines."""
    e = sub.add_parser("evaluate", help="write metrics.json for trained runs, and the baselines")
    which = e.add_mutually_exclusive_group(required=True)
    which.add_argument("--run", help="a run id, <regime>/<config>__s<seed>")
    which.add_argument("--all", action="store_true", help="every finished run under results/runs")
    e.add_argument("--scale", default="paper", help=f"evaluation preset: {', '.join(SCALES)}")
    e.add_argument("--device", default="cpu", help="cpu (default), auto, cuda[:N]")
    e.add_argument("--force", action="store_true", help="recompute even if up to date")
    e.add_argument("--no-baselines", action="store_true", help="skip results/baselines.json")


def _add_reproduce(sub) -> None:
    """The ``reproduce`` command: the whole pipeline, and where its units run."""
    r = sub.add_parser("reproduce", help="the whole study: data, training, evaluation, report")
    r.add_argument("--scale", default="paper", help=f"size preset: {', '.join(SCALES)}")
    r.add_argument(
        "--seeds", type=_ascii_int, default=None, help="seeds per run (default: the scale's)"
    )
    r.add_argument("--force", action="store_true", help="redo every stage")
    r.add_argument(
        "--jobs",
        type=_ascii_int,
        default=None,
        help="local: processes at a time (default: the cores this process may use)",
    )
    r.add_argument("--executor", default="local", help="where units run: local (default) | slurm")
    r.add_argument(
        "--trainer",
        default="auto",
        help="auto (default: groups of runs on CUDA, one run a process on the CPU), single, group",
    )
    r.add_argument(
        "--cuda-graphs",
        action="store_true",
        help="group trainer on CUDA: replay each group's step as a CUDA graph",
    )
    r.add_argument(
        "--slurm-partition", default=None, help="slurm: partition (default: the default)"
    )
    r.add_argument(
        "--slurm-time", type=_ascii_int, default=60, help="slurm: minutes per job (default 60)"
    )
    r.add_argument(
        "--slurm-cpus", type=_ascii_int, default=1, help="slurm: CPUs (= threads) per job"
    )
    r.add_argument("--slurm-mem", default=None, help="slurm: memory per job, e.g. 4G")
    r.add_argument("--slurm-folder", default=None, help="slurm: job logs (default <results>/slurm)")
    r.add_argument(
        "--slurm-max-jobs", type=_ascii_int, default=8, help="slurm: jobs queued at once"
    )
    for s in registry.STUDIES.values():
        if not s.on_request:
            r.add_argument(
                f"--no-{s.name}",
                dest="skip_studies",
                action="append_const",
                const=s.name,
                default=[],
                help=f"skip the {s.name} study ({s.about})",
            )
    r.add_argument(
        "--no-pdf", action="store_true", help="write everything but the PDF (no TeX needed)"
    )
    r.add_argument(
        "-n",
        "--dry-run",
        action="store_true",
        help="say which stages and runs would run and why (what changed); write nothing",
    )
    r.add_argument(
        "--studies",
        nargs="+",
        default=[],
        metavar="STUDY",
        help=f"also run these studies: {', '.join(registry.on_request())} (default: none; "
        "their results, once they exist, stay in the summary and report); NAME:PART[,PART] "
        "runs only those parts (arms) of a study, e.g. walls:headline",
    )
    r.add_argument(
        "--study-seeds",
        type=_ascii_int,
        default=None,
        help="seeds per study run (default: the scale's)",
    )
    r.add_argument(
        "--ablation-seeds",
        type=_ascii_int,
        default=None,
        help="seeds per ablation variant (default: the scale's; 0 skips the ablations)",
    )


def _add_study_commands(sub) -> None:
    """The studies' own commands (:func:`repro.studies.registry.commands`)."""
    for c in registry.commands():
        c.add_arguments(sub.add_parser(c.name, help=c.help))


def _add_commands(sub) -> None:
    """The ``figures`` and ``compare`` commands."""
    f = sub.add_parser("figures", help="draw the figures of results/summary.json")
    f.add_argument("--only", action="append", default=[], metavar="NAME", help="one figure")

    c = sub.add_parser(
        "compare",
        help="did a rerun reproduce the committed results? (exit 0 yes, 1 no)",
        description="Compare the results folder's summary.json with the committed one: is "
        "every fresh mean within the committed seed spread, and did any claim's verdict "
        "change?",
    )
    c.add_argument(
        "--against",
        default=None,
        metavar="FOLDER-OR-GIT-REF",
        help="a results folder (its summary.json) or a git ref (its results/summary.json); "
        "default HEAD",
    )


def _prog() -> str:
    """``repro`` as the console script, ``python -m repro`` as a module."""
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return "python -m repro" if name in ("", "__main__.py", "-c") else name


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=_prog(), description=__doc__.splitlines()[0])
    parser.add_argument(
        "--results", default=None, help="results folder (default: $REPRO_RESULTS or results/)"
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    for add in (
        _add_train,
        _add_evaluate,
        _add_reproduce,
        _add_study_commands,
        _add_commands,
    ):
        add(sub)
    return parser


# Each command imports its implementation when it runs (deferred on purpose): a training
# process started by reproduce then never loads matplotlib, jinja2 or the evaluation code.


def cmd_reproduce(args: argparse.Namespace) -> int:
    from repro.paths import scale_results_dir
    from repro.pipeline.reproduce import main as reproduce
    from repro.pipeline.units import ExecutorConfig, default_jobs

    ex = ExecutorConfig(
        kind=args.executor,
        jobs=default_jobs() if args.jobs is None else args.jobs,
        slurm_partition=args.slurm_partition,
        slurm_time=args.slurm_time,
        slurm_cpus=args.slurm_cpus,
        slurm_mem=args.slurm_mem,
        slurm_folder=args.slurm_folder,
        slurm_max_jobs=args.slurm_max_jobs,
        trainer=args.trainer,
        cuda_graphs=args.cuda_graphs,
    )
    return reproduce(
        args.chosen or scale_results_dir(args.scale),
        args.scale,
        args.seeds,
        args.force,
        args.ablation_seeds,
        ex,
        tuple(args.skip_studies or ()),
        tuple(args.studies),
        args.study_seeds,
        not args.no_pdf,
        args.dry_run,
    )


def cmd_evaluate(args: argparse.Namespace) -> int:
    import torch

    from repro.evaluation.evaluate import evaluate_baselines, evaluate_run
    from repro.learn.runfiles import load_model

    torch.set_num_threads(1)
    ev = make_eval_config(args.scale)
    if args.all:
        runs = sorted(p.parent for p in runs_dir(args.root).glob("*/*/run.json"))
        if not runs:
            raise BadInput(f"no finished runs under {runs_dir(args.root)}")
    else:
        runs = [run_dir(args.root, args.run)]
        if not runs[0].is_dir():
            raise BadInput(f"run folder {runs[0]} does not exist")
    for run in runs:
        m = evaluate_run(run, ev, args.root, args.device, args.force)
        if not args.no_baselines:
            _, config = load_model(run)
            evaluate_baselines(config, ev, args.root, args.force)
        p = m["planning"]
        print(
            f"{m['run_id']}: spearman paper {m['spearman']['paper']['mean']:.3f}, "
            f"full {m['spearman']['full']['mean']:.3f}; solved search "
            f"{p['search']['solved_rate']:.3f}, greedy {p['greedy']['solved_rate']:.3f}"
        )
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from repro.learn.train import train_runs

    if args.threads < 1:
        raise ConfigError(f"--threads must be >= 1; got {args.threads}")
    if args.member or args.config_file:
        given = [f for f in ("regime", "seed") if getattr(args, f) is not None]
        given += ["set"] if args.set else []
        if given:
            option = "--member" if args.member else "--config-file"
            what = "its own regime, seed and settings"
            raise ConfigError(f"{option} carries {what}; drop --{given[0]}")
        if args.member:
            configs = [member_config(spec, args.scale) for spec in args.member]
        else:
            configs = [config_file(Path(p)) for p in args.config_file]
    else:
        regime = "procedural" if args.regime is None else args.regime
        if regime not in REGIMES:
            raise ConfigError(f"regime must be one of {', '.join(REGIMES)}; got {regime!r}")
        seed = 0 if args.seed is None else args.seed
        configs = [make_config(args.config, regime, seed, args.scale, parse_sets(args.set))]
    outs = [run_dir(args.root, c.run_id) for c in configs]
    metas = train_runs(
        configs, outs, args.device, args.threads, force=args.force, cuda_graphs=args.cuda_graphs
    )
    for config, meta in zip(configs, metas, strict=True):
        state = (
            "already complete" if meta.get("cached") else f"trained in {meta['wall_time_s']:.1f} s"
        )
        print(f"{config.run_id}: {state}; final loss {meta['final_loss']:.4g}")
    if len(configs) > 1:
        print(f"group of {len(configs)}: done")
    return 0


def cmd_figures(args: argparse.Namespace) -> int:
    from repro.paths import figures_dir, summary_file
    from repro.report.figures import write_figure

    known = registry.every_figure()
    unknown = [n for n in args.only if n not in known]
    if unknown:
        raise BadInput(f"unknown figure {unknown[0]!r}; figures are: {', '.join(known)}")
    summary = registry.load_summary(summary_file(args.root))  # checked: no garbage drawn
    draws = registry.figure_draws(summary)
    for name in args.only or draws:
        paths = write_figure(name, summary, figures_dir(args.root), known[name])
        print(f"{name}: {', '.join(p.name for p in paths)}")
    return 0


def config_file(path: Path):
    """The RunConfig in ``path``, a run's config.json (``{"config": {...}, ...}``);
    BadInput / ConfigError naming the file."""
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("config"), dict):
        raise BadInput(f"{path}: not a run's config.json (no 'config' object)")
    try:
        return config_from_dict(data["config"])
    except (ConfigError, TypeError, ValueError) as e:
        raise ConfigError(f"{path}: {e}") from None


def member_config(spec: str, scale: str):
    """The RunConfig of ``CONFIG/REGIME/SEED[,FIELD=VALUE...]`` at ``scale``; ConfigError."""
    head, *sets = spec.split(",")
    parts = head.split("/")
    if len(parts) != 3:
        raise ConfigError(f"--member expects CONFIG/REGIME/SEED[,FIELD=VALUE...]; got {spec!r}")
    name, regime, seed = parts
    seed = parse_int("the seed of --member", seed)
    if regime not in REGIMES:
        raise ConfigError(f"regime must be one of {', '.join(REGIMES)}; got {regime!r}")
    return make_config(name, regime, seed, scale, parse_sets(sets))


def cmd_compare(args: argparse.Namespace) -> int:
    from repro.results.compare import main as compare

    return compare(args.root, args.against)


COMMANDS = {
    "train": cmd_train,
    "train-group": cmd_train,  # the alias of train
    "evaluate": cmd_evaluate,
    "reproduce": cmd_reproduce,
    "figures": cmd_figures,
    "compare": cmd_compare,
}


def _command(name: str):
    """The function that runs command ``name`` (the core commands, then the studies')."""
    if name in COMMANDS:
        return COMMANDS[name]
    return next(c.run for c in registry.commands() if c.name == name)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # The results folder, chosen here once and passed down (nothing below reads it from
    # the environment): reproduce's default depends on its scale, every other command's is
    # ./results.
    args.chosen = chosen_results(args.results)
    args.root = args.chosen or default_results_dir()
    try:
        return _command(args.command)(args)
    except (BadInput, Busy) as e:  # the user's input, or a folder in use: one line
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # a path that cannot be read or written (it names the path)
        print(f"error: {e}", file=sys.stderr)
        return 2
    except StageFailed as e:  # a unit of work failed in its own process; the message names it
        print(f"error: {e}", file=sys.stderr)
        return 1
    except TrainingDiverged as e:
        print(f"error: training diverged: {e}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
