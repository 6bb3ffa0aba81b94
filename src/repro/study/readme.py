"""Keep the README's numbers generated: the headline table and the performance figures.

Sections between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` markers are
rewritten from results files (never typed in); the rest of the README is prose.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from repro.config import CONFIGS
from repro.errors import BadInput
from repro.io import atomic_write_text
from repro.paths import PROJECT

README = PROJECT / "README.md"


def replace_section(text: str, name: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
    if not pattern.search(text):
        raise BadInput(f"README has no <!-- {name}:start/end --> markers")
    return pattern.sub(lambda m: m.group(1) + body.rstrip("\n") + "\n" + m.group(2), text)


def _f(agg: dict | None, digits: int = 3, pct: bool = False) -> str:
    if agg is None or agg.get("mean") is None:
        return "–"
    v = agg["mean"] * (100 if pct else 1)
    s = f"{v:.{1 if pct else digits}f}"
    if len([x for x in agg["values"] if x is not None]) > 1:
        s += f" ± {agg['std'] * (100 if pct else 1):.{1 if pct else digits}f}"
    return s + ("%" if pct else "")


def headline(summary: dict[str, Any], timings: dict[str, Any] | None) -> str:
    """The paper-vs-ours table (Spearman, greedy solved, search expanded), per regime."""
    lines = [
        f"Mean ± sd over {len(summary['seeds'])} seeds; paper = its Tables 2-3 (one run). "
        "Spearman: the paper's 10-trajectory protocol / our full test set.",
        "",
        "| model | data | paper Spearman | fixed maze | procedural mazes "
        "| paper greedy solved | fixed | procedural | paper search expanded | fixed | procedural |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in CONFIGS:
        method, data = name.split("-")
        p = summary["paper"]["results"][name]
        cells = [method, data, f"{p['spearman']:.3f}"]
        runs = {r: summary["runs"].get(r, {}).get(name) for r in ("fixed", "procedural")}
        for r in ("fixed", "procedural"):
            m = runs[r]["metrics"] if runs[r] else {}
            cells.append(f"{_f(m.get('spearman_paper'))} / {_f(m.get('spearman_full'))}")
        cells.append(f"{100 * p['greedy_solved']:.1f}%")
        for r in ("fixed", "procedural"):
            cells.append(_f((runs[r] or {"metrics": {}})["metrics"].get("greedy_solved"), pct=True))
        cells.append(f"{p['search_expanded']:.1f}")
        for r in ("fixed", "procedural"):
            cells.append(_f((runs[r] or {"metrics": {}})["metrics"].get("search_expanded"), 1))
        lines.append("| " + " | ".join(cells) + " |")
    verdicts = "; ".join(
        f"{c['id']} " + ", ".join(f"{r} {v['verdict']}" for r, v in c["regimes"].items())
        for c in summary["claims"]
    )
    lines += [
        "",
        f"Claims (report, Table 4): {verdicts}.",
        "",
        "![Heatmaps: BFS truth and the four models](results/figures/fig2_heatmaps.png)",
    ]
    full = (timings or {}).get("full_run")
    if full:
        st = full["stages_s"]
        ablations = st.get("ablations", 0.0)
        lines += [
            "",
            f"A paper-scale `nox -s reproduce` from an empty cache took {st['total'] / 60:.1f} "
            f"min on this machine (2 CPU cores): training the {len(summary['seeds']) * 8} "
            f"paper-setting runs {st['train'] / 60:.1f} min, evaluating them "
            f"{st['evaluate'] / 60:.1f} min, the ablations (training and evaluation) "
            f"{ablations / 60:.1f} min, so {(st['total'] - ablations) / 60:.1f} min without the "
            "ablations (stage times in `results/timings.json`). A second run redoes nothing; "
            "a fresh clone retrains, since weights are not committed.",
        ]
    return "\n".join(lines)


def performance(bench: dict[str, Any]) -> str:
    rows = [
        "| method / regime | ours (samples/s) | reference (samples/s) | speed-up "
        "| step / dense matmul |",
        "|---|---|---|---|---|",
    ]
    for key, r in bench["training"].items():
        rows.append(
            f"| {key} | {r['ours_samples_per_s']:.0f} | {r['reference_samples_per_s']:.0f}"
            f" | {r['speedup_vs_reference']:.2f}x | {r['step_over_dense_matmul']:.2f}x |"
        )
    ev = bench["evaluation"]
    rows += [
        "",
        f"Planning 400 instances in both modes with a model's heuristic maps: "
        f"{ev['planning_400_both_modes_model_s']:.2f} s; full-test-set Spearman: "
        f"{ev['spearman_full_test_set_s']:.2f} s; building a paper-scale dataset: "
        f"{ev['dataset_build_4000_procedural_s']:.2f} s; peak RSS of a paper-scale training "
        f"run: {bench['peak_training_rss_mb']:.0f} MB. Measured by `nox -s bench` "
        "(medians of several windows, one process, one thread); see `results/bench.json`.",
        "The reference is the same model and loss trained the common way (a `Dataset` encoding "
        "one one-hot sample per `__getitem__`, a `DataLoader`, a dense first layer, default "
        "Adam); the last column compares our step with the dense model's matrix products "
        "alone.",
    ]
    return "\n".join(rows)


def update(name: str, body: str, path: Path = README) -> None:
    atomic_write_text(path, replace_section(path.read_text(encoding="utf-8"), name, body))
