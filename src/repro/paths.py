"""Every path the project reads or writes, from one place.

The results root is ``results/`` under the project, or ``$REPRO_RESULTS`` when set
(tests point it at a temporary folder).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]


def results_dir() -> Path:
    return Path(os.environ.get("REPRO_RESULTS", PROJECT / "results"))


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
    """``results/generalization``: the generalization study (issue 15), one results folder
    per set of changed training fields (``steps200000``, ``steps200000+n_trajectories40000``)."""
    return results_dir() / "generalization"


def runs_dir() -> Path:
    return results_dir() / "runs"


def run_dir(run_id: str) -> Path:
    """``results/runs/<regime>/<config>__s<seed>``."""
    return runs_dir() / run_id


def stages_file() -> Path:
    """Input hashes of the cached summary, figures and report stages."""
    return cache_dir() / "stages.json"


def timings_file() -> Path:
    return results_dir() / "timings.json"


def lock_file() -> Path:
    return results_dir() / ".reproduce.lock"


def cache_dir() -> Path:
    return results_dir() / "cache"


def paper_dir() -> Path:
    return PROJECT / "paper"


def paper_numbers_file() -> Path:
    """The paper's own numbers (Tables 1-3), kept in one data file."""
    return PROJECT / "paper" / "paper_numbers.json"


def summary_file() -> Path:
    return results_dir() / "summary.json"


def figures_dir() -> Path:
    return results_dir() / "figures"


def baselines_file() -> Path:
    return results_dir() / "baselines.json"


def report_pdf() -> Path:
    """paper/report.pdf for the default results folder, else report/report.pdf inside it."""
    if "REPRO_RESULTS" in os.environ:
        return results_dir() / "report" / "report.pdf"
    return paper_dir() / "report.pdf"


def report_build_dir() -> Path:
    return results_dir() / "cache" / "report-build"
