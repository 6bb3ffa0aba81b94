"""The report's ablation section: tables and data-dependent sentences.

Built from the summary alone (read through :mod:`repro.results.view`), like the
rest of the report. Each ablation variant ran with the seeds in
``Summary.ablation_seeds`` (three at paper scale); it is compared with its
paper-setting configuration on the *same* seeds, paired by seed: a difference counts as
real only when the 95% Student-t interval of the mean paired difference excludes zero
(:func:`change`, :func:`measurable`; with a single seed, only when it exceeds the paper
setting's spread over its seeds, :func:`noise`), so the sentences never read a
seed-to-seed wobble as an effect.
"""

from __future__ import annotations

from typing import Any

from repro.config import CONFIGS, REGIMES, RunConfig
from repro.core.heuristics import BASELINES
from repro.core.maze import HALVES
from repro.core.metrics import paired_difference
from repro.report.texfmt import LABELS, NO_VALUE, Tex, counted, num, pct, seed_list
from repro.results.view import Entry, Summary

REGIME_WORDS = {"fixed": "fixed maze", "procedural": "procedural mazes"}
TABLE_METRICS = (  # (metric, formatter) of the ablation tables
    ("spearman_paper", num),
    ("spearman_full", num),
    ("all_pairs", num),
    ("search_expanded", lambda v: num(v, 1)),
    ("greedy_solved", pct),
)
SETTLED = 0.02  # a ranking "has settled" when no configuration's Spearman moves by more
BASE_DIRECTION = "contrastive-normal"  # the paper-setting run the direction study varies
BASE_LABEL = "backward, repeat 1"  # its InfoNCE direction and repeat, as the table names them
RANKING = ("spearman_full", "all_pairs")  # the two rank correlations the sentences compare


def on_seeds(entry: Entry | None, metric: str, seeds: Any) -> float | None:
    """Mean of ``metric`` over the entry's runs with seeds in ``seeds`` (None if none)."""
    return None if entry is None else entry.on_seeds(metric, seeds)


def noise(summary: Summary, regime: str, config: str, metric: str) -> float:
    """The spread (max - min) of ``metric`` over the configuration's seeds; 0 for one seed."""
    agg = summary.metric(regime, config, metric)
    return 0.0 if agg is None else agg.spread()


def measurable(new: list, old: list, spread: float) -> int:
    """+1 / -1 where the variant is measurably above / below the paper setting, 0 where it
    is not (or nothing was measured). new, old: the variant's and the paper setting's values
    on the same seeds (None where one was not measured). With two or more seeds a change
    needs a 95% Student-t interval of the mean paired difference that excludes 0; with one
    seed it must exceed ``spread``, the paper setting's spread over all its seeds."""
    pairs = [(n, o) for n, o in zip(new, old, strict=True) if n is not None and o is not None]
    if not pairs:
        return 0
    d, low, high = paired_difference([n for n, _ in pairs], [o for _, o in pairs])
    if len(pairs) > 1:
        return 1 if low > 0 else (-1 if high < 0 else 0)
    return 1 if d > spread else (-1 if -d > spread else 0)


def per_seed(summary: Summary, regime: str, run: str, metric: str) -> list[float | None]:
    """``metric`` of ``run`` on each ablation seed (None where it did not run)."""
    entry = summary.run(regime, run)
    return [None if entry is None else entry.at_seed(metric, s) for s in summary.ablation_seeds]


def _row(summary: Summary, regime: str, run: str, label: str) -> dict:
    """One table row: the run's table metrics on the ablation seeds."""
    entry = summary.run(regime, run)
    row: dict[str, Any] = {"label": label, "regime": REGIME_WORDS[regime]}
    for metric, fmt in TABLE_METRICS:
        row[metric] = fmt(on_seeds(entry, metric, summary.ablation_seeds))
    return row


def gamma_rows(summary: Summary) -> list[dict]:
    """Table rows: gamma 0.90 and the variant's, per regime and configuration."""
    rows = []
    for study in summary.studies("gamma"):
        config, gamma = study.config, study.sets["gamma"]
        for regime in REGIMES:
            rows.append(_row(summary, regime, config, f"{LABELS[config]}, $\\gamma$ 0.90"))
            rows.append(
                _row(summary, regime, study.run, f"{LABELS[config]}, $\\gamma$ {gamma:.2f}")
            )
    for r in rows:
        r["label"] = Tex(r["label"])
    return rows


def _direction_label(sets: dict) -> str:
    return f"{sets.get('direction', 'backward')}, repeat {sets.get('repeat', 1)}"


def direction_key(regime: str, sets: dict) -> str:
    """'direction_<regime>_<direction>_<repeat>': where the template finds a variant's paired
    differences (:func:`repro.report.ablation_facts.short`)."""
    return f"direction_{regime}_{sets.get('direction', 'backward')}_{sets.get('repeat', 1)}"


def direction_rows(summary: Summary) -> list[dict]:
    """Rows of the direction x repeat table, the paper setting first in each regime (its
    'key' None: it is what the others differ from)."""
    rows = []
    for regime in REGIMES:
        rows.append({**_row(summary, regime, BASE_DIRECTION, BASE_LABEL), "key": None})
        for study in summary.studies("direction"):
            row = _row(summary, regime, study.run, _direction_label(study.sets))
            rows.append({**row, "key": direction_key(regime, study.sets)})
    return rows


