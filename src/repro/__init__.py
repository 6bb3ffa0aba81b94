"""repro: reproduction of "Metric Learning" (supervised vs contrastive distance-to-goal).

The stable public API (DESIGN.md, section 4) is importable from here without
importing torch: it is the numpy core.
"""

from importlib.metadata import PackageNotFoundError, version

from repro.core.data import Dataset, make_dataset
from repro.core.maze import bfs_distances, generate_maze, quadrant, shortest_path
from repro.core.planning import PlanResult, best_first_search, greedy

try:  # written once, in pyproject.toml
    __version__ = version("repro")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "unknown"
__all__ = [
    "Dataset",
    "PlanResult",
    "best_first_search",
    "bfs_distances",
    "generate_maze",
    "greedy",
    "make_dataset",
    "quadrant",
    "shortest_path",
    "spearman",
]


def __getattr__(name: str):
    """``spearman`` is imported on first use: it needs scipy.stats (about a second to import),
    which no ``python -m repro train`` process (a unit of every reproduce) uses."""
    if name == "spearman":
        from repro.core.metrics import spearman

        return spearman
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
