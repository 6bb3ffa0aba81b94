"""A trained model as a scorer: ``pairs(mazes, maze_index, states, goals) -> d``.

The same interface as the baselines' :class:`repro.core.heuristics.BaselineScorer`,
so :func:`repro.core.heuristics.heuristic_maps` and every metric treat models and
baselines alike.
"""

from __future__ import annotations

import numpy as np
import torch

from repro.config import RunConfig
from repro.learn.trunk import walls_input


class ModelScorer:
    """d(s, g) from a trained model, in chunks, walls projected once per maze."""

    def __init__(self, model: torch.nn.Module, config: RunConfig, chunk: int = 16384) -> None:
        self.model, self.config, self.chunk = model, config, chunk
        self.device = next(model.parameters()).device

    @torch.no_grad()
    def pairs(self, mazes, maze_index, states, goals) -> np.ndarray:
        """mazes bool (M, S, S); maze_index int (n,); states, goals int (n, 2) -> float64 (n,)."""
        size = self.config.size
        dev = self.device
        s = torch.from_numpy(states[:, 0] * size + states[:, 1]).to(dev)
        g = torch.from_numpy(goals[:, 0] * size + goals[:, 1]).to(dev)
        idx = torch.from_numpy(np.asarray(maze_index, dtype=np.int64)).to(dev)
        w = walls_input(self.config, mazes, dev)  # (M, cells), or None in the fixed regime
        out = np.empty(len(s), dtype=np.float64)
        for a in range(0, len(s), self.chunk):
            b = slice(a, a + self.chunk)
            if w is None:
                d = self.model.distance(None, s[b], g[b])
            else:
                # Only the mazes this chunk uses go through the walls layer.
                used, local = torch.unique(idx[b], return_inverse=True)
                d = self.model.distance(w.index_select(0, used), s[b], g[b], local)
            out[b] = d.double().cpu().numpy()
        return out
