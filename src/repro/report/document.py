"""Render ``report.tex.j2`` (package data, ``repro/data/``) from the summary; build the PDF.

The template uses LaTeX-safe delimiters (``\\VAR{...}``, ``\\BLOCK{...}``,
``\\#{...}``) and ``StrictUndefined``; every string that reaches the page is
escaped unless it is a :class:`~repro.report.texfmt.Tex` fragment, and every
number is formatted in Python (:mod:`repro.report.texfmt`), so the template holds
no arithmetic. The summary is read only through :mod:`repro.results.view`; the
ablation section's context comes from :mod:`repro.report.ablations`. A study's section
is its own template (``repro/data/sections/``) with its own values, passed in as
``sections`` by the layers that know the studies and included at its placement.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2

from repro.config import (
    ABLATIONS,
    CONFIGS,
    LATE_FIELDS,
    REGIMES,
    RUN_CONFIGS,
    SCALES,
    EvalConfig,
    RunConfig,
)
from repro.core.data import DATASETS, TEST_MIN_LENGTH
from repro.core.heuristics import BASELINES
from repro.core.metrics import paired_difference
from repro.core.overlap import BANDS
from repro.core.planning import MODES
from repro.core.walluse import MIN_DETOUR_STATES
from repro.errors import StageFailed
from repro.io import atomic_write_bytes
from repro.paths import figures_dir, report_build_dir, report_pdf
from repro.paths import template_dir as default_template_dir
from repro.report import ablation_facts
from repro.report.ablations import ablation_context
from repro.report.checks import CHECKS, Guard, drops, paper_gap
from repro.report.costs import context as cost_context
from repro.report.costs import load as load_costs
from repro.report.planning import planning_context
from repro.report.stitching import stitching_context
from repro.report.texfmt import (
    LABELS,
    NO_VALUE,
    Tex,
    counted,
    interval,
    mean_sd,
    num,
    pct,
    printed,
    seed_list,
    tex_escape,
)
from repro.report.walls import walls_context
from repro.results.claims import (
    C6_Z,
    CLAIMS,
    GATE_RULE,
    LEARNED_SHARE,
    NOT_TESTABLE,
    SEED_RULE,
    STRICT,
    UNDECIDED,
)
from repro.results.summary import PROTOCOL_PERCENTILES
from repro.results.view import (
    SHORT_METHODS,
    Entry,
    Finding,
    Summary,
    as_summary,
    config_name,
)

TEMPLATE = "report.tex.j2"
BIBLIOGRAPHY = "references.bib"  # beside the template; copied into the build folder
SOURCE_DATE_EPOCH = "1750377600"  # 2025-06-20, the paper's date: fixed so the PDF is reproducible
# The one place that lists the packages is the script; the hint points there.
INSTALL_HINT = "bash scripts/system-deps.sh report (in the project's checkout, as root on Debian)"
REGIME_KEYS = {"fixed": "fixed", "procedural": "proc"}  # regime -> its prefix in the template's w
NO_RUNS = Finding("no runs", NO_VALUE)  # a claim's cell in a regime where it was not checked


class TexMissing(RuntimeError):
    """latexmk is not installed; the message gives the install command."""


def _finalize(value: Any) -> Any:
    if isinstance(value, jinja2.Undefined):
        return str(value)  # StrictUndefined raises here, naming the missing variable
    if isinstance(value, Tex):
        return value
    if isinstance(value, str):
        return tex_escape(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"the template may only print strings and ints, got {value!r}")
    return value


MARK_OPEN, MARK_CLOSE = "\x02", "\x03"  # around every printed value, with mark_values


def make_env(template_dir: Path, mark_values: bool = False) -> jinja2.Environment:
    """The report's jinja2 environment (LaTeX-friendly delimiters, strict undefined). With
    ``mark_values`` every printed value is wrapped in MARK_OPEN ... MARK_CLOSE, so that a test
    can tell the generated text from the written one (the digit scan)."""
    finalize = _finalize
    if mark_values:
        finalize = lambda v: f"{MARK_OPEN}{_finalize(v)}{MARK_CLOSE}"  # noqa: E731
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir)),
        block_start_string=r"\BLOCK{",
        block_end_string="}",
        variable_start_string=r"\VAR{",
        variable_end_string="}",
        comment_start_string=r"\#{",
        comment_end_string="}",
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        finalize=finalize,
        keep_trailing_newline=True,
    )


# ---------------------------------------------------------------------------- tables


def _ci(entry: Entry | None) -> Tex:
    """'mean [low, high]': the full-test Spearman and its 95% interval over seeds and
    trajectories (:meth:`Entry.seed_interval`); a baseline, which has no seeds, gets its
    bootstrap interval over trajectories."""
    agg = None if entry is None else entry.metric("spearman_full")
    ci = None if entry is None else (entry.seed_interval() or entry.bootstrap_ci())
    if agg is None or agg.mean is None or ci is None:
        return Tex(NO_VALUE)
    return interval(agg.mean, ci[0], ci[1])


def _setting(value: Any) -> str:
    """A configuration value as Table 1 prints it (thousands separated, floats short)."""
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _paper_settings(hp: Mapping[str, Any]) -> dict[str, str]:
    """The paper's stated hyperparameters, keyed by RunConfig field name."""
    steps = ", ".join(f"{s // 1000}k" for s in hp["steps"]["tested"])
    gammas = ", ".join(str(g) for g in hp["gamma"]["tested"])
    return {
        "steps": f"{hp['steps']['chosen']:,} (tried {steps})",
        "batch_size": str(hp["batch_size"]),
        "lr": f"{hp['lr']:g}",
        "n_trajectories": f"{hp['n_trajectories']:,}",
        "gamma": f"{hp['gamma']['chosen']} (tried {gammas})",
    }


