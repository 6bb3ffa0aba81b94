"""The package's layers, checked from the source: what may import what, and no cycles.

Layers, bottom to top (a module may import only its own layer and the ones below):

    base   repro.errors, repro.io, repro.paths, repro.fingerprint, repro.cachekey (stdlib)
    core   repro.core.*        (numpy, scipy: never torch)
    config repro.config        (declarations; imports core's names)
    learn  repro.learn.*       (torch)
    evaluation  repro.evaluation.*   (a run's metrics and the baselines')
    results     repro.results.*      (summary writer, shape check, typed view, claims, compare)
    report      repro.report.*       (figures, the LaTeX document, the README's blocks)
    studies     repro.studies.*      (studies beyond the paper and their registry)
    pipeline    repro.pipeline.*     (reproduce's stages, executors, units)
    entry       repro.cli, repro.__main__, repro.bench

``repro/__init__.py`` re-exports the stable public API from the core only.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

import repro
from repro.fingerprint import imported_modules

SRC = Path(repro.__file__).resolve().parent
PACKAGES = ("core", "learn", "evaluation", "results", "report", "studies", "pipeline")
RANK = {
    "base": 0,
    "core": 1,
    "config": 2,
    "learn": 3,
    "evaluation": 4,
    "results": 5,
    "report": 6,
    "studies": 7,
    "pipeline": 8,
    "entry": 9,
}
BASE = {"errors", "io", "paths", "fingerprint", "cachekey"}
THIRD_PARTY_BANNED = {"core": ("torch",), "base": ("torch", "numpy", "scipy")}


def all_modules() -> list[str]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.append(".".join(("repro", *parts)))
    return out


def layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "api"  # the package itself
    if parts[1] in PACKAGES:
        return parts[1]
    if parts[1] == "config":
        return "config"
    if parts[1] in BASE:
        return "base"
    return "entry"


def repro_imports(module: str) -> set[str]:
    """Modules of the package that ``module`` imports (a package import counts as its __init__)."""
    known = set(all_modules())
    return {m for m in imported_modules(module) if m in known and m != module}


def third_party_imports(module: str) -> set[str]:
    from repro.fingerprint import module_file

    tree = ast.parse(module_file(module).read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out - {"repro"}


def test_every_module_has_a_layer():
    assert {layer(m) for m in all_modules()} <= set(RANK) | {"api"}
    assert "repro.core.maze" in all_modules() and "repro.learn.train" in all_modules()


@pytest.mark.parametrize("module", all_modules())
def test_no_module_imports_a_layer_above_its_own(module):
    mine = layer(module)
    if mine == "api":  # the public API: the core only
        assert {layer(m) for m in repro_imports(module)} <= {"core"}
        return
    for dep in repro_imports(module):
        theirs = layer(dep)
        if theirs == "api":
            continue  # "from repro import x" of a submodule is resolved to that submodule
        assert RANK[theirs] <= RANK[mine], f"{module} ({mine}) imports {dep} ({theirs})"


@pytest.mark.parametrize("module", [m for m in all_modules() if layer(m) in THIRD_PARTY_BANNED])
def test_core_and_base_never_import_torch(module):
    banned = set(THIRD_PARTY_BANNED[layer(module)]) & third_party_imports(module)
    assert not banned, f"{module} imports {banned}"


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle in a directed graph as a list of nodes (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_find_cycle_finds_one_and_only_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_import_cycles():
    graph = {m: repro_imports(m) for m in all_modules()}
    assert find_cycle(graph) is None


def test_public_api_without_torch():
    """DESIGN section 4: the stable API is importable from ``repro`` without importing torch."""
    names = [
        "generate_maze",
        "bfs_distances",
        "shortest_path",
        "quadrant",
        "make_dataset",
        "best_first_search",
        "greedy",
        "PlanResult",
        "spearman",
    ]
    code = (
        f"import sys; from repro import {', '.join(names)}; "
        "assert 'torch' not in sys.modules, 'torch was imported'; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_importing_a_submodule_by_name_does_not_pull_in_its_package():
    """``from repro import cachekey`` reaches repro.cachekey, not everything repro/__init__
    imports: the training code's fingerprint must not follow the evaluation's modules."""
    from repro.fingerprint import imported_modules, stage_modules

    assert "repro" not in imported_modules("repro.learn.runfiles")
    assert "repro.cachekey" in imported_modules("repro.learn.runfiles")
    train = stage_modules("train")
    assert "repro.core.planning" not in train and "repro.learn.train" in train
    assert "repro.core.planning" in stage_modules("evaluate")


def test_the_summary_figures_and_report_keys_cover_the_studies_code():
    """The pipeline passes each study's summary block, figures and report section in by
    name (repro.studies.registry), not by import: their stages' keys must still follow that
    code, so an edited study rebuilds its summary block, figures and section."""
    from repro.fingerprint import stage_modules

    assert "repro.studies.arms" in stage_modules("summary")
    assert "repro.studies.generalization.results" in stage_modules("summary")
    assert "repro.studies.walls.figure" in stage_modules("figures")
    assert "repro.studies.walls.report" in stage_modules("report")
    assert "repro.studies.stitching.report" in stage_modules("report")
    # ... and no more: an edited figure redraws the figures alone (test_faults, g.)
    assert "repro.report.figures" not in stage_modules("summary")
    assert "repro.report.figures" not in stage_modules("report")
    assert not any(m.startswith("repro.studies") for m in stage_modules("train"))


def test_a_runs_training_key_covers_its_own_method_and_no_other():
    """The distance models are reached by name (repro.config.METHOD_MODULES): a run's
    training key hashes its method's module (and what that imports) but not the other
    methods', so a new or edited method leaves the other methods' results valid."""
    from repro.config import make_config
    from repro.fingerprint import stage_modules

    base = stage_modules("train")
    assert "repro.learn.supervised" not in base and "repro.learn.contrastive" not in base
    sup = stage_modules("train", ("repro.learn.supervised",))
    assert "repro.learn.supervised" in sup and "repro.learn.contrastive" not in sup
    assert "repro.learn.trunk" in sup  # what the method's module imports is followed
    assert stage_modules("train", ("test_methods",)) == base  # code outside the package

    from repro.learn.runfiles import train_key

    sup_key = train_key(make_config("supervised-normal", "fixed", 0, "smoke"))
    con_key = train_key(make_config("contrastive-normal", "fixed", 0, "smoke"))
    assert sup_key["code"] != con_key["code"]


def test_editing_one_method_makes_only_its_runs_stale(tmp_path, monkeypatch):
    """A copy of the package in which contrastive.py gains a line of code: the supervised
    run's training key is the same, the contrastive run's changes; a comment and a docstring
    edit change neither."""
    import shutil

    import repro

    src = Path(repro.__file__).parent
    copy = tmp_path / "src" / "repro"
    shutil.copytree(src, copy, ignore=shutil.ignore_patterns("__pycache__"))
    code = (
        "from repro.config import make_config\n"
        "from repro.learn.runfiles import train_key\n"
        "for n in ('supervised-normal', 'contrastive-normal'):\n"
        "    print(train_key(make_config(n, 'fixed', 0, 'smoke'))['code'])\n"
    )

    def keys():
        env = {**os.environ, "PYTHONPATH": str(copy.parent)}
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        assert out.returncode == 0, out.stderr
        return out.stdout.split()

    before = keys()
    target = copy / "learn" / "contrastive.py"
    text = target.read_text()
    target.write_text(text.replace('"""', '"""Reworded. ', 1) + "\n# a comment\n")
    assert keys() == before  # prose only
    target.write_text(text + "\n_EDIT = 1\n")
    after = keys()
    assert after[0] == before[0] and after[1] != before[1]


def test_the_source_form_keeps_code_and_drops_prose_and_layout(tmp_path):
    from repro.fingerprint import source_form

    def form(text: str) -> bytes:
        (tmp_path / "m.py").write_text(text)
        return source_form(tmp_path / "m.py")

    base = form('"""A module."""\n\ndef f(x):\n    """Twice."""\n    return 2 * x  # why\n')
    assert form('"""Other words."""\ndef f(x):\n\n    return 2 * x\n') == base  # prose, layout
    assert form("def f(x):\n    return 2 * x\n") == base  # no docstrings at all
    assert form("def f(x):\n    return 3 * x\n") != base  # a constant
    assert form("def f(y):\n    return 2 * y\n") != base  # a name
    assert form('def f(x):\n    "Twice."\n    return 2 * x\n    "a string"\n') != base


def test_a_late_field_at_its_default_leaves_every_run_hash_as_it_was(monkeypatch):
    """A RunConfig field listed in LATE_FIELDS is hashed only where it differs from its
    default: declaring one keeps existing runs' hashes (and cached results); a run that
    sets it gets a hash of its own."""
    import dataclasses

    from repro import config as cfg

    c = cfg.make_config("contrastive-normal", "fixed", 0, "smoke")
    before = cfg.config_hash(c)
    # the convolutional models' fields are late: at their defaults they are not hashed
    assert set(cfg.LATE_FIELDS) >= {"conv_arch", "channels", "conv_iters"}
    listed = {k: v for k, v in c.to_dict().items() if k not in cfg.LATE_FIELDS}
    assert before == cfg.config_hash(listed)
    monkeypatch.setattr(cfg, "LATE_FIELDS", (*cfg.LATE_FIELDS, "repeat"))
    assert cfg.config_hash(c) == cfg.config_hash({k: v for k, v in listed.items()
                                                  if k != "repeat"})  # fmt: skip
    assert cfg.config_hash(c) != before  # here 'repeat' was hashed before it became late
    other = dataclasses.replace(c, repeat=4)
    assert cfg.config_hash(other) != cfg.config_hash(c)  # a set late field is hashed
    conv = cfg.make_config("supervised_conv-normal", "fixed", 0, "smoke", {"channels": 32})
    assert cfg.config_hash(conv) != cfg.config_hash(dataclasses.replace(conv, channels=16))
