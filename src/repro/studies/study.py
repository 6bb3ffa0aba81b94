"""What a study declares, and what it may ask of the pipeline that runs it.

A study beyond the paper is one package under ``repro/studies/`` whose ``STUDY`` is one
entry of :data:`repro.studies.registry.STUDIES`. The entry is all that the rest of the
code knows of it: the pipeline runs its :attr:`Study.stage` (training and evaluating its
runs through the executor) before the summary, the summary writer puts its
:attr:`Study.summarize` block under its name, the shape check reads the block with
:attr:`Study.check`, the figures command draws its :attr:`Study.figures`, the report prints
its :attr:`Study.section`, the README's headline takes its lines, the command line adds
its :attr:`Study.commands`, and the local executor preloads its :attr:`Study.preload`.

A study's typed view (what its figure, section and README lines read) is its own: a
function of the summary's :meth:`~repro.results.view.Summary.block` under its name.
Nothing below this layer imports a study; the pipeline and the command line pass the
registry's entries down.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from repro.config import RunConfig
from repro.results.shape import BlockCheck
from repro.results.view import Summary


@dataclass(frozen=True)
class Placed:
    """A run in a results folder (the main one, or a study's own)."""

    folder: Path  # the results folder it trains in: runs/, instances/ below it
    config: RunConfig
    label: str  # its name in logs and errors, e.g. 'procedural/supervised-normal+steps200000__s0'


class Pipeline(Protocol):
    """What a stage may ask of the pipeline that runs it (see
    :mod:`repro.pipeline.runs`). In a dry run (``reproduce --dry-run``) the same calls
    only say what would run and why: a stage writes nothing itself when ``dry``."""

    root: Path  # the main results folder (a study's folders lie below it)
    scale: str
    force: bool
    study_seeds: int | None  # seeds per study run (``--study-seeds``; None: the scale's)
    dry: bool
    # The parts each study runs where ``--studies NAME:PART`` chose some (absent: all).
    study_parts: Mapping[str, tuple[str, ...]]

    def train(self, runs: Sequence[Placed], what: str) -> bool:
        """Train the runs that are not complete, in one executor call, longest first."""
        ...

    def evaluate(self, runs: Sequence[Placed], what: str) -> bool:
        """Score the runs whose metrics.json is missing or stale (the paper's evaluation)."""
        ...

    def baselines(self, folder: Path, contexts: Sequence[RunConfig]) -> bool:
        """Score the baselines of each context's test and planning sets in ``folder``."""
        ...

    def retrained(self, run: Path) -> bool:
        """Whether an earlier stage of this dry run would train the run folder ``run`` (its
        files then say nothing of what will be); False in a real run."""
        ...

    def run(self, commands: Sequence[tuple[str, tuple[str, ...]]], kind: str) -> None:
        """Run ``(label, argv)`` commands (``python -m repro ARGV``) through the executor."""
        ...

    def log(self, msg: str) -> None: ...


@dataclass(frozen=True)
class Command:
    """A command-line command of a study's own: ``python -m repro NAME ...``."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


@dataclass(frozen=True)
class Section:
    """A study's part of the report: its template and the values it prints."""

    template: str  # a jinja2 LaTeX template under the package's data/ (e.g. 'sections/x.tex.j2')
    # Where the report includes it (repro.report.document.PLACEMENTS): 'planning' (a
    # paragraph beside the planning results) or 'end' (a section after the ablations).
    placement: str
    context: Mapping[str, Any]
    # Named checks its written sentences are guarded by (name -> repro.report.checks.Check),
    # beside the report's own: the template's ``checked`` call block finds them by name.
    checks: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Study:
    """One study beyond the paper, as the pipeline, the summary and the report see it.

    ``on_request``: run only with ``reproduce --studies NAME`` (a long study); otherwise it
    runs with every reproduce unless ``--no-NAME``. Either way its block is in the summary
    wherever its results exist and it was not skipped.
    """

    name: str  # the summary's key, the --studies / --no-NAME name
    about: str  # one line for --help and the README
    on_request: bool
    stage: Callable[[Pipeline], bool]  # train and evaluate its runs; whether any work
    # The files its summary block reads, and the block itself (None: no results yet), from
    # the main results folder and the scale: (root, scale) -> ...
    inputs: Callable[[Path, str], list[Path]]
    summarize: Callable[[Path, str], Any]
    check: BlockCheck  # the shape its block must have (see repro.results.shape)
    section: Callable[[Summary], Section | None]  # its report section (None: nothing to say)
    figures: Mapping[str, Callable[[Summary], Any]] = field(default_factory=dict)  # -> Figure
    readme: Callable[[Summary, Mapping[str, Any] | None], list[str]] | None = None
    findings: Callable[[Summary], list[str]] | None = None  # its line(s) in the README's findings
    commands: tuple[Command, ...] = ()
    preload: tuple[str, ...] = ()  # modules its units import (the forkserver loads them once)
    # Raises ConfigError for a bad (scale, --study-seeds) before anything is written.
    check_args: Callable[[str, int | None], object] | None = None
    # The parts (arms) that ``--studies NAME:PART[,PART]`` may run alone, in order.
    parts: tuple[str, ...] = ()
