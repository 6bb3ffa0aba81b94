"""The report's data and stitching parts: what each training set lets a test measure (its
quadrant leak and the test pairs it already holds), and the stitching models on the
cross-quadrant test trajectories by band of BFS distance, leaky against strict data.

Built from the summary alone (read through :mod:`repro.results.view`): a run's data
measures are the ``data_*`` metrics of its entry, its banded Spearman the
``spearman_<half>_<band>`` ones (see :mod:`repro.evaluation.evaluate`).
"""

from __future__ import annotations

from typing import Any

from repro.config import REGIMES
from repro.core.data import TRAINING_SETS
from repro.core.overlap import BANDS, band_name
from repro.report.texfmt import LABELS, NO_VALUE, Tex, num, pct
from repro.results.view import Summary, config_name

DATA_WORDS = {
    "normal": "normal",
    "stitching": "stitching (the paper's)",
    "stitching-strict": "strict stitching",
}
DATA_KEYS = ("leak_trajectories", "leak_cells", "seen_test", "seen_test_cross", "seen_plan")
# The models of the band table: each method on each training set.
BAND_MODELS = tuple(config_name(m, d) for m in ("supervised", "contrastive") for d in TRAINING_SETS)
REGIME_WORDS = {"fixed": "fixed maze", "procedural": "procedural mazes"}


def data_value(summary: Summary, regime: str, dataset: str, key: str) -> float | None:
    """A data measure of ``dataset``'s training sets in ``regime``, mean over seeds. The
    training set of a seed is the same for both methods; the supervised run records it."""
    entry = summary.run(regime, config_name("supervised", dataset))
    return None if entry is None else entry.mean(f"data_{key}")


def data_rows(summary: Summary) -> list[dict[str, Any]]:
    """Per regime and training set: the leak and the seen shares, as percentages."""
    rows = []
    for regime in REGIMES:
        for dataset in TRAINING_SETS:
            values = {k: data_value(summary, regime, dataset, k) for k in DATA_KEYS}
            if all(v is None for v in values.values()):
                continue
            row = {"regime": REGIME_WORDS[regime], "data": DATA_WORDS[dataset]}
            rows.append(row | {k: pct(v) for k, v in values.items()})
    return rows


def data_numbers(summary: Summary) -> dict[str, Any]:
    """'<regime>_<dataset>_<key>' -> the share as a percentage, and '..._raw' the number."""
    out: dict[str, Any] = {}
    for regime in REGIMES:
        for dataset in TRAINING_SETS:
            for key in DATA_KEYS:
                v = data_value(summary, regime, dataset, key)
                name = f"{regime}_{dataset.replace('-', '_')}_{key}"
                out[name], out[f"{name}_raw"] = pct(v), v
    return out


def _mean_sd(summary: Summary, regime: str, name: str, metric: str) -> Tex:
    agg = summary.metric(regime, name, metric)
    if agg is None or agg.mean is None:
        return Tex(NO_VALUE)
    if agg.n_seeds < 2:
        return num(agg.mean, 2)
    return Tex(f"{agg.mean:.2f} $\\pm$ {agg.std:.2f}")


def band_rows(summary: Summary) -> list[dict[str, Any]]:
    """Per regime and model: the cross-quadrant Spearman per band (mean +- sd over seeds)."""
    rows = []
    for regime in REGIMES:
        for name in BAND_MODELS:
            if summary.run(regime, name) is None:
                continue
            cells = [_mean_sd(summary, regime, name, f"spearman_cross_{band_name(b)}")
                     for b in BANDS]  # fmt: skip
            row = {"regime": REGIME_WORDS[regime], "label": LABELS[name]}
            rows.append(row | {"bands": Tex(" & ".join(cells))})
    return rows


def band_counts(summary: Summary) -> dict[str, list[str]]:
    """Per regime, the cross-quadrant test trajectories in each band (seed 0's test set for
    the fixed regime is one of three; the mean over seeds is printed)."""
    out = {}
    for regime in REGIMES:
        oracle = summary.run(regime, "oracle")
        out[regime] = [
            NO_VALUE
            if oracle is None or (v := oracle.mean(f"n_cross_{band_name(b)}")) is None
            else f"{v:.0f}"
            for b in BANDS
        ]
    return out


def long_band_gap(summary: Summary, regime: str, method: str, dataset: str) -> float | None:
    """Normal-trained minus ``dataset``-trained cross-quadrant Spearman on the longest band
    (mean over seeds): what stitching data costs where it must be composed the most."""
    key = f"spearman_cross_{band_name(BANDS[-1])}"
    normal = summary.metric(regime, config_name(method, "normal"), key)
    other = summary.metric(regime, config_name(method, dataset), key)
    if normal is None or other is None or normal.mean is None or other.mean is None:
        return None
    return normal.mean - other.mean


def stitching_context(summary: Summary) -> dict[str, Any]:
    """Everything the template's data and stitching paragraphs print."""
    gaps = {
        f"{regime}_{method}_{dataset.replace('-', '_')}": long_band_gap(
            summary, regime, method, dataset
        )
        for regime in REGIMES
        for method in ("supervised", "contrastive")
        for dataset in TRAINING_SETS[1:]
    }
    return {
        "data": data_rows(summary),
        "d": data_numbers(summary),
        "bands": Tex(" & ".join(band_name(b) for b in BANDS)),
        "band_rows": band_rows(summary),
        "band_n": band_counts(summary),
        "gap": {k: num(v, 2) for k, v in gaps.items()},
        "gap_raw": gaps,
        "ran": any(summary.run(r, BAND_MODELS[2]) is not None for r in REGIMES),
    }
