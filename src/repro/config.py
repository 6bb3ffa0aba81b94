"""Every run's configuration, declared in one place.

The four configurations of the paper (supervised / contrastive x normal /
stitching) are :data:`CONFIGS`; each runs in both maze regimes. A scale
preset (:data:`SCALES`) sets the sizes: ``paper`` is the paper's setting,
``smoke`` the same pipeline small enough for CI. Any field can be overridden
with ``--set field=value``; every value is checked in ``__post_init__`` and a
bad one raises :class:`ConfigError` naming the field.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import math
import re
from dataclasses import dataclass, fields
from typing import Any

from repro.core.data import DATASETS, REGIMES, TRAINING_SETS
from repro.errors import ConfigError

DIRECTIONS = ("backward", "forward", "symmetric")
# The distance models, by name: the module that implements each (repro.learn.methods reads
# this table; a module's contract is described there). It is names only, and lives here
# rather than among the models, because a run's training key hashes the code of its own
# method's module (repro.fingerprint) and not this table: adding a method is one module
# and one line here, and leaves every other method's results valid.
METHOD_MODULES: dict[str, str] = {
    "supervised": "repro.learn.supervised",
    "contrastive": "repro.learn.contrastive",
    "supervised_conv": "repro.learn.field",  # a convolutional distance field
    "contrastive_conv": "repro.learn.convcontrastive",  # convolutional encoders
    "contrastive_qm": "repro.learn.quasimetric",  # one encoder, a metric or quasimetric head
    "supervised_aug": "repro.learn.augment",  # regression with pairs joined at shared cells
    "td": "repro.learn.td",  # d(s, g) toward 1 + min over the data's successors of d(s', g)
}
SEED_MAX = 2**63 - 1  # seeds are 0 .. 2**63 - 1 (they feed numpy's SeedSequence and run ids)
_INT = re.compile(r"[+-]?[0-9]+")  # ASCII digits only: int() would also take '１０'
_FLOAT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
HEADS = ("regression", "classification")
CONV_ARCHS = ("dilated", "recurrent")
QM_HEADS = ("metric", "mrn", "iqe")
# Fields whose non-default values name a variant of a configuration (see RunConfig.variant).
VARIANT_FIELDS = (
    "gamma", "direction", "repeat", "head", "conv_arch", "channels", "conv_iters", "qm_head",
    "iqe_components", "aug_prob",
)  # fmt: skip


@dataclass(frozen=True)
class RunConfig:
    """One training run. Every field is part of the run's hash (see :func:`config_hash`)."""

    method: str = "supervised"  # 'supervised' (temporal-distance regression) or 'contrastive'
    # training data: 'normal', 'stitching' (start, goal in one quadrant) or 'stitching-strict'
    # (stitching whose paths never leave the quadrant)
    dataset: str = "normal"
    regime: str = "procedural"  # 'fixed' (one maze) or 'procedural' (a maze per trajectory)
    seed: int = 0  # the run's seed: maze(s), trajectories, initialisation, batches
    size: int = 20  # maze side length, cells
    loop_prob: float = 0.1  # chance to open each extra wall between two rooms
    n_trajectories: int = 4000  # training trajectories
    steps: int = 20_000  # optimizer steps
    batch_size: int = 64  # pairs per step
    lr: float = 1e-3  # Adam learning rate
    hidden: int = 256  # width of the residual MLP
    n_blocks: int = 2  # residual blocks (Linear-LayerNorm-ReLU) per network
    embed_dim: int = 64  # contrastive: dimension of phi(s) and psi(g)
    gamma: float = 0.9  # contrastive: positive offset k ~ Geometric(1 - gamma), k >= 1
    direction: str = "backward"  # contrastive InfoNCE: 'backward', 'forward' or 'symmetric'
    repeat: int = 1  # contrastive: copies of each trajectory in a batch (same-maze negatives)
    head: str = "regression"  # supervised: 'regression' (MSE) or 'classification' (CE)
    log_every: int = 100  # steps between loss-log rows
    checkpoint_every: int = 1000  # steps between resumable checkpoints
    snapshot_every: int = 5000  # steps between kept weight snapshots (training-length study)
    # Convolutional methods (supervised_conv, contrastive_conv) only:
    conv_arch: str = "dilated"  # 'dilated' residual convolutions or a 'recurrent' one (VIN)
    channels: int = 16  # feature channels of every convolution
    conv_iters: int = 20  # recurrent: passes of the shared convolution (receptive field 43)
    # contrastive_qm only: the head on one shared encoder, and IQE's components
    qm_head: str = "iqe"  # 'metric' (L2), 'mrn' (metric residual) or 'iqe' (interval quasimetric)
    iqe_components: int = 8  # iqe: components of embed_dim / iqe_components coordinates each
    aug_prob: float = 0.5  # supervised_aug only: share of each batch made of joined pairs

    def __post_init__(self) -> None:
        # The method's name is checked against the registry (repro.learn.methods) when a
        # run is built: the registry holds torch code, which the configuration must not load.
        if not isinstance(self.method, str) or not self.method.isidentifier():
            raise ConfigError(f"method must be a method name; got {self.method!r}")
        _choice("dataset", self.dataset, RUN_SETS)
        _choice("regime", self.regime, REGIMES)
        _choice("direction", self.direction, DIRECTIONS)
        _choice("head", self.head, HEADS)
        _int("seed", self.seed, 0, SEED_MAX)
        _int("size", self.size, 3, 200)
        _int("n_trajectories", self.n_trajectories, 1, 10_000_000)
        _int("steps", self.steps, 1, 100_000_000)
        _int("batch_size", self.batch_size, 2, 1_000_000)
        _int("hidden", self.hidden, 1, 100_000)
        _int("n_blocks", self.n_blocks, 0, 1000)
        _int("embed_dim", self.embed_dim, 1, 100_000)
        _int("repeat", self.repeat, 1, self.batch_size)
        for name in ("log_every", "checkpoint_every", "snapshot_every"):
            _int(name, getattr(self, name), 1, 100_000_000)
        _float("loop_prob", self.loop_prob, 0.0, 1.0, closed=True)
        _float("gamma", self.gamma, 0.0, 1.0, closed=False)
        _float("lr", self.lr, 0.0, 10.0, closed=False)
        self._check_late_fields()
        if self.batch_size % self.repeat:
            raise ConfigError(f"repeat={self.repeat} must divide batch_size={self.batch_size}")
        if self.checkpoint_every % self.log_every:
            raise ConfigError(
                f"checkpoint_every={self.checkpoint_every} must be a multiple of "
                f"log_every={self.log_every}"
            )

    def _check_late_fields(self) -> None:
        """The options of the models added after the paper's (after the fields they rely on,
        such as embed_dim, are checked)."""
        _choice("conv_arch", self.conv_arch, CONV_ARCHS)
        _int("channels", self.channels, 1, 4096)
        _int("conv_iters", self.conv_iters, 1, 10_000)
        _choice("qm_head", self.qm_head, QM_HEADS)
        _float("aug_prob", self.aug_prob, 0.0, 1.0, closed=True)
        _int("iqe_components", self.iqe_components, 1, self.embed_dim)
        if self.embed_dim % self.iqe_components:
            raise ConfigError(
                f"iqe_components={self.iqe_components} must divide embed_dim={self.embed_dim}"
            )

    @property
    def name(self) -> str:
        """The configuration's name, e.g. 'supervised-normal'."""
        return f"{self.method}-{self.dataset}"

    @property
    def variant(self) -> str:
        """The non-default values of the ablated fields, e.g. '+gamma0.98+repeat4' ('' if none).

        Part of :attr:`run_id`, so a variant never trains into the folder of the
        paper's configuration (or of another variant).
        """
        defaults = {f.name: f.default for f in fields(RunConfig)}
        parts = []
        for name in VARIANT_FIELDS:
            value = getattr(self, name)
            if value != defaults[name]:
                parts.append(f"+{value}" if isinstance(value, str) else f"+{name}{value}")
        return "".join(parts)

    @property
    def run_id(self) -> str:
        """'<regime>/<config><variant>__s<seed>': the run's folder under results/runs."""
        return f"{self.regime}/{self.name}{self.variant}__s{self.seed}"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _choice(name: str, value: Any, options: tuple[str, ...]) -> None:
    if value not in options:
        raise ConfigError(f"{name} must be one of {', '.join(options)}; got {shown(value)}")


