"""The walls study's section of the report: the convolutional models beside the MLPs and
the baselines, with wall use, and the sentences that follow from those numbers."""

from __future__ import annotations

import math
from typing import Any

from repro.config import WALLS
from repro.report.checks import UNCHANGED, Check
from repro.report.texfmt import LABELS, NO_VALUE, Tex, counted, num, pct
from repro.results.view import Entry, Summary
from repro.studies.arms import study_of
from repro.studies.study import Section
from repro.studies.walls import small
from repro.studies.walls.claims import changed, judge

REGIME = "procedural"
COLUMNS = ("spearman_full", "walls_detour_spearman", "drop", "greedy_solved", "search_expanded")
CONV_LABELS = {
    "supervised_conv": "Supervised, conv. field",
    "contrastive_conv": "Contrastive, conv. encoders",
}

# A field "reads the walls" on detour states when its Spearman there clears the wall-blind
# Manhattan distance's by at least this much (the sentence after Table 8's study rows).
CLEARS = 0.1


def label(name: str) -> str:
    """'supervised_conv-normal+recurrent' -> 'Supervised, conv. field, normal, recurrent'."""
    base, _, variant = name.partition("+")
    method, _, data = base.partition("-")
    words = [CONV_LABELS.get(method, LABELS.get(base, base))]
    if method in CONV_LABELS:
        words.append(data.replace("-", " "))
    words += [v for v in variant.split("+") if v]
    return ", ".join(words)


def _value(e: Entry | None, key: str) -> tuple[float | None, float | None, int]:
    """(mean, sd, seeds) of ``key``; 'drop' is the full-test Spearman minus the
    shuffled-walls one."""
    if e is None:
        return None, None, 0
    if key == "drop":
        full, shuf = e.mean("spearman_full"), e.mean("walls_shuffled_spearman_full")
        return (None if full is None or shuf is None else full - shuf), None, 1
    agg = e.metric(key)
    if agg is None or agg.mean is None:
        return None, None, 0
    return agg.mean, agg.std, agg.n_seeds


def _cell(e: Entry | None, key: str) -> Tex:
    mean, sd, n = _value(e, key)
    if mean is None:
        return Tex(NO_VALUE)
    if key == "greedy_solved":
        return pct(mean) if n < 2 else Tex(f"{100 * mean:.1f} $\\pm$ {100 * sd:.1f}\\%")
    digits = 1 if key == "search_expanded" else 3
    return num(mean, digits) if n < 2 else Tex(f"{mean:.{digits}f} $\\pm$ {sd:.{digits}f}")


def _row(text: str, e: Entry | None, steps: str) -> dict[str, Any]:
    return {"label": text, "steps": steps, "cells": Tex(" & ".join(_cell(e, k) for k in COLUMNS))}


def rows(summary: Summary) -> list[dict[str, Any]]:
    """The MLPs (the main study's runs) and baselines, then every arm's runs."""
    study = study_of(summary, "walls")
    out = [
        _row(LABELS[n], summary.run(REGIME, n), "main")
        for n in ("supervised-normal", "contrastive-normal", "manhattan", "oracle")
    ]
    for arm in (a for a in WALLS if study and a in study.arms):  # in the declared order
        for regime in ("procedural", "fixed"):
            for name, e in study.runs(arm, regime).items():
                steps = e.config.get("steps")
                text = label(name) + ("" if regime == REGIME else " (fixed maze)")
                out.append(_row(text, e, f"{steps:,}" if steps else NO_VALUE))
    return out


