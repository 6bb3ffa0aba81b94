"""Named checks that bind the report's written sentences to the results.

The report's prose is written by us, in the template; its numbers are macros. A sentence
that states something qualitative (a comparison, "drops", "below", "not testable") is
wrapped in the template as ::

    \\BLOCK{call checked("unseen-below-manhattan")}...the sentence...\\BLOCK{endcall}

and the build evaluates the named check of :data:`CHECKS` over the summary. Where it
holds, the sentence is printed as written. Where it fails (or a number it needs was not
measured), a paper-scale build stops with :class:`ProseCheckFailed`, naming the check,
what it asserts, the numbers it read and the sentence; any other build (smoke scale,
a test) prints the sentence behind a visible mark instead, so a small run still builds.

Each check is a pure function of the summary (:class:`repro.results.view.Summary`) that
returns whether it holds and the numbers it read. The thresholds are stated here, beside
the words they guard, and were set from what a sentence means, never from our results.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from repro.config import CONFIGS
from repro.errors import StageFailed
from repro.report import ablation_facts as af
from repro.report import planning
from repro.report.texfmt import Tex
from repro.results.claims import CON, NOT_TESTABLE, STRICT, SUP
from repro.results.view import Summary

Numbers = dict[str, float | None]
NORMAL, STITCHING = "normal", "stitching"
CLOSE = 0.9  # "ranks distances almost perfectly": a full-test Spearman of at least this
MOSTLY_SEEN = 0.9  # "most test pairs occur in the training data": at least this share
UNCHANGED = 0.02  # "does not change": a Spearman difference smaller than this
SHARP = 0.2  # "drops sharply": a Spearman drop of at least this (C4's own bar)


@dataclass(frozen=True)
class Check:
    """A statement about the results: its words, and the test that decides it."""

    says: str  # what the guarded sentence asserts, for the failure message
    test: Callable[[Summary], tuple[bool, Numbers]]  # holds?, and the numbers it read

    def opposite(self, says: str) -> Check:
        """The check of the sentence that says the opposite (``says``): it holds where this
        one fails on numbers that were all measured (an unmeasured number holds neither)."""

        def test(view: Summary) -> tuple[bool, Numbers]:
            holds, numbers = self.test(view)
            return bool(numbers) and _known(numbers) and not holds, numbers

        return Check(says, test)


def _mean(view: Summary, regime: str, name: str, metric: str) -> float | None:
    entry = view.run(regime, name)
    x = None if entry is None else entry.mean(metric)
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _known(numbers: Numbers) -> bool:
    return all(v is not None for v in numbers.values())


def fixed_both_learn(view: Summary) -> tuple[bool, Numbers]:
    n = {f"fixed {c} spearman_full": _mean(view, "fixed", c, "spearman_full") for c in CONFIGS}
    return _known(n) and min(n.values()) >= CLOSE, n


def fixed_is_recall(view: Summary) -> tuple[bool, Numbers]:
    n = {f"fixed {c} data_seen_test": _mean(view, "fixed", c, "data_seen_test") for c in PAIR}
    return _known(n) and min(n.values()) >= MOSTLY_SEEN, n


def unseen_below_manhattan(view: Summary) -> tuple[bool, Numbers]:
    n = {
        f"procedural {c} spearman_full": _mean(view, "procedural", c, "spearman_full")
        for c in CONFIGS
    }
    n["procedural manhattan spearman_full"] = _mean(
        view, "procedural", "manhattan", "spearman_full"
    )
    if not _known(n):
        return False, n
    manhattan = n["procedural manhattan spearman_full"]
    return all(v < manhattan for k, v in n.items() if "manhattan" not in k), n


def unseen_not_testable(view: Summary) -> tuple[bool, Numbers]:
    gated = [c for c in view.claims if c.gate and "procedural" in c.regimes]
    n = {
        f"{c.id} procedural not testable": float(c.regimes["procedural"].verdict == NOT_TESTABLE)
        for c in gated
    }
    return bool(gated) and all(v == 1.0 for v in n.values()), n


def walls_unused(view: Summary) -> tuple[bool, Numbers]:
    n: Numbers = {}
    for c in PAIR:
        full = _mean(view, "procedural", c, "spearman_full")
        shuffled = _mean(view, "procedural", c, "walls_shuffled_spearman_full")
        n[f"procedural {c} spearman_full"], n[f"procedural {c} shuffled walls"] = full, shuffled
    oracle = _mean(view, "procedural", "oracle", "walls_shuffled_spearman_full")
    n["procedural oracle shuffled walls"] = oracle
    if not _known(n):
        return False, n
    same = all(
        abs(n[f"procedural {c} spearman_full"] - n[f"procedural {c} shuffled walls"]) < UNCHANGED
        for c in PAIR
    )
    return same and 1.0 - oracle >= SHARP, n  # the control can detect wall use: the oracle drops


def drops(view: Summary, data: str) -> Numbers:
    """Fixed maze: each method's full-test Spearman on normal data minus on ``data``."""
    return {
        f"fixed {m} drop normal to {data}": None
        if (a := _mean(view, "fixed", names[NORMAL], "spearman_full")) is None
        or (b := _mean(view, "fixed", names[data], "spearman_full")) is None
        else a - b
        for m, names in (("supervised", SUP), ("contrastive", CON))
    }


