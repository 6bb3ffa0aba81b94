"""The maze-family study's cells: one (size, loop_prob) family each, its results folder,
the runs it trains and the evaluation contexts whose baselines it scores."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from repro.config import CONFIGS, SCALES, RunConfig, make_config
from repro.core.data import REGIMES
from repro.paths import family_dir


@dataclass(frozen=True)
class Cell:
    """One maze family: its size and loop_prob, and whether the four configurations train."""

    size: int
    loop_prob: float
    trained: bool  # the four configurations are trained here (fixed regime)
    main: bool  # the scale's own family: the main results folder

    @property
    def name(self) -> str:
        return f"size{self.size}-lp{self.loop_prob:g}"

    def folder(self, root: Path) -> Path:
        """The cell's results folder under the main one, ``root`` (which it is for the
        scale's own family)."""
        return Path(root) if self.main else family_dir(root, self.size, self.loop_prob)

    def sets(self) -> dict[str, int | float]:
        """The RunConfig fields this cell sets."""
        return {"size": self.size, "loop_prob": self.loop_prob}


def cells(scale: str) -> list[Cell]:
    """Every cell of the scale's family, in size then loop_prob order."""
    family = SCALES[scale].family
    base = RunConfig(**SCALES[scale].overrides)
    return [
        Cell(
            size,
            lp,
            trained=size in family.trained_sizes and lp == base.loop_prob,
            main=(size, lp) == (base.size, base.loop_prob),
        )
        for size in family.sizes
        for lp in family.loop_probs
    ]


def trained_configs(scale: str, cell: Cell) -> list[RunConfig]:
    """The four configurations of a trained cell, fixed regime, the family's seeds."""
    if not cell.trained:
        return []
    n = SCALES[scale].family.seeds
    return [
        make_config(name, "fixed", seed, scale, cell.sets())
        for name in CONFIGS
        for seed in range(n)
    ]


def contexts(scale: str, cell: Cell) -> dict[str, RunConfig]:
    """The evaluation contexts whose baselines the cell scores: the fixed maze of each of
    the family's seeds and the unseen procedural mazes, by baselines.json key."""
    n = SCALES[scale].family.seeds
    name = next(iter(CONFIGS))  # any configuration: a context is regime, seed, size, loops
    out = {}
    for regime in REGIMES:
        for seed in range(n) if regime == "fixed" else (0,):
            c = make_config(name, regime, seed, scale, cell.sets())
            out[f"fixed__s{seed}" if regime == "fixed" else "procedural"] = c
    return out
