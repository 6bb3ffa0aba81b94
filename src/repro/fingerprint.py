"""Fingerprints of a stage's code and libraries, so caches know when they are stale.

A cached result is reused only if its configuration, the code of the modules its
stage runs (their syntax trees: a comment, a docstring or the layout may change without
a rerun, :func:`source_form`), and the versions of the libraries it uses are all
unchanged. The modules are found from the code's structure, not from a list
kept by hand: a stage's code is its entry module (:data:`STAGE_ENTRIES`) and
every module of the package's layers (:data:`LAYERS`) that it
imports, directly or through others (read from the source's import
statements, deferred ones included). A new module is therefore covered as soon
as a stage imports it.

The top-level modules (``repro.config``, ``repro.paths``, ``repro.io``,
``repro.errors``, this one) are left out on purpose: the configuration's
*values* are hashed themselves (so adding an ablation to ``config.py`` does not
retrain the study), and the others move and check files without computing a
number. The distance models are reached by name (``repro.config.METHOD_MODULES``), not
by an import, so a training or evaluation key names its own method's module as an
``extra`` entry: a run's key covers its method's code and no other method's, and adding
a method leaves the other methods' results valid.
"""

from __future__ import annotations

import ast
import hashlib
import platform
from functools import cache
from importlib.metadata import version
from pathlib import Path

_PKG = Path(__file__).resolve().parent  # src/repro
# The subpackages whose code a stage's results depend on.
LAYERS = ("core", "learn", "evaluation", "results", "report", "studies", "pipeline")

# The module each stage runs; its fingerprint follows that module's imports.
STAGE_ENTRIES: dict[str, str] = {
    "train": "repro.learn.train",
    "evaluate": "repro.evaluation.evaluate",
    "generalization": "repro.studies.generalization.evaluate",
    "summary": "repro.results.summary",
    "figures": "repro.report.figures",
    "report": "repro.report.document",
}
# Modules a stage runs that its entry module does not import: the studies' summary blocks,
# figures and report sections, which the pipeline passes in by name (repro.studies.registry).
# By the studies' layout, each stage reaches the modules of its own kind in every study
# package (the arm studies build their blocks with repro.studies.arms), and no others: an
# edited figure module redraws the figures without rebuilding the summary.
STUDY_PARTS: dict[str, tuple[str, ...]] = {
    "summary": ("results",),
    "figures": ("figure",),
    "report": ("report",),
}
SHARED_STUDY_MODULES: dict[str, tuple[str, ...]] = {"summary": ("repro.studies.arms",)}


def stage_extras(stage: str) -> tuple[str, ...]:
    """The study modules a stage runs without importing them (see :data:`STUDY_PARTS`)."""
    kinds = STUDY_PARTS.get(stage, ())
    studies = sorted(p.name for p in (_PKG / "studies").iterdir() if (p / "__init__.py").is_file())
    found = [f"repro.studies.{s}.{k}" for s in studies for k in kinds]
    return (*SHARED_STUDY_MODULES.get(stage, ()), *(m for m in found if module_file(m)))


def module_file(name: str) -> Path | None:
    """The source file of module ``repro.<...>`` (a module or a package), or None."""
    parts = name.split(".")[1:]
    path = _PKG.joinpath(*parts)
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(name: str) -> set[str]:
    """The ``repro.*`` modules that module ``name`` imports anywhere in its source."""
    path = module_file(name)
    if path is None:
        return set()
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("repro"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("repro"):
            # "from repro.report import figures" imports the module repro.report.figures;
            # the package itself counts only where a name is not a submodule of it.
            subs = {
                f"{node.module}.{a.name}"
                for a in node.names
                if module_file(f"{node.module}.{a.name}") is not None
            }
            out.update(subs)
            if len(subs) < len(node.names):
                out.add(node.module)
    return out


@cache
def stage_modules(stage: str, extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Every module of the layers that the stage's entry module, its :func:`stage_extras` and
    the ``extra`` entry modules reach by imports, sorted. ``extra`` names code the stage
    reaches by name rather than by an import statement: a run's method module
    (``repro.config.METHOD_MODULES``)."""
    if stage not in STAGE_ENTRIES:
        raise ValueError(f"unknown stage {stage!r}; stages are {', '.join(STAGE_ENTRIES)}")
    seen: set[str] = set()
    extra = (*stage_extras(stage), *extra)
    todo = [STAGE_ENTRIES[stage], *(m for m in extra if m.startswith("repro."))]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(imported_modules(name) - seen)
    return tuple(
        sorted(
            m
            for m in seen
            if m.split(".")[1:2] and m.split(".")[1] in LAYERS and module_file(m) is not None
        )
    )


def library_versions() -> dict[str, str]:
    """Versions of Python and of every library a stage's numbers depend on."""
    libs = ("numpy", "scipy", "torch", "matplotlib", "jinja2")
    return {"python": platform.python_version(), **{lib: version(lib) for lib in libs}}


def _is_docstring(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def source_form(path: Path) -> bytes:
    """What of a module's source a stage's results depend on: its syntax tree without
    docstrings and without positions (``ast.dump``: no comments, no layout either), so that
    an edit to a module's prose or layout leaves every key, while any edit to its code,
    a string constant included, changes them."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            if body and _is_docstring(body[0]):
                node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree, include_attributes=False).encode()


def code_hash(stage: str, extra_files: tuple[Path, ...] = (), extra: tuple[str, ...] = ()) -> str:
    """sha256 (16 hex digits) of the :func:`source_form` of the stage's modules (with the
    ``extra`` entry modules', see :func:`stage_modules`), extra files (their bytes: the
    report's templates are its prose) and library versions (Python's included: the syntax
    tree's form is Python's)."""
    h = hashlib.sha256()
    for name in stage_modules(stage, tuple(extra)):
        h.update(name.encode())
        h.update(source_form(module_file(name)))
    for path in extra_files:
        h.update(Path(path).name.encode())
        h.update(Path(path).read_bytes())
    h.update(repr(sorted(library_versions().items())).encode())
    return h.hexdigest()[:16]
