"""The ablations' findings as facts: each variant against its paper setting, paired by seed.

The ablation paragraphs are written prose; what they state rests on these facts and is
guarded by the named checks at the end (registered in :data:`repro.report.checks.CHECKS`).
A fact is the paired difference of one metric between a variant and its paper-setting
configuration on the ablation seeds, with its sign by :func:`repro.report.ablations.measurable`
(+1 / -1 where the 95% interval excludes zero, 0 where we cannot measure a difference) and
its words for the text ('from 0.943 to 0.894, a paired difference of -0.049 [-0.056, -0.042]').
"""

from __future__ import annotations

from typing import Any

from repro.config import REGIMES
from repro.core.metrics import paired_difference
from repro.report.ablations import BASE_DIRECTION, measurable, noise, per_seed
from repro.report.texfmt import NO_VALUE, Tex
from repro.results.view import Summary

Fact = dict[str, Any]  # {'sign': -1 | 0 | 1 | None, 'd': float | None, 'said', 'short': Tex}
RANKING = ("spearman_full", "all_pairs")


def compare(new: list, old: list, spread: float) -> Fact:
    """A variant's values ``new`` against the paper setting's ``old`` on the same seeds (None
    where one was not measured; such seeds are left out of the pairing): the sign by
    :func:`repro.report.ablations.measurable` (None where no seed has both), the mean paired
    difference, and the words ('from 0.533 to 0.643, a paired difference of +0.110
    [+0.085, +0.135]'; with one seed '(one seed)' in place of the interval)."""
    pairs = [(n, o) for n, o in zip(new, old, strict=True) if n is not None and o is not None]
    if not pairs:
        return {"sign": None, "d": None, "said": Tex(NO_VALUE), "short": Tex(NO_VALUE)}
    a, b = [n for n, _ in pairs], [o for _, o in pairs]
    d, low, high = paired_difference(a, b)
    band = f"[{low:+.3f}, {high:+.3f}]" if len(pairs) > 1 else "(one seed)"
    said = f"from {sum(b) / len(b):.3f} to {sum(a) / len(a):.3f}, a paired difference of {d:+.3f}"
    return {"sign": measurable(new, old, spread), "d": d, "said": Tex(f"{said} {band}"),
            "short": Tex(f"{d:+.3f} {band}")}  # fmt: skip


def paired(summary: Summary, regime: str, config: str, run: str, metric: str) -> Fact:
    """The variant ``run`` against ``config`` on ``metric`` in ``regime``, paired by the
    ablation seeds (:func:`compare`; one seed: against ``config``'s spread over its seeds)."""
    old = per_seed(summary, regime, config, metric)
    new = per_seed(summary, regime, run, metric)
    return compare(new, old, noise(summary, regime, config, metric))


def _direction_key(sets: dict) -> str:
    return f"{sets.get('direction', 'backward')}-{sets.get('repeat', 1)}"


def facts(summary: Summary) -> dict[str, Fact]:
    """Every ablation fact by key: 'gamma:<regime>:<config>',
    'direction:<regime>:<direction>-<repeat>:<metric>' and 'head:<regime>'."""
    out: dict[str, Fact] = {}
    for regime in REGIMES:
        for v in summary.studies("gamma"):
            out[f"gamma:{regime}:{v.config}"] = paired(
                summary, regime, v.config, v.run, "spearman_full"
            )
        for v in summary.studies("direction"):
            for m in RANKING:
                key = f"direction:{regime}:{_direction_key(v.sets)}:{m}"
                out[key] = paired(summary, regime, BASE_DIRECTION, v.run, m)
        for v in summary.studies("head"):
            out[f"head:{regime}"] = paired(summary, regime, v.config, v.run, "spearman_full")
    return out


def said(summary: Summary, form: str = "said") -> dict[str, Tex]:
    """The words of every fact (``form`` 'said', or 'short': the difference and interval
    alone, for a table), keyed for the template ('gamma_fixed_contrastive_normal',
    'direction_procedural_backward_4_spearman_full', 'head_fixed'; ':' and '-' as '_')."""
    return {k.replace(":", "_").replace("-", "_"): f[form] for k, f in facts(summary).items()}


# ---------------------------------------------------------------------------- checks


def _all(summary: Summary, prefix: str, sign: int, suffix: str = ""):
    """Whether every fact whose key has ``prefix`` and ``suffix`` has ``sign`` (and there is
    one), with their paired differences."""
    found = {k: f for k, f in facts(summary).items() if k.startswith(prefix) and k.endswith(suffix)}
    n = {f"{k} paired difference": f["d"] for k, f in found.items()}
    return bool(found) and all(f["sign"] == sign for f in found.values()), n


def gamma_hurts_fixed(summary: Summary):
    """Check 'gamma-hurts-fixed': gamma 0.98 lowers the full-test Spearman of every
    contrastive configuration in the fixed maze, measurably."""
    return _all(summary, "gamma:fixed:", -1)


def gamma_none_unseen(summary: Summary):
    """Check 'gamma-none-unseen': in unseen mazes no gamma difference is measurable."""
    return _all(summary, "gamma:procedural:", 0)


def repeat_decides_unseen(summary: Summary):
    """Check 'repeat-decides-unseen': in unseen mazes every repeat-4 variant ranks measurably
    better than the paper setting (full-test Spearman), and no repeat-1 variant differs."""
    up, up_n = _all(summary, "direction:procedural:", 1, "-4:spearman_full")
    flat, flat_n = _all(summary, "direction:procedural:", 0, "-1:spearman_full")
    return up and flat, {**up_n, **flat_n}


def forward_breaks_fixed(summary: Summary):
    """Check 'forward-breaks-fixed': in the fixed maze every forward variant lowers the
    full-test Spearman measurably."""
    return _all(summary, "direction:fixed:forward-", -1, ":spearman_full")


def symmetric_ties_goals(summary: Summary):
    """Check 'symmetric-ties-goals': in the fixed maze every symmetric variant raises the
    all-pairs correlation measurably and leaves the full-test Spearman unmeasurably changed."""
    up, up_n = _all(summary, "direction:fixed:symmetric-", 1, ":all_pairs")
    same, same_n = _all(summary, "direction:fixed:symmetric-", 0, ":spearman_full")
    return up and same, {**up_n, **same_n}


def head_class_unseen(summary: Summary):
    """Check 'head-class-unseen': in unseen mazes the classification head ranks measurably
    better than regression."""
    return _all(summary, "head:procedural", 1)


def head_class_fixed(summary: Summary):
    """Check 'head-class-fixed': in the fixed maze the classification head ranks measurably
    worse than regression."""
    return _all(summary, "head:fixed", -1)