def shown(value: Any, limit: int = 40) -> str:
    """``repr(value)`` cut to ``limit`` characters: an error line never holds a 4,000-digit
    number (whose ``str`` Python refuses past 4,300 digits anyway)."""
    if isinstance(value, int) and value.bit_length() > 128:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _int(name: str, value: Any, lo: int, hi: int | None = None) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ConfigError(f"{name} must be an integer; got {shown(value)}")
    if value < lo or (hi is not None and value > hi):
        bound = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
        raise ConfigError(f"{name} must be {bound}; got {shown(value)}")


def _float(name: str, value: Any, lo: float, hi: float, closed: bool) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number; got {shown(value)}")
    ok = lo <= value <= hi if closed else lo < value < hi
    if not ok:
        interval = f"[{lo}, {hi}]" if closed else f"({lo}, {hi})"
        raise ConfigError(f"{name} must be in {interval}; got {shown(value)}")


@dataclass(frozen=True)
class EvalConfig:
    """How every trained model (and every baseline) is measured."""

    n_test: int = 1000  # test trajectories (T >= 5) for the full-test-set Spearman
    n_paper: int = 10  # trajectories in the paper's Spearman protocol
    protocol_seed: int = 2025  # picks the paper protocol's trajectories from the test set
    eval_seed: int = 10_000  # procedural regime: seed of the unseen test and planning mazes
    n_plan: int = 400  # planning instances
    budget: int = 400  # planning budget: expansions per instance
    n_bootstrap: int = 2000  # bootstrap resamples for the 95% interval
    bootstrap_seed: int = 7  # seed of the bootstrap's generator
    n_allpairs: int = 5  # test mazes whose every (cell, goal) pair is scored against BFS
    heatmap_index: int = 0  # test trajectory whose maze and goal the heatmap figure shows
    n_draws: int = 10_000  # protocol noise: random draws of n_paper test trajectories
    draws_seed: int = 11  # seed of the protocol-noise draws' generator

    def __post_init__(self) -> None:
        names = ("n_test", "n_paper", "n_plan", "budget", "n_bootstrap", "n_allpairs", "n_draws")
        for name in names:
            _int(name, getattr(self, name), 1, 10_000_000)
        for name in ("protocol_seed", "eval_seed", "bootstrap_seed", "heatmap_index", "draws_seed"):
            _int(name, getattr(self, name), 0)
        if self.n_paper > self.n_test:
            raise ConfigError(f"n_paper={self.n_paper} must be <= n_test={self.n_test}")
        if self.heatmap_index >= self.n_test:
            raise ConfigError(f"heatmap_index={self.heatmap_index} must be < n_test")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def make_eval_config(scale: str = "paper") -> EvalConfig:
    """The evaluation settings of a scale preset."""
    if scale not in SCALES:
        raise ConfigError(f"unknown scale {scale!r}; choose from: {', '.join(SCALES)}")
    return EvalConfig(**SCALES[scale].eval_overrides)


