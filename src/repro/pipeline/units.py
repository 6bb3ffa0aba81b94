"""What the executors share: a unit of work, and where and how units run.

A *unit* is one command of our CLI (``python -m repro train ...``, for one run or a
group of them, or ``python -m repro evaluate --run ...``) with a label (the run id, or
the group's runs);
:class:`ExecutorConfig` holds the ``reproduce`` options that choose and shape
the executor (:mod:`repro.pipeline.executor`, :mod:`repro.pipeline.slurm`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from repro.errors import BadInput
from repro.paths import slurm_dir

EXECUTORS = ("local", "slurm")
# How runs are trained: 'single' one run a process; 'group' the runs of one group key as
# one group (stacked parameters, vmapped loss) in one process; 'auto' groups on CUDA only.
TRAINERS = ("auto", "single", "group")


@dataclass(frozen=True)
class Unit:
    """One unit of work: a label (the run id) and the arguments of ``python -m repro``."""

    label: str
    argv: tuple[str, ...]


def default_jobs() -> int:
    """The cores this process may use (its CPU affinity, which a container or a SLURM
    allocation narrows), the default number of local processes at a time."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no sched_getaffinity (macOS)
        return os.cpu_count() or 1


@dataclass(frozen=True)
class ExecutorConfig:
    """Where and how units run (the ``reproduce`` options of the same names)."""

    kind: str = "local"  # 'local' (processes on this machine) or 'slurm' (jobs via submitit)
    jobs: int = field(default_factory=default_jobs)  # local: processes at a time
    slurm_partition: str | None = None  # slurm: partition (None: the cluster's default)
    slurm_time: int = 60  # slurm: time limit per job, minutes
    slurm_cpus: int = 1  # slurm: CPUs per job; also the torch threads of a training job
    slurm_mem: str | None = None  # slurm: memory per job, e.g. '4G' (None: the default)
    slurm_folder: str | None = None  # slurm: job logs (None: <results>/slurm)
    slurm_max_jobs: int = 8  # slurm: jobs in the queue at once
    trainer: str = "auto"  # 'auto' (groups on CUDA, else single), 'single' or 'group'
    cuda_graphs: bool = False  # group trainer: replay each group's step as a CUDA graph

    def __post_init__(self) -> None:
        if self.kind not in EXECUTORS:
            raise BadInput(f"--executor must be one of {', '.join(EXECUTORS)}; got {self.kind!r}")
        if self.trainer not in TRAINERS:
            raise BadInput(f"--trainer must be one of {', '.join(TRAINERS)}; got {self.trainer!r}")
        for name in ("jobs", "slurm_time", "slurm_cpus", "slurm_max_jobs"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                option = "--" + name.replace("_", "-")
                raise BadInput(f"{option} must be an integer >= 1; got {value!r}")

    @property
    def threads(self) -> int:
        """Torch threads of each training unit."""
        return self.slurm_cpus if self.kind == "slurm" else 1

    def log_folder(self, root: Path) -> Path:
        """Where SLURM's job logs go: ``--slurm-folder``, else ``<root>/slurm``."""
        return Path(self.slurm_folder) if self.slurm_folder else slurm_dir(root)
