"""The report's ablation section (issue 8): tables and data-dependent sentences.

Built from ``summary.json`` alone, like the rest of the report. Each ablation
variant ran with the seeds in ``summary["ablation_seeds"]`` (one at paper
scale); it is compared with its paper-setting configuration on the *same*
seeds, and a difference counts as real only when it exceeds the spread of
that configuration over all its seeds (``noise``), so the sentences never
read a seed-to-seed wobble as an effect.
"""

from __future__ import annotations

from typing import Any

from repro.config import RunConfig
from repro.study.report import CONFIGS, LABELS, Tex, num, pct

REGIMES = ("fixed", "procedural")
REGIME_WORDS = {"fixed": "fixed maze", "procedural": "procedural mazes"}
TABLE_METRICS = (  # (metric, formatter) of the ablation tables
    ("spearman_paper", num),
    ("spearman_full", num),
    ("all_pairs", num),
    ("search_expanded", lambda v: num(v, 1)),
    ("greedy_solved", pct),
)


def _entry(summary: dict, regime: str, run: str) -> dict | None:
    """A paper configuration's or an ablation variant's aggregate entry (None if not run)."""
    entry = summary["runs"].get(regime, {}).get(run)
    if entry is None:
        entry = summary["ablations"]["runs"].get(regime, {}).get(run)
    return entry


def on_seeds(entry: dict | None, metric: str, seeds: list[int]) -> float | None:
    """Mean of ``metric`` over the entry's runs with seeds in ``seeds`` (None if none)."""
    if entry is None:
        return None
    agg = entry["metrics"][metric]
    vals = [
        v
        for s, v in zip(entry["seeds"], agg["values"], strict=True)
        if s in seeds and v is not None
    ]
    return sum(vals) / len(vals) if vals else None


def noise(summary: dict, regime: str, config: str, metric: str) -> float:
    """The spread (max - min) of ``metric`` over the configuration's seeds; 0 for one seed."""
    entry = summary["runs"].get(regime, {}).get(config)
    if entry is None or entry["metrics"][metric]["mean"] is None:
        return 0.0
    agg = entry["metrics"][metric]
    return float(agg["max"] - agg["min"])


def change(new: float | None, old: float | None, spread: float, what: str) -> str:
    """'rises from a to b', 'falls ...' or 'stays at ...' (within the seed spread)."""
    if new is None or old is None:
        return f"{what} was not measured"
    if abs(new - old) <= spread:
        return f"{what} stays within the seed spread ({old:.3f} to {new:.3f})"
    verb = "rises" if new > old else "falls"
    return f"{what} {verb} from {old:.3f} to {new:.3f}"


def _row(summary: dict, regime: str, run: str, seeds: list[int], label: str) -> dict:
    entry = _entry(summary, regime, run)
    row: dict[str, Any] = {"label": label, "regime": REGIME_WORDS[regime]}
    for metric, fmt in TABLE_METRICS:
        row[metric] = fmt(on_seeds(entry, metric, seeds))
    return row


def gamma_rows(summary: dict) -> tuple[list[dict], list[str]]:
    """Table rows (gamma 0.90 and 0.98 per regime and dataset) and one sentence per pair."""
    seeds = summary["ablation_seeds"]
    rows, sentences = [], []
    for study in summary["ablations"]["studies"].get("gamma", []):
        config, run, gamma = study["config"], study["run"], study["sets"]["gamma"]
        for regime in REGIMES:
            base = _row(summary, regime, config, seeds, f"{LABELS[config]}, $\\gamma$ 0.90")
            var = _row(summary, regime, run, seeds, f"{LABELS[config]}, $\\gamma$ {gamma:.2f}")
            rows += [base, var]
            old = on_seeds(_entry(summary, regime, config), "spearman_full", seeds)
            new = on_seeds(_entry(summary, regime, run), "spearman_full", seeds)
            spread = noise(summary, regime, config, "spearman_full")
            sentences.append(
                f"{LABELS[config]} ({REGIME_WORDS[regime]}): "
                + change(new, old, spread, "the full-test Spearman")
                + "."
            )
    for r in rows:
        r["label"] = Tex(r["label"])
    return rows, sentences


def _direction_label(sets: dict) -> str:
    return f"{sets.get('direction', 'backward')}, repeat {sets.get('repeat', 1)}"