def strict_drops_both(view: Summary) -> tuple[bool, Numbers]:
    n = drops(view, STRICT)
    return _known(n) and min(n.values()) >= SHARP, n


def leak_hides_drop(view: Summary) -> tuple[bool, Numbers]:
    strict, leaky = drops(view, STRICT), drops(view, STITCHING)
    n = {**strict, **leaky}
    if not _known(n):
        return False, n
    return all(2 * b < a for a, b in zip(strict.values(), leaky.values(), strict=True)), n


def greedy_near_constant(view: Summary) -> tuple[bool, Numbers]:
    paper = {c: view.paper_value(c, "greedy_solved") for c in CONFIGS}
    n: Numbers = {f"paper {c} greedy_solved": v for c, v in paper.items()}
    for b in ("constant", "manhattan"):
        n[f"procedural {b} greedy_solved"] = _mean(view, "procedural", b, "greedy_solved")
    if not _known(n):
        return False, n
    const, man = n["procedural constant greedy_solved"], n["procedural manhattan greedy_solved"]
    closer = sum(abs(p - const) < abs(p - man) for p in paper.values())
    return all(p < man for p in paper.values()) and 2 * closer > len(paper), n


def paper_gap(view: Summary, regime: str, ours: str, paper: str) -> float | None:
    """Mean over the four configurations of |paper - ours (mean over seeds)|; None unless all
    four were measured (Table 5's numbers and the paper-fits-neither check)."""
    gaps = []
    for c in CONFIGS:
        mine, theirs = _mean(view, regime, c, ours), view.paper_value(c, paper)
        if mine is None or theirs is None:
            return None
        gaps.append(abs(theirs - mine))
    return sum(gaps) / len(gaps)


def paper_fits_neither(view: Summary) -> tuple[bool, Numbers]:
    n = {
        f"{regime} mean |paper - ours| {ours}": paper_gap(view, regime, ours, paper)
        for ours, paper in (("spearman_paper", "spearman"), ("greedy_solved", "greedy_solved"))
        for regime in ("fixed", "procedural")
    }
    if not _known(n):
        return False, n
    g = list(n.values())  # fixed and procedural gap for the Spearman, then for greedy
    return (g[0] < g[1]) != (g[2] < g[3]), n  # the two metrics are closer to different regimes