# The data kinds a run may train on: the main study's (repro.core.data.TRAINING_SETS) and
# the stitching study's short paths ('short': a goal at most SHORT_HORIZON steps from a
# uniform start, repro.core.data).
RUN_SETS = (*TRAINING_SETS, "short")
# Paths per run of a data kind, as a multiple of the scale's n_trajectories, applied before a
# run's own --set. Short paths are so much shorter than normal ones that the same count would
# hold about a fifth of the transitions; measured at the paper's 4,000 paths (seeds 0-2),
# normal data hold 87,266-142,007 transitions in the fixed mazes and 111,079-113,013 in
# unseen ones, short data 22,997-25,082 and 23,924-24,145: 3.5-6.2 and 4.6-4.7 times fewer.
# Five times the paths give the short data about the normal data's transitions, so a
# learner's gap between the two measures what it composes, not how much it saw.
PATHS_FACTOR: dict[str, int] = {"short": 5}

# A configuration's dataset may be replaced by a stricter form of itself (--set
# dataset=stitching-strict for a stitching configuration), never by another dataset.
DATASET_REFINEMENTS: dict[str, tuple[str, ...]] = {"stitching": ("stitching-strict",)}

# The paper's four configurations: the only place they are declared.
CONFIGS: dict[str, dict[str, Any]] = {
    "supervised-normal": {"method": "supervised", "dataset": "normal"},
    "supervised-stitching": {"method": "supervised", "dataset": "stitching"},
    "contrastive-normal": {"method": "contrastive", "dataset": "normal"},
    "contrastive-stitching": {"method": "contrastive", "dataset": "stitching"},
}
# Beyond the paper: its two stitching configurations on strict stitching data (paths that
# never leave their quadrant, repro.core.data), run with the main seeds in both regimes, so
# that the stitching claims are also judged on data that cannot show a cross-quadrant pair.
STRICT_CONFIGS: dict[str, dict[str, Any]] = {
    "supervised-stitching-strict": {"method": "supervised", "dataset": "stitching-strict"},
    "contrastive-stitching-strict": {"method": "contrastive", "dataset": "stitching-strict"},
}
# Every configuration the main stages train: the paper's four, then the strict pair.
RUN_CONFIGS: dict[str, dict[str, Any]] = {**CONFIGS, **STRICT_CONFIGS}
# The paper's two methods on short paths: trained only where the stitching study declares them.
SHORT_CONFIGS: dict[str, dict[str, Any]] = {
    f"{m}-short": {"method": m, "dataset": "short"} for m in ("supervised", "contrastive")
}
# The paper's configurations with convolutional models (the study of a model that sees the
# maze); trained only where a study declares them.
CONV_CONFIGS: dict[str, dict[str, Any]] = {
    f"{m}_conv-{d}": {"method": f"{m}_conv", "dataset": d}
    for m in ("supervised", "contrastive")
    for d in RUN_SETS
}
# The stitching study's learners: the contrastive model with a metric or quasimetric head,
# the supervised model with temporal augmentation, and a temporal-difference distance.
QM_CONFIGS: dict[str, dict[str, Any]] = {
    f"{m}-{d}": {"method": m, "dataset": d}
    for m in ("contrastive_qm", "supervised_aug", "td")
    for d in RUN_SETS
}
# Every configuration a run may name.
ALL_CONFIGS: dict[str, dict[str, Any]] = {
    **RUN_CONFIGS,
    **SHORT_CONFIGS,
    **CONV_CONFIGS,
    **QM_CONFIGS,
}


