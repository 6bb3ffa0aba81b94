"""LaTeX-safe text and the report's number formats, shared by every part of the report.

A :class:`Tex` string is already LaTeX and is printed as it is; any other string
is escaped by :func:`tex_escape` when the template prints it. Numbers reach the
template only through :func:`num`, :func:`pct` and :func:`mean_sd`, as ``Tex``.
"""

from __future__ import annotations

from repro.results.view import Aggregate

# Display names of the paper's configurations (repro.config.CONFIGS) and of the
# baselines (repro.core.heuristics.BASELINES), as the tables print them.
LABELS = {
    "supervised-normal": "Supervised, normal",
    "supervised-stitching": "Supervised, stitching",
    "contrastive-normal": "Contrastive, normal",
    "contrastive-stitching": "Contrastive, stitching",
    "supervised-stitching-strict": "Supervised, strict stitching",
    "contrastive-stitching-strict": "Contrastive, strict stitching",
    "oracle": "Oracle (BFS)",
    "manhattan": "Manhattan",
    "constant": "Constant",
}
NO_VALUE = "--"  # what a table cell shows for a number that was not measured


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


def counted(n: int, noun: str) -> str:
    """'1 seed', '3 seeds': a count with its noun in the number it needs."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def seed_list(seeds) -> str:
    """'seed 0', 'seeds 0 and 1', 'seeds 0, 1 and 2' ('no seed' for none)."""
    items = [str(s) for s in seeds]
    if not items:
        return "no seed"
    if len(items) == 1:
        return f"seed {items[0]}"
    return f"seeds {', '.join(items[:-1])} and {items[-1]}"


def tex_escape(text: str) -> str:
    """``text`` with LaTeX's special characters escaped (printed literally)."""
    return "".join(_ESCAPES.get(ch, ch) for ch in text)


def num(x: float | None, digits: int = 3) -> Tex:
    """``x`` with ``digits`` decimals, or '--'."""
    return Tex(NO_VALUE) if x is None else Tex(f"{x:.{digits}f}")


def interval(mean: float, low: float, high: float, digits: int = 3) -> Tex:
    """'mean [low, high]', the mean with ``digits`` decimals and the bounds with the fewest
    decimals from 2 up to ``digits`` + 1 at which the printed interval holds the printed
    mean (0.998 [0.996, 0.999], not 0.998 [1.00, 1.00]); at the most where none does (a
    mean that lies outside its interval is printed as it is)."""
    shown = float(f"{mean:.{digits}f}")
    for d in range(2, digits + 2):
        lo, hi = f"{low:.{d}f}", f"{high:.{d}f}"
        if float(lo) <= shown <= float(hi):
            break
    return Tex(f"{mean:.{digits}f} [{lo}, {hi}]")


def pct(x: float | None) -> Tex:
    """A rate in [0, 1] as a percentage with one decimal, or '--'."""
    return Tex(NO_VALUE) if x is None else Tex(f"{100 * x:.1f}\\%")


def mean_sd(agg: Aggregate | None, digits: int = 3, percent: bool = False) -> Tex:
    """'mean' or 'mean ± sd' (sd over seeds, shown when there are several seeds)."""
    if agg is None or agg.mean is None:
        return Tex(NO_VALUE)
    scale = 100 if percent else 1
    text = f"{scale * agg.mean:.{digits}f}"
    if agg.n_seeds > 1:
        text += f"\\,$\\pm$\\,{scale * agg.std:.{digits}f}"
    return Tex(text + ("\\%" if percent else ""))


def printed(text: str | None) -> Tex:
    """A number quoted from the paper exactly as it prints it (a string), or '--'."""
    return Tex(NO_VALUE) if text is None else Tex(text)
