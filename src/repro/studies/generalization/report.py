"""The report's section "Generalization to unseen mazes": table and sentences.

Built from the summary alone (read through :mod:`repro.results.view`), and only where
the study has results:

- what each run does against the Manhattan heuristic and from the paper's training length
  on, and what more mazes change: written sentences guarded by the checks of
  :mod:`.prose`, which read the runs by the rules of :mod:`.rules`;
- :func:`paper_length_rows`: each run at the paper's training length beside each of the paper's
  numbers for its model, and :func:`reading_sentence` what that means for reading them;
- :func:`claim_rows` and :func:`claims_sentences`: the paper's claims judged again on the
  study's models at each table step (:mod:`repro.studies.generalization.claims`).

A difference counts only when it exceeds :data:`TOL` or the spread over seeds, whichever
is larger.
"""

from __future__ import annotations

from typing import Any

from repro.config import SCALES
from repro.report.checks import Check
from repro.report.texfmt import LABELS, NO_VALUE, Tex, counted, num, pct, printed, seed_list
from repro.results.view import Summary, config_name
from repro.studies.generalization import prose
from repro.studies.generalization.results import GeneralizationStudy, StudyCurves, study_of
from repro.studies.generalization.rules import RHO, TOL, TRAIN, UNSEEN, run_name, tolerance
from repro.studies.study import Section

NEAR = 0.05  # how close to the paper's Spearman counts as coming near it
# The paper's numbers the study is held against: (our metric, paper key, label, digits).
PAPER_TARGETS = (
    ("spearman_paper", "spearman", "Spearman, 10 trajectories", 3),
    ("greedy_solved", "greedy_solved", "greedy solved rate", 3),
    ("search_expanded", "search_expanded", "search: mean expanded", 1),
)
METHODS = ("supervised", "contrastive")
CLAIMS_WIDTH_CM = 12.0  # the width the claims table gives its step columns together


def steps_label(step: int) -> str:
    """20000 -> '20k' (steps below a thousand as they are)."""
    return f"{step // 1000}k" if step >= 1000 and step % 1000 == 0 else f"{step:,}"


def paper_length_rows(
    summary: Summary, study: GeneralizationStudy, ref_step: int
) -> list[dict[str, Any]]:
    """Per paper number (PAPER_TARGETS) and each study run of its model (normal data): our
    unseen-maze value at the paper's training length ``ref_step`` beside the paper's, and
    the difference. One step for every run, fixed in advance: no snapshot is picked for
    being close to the paper (the figure shows the whole curve)."""
    rows = []
    for key, paper_key, label, digits in PAPER_TARGETS:
        for method in METHODS:
            config = config_name(method, "normal")
            target = summary.paper_value(config, paper_key)
            for run in (r for r in study.runs if r.method == method):
                ours = run.at(UNSEEN, key, ref_step)
                diff = None if ours is None or target is None else ours - target
                rows.append(
                    {
                        "metric": label,
                        "model": LABELS[config],
                        "paper": printed(summary.paper_printed(config, paper_key)),
                        "run": run_name(run),
                        "ours": num(ours, digits),
                        "diff": num(diff, digits),
                    }
                )
    return rows


def reading_sentence(
    summary: Summary, study: GeneralizationStudy, method: str, ref_step: int
) -> str:
    """The paper's unseen-maze Spearman of ``method``'s model against our runs of it at the
    paper's training length: how many come within NEAR, and the range they span."""
    config = config_name(method, "normal")
    target = summary.paper_value(config, "spearman")
    runs = [r for r in study.runs if r.method == method]
    values = [v for r in runs if (v := r.at(UNSEEN, "spearman_paper", ref_step)) is not None]
    if target is None or not values:
        return f"The paper's {method} Spearman cannot be placed: no run measured it."
    near = sum(abs(v - target) <= NEAR for v in values)
    return (
        f"The paper's {method} Spearman on unseen mazes ({target:.3f}) against our "
        f"{counted(len(values), f'{method} run')} at its {ref_step:,} steps ({min(values):.3f} to "
        f"{max(values):.3f} under its 10-trajectory protocol): {near} within {NEAR:.2f}."
    )


def opening_sentence(study: GeneralizationStudy, ref_step: int) -> str:
    """How the 'models' arm ranks unseen mazes at the paper's training length, against the
    Manhattan distance."""
    runs = [r for r in study.arm("models") if r.at(UNSEEN, RHO, ref_step) is not None]
    level = next((x for r in runs if (x := r.level("manhattan", UNSEEN, RHO)) is not None), None)
    if not runs or level is None:
        return "The study has no scores at the paper's training length."
    values = [r.at(UNSEEN, RHO, ref_step) for r in runs]
    below = sum(v < level - tolerance(r) for r, v in zip(runs, values, strict=True))
    return (
        f"At the paper's {ref_step:,} steps, {below} of the {len(runs)} models trained on "
        f"{runs[0].n_trajectories or 0:,} mazes rank distances in unseen mazes less well than "
        f"the Manhattan distance (full-test Spearman {min(values):.3f} to {max(values):.3f}, "
        f"against {level:.3f})."
    )


