"""Render ``paper/report.tex.j2`` from the summary and build the PDF with latexmk.

The template uses LaTeX-safe delimiters (``\\VAR{...}``, ``\\BLOCK{...}``,
``\\#{...}``) and ``StrictUndefined``; every string that reaches the page is
escaped unless it is a :class:`Tex` fragment built here, and every number is
formatted here in Python, so the template holds no arithmetic.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jinja2

from repro.config import CONFIGS, SCALES, EvalConfig, RunConfig
from repro.errors import StageFailed
from repro.paths import figures_dir, paper_dir, report_build_dir, report_pdf

TEMPLATE = "report.tex.j2"
SOURCE_DATE_EPOCH = "1750377600"  # 2025-06-20, the paper's date: fixed so the PDF is reproducible
INSTALL_HINT = (
    "apt-get install texlive-latex-base texlive-latex-recommended texlive-fonts-recommended latexmk"
)
LABELS = {
    "supervised-normal": "Supervised, normal",
    "supervised-stitching": "Supervised, stitching",
    "contrastive-normal": "Contrastive, normal",
    "contrastive-stitching": "Contrastive, stitching",
    "oracle": "Oracle (BFS)",
    "manhattan": "Manhattan",
    "constant": "Constant",
}


class TexMissing(RuntimeError):
    """latexmk is not installed; the message gives the install command."""


class Tex(str):
    """A string that is already LaTeX and must not be escaped."""


_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def tex_escape(text: str) -> str:
    return "".join(_ESCAPES.get(ch, ch) for ch in text)


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


def make_env(template_dir: Path) -> jinja2.Environment:
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
        finalize=_finalize,
        keep_trailing_newline=True,
    )


# ---------------------------------------------------------------------------- number formats


def num(x: float | None, digits: int = 3) -> Tex:
    return Tex("--") if x is None else Tex(f"{x:.{digits}f}")


def pct(x: float | None) -> Tex:
    return Tex("--") if x is None else Tex(f"{100 * x:.1f}\\%")


def mean_sd(agg: dict | None, digits: int = 3, percent: bool = False) -> Tex:
    """'mean' or 'mean ± sd' (sd over seeds, shown when there are several seeds)."""
    if agg is None or agg["mean"] is None:
        return Tex("--")
    scale = 100 if percent else 1
    text = f"{scale * agg['mean']:.{digits}f}"
    if len([v for v in agg["values"] if v is not None]) > 1:
        text += f"\\,$\\pm$\\,{scale * agg['std']:.{digits}f}"
    return Tex(text + ("\\%" if percent else ""))


def _metric(summary: dict, regime: str, name: str, metric: str) -> dict | None:
    entry = summary["runs"].get(regime, {}).get(name)
    if entry is None:
        entry = summary["baselines"].get(regime, {}).get(name)
    return None if entry is None else entry["metrics"][metric]


def _ci(summary: dict, regime: str, name: str) -> Tex:
    m = _metric(summary, regime, name, "spearman_full")
    if m is None or m["mean"] is None:
        return Tex("--")
    lo = _metric(summary, regime, name, "spearman_full_low")["mean"]
    hi = _metric(summary, regime, name, "spearman_full_high")["mean"]
    return Tex(f"{m['mean']:.3f} [{lo:.2f}, {hi:.2f}]")


# ---------------------------------------------------------------------------- tables


def hyper_rows(summary: dict) -> list[dict[str, Any]]:
    """Table 1, read from the configuration objects of this scale (not typed in)."""
    ours = RunConfig(**SCALES[summary["scale"]].overrides)
    ev = EvalConfig(**SCALES[summary["scale"]].eval_overrides)
    hp = summary["paper"]["hyperparameters"]
    paper = {
        "steps": f"{hp['steps']['chosen']:,} (tried "
        + ", ".join(f"{s // 1000}k" for s in hp["steps"]["tested"])
        + ")",
        "batch_size": str(hp["batch_size"]),
        "lr": f"{hp['lr']:g}",
        "n_trajectories": f"{hp['n_trajectories']:,}",
        "gamma": f"{hp['gamma']['chosen']} (tried "
        + ", ".join(str(g) for g in hp["gamma"]["tested"])
        + ")",
    }
    rows = []
    for f in dataclasses.fields(RunConfig):
        if f.name in ("method", "dataset", "regime", "seed"):
            continue
        value = getattr(ours, f.name)
        rows.append(
            {
                "name": f.name,
                "ours": f"{value:,}"
                if isinstance(value, int)
                else f"{value:g}"
                if isinstance(value, float)
                else str(value),
                "paper": paper.get(f.name, "not stated"),
            }
        )
    rows.append({"name": "precision", "ours": "float32", "paper": hp["precision"]})
    rows.append({"name": "seeds", "ours": str(len(summary["seeds"])), "paper": "1 (not stated)"})
    rows.append(
        {
            "name": "test trajectories",
            "ours": f"{ev.n_test:,} (and {ev.n_paper})",
            "paper": f"{summary['paper']['n_spearman_trajectories']}",
        }
    )
    rows.append(
        {
            "name": "planning instances / budget",
            "ours": f"{ev.n_plan} / {ev.budget}",
            "paper": "N (not stated) / not stated",
        }
    )
    return rows


def spearman_rows(summary: dict) -> list[dict[str, Any]]:
    """Table 2: Spearman, paper vs ours, both protocols, both regimes."""
    rows = []
    for name in [*CONFIGS, "manhattan"]:
        paper = summary["paper"]["results"].get(name, {}).get("spearman")
        row = {"label": LABELS[name], "paper": num(paper)}
        for regime in ("fixed", "procedural"):
            row[regime] = {
                "paper": mean_sd(_metric(summary, regime, name, "spearman_paper")),
                "full": _ci(summary, regime, name),
                "allpairs": mean_sd(_metric(summary, regime, name, "all_pairs")),
            }
        rows.append(row)
    return rows


def planning_rows(summary: dict) -> list[dict[str, Any]]:
    """Table 3: planning, paper vs ours, both regimes, baselines included."""
    rows = []
    for mode in ("search", "greedy"):
        for name in [*CONFIGS, "oracle", "manhattan", "constant"]:
            paper = summary["paper"]["results"].get(name, {})
            row = {
                "label": LABELS[name],
                "mode": mode,
                "paper_solved": pct(paper.get(f"{mode}_solved")),
                "paper_expanded": num(paper.get(f"{mode}_expanded"), 1),
            }
            for regime in ("fixed", "procedural"):
                row[regime] = {
                    "solved": mean_sd(_metric(summary, regime, name, f"{mode}_solved"), 1, True),
                    "expanded": mean_sd(_metric(summary, regime, name, f"{mode}_expanded"), 1),
                    "ratio": mean_sd(_metric(summary, regime, name, f"{mode}_path_ratio"), 2),
                }
            rows.append(row)
    return rows


def claim_rows(summary: dict) -> list[dict[str, Any]]:
    rows = []
    for c in summary["claims"]:
        row = {k: c[k] for k in ("id", "claim", "paper", "rule")}
        for regime in ("fixed", "procedural"):
            r = c["regimes"].get(regime)
            row[regime] = r or {"ours": "no runs", "verdict": "--"}
        rows.append(row)
    return rows


TEXT_METRICS = {  # metric -> formatter, for the numbers the prose cites
    "spearman_full": num,
    "spearman_full_cross": num,
    "spearman_paper": num,
    "all_pairs": num,
    "roughness": num,
    "greedy_solved": pct,
    "search_solved": pct,
    "search_expanded": lambda v: num(v, 1),
    "greedy_expanded": lambda v: num(v, 1),
}


def text_numbers(summary: dict) -> dict[str, Any]:
    """Numbers the prose cites, keyed '<regime>_<config>_<metric>' (and '..._raw' for tests)."""
    out: dict[str, Any] = {}
    for regime in ("fixed", "procedural"):
        for name in [*CONFIGS, "oracle", "manhattan", "constant"]:
            key = name.replace("-", "_")
            for metric, fmt in TEXT_METRICS.items():
                agg = _metric(summary, regime, name, metric)
                value = None if agg is None else agg["mean"]
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


def closeness_rows(summary: dict) -> list[dict[str, Any]]:
    """Mean |paper - ours| over the four configurations, per metric and regime."""
    rows = []
    for ours_key, paper_key, label, digits in PAPER_METRICS:
        row: dict[str, Any] = {"label": label}
        gaps = {}
        for regime in ("fixed", "procedural"):
            diffs = []
            for name in CONFIGS:
                agg = _metric(summary, regime, name, ours_key)
                if agg is not None and agg["mean"] is not None:
                    diffs.append(abs(summary["paper"]["results"][name][paper_key] - agg["mean"]))
            gaps[regime] = sum(diffs) / len(diffs) if len(diffs) == len(CONFIGS) else None
            row[regime] = num(gaps[regime], digits)
        known = {r: g for r, g in gaps.items() if g is not None}
        row["closer"] = min(known, key=known.get) if len(known) == 2 else "--"
        rows.append(row)
    return rows


def words(summary: dict) -> dict[str, Any]:
    """Data-dependent words and facts the prose uses (so the text stays true at any scale)."""
    out: dict[str, Any] = {}
    for regime, short in (("fixed", "fixed"), ("procedural", "proc")):
        for method, m in (("supervised", "sup"), ("contrastive", "con")):
            for data in ("normal", "stitching"):
                agg = _metric(summary, regime, f"{method}-{data}", "spearman_full")
                out[f"{short}_{m}_{data}"] = level(None if agg is None else agg["mean"])
            entry = summary["runs"].get(regime, {}).get(f"{method}-normal")
            out[f"{short}_{m}_final_loss"] = num(entry["loss"]["mean"][-1] if entry else None, 3)
    return out


def build_context(summary: dict) -> dict[str, Any]:
    from repro.study.report_ablations import ablation_context  # it imports this module's helpers

    ev = EvalConfig(**SCALES[summary["scale"]].eval_overrides)
    verdicts = {
        c["id"]: {r: v["verdict"] for r, v in c["regimes"].items()} for c in summary["claims"]
    }
    return {
        "scale": summary["scale"],
        "n_seeds": str(len(summary["seeds"])),
        "seeds": ", ".join(str(s) for s in summary["seeds"]),
        "hyper": hyper_rows(summary),
        "cfg": {r["name"]: r["ours"] for r in hyper_rows(summary)},
        "spearman": spearman_rows(summary),
        "planning": planning_rows(summary),
        "claims": claim_rows(summary),
        "verdicts": verdicts,
        "n": text_numbers(summary),
        "w": words(summary),
        "closeness": closeness_rows(summary),
        "ev": {k: str(v) if k.endswith("seed") else f"{v:,}" for k, v in ev.to_dict().items()},
        "figdir": Tex(str(figures_dir()).replace("\\", "/")),
        "ab": ablation_context(summary),
    }


# ---------------------------------------------------------------------------- build


def render(summary: dict, template_dir: Path | None = None) -> str:
    env = make_env(template_dir or paper_dir())
    return env.get_template(TEMPLATE).render(**build_context(summary))


def build_pdf(tex_source: str, out_pdf: Path | None = None) -> Path:
    """Write the .tex into the build folder, run latexmk, copy the PDF to ``out_pdf``."""
    out_pdf = Path(out_pdf or report_pdf())
    build = report_build_dir()
    build.mkdir(parents=True, exist_ok=True)
    (build / "report.tex").write_text(tex_source, encoding="utf-8")
    if shutil.which("latexmk") is None:
        raise TexMissing(
            f"latexmk not found: {build / 'report.tex'} is written but not compiled. "
            f"Install TeX Live with: {INSTALL_HINT}"
        )
    env = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH, "FORCE_SOURCE_DATE": "1"}
    cmd = ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-g", "report.tex"]
    proc = subprocess.run(cmd, cwd=build, env=env, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        log = (
            (build / "report.log").read_text(errors="replace")
            if (build / "report.log").exists()
            else ""
        )
        tail = "\n".join((log or proc.stdout).splitlines()[-25:])
        raise StageFailed(f"latexmk failed (see {build / 'report.log'}):\n{tail}")
    out_pdf.parent.mkdir(parents=True, exist_ok=True)
    from repro.io import atomic_write_bytes

    atomic_write_bytes(out_pdf, (build / "report.pdf").read_bytes())
    return out_pdf


def main(summary: dict) -> Path:
    """Render the report from the summary and build the PDF; return its path."""
    return build_pdf(render(summary))
