"""The batches of R runs at once, each exactly the batch its run draws alone.

A run alone draws its batch with :class:`repro.learn.batches.TrajectoryTensors`
from its own ``torch.Generator``. Here every member keeps its generator and
makes the same random calls, with the same shapes, in the same order (three per
step: the trajectories, then two uniform vectors), so each member's stream is
consumed exactly as alone; everything after the draws (lengths, positions,
clipping, walls) is integer and elementwise arithmetic, done once for all
members on the members' datasets laid end to end. ``tests/test_group.py``
checks that the batches equal the single path's, element for element.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from repro.config import RunConfig
from repro.learn.batches import TrajectoryTensors


@dataclass(frozen=True)
class GroupData:
    """R members' datasets laid end to end (the fields of TrajectoryTensors, concatenated).

    cells:     int64 (N,) cell indices of every path, members one after another
    offsets:   int64 (n,) start of each path in ``cells`` (shifted per member)
    lengths:   int64 (n,) steps T of each path
    maze_of:   int64 (n,) row of each path's maze in ``mazes`` (shifted per member)
    mazes:     float32 (m, cells) or None (fixed regime)
    traj0:     int64 (R, 1) first path of each member
    n_traj:    paths per member (the bound of each member's trajectory draw)
    rows:      int64 (R, B) contrastive: which drawn trajectory each batch row uses
               (member r's draws lie at flat positions start_r .. start_r + B / repeat_r)
    log_gamma: float64 (R, 1) contrastive: log(gamma) per member, computed as alone
    """

    cells: torch.Tensor
    offsets: torch.Tensor
    lengths: torch.Tensor
    maze_of: torch.Tensor
    mazes: torch.Tensor | None
    traj0: torch.Tensor
    n_traj: tuple[int, ...]
    rows: torch.Tensor
    log_gamma: torch.Tensor

    @classmethod
    def join(cls, parts: list[TrajectoryTensors], configs: list[RunConfig]) -> GroupData:
        """The datasets of the members (in member order) as one."""
        dev = parts[0].cells.device
        n_cells = [p.cells.shape[0] for p in parts]
        n_mazes = [0 if p.mazes is None else p.mazes.shape[0] for p in parts]
        n_traj = [p.lengths.shape[0] for p in parts]
        batch = configs[0].batch_size
        starts, rows = 0, []
        for c in configs:  # member r's row b uses its draw number b // repeat
            rows.append(starts + torch.arange(batch) // c.repeat)
            starts += batch // c.repeat
        # As alone: torch.log of a float64 scalar tensor on the CPU (batches.geometric).
        log_gamma = [torch.log(torch.tensor(c.gamma, dtype=torch.float64)) for c in configs]
        return cls(
            cells=torch.cat([p.cells for p in parts]),
            offsets=torch.cat(
                [p.offsets + s for p, s in zip(parts, _starts(n_cells), strict=True)]
            ),
            lengths=torch.cat([p.lengths for p in parts]),
            maze_of=torch.cat(
                [p.maze_of + s for p, s in zip(parts, _starts(n_mazes), strict=True)]
            ),
            mazes=None if parts[0].mazes is None else torch.cat([p.mazes for p in parts]),
            traj0=torch.tensor(_starts(n_traj), device=dev)[:, None],
            n_traj=tuple(n_traj),
            rows=torch.stack(rows).to(dev),
            log_gamma=torch.stack(log_gamma)[:, None].to(dev),
        )

    def walls(self, traj: torch.Tensor) -> torch.Tensor | None:
        """Walls of each row's maze: float (R, B, cells), or None; traj int64 (R, B)."""
        if self.mazes is None:
            return None
        return self.mazes.index_select(0, self.maze_of[traj].view(-1)).view(*traj.shape, -1)


def _starts(counts: list[int]) -> list[int]:
    """Where each part begins when the parts are laid end to end."""
    out, total = [], 0
    for n in counts:
        out.append(total)
        total += n
    return out


def _below(u: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """TrajectoryTensors._uniform_below from its uniform draws u float32 (R, B)."""
    return torch.minimum((u * high).long(), high - 1)


def sample_pairs(
    data: GroupData, gens: list[torch.Generator], batch: int
) -> dict[str, torch.Tensor | None]:
    """Supervised pairs of every member, as TrajectoryTensors.sample_pairs draws them alone.

    Returns walls (R, B, cells) or None, states, goals int64 (R, B), target float32 (R, B).
    """
    dev = data.cells.device
    draws = [
        (
            torch.randint(n, (batch,), generator=g, device=dev),
            torch.rand((batch,), generator=g, device=dev),
            torch.rand((batch,), generator=g, device=dev),
        )
        for n, g in zip(data.n_traj, gens, strict=True)
    ]
    traj, ux, uy = (torch.stack(d) for d in zip(*draws, strict=True))  # (R, B) each
    traj = traj + data.traj0
    T = data.lengths[traj]
    x = _below(ux, T + 2)
    y = _below(uy, T + 1)
    y = y + (y >= x).long()  # uniform over {0..T+1} \ {x}
    i, j = torch.minimum(x, y), torch.maximum(x, y) - 1
    base = data.offsets[traj]
    return {
        "walls": data.walls(traj),
        "states": data.cells[base + i],
        "goals": data.cells[base + j],
        "target": (j - i).float(),
    }


def sample_future(
    data: GroupData, gens: list[torch.Generator], configs: list[RunConfig]
) -> dict[str, torch.Tensor | None]:
    """Contrastive pairs of every member, as TrajectoryTensors.sample_future draws them alone
    (each member with its own gamma and repeat).

    Returns walls (R, B, cells) or None, states, goals, offset int64 (R, B).
    """
    dev = data.cells.device
    batch = configs[0].batch_size
    draws = [
        (
            torch.randint(n, (batch // c.repeat,), generator=g, device=dev),
            torch.rand((batch,), generator=g, device=dev),
            torch.rand(batch, generator=g, device=dev, dtype=torch.float64),
        )
        for n, g, c in zip(data.n_traj, gens, configs, strict=True)
    ]
    picked, ui, uk = zip(*draws, strict=True)
    traj = torch.cat(picked)[data.rows] + data.traj0  # (R, B): each draw `repeat` times
    T = data.lengths[traj]
    i = _below(torch.stack(ui), T)
    u = 1.0 - torch.stack(uk)  # (0, 1], float64 (R, B)
    k = 1 + torch.floor(torch.log(u) / data.log_gamma).long()  # batches.geometric
    j = torch.minimum(i + k, T)
    base = data.offsets[traj]
    return {
        "walls": data.walls(traj),
        "states": data.cells[base + i],
        "goals": data.cells[base + j],
        "offset": j - i,
    }