def more_factor(study: GeneralizationStudy) -> str:
    """How many times more training mazes the 'data' arm has ('10'), or '' if it did not run."""
    for run in study.arm("data"):
        base = study.counterpart(run, "models")
        if base and base.n_trajectories and run.n_trajectories:
            return f"{run.n_trajectories / base.n_trajectories:g}"
    return ""


def _cells(run: StudyCurves, steps: tuple[int, ...]) -> dict[str, list[Tex]]:
    """Per table step: 'unseen / train' Spearman and the unseen-maze greedy solved rate."""
    return {
        "rho": [
            Tex(f"{num(run.at(UNSEEN, RHO, s))} / {num(run.at(TRAIN, RHO, s))}") for s in steps
        ],
        "greedy": [pct(run.at(UNSEEN, "greedy_solved", s)) for s in steps],
    }


def table_rows(study: GeneralizationStudy) -> list[dict[str, Any]]:
    """Every study run at the table's steps, then the Manhattan heuristic (the same at every
    step; on the training mazes of the first run)."""
    steps = study.table_steps
    rows = [
        {"model": run.title(), "mazes": f"{run.n_trajectories:,}", **_cells(run, steps)}
        for run in study.runs
    ]
    first = study.runs[0]
    unseen, train = (num(first.level("manhattan", m, RHO)) for m in (UNSEEN, TRAIN))
    rho = Tex(f"{unseen} / {train}")
    greedy = pct(first.level("manhattan", UNSEEN, "greedy_solved"))
    rows.append({"model": "Manhattan", "mazes": NO_VALUE, "rho": [rho] * len(steps)})
    rows[-1]["greedy"] = [greedy] * len(steps)
    return rows


