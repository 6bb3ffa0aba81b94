"""Fingerprints of a stage's code and libraries, so caches know when they are stale.

A cached result is reused only if its configuration, the source code of the
modules its stage runs, and the versions of the libraries it uses are all
unchanged. Editing a module therefore invalidates exactly the stages that
import it (as listed in :data:`STAGE_MODULES`).
"""

from __future__ import annotations

import hashlib
import platform
from pathlib import Path

_PKG = Path(__file__).resolve().parent

# The modules each stage's results depend on (files under src/repro/). config.py is
# not listed: the configuration's values are hashed themselves, and its code only
# declares and checks them.
STAGE_MODULES: dict[str, tuple[str, ...]] = {
    "train": ("maze", "data", "models", "losses", "optim", "train"),
    "evaluate": ("maze", "data", "models", "evaluate", "metrics", "planning"),
    "summary": ("summary", "claims"),
    "figures": ("figures",),
    "report": ("report", "report_ablations"),
}


def library_versions() -> dict[str, str]:
    """Versions of Python and of every library a stage's numbers depend on."""
    from importlib.metadata import version

    libs = ("numpy", "scipy", "torch", "matplotlib", "jinja2")
    return {"python": platform.python_version(), **{lib: version(lib) for lib in libs}}


def code_hash(stage: str, extra_files: tuple[Path, ...] = ()) -> str:
    """sha256 (16 hex digits) of the stage's modules' source, extra files and library versions."""
    if stage not in STAGE_MODULES:
        raise ValueError(f"unknown stage {stage!r}")
    h = hashlib.sha256()
    for name in STAGE_MODULES[stage]:
        h.update(name.encode())
        h.update((_PKG / f"{name}.py").read_bytes())
    for path in extra_files:
        h.update(Path(path).name.encode())
        h.update(Path(path).read_bytes())
    h.update(repr(sorted(library_versions().items())).encode())
    return h.hexdigest()[:16]