@dataclass(frozen=True)
class Family:
    """The maze-family study: how planning moves with the maze size and loops.

    Every (size, loop_prob) cell scores the baselines in both regimes; the four
    configurations are trained in the fixed regime at ``trained_sizes`` with the
    scale's loop_prob (one seed each). The cell of the scale's own size and
    loop_prob is the main study itself, never rerun.
    """

    sizes: tuple[int, ...]  # maze side lengths (even: rooms sit at even coordinates)
    loop_probs: tuple[float, ...]  # loop_prob values
    trained_sizes: tuple[int, ...]  # sizes at which the four configurations are trained
    seeds: int = 1  # seeds per trained configuration and cell (fixed regime)


@dataclass(frozen=True)
class Generalization:
    """The generalization study at one scale: the runs of :data:`GENERALIZATION`,
    procedural regime, trained for ``steps``; their weight snapshots evaluated on the
    schedule below, on unseen mazes and on a frozen sample of their own training mazes.
    Every other setting stays the scale's (the paper's, at paper scale)."""

    steps: int  # training steps of every study run
    dense_every: int  # the schedule: a snapshot evaluated every this many steps ...
    dense_until: int  # ... up to this step,
    sparse_every: int  # then every this many steps up to ``steps`` (and ``steps`` itself)
    more_trajectories: int  # training trajectories of the data axis (the 'data' arm)
    train_sample: int  # training trajectories (T >= 5) in the frozen training-maze sample
    sample_seed: int  # seed that picks the training-maze sample from a run's training data
    table_steps: tuple[int, ...]  # the snapshot steps the report's table shows
    seeds: int = 1  # seeds per study run (reproduce --study-seeds overrides it)

    def __post_init__(self) -> None:
        for name in ("steps", "dense_every", "dense_until", "sparse_every", "train_sample"):
            _int(name, getattr(self, name), 1, 100_000_000)
        _int("more_trajectories", self.more_trajectories, 1, 10_000_000)
        _int("sample_seed", self.sample_seed, 0)
        _int("seeds", self.seeds, 1, 1000)
        if self.dense_until > self.steps:
            raise ConfigError(f"dense_until={self.dense_until} must be <= steps={self.steps}")
        missing = set(self.table_steps) - set(self.schedule())
        if missing:
            raise ConfigError(f"table_steps {sorted(missing)} are not on the schedule")

    def schedule(self) -> tuple[int, ...]:
        """The evaluated snapshot steps, increasing: dense, then sparse, then the last step."""
        dense = range(self.dense_every, self.dense_until + 1, self.dense_every)
        sparse = range(self.dense_until + self.sparse_every, self.steps + 1, self.sparse_every)
        return tuple(sorted({*dense, *sparse, self.steps}))


