"""Every path the project reads or writes, from one place.

Where a user works is the current directory, never the package's install location. The
results folder is chosen once, where a command starts (:func:`chosen_results`: ``--results
DIR``, else ``$REPRO_RESULTS``, else ``./results``; a non-paper ``reproduce`` defaults to
``./results/<scale>``), and passed down from there: every function below takes it as its
``root`` and nothing reads it from global state. The paper-scale report goes to
``./paper/report.pdf``. What the package reads of its own (the LaTeX template, the
paper's numbers) ships inside it as package data, so an installed wheel works from any
folder.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent  # the installed (or checked-out) package
DATA = PACKAGE / "data"  # package data: the report's template and the paper's numbers
# The source checkout the package runs from, where it runs from one (an editable install);
# for an installed wheel this is its site-packages' parent, not a project.
PROJECT = PACKAGE.parents[1]


def work_dir() -> Path:
    """The folder a user works in: the current directory."""
    return Path.cwd()


def default_results_dir() -> Path:
    """``./results``: the results folder when none is chosen."""
    return work_dir() / "results"


def chosen_results(option: str | None = None) -> Path | None:
    """The results folder the user chose: ``--results DIR`` (``option``), else
    ``$REPRO_RESULTS``; None if neither. Read only where a command starts."""
    chosen = option or os.environ.get("REPRO_RESULTS")
    return Path(chosen).absolute() if chosen else None


def scale_results_dir(scale: str) -> Path:
    """Where ``reproduce`` at ``scale`` writes when no folder is chosen: ``./results`` at
    paper scale, ``./results/<scale>`` otherwise (a smoke run never touches the committed
    results)."""
    return default_results_dir() if scale == "paper" else default_results_dir() / scale


def is_default(root: Path) -> bool:
    """Whether ``root`` is ``./results``, the committed results of this checkout."""
    return Path(root).absolute() == default_results_dir().absolute()


def instances_dir(root: Path) -> Path:
    """``<root>/instances``: the frozen test, planning and training-maze sets."""
    return Path(root) / "instances"


def family_dir(root: Path, size: int, loop_prob: float) -> Path:
    """``<root>/family/size<N>-lp<p>``: the results folder of one maze-family cell."""
    return Path(root) / "family" / f"size{size}-lp{loop_prob:g}"


def generalization_dir(root: Path) -> Path:
    """``<root>/generalization``: the generalization study, one results folder per set of
    changed training fields (``steps200000``, ``steps200000+n_trajectories40000``)."""
    return Path(root) / "generalization"


def runs_dir(root: Path) -> Path:
    return Path(root) / "runs"


def run_dir(root: Path, run_id: str) -> Path:
    """``<root>/runs/<regime>/<config>__s<seed>``."""
    return runs_dir(root) / run_id


def stages_file(root: Path) -> Path:
    """Keys of the cached summary, figures and report stages."""
    return cache_dir(root) / "stages.json"


def timings_file(root: Path) -> Path:
    return Path(root) / "timings.json"


def lock_file(root: Path) -> Path:
    return Path(root) / ".reproduce.lock"


def cache_dir(root: Path) -> Path:
    return Path(root) / "cache"


def slurm_dir(root: Path) -> Path:
    """``<root>/slurm``: SLURM job logs when ``--slurm-folder`` is not given."""
    return Path(root) / "slurm"


def template_dir() -> Path:
    """The folder of the report's jinja2 LaTeX template (package data)."""
    return DATA


def paper_numbers_file() -> Path:
    """The paper's own numbers (Tables 1-3), kept in one data file (package data)."""
    return DATA / "paper_numbers.json"


def readme_file() -> Path:
    """``./README.md``, whose generated blocks a paper-scale reproduce keeps up to date."""
    return work_dir() / "README.md"


def summary_file(root: Path) -> Path:
    return Path(root) / "summary.json"


def figures_dir(root: Path) -> Path:
    return Path(root) / "figures"


def baselines_file(root: Path) -> Path:
    return Path(root) / "baselines.json"


def report_pdf(root: Path) -> Path:
    """./paper/report.pdf for the default results folder, else report/report.pdf inside it."""
    if is_default(root):
        return work_dir() / "paper" / "report.pdf"
    return Path(root) / "report" / "report.pdf"


def report_build_dir(root: Path) -> Path:
    return cache_dir(root) / "report-build"