MODELS = {  # key -> (where, name): the MLPs and baselines from the main study
    "sup_mlp": ("main", "supervised-normal"),
    "con_mlp": ("main", "contrastive-normal"),
    "sup_conv": ("headline", "supervised_conv-normal"),
    "con_conv": ("headline", "contrastive_conv-normal"),
    "sup_long": ("longer", "supervised_conv-normal"),  # twice the paper's length
    "manhattan": ("main", "manhattan"),
    "oracle": ("main", "oracle"),
}
METRICS = ("spearman_full", "walls_detour_spearman", "greedy_solved", "drop")
# The goal for a distance that uses the walls, set before any run (never tuned):
# on unseen mazes at the paper's length, full-test Spearman and greedy solved at least these.
GOAL_SPEARMAN, GOAL_GREEDY = 0.95, 0.60
# The checks whose sentence the section writes in either polarity (a ':not' check each).
TWO_WAY = ("walls-field-above-mlp", "walls-encoders-above-mlp", "walls-field-reads",
           "walls-encoders-read", "walls-goal-met", "walls-recurrent-near",
           "walls-leaky-near", "walls-fixed-field-level", "walls-fixed-encoders-level",
           "walls-fixed-no-sharp-drop", "walls-longer-settled", "walls-longer-goal")  # fmt: skip
# "Ranks nothing": a full-test Spearman below this in size (a negligible correlation).
NEGLIGIBLE = 0.1
# "Solves its training task": a final InfoNCE loss below this share of a critic's that cannot
# tell the positive from the batch's other candidates (log of the batch size).
SOLVED_SHARE = 0.1


def _entries(summary: Summary) -> dict[str, Entry | None]:
    return {k: summary.run(REGIME, n) if where == "main" else small.arm_run(summary, where, n)
            for k, (where, n) in MODELS.items()}  # fmt: skip


def numbers(summary: Summary) -> dict[str, Any]:
    """The headline numbers the sentences quote: '<model>_<metric>' as TeX, '..._raw' the
    mean, '..._sd' the spread over seeds in words where more than one seed ran ('' if not)."""
    out: dict[str, Any] = {}
    for key, e in _entries(summary).items():
        for metric in METRICS:
            v, sd, n = _value(e, metric)
            out[f"{key}_{metric}_raw"] = v
            out[f"{key}_{metric}"] = pct(v) if metric == "greedy_solved" else num(v)
            if sd is None or n < 2:
                spread = ""
            elif metric == "greedy_solved":
                spread = f" ($\\pm${100 * sd:.1f} points over {n} seeds)"
            else:
                spread = f" ($\\pm${sd:.3f} over {n} seeds)"
            out[f"{key}_{metric}_sd"] = Tex(spread)  # '' for one seed
    return out


def _seed_values(e: Entry | None, metric: str) -> list[float]:
    agg = None if e is None else e.metric(metric)
    return [] if agg is None else [v for v in agg.values if v is not None]


def above_every_seed(summary: Summary, conv: str, mlp: str, metric: str):
    """Whether every seed of the convolutional model ``conv`` scores above every seed of
    the MLP ``mlp`` on ``metric`` (a difference beyond the seeds' spread), and the numbers."""
    es = _entries(summary)
    lo, hi = _seed_values(es[conv], metric), _seed_values(es[mlp], metric)
    n = {f"{conv} {metric} lowest seed": min(lo, default=None),
         f"{mlp} {metric} highest seed": max(hi, default=None)}  # fmt: skip
    return bool(lo and hi) and min(lo) > max(hi), n


def reads_walls(summary: Summary, key: str = "sup_conv"):
    """Whether the model's detour Spearman clears the Manhattan distance's by CLEARS."""
    es = _entries(summary)
    n = {f"{key} detour": _value(es[key], "walls_detour_spearman")[0],
         "manhattan detour": _value(es["manhattan"], "walls_detour_spearman")[0]}  # fmt: skip
    known = all(v is not None for v in n.values())
    return known and n[f"{key} detour"] >= n["manhattan detour"] + CLEARS, n


def goal_met(summary: Summary, key: str = "sup_conv"):
    """The goal: full-test Spearman >= GOAL_SPEARMAN, greedy solved >= GOAL_GREEDY, and the
    detour Spearman clearing Manhattan's by CLEARS."""
    es = _entries(summary)
    reads, n = reads_walls(summary, key)
    n[f"{key} spearman_full"] = _value(es[key], "spearman_full")[0]
    n[f"{key} greedy_solved"] = _value(es[key], "greedy_solved")[0]
    known = all(v is not None for v in n.values())
    return known and reads and n[f"{key} spearman_full"] >= GOAL_SPEARMAN and (
        n[f"{key} greedy_solved"] >= GOAL_GREEDY
    ), n