def hyper_rows(summary: Summary) -> list[dict[str, Any]]:
    """Table 1, read from the configuration objects of this scale (not typed in)."""
    ours = RunConfig(**SCALES[summary.scale].overrides)
    ev = EvalConfig(**SCALES[summary.scale].eval_overrides)
    hp = summary.paper_hyperparameters
    paper = _paper_settings(hp)
    rows = [
        {
            "name": f.name,
            "ours": _setting(getattr(ours, f.name)),
            "paper": paper.get(f.name, "not stated"),
        }
        for f in dataclasses.fields(RunConfig)
        # a run's identity is not a setting; the late fields are the options of the models
        # beyond the paper (their sections state them)
        if f.name not in ("method", "dataset", "regime", "seed") and f.name not in LATE_FIELDS
    ]
    n = planning_count(summary)
    return rows + [
        {"name": "precision", "ours": "float32", "paper": hp["precision"]},
        {"name": "seeds", "ours": str(len(summary.seeds)), "paper": "1 (not stated)"},
        {
            "name": "test trajectories",
            "ours": f"{ev.n_test:,} (and {ev.n_paper})",
            "paper": f"{summary.paper_n_trajectories}",
        },
        {
            "name": "planning instances / budget",
            "ours": f"{ev.n_plan} / {ev.budget}",
            "paper": f"{n} (inferred; not stated) / not stated" if n else "not stated",
        },
    ]


def planning_count(summary: Summary, largest: int = 10_000) -> int | None:
    """The paper's number of planning instances, inferred: the smallest N up to ``largest``
    for which every solved rate of its Table 3, as printed, is a whole count over N to the
    digits printed (0.3025 x 400 = 121); None if there is none."""
    rates = [
        x
        for name in CONFIGS
        for key in ("greedy_solved", "search_solved")
        if (x := summary.paper_printed(name, key)) is not None
    ]
    if not rates:
        return None
    for n in range(1, largest + 1):
        if all(_whole(r, n) for r in rates):
            return n
    return None


def _whole(printed_rate: str, n: int) -> bool:
    """Whether some whole count k over ``n`` prints as ``printed_rate`` (its digits)."""
    digits = len(printed_rate.partition(".")[2])
    k = round(float(printed_rate) * n)
    return f"{k / n:.{digits}f}".rstrip("0").rstrip(".") == printed_rate.rstrip("0").rstrip(".")