def direction_sentence(regime: str, sets: dict, base: dict, var: dict, spread: dict) -> str:
    """What one direction/repeat variant shows against backward InfoNCE with repeat 1."""
    direction, repeat = sets.get("direction", "backward"), sets.get("repeat", 1)
    parts = [
        change(var["spearman_full"], base["spearman_full"], spread["spearman_full"], "Spearman"),
        change(var["all_pairs"], base["all_pairs"], spread["all_pairs"], "all-pairs"),
    ]
    text = "; ".join(parts) + "."
    known = var["spearman_full"] is not None and base["spearman_full"] is not None
    delta = var["spearman_full"] - base["spearman_full"] if known else 0.0
    gain, loss = delta > spread["spearman_full"], -delta > spread["spearman_full"]
    if repeat > 1 and regime == "procedural":
        text += (
            " Same-maze negatives take away the walls shortcut and the model learns to rank."
            if gain
            else " Same-maze negatives alone do not make it rank states in unseen mazes."
        )
    if direction == "forward":
        text += (
            " A softmax over goals leaves each state its own offset, and here that spoils the"
            " order of states for one goal."
            if loss
            else " The per-state offsets a softmax over goals allows do not spoil the order here."
        )
    if direction == "symmetric" and var["all_pairs"] is not None and base["all_pairs"] is not None:
        if var["all_pairs"] - base["all_pairs"] > spread["all_pairs"]:
            text += " The second softmax ties goals together, so distances compare across goals."
    return text


def direction_rows(summary: dict) -> list[dict]:
    """Rows of the direction x repeat table, the baseline first in each regime."""
    seeds = summary["ablation_seeds"]
    studies = summary["ablations"]["studies"].get("direction", [])
    rows = []
    for regime in REGIMES:
        base_entry = _entry(summary, regime, "contrastive-normal")
        base = {m: on_seeds(base_entry, m, seeds) for m in ("spearman_full", "all_pairs")}
        spread = {m: noise(summary, regime, "contrastive-normal", m) for m in base}
        row = _row(summary, regime, "contrastive-normal", seeds, "backward, repeat 1")
        row["sentence"] = (
            "The paper-setting model (backward InfoNCE, one pair per trajectory), for comparison; "
            f"its full-test Spearman spreads by {spread['spearman_full']:.3f} over "
            f"{len((base_entry or {}).get('seeds', []))} seeds."
        )
        rows.append(row)
        for study in studies:
            entry = _entry(summary, regime, study["run"])
            var = {m: on_seeds(entry, m, seeds) for m in base}
            row = _row(summary, regime, study["run"], seeds, _direction_label(study["sets"]))
            row["sentence"] = (
                direction_sentence(regime, study["sets"], base, var, spread)
                if entry is not None
                else "Not run."
            )
            rows.append(row)
    return rows


def best_variants(summary: dict) -> dict[str, dict[str, str]]:
    """Per regime, the direction/repeat row with the highest full-test Spearman and the one
    with the highest all-pairs correlation (paper setting included), for the text."""
    seeds = summary["ablation_seeds"]
    studies = summary["ablations"]["studies"].get("direction", [])
    out = {}
    for regime in REGIMES:
        rows = [("backward, repeat 1", "contrastive-normal")]
        rows += [(_direction_label(s["sets"]), s["run"]) for s in studies]
        values = {
            m: [(on_seeds(_entry(summary, regime, run), m, seeds), label) for label, run in rows]
            for m in ("spearman_full", "all_pairs")
        }
        out[regime] = {}
        for m, pairs in values.items():
            known = [(v, label) for v, label in pairs if v is not None]
            v, label = max(known) if known else (None, "none")
            out[regime][m] = {"label": label, "value": num(v)}
        base = values["spearman_full"][0][0]
        out[regime]["base_spearman"] = num(base)
        out[regime]["base_all_pairs"] = num(values["all_pairs"][0][0])
    return out


def head_rows(summary: dict) -> tuple[list[dict], dict[str, Any]]:
    """Regression vs classification rows, and whether classification discretizes the maps."""
    seeds = summary["ablation_seeds"]
    rows, gaps = [], {}
    for study in summary["ablations"]["studies"].get("head", []):
        for regime in REGIMES:
            for run, label in ((study["config"], "regression"), (study["run"], "classification")):
                entry = _entry(summary, regime, run)
                row = _row(summary, regime, run, seeds, label)
                gap = on_seeds(entry, "integer_gap", seeds)
                row["integer_gap"] = num(gap)
                row["roughness"] = num(on_seeds(entry, "roughness", seeds))
                gaps[(regime, label)] = gap
                rows.append(row)
    facts: dict[str, Any] = {}
    runs = [(s["config"], s["run"]) for s in summary["ablations"]["studies"].get("head", [])]
    for regime in REGIMES:
        r, c = gaps.get((regime, "regression")), gaps.get((regime, "classification"))
        ranking = "the full-test Spearman was not measured"
        if runs:
            old = on_seeds(_entry(summary, regime, runs[0][0]), "spearman_full", seeds)
            new = on_seeds(_entry(summary, regime, runs[0][1]), "spearman_full", seeds)
            spread = noise(summary, regime, runs[0][0], "spearman_full")
            ranking = change(new, old, spread, "the full-test Spearman")
        facts[regime] = {
            "ranking": ranking,
            "regression": num(r),
            "classification": num(c),
            # "Sharply discretized": predictions close to whole steps (a uniform spread of
            # fractional parts gives 0.25) and clearly closer than the regression's.
            "discretized": c is not None and r is not None and c < 0.1 and c < r / 2,
        }
    return rows, facts


