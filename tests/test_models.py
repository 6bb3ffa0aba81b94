"""Models, samplers and losses: shapes, hand-computed InfoNCE, offset statistics."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from repro.config import make_config
from repro.core.data import make_dataset
from repro.core.heuristics import heuristic_maps
from repro.learn.batches import TrajectoryTensors, geometric
from repro.learn.contrastive import infonce_loss
from repro.learn.methods import build_model
from repro.learn.scorer import ModelScorer
from repro.learn.supervised import supervised_loss
from repro.learn.trunk import walls_input

CONFIG_NAMES = ["supervised-normal", "contrastive-normal"]


def small(name, regime, **sets):
    return make_config(name, regime, 0, "smoke", sets)


def _batch(config, n=7, seed=0):
    ds = make_dataset("normal", 20, seed, config.size, config.regime)
    t = TrajectoryTensors.from_dataset(ds, torch.device("cpu"), config.regime == "procedural")
    return ds, t, t.sample_pairs(n, torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("name", CONFIG_NAMES)
@pytest.mark.parametrize("regime", ["fixed", "procedural"])
@pytest.mark.parametrize("head", ["regression", "classification"])
def test_distance_shape_and_nonnegative(name, regime, head):
    config = small(name, regime, head=head)
    model = build_model(config, torch.Generator().manual_seed(1))
    _, _, b = _batch(config)
    d = model.distance(b["walls"], b["states"], b["goals"])
    assert d.shape == (7,) and d.dtype == torch.float32
    assert (d >= 0).all() and torch.isfinite(d).all()


@pytest.mark.parametrize("name", CONFIG_NAMES)
@pytest.mark.parametrize("regime", ["fixed", "procedural"])
def test_distance_batched_equals_one_by_one(name, regime):
    config = small(name, regime)
    model = build_model(config, torch.Generator().manual_seed(2))
    _, _, b = _batch(config, n=9)
    batched = model.distance(b["walls"], b["states"], b["goals"])
    for k in range(9):
        w = None if b["walls"] is None else b["walls"][k : k + 1]
        one = model.distance(w, b["states"][k : k + 1], b["goals"][k : k + 1])
        torch.testing.assert_close(one[0], batched[k], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("regime", ["fixed", "procedural"])
def test_heuristic_map_matches_distance(regime):
    config = small("contrastive-normal", regime)
    model = build_model(config, torch.Generator().manual_seed(3))
    ds, _, _ = _batch(config)
    walls, goal = ds.walls[0], tuple(ds.path(0)[-1])
    h = heuristic_maps(ModelScorer(model, config), walls[None], np.zeros(1, np.int64), [goal])[0]
    assert h.shape == walls.shape and np.isinf(h[walls]).all() and np.isfinite(h[~walls]).all()
    r, c = np.argwhere(~walls)[3]
    w = walls_input(config, walls[None], torch.device("cpu"))
    one = model.distance(
        w, torch.tensor([r * config.size + c]), torch.tensor([goal[0] * config.size + goal[1]])
    )
    assert h[r, c] == pytest.approx(float(one[0].detach()), rel=1e-5)


def test_init_depends_only_on_generator():
    config = small("supervised-normal", "procedural")
    torch.manual_seed(123)  # the global RNG must not matter
    a = build_model(config, torch.Generator().manual_seed(5)).state_dict()
    torch.manual_seed(456)
    b = build_model(config, torch.Generator().manual_seed(5)).state_dict()
    c = build_model(config, torch.Generator().manual_seed(6)).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_pairs_uniform_over_i_le_j():
    # One trajectory of T = 3: the 10 pairs i <= j must be equally likely.
    ds = make_dataset("normal", 1, 0, 8, "fixed")
    while ds.lengths[0] != 3:
        ds = make_dataset("normal", 1, int(ds.seed) + 1, 8, "fixed")
    t = TrajectoryTensors.from_dataset(ds, torch.device("cpu"), False)
    b = t.sample_pairs(20_000, torch.Generator().manual_seed(0))
    index = {int(c): k for k, c in enumerate(t.cells)}
    i = np.array([index[int(s)] for s in b["states"]])
    j = np.array([index[int(g)] for g in b["goals"]])
    assert (i <= j).all() and np.array_equal(j - i, b["target"].numpy().astype(int))
    counts = np.bincount(i * 4 + j, minlength=16)[
        [a * 4 + c for a in range(4) for c in range(a, 4)]
    ]
    assert stats.chisquare(counts).pvalue > 1e-3


@pytest.mark.parametrize("gamma", [0.5, 0.9, 0.98])
def test_geometric_offsets(gamma):
    k = geometric(50_000, gamma, torch.Generator().manual_seed(0)).numpy()
    assert k.min() >= 1
    # Mean 1 / (1 - gamma), P(k = 1) = 1 - gamma, within sampling tolerance.
    mean, se = 1 / (1 - gamma), math.sqrt(gamma) / (1 - gamma) / math.sqrt(len(k))
    assert abs(k.mean() - mean) < 5 * se
    p1 = 1 - gamma
    assert abs((k == 1).mean() - p1) < 5 * math.sqrt(p1 * (1 - p1) / len(k))
    # Goodness of fit on the first few values.
    cut = int(np.ceil(3 / (1 - gamma)))
    observed = np.bincount(np.minimum(k, cut), minlength=cut + 1)[1:]
    pmf = [(1 - gamma) * gamma ** (m - 1) for m in range(1, cut)] + [gamma ** (cut - 1)]
    assert stats.chisquare(observed, np.array(pmf) * len(k)).pvalue > 1e-3


def test_future_pairs_clip_at_end_and_repeat_shares_mazes():
    config = small("contrastive-normal", "procedural")
    ds = make_dataset("normal", 50, 0, config.size, "procedural")
    t = TrajectoryTensors.from_dataset(ds, torch.device("cpu"), True)
    b = t.sample_future(16, 0.99, 4, torch.Generator().manual_seed(0))
    assert (b["offset"] >= 1).all()
    # gamma = 0.99 overshoots most paths: clipped goals are the paths' last cells.
    goal_cells = {int(c) for c in t.cells[t.offsets + t.lengths]}
    assert sum(int(g) in goal_cells for g in b["goals"]) >= 8
    # Each group of 4 copies is one trajectory, hence one maze; groups differ.
    walls = b["walls"].reshape(4, 4, -1)
    assert (walls == walls[:, :1]).all()
    assert not (walls[0, 0] == walls[1, 0]).all()


class _Fixed(torch.nn.Module):
    """A contrastive 'model' whose encodings are given."""

    def __init__(self, phi, psi):
        super().__init__()
        self.phi, self.psi = torch.tensor(phi), torch.tensor(psi)

    def encode(self, walls, states, goals):
        return self.phi, self.psi


def test_infonce_by_hand_batch_of_3():
    # phi = (0,0), (1,0), (0,2); psi = (0,1), (1,0), (0,0) in 2D.
    model = _Fixed([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]], [[0.0, 1.0], [1.0, 0.0], [0.0, 0.0]])
    # logits[a, b] = -||phi_a - psi_b||:
    s2, s5 = math.sqrt(2), math.sqrt(5)
    L = np.array([[-1, -1, 0], [-s2, 0, -1], [-1, -s5, -2]])
    # backward: for each goal b, softmax over states a (column b), positive a = b.
    back = -np.mean([L[b, b] - np.log(np.exp(L[:, b]).sum()) for b in range(3)])
    fwd = -np.mean([L[a, a] - np.log(np.exp(L[a, :]).sum()) for a in range(3)])
    batch = {"walls": None, "states": None, "goals": None}
    for direction, want in [("backward", back), ("forward", fwd), ("symmetric", back + fwd)]:
        loss, info = infonce_loss(model, batch, direction)
        assert float(loss) == pytest.approx(want, rel=1e-6)
    _, info = infonce_loss(model, batch, "backward")
    # column argmax: col0 -> a=0 (-1 vs -1.41, -1): tie between a=0 and a=2, argmax picks 0;
    # col1 -> a=1 (0); col2 -> a=0 (0): accuracy 2/3.
    assert float(info["accuracy"]) == pytest.approx(2 / 3)
    assert float(info["logit_pos"]) == pytest.approx((-1 + 0 - 2) / 3)
    assert float(info["logit_neg"]) == pytest.approx((L.sum() - np.trace(L)) / 6)


def test_supervised_loss_falls_on_tiny_dataset():
    config = small("supervised-normal", "fixed", hidden=64)
    model = build_model(config, torch.Generator().manual_seed(0))
    ds = make_dataset("normal", 30, 0, config.size, "fixed")
    t = TrajectoryTensors.from_dataset(ds, torch.device("cpu"), False)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(0)
    fixed_batch = t.sample_pairs(256, torch.Generator().manual_seed(9))
    before = float(supervised_loss(model, fixed_batch)[0].detach())
    for _ in range(150):
        loss, _ = supervised_loss(model, t.sample_pairs(64, g))
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = float(supervised_loss(model, fixed_batch)[0].detach())
    assert after < 0.2 * before
