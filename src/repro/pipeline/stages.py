"""The pipeline as a table: a :class:`Stage` is data, and two functions run or plan it.

Two kinds of stage, one cache-key scheme (:mod:`repro.cachekey`):

- *per-run* stages (train, evaluate, ablations, each study) cache each run on its own:
  ``run(pipeline)`` trains and evaluates through the pipeline it is given, which decides
  per run from the key recorded in ``run.json``, ``metrics.json`` and ``baselines.json``.
  Given a dry pipeline (:class:`repro.pipeline.runs.DryPipeline`), the same function says
  what would run and why, and writes nothing.
- *whole* stages (summary, figures, report) declare their ``inputs`` (the files their key
  hashes), ``outputs`` and ``settings``; their key and their outputs' hashes are kept in
  ``<results>/cache/stages.json`` of the pipeline's results folder (``pipeline.root``), and
  ``run()`` is called only when the key differs or an output is missing or damaged.

``needs`` names the stages whose outputs a stage reads: in a dry run a stage whose needs
would run is reported as running after them, since its inputs do not exist yet.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from repro import cachekey
from repro.io import read_json, write_json
from repro.paths import stages_file
from repro.studies.study import Pipeline


@dataclass(frozen=True)
class Stage:
    """One stage of the pipeline."""

    name: str
    # Per-run stage: run(pipeline) -> whether it did (or, dry, would do) work. Whole stage
    # (inputs given): run() does the work.
    run: Callable[..., object]
    needs: tuple[str, ...] = ()  # the stages whose outputs it reads
    inputs: Callable[[], list[Path]] | None = None  # whole stage: the files its key hashes
    outputs: Callable[[], list[Path]] = field(default=lambda: [])  # whole stage: its files
    # Whole stage: what else its key holds (scale, seeds, studies; the PDF's place).
    settings: Callable[[], str] = field(default=lambda: "")

    @property
    def whole(self) -> bool:
        return self.inputs is not None


def _records(root: Path) -> dict:
    try:
        data = read_json(stages_file(root)) if stages_file(root).exists() else {}
    except ValueError:
        return {}  # damaged: every whole stage reruns
    return data if isinstance(data, dict) else {}


def _key(stage: Stage, root: Path) -> cachekey.Key:
    assert stage.inputs is not None
    files = cachekey.of_files(stage.inputs(), root)
    return cachekey.make(stage.name, settings=cachekey.of_value(stage.settings()), **files)


def _why(stage: Stage, pipe: Pipeline) -> list[str]:
    """Why a whole stage must run now ([] when its key and outputs are as recorded)."""
    if pipe.force:
        return ["--force"]
    record = _records(pipe.root).get(stage.name)
    stored = record.get("key") if isinstance(record, dict) else None
    reasons = cachekey.changes(stored, _key(stage, pipe.root))
    if reasons:
        return reasons
    saved = record.get("outputs", {})
    return [
        f"{p.name} is missing or damaged"
        for p in stage.outputs()
        if not p.exists() or saved.get(_name(p, pipe.root)) != cachekey.of_file(p)
    ]


def _name(path: Path, root: Path) -> str:
    """A path as a record names it: relative to the results folder (``../paper/report.pdf``
    for the paper's PDF), so a moved or copied folder keeps its records."""
    return os.path.relpath(path, root)


def run_stage(stage: Stage, pipe: Pipeline) -> bool:
    """Run ``stage`` (a whole one only if it is stale); whether it did any work."""
    if not stage.whole:
        return bool(stage.run(pipe))
    if not _why(stage, pipe):
        pipe.log(f"{stage.name}: up to date (skipped)")
        return False
    stage.run()
    records = _records(pipe.root)
    outputs = {_name(p, pipe.root): cachekey.of_file(p) for p in stage.outputs()}
    records[stage.name] = {"key": _key(stage, pipe.root), "outputs": outputs}
    write_json(stages_file(pipe.root), records)
    return True


def plan_stage(stage: Stage, pipe: Pipeline, running: Sequence[str]) -> bool:
    """Say whether ``stage`` would run and why, writing nothing (``pipe`` is a dry
    pipeline; ``running``: the stages before it that would run). Whether it would."""
    if not stage.whole:
        return bool(stage.run(pipe))
    after = [n for n in stage.needs if n in running]
    why = [f"after {', '.join(after)}"] if after else _why(stage, pipe)
    pipe.log(f"{stage.name}: would run: {'; '.join(why)}" if why else f"{stage.name}: up to date")
    return bool(why)