def spearman_rows(summary: Summary) -> list[dict[str, Any]]:
    """Table 2: Spearman, paper vs ours, both protocols, both regimes."""
    rows = []
    for name in [*CONFIGS, "manhattan"]:  # the one baseline whose Spearman is not trivial
        row = {"label": LABELS[name], "paper": printed(summary.paper_printed(name, "spearman"))}
        for regime in REGIMES:
            entry = summary.run(regime, name)
            row[regime] = {
                "paper": mean_sd(summary.metric(regime, name, "spearman_paper")),
                "full": _ci(entry),
                "allpairs": mean_sd(summary.metric(regime, name, "all_pairs")),
            }
        rows.append(row)
    return rows


def _planning_cells(summary: Summary, regime: str, name: str, mode: str) -> dict[str, Tex]:
    """Solved rate, mean expanded states (search: / generated cells) and path ratio of one
    entry in one mode."""
    expanded = mean_sd(summary.metric(regime, name, f"{mode}_expanded"), 1)
    if mode == "search":
        generated = summary.metric(regime, name, "search_generated")
        expanded = Tex(f"{expanded} / {num(None if generated is None else generated.mean, 1)}")
    return {
        "solved": mean_sd(summary.metric(regime, name, f"{mode}_solved"), 1, True),
        "expanded": expanded,
        "ratio": mean_sd(summary.metric(regime, name, f"{mode}_path_ratio"), 2),
    }


def planning_rows(summary: Summary) -> list[dict[str, Any]]:
    """Table 3: planning, paper vs ours, both regimes, baselines included."""
    rows = []
    for mode in MODES:
        for name in (*CONFIGS, *BASELINES):
            row = {
                "label": LABELS[name],
                "mode": mode,
                "paper_solved": printed(summary.paper_printed(name, f"{mode}_solved")),
                "paper_expanded": printed(summary.paper_printed(name, f"{mode}_expanded")),
            }
            for regime in REGIMES:
                row[regime] = _planning_cells(summary, regime, name, mode)
            rows.append(row)
    return rows


def claim_rows(summary: Summary) -> list[dict[str, Any]]:
    """Table 4: each claim, its rule, the paper's evidence and our finding per regime."""
    return [
        {
            "id": c.id,
            "claim": c.claim,
            "paper": c.paper,
            "rule": c.rule,
            "gate": c.gate.replace("_", " ") if c.gate else None,
            **{regime: c.regimes.get(regime, NO_RUNS) for regime in REGIMES},
        }
        for c in summary.claims
    ]


def verdict_words(summary: Summary) -> dict[str, dict[str, str]]:
    """claim id -> regime -> the verdict as the prose says it; '--' where not checked (every
    claim of CLAIMS and every regime is present, so the template can name any of them)."""
    out = {cid: dict.fromkeys(REGIMES, NO_VALUE) for cid, *_ in CLAIMS}
    for c in summary.claims:
        out.setdefault(c.id, dict.fromkeys(REGIMES, NO_VALUE))
        out[c.id].update({r: said(f.verdict) for r, f in c.regimes.items()})
    return out


def gate_context(summary: Summary) -> dict[str, Any]:
    """The learned-model gate in numbers, for the prose: the bar, and per regime the least
    and the most that any configuration closed on any claim's gate (worst seed; ``*_raw``
    the floats the template's checks compare, None where no claim was gated there), and
    how many claims were not testable."""
    out: dict[str, Any] = {"bar": pct(LEARNED_SHARE), "bar_raw": LEARNED_SHARE}
    gated = [c for c in summary.claims if c.gate]
    out["n_gated"] = len(gated)
    for regime in REGIMES:
        found = [c.regimes[regime] for c in gated if regime in c.regimes]
        shares = [x for f in found for x in f.learned.values() if x is not None]
        low, high = (min(shares), max(shares)) if shares else (None, None)
        out[regime] = {
            "low": pct(low),
            "high": pct(high),
            "low_raw": low,
            "high_raw": high,
            "n_not_testable": sum(f.verdict == NOT_TESTABLE for f in found),
        }
    return out


