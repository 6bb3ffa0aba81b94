"""What the generalization section's written sentences state, as named checks, and the
numbers they quote.

The section's prose is ours, in the template; each qualitative sentence is guarded by one of
:data:`CHECKS` (the report's mechanism, :mod:`repro.report.checks`). The checks read the
study through the section's rules (:mod:`.rules`): a run *reaches*
Manhattan's full-test Spearman on unseen mazes when it comes within the tolerance of it,
*passes* it when it exceeds it by more (:func:`reach`); from the paper's length to the last
step its fit is 'gap grows', 'underfits', 'flat', ... (:func:`.rules.fit_kind`).
"""

from __future__ import annotations

from typing import Any

from repro.report.checks import Check
from repro.results.view import Summary
from repro.studies.generalization.results import GeneralizationStudy, StudyCurves, study_of
from repro.studies.generalization.rules import (
    RHO,
    UNSEEN,
    first_step,
    fit_kind,
    run_name,
    tolerance,
)


def reach(run: StudyCurves) -> dict[str, Any]:
    """{'kind': 'passes' | 'reaches' | 'never' | 'unmeasured', 'step': first step within the
    tolerance (or above), 'best', 'best_step', 'last', 'level'} on unseen mazes."""
    level, means = run.level("manhattan", UNSEEN, RHO), run.means(UNSEEN, RHO)
    known = [(s, v) for s, v in zip(run.steps, means or (), strict=False) if v is not None]
    if level is None or not known:
        return {"kind": "unmeasured"}
    tol = tolerance(run)
    reached = first_step(run.steps, means, lambda v: v >= level - tol)
    passed = first_step(run.steps, means, lambda v: v > level + tol)
    best_step, best = max(known, key=lambda sv: sv[1])
    kind = "passes" if passed is not None else ("reaches" if reached is not None else "never")
    return {"kind": kind, "step": passed or reached, "best": best, "best_step": best_step,
            "last": known[-1][1], "level": level}  # fmt: skip


def _ref(study: GeneralizationStudy) -> int:
    return study.table_steps[0] if study.table_steps else study.schedule[0]


def _runs(summary: Summary, method: str | None = None, arm: str | None = None, plain=False):
    study = study_of(summary)
    runs = [] if study is None else list(study.runs)
    return [r for r in runs if (method is None or r.method == method)
            and (arm is None or r.arm == arm) and (not plain or not r.variant_sets)]  # fmt: skip


def _numbers(runs: list[StudyCurves], key: str, f) -> dict[str, float | None]:
    return {f"{run_name(r)} {key}": f(r) for r in runs}


def none_passes(summary: Summary):
    """Check 'gen-none-passes': no study run passes Manhattan on unseen mazes."""
    runs = _runs(summary)
    kinds = {r: reach(r) for r in runs}
    n = _numbers(runs, "best", lambda r: kinds[r].get("best"))
    return bool(runs) and all(k["kind"] in ("reaches", "never") for k in kinds.values()), n


def supervised_reach(summary: Summary):
    """Check 'gen-sup-reach': every supervised run comes level with Manhattan."""
    runs = _runs(summary, "supervised")
    n = _numbers(runs, "best", lambda r: reach(r).get("best"))
    return bool(runs) and all(reach(r)["kind"] == "reaches" for r in runs), n


def contrastive_never(summary: Summary):
    """Check 'gen-con-never': no contrastive run comes level with Manhattan."""
    runs = _runs(summary, "contrastive")
    n = _numbers(runs, "best", lambda r: reach(r).get("best"))
    return bool(runs) and all(reach(r)["kind"] == "never" for r in runs), n


def _fit(summary: Summary, runs: list[StudyCurves], kinds: tuple[str, ...]):
    study = study_of(summary)
    if study is None or not runs:
        return False, {}
    found = {r: fit_kind(r, _ref(study)) for r in runs}
    n = _numbers(runs, "gap change", lambda r: (f["g1"] - f["g0"]) if (f := found[r][1]) else None)
    return all(k in kinds for k, _ in found.values()), n


def supervised_overfit(summary: Summary):
    """Check 'gen-sup-overfit': on the paper's amount of data, every supervised run's gap
    between training and unseen mazes grows beyond the tolerance after the paper's length."""
    return _fit(summary, _runs(summary, "supervised", "models"), ("gap grows", "overfits"))


def contrastive_underfit(summary: Summary):
    """Check 'gen-con-underfit': the paper-setting contrastive run (paper's data) rises on
    both kinds of mazes together after the paper's length, its gap within the tolerance."""
    return _fit(summary, _runs(summary, "contrastive", "models", plain=True), ("underfits",))


