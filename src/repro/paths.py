"""Every path the project reads or writes, from one place.

The results root is ``results/`` under the project, or ``$REPRO_RESULTS`` when set
(tests point it at a temporary folder).
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]


def results_dir() -> Path:
    return Path(os.environ.get("REPRO_RESULTS", PROJECT / "results"))


def runs_dir() -> Path:
    return results_dir() / "runs"


def run_dir(run_id: str) -> Path:
    """``results/runs/<regime>/<config>__s<seed>``."""
    return runs_dir() / run_id


def cache_dir() -> Path:
    return results_dir() / "cache"


def paper_dir() -> Path:
    return PROJECT / "paper"
