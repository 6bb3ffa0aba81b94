"""Keep the README's numbers generated: the headline table and the performance figures.

Sections between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` markers are
rewritten from results files (never typed in); the rest of the README (and of
``docs/performance.md``) is prose. A file whose block already reads the same is not
written at all, so a rerun with unchanged numbers leaves the git tree clean.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from repro.config import CONFIGS, REGIMES
from repro.errors import BadInput
from repro.io import atomic_write_text
from repro.paths import readme_file, work_dir
from repro.results.claims import GATE_RULE, SEED_RULE
from repro.results.view import Aggregate, Summary, as_summary

HEADLINE_HEADER = (
    "| model | data | paper Spearman | fixed maze | procedural mazes "
    "| paper greedy solved (as printed) | fixed | procedural "
    "| paper search expanded | fixed | procedural |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
)


def replace_section(text: str, name: str, body: str) -> str:
    """``text`` with the lines between ``<!-- name:start -->`` and ``<!-- name:end -->``
    replaced by ``body``; BadInput if the markers are missing."""
    pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
    if not pattern.search(text):
        raise BadInput(f"README has no <!-- {name}:start/end --> markers")
    return pattern.sub(lambda m: m.group(1) + body.rstrip("\n") + "\n" + m.group(2), text)


def _f(agg: Aggregate | None, digits: int = 3, pct: bool = False) -> str:
    """'mean ± sd' over seeds (sd only for several seeds), as a percentage if ``pct``."""
    if agg is None or agg.mean is None:
        return "–"
    scale, digits = (100, 1) if pct else (1, digits)
    s = f"{agg.mean * scale:.{digits}f}"
    if agg.n_seeds > 1:
        s += f" ± {agg.std * scale:.{digits}f}"
    return s + ("%" if pct else "")


def _per_regime(summary: Summary, name: str, key: str, **fmt: Any) -> list[str]:
    """Our ``key`` of configuration ``name`` in each regime, formatted by :func:`_f`."""
    return [_f(summary.metric(regime, name, key), **fmt) for regime in REGIMES]


def _headline_row(summary: Summary, name: str) -> str:
    """One configuration: the paper's number, then ours per regime, for three metrics."""
    method, data = name.split("-")
    protocol = _per_regime(summary, name, "spearman_paper")
    full = _per_regime(summary, name, "spearman_full")
    return (
        "| "
        + " | ".join(
            [
                method,
                data,
                summary.paper_printed(name, "spearman") or "--",
                *(f"{p} / {f}" for p, f in zip(protocol, full, strict=True)),
                summary.paper_printed(name, "greedy_solved") or "--",
                *_per_regime(summary, name, "greedy_solved", pct=True),
                summary.paper_printed(name, "search_expanded") or "--",
                *_per_regime(summary, name, "search_expanded", digits=1),
            ]
        )
        + " |"
    )


def _timing_sentence(
    summary: Summary,
    stages: Mapping[str, float],
    on_request: Sequence[str] = (),
    n_runs: int | None = None,
) -> str:
    """How long a from-scratch paper-scale reproduce took, stage by stage (seconds in); the
    studies run on request (``on_request``) are left out of the total. ``n_runs``: the runs
    that reproduce trained, as its record says; a record older than that count (before the
    strict-stitching pair joined the paper's four) is named as such."""
    ablations = stages.get("ablations", 0.0)
    total = stages["total"] - sum(stages.get(name, 0.0) for name in on_request)
    what = (
        f"the {n_runs} runs (the paper's four configurations and the strict-stitching pair)"
        if n_runs is not None
        else "its runs (an older run: the paper's four configurations only)"
    )
    return (
        f"A paper-scale `nox -s reproduce` from an empty cache took {total / 60:.1f} "
        f"min on this machine (2 CPU cores): training {what} "
        f"{stages['train'] / 60:.1f} min, evaluating them "
        f"{stages['evaluate'] / 60:.1f} min, the ablations (training and evaluation) "
        f"{ablations / 60:.1f} min, so {(total - ablations) / 60:.1f} min without the "
        "ablations (stage times in `results/timings.json`). A second run redoes nothing; "
        "a fresh clone retrains, since weights are not committed."
    )


def _range(values: list[float | None], fmt: str) -> str:
    """'lo to hi' of the values that exist (one value alone; '–' for none)."""
    found = sorted(v for v in values if v is not None)
    if not found:
        return "–"
    lo, hi = (format(v, fmt) for v in (found[0], found[-1]))
    return lo if lo == hi else f"{lo} to {hi}"


