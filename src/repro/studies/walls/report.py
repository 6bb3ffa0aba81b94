"""The walls study's section of the report: the convolutional models beside the MLPs and
the baselines, with wall use, and the sentences that follow from those numbers."""

from __future__ import annotations

from typing import Any

from repro.report.texfmt import LABELS, NO_VALUE, Tex, num, pct
from repro.results.view import Entry, Summary
from repro.studies.arms import study_of
from repro.studies.study import Section

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
    for arm in study.arms if study else ():
        for regime in ("procedural", "fixed"):
            for name, e in study.runs(arm, regime).items():
                steps = e.config.get("steps")
                text = label(name) + ("" if regime == REGIME else " (fixed maze)")
                out.append(_row(text, e, f"{steps:,}" if steps else NO_VALUE))
    return out


def numbers(summary: Summary) -> dict[str, Any]:
    """The headline numbers the sentences quote ('..._raw' for the checks)."""
    study = study_of(summary, "walls")
    head = study.runs("headline", REGIME) if study else {}
    out: dict[str, Any] = {}
    pairs = {
        "sup_mlp": summary.run(REGIME, "supervised-normal"),
        "con_mlp": summary.run(REGIME, "contrastive-normal"),
        "sup_conv": head.get("supervised_conv-normal"),
        "con_conv": head.get("contrastive_conv-normal"),
        "manhattan": summary.run(REGIME, "manhattan"),
    }
    for key, e in pairs.items():
        for metric in ("spearman_full", "walls_detour_spearman", "greedy_solved", "drop"):
            v = _value(e, metric)[0]
            out[f"{key}_{metric}_raw"] = v
            out[f"{key}_{metric}"] = pct(v) if metric == "greedy_solved" else num(v)
    return out


def section(summary: Summary) -> Section | None:
    """The section after the ablations (None where the study has no results)."""
    study = study_of(summary, "walls")
    if study is None:
        return None
    context = {
        "rows": rows(summary),
        "n": numbers(summary),
        "arms": ", ".join(study.arms),
        "clears": f"{CLEARS:.1f}",
        "clears_raw": CLEARS,
    }
    return Section("sections/walls.tex.j2", "end", context)
