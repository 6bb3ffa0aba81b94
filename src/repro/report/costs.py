"""The report's appendix of costs: what each part of the study took on the machine that ran
it, read from the results folder's records (never typed in).

- ``timings.json`` (written by ``reproduce``): the stage times of the last from-scratch
  paper-scale run ('full_run') and, per study run on request, the wall and CPU seconds of
  the last run of its stage that did work ('studies');
- ``bench.json`` (written by ``nox -s bench``): one training step of each model, median
  milliseconds, the paper's MLPs (section a) and the other registered models beside the
  MLP of their objective (section i);
- every study folder's ``run.json`` files: the sum of its runs' training times, which counts
  a study's runs whatever trained them (a study run part by part, or its runs trained by
  ``train`` commands beside the pipeline, has no single stage time that holds it all).

Only these parts enter the report (and the report stage's key, :func:`digest`): the
timings of an ordinary rerun, which change every run, do not.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from repro.cachekey import of_value
from repro.io import read_json
from repro.paths import timings_file
from repro.report.texfmt import NO_VALUE, Tex

Costs = dict[str, Any]


def _read(path: Path) -> Mapping[str, Any]:
    try:
        data = read_json(path) if path.exists() else {}
    except ValueError:  # a damaged record: no costs rather than no report
        return {}
    return data if isinstance(data, Mapping) else {}


def costs(timings: Mapping[str, Any], bench: Mapping[str, Any]) -> Costs:
    """{'full_run': {stage: seconds}, 'seeds': int | None, 'studies': {name: {'wall_s',
    'cpu_s'}}, 'steps': {'<method>/<regime>': milliseconds}} from the two records (each may
    be empty)."""
    full = timings.get("full_run") or {}
    steps = {k: v["step_ms"] for k, v in (bench.get("training") or {}).items() if "step_ms" in v}
    steps |= {k: v["step_ms"] for k, v in (bench.get("other_models") or {}).items()}
    return {
        "full_run": dict(full.get("stages_s") or {}),
        "seeds": full.get("seeds"),
        "studies": {k: dict(v) for k, v in (timings.get("studies") or {}).items()},
        "steps": steps,
    }


# The folders of a results folder that hold no study's runs (the main study's are 'runs').
NOT_STUDIES = ("runs", "figures", "cache", "instances", "slurm")


def training_times(root: Path) -> dict[str, dict[str, float]]:
    """Per study folder of ``root`` ('generalization', 'walls', ...): its finished runs and
    the sum of their training wall times in seconds (run.json 'wall_time_s', one thread each
    unless the run says otherwise), whatever command trained them."""
    out = {}
    for folder in sorted(p for p in Path(root).iterdir() if p.is_dir()):
        if folder.name in NOT_STUDIES:
            continue
        times = [_read(f).get("wall_time_s") for f in sorted(folder.rglob("run.json"))]
        times = [t for t in times if isinstance(t, int | float)]
        if times:
            out[folder.name] = {"runs": float(len(times)), "train_s": float(sum(times))}
    return out


def load(root: Path) -> Costs:
    """:func:`costs` of the results folder ``root``, with each study's summed training."""
    c = costs(_read(timings_file(root)), _read(Path(root) / "bench.json"))
    c["training"] = training_times(root)
    return c


def digest(root: Path) -> str:
    """A short hash of :func:`load`: the report stage's key holds it."""
    return of_value(load(root))


def _minutes(seconds: float | None) -> Tex:
    return Tex(NO_VALUE if seconds is None else f"{seconds / 60:.1f}")


# The scales whose report has the appendix. A smoke run's steps take seconds, and their times,
# which differ from one run to the next, would say nothing of a study's cost and would make
# two from-scratch smoke reports differ (tests/test_faults.py holds them byte-identical).
TIMED_SCALES = ("paper",)


def context(c: Costs | None, scale: str = "paper") -> dict[str, Any]:
    """The appendix's rows: stages of the full run and studies (minutes), and steps (ms);
    {} (no appendix) for a summary of a scale not in TIMED_SCALES."""
    if scale not in TIMED_SCALES or not c:
        return {}
    if not (c["full_run"] or c["studies"] or c["steps"] or c.get("training")):
        return {}
    stages = [{"name": k, "wall": _minutes(v), "cpu": Tex(NO_VALUE), "train": Tex(NO_VALUE),
               "runs": NO_VALUE} for k, v in c["full_run"].items() if k != "total"]  # fmt: skip
    trained = c.get("training") or {}
    names = sorted(set(c["studies"]) | set(trained))
    studies = [{"name": f"study: {k}", "wall": _minutes(c["studies"].get(k, {}).get("wall_s")),
                "cpu": _minutes(c["studies"].get(k, {}).get("cpu_s")),
                "train": _minutes(trained.get(k, {}).get("train_s")),
                "runs": f"{trained[k]['runs']:.0f}" if k in trained else NO_VALUE}
               for k in names]  # fmt: skip
    steps = [{"name": k.replace("_", " "), "ms": Tex(f"{v:.1f}")} for k, v in c["steps"].items()]
    return {
        "rows": stages + studies,
        "total": _minutes(c["full_run"].get("total")),
        "seeds": str(c["seeds"]) if c["seeds"] else NO_VALUE,
        "steps": steps,
    }
