"""Every path the project reads or writes, from one place.

Where a user works is the current directory, never the package's install location: the
results root is ``./results`` (or ``$REPRO_RESULTS``, or ``--results DIR``; tests point it at
a temporary folder), and the paper-scale report goes to ``./paper/report.pdf``. What the
package reads of its own (the LaTeX template, the paper's numbers) ships inside it as package
data, so an installed wheel works from any folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
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
    """``./results``: the results root when neither ``--results`` nor ``$REPRO_RESULTS``."""
    return work_dir() / "results"


def results_dir() -> Path:
    return Path(os.environ.get("REPRO_RESULTS") or default_results_dir())


@contextmanager
def results_root(path: Path) -> Iterator[Path]:
    """Within the block, :func:`results_dir` is ``path`` (a study folder of its own, e.g.
    one maze-family cell); the previous root is restored after it."""
    old = os.environ.get("REPRO_RESULTS")
    os.environ["REPRO_RESULTS"] = str(path)
    try:
        yield Path(path)
    finally:
        if old is None:
            os.environ.pop("REPRO_RESULTS", None)
        else:
            os.environ["REPRO_RESULTS"] = old


def family_dir(size: int, loop_prob: float) -> Path:
    """``results/family/size<N>-lp<p>``: the results folder of one maze-family cell."""
    return results_dir() / "family" / f"size{size}-lp{loop_prob:g}"


def generalization_dir() -> Path:
    """``results/generalization``: the generalization study, one results folder
    per set of changed training fields (``steps200000``, ``steps200000+n_trajectories40000``)."""
    return results_dir() / "generalization"


def runs_dir(root: Path | None = None) -> Path:
    return (root or results_dir()) / "runs"


def run_dir(run_id: str, root: Path | None = None) -> Path:
    """``results/runs/<regime>/<config>__s<seed>`` (under ``root`` if given: a study's own
    results folder)."""
    return runs_dir(root) / run_id


def stages_file() -> Path:
    """Input hashes of the cached summary, figures and report stages."""
    return cache_dir() / "stages.json"


def timings_file() -> Path:
    return results_dir() / "timings.json"


def lock_file() -> Path:
    return results_dir() / ".reproduce.lock"


def cache_dir() -> Path:
    return results_dir() / "cache"


def template_dir() -> Path:
    """The folder of the report's jinja2 LaTeX template (package data)."""
    return DATA


def paper_numbers_file() -> Path:
    """The paper's own numbers (Tables 1-3), kept in one data file (package data)."""
    return DATA / "paper_numbers.json"


def readme_file() -> Path:
    """``./README.md``, whose generated blocks a paper-scale reproduce keeps up to date."""
    return work_dir() / "README.md"


def summary_file() -> Path:
    return results_dir() / "summary.json"


def figures_dir() -> Path:
    return results_dir() / "figures"


def baselines_file() -> Path:
    return results_dir() / "baselines.json"


def report_pdf() -> Path:
    """./paper/report.pdf for the default results folder, else report/report.pdf inside it."""
    if os.environ.get("REPRO_RESULTS"):
        return results_dir() / "report" / "report.pdf"
    return work_dir() / "paper" / "report.pdf"


def report_build_dir() -> Path:
    return results_dir() / "cache" / "report-build"