@dataclass(frozen=True)
class Scale:
    """A size preset: field overrides for every run, and how many seeds to run."""

    overrides: dict[str, Any]  # RunConfig fields set by this scale
    seeds: int  # seeds per configuration and regime
    eval_overrides: dict[str, Any]  # EvalConfig fields set by this scale
    family: Family  # the maze-family study at this scale
    generalization: Generalization  # the generalization study at this scale
    ablation_seeds: int = 1  # seeds per ablation variant and regime (see ABLATIONS)


SCALES: dict[str, Scale] = {
    # The paper's numbers (RunConfig defaults), three seeds.
    "paper": Scale(
        overrides={},
        seeds=3,
        # Three seeds per ablation variant: a difference is judged paired by seed, and one
        # seed gives no interval (issue 25: 32 runs more than one seed, ~50 min on 2 cores).
        ablation_seeds=3,
        eval_overrides={},
        family=Family(
            sizes=(10, 14, 20, 30), loop_probs=(0.0, 0.1, 0.3), trained_sizes=(10, 20, 30)
        ),
        # Ten times the paper's steps and, on the data axis, ten times its trajectories.
        generalization=Generalization(
            steps=200_000,
            dense_every=5000,
            dense_until=50_000,
            sparse_every=25_000,
            more_trajectories=40_000,
            train_sample=1000,
            sample_seed=15,
            table_steps=(20_000, 50_000, 100_000, 200_000),
        ),
    ),
    # The whole pipeline in well under two minutes on two cores.
    "smoke": Scale(
        overrides={
            "size": 8,
            "n_trajectories": 200,
            "steps": 60,
            "hidden": 32,
            "embed_dim": 16,
            "batch_size": 16,
            "log_every": 10,
            "checkpoint_every": 20,
            "snapshot_every": 30,
        },
        seeds=1,
        eval_overrides={"n_test": 100, "n_plan": 40, "budget": 100},
        family=Family(sizes=(6, 8), loop_probs=(0.0, 0.1), trained_sizes=(6, 8)),
        generalization=Generalization(
            steps=240,
            dense_every=30,
            dense_until=120,
            sparse_every=60,
            more_trajectories=2000,
            train_sample=100,
            sample_seed=15,
            table_steps=(60, 120, 180, 240),
        ),
    ),
}


# The ablations, the only place they are declared: per study, the
# variants as (configuration, overrides); each is trained in both regimes and
# compared with its configuration's paper-setting run of the same seed.
ABLATIONS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    # The paper tried gamma 0.98 beside the chosen 0.90.
    "gamma": [(name, {"gamma": 0.98}) for name in ("contrastive-normal", "contrastive-stitching")],
    # InfoNCE direction and same-maze negatives (repeat), normal data.
    "direction": [
        ("contrastive-normal", {"direction": d, "repeat": r})
        for d in DIRECTIONS
        for r in (1, 4)
        if (d, r) != ("backward", 1)
    ],
    # A classifier over step counts: the "sharply discretized" reading of the paper.
    "head": [("supervised-normal", {"head": "classification"})],
}


# The generalization study, the only place its runs are declared: per arm, the
# (configuration, overrides) trained in the procedural regime for Generalization.steps.
# 'models': the paper's two supervised heads, the paper's contrastive setting and the best
# same-maze-negatives variant of the ablations; 'data': two of them again with
# Generalization.more_trajectories training trajectories (ten times the paper's).
GENERALIZATION: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "models": [
        ("supervised-normal", {}),
        ("supervised-normal", {"head": "classification"}),
        ("contrastive-normal", {}),
        ("contrastive-normal", {"direction": "symmetric", "repeat": 4}),
    ],
    "data": [
        ("supervised-normal", {}),
        ("contrastive-normal", {"direction": "symmetric", "repeat": 4}),
    ],
}


@dataclass(frozen=True)
class StudyArm:
    """One arm of a study made of arms (``repro.studies.arms``: the walls and stitching
    studies): its configurations, trained in each of ``regimes`` with ``seeds`` seeds for
    ``steps_factor`` times the scale's steps, with ``sets`` on top; each arm is a results
    folder of its own, ``results/<study>/<arm>``."""

    configs: tuple[str, ...]
    regimes: tuple[str, ...]
    seeds: int
    steps_factor: float = 1.0
    sets: tuple[tuple[str, Any], ...] = ()