def more_mazes_close_gap(summary: Summary):
    """Check 'gen-more-mazes': for every supervised run on more mazes, the gap at the last
    common step falls beyond the tolerance while the unseen-maze Spearman moves within it."""
    study = study_of(summary)
    runs = _runs(summary, "supervised", "data")
    if study is None or not runs:
        return False, {}
    ok, n = True, {}
    for run in runs:
        base = study.counterpart(run, "models")
        common = [s for s in run.steps if base and s in base.steps]
        if base is None or not common:
            return False, {f"{run_name(run)} counterpart": None}
        s, tol = common[-1], tolerance(run, base)
        du = run.at(UNSEEN, RHO, s) - base.at(UNSEEN, RHO, s)
        dg = run.gap(RHO)[run.steps.index(s)] - base.gap(RHO)[base.steps.index(s)]
        n |= {f"{run_name(run)} unseen change": du, f"{run_name(run)} gap change": dg}
        ok &= abs(du) <= tol and dg < -tol
    return ok, n


CHECKS = {
    "gen-none-passes": Check(
        "no generalization-study run passes the Manhattan distance's full-test Spearman on "
        "unseen mazes by more than the tolerance", none_passes),
    "gen-sup-reach": Check(
        "every supervised study run comes within the tolerance of Manhattan's full-test "
        "Spearman on unseen mazes, none passes it", supervised_reach),
    "gen-con-never": Check(
        "no contrastive study run comes within the tolerance of Manhattan's full-test Spearman",
        contrastive_never),
    "gen-sup-overfit": Check(
        "on the paper's amount of data every supervised run's gap between training and unseen "
        "mazes grows beyond the tolerance after the paper's length", supervised_overfit),
    "gen-con-underfit": Check(
        "the paper-setting contrastive run rises on training and unseen mazes together after "
        "the paper's length, its gap within the tolerance", contrastive_underfit),
    "gen-more-mazes": Check(
        "more mazes close every supervised run's gap beyond the tolerance and move its "
        "unseen-maze Spearman by less than it", more_mazes_close_gap),
}  # fmt: skip


def phrases(summary: Summary) -> dict[str, str]:
    """The numbers the sentences quote, as short phrases over the runs they speak of."""
    study = study_of(summary)
    if study is None:
        return {}
    ref = _ref(study)

    def name(r: StudyCurves) -> str:
        return f"{r.title()} on {r.n_trajectories or 0:,} mazes"

    def reached(r: StudyCurves) -> str:
        k = reach(r)
        return f"{name(r)} at {k['step']:,} steps, ending at {k['last']:.3f}"

    def best(r: StudyCurves) -> str:
        k = reach(r)
        return f"{name(r)} {k['best']:.3f} (at {k['best_step']:,} steps)"

    def fit(r: StudyCurves) -> str:
        f = fit_kind(r, ref)[1]
        if not f:
            return f"{r.title()}: not measured"
        return (f"{r.title()}: training mazes {f['t0']:.3f} to {f['t1']:.3f}, unseen mazes "
                f"{f['u0']:.3f} to {f['u1']:.3f}, gap {f['g0']:.3f} to {f['g1']:.3f}")  # fmt: skip

    def more(r: StudyCurves) -> str:
        base = study.counterpart(r, "models")
        common = [s for s in r.steps if base and s in base.steps]
        if base is None or not common:
            return f"{r.title()}: no counterpart"
        s = common[-1]
        u0, u1 = base.at(UNSEEN, RHO, s), r.at(UNSEEN, RHO, s)
        g0, g1 = base.gap(RHO)[base.steps.index(s)], r.gap(RHO)[r.steps.index(s)]
        return (f"{r.title()} at {s:,} steps: unseen mazes {u0:.3f} on "
                f"{base.n_trajectories or 0:,} mazes and {u1:.3f} on {r.n_trajectories or 0:,}, "
                f"gap {g0:.3f} and {g1:.3f}")  # fmt: skip

    sup = _runs(summary, "supervised")
    con = _runs(summary, "contrastive")
    level = next((k["level"] for r in study.runs if (k := reach(r)).get("level") is not None), None)
    return {
        "level": "--" if level is None else f"{level:.3f}",
        "sup_reach": "; ".join(reached(r) for r in sup if reach(r)["kind"] == "reaches"),
        "con_best": "; ".join(best(r) for r in con if reach(r)["kind"] != "unmeasured"),
        "sup_fit": "; ".join(fit(r) for r in _runs(summary, "supervised", "models")),
        "con_fit": "; ".join(fit(r) for r in _runs(summary, "contrastive", "models", plain=True)),
        "more": "; ".join(more(r) for r in _runs(summary, "supervised", "data")),
    }