def length_table(summary: dict) -> dict[str, Any]:
    """Spearman and greedy solved rate of every paper configuration at each snapshot."""
    rows, steps = [], None
    biggest = (0.0, "", "")
    for regime in REGIMES:
        for config in CONFIGS:
            entry = summary["runs"].get(regime, {}).get(config)
            if entry is None or "training_length" not in entry:
                continue
            tl = entry["training_length"]
            steps = steps or tl["steps"]
            sp = [a["mean"] for a in tl["metrics"]["spearman_full"]]
            gr = [a["mean"] for a in tl["metrics"]["greedy_solved"]]
            rows.append(
                {
                    "label": LABELS[config],
                    "regime": REGIME_WORDS[regime],
                    "spearman": [num(v) for v in sp],
                    "greedy": [pct(v) for v in gr],
                }
            )
            if len(sp) >= 2 and sp[-1] is not None and sp[-2] is not None:
                d = sp[-1] - sp[-2]
                if abs(d) >= abs(biggest[0]):
                    biggest = (d, LABELS[config], REGIME_WORDS[regime])
    steps = steps or []
    return {
        "rows": rows,
        "steps": [f"{s // 1000}k" if s >= 1000 and s % 1000 == 0 else str(s) for s in steps],
        "n_steps": len(steps),
        "last_change": num(biggest[0]),
        "last_change_abs": num(abs(biggest[0])),
        "last_change_where": f"{biggest[1]}, {biggest[2]}" if biggest[1] else "none",
        "last_two": [f"{s:,}" for s in steps[-2:]],
        "settled": abs(biggest[0]) <= 0.02,
    }


def quadrant_rows(summary: dict) -> list[dict]:
    """Every model and baseline on same-quadrant and on cross-quadrant pairs."""
    rows = []
    for regime in REGIMES:
        names = [*CONFIGS, "oracle", "manhattan", "constant"]
        for name in names:
            entry = summary["runs"].get(regime, {}).get(name) or summary["baselines"].get(
                regime, {}
            ).get(name)
            if entry is None:
                continue
            m = entry["metrics"]
            row = {"label": LABELS[name], "regime": REGIME_WORDS[regime]}
            for half in ("same", "cross"):
                row[half] = {
                    "spearman": num(m[f"spearman_full_{half}"]["mean"]),
                    "greedy": pct(m[f"greedy_solved_{half}"]["mean"]),
                    "expanded": num(m[f"search_expanded_{half}"]["mean"], 1),
                }
            rows.append(row)
    return rows


def quadrant_counts(summary: dict) -> dict[str, dict[str, str]]:
    """How many test trajectories and planning instances fall in each half, per regime."""
    out = {}
    for regime in REGIMES:
        entry = summary["baselines"].get(regime, {}).get("oracle")
        if entry is None:
            out[regime] = {k: "--" for k in ("test_same", "test_cross", "plan_same", "plan_cross")}
            continue
        m = entry["metrics"]
        out[regime] = {
            f"{kind}_{half}": f"{m[f'n_{kind}_{half}']['mean']:.0f}"
            for kind in ("test", "plan")
            for half in ("same", "cross")
        }
    return out


def ablation_context(summary: dict) -> dict[str, Any]:
    """Everything the template's ablation section prints."""
    gamma, gamma_text = gamma_rows(summary)
    gammas = sorted(
        {RunConfig().gamma}
        | {s["sets"]["gamma"] for s in summary["ablations"]["studies"].get("gamma", [])}
    )
    head, head_facts = head_rows(summary)
    seeds = summary.get("ablation_seeds", [])
    return {
        "ran": bool(summary["ablations"]["runs"]),
        "n_seeds": str(len(seeds)),
        "n_runs": str(
            sum(len(r) for r in summary["ablations"]["runs"].values()) * max(1, len(seeds))
        ),
        "seeds": ", ".join(str(s) for s in seeds),
        "gamma": gamma,
        "gamma_text": gamma_text,
        # The mean of k ~ Geometric(1 - gamma) on {1, 2, ...} is 1 / (1 - gamma).
        "gamma_offsets": ", ".join(f"{1 / (1 - g):.0f} steps for {g:.2f}" for g in gammas),
        "direction": direction_rows(summary),
        "best": best_variants(summary),
        "head": head,
        "head_facts": head_facts,
        "length": length_table(summary),
        "quadrant": quadrant_rows(summary),
        "quadrant_n": quadrant_counts(summary),
    }