def _means(view: Summary, regime: str, key: str) -> list[float | None]:
    """The four configurations' means of ``key`` in ``regime``."""
    return [None if (a := view.metric(regime, name, key)) is None else a.mean for name in CONFIGS]


def _baseline(view: Summary, regime: str, kind: str, key: str, fmt: str) -> str:
    agg = view.metric(regime, kind, key)
    return "–" if agg is None or agg.mean is None else format(agg.mean, fmt)


def findings(view: Summary) -> list[str]:
    """What the study found, as numbers side by side (no verdict words: those are the
    report's, each checked): per regime, the four models' Spearman and greedy solved rates
    beside the paper's and the baselines'."""
    paper = [view.paper_value(name, "spearman") for name in CONFIGS]
    paper_greedy = [view.paper_value(name, "greedy_solved") for name in CONFIGS]
    lines = []
    for regime, where in (("fixed", "In one fixed maze"), ("procedural", "On unseen mazes")):
        if not view.configs(regime):
            continue
        lines.append(
            f"- {where} at the paper's training length, the four models' full-test Spearman "
            f"means lie at {_range(_means(view, regime, 'spearman_full'), '.3f')} (the "
            f"paper, on 10 test trajectories: {_range(paper, '.3f')}) and greedy descent solves "
            f"{_range(_means(view, regime, 'greedy_solved'), '.1%')} of the planning "
            f"instances (the paper: {_range(paper_greedy, '.1%')}; the constant heuristic "
            f"{_baseline(view, regime, 'constant', 'greedy_solved', '.1%')}, the Manhattan "
            f"distance {_baseline(view, regime, 'manhattan', 'greedy_solved', '.1%')})."
        )
    lines += _data_findings(view)
    return lines


def _mean(view: Summary, regime: str, name: str, key: str) -> float | None:
    agg = view.metric(regime, name, key)
    return None if agg is None else agg.mean


def _fmt(x: float | None, fmt: str) -> str:
    return "–" if x is None else format(x, fmt)


def _data_findings(view: Summary) -> list[str]:
    """What the training data shows the model, and the stitching and wall-use measurements,
    as numbers (where the summary holds them)."""
    seen = _mean(view, "fixed", "supervised-normal", "data_seen_test")
    leak_f = _mean(view, "fixed", "supervised-stitching", "data_leak_trajectories")
    leak_p = _mean(view, "procedural", "supervised-stitching", "data_leak_trajectories")
    lines = []
    cross = {
        d: _fmt(_mean(view, "fixed", f"contrastive-{d}", "spearman_full_cross"), ".3f")
        for d in ("normal", "stitching", "stitching-strict")
    }
    if seen is not None and leak_f is not None:
        lines.append(
            f"- In the fixed maze {_fmt(seen, '.1%')} of the test set's (state, goal) pairs "
            f"occur in a normal training trajectory; {_fmt(leak_f, '.1%')} of the paper's "
            f"stitching trajectories ({_fmt(leak_p, '.1%')} in procedural mazes) leave their "
            "quadrant. On strict stitching data, whose paths never do, the fixed-maze "
            f"cross-quadrant Spearman of the contrastive model is {cross['stitching-strict']} "
            f"(normal data {cross['normal']}, the paper's stitching data {cross['stitching']})."
        )
    detour = [_mean(view, "procedural", n, "walls_detour_spearman") for n in CONFIGS]
    man = _mean(view, "procedural", "manhattan", "walls_detour_spearman")
    if any(d is not None for d in detour) and man is not None:
        lines.append(
            "- On detour states of unseen mazes (BFS distance at least twice the Manhattan "
            f"distance), the four models' Spearman lies at {_range(detour, '.3f')}; the "
            f"wall-blind Manhattan distance scores {_fmt(man, '.3f')}, the oracle "
            f"{_fmt(_mean(view, 'procedural', 'oracle', 'walls_detour_spearman'), '.3f')}."
        )
    return lines