def above_manhattan(summary: Summary, key: str = "sup_conv"):
    """Whether every seed of the model ranks unseen mazes above the Manhattan distance."""
    es = _entries(summary)
    seeds = _seed_values(es[key], "spearman_full")
    n = {f"{key} spearman_full lowest seed": min(seeds, default=None),
         "manhattan spearman_full": _value(es["manhattan"], "spearman_full")[0]}  # fmt: skip
    known = all(v is not None for v in n.values())
    return known and n[f"{key} spearman_full lowest seed"] > n["manhattan spearman_full"], n


def shuffle_costs(summary: Summary):
    """Whether putting another maze's walls in costs the field at least UNCHANGED of
    full-test Spearman while it costs the supervised MLP less than that (either way)."""
    es = _entries(summary)
    n = {"sup_conv drop": _value(es["sup_conv"], "drop")[0],
         "sup_mlp drop": _value(es["sup_mlp"], "drop")[0]}  # fmt: skip
    if any(v is None for v in n.values()):
        return False, n
    return n["sup_conv drop"] >= UNCHANGED and abs(n["sup_mlp drop"]) < UNCHANGED, n


def _chance(e: Entry | None) -> float | None:
    """log(batch size): the InfoNCE loss of a critic that cannot tell the candidates apart."""
    batch = None if e is None else e.config.get("batch_size")
    return math.log(batch) if batch else None


def final_loss(e: Entry | None) -> float | None:
    curve = None if e is None else e.loss
    return None if curve is None else curve.final


def encoders_shortcut(summary: Summary):
    """Whether the encoders solve their training task (final InfoNCE loss below
    SOLVED_SHARE of log(batch)) yet rank nothing (|full-test Spearman| below NEGLIGIBLE)."""
    e = _entries(summary)["con_conv"]
    n = {"con_conv final loss": final_loss(e), "chance loss log(batch)": _chance(e),
         "con_conv spearman_full": _value(e, "spearman_full")[0]}  # fmt: skip
    if any(v is None for v in n.values()):
        return False, n
    solved = n["con_conv final loss"] < SOLVED_SHARE * n["chance loss log(batch)"]
    return solved and abs(n["con_conv spearman_full"]) < NEGLIGIBLE, n


def checks() -> dict[str, Any]:
    """The section's named checks (repro.report.checks): each written sentence's claim."""
    sup = lambda m: lambda s: above_every_seed(s, "sup_conv", "sup_mlp", m)  # noqa: E731
    con = lambda m: lambda s: above_every_seed(s, "con_conv", "con_mlp", m)  # noqa: E731
    out = {
        "walls-field-above-mlp": ("every seed of the convolutional field scores a higher "
                                  "full-test Spearman in unseen mazes than every seed of the "
                                  "supervised MLP", sup("spearman_full")),
        "walls-encoders-above-mlp": ("every seed of the convolutional encoders scores a higher "
                                     "full-test Spearman than every seed of the contrastive "
                                     "MLP", con("spearman_full")),
        "walls-field-reads": (f"the field's detour Spearman clears Manhattan's by {CLEARS}",
                              reads_walls),
        "walls-encoders-read": (f"the encoders' detour Spearman clears Manhattan's by {CLEARS}",
                                lambda s: reads_walls(s, "con_conv")),
        "walls-field-above-manhattan": ("every seed of the field ranks unseen mazes above the "
                                        "Manhattan distance", above_manhattan),
        "walls-field-shuffle": (f"shuffling the walls costs the field at least {UNCHANGED} of "
                                f"full-test Spearman and the MLP less than {UNCHANGED}",
                                shuffle_costs),
        "walls-encoders-shortcut": ("the encoders' final InfoNCE loss is below "
                                    f"{SOLVED_SHARE} of log(batch) while their full-test "
                                    f"Spearman is below {NEGLIGIBLE} in size", encoders_shortcut),
        "walls-goal-met": ("the field meets the goal: full-test Spearman at least "
                           f"{GOAL_SPEARMAN}, greedy solved at least {GOAL_GREEDY:.0%}, "
                           "detour above Manhattan", goal_met),
        "walls-longer-goal": ("the field trained twice the paper's length meets the goal",
                              lambda s: goal_met(s, "sup_long")),
    }  # fmt: skip
    found = {name: Check(says, test) for name, (says, test) in out.items()}
    found |= small.checks()
    for name in TWO_WAY:  # the sentences written in either polarity
        found[f"{name}:not"] = found[name].opposite(f"not: {found[name].says}")
    return found


