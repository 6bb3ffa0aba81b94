"""Temporal augmentation (repro.learn.augment): every joined pair lies on a real path through
a shared cell, its target is that path's length (at least the BFS distance), and the method
trains through the registry."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from repro.config import make_config
from repro.core.data import make_dataset
from repro.core.maze import bfs_distances
from repro.learn.augment import sample_joined
from repro.learn.batches import TrajectoryTensors
from strategies import seeds


@settings(max_examples=15, deadline=None)
@given(seeds, st.sampled_from(["fixed", "procedural"]))
def test_every_joined_pair_is_a_real_path_through_a_shared_cell(seed, regime):
    size = 8
    ds = make_dataset("normal", 40, seed, size, regime)
    t = TrajectoryTensors.from_dataset(ds, torch.device("cpu"), regime == "procedural")
    g = torch.Generator().manual_seed(seed % 1000)
    batch = sample_joined(t, 64, size, g)
    s, goal, target = batch["states"].numpy(), batch["goals"].numpy(), batch["target"].numpy()
    paths = ds.paths
    cells_of = [p[:, 0] * size + p[:, 1] for p in paths]
    for r in range(64):
        # Some trajectory A holds the state before a cell c that trajectory B (same maze)
        # holds before the goal, with the two stretches adding up to the target.
        found = False
        for a, ca in enumerate(cells_of):
            for i in np.flatnonzero(ca == s[r]):
                for k in range(i, len(ca)):
                    for b, cb in enumerate(cells_of):
                        if ds.maze_of[b] != ds.maze_of[a]:
                            continue
                        for m in np.flatnonzero(cb == ca[k]):
                            js = np.flatnonzero(cb[m:] == goal[r])
                            if any((k - i) + j == target[r] for j in js):
                                found = True
                                break
                        if found:
                            break
                    if found:
                        break
                if found:
                    break
            if found:
                break
        assert found, r
        # and the target is never below the true distance
        maze = ds.mazes[ds.maze_of[0]] if regime == "fixed" else None
        if maze is not None:
            d = bfs_distances(maze, (goal[r] // size, goal[r] % size))[s[r] // size, s[r] % size]
            assert target[r] >= d


def test_a_procedural_path_is_joined_only_with_itself():
    ds = make_dataset("normal", 30, 3, 8, "procedural")
    t = TrajectoryTensors.from_dataset(ds, torch.device("cpu"), True)
    batch = sample_joined(t, 200, 8, torch.Generator().manual_seed(0))
    # each row's state and goal lie on one trajectory, the goal no earlier than the state
    cells = [p[:, 0] * 8 + p[:, 1] for p in ds.paths]
    for s, goal, target in zip(batch["states"], batch["goals"], batch["target"], strict=True):
        assert any(
            s in c and goal in c and list(c).index(int(goal)) - list(c).index(int(s)) <= target
            for c in cells
        )


def test_the_batch_mixes_joined_and_plain_pairs_in_a_fixed_split(tmp_path):
    from repro.learn.augment import sample
    from repro.learn.train import train

    c = make_config("supervised_aug-stitching", "fixed", 0, "smoke", {"aug_prob": 0.25})
    ds = make_dataset(c.dataset, c.n_trajectories, 0, c.size, "fixed")
    t = TrajectoryTensors.from_dataset(ds, torch.device("cpu"), False)
    b = sample(t, c, torch.Generator().manual_seed(0))
    assert b["walls"] is None and b["states"].shape == (c.batch_size,)
    meta = train(c, tmp_path / "run", device="cpu", progress=False)
    assert meta["status"] == "complete" and np.isfinite(meta["final_loss"])
    assert c.run_id == "fixed/supervised_aug-stitching+aug_prob0.25__s0"


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_aug_prob_is_a_share(p):
    from repro.errors import ConfigError

    with pytest.raises(ConfigError, match="aug_prob"):
        make_config("supervised_aug-normal", "fixed", 0, "smoke", {"aug_prob": p})
