"""The studies beyond the paper, one entry each, and what the rest of the code takes from
them.

To add a study: write its package under ``repro/studies/`` with a :class:`Study` named
``STUDY`` (see :mod:`repro.studies.study` and the two below), and add it to
:data:`STUDIES`. The pipeline runs its stage, the summary takes its block, the shape check
its check, the figures command its figures, the report its section, the README its lines,
the command line its commands and the local executor its preload, all from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from repro.errors import ConfigError
from repro.report import readme
from repro.results.shape import BlockCheck
from repro.results.shape import check_summary as check_base
from repro.results.view import Summary, as_summary
from repro.results.view import load_summary as load_base
from repro.studies import family, generalization, stitching, walls
from repro.studies.study import Command, Section, Study

if TYPE_CHECKING:
    from repro.report.figures import Draw

# In the summary's (and the report's) order.
STUDIES: dict[str, Study] = {
    s.name: s for s in (family.STUDY, generalization.STUDY, walls.STUDY, stitching.STUDY)
}


def checks(studies: Mapping[str, Study] | None = None) -> dict[str, BlockCheck]:
    """Each study's block check, by summary key."""
    return {name: s.check for name, s in (studies or STUDIES).items()}


def check_summary(data: Any, where: str) -> Mapping[str, Any]:
    """:func:`repro.results.shape.check_summary` with every study's block checked too."""
    return check_base(data, where, checks())


def load_summary(path: Path) -> Summary:
    """Read and check ``summary.json``, every study's block included (BadInput naming the
    file and the key path of the first value that is not what a view reads)."""
    return load_base(path, checks())


def select(requested: Iterable[str] = (), skipped: Iterable[str] = ()) -> list[Study]:
    """The studies a reproduce runs: every one that is not ``on_request`` and not in
    ``skipped``, and those of ``requested``; ConfigError naming an unknown name."""
    requested, skipped = tuple(requested), tuple(skipped)
    for name in (*requested, *skipped):
        if name not in STUDIES:
            raise ConfigError(f"unknown study {name!r}; studies are: {', '.join(STUDIES)}")
    return [
        s
        for s in STUDIES.values()
        if s.name not in skipped and (not s.on_request or s.name in requested)
    ]


def parse_requested(items: Sequence[str]) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """``--studies`` items, each ``NAME`` or ``NAME:PART[,PART...]``, as (the study names,
    {name: the parts chosen} for the items that chose some); ConfigError naming an unknown
    study or part, or a study that has no parts."""
    names: list[str] = []
    parts: dict[str, tuple[str, ...]] = {}
    for item in items:
        name, colon, rest = item.partition(":")
        if name not in STUDIES:
            raise ConfigError(f"unknown study {name!r}; studies are: {', '.join(STUDIES)}")
        names.append(name)
        if not colon:
            continue
        known = STUDIES[name].parts
        if not known:
            raise ConfigError(f"study {name!r} has no parts to choose; run it whole: {name}")
        chosen = tuple(p for p in rest.split(",") if p)
        for p in chosen or ("",):
            if p not in known:
                raise ConfigError(
                    f"unknown part {p!r} of study {name!r}; its parts are: {', '.join(known)}"
                )
        parts[name] = tuple(dict.fromkeys(parts.get(name, ()) + chosen))
    for item in items:  # a study also named whole runs whole
        parts.pop(item, None)
    return tuple(dict.fromkeys(names)), parts


def on_request() -> tuple[str, ...]:
    """The studies that run only when asked for (``reproduce --studies NAME``)."""
    return tuple(name for name, s in STUDIES.items() if s.on_request)


def _with_figures(studies: Iterable[Study]) -> dict[str, Draw]:
    """The paper's figures and ours, then those of ``studies``, by name in order."""
    from repro.report.figures import DRAW  # matplotlib: only where figures are drawn

    out: dict[str, Draw] = dict(DRAW)
    for s in studies:
        out.update(s.figures)
    return out


def figure_draws(summary: Summary | Mapping[str, Any]) -> dict[str, Draw]:
    """The figures of ``summary``, in order: the paper's and ours (every summary), then each
    study's where the summary has its block."""
    view = as_summary(summary)
    return _with_figures(s for s in STUDIES.values() if view.block(s.name))


def every_figure() -> dict[str, Draw]:
    """Every figure any summary can have, by name."""
    return _with_figures(STUDIES.values())


def sections(summary: Summary | Mapping[str, Any]) -> list[Section]:
    """Each study's report section (a study may have nothing to say: then none)."""
    view = as_summary(summary)
    return [sec for s in STUDIES.values() if (sec := s.section(view)) is not None]


def headline(
    summary: Summary | Mapping[str, Any],
    timings: Mapping[str, Any] | None,
    with_abstract: bool = False,
) -> str:
    """The README's headline block with every study's findings and lines; ``with_abstract``:
    opened by the report's abstract, rendered from the same summary (what the pipeline
    writes; a constructed summary without the report's data leaves it out)."""
    view = as_summary(summary)
    found = [x for s in STUDIES.values() if s.findings for x in s.findings(view)]
    lines = [s.readme(view, timings) for s in STUDIES.values() if s.readme]
    abstract = readme.abstract_markdown(render(view, strict=False)) if with_abstract else ""
    return readme.headline(view, timings, found, lines, on_request(), abstract)


def commands() -> list[Command]:
    """The studies' own command-line commands."""
    return [c for s in STUDIES.values() for c in s.commands]


def preload() -> list[str]:
    """The modules the studies' units import."""
    return [m for s in STUDIES.values() for m in s.preload]


def render(
    summary: Summary | Mapping[str, Any],
    template_dir: Path | None = None,
    strict: bool | None = None,
) -> str:
    """The report's LaTeX source with every study's section (``strict``: see
    :func:`repro.report.document.render`; a test that alters numbers to reach another
    sentence passes False, and the guarded sentences it contradicts are marked)."""
    from repro.report.document import render as render_document  # jinja2: only here

    return render_document(summary, template_dir, sections(summary), strict=strict)