PAIR = (SUP[NORMAL], CON[NORMAL])  # the two normal-data configurations
_RULES_IN_REACH = Check(
    "in some regime a greedy rule brings the paper's greedy numbers within our tolerance",
    planning.rules_in_reach,
)
CHECKS: dict[str, Check] = {
    "fixed-both-learn": Check(
        f"in the fixed maze every model ranks distances with a Spearman of at least {CLOSE}",
        fixed_both_learn,
    ),
    "fixed-is-recall": Check(
        f"in the fixed maze at least {MOSTLY_SEEN:.0%} of the test pairs occur in the "
        "normal training data",
        fixed_is_recall,
    ),
    "unseen-below-manhattan": Check(
        "in unseen mazes every model ranks distances less well than the Manhattan distance",
        unseen_below_manhattan,
    ),
    "unseen-not-testable": Check(
        "in unseen mazes every gated claim is not testable (no model learned)",
        unseen_not_testable,
    ),
    "walls-unused": Check(
        f"shuffling the walls changes the normal-data models' Spearman by less than "
        f"{UNCHANGED} in unseen mazes, while the oracle's drops by at least {SHARP}",
        walls_unused,
    ),
    "strict-drops-both": Check(
        f"in the fixed maze both methods' Spearman drops by at least {SHARP} from normal to "
        "strict stitching data",
        strict_drops_both,
    ),
    "leak-hides-drop": Check(
        "in the fixed maze each method's drop on the paper's (leaky) stitching data is less "
        "than half its drop on strict stitching data (the leak hides most of it)",
        leak_hides_drop,
    ),
    "paper-fits-neither": Check(
        "the paper's Spearman values are closer to one of our regimes and its greedy solved "
        "rates to the other (mean absolute gap over the four configurations)",
        paper_fits_neither,
    ),
    "greedy-near-constant": Check(
        "in unseen mazes every one of the paper's greedy solved rates is below our Manhattan "
        "distance's, and most are closer to our constant heuristic's than to it",
        greedy_near_constant,
    ),
    "noise-explains-one": Check(
        "of the paper's eight Spearman values exactly one, the supervised model on stitching "
        "data in the fixed maze, lies inside the 5-95% range of our 10-trajectory means",
        planning.noise_explains({("fixed", "supervised-stitching")}),
    ),
    "noise-unseen-above": Check(
        "in unseen mazes each of the paper's Spearman values lies above the 95th percentile "
        "of our 10-trajectory means",
        planning.noise_above("procedural"),
    ),
    "rules-in-reach": _RULES_IN_REACH,
    "rules-out-of-reach": _RULES_IN_REACH.opposite(
        "in every regime even the closest greedy rule leaves the paper's greedy numbers "
        "outside our tolerance (repro.results.paper_gap)"
    ),
    # The ablations (repro.report.ablation_facts: paired by seed, a 95% interval)
    "gamma-hurts-fixed": Check(
        "in the fixed maze gamma 0.98 lowers every contrastive configuration's full-test "
        "Spearman measurably",
        af.gamma_hurts_fixed,
    ),
    "gamma-none-unseen": Check(
        "in unseen mazes no gamma difference in full-test Spearman is measurable",
        af.gamma_none_unseen,
    ),
    "repeat-decides-unseen": Check(
        "in unseen mazes every repeat-4 variant ranks measurably better than the paper "
        "setting and no repeat-1 variant differs measurably",
        af.repeat_decides_unseen,
    ),
    "forward-breaks-fixed": Check(
        "in the fixed maze every forward variant lowers the full-test Spearman measurably",
        af.forward_breaks_fixed,
    ),
    "symmetric-ties-goals": Check(
        "in the fixed maze every symmetric variant raises the all-pairs correlation measurably "
        "and leaves the full-test Spearman without a measurable change",
        af.symmetric_ties_goals,
    ),
    "head-class-unseen": Check(
        "in unseen mazes the classification head ranks measurably better than regression",
        af.head_class_unseen,
    ),
    "head-class-fixed": Check(
        "in the fixed maze the classification head ranks measurably worse than regression",
        af.head_class_fixed,
    ),
}


class ProseCheckFailed(StageFailed):
    """A written sentence of the report is contradicted by the results (paper scale)."""


def _sentence(text: str, limit: int = 240) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _numbers(n: Numbers) -> str:
    return ", ".join(f"{k} = {'not measured' if v is None else f'{v:.4g}'}" for k, v in n.items())


@dataclass
class Guard:
    """The ``checked`` call block of one rendering: evaluates each named check once, keeps
    the failures, and prints a sentence as written (holds), behind a mark (fails, not
    ``strict``), or records it for :meth:`raise_failures` (fails, ``strict``)."""

    view: Summary
    strict: bool
    checks: Mapping[str, Check] = field(default_factory=lambda: CHECKS)
    failures: list[str] = field(default_factory=list)
    used: set[str] = field(default_factory=set)

    def __call__(self, name: str, caller: Callable[[], str]) -> Any:
        if name not in self.checks:
            raise KeyError(
                f"the report names an unknown check {name!r}; known: {sorted(self.checks)}"
            )
        self.used.add(name)
        holds, numbers = self.checks[name].test(self.view)
        text = caller()
        if holds:
            return Tex(text)
        self.failures.append(
            f"check {name!r} ({self.checks[name].says}) fails on {_numbers(numbers)}; "
            f"the sentence: {_sentence(text)!r}"
        )
        return Tex(f"\\textcolor{{red}}{{[check {name} fails]}} {text}")

    def raise_failures(self) -> None:
        """ProseCheckFailed naming every failed sentence, where ``strict``."""
        if self.strict and self.failures:
            n = len(self.failures)
            raise ProseCheckFailed(
                f"{n} sentence{'s' if n > 1 else ''} of the report "
                f"{'are' if n > 1 else 'is'} contradicted by the results:\n"
                + "\n".join(f"- {f}" for f in self.failures)
            )
