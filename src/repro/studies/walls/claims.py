"""The paper's claims judged with the convolutional models in the MLPs' place.

In the procedural regime the paper's MLPs barely learn at 20,000 steps, so the learned-model
gate (:data:`repro.results.claims.GATE_RULE`) leaves most claims there 'not testable'. The
walls study trains the same objectives with convolutional trunks on the same data, steps
and unseen test mazes; here each claim its headline arm can test is judged twice by the
claim's own rule, seed rule and gate: on the main study's MLPs and on the convolutional
models, each over the two normal-data configurations (the study trains no other in its
headline), each against the constant heuristic and the oracle of its own results folder.
A claim whose two verdicts differ is one the architecture changes.
"""

from __future__ import annotations

from typing import Any

from repro.results.claims import CLAIMS, GATES, finding
from repro.results.view import Entry, Summary
from repro.studies.arms import study_of
from repro.studies.generalization.claims import JUDGED, PAIR

ARM = "headline"
REGIME = "procedural"
REFS = ("constant", "oracle")


def conv_name(paper_name: str) -> str:
    """'supervised-normal' -> 'supervised_conv-normal': the study's model of a paper one."""
    method, _, data = paper_name.partition("-")
    return f"{method}_conv-{data}"


def _sides(summary: Summary) -> dict[str, tuple[dict[str, Entry], dict[str, Entry]]] | None:
    """{'mlp' | 'conv': (runs by paper name, references)}; None unless both sides ran and
    have their references."""
    study = study_of(summary, "walls")
    if study is None:
        return None
    runs = study.runs(ARM, REGIME)
    conv = {n: runs.get(conv_name(n)) for n in PAIR}
    mlp = {n: summary.run(REGIME, n) for n in PAIR}
    conv_refs = {k: study.baseline(ARM, REGIME, k) for k in REFS}
    mlp_refs = {k: summary.run(REGIME, k) for k in REFS}
    sides = {"mlp": (mlp, mlp_refs), "conv": (conv, conv_refs)}
    if any(e is None for runs_, refs in sides.values() for e in (*runs_.values(), *refs.values())):
        return None
    return sides  # type: ignore[return-value]


def judge(summary: Summary) -> list[dict[str, Any]]:
    """Each claim of :data:`JUDGED` on each side: [{'id', 'claim', 'mlp': finding, 'conv':
    finding}] (:func:`repro.results.claims.finding`: 'ours' words and 'verdict'); [] where
    the headline arm, the main study's pair or a reference is missing."""
    sides = _sides(summary)
    if sides is None:
        return []
    texts = {cid: claim for cid, claim, _paper, _rule, _fn in CLAIMS}
    return [
        {
            "id": cid,
            "claim": texts[cid],
            **{side: finding(rule, runs, refs, GATES[cid]) for side, (runs, refs) in sides.items()},
        }
        for cid, rule in JUDGED.items()
    ]


def changed(judged: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(claim id, the MLPs' verdict, the convolutional models') where the two differ."""
    return [(c["id"], c["mlp"]["verdict"], c["conv"]["verdict"]) for c in judged
            if c["mlp"]["verdict"] != c["conv"]["verdict"]]  # fmt: skip