def claim_rows(judged: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Table rows of the claims judged on both sides (:func:`.claims.judge`)."""
    return [{"id": c["id"], "claim": c["claim"], "mlp": c["mlp"]["verdict"],
             "mlp_ours": c["mlp"]["ours"], "conv": c["conv"]["verdict"],
             "conv_ours": c["conv"]["ours"]} for c in judged]  # fmt: skip


def section(summary: Summary) -> Section | None:
    """The section after the ablations (None where the study has no results)."""
    study = study_of(summary, "walls")
    if study is None:
        return None
    held = {name: c.test(summary)[0] for name, c in checks().items() if ":" not in name}
    judged = judge(summary)
    head = _entries(summary)["sup_conv"]
    context = {
        "rows": rows(summary),
        "n": numbers(summary),
        "held": held,
        "arms": ", ".join(a for a in WALLS if a in study.arms),
        "n_arms": len(study.arms),
        "pending": ", ".join(a for a in WALLS if a not in study.arms),
        "head_seeds": counted(len(head.seeds) if head else 0, "seed"),
        "head_steps": f"{steps:,}" if (steps := head and head.config.get("steps")) else NO_VALUE,
        "claims": claim_rows(judged),
        "changed": changed(judged),
        "clears": f"{CLEARS:.1f}",
        "goal_spearman": f"{GOAL_SPEARMAN:.2f}",
        "goal_greedy": Tex(f"{100 * GOAL_GREEDY:.0f}\\%"),
        "con_loss": num(final_loss(_entries(summary)["con_conv"])),
        "chance_loss": num(_chance(_entries(summary)["con_conv"])),
        "arm": small.arm_numbers(summary),
        "fixed": small.fixed_numbers(summary),
        "longer": small.longer_numbers(summary),
        "unchanged": f"{UNCHANGED}",
    }
    return Section("sections/walls.tex.j2", "end", context, checks())


def findings(summary: Summary) -> list[str]:
    """The README's line: the headline's unseen-maze numbers beside the MLPs' and
    Manhattan's, means over seeds ([] without the headline arm)."""
    es = _entries(summary)
    if es["sup_conv"] is None or es["con_conv"] is None:
        return []
    v: dict[str, str] = {}
    for key in ("sup_conv", "con_conv", "sup_mlp", "con_mlp", "manhattan"):
        for metric, short in (("spearman_full", "full"), ("walls_detour_spearman", "detour"),
                              ("greedy_solved", "greedy")):  # fmt: skip
            x = _value(es[key], metric)[0]
            text = f"{100 * x:.1f}%" if short == "greedy" and x is not None else f"{x:.3f}"
            v[f"{key}_{short}"] = "–" if x is None else text
    seeds = counted(len(es["sup_conv"].seeds), "seed")
    return [
        f"- With convolutional trunks that see the maze (walls study, {seeds}, the paper's "
        f"training length), unseen-maze full-test Spearman: distance field {v['sup_conv_full']} "
        f"(supervised MLP {v['sup_mlp_full']}), contrastive encoders {v['con_conv_full']} "
        f"(contrastive MLP {v['con_mlp_full']}), Manhattan {v['manhattan_full']}; on detour "
        f"states {v['sup_conv_detour']} and {v['con_conv_detour']} against Manhattan's "
        f"{v['manhattan_detour']}; greedy solves {v['sup_conv_greedy']} and "
        f"{v['con_conv_greedy']} (Manhattan {v['manhattan_greedy']})."
    ]
