"""Batches drawn from trajectories held in memory as tensors.

All samples of a batch are drawn at once; randomness comes only from the
``torch.Generator`` passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from repro.core.data import Dataset


@dataclass(frozen=True)
class TrajectoryTensors:
    """A dataset as tensors on the training device.

    cells:   int64 (N,)  flat cell index r * size + c of every path cell
    offsets: int64 (n,)  start of path i in ``cells``
    lengths: int64 (n,)  steps T of path i (it has T + 1 cells)
    maze_of: int64 (n,)  maze index of path i
    mazes:   float32 (m, size * size) walls, or None in the fixed regime
    """

    cells: torch.Tensor
    offsets: torch.Tensor
    lengths: torch.Tensor
    maze_of: torch.Tensor
    mazes: torch.Tensor | None

    @classmethod
    def from_dataset(cls, ds: Dataset, device: torch.device, with_walls: bool):
        size = ds.size
        flat = ds.cells[:, 0] * size + ds.cells[:, 1]
        mazes = None
        if with_walls:
            mazes = torch.from_numpy(ds.mazes.reshape(len(ds.mazes), -1).astype("float32"))
            mazes = mazes.to(device)
        return cls(
            cells=torch.from_numpy(flat).to(device),
            offsets=torch.from_numpy(ds.offsets[:-1].copy()).to(device),
            lengths=torch.from_numpy(ds.lengths.copy()).to(device),
            maze_of=torch.from_numpy(ds.maze_of.copy()).to(device),
            mazes=mazes,
        )

    def _uniform_below(self, high: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        """One uniform integer in [0, high) per entry of ``high`` (int64)."""
        u = torch.rand(high.shape, generator=g, device=high.device)
        return torch.minimum((u * high).long(), high - 1)

    def _walls(self, traj: torch.Tensor) -> torch.Tensor | None:
        return None if self.mazes is None else self.mazes.index_select(0, self.maze_of[traj])

    def sample_pairs(self, batch: int, g: torch.Generator) -> dict[str, torch.Tensor | None]:
        """Supervised pairs: (s_i, s_j), i <= j uniform over the pairs of a uniform trajectory.

        Uniform over pairs i <= j of {0..T} is uniform over 2-subsets {x < y} of
        {0..T+1} mapped to (i, j) = (x, y - 1): a bijection, drawn without rejection.
        Returns walls (B, cells) or None, states, goals (B,) cell indices, target (B,) float.
        """
        n = self.lengths.shape[0]
        traj = torch.randint(n, (batch,), generator=g, device=self.cells.device)
        T = self.lengths[traj]
        x = self._uniform_below(T + 2, g)
        y = self._uniform_below(T + 1, g)
        y = y + (y >= x).long()  # uniform over {0..T+1} \ {x}
        i, j = torch.minimum(x, y), torch.maximum(x, y) - 1
        base = self.offsets[traj]
        return {
            "walls": self._walls(traj),
            "states": self.cells[base + i],
            "goals": self.cells[base + j],
            "target": (j - i).float(),
        }

    def sample_future(
        self, batch: int, gamma: float, repeat: int, g: torch.Generator
    ) -> dict[str, torch.Tensor | None]:
        """Contrastive pairs: s_i and g = s_{min(i + k, T)}, k ~ Geometric(1 - gamma), k >= 1.

        ``batch / repeat`` uniform trajectories each appear ``repeat`` times, each
        copy with its own i and k, so states of one maze are each other's negatives.
        i is uniform on {0..T-1} so that a later state exists. Returns walls,
        states, goals and the offsets k actually used (after clipping) as ``offset``.
        """
        n = self.lengths.shape[0]
        traj = torch.randint(n, (batch // repeat,), generator=g, device=self.cells.device)
        traj = traj.repeat_interleave(repeat)
        T = self.lengths[traj]
        i = self._uniform_below(T, g)
        k = geometric(batch, gamma, g, self.cells.device)
        j = torch.minimum(i + k, T)
        base = self.offsets[traj]
        return {
            "walls": self._walls(traj),
            "states": self.cells[base + i],
            "goals": self.cells[base + j],
            "offset": j - i,
        }


def geometric(n: int, gamma: float, g: torch.Generator, device=None) -> torch.Tensor:
    """n draws of k ~ Geometric(1 - gamma) on {1, 2, ...}: P(k >= m) = gamma^(m - 1). int64 (n,)."""
    u = 1.0 - torch.rand(n, generator=g, device=device, dtype=torch.float64)  # (0, 1]
    return (
        1 + torch.floor(torch.log(u) / torch.log(torch.tensor(gamma, dtype=torch.float64))).long()
    )