def _head_table(summary: Summary) -> tuple[list[dict], dict[tuple[str, str], float | None]]:
    """Regression and classification rows with their integer gap and roughness, and the gap
    per (regime, head)."""
    seeds = summary.ablation_seeds
    rows, gaps = [], {}
    for study in summary.studies("head"):
        for regime in REGIMES:
            for run, label in ((study.config, "regression"), (study.run, "classification")):
                entry = summary.run(regime, run)
                row = _row(summary, regime, run, label)
                gaps[(regime, label)] = gap = on_seeds(entry, "integer_gap", seeds)
                row["integer_gap"] = num(gap)
                row["roughness"] = num(on_seeds(entry, "roughness", seeds))
                rows.append(row)
    return rows, gaps


def head_rows(summary: Summary) -> tuple[list[dict], dict[str, Any]]:
    """Regression vs classification rows, and whether classification discretizes the maps."""
    rows, gaps = _head_table(summary)
    facts: dict[str, Any] = {}
    for regime in REGIMES:
        r, c = gaps.get((regime, "regression")), gaps.get((regime, "classification"))
        facts[regime] = {
            "regression": num(r),
            "classification": num(c),
            # "Sharply discretized": predictions close to whole steps (a uniform spread of
            # fractional parts gives 0.25) and clearly closer than the regression's.
            "discretized": c is not None and r is not None and c < 0.1 and c < r / 2,
        }
    return rows, facts


def _step_label(step: int) -> str:
    """20000 -> '20k'; a step count that is not whole thousands stays as it is."""
    return f"{step // 1000}k" if step >= 1000 and step % 1000 == 0 else str(step)


def _length_rows(summary: Summary) -> tuple[list[dict], tuple[int, ...], tuple[float, str, str]]:
    """Per paper configuration and regime, the Spearman and greedy rate at each snapshot; the
    snapshot steps; and the largest change of the Spearman over the last interval, where."""
    rows, steps = [], ()
    biggest = (0.0, "", "")
    for regime in REGIMES:
        for config in CONFIGS:
            entry = summary.run(regime, config)
            tl = None if entry is None else entry.training_length
            sp, gr = (
                (None, None)
                if tl is None
                else (tl.means("spearman_full"), tl.means("greedy_solved"))
            )
            if sp is None or gr is None:
                continue
            steps = steps or tl.steps
            label, where = LABELS[config], REGIME_WORDS[regime]
            rows.append(
                {
                    "label": label,
                    "regime": where,
                    "spearman": [num(v) for v in sp],
                    "greedy": [pct(v) for v in gr],
                }
            )
            if len(sp) >= 2 and sp[-1] is not None and sp[-2] is not None:
                d = sp[-1] - sp[-2]
                if abs(d) >= abs(biggest[0]):
                    biggest = (d, label, where)
    return rows, steps, biggest


def length_table(summary: Summary) -> dict[str, Any]:
    """Spearman and greedy solved rate of every paper configuration at each snapshot."""
    rows, steps, (change_, label, where) = _length_rows(summary)
    return {
        "rows": rows,
        "steps": [_step_label(s) for s in steps],
        "n_steps": len(steps),
        "last_change": num(change_),
        "last_change_abs": num(abs(change_)),
        "last_change_where": f"{label}, {where}" if label else "none",
        "last_two": [f"{s:,}" for s in steps[-2:]],
        "settled": abs(change_) <= SETTLED,
        "settled_bar": f"{SETTLED:.2f}",
    }


def quadrant_rows(summary: Summary) -> list[dict]:
    """Every model and baseline on same-quadrant and on cross-quadrant pairs."""
    rows = []
    for regime in REGIMES:
        for name in (*CONFIGS, *BASELINES):
            entry = summary.run(regime, name)
            if entry is None:
                continue
            row = {"label": LABELS[name], "regime": REGIME_WORDS[regime]}
            for half in HALVES:
                row[half] = {
                    "spearman": num(entry.mean(f"spearman_full_{half}")),
                    "greedy": pct(entry.mean(f"greedy_solved_{half}")),
                    "expanded": num(entry.mean(f"search_expanded_{half}"), 1),
                }
            rows.append(row)
    return rows


def quadrant_counts(summary: Summary) -> dict[str, dict[str, str]]:
    """How many test trajectories and planning instances fall in each half, per regime."""
    out = {}
    keys = [f"{kind}_{half}" for kind in ("test", "plan") for half in HALVES]
    for regime in REGIMES:
        oracle = summary.run(regime, "oracle")  # any baseline: they all see the same pairs
        out[regime] = {
            k: NO_VALUE if oracle is None else f"{oracle.mean(f'n_{k}'):.0f}" for k in keys
        }
    return out


def ablation_context(summary: Summary) -> dict[str, Any]:
    """Everything the template's ablation section prints."""
    gamma = gamma_rows(summary)
    gammas = sorted({RunConfig().gamma} | {s.sets["gamma"] for s in summary.studies("gamma")})
    head, head_facts = head_rows(summary)
    seeds = summary.ablation_seeds
    n_entries = summary.n_ablation_entries()
    return {
        "ran": n_entries > 0,
        "n_seeds": str(len(seeds)),
        "n_runs": str(n_entries * max(1, len(seeds))),
        "seeds": ", ".join(str(s) for s in seeds),
        "seed_list": seed_list(seeds),  # 'seeds 0, 1 and 2'
        "n_seeds_text": counted(len(seeds), "seed"),
        "gamma": gamma,
        "base_label": BASE_LABEL,
        # The mean of k ~ Geometric(1 - gamma) on {1, 2, ...} is 1 / (1 - gamma).
        "gamma_offsets": ", ".join(f"{1 / (1 - g):.0f} steps for {g:.2f}" for g in gammas),
        "direction": direction_rows(summary),
        "head": head,
        "head_facts": head_facts,
        "length": length_table(summary),
        "quadrant": quadrant_rows(summary),
        "quadrant_n": quadrant_counts(summary),
    }
