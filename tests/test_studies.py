"""The study seam: a study added through the registry alone runs in the pipeline.

A toy study (one run of its own: the supervised-normal configuration at half the smoke
steps, in a results folder of its own) is declared as a :class:`Study` and added to
``registry.STUDIES`` only. Nothing else of the code is told about it, and a smoke
``reproduce`` trains and evaluates its run through the executor, puts its block in the
summary, checks that block's shape, renders its report section and leaves it alone on a
second run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from repro.config import SCALES, make_config
from repro.errors import BadInput
from repro.io import read_json, write_json
from repro.paths import DATA, run_dir
from repro.pipeline import reproduce
from repro.results.view import Summary
from repro.studies import registry
from repro.studies.study import Pipeline, Placed, Section, Study

TEMPLATE = "sections/toy.tex.j2"


def _toy_run(root: Path, scale: str) -> Placed:
    steps = SCALES[scale].overrides["steps"] // 2
    c = make_config("supervised-normal", "fixed", 0, scale, {"steps": steps})
    return Placed(root / "toy", c, f"toy/{c.run_id}")


def _stage(pipe: Pipeline) -> bool:
    run = [_toy_run(pipe.root, pipe.scale)]
    trained = pipe.train(run, "toy: train")
    evaluated = pipe.evaluate(run, "toy: evaluate")
    return trained or evaluated


def _metrics(root: Path, scale: str) -> Path:
    r = _toy_run(root, scale)
    return run_dir(r.folder, r.config.run_id) / "metrics.json"


def _summarize(root: Path, scale: str):
    path = _metrics(root, scale)
    if not path.exists():
        return None
    m = read_json(path)
    return {"run_id": m["run_id"], "spearman": m["spearman"]["full"]["mean"]}


def _check(c, block, path) -> None:
    c.typed(block, dict, path)
    c.fields(block, path, required=(("run_id", str), ("spearman", float)))


def _section(summary: Summary) -> Section | None:
    block = summary.block("toy")
    return None if block is None else Section(TEMPLATE, "end", {"rho": f"{block['spearman']:.3f}"})


TOY = Study(
    name="toy",
    about="one half-length run, to test the seam",
    on_request=False,
    stage=_stage,
    inputs=lambda root, scale: [p for p in [_metrics(root, scale)] if p.exists()],
    summarize=_summarize,
    check=_check,
    section=_section,
)


@pytest.fixture
def toy_registry(monkeypatch):
    monkeypatch.setitem(registry.STUDIES, "toy", TOY)
    return registry.STUDIES


def test_a_toy_study_added_to_the_registry_runs_through_reproduce(
    toy_registry, quick_reference, tmp_path, monkeypatch, capsys
):
    from conftest import copy_results

    results = copy_results(quick_reference, tmp_path / "results")
    kwargs = dict(
        root=results, scale="smoke", n_ablation_seeds=0, skip_studies=("family",), with_pdf=False
    )
    assert reproduce.main(**kwargs) == 0
    out = capsys.readouterr().out
    assert "train: all 12 runs up to date (skipped)" in out  # the main study is untouched
    assert "toy: train: 1 of 1 runs to train" in out
    assert "toy: evaluate: 1 of 1 runs to evaluate" in out

    run = _toy_run(results, "smoke")
    folder = run_dir(run.folder, run.config.run_id)
    assert folder.is_relative_to(results / "toy")
    assert read_json(folder / "run.json")["status"] == "complete"
    assert read_json(folder / "config.json")["config"]["steps"] == run.config.steps

    summary = read_json(results / "summary.json")
    assert summary["toy"] == _summarize(results, "smoke")
    assert -1 <= summary["toy"]["spearman"] <= 1
    assert read_json(results / "timings.json")["did_work"]["toy"] is True

    # Its section, at its placement, in the report's source (a template of its own).
    templates = shutil.copytree(DATA, tmp_path / "templates")
    text = r"\section{Toy} The toy run's $\rho$ is \VAR{study.context.rho}."
    (templates / TEMPLATE).write_text(text)
    tex = registry.render(summary, templates)
    assert rf"\section{{Toy}} The toy run's $\rho$ is {summary['toy']['spearman']:.3f}." in tex
    assert tex.index(r"\section{Toy}") > tex.index(r"\section{Ablations}")

    # A second run has nothing of it to redo.
    assert reproduce.main(**kwargs) == 0
    again = capsys.readouterr().out
    assert "toy: train: all 1 runs up to date (skipped)" in again
    assert "toy: evaluate: all 1 runs up to date (skipped)" in again
    assert "summary: up to date (skipped)" in again

    # The registry's shape check reads its block: a damaged one is refused by name.
    summary["toy"]["spearman"] = "high"
    write_json(tmp_path / "bad.json", summary)
    with pytest.raises(BadInput, match=r"toy\.spearman"):
        registry.load_summary(tmp_path / "bad.json")


def test_no_toy_study_without_its_registry_entry(quick_reference):
    assert "toy" not in registry.STUDIES
    assert "toy" not in read_json(quick_reference / "summary.json")


def test_a_study_s_parts_are_chosen_by_name_and_checked():
    from repro.errors import ConfigError

    assert registry.parse_requested(["walls:headline,fixed", "stitching"]) == (
        ("walls", "stitching"), {"walls": ("headline", "fixed")},
    )  # fmt: skip
    assert registry.parse_requested(["walls:headline", "walls"]) == (("walls",), {})  # whole
    with pytest.raises(ConfigError, match="unknown part 'nope' of study 'walls'; its parts are"):
        registry.parse_requested(["walls:headline,nope"])
    with pytest.raises(ConfigError, match="unknown part '' of study 'walls'"):
        registry.parse_requested(["walls:"])
    with pytest.raises(ConfigError, match="study 'family' has no parts"):
        registry.parse_requested(["family:x"])
    with pytest.raises(ConfigError, match="unknown study 'wall'"):
        registry.parse_requested(["wall:headline"])


def test_an_unknown_part_exits_2_before_anything_is_written(tmp_path):
    import subprocess
    import sys

    argv = [sys.executable, "-m", "repro", "--results", str(tmp_path / "r"), "reproduce",
            "--scale", "smoke", "--no-pdf", "--studies", "walls:headlines"]  # fmt: skip
    out = subprocess.run(argv, capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr.startswith("error: unknown part 'headlines' of study 'walls'")
    assert not (tmp_path / "r").exists()