def _listed(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return " and ".join(items) if len(items) < 3 else ", ".join(items[:-1]) + " and " + items[-1]


def _settings(scale: str) -> dict[str, str]:
    """The study's declared settings at ``scale``, as the prose states them."""
    if scale not in SCALES:
        return {}
    g = SCALES[scale].generalization
    return {
        "steps": f"{g.steps:,}",
        "dense_every": f"{g.dense_every:,}",
        "dense_until": f"{g.dense_until:,}",
        "sparse_every": f"{g.sparse_every:,}",
        "sample": f"{g.train_sample:,}",
        "sample_seed": str(g.sample_seed),
    }


def claim_rows(study: GeneralizationStudy) -> list[dict[str, Any]]:
    """Per judged claim: its id, the claim, and per table step the finding's words and
    verdict (None where it was not judged at that step)."""
    return [
        {
            "id": c.id,
            "claim": c.claim,
            "cells": [c.regimes.get(str(s)) for s in study.table_steps],
        }
        for c in study.claims
    ]


def _said(verdict: str, n: int = 1) -> str:
    """The verdict as a verb for ``n`` claims: 'holds' / 'hold', 'is undecided' / 'are ...'."""
    if verdict in ("undecided", "not testable"):
        return f"{'is' if n == 1 else 'are'} {verdict}"
    first, _, rest = verdict.partition(" ")  # 'holds', 'fails', 'holds partly'
    verb = first if n == 1 else first.removesuffix("s")
    return f"{verb} {rest}".strip()


def claims_sentences(study: GeneralizationStudy) -> list[str]:
    """What the longer training changes in the verdicts: per judged claim, its verdict at
    the first table step (the paper's length) and at the last, in words."""
    steps = [str(s) for s in study.table_steps]
    if not study.claims or len(steps) < 2:
        return []
    first, last = steps[0], steps[-1]
    at_first = [c for c in study.claims if first in c.regimes]
    untestable = [c.id for c in at_first if c.regimes[first].verdict == "not testable"]
    out = []
    if untestable:
        out.append(
            f"At the paper's {int(first):,} steps, {_listed(untestable)} "
            f"{'is' if len(untestable) == 1 else 'are'} not testable on the study's models "
            "either: they did not learn."
        )
    said = [
        f"{c.id} {_said(c.regimes[last].verdict)} ({c.regimes[last].ours})"
        for c in study.claims
        if last in c.regimes
    ]
    if said:
        out.append(f"At {int(last):,} steps, {_listed(said)}.")
    moved = [
        c.id
        for c in study.claims
        if first in c.regimes
        and last in c.regimes
        and c.regimes[first].verdict != c.regimes[last].verdict
    ]
    if moved:
        out.append(
            f"Longer training changes the verdict of {_listed(moved)}: a verdict on the "
            f"paper's {int(first):,}-step models says as much about the training length as "
            "about the method."
        )
    elif said:
        out.append("Longer training changes none of these verdicts.")
    return out


def late_verdicts(study: GeneralizationStudy) -> dict[str, Any]:
    """The judged claims at the first and the last table step, for the prose: how many are
    testable at each, and the last step's verdicts in words, grouped ('C1 and C3 hold; C7
    fails; C2 is still not testable')."""
    steps = [str(s) for s in study.table_steps]
    judged = [c for c in study.claims if steps and steps[0] in c.regimes and steps[-1] in c.regimes]
    if not judged:
        return {"n_judged": 0}
    first = [c.regimes[steps[0]].verdict for c in judged]
    last = [c.regimes[steps[-1]].verdict for c in judged]
    by_verdict: dict[str, list[str]] = {}  # the testable claims grouped by verdict, in order
    for c, v in zip(judged, last, strict=True):
        if v != "not testable":
            by_verdict.setdefault(v, []).append(c.id)
    tested = [c for ids in by_verdict.values() for c in ids]
    untested = [c.id for c, v in zip(judged, last, strict=True) if v == "not testable"]
    groups = [f"{_listed(ids)} {_said(v, len(ids))}" for v, ids in by_verdict.items()]
    words = "; ".join(groups) if groups else "none is testable"
    if untested:
        verb = "is" if len(untested) == 1 else "are"
        words += f"; {_listed(untested)} {verb} still not testable"
    return {
        "n_judged": len(judged),
        "n_testable_first": sum(v != "not testable" for v in first),
        "n_testable_last": len(tested),
        "first_step": f"{int(steps[0]):,}",
        "last_step": f"{int(steps[-1]):,}",
        "last_words": words,
    }


def late_testable(summary: Summary) -> tuple[bool, dict[str, float | None]]:
    """Check 'gen-late-testable': no judged claim is testable on the study's models at the
    paper's length (the first table step), and at least one is at the last."""
    study = study_of(summary)
    late = late_verdicts(study) if study is not None else {"n_judged": 0}
    n = {
        "claims judged on the study's models": float(late["n_judged"]),
        "testable at the first table step": float(late.get("n_testable_first", 0)),
        "testable at the last table step": float(late.get("n_testable_last", 0)),
    }
    holds = late["n_judged"] > 0 and late["n_testable_first"] == 0 and late["n_testable_last"] > 0
    return holds, n


CHECKS = {
    "gen-late-testable": Check(
        "no claim judged on the generalization study's models is testable at the paper's "
        "training length, and at least one is at the study's last table step",
        late_testable,
    ),
}


def generalization_context(summary: Summary) -> dict[str, Any]:
    """Everything the section prints; ``ran`` is False (and nothing else is given) when the
    study has no results."""
    study = study_of(summary)
    if study is None or not study.runs:
        return {"ran": False}
    ref = study.table_steps[0] if study.table_steps else study.schedule[0]
    seeds = sorted({s for r in study.runs for s in r.seeds})
    models = study.arm("models")
    return {
        "ran": True,
        "seeds": ", ".join(str(s) for s in seeds),
        "seed_list": seed_list(seeds),  # 'seed 0'
        "settings": _settings(summary.scale),
        "ref_step": f"{ref:,}",
        "opening": opening_sentence(study, ref),
        "factor": more_factor(study),
        "steps": [steps_label(s) for s in study.table_steps],
        "n_steps": len(study.table_steps),
        "steps_text": _listed([f"{s:,}" for s in study.table_steps]),
        "n_data": len(study.arm("data")),
        "rows": table_rows(study),
        "p": prose.phrases(summary),
        "at_paper": paper_length_rows(summary, study, ref),
        "reading": [reading_sentence(summary, study, m, ref) for m in METHODS],
        "tol": f"{TOL:.2f}",
        "near": f"{NEAR:.2f}",
        "claims": claim_rows(study),
        "claims_text": claims_sentences(study),
        "late": late_verdicts(study),
        "claim_width": f"{CLAIMS_WIDTH_CM / max(len(study.table_steps), 1):.1f}",
        "pair_mazes": f"{models[0].n_trajectories or 0:,}" if models else "",
    }


def section(summary: Summary) -> Section:
    """The study's section of the report, after the ablations (empty where it has no
    results)."""
    checks = {**CHECKS, **prose.CHECKS}
    return Section("sections/generalization.tex.j2", "end", generalization_context(summary), checks)
