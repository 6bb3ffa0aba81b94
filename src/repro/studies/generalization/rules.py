"""The rules the generalization section reads its runs by: the tolerance below which a
change of a rank correlation is no change, and what a run does from the paper's training
length to its last snapshot (:func:`fit_kind`)."""

from __future__ import annotations

from repro.studies.generalization.results import StudyCurves

TOL = 0.02  # the smallest change of a rank correlation the sentences call a change
UNSEEN, TRAIN = "unseen_mazes", "train_mazes"
RHO = "spearman_full"  # the rank correlation the sentences follow


def run_name(run: StudyCurves) -> str:
    """'supervised, regression (4,000 mazes)'."""
    n = run.n_trajectories
    return f"{run.title()} ({n:,} mazes)" if n else run.title()


def tolerance(*runs: StudyCurves) -> float:
    """TOL, or the largest seed spread of the runs' Spearman on either mazes if larger."""
    spreads = [r.spread(m, RHO) for r in runs for m in (TRAIN, UNSEEN)]
    return max([TOL, *spreads])


def first_step(steps: tuple[int, ...], values: list[float | None], test) -> int | None:
    """The first step whose value passes ``test`` (None if none)."""
    return next((s for s, v in zip(steps, values, strict=True) if v is not None and test(v)), None)


def fit_kind(run: StudyCurves, ref_step: int) -> tuple[str, dict[str, float]]:
    """From ``ref_step`` (or the first snapshot) to the last: 'overfits' (the unseen-maze
    Spearman peaks and falls while the gap grows), 'gap grows', 'underfits' (both rise, the
    gap stays), 'gap closes', 'flat' or 'unmeasured'; and the numbers the rule used."""
    train, unseen, gap = run.means(TRAIN, RHO), run.means(UNSEEN, RHO), run.gap(RHO)
    i0 = run.steps.index(ref_step) if ref_step in run.steps else 0
    cols = (train, unseen, gap)
    if not run.steps or any(c is None or c[i0] is None or c[-1] is None for c in cols):
        return "unmeasured", {}
    later = [(v, s) for v, s in zip(unseen[i0:], run.steps[i0:], strict=True) if v is not None]
    peak, peak_step = max(later)
    f = {
        "t0": train[i0], "t1": train[-1], "u0": unseen[i0], "u1": unseen[-1],
        "g0": gap[i0], "g1": gap[-1], "peak": peak, "peak_step": peak_step,
        "step0": run.steps[i0], "step1": run.steps[-1], "tol": tolerance(run),
    }  # fmt: skip
    tol = f["tol"]
    if peak - f["u1"] > tol and f["g1"] - f["g0"] > tol:
        return "overfits", f
    if f["g1"] - f["g0"] > tol:
        return "gap grows", f
    if f["g0"] - f["g1"] > tol:
        return "gap closes", f
    if f["u1"] - f["u0"] > tol:
        return "underfits", f
    return "flat", f
