"""The paper's claims C1-C9, each checked against our numbers by a stated rule.

Every verdict ('holds', 'partly', 'fails', 'undecided', 'not testable') is computed here
from the summary; none is typed in. Each rule is kept beside its claim so the report can
print it. A rule is applied to each seed on its own (the seeds common to the four
configurations of the regime, each seed's value from ``Aggregate.values``), and a
verdict stands only when every seed gives it (``SEED_RULE``): a verdict that the
seed spread can flip is not a finding. The words of a finding (``ours``) quote
the means over seeds. Spearman verdicts use the full test set, which is far less
noisy than the paper's 10 trajectories; both are shown in the tables. A number
that was not measured reads as NaN, and no rule holds on a NaN. A claim about the
models is judged only on models that learned (:data:`GATE_RULE`, :data:`GATES`): where one
did not, the verdict is 'not testable', whatever its rule would say.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from repro.config import CONFIGS
from repro.core.data import DATASETS, TRAINING_SETS
from repro.core.planning import MODES
from repro.results.paper_gap import REACH_EXPANDED, REACH_SOLVED, closest_rule
from repro.results.view import VERDICTS, Entry, Summary, as_summary, config_name, short_name

SUP = {d: config_name("supervised", d) for d in TRAINING_SETS}  # dataset -> configuration
CON = {d: config_name("contrastive", d) for d in TRAINING_SETS}
NORMAL, STITCHING = DATASETS  # the paper's two training sets
STRICT = TRAINING_SETS[2]  # stitching whose paths never leave their quadrant
HOLDS, PARTLY, FAILS, UNDECIDED, NOT_TESTABLE = VERDICTS
SEED_RULE = "a verdict stands only when every seed gives it; otherwise undecided"
# The learned-model gate. A claim about the configurations is tested only on models that
# learned: each must close at least LEARNED_SHARE of the gap from the constant heuristic
# (knows nothing) to the oracle (the BFS distance) on the claim's gate metric (GATES), on
# every seed, each seed against the baselines on its own instances. A quarter, not "any
# improvement": a model one seed puts a tenth of the way from the constant to the oracle is
# as likely noise as skill on 400 instances. Each finding records the share every model
# closed (``learned``), and the report quotes the least and the most of them per regime.
LEARNED_SHARE = 0.25
GATE_RULE = (
    "a claim is judged only where each configuration closes at least "
    f"{LEARNED_SHARE:.0%} of the gap from the constant heuristic to the oracle on the "
    "claim's gate metric, on every seed; otherwise it is not testable"
)
Runs = Mapping[str, Entry]  # the four paper configurations of one regime, by name
References = Mapping[str, Entry]  # the regime's 'constant' and 'oracle' baselines
Value = Callable[[str, str], float]  # (configuration, metric) -> its number; NaN if unmeasured
Rule = Callable[[Value], dict]  # a claim's rule: numbers -> {'ours': words, 'verdict': ...}


def _verdict(holds: bool, partly: bool) -> str:
    return HOLDS if holds else (PARTLY if partly else FAILS)


def _lowest(xs: list[float]) -> float:
    """min of ``xs``; NaN if any is NaN (Python's min would skip a NaN after the first)."""
    return float(np.min(xs))


def _highest(xs: list[float]) -> float:
    """max of ``xs``; NaN if any is NaN."""
    return float(np.max(xs))


def _ratio(xs: list[float]) -> float:
    """max / min of ``xs``: NaN if any is NaN, inf if the smallest is not positive."""
    lo, hi = _lowest(xs), _highest(xs)
    if math.isnan(lo) or math.isnan(hi):
        return math.nan
    return hi / lo if lo > 0 else math.inf


# The rules C1-C3 and C7 take the configurations (or datasets) they compare, the paper's
# four by default: the generalization study judges them again on its two normal-data models.
def c1(v: Value, names: tuple[str, ...] = tuple(CONFIGS)) -> dict:
    lo = _lowest([v(n, "search_solved") for n in names])
    return {
        "ours": f"lowest search solved rate {lo:.1%}",
        "verdict": _verdict(lo == 1.0, lo >= 0.95),
    }


def c2(v: Value, names: tuple[str, ...] = tuple(CONFIGS)) -> dict:
    g = {n: v(n, "greedy_solved") for n in names}
    s = {n: v(n, "search_solved") for n in names}
    far = all(g[n] <= 0.5 and g[n] <= s[n] - 0.2 for n in names)
    fewer = all(g[n] < s[n] for n in names)
    rates = list(g.values())
    return {
        "ours": f"greedy solves {_lowest(rates):.1%} to {_highest(rates):.1%}",
        "verdict": _verdict(far, fewer),
    }


def c3(v: Value, names: tuple[str, ...] = tuple(CONFIGS)) -> dict:
    ratios = {mode: _ratio([v(n, f"{mode}_expanded") for n in names]) for mode in MODES}
    small = [r < 10 for r in ratios.values()]
    return {
        "ours": "max/min mean expanded: "
        + ", ".join(f"{mode} {r:.2f}x" for mode, r in ratios.items()),
        "verdict": _verdict(all(small), any(small)),
    }


def _c4_rule(v: Value, metric: str, stitching: str) -> dict:
    c_drop = v(CON[NORMAL], metric) - v(CON[stitching], metric)
    s_drop = v(SUP[NORMAL], metric) - v(SUP[stitching], metric)
    return {
        "ours": f"drop normal to {stitching}: contrastive {c_drop:+.3f}, supervised {s_drop:+.3f}",
        "verdict": _verdict(
            c_drop >= 0.2 and s_drop <= 0.1, c_drop >= 0.1 and c_drop > s_drop + 0.1
        ),
    }


def c4(v: Value) -> dict:
    return _c4_rule(v, "spearman_full", STRICT)


def c4x(v: Value) -> dict:
    return _c4_rule(v, "spearman_full_cross", STRICT)


def c4_leaky(v: Value) -> dict:
    return _c4_rule(v, "spearman_full", STITCHING)


def c4x_leaky(v: Value) -> dict:
    return _c4_rule(v, "spearman_full_cross", STITCHING)


def c5(v: Value) -> dict:
    r = {n: v(n, "order_violations") for n in CONFIGS}
    wins = [r[CON[d]] < r[SUP[d]] for d in DATASETS]
    return {
        "ours": "order violations sup/con: "
        + ", ".join(f"{d} {r[SUP[d]]:.2f}/{r[CON[d]]:.2f}" for d in DATASETS),
        "verdict": _verdict(all(wins), any(wins)),
    }


# C6: a loss "still improves" only by more than the noise of its own curve: the change
# between the two windows must exceed C6_Z standard errors of that change, as estimated
# from the row-to-row jitter of the logged loss (repro.core.trend.improvement_noise).
C6_Z = 2.0


def _z(gain: float, se: float) -> float:
    """``gain`` in standard errors ``se``: NaN if either is NaN; a change on a curve with no
    noise is infinitely many of them (0 if there is none)."""
    if math.isnan(gain) or math.isnan(se):
        return math.nan
    if se > 0:
        return gain / se
    return math.copysign(math.inf, gain) if gain else 0.0


def _in_se(z: float) -> str:
    """' (3.1 se)': a change in standard errors, for the words; nothing where the curve has
    no noise to measure it by (or no number)."""
    return f" ({z:.1f} se)" if math.isfinite(z) else ""


def c6(v: Value) -> dict:
    """Per run, ``loss_improvement`` (:func:`repro.core.metrics.loss_improvement` of its
    loss.csv) against ``C6_Z`` times its standard error ``loss_improvement_se``; the words
    quote its change (minus the improvement) averaged over seeds and, in brackets, how many
    standard errors that is."""
    gains = {n: v(n, "loss_improvement") for n in CONFIGS}
    noise = {n: v(n, "loss_improvement_se") for n in CONFIGS}
    z = {n: _z(gains[n], noise[n]) for n in CONFIGS}
    improving = [z[n] > C6_Z for n in CONFIGS]  # NaN: not improving
    return {
        "ours": "loss change 75% to 100% of steps: "
        + ", ".join(f"{short_name(n)} {-gains[n]:+.1%}{_in_se(z[n])}" for n in CONFIGS),
        "verdict": _verdict(all(improving), any(improving)),
    }


def c7(v: Value, datasets: tuple[str, ...] = tuple(DATASETS)) -> dict:
    wins = [v(SUP[d], "spearman_full") > v(CON[d], "spearman_full") for d in datasets]
    return {
        "ours": "supervised higher "
        + ", ".join(f"on {d}: {'yes' if w else 'no'}" for d, w in zip(datasets, wins, strict=True)),
        "verdict": _verdict(all(wins), any(wins)),
    }


def c8(v: Value, paper: Value) -> dict:
    """The paper's greedy numbers against ours under each reading of its greedy rule."""
    best = closest_rule(v, paper)
    words = (
        f"closest: {best.rule} (mean gaps {best.solved:.2f} solved, {best.expanded:.1f} expanded)"
    )
    return {"ours": words, "verdict": _verdict(best.within_reach, best.near)}


def c9(v: Value, paper: Value) -> dict:
    """The paper's 10-trajectory Spearman inside the 5-95% range of our protocol draws."""
    inside = [
        v(n, "spearman_paper_p5") <= paper(n, "spearman") <= v(n, "spearman_paper_p95")
        for n in CONFIGS
    ]
    return {
        "ours": f"{sum(inside)} of {len(inside)} paper values inside our 5-95% protocol range",
        "verdict": _verdict(all(inside), any(inside)),
    }


def _or_nan(x: float | None) -> float:
    return math.nan if x is None else float(x)


def means(runs: Runs) -> Value:
    """Each configuration's metric as its mean over seeds (NaN if not measured)."""
    return lambda name, metric: _or_nan(runs[name].mean(metric))


def at_seed(runs: Runs, seed: int) -> Value:
    """Each configuration's metric in its run with ``seed`` (NaN if not measured)."""
    return lambda name, metric: _or_nan(runs[name].at_seed(metric, seed))


def common_seeds(runs: Runs) -> list[int]:
    """The seeds every configuration of ``runs`` finished, in the first one's order."""
    entries = list(runs.values())
    return [s for s in entries[0].seeds if all(s in e.seeds for e in entries[1:])]


def gap_closed(value: float, constant: float, oracle: float) -> float:
    """The share of the gap from the constant heuristic to the oracle that ``value`` closes:
    0 at the constant, 1 at the oracle, negative when worse than the constant (either
    direction of metric: expanded states fall, solved rates and Spearman rise). NaN where a
    number is NaN or the two references agree (the metric cannot tell them apart)."""
    if any(math.isnan(x) for x in (value, constant, oracle)) or oracle == constant:
        return math.nan
    return (value - constant) / (oracle - constant)


def _reference(ref: Entry | None, metric: str, seed: int) -> float:
    """A baseline's ``metric`` on the instances of ``seed``: a fixed-regime baseline names
    its seeds (one context each); a procedural one serves every seed."""
    if ref is None:
        return math.nan
    return _or_nan(ref.at_seed(metric, seed) if ref.seeds else ref.mean(metric))


def learned_shares(runs: Runs, refs: References, metric: str, seeds: list[int]) -> dict:
    """Per configuration, the smallest :func:`gap_closed` over ``seeds`` on ``metric`` (NaN
    if any seed lacks a number, or there are no seeds)."""
    out = {}
    for name, entry in runs.items():
        shares = [
            gap_closed(
                _or_nan(entry.at_seed(metric, s)),
                _reference(refs.get("constant"), metric, s),
                _reference(refs.get("oracle"), metric, s),
            )
            for s in seeds
        ]
        out[name] = _lowest(shares) if shares else math.nan
    return out


def finding(
    rule: Rule, runs: Runs, refs: References | None = None, gate: str | None = None
) -> dict[str, Any]:
    """The claim's finding in one regime: the words from the means over seeds; the verdict
    every common seed gives on its own, or 'undecided' (the words then name the split); and
    'not testable' where the claim has a ``gate`` metric and a configuration did not learn
    on it (:data:`GATE_RULE`; the words then name it and the share it closed)."""
    seeds = common_seeds(runs)
    by_seed = [rule(at_seed(runs, s))["verdict"] for s in seeds]
    verdict = by_seed[0] if by_seed and len(set(by_seed)) == 1 else UNDECIDED
    ours = rule(means(runs))["ours"]
    shares = learned_shares(runs, refs or {}, gate, seeds) if gate else {}
    unlearned = {n: x for n, x in shares.items() if not x >= LEARNED_SHARE}  # NaN: unlearned
    if seeds and unlearned:
        verdict = NOT_TESTABLE
        closed = ", ".join(
            f"{short_name(n)} {'unmeasured' if math.isnan(x) else f'{x:.0%}'}"
            for n, x in unlearned.items()
        )
        ours = f"{ours} (did not learn; gap closed: {closed})"
    elif verdict == UNDECIDED:
        split = ", ".join(by_seed) if by_seed else "none common to the four configurations"
        ours = f"{ours} (seeds: {split})"
    learned = {n: None if math.isnan(x) else x for n, x in shares.items()}
    return {
        "ours": ours,
        "verdict": verdict,
        "seeds": seeds,
        "by_seed": by_seed,
        "learned": learned,
    }


CLAIMS = [
    (
        "C1",
        "Both models solve every instance with search",
        "100% solved by all four",
        "holds if every model solves 100%; partly if all solve at least 95%",
        c1,
    ),
    (
        "C2",
        "Greedy solves far fewer instances than search",
        "14% to 30% solved",
        "holds if every greedy rate is at most 50% and 20 points below search; "
        "partly if every greedy rate is below search",
        c2,
    ),
    (
        "C3",
        "Both models expand a similar number of states",
        "44 to 67 (search), 9 to 11 (greedy)",
        "holds if the largest mean expanded count is under 10x the smallest in both modes; "
        "partly in one",
        c3,
    ),
    (
        "C4",
        "Stitching data lowers the contrastive Spearman sharply, not the supervised one "
        "(judged on strict stitching data, whose paths never leave their quadrant)",
        "contrastive 0.848 to 0.470; supervised 0.807 to 0.939",
        "holds if the contrastive drop is at least 0.2 and the supervised drop at most 0.1; "
        "partly if the contrastive drop exceeds the supervised one by 0.1",
        c4,
    ),
    (
        "C4x",
        "C4 where stitching matters: test trajectories whose start and goal lie in "
        "different quadrants (strict stitching data)",
        "not reported (its test set is not split)",
        "the rule of C4 on the cross-quadrant test trajectories only",
        c4x,
    ),
    (
        "C4L",
        "C4 on the paper's stitching data, whose paths may leave their quadrant",
        "contrastive 0.848 to 0.470; supervised 0.807 to 0.939",
        "the rule of C4",
        c4_leaky,
    ),
    (
        "C4xL",
        "C4x on the paper's stitching data",
        "not reported (its test set is not split)",
        "the rule of C4x",
        c4x_leaky,
    ),
    (
        "C5",
        "Contrastive heatmaps are smoother than supervised ones",
        "shown in its Figure 2",
        "share of neighbouring cells ordered against the BFS distance (see text) lower for "
        "contrastive: holds on both datasets, partly on one",
        c5,
    ),
    (
        "C6",
        "The loss still improves from 15k to 20k steps",
        "slightly lower at 20k, both models",
        "holds if the loss averaged over the last 5% of logged steps is below its average "
        f"over the 5% before 75% of training by more than {C6_Z:g} standard errors of that "
        "change (from the curve's row-to-row noise), for all four; partly for some",
        c6,
    ),
    (
        "C7",
        "The supervised model ranks distances better on both datasets (the paper's text)",
        "text says both; its Table 2 says stitching only",
        "full-test-set Spearman: holds if supervised is higher on both datasets, partly on one",
        c7,
    ),
    (
        "C8",
        "Its greedy numbers come from one reading of greedy in a maze family like ours",
        "14% to 30% solved, 9.3 to 11.5 expanded",
        f"under the closest of the rules unvisited, descent, revisit: holds if the mean "
        f"|paper - ours| over the four models is at most {REACH_SOLVED} (solved rate) and "
        f"{REACH_EXPANDED:g} (expanded states); partly within twice that",
        c8,
    ),
    (
        "C9",
        "Its Spearman values lie within the noise of its 10-trajectory protocol",
        "0.807, 0.939, 0.848, 0.470",
        "holds if each paper value lies in the 5-95% range of our 10-trajectory means "
        "(10,000 random draws of 10 test trajectories); partly for some",
        c9,
    ),
]


# Each claim's gate metric: the number on which a model that learned beats the constant
# heuristic. Search solves every instance even with the constant heuristic, so the planning
# claims about search are gated on expanded states; greedy on its solved rate (the oracle's
# greedy expands *more* states than the constant, which stops at its first dead end, so
# greedy's expanded count is no gate); ranking and smoothness on the Spearman. C6 is about
# the optimiser, not the learned distance: no gate.
GATES: dict[str, str | None] = {
    "C1": "search_expanded",
    "C2": "greedy_solved",
    "C3": "search_expanded",
    "C4": "spearman_full",
    "C4x": "spearman_full_cross",
    "C4L": "spearman_full",
    "C4xL": "spearman_full_cross",
    "C5": "spearman_full",
    "C6": None,
    "C7": "spearman_full",
    "C8": "greedy_solved",
    "C9": "spearman_full",
}


# The configurations a claim is about, where not the paper's four: C4 and C4x compare the
# normal data with strict stitching data.
USES: dict[str, tuple[str, ...]] = {
    "C4": (SUP[NORMAL], SUP[STRICT], CON[NORMAL], CON[STRICT]),
    "C4x": (SUP[NORMAL], SUP[STRICT], CON[NORMAL], CON[STRICT]),
}


def _runs_of(view: Summary, regime: str, cid: str) -> dict[str, Entry] | None:
    """The entries claim ``cid`` is judged on in ``regime``; None unless every one ran."""
    found = {n: view.run(regime, n) for n in USES.get(cid, tuple(CONFIGS))}
    ok = all(e is not None and e.kind == "config" for e in found.values())
    return found if ok else None


def check_claims(summary: Summary | Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every claim with its paper figure, rule, and per-regime finding (see :func:`finding`),
    as the summary's ``claims`` list holds them (a regime counts only where every
    configuration the claim is about ran; read them back with ``Summary.claims``)."""
    view = as_summary(summary)
    return [
        {
            "id": cid,
            "claim": text,
            "paper": paper,
            "rule": rule,
            "gate": GATES[cid],
            "regimes": {
                regime: finding(_with_paper(fn, view), runs, _references(view, regime), GATES[cid])
                for regime in view.regimes
                if (runs := _runs_of(view, regime, cid)) is not None
            },
        }
        for cid, text, paper, rule, fn in CLAIMS
    ]


def _references(view: Summary, regime: str) -> dict[str, Entry]:
    """The regime's constant and oracle baselines, those the summary holds."""
    found = {name: view.run(regime, name) for name in ("constant", "oracle")}
    return {name: e for name, e in found.items() if e is not None and e.kind == "baseline"}


def _with_paper(fn: Callable[..., dict], view: Summary) -> Rule:
    """``fn`` as a Rule: a rule that compares with the paper gets its numbers bound."""
    if "paper" not in inspect.signature(fn).parameters:
        return fn
    paper = lambda name, key: _or_nan(view.paper_value(name, key))  # noqa: E731
    return functools.partial(fn, paper=paper)