def greedy_reference_context(summary: Summary) -> dict[str, Any]:
    """Where the paper's greedy solved rates (its Table 3, one per configuration) sit
    between our constant heuristic's and the Manhattan distance's, per regime: how many of
    them lie closer to the constant's rate (``closer``, an int the template compares). A
    regime without both baselines has no count (None)."""
    paper = [summary.paper_value(n, "greedy_solved") for n in CONFIGS]
    known = [x for x in paper if x is not None]
    out: dict[str, Any] = {
        "n": len(known),
        "paper_low": pct(min(known)) if known else Tex(NO_VALUE),
        "paper_high": pct(max(known)) if known else Tex(NO_VALUE),
    }
    for regime in REGIMES:
        const, man = (summary.run(regime, b) for b in ("constant", "manhattan"))
        c = None if const is None else const.mean("greedy_solved")
        m = None if man is None else man.mean("greedy_solved")
        closer = None if c is None or m is None else sum(abs(x - c) < abs(x - m) for x in known)
        out[regime] = {"constant": pct(c), "manhattan": pct(m), "closer": closer}
    return out


def said(verdict: str) -> str:
    """A verdict as the prose's verb: 'C1 holds', 'C1 fails', 'C1 is undecided', 'C1 is not
    testable'."""
    return f"is {verdict}" if verdict in (UNDECIDED, NOT_TESTABLE) else verdict


TEXT_METRICS = {  # metric -> formatter, for the numbers the prose cites
    "spearman_full": num,
    "spearman_full_cross": num,
    "spearman_paper": num,
    "all_pairs": num,
    "roughness": num,
    "order_violations": pct,
    "data_seen_test": pct,
    "data_seen_test_cross": pct,
    "data_leak_trajectories": pct,
    "walls_shuffled_spearman_full": num,
    "walls_detour_spearman": num,
    "greedy_solved": pct,
    "search_solved": pct,
    "search_expanded": lambda v: num(v, 1),
    "greedy_expanded": lambda v: num(v, 1),
}


def text_numbers(summary: Summary) -> dict[str, Any]:
    """Numbers the prose cites, keyed '<regime>_<config>_<metric>' (and '..._raw' for tests)."""
    out: dict[str, Any] = {}
    for regime in REGIMES:
        for name in (*RUN_CONFIGS, *BASELINES):
            entry = summary.run(regime, name)
            key = name.replace("-", "_")
            for metric, fmt in TEXT_METRICS.items():
                value = None if entry is None else entry.mean(metric)
                out[f"{regime}_{key}_{metric}"] = fmt(value)
                out[f"{regime}_{key}_{metric}_raw"] = value
    return out


def level(x: float | None) -> str:
    """A word for how well a rank correlation orders distances."""
    if x is None:
        return "not measured"
    for bound, word in ((0.9, "closely"), (0.75, "well"), (0.4, "partly"), (0.15, "barely")):
        if x >= bound:
            return word
    return "not at all"


PAPER_METRICS = (
    ("spearman_paper", "spearman", "Spearman, 10 trajectories", 3),
    ("greedy_solved", "greedy_solved", "greedy solved rate", 3),
    ("search_expanded", "search_expanded", "search: mean expanded", 1),
    ("greedy_expanded", "greedy_expanded", "greedy: mean expanded", 1),
)


def closeness_rows(summary: Summary) -> list[dict[str, Any]]:
    """Mean |paper - ours| over the four configurations, per metric and regime, and the
    regime closer to the paper."""
    rows = []
    for ours_key, paper_key, label, digits in PAPER_METRICS:
        gaps = {r: paper_gap(summary, r, ours_key, paper_key) for r in REGIMES}
        row: dict[str, Any] = {"label": label, **{r: num(g, digits) for r, g in gaps.items()}}
        known = {r: g for r, g in gaps.items() if g is not None}
        row["closer"] = min(known, key=known.get) if len(known) == 2 else NO_VALUE
        rows.append(row)
    return rows


def words(summary: Summary) -> dict[str, Any]:
    """Data-dependent words and facts the prose uses (so the text stays true at any scale),
    keyed '<fixed|proc>_<sup|con>_<dataset>' and '<fixed|proc>_<sup|con>_final_loss'."""
    out: dict[str, Any] = {}
    for regime in REGIMES:
        for method, m in SHORT_METHODS.items():
            prefix = f"{REGIME_KEYS[regime]}_{m}"
            for data in DATASETS:
                agg = summary.metric(regime, config_name(method, data), "spearman_full")
                out[f"{prefix}_{data}"] = level(None if agg is None else agg.mean)
            entry = summary.run(regime, config_name(method, DATASETS[0]))  # the normal data
            loss = None if entry is None else entry.loss
            out[f"{prefix}_final_loss"] = num(None if loss is None else loss.final, 3)
    return out


