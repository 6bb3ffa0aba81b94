"""The paper's claims judged again on the study's models, trained longer than the paper's.

At the paper's 20,000 steps the procedural models plan like the constant heuristic, so the
learned-model gate (:data:`repro.results.claims.GATE_RULE`) leaves most procedural claims
'not testable'. The study trains the same models ten times longer on the same unseen
test mazes; here each claim that its models can test is judged at every step of the
report's table (``Generalization.table_steps``), by the claim's own rule, seed rule and
gate, with the constant heuristic and the oracle scored on the same mazes as references.

The study trains on normal data only, so only the claims about normal-data models can be
judged: C1-C3 over the two paper configurations of normal data, and C7 on normal data
(:data:`JUDGED`). The stitching claims (C4), the heatmap claim (C5, whose maps the study
does not score), the loss at the paper's length (C6) and the paper-number claims (C8, C9)
are not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from repro.core.data import DATASETS
from repro.results.claims import CLAIMS, CON, GATES, SUP, c1, c2, c3, c7, finding
from repro.studies.generalization.results import GeneralizationStudy, StudyCurves

UNSEEN = "unseen_mazes"
NORMAL = DATASETS[0]
ARM = "models"  # the arm trained on the paper's amount of data
PAIR = (SUP[NORMAL], CON[NORMAL])  # the paper configurations the study trains
# claim id -> its rule restricted to what the study trains
JUDGED: dict[str, Callable[[Any], dict]] = {
    "C1": lambda v: c1(v, PAIR),
    "C2": lambda v: c2(v, PAIR),
    "C3": lambda v: c3(v, PAIR),
    "C7": lambda v: c7(v, (NORMAL,)),
}
SCOPE = "normal-data models only (the study trains no stitching model)"


class AtStep:
    """A study run at one snapshot step, read as a summary entry: the metric on unseen mazes
    per seed (``at_seed``) and its mean over seeds (``mean``), as the claims' rules read the
    main runs (:class:`repro.results.view.Entry`)."""

    def __init__(self, run: StudyCurves, step: int) -> None:
        self.run, self.step = run, step
        self.seeds = run.seeds

    def _agg(self, metric: str):
        series = self.run.series(UNSEEN, metric)
        if series is None or self.step not in self.run.steps:
            return None
        return series[self.run.steps.index(self.step)]

    def mean(self, metric: str, default: Any = None) -> Any:
        agg = self._agg(metric)
        return default if agg is None or agg.mean is None else agg.mean

    def at_seed(self, metric: str, seed: int) -> float | None:
        agg = self._agg(metric)
        if agg is None or seed not in self.seeds or len(agg.values) != len(self.seeds):
            return None
        return agg.values[self.seeds.index(seed)]


class Level:
    """A baseline's level on the study's unseen mazes, read as a procedural baseline entry
    (no seeds of its own: it serves every seed)."""

    seeds: tuple[int, ...] = ()

    def __init__(self, run: StudyCurves, kind: str) -> None:
        self.run, self.kind = run, kind

    def mean(self, metric: str, default: Any = None) -> Any:
        x = self.run.level(self.kind, UNSEEN, metric)
        return default if x is None else x

    def at_seed(self, metric: str, seed: int) -> float | None:
        return self.mean(metric)


def _pair(study: GeneralizationStudy) -> dict[str, StudyCurves] | None:
    """The study's runs of the two paper configurations, as the paper sets them (no variant),
    on the paper's amount of data; None unless both ran."""
    found = {
        name: next(
            (r for r in study.arm(ARM) if r.config == name and not r.variant_sets),
            None,
        )
        for name in PAIR
    }
    return None if any(r is None for r in found.values()) else found


def judge(study: GeneralizationStudy) -> list[dict[str, Any]]:
    """Each claim of :data:`JUDGED` at every table step where both runs were scored: per step,
    :func:`repro.results.claims.finding` (words, verdict by seed rule and gate) with the
    constant and oracle levels of the same mazes as the gate's references. [] when the
    study lacks a run of the pair or the constant's level (an evaluation before it was
    scored)."""
    pair = _pair(study)
    if pair is None:
        return []
    first = next(iter(pair.values()))
    if first.level("constant", UNSEEN, "search_expanded") is None:
        return []
    refs = {kind: Level(first, kind) for kind in ("constant", "oracle")}
    steps = [s for s in study.table_steps if all(s in r.steps for r in pair.values())]
    texts = {cid: (claim, rule) for cid, claim, _paper, rule, _fn in CLAIMS}
    out = []
    for cid, rule in JUDGED.items():
        at = {  # the claim's "regimes", as the main claims hold them: here, the training steps
            str(step): finding(
                rule, {n: AtStep(r, step) for n, r in pair.items()}, refs, GATES[cid]
            )
            for step in steps
        }
        claim, words = texts[cid]
        out.append({"id": cid, "claim": claim, "rule": words, "gate": GATES[cid], "regimes": at})
    return out


def changed(claims: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(claim id, first verdict, last verdict) for every claim whose verdict at the last
    table step differs from the first's."""
    out = []
    for c in claims:
        by_step = sorted(c["regimes"].items(), key=lambda kv: int(kv[0]))  # JSON sorts as text
        verdicts = [f["verdict"] for _, f in by_step]
        if verdicts and verdicts[0] != verdicts[-1]:
            out.append((c["id"], verdicts[0], verdicts[-1]))
    return out