# The study of a model that sees the maze, the only place its runs are declared. The MLP
# models it is set against are the main study's own runs. Headline first; the other arms are
# shrunk to one seed and a quarter of the paper's steps (the field's unseen-maze Spearman is
# within 0.02 of its 20,000-step value by 5,000 steps in the headline's snapshots), and the
# contrastive encoders are left out where the headline shows they cannot help: they solve
# their training task without ranking anything in unseen mazes, a failure a longer run, a
# different trunk or the leaky stitching data cannot mend. Measured here (run.json): the
# headline's training 379 core-minutes (while sharing 2 cores), the other arms 111.
_CONV_NORMAL = ("supervised_conv-normal", "contrastive_conv-normal")
WALLS: dict[str, StudyArm] = {
    # the paper's setting, unseen mazes: the convolutional models against the MLPs
    "headline": StudyArm(_CONV_NORMAL, ("procedural",), seeds=3),
    # the other trunk of the field: one shared convolution applied conv_iters times (VIN)
    "recurrent": StudyArm(
        ("supervised_conv-normal",), ("procedural",), 1, 0.25, (("conv_arch", "recurrent"),)
    ),
    # the field trained twice the paper's length, its snapshots scored as it goes
    "longer": StudyArm(("supervised_conv-normal",), ("procedural",), 1, steps_factor=2.0),
    # the paper's other configurations with the convolutional trunk
    "others": StudyArm(("supervised_conv-stitching",), ("procedural",), 1, 0.25),
    "fixed": StudyArm(
        tuple(f"{m}_conv-{d}" for m in ("supervised", "contrastive") for d in DATASETS),
        ("fixed",), 1, 0.25,
    ),
}  # fmt: skip


# The stitching study, the only place its runs are declared: which learners compose short
# experience into long distances? Each learner on three data: normal; strict stitching (paths
# that never leave their quadrant: nothing joins one quadrant to another, so a cross-quadrant
# distance can only be extrapolated); and short paths (at most SHORT_HORIZON steps, anywhere:
# every cell is joined to its neighbours, but no path spans a long test pair, so a long
# distance must be composed from pieces). 3 seeds, the paper's length, fixed regime (MLP
# steps are cheap). The paper's two learners on normal and strict data are the main study's
# own runs; on short paths they are the 'paper' arm. In unseen mazes only the convolutional
# field learns (the walls study; the MLP trunks of the composing learners do not), so the
# procedural arm sets it against itself on the three data: 3 seeds, a quarter of the paper's
# steps (as the walls study's small arms).
_STITCH = ("normal", "stitching-strict", "short")
STITCHING: dict[str, StudyArm] = {
    **{
        head: StudyArm(
            tuple(f"contrastive_qm-{d}" for d in _STITCH), ("fixed",), 3,
            sets=(("qm_head", head),),
        )
        for head in ("metric", "mrn", "iqe")
    },
    "augment": StudyArm(tuple(f"supervised_aug-{d}" for d in _STITCH), ("fixed",), 3),
    "td": StudyArm(tuple(f"td-{d}" for d in _STITCH), ("fixed",), 3),
    "procedural": StudyArm(
        tuple(f"supervised_conv-{d}" for d in _STITCH), ("procedural",), 3, 0.25
    ),
    "paper": StudyArm(tuple(f"{m}-short" for m in ("supervised", "contrastive")), ("fixed",), 3),
}  # fmt: skip


# The fields the generalization study sets on its runs beyond each entry's own overrides.
STUDY_FIELDS = ("steps", "n_trajectories")


def ablation_configs(scale: str, n_seeds: int | None = None) -> list[RunConfig]:
    """Every ablation run at ``scale``: study variant x regime x seed (no duplicates)."""
    if scale not in SCALES:
        raise ConfigError(f"unknown scale {scale!r}; choose from: {', '.join(SCALES)}")
    n = SCALES[scale].ablation_seeds if n_seeds is None else n_seeds
    out: dict[str, RunConfig] = {}
    for variants in ABLATIONS.values():
        for name, sets in variants:
            for regime in REGIMES:
                for seed in range(n):
                    c = make_config(name, regime, seed, scale, sets)
                    out.setdefault(c.run_id, c)
    return list(out.values())


