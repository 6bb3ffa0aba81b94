"""The temporal-difference distance (repro.learn.td): the data's successor table and the TD
target by hand, and training through the registry."""

from __future__ import annotations

import numpy as np
import torch

from repro.config import make_config
from repro.core.data import Dataset
from repro.learn.batches import TrajectoryTensors
from repro.learn.td import loss, sample, successors


def tiny() -> Dataset:
    """One open 3x3 maze, two paths: 0 -> 1 -> 2 and 0 -> 3 -> 6 (cell r * 3 + c)."""
    cells = np.array([[0, 0], [0, 1], [0, 2], [0, 0], [1, 0], [2, 0]])
    mazes = np.zeros((1, 3, 3), dtype=bool)
    return Dataset("normal", "fixed", 0, mazes, np.zeros(2, np.int64), cells, np.array([0, 3, 6]))


def test_the_successor_table_holds_every_transition_of_the_data():
    t = TrajectoryTensors.from_dataset(tiny(), torch.device("cpu"), False)
    table = successors(t, 9)
    pairs = zip(table.keys.tolist(), table.next.tolist(), strict=True)
    rows = {k: sorted(x for x in n if x >= 0) for k, n in pairs}
    assert rows == {0: [1, 3], 1: [2], 3: [6]}  # the goals 2 and 6 have no next cell


class Exact(torch.nn.Module):
    """A model that answers the Manhattan distance on the open 3x3 grid (the truth there)."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(()))

    def outputs(self, walls, s, g):
        return self.w * ((s // 3 - g // 3).abs() + (s % 3 - g % 3).abs()).float()


def test_the_td_target_is_one_plus_the_best_successor():
    model = Exact()
    c = make_config("td-normal", "fixed", 0, "smoke", {"size": 3})
    s = torch.tensor([0, 0, 1, 2])
    g = torch.tensor([2, 6, 2, 2])
    nxt = torch.tensor([[1, 3, -1, -1], [1, 3, -1, -1], [2, -1, -1, -1], [-1, -1, -1, -1]])
    batch = {"walls": None, "states": s, "goals": g, "next": nxt}
    value, info = loss(model, batch, c)
    value = value.detach()
    # targets: 1 + min(d(1, 2), d(3, 2)) = 2; 1 + min(d(1, 6), d(3, 6)) = 2; the successor is
    # the goal: 1; the goal itself: 0. The exact model's d are 2, 2, 1, 0: no TD error.
    assert value.item() == 0.0
    model.w.data.fill_(2.0)  # double every distance: d 4, 4, 2, 0 against targets 5, 5, 1, 0
    value = loss(model, batch, c)[0].detach()
    assert value.item() == (1 + 1 + 1 + 0) / 4


def test_a_batch_pairs_states_with_their_successors_and_td_trains(tmp_path):
    from repro.core.data import make_dataset
    from repro.learn.train import train

    c = make_config("td-stitching", "fixed", 0, "smoke")
    ds = make_dataset(c.dataset, c.n_trajectories, 0, c.size, "fixed")
    t = TrajectoryTensors.from_dataset(ds, torch.device("cpu"), False)
    b = sample(t, c, torch.Generator().manual_seed(0))
    moves = set()
    for p in ds.paths:
        cells = p[:, 0] * c.size + p[:, 1]
        moves |= set(zip(cells[:-1].tolist(), cells[1:].tolist(), strict=True))
    for s, row in zip(b["states"].tolist(), b["next"].tolist(), strict=True):
        assert any(x >= 0 for x in row)  # a state always has a next cell
        assert all((s, x) in moves for x in row if x >= 0)
    meta = train(c, tmp_path / "run", device="cpu", progress=False)
    assert meta["status"] == "complete" and np.isfinite(meta["final_loss"])