def headline(
    summary: Summary | Mapping[str, Any],
    timings: Mapping[str, Any] | None,
    study_findings: Sequence[str] = (),
    study_lines: Sequence[Sequence[str]] = (),
    on_request: Sequence[str] = (),
    abstract: str = "",
) -> str:
    """The paper-vs-ours table (Spearman, greedy solved, search expanded), per regime; the
    claims' verdicts; and the time of a from-scratch run if ``timings`` holds one (less the
    stages of the studies run ``on_request``). The studies' findings and blocks of lines
    (:func:`repro.studies.registry.headline`) go after the paper's findings and at the end.
    ``abstract``: the report's abstract as markdown (:func:`abstract_markdown`), quoted first."""
    view = as_summary(summary)
    found = [*findings(view), *study_findings]
    lines = [*(f"> {line}" for line in abstract.splitlines()), ""] if abstract else []
    lines += [*found, ""] if found else []
    lines += [
        f"Mean ± sd over {len(view.seeds)} seeds; paper = its Tables 2-3 (one run). "
        "Spearman: the paper's 10-trajectory protocol / our full test set.",
        "",
        *HEADLINE_HEADER,
        *(_headline_row(view, name) for name in CONFIGS),
    ]
    verdicts = "; ".join(
        f"{c.id} " + ", ".join(f"{r} {f.verdict}" for r, f in c.regimes.items())
        for c in view.claims
    )
    lines += [
        "",
        f"Claims (report, Table 4): {verdicts}. Each rule is applied to every seed: {SEED_RULE}; "
        f"and {GATE_RULE}.",
        "",
        "![Heatmaps: BFS truth and the four models](results/figures/fig2_heatmaps.png)",
    ]
    full = (timings or {}).get("full_run")
    if full:
        lines += ["", _timing_sentence(view, full["stages_s"], on_request, full.get("runs"))]
    for block in study_lines:
        lines += ["", *block] if block else []
    return "\n".join(lines)


_LATEX_TO_MARKDOWN = (  # the few constructs the abstract uses, in this order
    (r"\\emph\{([^}]*)\}", r"*\1*"),
    (r"\\citep\{gawel2025\}", "(Gawel, 2025)"),
    (r"``([^']*)''", r'"\1"'),
    (r"\\%", "%"),
    (r"~", " "),
)


def abstract_markdown(tex: str) -> str:
    """The abstract of the rendered report ``tex`` as one markdown paragraph (its checked
    sentences, as the PDF prints them); '' if it has none."""
    found = re.search(r"\\begin\{abstract\}(.*?)\\end\{abstract\}", tex, re.S)
    if not found:
        return ""
    text = " ".join(found.group(1).split())
    for pattern, repl in _LATEX_TO_MARKDOWN:
        text = re.sub(pattern, repl, text)
    return text


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
    rows += group_rows(bench)
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
    units = bench.get("units")
    if units:
        rows.append(
            f"A local unit (a fresh process from the standard library's forkserver) starts and "
            f"ends in {1e3 * units['unit_s']:.0f} ms; the first of a process, which starts the "
            f"forkserver and its imports, in {units['first_unit_s']:.1f} s."
        )
    return "\n".join(rows)


def group_rows(bench: dict[str, Any]) -> list[str]:
    """The groups' table: ms per member-step against the group size R, beside a run
    alone's step; nothing for a bench.json without it."""
    groups = bench.get("groups")
    if not groups:
        return []
    sizes = [str(r) for r in groups["sizes"]]
    rows = [
        "",
        "| ms per member-step | a run alone | " + " | ".join(f"R={r}" for r in sizes) + " |",
        "|---" * (2 + len(sizes)) + "|",
    ]
    for key, per_member in groups["per_member_step_ms"].items():
        single = bench["training"].get(key, {}).get("step_ms")
        cells = [f"{single:.3f}" if single is not None else "–"]
        cells += [f"{per_member[r]:.3f}" for r in sizes]
        rows.append(f"| {key} | " + " | ".join(cells) + " |")
    rows += [
        "",
        f"Groups (`python -m repro train --member ...`) on {bench['device']}: R runs of one "
        "architecture trained as one group (stacked parameters, the method's loss under "
        "`torch.func.vmap`; R = 1 is the plain call of a run alone); a group step's time over "
        "R, beside the bench's step of a run alone.",
    ]
    return rows


def has_section(path: Path, name: str) -> bool:
    """Whether ``path`` exists and holds the ``<!-- name:start/end -->`` markers."""
    if not path.is_file():
        return False
    text = path.read_text(encoding="utf-8")
    return f"<!-- {name}:start -->" in text and f"<!-- {name}:end -->" in text


def update(name: str, body: str, path: Path | None = None) -> bool:
    """Replace block ``name`` of ``path`` (default ./README.md) by ``body``; whether the file
    changed. Nothing is written when the block already reads ``body``."""
    path = readme_file() if path is None else path
    text = path.read_text(encoding="utf-8")
    new = replace_section(text, name, body)
    if new == text:
        return False
    atomic_write_text(path, new)
    return True


def performance_file() -> Path:
    """``./docs/performance.md``: where ``nox -s bench`` keeps its generated table."""
    return work_dir() / "docs" / "performance.md"