def parse_value(name: str, text: str) -> Any:
    """Convert the text of ``--set name=text`` to the type of RunConfig field ``name``."""
    types = {f.name: f.type for f in fields(RunConfig)}
    if name not in types:
        near = difflib.get_close_matches(name, list(types), n=3)
        hint = f"did you mean {', '.join(near)}? " if near else ""
        raise ConfigError(
            f"unknown field {name!r}; {hint}every field is listed in RunConfig "
            "(src/repro/config.py)"
        )
    kind = types[name]
    if kind == "int":
        return parse_int(name, text)
    if kind == "float":
        if not _FLOAT.fullmatch(text):
            raise ConfigError(f"{name} must be a number (ASCII digits); got {shown(text)}")
        return float(text)
    return text


def parse_int(name: str, text: str) -> int:
    """The integer ``text`` spells in ASCII digits (at most 20 of them: every integer field
    is far smaller); ConfigError naming ``name`` otherwise."""
    digits = text.lstrip("+-")
    if not _INT.fullmatch(text) or len(digits) > 20:
        raise ConfigError(
            f"{name} must be an integer of at most 20 ASCII digits; got {shown(text)}"
        )
    return int(text)


def parse_sets(items: list[str]) -> dict[str, Any]:
    """Parse ``['field=value', ...]`` into typed overrides; ConfigError naming the field."""
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--set expects field=value; got {shown(item)}")
        name, text = item.split("=", 1)
        name = name.strip()
        out[name] = parse_value(name, text.strip())
    return out


def make_config(
    name: str, regime: str, seed: int, scale: str = "paper", sets: dict[str, Any] | None = None
) -> RunConfig:
    """The RunConfig of configuration ``name`` in ``regime`` at ``scale``, with overrides."""
    if name not in ALL_CONFIGS:
        raise ConfigError(f"unknown configuration {name!r}; choose from: {', '.join(ALL_CONFIGS)}")
    if scale not in SCALES:
        raise ConfigError(f"unknown scale {scale!r}; choose from: {', '.join(SCALES)}")
    values: dict[str, Any] = {**SCALES[scale].overrides, **ALL_CONFIGS[name]}
    values.update(regime=regime, seed=seed)
    if (factor := PATHS_FACTOR.get(values["dataset"], 1)) != 1:  # before the run's own sets
        values["n_trajectories"] = factor * values.get("n_trajectories", RunConfig.n_trajectories)
    for key, value in (sets or {}).items():
        if key not in {f.name for f in fields(RunConfig)}:
            raise ConfigError(f"unknown field {key!r}")
        refines = key == "dataset" and value in DATASET_REFINEMENTS.get(values[key], ())
        if key in ("method", "dataset") and value != values[key] and not refines:
            raise ConfigError(f"{key} is fixed by the configuration name {name!r}")
        values[key] = value
    return RunConfig(**values)


def config_from_dict(d: dict[str, Any]) -> RunConfig:
    """Rebuild a RunConfig from :meth:`RunConfig.to_dict` output; ConfigError on unknown keys."""
    known = {f.name for f in fields(RunConfig)}
    unknown = set(d) - known
    if unknown:
        raise ConfigError(f"unknown field(s) {', '.join(repr(k) for k in sorted(unknown))}")
    return RunConfig(**d)


# RunConfig fields added after results were first committed. Each is hashed only where it
# differs from its default, so that adding a field (a new model's option, say) leaves the
# hash of every existing run, and so its cached results, as they were. A field listed here
# must keep its default for good: a run at the default is hashed as if the field did not
# exist. The paper's fields, and those of the studies before the convolutional models,
# are all hashed as they are.
LATE_FIELDS: tuple[str, ...] = (
    "conv_arch", "channels", "conv_iters", "qm_head", "iqe_components", "aug_prob",
)  # fmt: skip


def config_hash(config: Any) -> str:
    """sha256 (first 16 hex digits) of the configuration's canonical JSON (a RunConfig's
    :data:`LATE_FIELDS` left out where they hold their default)."""
    data = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else config
    if isinstance(config, RunConfig):
        defaults = {f.name: f.default for f in fields(RunConfig)}
        data = {k: v for k, v in data.items() if k not in LATE_FIELDS or v != defaults[k]}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
