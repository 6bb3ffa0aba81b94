"""The generalization study: its runs, their folders and the training-maze sample.

Does a learned distance transfer to unseen mazes, and what does it take? The runs of
:data:`repro.config.GENERALIZATION` train in the procedural regime for
``Scale.generalization.steps`` (ten times the paper's at paper scale), the 'data' arm
again with ten times the training trajectories; every weight snapshot on the study's
schedule is then scored on the unseen test mazes and on a frozen sample of the run's own
training mazes (:mod:`repro.studies.generalization.evaluate`), so that underfitting (both
curves still rising) and overfitting (a growing gap) can be told apart.

A study run changes fields that its run id does not name (``steps``,
``n_trajectories``), so each set of such changes gets a results folder of its own,
``results/generalization/<changes>/`` (laid out like the main one: runs/, instances/),
and the run's id names every changed field:
``procedural/contrastive-normal+symmetric+repeat4+n_trajectories40000+steps200000__s0``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from repro.config import (
    GENERALIZATION,
    SCALES,
    VARIANT_FIELDS,
    Generalization,
    RunConfig,
    make_config,
)
from repro.core.data import TEST_MIN_LENGTH, Dataset, load_dataset, make_dataset, save_dataset
from repro.errors import BadInput, ConfigError
from repro.paths import generalization_dir, instances_dir, run_dir

REGIME = "procedural"  # the study's regime: unseen mazes are what it is about
OUTPUT = "generalization.json"  # a study run's evaluation, beside its weights
MAZES = ("train_mazes", "unseen_mazes")  # where a snapshot is scored: its training mazes, or not


@dataclass(frozen=True)
class StudyRun:
    """One run of the generalization study."""

    arm: str  # the GENERALIZATION arm it belongs to: 'models' or 'data'
    config: RunConfig  # its configuration (procedural; the study's steps and data)
    sets: Mapping[str, Any]  # the fields it overrides: its entry's and the study's
    changed: str  # the fields it changes that its run id does not name, '+steps200000'

    @property
    def label(self) -> str:
        """The configuration, its variant and every other changed field, without the seed:
        'supervised-normal+classification+steps200000' (the summary's key)."""
        return f"{self.config.name}{self.config.variant}{self.changed}"

    @property
    def id(self) -> str:
        """'procedural/<label>__s<seed>': the run's name in logs and errors."""
        return f"{self.config.regime}/{self.label}__s{self.config.seed}"

    def folder(self, root: Path) -> Path:
        """The results folder of the run's changes: ``<root>/generalization/<changes>``."""
        return generalization_dir(root) / self.changed.lstrip("+")

    def run_dir(self, root: Path) -> Path:
        """The run's own folder (``runs/<run id>`` inside :meth:`folder`)."""
        return run_dir(self.folder(root), self.config.run_id)


def changed_fields(c: RunConfig, scale: str) -> str:
    """'+<field><value>' for every field of ``c`` that differs from its configuration at
    ``scale`` and that the run id does not name already (its variant's fields)."""
    base = make_config(c.name, c.regime, c.seed, scale)
    return "".join(
        f"+{f.name}{getattr(c, f.name)}"
        for f in fields(RunConfig)
        if f.name not in VARIANT_FIELDS and getattr(c, f.name) != getattr(base, f.name)
    )


def study_sets(arm: str, g: Generalization) -> dict[str, int]:
    """The fields (of STUDY_FIELDS) the study sets on every run of ``arm``, beyond the run's
    own overrides."""
    return {"steps": g.steps, **({"n_trajectories": g.more_trajectories} if arm == "data" else {})}


def _check_schedule(c: RunConfig, g: Generalization) -> None:
    """Every scheduled step must be one whose weights the run saves."""
    off = [s for s in g.schedule() if s % c.snapshot_every and s != c.steps]
    if off:
        raise ConfigError(
            f"generalization schedule steps {off} are not multiples of "
            f"snapshot_every={c.snapshot_every}"
        )


def study_runs(scale: str, n_seeds: int | None = None) -> list[StudyRun]:
    """Every run of the study at ``scale`` (``n_seeds`` seeds each, default the scale's), in
    declaration order: arm, then entry, then seed. Duplicates are dropped."""
    if scale not in SCALES:
        raise ConfigError(f"unknown scale {scale!r}; choose from: {', '.join(SCALES)}")
    g = SCALES[scale].generalization
    n = g.seeds if n_seeds is None else n_seeds
    if n < 1:
        raise ConfigError(f"--study-seeds must be >= 1; got {n}")
    out: dict[str, StudyRun] = {}
    for arm, entries in GENERALIZATION.items():
        for name, sets in entries:
            for seed in range(n):
                overrides = {**sets, **study_sets(arm, g)}
                c = make_config(name, REGIME, seed, scale, overrides)
                _check_schedule(c, g)
                run = StudyRun(arm, c, overrides, changed_fields(c, scale))
                out.setdefault(run.id, run)
    return list(out.values())


def results(root: Path, scale: str) -> list[tuple[StudyRun, list[tuple[int, Path]]]]:
    """Every declared study run (as its seed-0 run) with the evaluations found for it under
    ``root``: (seed, path of generalization.json) for each seed, in seed order ([] if none)."""
    out = []
    for run in study_runs(scale, 1):
        stem = run.run_dir(root).name.rsplit("__s", 1)[0]
        found = []
        for path in run.run_dir(root).parent.glob(f"{stem}__s*/{OUTPUT}"):
            seed = path.parent.name.rsplit("__s", 1)[1]
            if seed.isdigit():
                found.append((int(seed), path))
        out.append((run, sorted(found)))
    return out


# ---------------------------------------------------------------------------- training mazes


def subset(ds: Dataset, picks: np.ndarray) -> Dataset:
    """The trajectories ``picks`` (int (k,), increasing) of ``ds`` as a dataset of their own
    (procedural: with only their mazes)."""
    paths = [ds.path(int(i)) for i in picks]
    offsets = np.zeros(len(paths) + 1, dtype=np.int64)
    np.cumsum([len(p) for p in paths], out=offsets[1:])
    if ds.mazes.shape[0] == 1:  # the fixed regime: one maze for every trajectory
        mazes, maze_of = ds.mazes, np.zeros(len(paths), dtype=np.int64)
    else:
        mazes, maze_of = ds.mazes[ds.maze_of[picks]], np.arange(len(paths), dtype=np.int64)
    cells = np.concatenate(paths).astype(np.int64)
    return Dataset(ds.kind, ds.regime, ds.seed, mazes, maze_of, cells, offsets)


def pick_sample(ds: Dataset, k: int, rng: np.random.Generator) -> Dataset:
    """``k`` trajectories of ``ds`` with T >= 5 (like the test set's), drawn without
    replacement by ``rng`` and kept in dataset order (all of them if fewer)."""
    candidates = np.flatnonzero(ds.lengths >= TEST_MIN_LENGTH)
    if candidates.size == 0:
        raise BadInput(f"no training trajectory of length >= {TEST_MIN_LENGTH} to sample")
    picks = rng.choice(candidates, size=min(k, candidates.size), replace=False)
    return subset(ds, np.sort(picks))


def sample_file(c: RunConfig, g: Generalization, root: Path) -> Path:
    """Where the training-maze sample of run ``c`` is frozen (under the results folder's
    instances/, named by everything it is drawn from)."""
    name = (
        f"train-sample-{c.dataset}-{c.regime}-size{c.size}-lp{c.loop_prob}-"
        f"n{c.n_trajectories}-seed{c.seed}-k{g.train_sample}-pick{g.sample_seed}.npz"
    )
    return instances_dir(root) / name


def train_sample(c: RunConfig, g: Generalization, root: Path) -> Dataset:
    """The frozen sample of run ``c``'s own training trajectories (its training mazes): built
    from the run's training data (as training builds it) and ``g.sample_seed`` the first
    time, saved, and loaded (content hash checked) afterwards."""
    path = sample_file(c, g, root)
    if path.exists():
        return load_dataset(path)
    ds = make_dataset(c.dataset, c.n_trajectories, c.seed, c.size, c.regime, c.loop_prob)
    sample = pick_sample(ds, g.train_sample, np.random.default_rng(g.sample_seed))
    save_dataset(sample, path)
    return sample