# Where the template includes the studies' sections (see repro.studies.study.PLACEMENTS).
PLACEMENTS = ("planning", "end")


def build_context(
    summary: Summary | Mapping[str, Any],
    sections: Sequence[Any] = (),
    figdir: Path = Path("figures"),
    costs: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Every variable the template prints, from the summary. ``sections``: the studies'
    report sections (each with ``template``, ``placement`` and ``context``; see
    :func:`repro.studies.registry.sections`), included by the template at their placement.
    ``figdir``: the folder LaTeX finds the figures in. ``costs``: the results folder's
    records of time (:func:`repro.report.costs.load`; None: no appendix of costs)."""
    view = as_summary(summary)
    ev = EvalConfig(**SCALES[view.scale].eval_overrides)
    hyper = hyper_rows(view)
    return {
        "scale": view.scale,
        "n_seeds": str(len(view.seeds)),
        "seeds": ", ".join(str(s) for s in view.seeds),
        "n_seeds_text": counted(len(view.seeds), "seed"),  # '3 seeds'
        "seed_list": seed_list(view.seeds),  # 'seeds 0, 1 and 2'
        "hyper": hyper,
        "cfg": {r["name"]: r["ours"] for r in hyper},
        "spearman": spearman_rows(view),
        "planning": planning_rows(view),
        "claims": claim_rows(view),
        "seed_rule": SEED_RULE,
        "gate_rule": GATE_RULE,
        "gate": gate_context(view),
        "c6_z": f"{C6_Z:g}",
        "greedy_ref": greedy_reference_context(view),
        "verdicts": verdict_words(view),
        "n": text_numbers(view),
        "w": words(view),
        "closeness": closeness_rows(view),
        "ev": {k: str(v) if k.endswith("seed") else f"{v:,}" for k, v in ev.to_dict().items()},
        "figdir": Tex(str(figdir).replace("\\", "/")),
        "ab": ablation_context(view),
        "abf": ablation_facts.said(view),  # the ablations' paired differences in words
        "abd": ablation_facts.said(view, "short"),
        "st": stitching_context(view),
        "wall": walls_context(view),
        "planning14": planning_context(view),
        "sections": {at: [s for s in sections if s.placement == at] for at in PLACEMENTS},
        "drop": drop_numbers(view),
        "k": constants(view),
        "costs": cost_context(costs, view.scale),
    }


def constants(view: Summary) -> dict[str, str]:
    """The settings and definitions the prose states, read from where the code keeps them
    (never typed into the text): the figures' seed, the shortest test trajectory, the detour
    rule, the longest distance band, the same-maze-negatives variant, the paper's tried values."""
    hp = view.paper_hyperparameters
    tried = [s for s in hp["steps"]["tested"] if s != hp["steps"]["chosen"]]
    gammas = [g for g in hp["gamma"]["tested"] if g != hp["gamma"]["chosen"]]
    entry = view.run("fixed", next(iter(CONFIGS)))
    examples = {} if entry is None else entry.data.get("examples") or {}
    repeats = sorted({sets.get("repeat", 1) for _, sets in ABLATIONS.get("direction", [])})
    confidence = inspect.signature(paired_difference).parameters["confidence"].default
    low, high = PROTOCOL_PERCENTILES
    return {
        "ci": Tex(f"{confidence:.0%}".replace("%", "\\%")),  # the level of every interval
        "protocol_range": Tex(f"{low}--{high}\\%"),
        "protocol_share": Tex(f"{high - low}\\%"),
        "fig_seed": str(examples.get("seed", NO_VALUE)),
        "test_min": str(TEST_MIN_LENGTH),
        "min_detour": str(MIN_DETOUR_STATES),
        "band_top": str(BANDS[-1][0] - 1),  # the last band: "over <band_top> steps"
        "repeat": str(repeats[-1]) if repeats else NO_VALUE,
        "paper_steps_tried": f"{tried[0] // 1000}k--{tried[-1] // 1000}k" if tried else NO_VALUE,
        "paper_gamma": f"{hp['gamma']['chosen']:.2f}",
        "paper_gamma_tried": ", ".join(f"{g:.2f}" for g in gammas) or NO_VALUE,
    }


def drop_numbers(view: Summary) -> dict[str, Tex]:
    """The fixed maze's Spearman drop from normal data to strict ('sup_strict', 'con_strict')
    and to the paper's stitching data ('sup_leaky', 'con_leaky'), for the prose."""
    out = {}
    for data, tag in ((STRICT, "strict"), (DATASETS[1], "leaky")):
        for key, x in drops(view, data).items():
            out[f"{'sup' if 'supervised' in key else 'con'}_{tag}"] = num(x)
    return out


# ---------------------------------------------------------------------------- build


def render(
    summary: Summary | Mapping[str, Any],
    template_dir: Path | None = None,
    sections: Sequence[Any] = (),
    figdir: Path = Path("figures"),
    strict: bool | None = None,
    mark_values: bool = False,
    costs: Mapping[str, Any] | None = None,
) -> str:
    """The report's LaTeX source, rendered from the summary (a dict or a Summary) and the
    studies' ``sections``, its figures read from ``figdir``. Every sentence the template
    guards with a named check (:mod:`repro.report.checks`) is checked against the summary:
    where one fails, ``strict`` (default: a paper-scale summary) raises
    :class:`~repro.report.checks.ProseCheckFailed` naming it; otherwise it is marked.
    ``mark_values``: see :func:`make_env`; ``costs``: see :func:`build_context`."""
    view = as_summary(summary)
    checks = {**CHECKS, **{k: c for s in sections for k, c in getattr(s, "checks", {}).items()}}
    guard = Guard(view, view.scale == "paper" if strict is None else strict, checks)
    env = make_env(template_dir or default_template_dir(), mark_values)
    context = {**build_context(view, sections, figdir, costs), "checked": guard}
    tex = env.get_template(TEMPLATE).render(**context)
    guard.raise_failures()  # paper scale: a contradicted sentence stops the build
    return tex


def _latex_log_tail(build: Path, stdout: str) -> str:
    """The last 25 lines of latexmk's log (or of its output if it wrote no log)."""
    log_file = build / "report.log"
    log = log_file.read_text(errors="replace") if log_file.exists() else ""
    return "\n".join((log or stdout).splitlines()[-25:])


def build_pdf(tex_source: str, root: Path, out_pdf: Path | None = None) -> Path:
    """Write the .tex into the results folder ``root``'s build folder, run latexmk, copy
    the PDF to ``out_pdf`` (default: :func:`repro.paths.report_pdf`)."""
    out_pdf = Path(out_pdf or report_pdf(root))
    build = report_build_dir(root)
    build.mkdir(parents=True, exist_ok=True)
    (build / "report.tex").write_text(tex_source, encoding="utf-8")
    bib = default_template_dir() / BIBLIOGRAPHY
    (build / BIBLIOGRAPHY).write_bytes(bib.read_bytes())  # the references the text cites
    if shutil.which("latexmk") is None:
        raise TexMissing(
            f"latexmk not found: {build / 'report.tex'} is written but not compiled. "
            f"Install TeX Live with: {INSTALL_HINT}"
        )
    env = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH, "FORCE_SOURCE_DATE": "1"}
    cmd = ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-g", "report.tex"]
    proc = subprocess.run(cmd, cwd=build, env=env, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        tail = _latex_log_tail(build, proc.stdout)
        raise StageFailed(f"latexmk failed (see {build / 'report.log'}):\n{tail}")
    out_pdf.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out_pdf, (build / "report.pdf").read_bytes())
    return out_pdf


def main(summary: Summary | Mapping[str, Any], root: Path, sections: Sequence[Any] = ()) -> Path:
    """Render the report from the summary and the studies' sections and build the PDF of the
    results folder ``root`` (its figures, its build folder); return its path."""
    tex = render(summary, sections=sections, figdir=figures_dir(root), costs=load_costs(root))
    return build_pdf(tex, root)
